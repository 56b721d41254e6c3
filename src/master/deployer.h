/* deployer.h — the leader's side of deployment plans (store/deployments.h holds them): which
 * apps wait for an earlier step, when a step is done, and the deployment events.
 *
 * The launcher applies the rolling-restart rule to every app on every pass; the deployer only
 * orders apps by step and commits progress: "a step must finish (all healthy/ready) before the
 * next starts" (api.md §3.2). Progress is committed, so a new leader resumes the current step. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "master/launcher.h"

/* True if app_id belongs to a deployment step after the current one: leave its instances be. */
bool deployer_gated(struct launcher *l, const char *app_id);
/* After a pass over app_id (app_converged: what the pass saw of app_id itself — n new instances,
 * healthy and ready, nothing else alive; for a deleted app, nothing alive): if every action of its deployment's current step has converged,
 * commits the step (or the deployment's success). Leader only; at most one submission per step. */
void deployer_check(struct launcher *l, const char *app_id, bool app_converged);
/* Observer hook: a deployment record changed (see struct state_observer.deployment_changed). */
void deployer_deployment_changed(struct launcher *l, const json_t *record, const char *what);
/* Forgets pending submissions (leadership change). */
void deployer_release(struct launcher *l);
