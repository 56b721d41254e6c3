/* deploy_watch.h — the leader ends a deployment whose new version keeps failing
 * (model/deploy_failure.h decides; this part counts the failures and acts).
 *
 * It hears of failures through the deployer's failure hook and says why it ended a deployment
 * through the same hook's reason callback (master_core.c wires both: deploy_watch_failed and
 * deploy_watch_ended). It uses only the log (the state, and submitting deployment_finish or
 * deployment_rollback) and the clock. The other half of the rule — a new task counts as healthy
 * for the rolling rule and the step's end only after STRATA_DEPLOY_MIN_HEALTHY_SECONDS — is an
 * input of the launcher's pure decision (launch_plan.h min_healthy_ms) and of the deployer's
 * convergence check. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "master/clock.h"
#include "master/core_ports.h"

struct instance;

struct deploy_watch {
        const struct core_log *log; /* borrowed */
        struct clock *clock;        /* borrowed */
        /* deployment id → {"apps": {app id: {"failures": n, "proven": bool}}, "reason"?: text} */
        json_t *deployments;
        bool leading;
};

void deploy_watch_init(struct deploy_watch *w, const struct core_log *log, struct clock *clock);
void deploy_watch_release(struct deploy_watch *w);
/* Either way, forgets what it counted (a new leader counts afresh). */
void deploy_watch_leadership(struct deploy_watch *w, bool leading);

/* deployer_failure_cb (data: the watch): a task of an app in the running deployment record
 * failed. A failure of the new version's task is counted; when the app's policy says the
 * deployment failed, submits deployment_finish (result failed, with the reason) or, with
 * STRATA_DEPLOY_ON_FAILURE=rollback, deployment_rollback. */
void deploy_watch_failed(const json_t *record, unsigned step, const struct instance *i, void *data);
/* deployer_reason_cb (data: the watch): the deployment ended; forgets it and returns the reason
 * this part ended it with (caller frees), or NULL when it did not. */
char *deploy_watch_ended(const char *deployment_id, void *data);
