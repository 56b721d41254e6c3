/* groups.h — groups in the replicated state (issue 4; api.md §3): what apps cannot carry.
 *
 * A group exists when it is the root, when some app lives under it (state.c's implied index),
 * or when it has a record here. Records hold the group-level fields — "dependencies" (absolute
 * paths; they order deployments, see deployments.c), "enforceRole" — and keep empty groups
 * alive. The history holds the root versions written by group changes, each with the subtree
 * the change wrote, so that a group can be listed and restored as of a version.
 *
 * Record   {"dependencies": [path…], "enforceRole"?: bool, "version": ts}
 * History  [{"version": ts, "path": p, "groups": {path: record}, "apps": {app id: app version}}],
 *          oldest first, at most GROUP_MAX_VERSIONS (the apps' documents stay in their own
 *          histories; a version whose app documents are gone can be listed but not restored).
 *
 * Commands (fsm_groups.c; "v": 1; all submitted in the same Raft entry as the app commands of
 * the change, group_update first and group_version last):
 * | group_update  | "path", "groups": {path: {"dependencies", "enforceRole"?}}, "ts" | records under path (and path)
 * |               |                                                                  | replaced by groups; ancestors
 * |               |                                                                  | get empty records if missing |
 * | group_delete  | "path", "ts"                                                     | records under path (and path,
 * |               |                                                                  | unless the root) removed     |
 * | group_version | "path", "ts"                                                     | history entry for path      |
 * Snapshot key "groups": {"records": {path: record}, "history": […]}. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "store/state.h"

/* Root versions kept (Marathon's zk_max_versions default). */
#define GROUP_MAX_VERSIONS 50
/* Most group records one command may write, and in the whole state. */
#define GROUP_MAX_RECORDS 10000

/* The record of the group at path (borrowed; valid until the next mutation), or NULL. */
const json_t *state_group_get(const struct state *s, const char *path);
/* True if path is the root, holds apps or has a record. */
bool state_group_known(const struct state *s, const char *path);

/* The group tree at path (model/group.h's format; apps are the stored documents, shared, never
 * to be changed), or NULL if there is no such group. New reference. */
json_t *state_group_tree(const struct state *s, const char *path);

/* The root versions in which path existed, newest first (new array; empty if none). */
json_t *state_group_versions(const struct state *s, const char *path);
/* The group tree at path as of version ts: -ERR_NOT_FOUND "Group /x not available in version
 * ts" when no stored version holds it, or when an app of it is no longer stored in that
 * version. New reference in *ret. */
int state_group_tree_at(const struct state *s, const char *path, const char *ts, json_t **ret, struct err *err);

/* --- for the state machine (fsm_groups.c, state.c) ------------------------------------------- */

struct group_records {
        json_t *records; /* path → record */
        json_t *history; /* array, oldest first */
};

void group_records_init(struct group_records *g);
void group_records_release(struct group_records *g);
struct group_records *state_group_records(struct state *s);
const struct group_records *state_group_records_const(const struct state *s);

json_t *group_records_to_json(const struct group_records *g);
/* Replaces everything; checks the document first (NULL doc: nothing, an old snapshot). */
int group_records_from_json(struct group_records *g, const json_t *doc, struct err *err);

int fsm_group_update(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_group_delete(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_group_version(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
