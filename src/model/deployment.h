/* deployment.h — Marathon's deployment plans as pure functions: which action a change of an app
 * needs, the dependency layers that order a plan's steps (with cycle rejection), the steps
 * themselves, and the rolling-restart rule (api.md §1.3, §2.11, §3.2).
 *
 * Nothing here does I/O or keeps state: the state machine records plans (store/), the leader's
 * launcher applies the rolling rule on every pass over an app (master/launcher.c).
 *
 * Plan JSON (what GET /v2/deployments shows, minus the progress fields):
 *
 *   {"id": uuid, "version": ts, "affectedApps": ["/a", …], "affectedPods": [],
 *    "steps": [{"actions": [{"action": "RestartApplication", "app": "/a"}, …]}, …]}
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

#define DEPLOY_ACTIONS(X)                                                                          \
        X(DEPLOY_START, "StartApplication")                                                       \
        X(DEPLOY_STOP, "StopApplication") X(DEPLOY_SCALE, "ScaleApplication")                     \
        X(DEPLOY_RESTART, "RestartApplication")

enum deploy_action {
#define DEPLOY_ACTION_ENUM(e, s) e,
        DEPLOY_ACTIONS(DEPLOY_ACTION_ENUM)
#undef DEPLOY_ACTION_ENUM
        _DEPLOY_ACTION_MAX,
};

/* "StartApplication" …; NULL when out of range. */
const char *deploy_action_to_string(enum deploy_action a);
/* The action (>= 0) or -EINVAL. */
int deploy_action_from_string(const char *s);

/* True if the two canonical apps are the same definition (output-only fields aside): a PUT of
 * the same document changes nothing and needs no step. */
bool app_is_unchanged(const json_t *a, const json_t *b);

/* What a change of one app needs: old NULL → DEPLOY_SCALE of a new app (its StartApplication is
 * implied, see deploy_steps); new NULL → DEPLOY_STOP; only "instances" changed → DEPLOY_SCALE;
 * anything else changed → DEPLOY_RESTART; nothing changed → -1 (no step). */
int deploy_action_for(const json_t *old_app, const json_t *new_app);

/* How the dependency walk sees the (new) state. */
struct deploy_graph_ops {
        /* The canonical app with this id, or NULL. */
        const json_t *(*app_get)(const char *id, void *data);
        /* Calls cb for every app id under group path (transitively); returns cb's first non-zero. */
        int (*group_apps_foreach)(const char *group, int (*cb)(const char *app_id, void *cbdata), void *cbdata,
                                  void *data);
        /* Optional: the stored group at path ({"dependencies": […]…}), or NULL. A group's
         * dependencies apply to every app under it. */
        const json_t *(*group_get)(const char *path, void *data);
        void *data;
};

/* The app's dependency layer: 0 without dependencies, else 1 + the largest layer among the
 * apps it depends on (an app, or every app of a group; relative paths resolve against the app's
 * parent group; a dependency on nothing that exists is ignored, as Marathon does). The
 * dependencies of every group above the app count as the app's own (resolved against that
 * group's parent).
 * Returns 0 and the layer in *ret_layer, or -ERR_INVALID "Dependency graph has cyclic
 * dependencies." when a cycle is reachable from the app. */
int deploy_layer(const char *app_id, const struct deploy_graph_ops *ops, unsigned *ret_layer, struct err *err);

/* Builds the steps of a plan from its actions: items [{"app", "action", "layer"}] (action as
 * deploy_action_to_string). Marathon's order: one step stopping every removed app; one step
 * StartApplication for every new app (items with "new": true); then one step per dependency
 * layer, lowest first, holding the scale/restart actions of that layer. Empty steps are left
 * out. Returns the "steps" array (new reference). */
json_t *deploy_steps(const json_t *items);

/* Marathon's rolling restart (TaskReplaceActor) as a rule evaluated again on every pass:
 *   "minHealthy = ceil(n × minimumHealthCapacity); maxCapacity = floor(n × (1 + maximumOverCapacity))"
 *   "If minHealthy == maxCapacity and maxCapacity ≤ H (no room to move): non-resident apps get
 *    maxCapacity += 1 (one temporary extra instance); resident apps instead kill H − minHealthy + 1"
 *   "Kill killNow = max(0, H − minHealthy) old instances immediately — unhealthy old instances first"
 *   "Launch min(n − started, maxCapacity − oldActive − started) new instances"
 * Healthy old instances are killed only within the budget; old instances that are not healthy
 * count for nothing toward the minimum, so the caller may kill them at once. */
struct rolling_input {
        unsigned n;              /* target instances */
        double min_health;       /* upgradeStrategy.minimumHealthCapacity, [0, 1] */
        double max_over;         /* upgradeStrategy.maximumOverCapacity, [0, 1] */
        unsigned healthy;        /* H: healthy instances with goal running, old and new (new ones also ready) */
        unsigned old_active;     /* old-version instances not yet terminal (being killed included) */
        unsigned new_started;    /* new-version instances with goal running, not terminal, + placements in flight */
        bool resident;           /* the app has persistent volumes */
};
struct rolling_decision {
        unsigned min_healthy, max_capacity; /* the bounds, after the one-extra exception */
        unsigned kill_healthy_old;          /* healthy old instances that may be killed now */
        unsigned launch;                    /* new instances to launch now */
};
void rolling_decide(const struct rolling_input *in, struct rolling_decision *out);
