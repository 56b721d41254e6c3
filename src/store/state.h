/* state.h — the masters' replicated state machine contents, in memory with indexes.
 *
 * Everything here is mutated only by store_fsm_apply (on every master, in log order) and by
 * snapshot restore, so it is deterministic. Reads come from the loop thread. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct state;

/* A master that announced itself (master_set): raft address -> HTTP address. */
struct state_master {
        uint64_t raft_id;
        char *raft_addr;
        char *http_addr;
};

struct state *state_new(void);
void state_free(struct state *s);

/* The current canonical app (borrowed reference; valid until the next mutation), or NULL. */
const json_t *state_app_get(const struct state *s, const char *id);
/* Number of apps. */
size_t state_app_count(const struct state *s);
/* Calls cb for every app's current canonical doc in creation order; stops early if cb returns
 * non-zero and returns that value. */
int state_apps_foreach(const struct state *s, int (*cb)(const json_t *app, void *data), void *data);
/* True if some app's id lies under path ("/a" for app "/a/b"): path is a group. */
bool state_group_exists(const struct state *s, const char *path);
/* Stored versions of an app, newest first, as a new JSON array of timestamps; NULL if unknown. */
json_t *state_app_versions(const struct state *s, const char *id);
/* The app as it was at version ts (borrowed), or NULL. */
const json_t *state_app_at_version(const struct state *s, const char *id, const char *ts);

/* Masters registry. Returns NULL if no master with that raft address announced itself. */
const struct state_master *state_master_by_raft_addr(const struct state *s, const char *raft_addr);
/* The same, by raft id (what Raft reports as the leader). */
const struct state_master *state_master_by_id(const struct state *s, uint64_t raft_id);
size_t state_master_count(const struct state *s);
const struct state_master *state_master_at(const struct state *s, size_t i);

/* Snapshot encoding of the whole state (owned by the caller) and its inverse. */
json_t *state_to_json(const struct state *s);
int state_from_json(struct state *s, const json_t *doc, struct err *err);
