/* deploy_watch.h — the leader ends a deployment whose new version keeps failing
 * (model/deploy_failure.h decides; this part counts the failures and acts).
 *
 * A part of the master core (master_core.c wires it): the deployer's failure hook hands it every
 * failed task of a step (deploy_watch_failure), its reason hook asks it why a deployment failed
 * (deploy_watch_reason, for deployment_failed's "reason"). It uses the log (state, submissions)
 * and the clock; it calls no other part. The minimum healthy time is an input of the launcher's
 * pure decision (launch_plan.h min_healthy_ms, from deploy_watch_min_healthy_ms below), whose
 * settle_at_ms gets the app its next pass when a held-back task counts. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "master/clock.h"
#include "master/core_ports.h"

struct instance;
struct state;
struct deploy_watch;

/* log and clock are borrowed and must outlive the part. */
struct deploy_watch *deploy_watch_new(const struct core_log *log, struct clock *clock);
/* NULL is a no-op. */
void deploy_watch_free(struct deploy_watch *w);
/* Starts or stops acting; forgets every count either way. */
void deploy_watch_leadership(struct deploy_watch *w, bool leading);

/* While a deployment restarts app (a new configuration replacing running tasks), a new task
 * counts as healthy for the rolling rule and the step's end only once it has run (healthy) for
 * the app's STRATA_DEPLOY_MIN_HEALTHY_SECONDS: a version that crashes right after starting
 * neither replaces the old tasks nor "succeeds". Returns that time in ms; 0 when no deployment
 * restarts the app (new apps and scales end when their tasks run, as in Marathon). Pure. */
int64_t deploy_watch_min_healthy_ms(const struct state *st, const json_t *app);
/* Whether a (running, healthy) instance has run min_healthy_ms at now_ms. Pure. */
bool deploy_watch_settled(int64_t min_healthy_ms, const struct instance *i, int64_t now_ms);

/* The deployer's failure hook (deployer_failure_cb; data is the part): counts a failure of the
 * new version; when the app's policy says the deployment failed, submits deployment_finish
 * (result failed) or deployment_rollback. */
void deploy_watch_failure(const json_t *record, unsigned step, const struct instance *i, void *data);
/* The deployer's reason hook (deployer_reason_cb): forgets the deployment, which has ended, and
 * returns the reason this part failed it with (caller frees), or NULL. */
char *deploy_watch_reason(const char *deployment_id, void *data);
