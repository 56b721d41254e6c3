/* state_internal.h — the mutators of struct state, for the command handlers (fsm_*.c) and
 * snapshot restore only: everything else reads state through state.h.
 *
 * Stored app documents are immutable once handed to the state: a new version is a new document.
 * That is what lets readers hold borrowed references until the next mutation. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "store/state.h"

/* Service ports Marathon hands out when an app asks for port 0 (its default local range). */
#define STATE_SERVICE_PORT_MIN 10000
#define STATE_SERVICE_PORT_MAX 20000

/* Version (ms since the epoch) of the app's current document, or -1 if there is no such app. */
int64_t state_app_version_ms(const struct state *s, const char *id);

/* Appends doc (ownership taken; must carry "id" and "version") as the app's newest version,
 * creating the app if it is new. The service-port index follows: the ports of the previous
 * current document are released and those of doc taken. The oldest versions beyond
 * APP_MAX_VERSIONS are dropped. */
void state_app_push(struct state *s, json_t *doc);

/* Removes an app with its whole history and releases its service ports. Returns false if absent. */
bool state_app_remove(struct state *s, const char *id);

/* True if some app's current document holds this service port. */
bool state_port_taken(const struct state *s, int port);

/* Inserts or replaces the registry entry of a master (matched by raft id). */
void state_master_set(struct state *s, uint64_t raft_id, const char *raft_addr, const char *http_addr);

/* The auth document (auth_store.c). */
struct auth_records *state_auth_records(struct state *s);

/* Drops every app and master: the state of an empty log. */
void state_clear(struct state *s);

/* Snapshot support (snapshot.c streams the instances, which never become a jansson tree):
 * state_to_json without "instance_apps"; and state_from_json that, before committing, lets
 * load_more add to the freshly built cluster part (NULL: nothing more). */
struct cluster;
json_t *state_to_json_head(const struct state *s);
int state_from_json_ext(struct state *s, const json_t *doc,
                        int (*load_more)(struct cluster *c, void *data, struct err *err), void *data,
                        struct err *err);
