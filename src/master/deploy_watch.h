/* deploy_watch.h — the leader ends a deployment whose new version keeps failing
 * (model/deploy_failure.h decides; this file counts the failures and acts).
 *
 * Hooks (launcher.c, deployer.c): deploy_watch_instance on every instance change the launcher
 * sees; deploy_watch_ended when a deployment record ends (its reason, for deployment_failed);
 * deploy_watch_free when leadership goes. State lives in launcher.deploy_watch, NULL until a
 * deployment sees its first failure. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct launcher;
struct instance;
struct state;
struct deploy_watch;

/* While app is in a deployment, a new task counts as healthy for the rolling rule and the
 * step's end only once it has run (healthy) for the app's STRATA_DEPLOY_MIN_HEALTHY_SECONDS:
 * a version that crashes right after starting neither replaces the old tasks nor "succeeds".
 * Returns that time in ms, 0 when the app is not in a deployment. */
int64_t deploy_watch_min_healthy_ms(const struct state *st, const json_t *app);
/* Whether the (running, healthy) instance has run min_healthy_ms at now_ms. */
bool deploy_watch_settled(int64_t min_healthy_ms, const struct instance *i, int64_t now_ms);

/* An instance changed (old_state: before the command). A new task of an app in a deployment
 * that starts running gets a pass of its app when its minimum healthy time is over. A failure
 * of the new version is counted; when the app's policy says the deployment failed, submits
 * deployment_finish (result failed, with the reason) or deployment_rollback. Leader only. */
void deploy_watch_instance(struct launcher *l, const struct instance *i, int old_state);
/* The deployment ended (success, failed, canceled): forgets it and returns the reason this file
 * decided it failed with (caller frees), or NULL when it did not decide it. */
char *deploy_watch_ended(struct launcher *l, const char *deployment_id);
/* Frees everything; NULL is a no-op. */
void deploy_watch_free(struct deploy_watch *w);
