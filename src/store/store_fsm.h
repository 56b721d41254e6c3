/* store_fsm.h — the state machine's command dispatch: one table row per command type.
 *
 * Every command is a JSON object {"type": "...", "v": 1, "ignorable": false, ...payload}. Missing
 * "v" means 1. A command type this master does not know, or a version outside the row's range,
 * is skipped (status 0, no result) when the command says "ignorable": true, and is an error
 * otherwise — so masters can be upgraded one at a time (DESIGN.md §4).
 *
 * Handlers are deterministic (no clock, no randomness: times come from the command's "ts") and
 * atomic: on error the state is unchanged.
 *
 * | type         | payload                                                  | result                      |
 * | app_create   | "app": canonical app, "ts"                               | the stored app              |
 * | app_update   | "id", "update": {…}, "partial": bool, "create": bool, "ts" | {"app": stored, "created"} |
 * | app_rollback | "id", "to": version, "ts"                                | {"app": stored}             |
 * | app_delete   | "id"                                                     | none                        |
 * | group_update, group_delete, group_version | see store/groups.h              | none                        |
 * | master_set   | "raft_id": N, "raft_addr": "h:p", "http_addr": "h:p"     | none                        |
 * | agent_*, instances_* | see cluster_state.h                                |                             |
 *
 * A stored app carries "version" (the command's ts, or the current version + 1 ms when ts is not
 * later) and "versionInfo" {"lastScalingAt", "lastConfigChangeAt"}; service ports that are 0 are
 * assigned from [10000, 20000] among ports no app holds. Errors: -ERR_CONFLICT "An app with id
 * [/x] already exists.", -ERR_NOT_FOUND "App '/x' does not exist" (or "… does not exist in version
 * <ts>"), validation errors from model/app.h with their details, -EINVAL for a malformed
 * command, -ENOTSUP for an unknown one. */
#pragma once

#include <jansson.h>

#include "common/err.h"
#include "store/state.h"

/* Applies one command to s. When ret_result is non-NULL (the master that submitted the command
 * and waits for its outcome) the command's result is stored there (a new reference, possibly
 * NULL); followers pass NULL and no result is built. err may be NULL. Returns 0 or a negative
 * code (-ERR_NOT_FOUND, -ERR_CONFLICT, -ERR_INVALID, -ENOTSUP for an unknown command…). */
int store_fsm_apply(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);

/* Command handlers, one file per family (fsm_apps.c, fsm_masters.c, fsm_agents.c, fsm_instances.c). Same contract as
 * store_fsm_apply, for a command whose type and version the table matched. */
int fsm_app_create(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_app_update(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_app_rollback(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_app_delete(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_app_restart(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_master_set(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
/* fsm_agents.c, fsm_instances.c (formats in cluster_state.h). */
int fsm_agent_register(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_agent_state(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_agent_remove(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_instances_place(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_instances_status(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_instances_goal(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_instances_expunge(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
