/* deployments.h — deployment plans in the replicated state (issue 4; api.md §1.3, §3).
 *
 * A deployment is recorded when an app command carrying a "deploymentId" changes an app (the
 * API gives every change one; a bulk or group change gives all its commands the same id). The
 * record is the plan (steps built by model/deployment.c from every app the deployment touched)
 * plus its progress; the leader's launcher walks the steps and commits each finished one, so a
 * new leader resumes where the old one stopped.
 *
 * The steps ([{"actions": [{"action", "app"}]}], deploy_steps), totalSteps and an app → step
 * index are derived from the items when first read after a change (deployment_steps…): never
 * read "steps" from a record directly.
 *
 * Record (JSON, stored and snapshotted as is; GET /v2/deployments shows it without the last two):
 * | id, version       | uuid, the ts of the command that opened it                          |
 * | affectedApps      | app ids in the order they joined                                     |
 * | affectedPods      | []                                                                    |
 * | currentStep       | 1-based step being worked on                                          |
 * | items             | {app: {"app", "action", "layer", "new"?}} what each app needs        |
 * | originals         | {app id: the app's definition before the deployment, or null (new)}  |
 *
 * Locking: an app belongs to at most one deployment. A command for an app locked by another
 * deployment fails with -ERR_CONFLICT unless it says "force": true, which cancels the other
 * deployment (Marathon: "the conflicting deployments are cancelled").
 *
 * Commands (fsm_deployments.c; "v": 1):
 * deployment_step      "id", "step": k        →  currentStep k → k+1 (ignored unless current is k)
 * deployment_finish    "id", "result": "success"|"failed"|"canceled", "reason"?  →  record removed
 * deployment_rollback  "id", "newId", "ts"    →  {"deploymentId", "version"}: every affected app
 *                      goes back to its original (created ones are deleted, deleted ones come
 *                      back), as a new deployment newId; the old one is canceled.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "model/deployment.h"
#include "store/state.h"

/* Read access (borrowed; valid until the next mutation). */
const json_t *state_deployment_get(const struct state *s, const char *id);
/* The id of the deployment that locks app_id, or NULL. */
const char *state_app_deployment(const struct state *s, const char *app_id);
size_t state_deployment_count(const struct state *s);
/* In creation order; stops early when cb returns non-zero and returns that value. */
int state_deployments_foreach(const struct state *s, int (*cb)(const json_t *record, void *data), void *data);

/* The plan's steps (borrowed) and their number. */
const json_t *deployment_steps(const json_t *record);
unsigned deployment_total_steps(const json_t *record);
/* The 1-based step of record in which app_id's stop/scale/restart runs (its StartApplication
 * no-op aside), with the action in *ret_action; 0 if the plan has none for it. */
unsigned deployment_app_step(const json_t *record, const char *app_id, enum deploy_action *ret_action);

/* --- for the state machine (fsm_*.c, state.c) ---------------------------------------------- */

struct deployments {
        json_t *records; /* id → record, insertion ordered */
        json_t *by_app;  /* app id → deployment id */
};

void deployments_init(struct deployments *d);
void deployments_release(struct deployments *d);
struct deployments *state_deployments(struct state *s);
const struct deployments *state_deployments_const(const struct state *s);

/* Before an app command changes app_id into new_doc (NULL: deletion): fails with -ERR_CONFLICT
 * (Marathon's locked message) if another deployment holds the app and cmd has no "force", and
 * with -ERR_INVALID if new_doc's dependencies close a cycle. */
int deployments_check(const struct state *s, const json_t *cmd, const char *app_id, const json_t *new_doc,
                      struct err *err);
/* After the change (old_doc: the definition before, NULL if new; new_doc NULL if deleted):
 * cancels a conflicting deployment (forced), then adds the app's action to the deployment named
 * by cmd's "deploymentId", opening it if needed. No "deploymentId" or no change: nothing. */
void deployments_note(struct state *s, const json_t *cmd, const char *app_id, const json_t *old_doc,
                      const json_t *new_doc);

/* Snapshot: the "deployments" array of records, and its inverse (replaces everything). */
json_t *deployments_to_json(const struct deployments *d);
int deployments_from_json(struct deployments *d, const json_t *arr, struct err *err);

int fsm_deployment_step(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_deployment_finish(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_deployment_rollback(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
