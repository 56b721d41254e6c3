/* deployer.h — the leader's side of deployment plans (store/deployments.h holds them): which
 * apps wait for an earlier step, when a step is done, and the deployment events.
 *
 * The launcher applies the rolling-restart rule to every app on every pass; the deployer only
 * orders apps by step and commits progress: "a step must finish (all healthy/ready) before the
 * next starts" (api.md §3.2). Progress is committed, so a new leader resumes the current step.
 *
 * It uses the log, the clock (announcing a plan after its whole Raft entry is applied) and the
 * event bus; it calls no other part: apps a step change releases are handed back through wake. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "master/clock.h"
#include "master/core_ports.h"

struct deployer;
struct instance;

/* Called for every app of a deployment whose step changed (it may have been held back). */
typedef void (*deployer_wake_cb)(const char *app_id, void *data);
/* Called when an instance of an app in a running deployment fails (a terminal failure while its
 * goal is running): record is the deployment (borrowed), step the current one. */
typedef void (*deployer_failure_cb)(const json_t *record, unsigned step, const struct instance *i, void *data);
/* Called when a deployment ends (success, failed, canceled): the reason the failure hook's
 * policy failed it with, for deployment_failed's "reason" (caller frees), or NULL. */
typedef char *(*deployer_reason_cb)(const char *deployment_id, void *data);

/* log, clock and events are borrowed and must outlive the deployer. */
struct deployer *deployer_new(const struct core_log *log, struct clock *clock, const struct event_sink *events,
                              deployer_wake_cb wake, void *data);
void deployer_free(struct deployer *d);
/* Starts or stops acting (forgets pending submissions either way). */
void deployer_leadership(struct deployer *d, bool leading);

/* True if app_id belongs to a deployment step after the current one: leave its instances be. */
bool deployer_gated(struct deployer *d, const char *app_id);
/* After a pass over app_id (app_converged: what the pass saw of app_id itself — n new instances,
 * healthy and ready, nothing else alive; for a deleted app, nothing alive): if every action of
 * its deployment's current step has converged, commits the step (or the deployment's success).
 * Leader only; at most one submission per step. */
void deployer_check(struct deployer *d, const char *app_id, bool app_converged);
/* Observer hook: a deployment record changed (see struct state_observer.deployment_changed). */
void deployer_deployment_changed(struct deployer *d, const json_t *record, const char *what);
/* Observer hook: an instance failed (terminal failure, goal running). Calls the failure hook when
 * its app is in a running deployment. */
void deployer_instance_failed(struct deployer *d, const struct instance *i);
/* Sets (or, with NULL, clears) the failure hook: the place a policy such as "fail the deployment
 * after a crash loop" reads task failures of a step from (master/deploy_watch.c). */
void deployer_set_failure_hook(struct deployer *d, deployer_failure_cb cb, void *data);
/* Sets (or clears) the hook asked why a deployment that ended failed (deploy_watch_reason). */
void deployer_set_reason_hook(struct deployer *d, deployer_reason_cb cb, void *data);
