/* launch_plan.h — what one launcher pass does to one app, as a pure function of the app, its
 * instances, its deployment step and the time: which instances to expunge, which to kill and
 * why, how many new ones to place. The launcher gathers the inputs, commits the plan (goal and
 * expunge commands, placements) and sends the kills; nothing here does I/O or keeps state.
 *
 * The rules (api.md §2.11, §2.13, §3.2):
 * - a terminal instance is expunged; one that is not terminal but whose goal is not running is
 *   being killed ("dying") and counts against maximumOverCapacity while it finishes;
 * - an unreachable instance past unreachableStrategy.inactiveAfterSeconds is replaced (kept, not
 *   counted);
 * - a deleted app: every live instance is killed (decommissioned);
 * - an app held back by an earlier deployment step: nothing but expunges;
 * - instances of an older configuration: Marathon's rolling restart (rolling_decide): "unhealthy
 *   old instances killed first", then healthy old ones within the budget, oldest first;
 * - otherwise surplus instances are killed by the app's killSelection, and missing ones placed.
 * Every choice of victims among candidates goes through sched_select_victims (killSelection,
 * not-yet-running first, GROUP_BY spread kept even). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashmap;
struct instance;
struct sched_cluster;
struct sched_constraints;

#define LAUNCH_KILL_REASONS(X)                                                                     \
        X(LAUNCH_KILL_APP_DELETED, "app deleted")                                                  \
        X(LAUNCH_KILL_SCALE_DOWN, "scale down")                                                    \
        X(LAUNCH_KILL_UNHEALTHY_OLD, "rolling restart: unhealthy old instance")                    \
        X(LAUNCH_KILL_ROLLING, "rolling restart")                                                  \
        X(LAUNCH_KILL_OLD_SURPLUS, "rolling restart: old instance beyond the target")

enum launch_kill_reason {
#define X(e, s) e,
        LAUNCH_KILL_REASONS(X)
#undef X
        _LAUNCH_KILL_REASON_MAX,
};
const char *launch_kill_reason_to_string(enum launch_kill_reason r);
/* The reason, or -EINVAL. */
int launch_kill_reason_from_string(const char *s);

struct launch_plan_input {
        const json_t *app;                    /* the canonical app; NULL once deleted */
        const struct instance *const *instances; /* the app's instances (terminal ones too) */
        size_t n;
        /* Instances the caller vouches for without listing them (its fast path): of the current
         * configuration, goal running, not terminal, not unreachable. They can only be counted. */
        size_t n_unlisted;
        /* Of those, how many are running, healthy and ready (from the state's per-app counts);
         * the rest are taken to be on their way. */
        size_t n_unlisted_good;
        unsigned in_flight;   /* placements submitted and not committed yet */
        bool gated;           /* the app's deployment step is after the current one */
        int64_t now_ms;
        int64_t launch_after_ms; /* launch backoff: no launch before (0: none) */
        /* In a deployment: a new instance counts as healthy only once it has run this long
         * (deploy_watch_min_healthy_ms; 0: at once). */
        int64_t min_healthy_ms;
        /* While instances of an older configuration remain (a restart whose deployment failed or
         * was canceled still rolls), the rolling rule waits this long for a new instance too (the
         * app's STRATA_DEPLOY_MIN_HEALTHY_SECONDS): retries of a crashing version do not replace
         * proven tasks. 0: not at all. */
        int64_t rolling_min_healthy_ms;
        /* Victim selection's view of agents (GROUP_BY reads their attributes) and the app's
         * parsed constraints; either may be NULL (plain killSelection order). */
        const struct sched_cluster *cluster;
        const struct sched_constraints *constraints;
        /* Instance ids (keys) whose kill was submitted and not applied yet: they count as dying,
         * so a second pass in the same turn does not kill them again. May be NULL. */
        const struct hashmap *killing;
};

struct launch_kill {
        const struct instance *instance; /* borrowed from the input */
        enum launch_kill_reason reason;
};

struct launch_plan {
        const struct instance **expunge; /* terminal instances (borrowed), n_expunge of them */
        size_t n_expunge;
        struct launch_kill *kills;       /* in kill order */
        size_t n_kills;
        const char *goal;                /* the goal kills commit: "stopped" or "decommissioned" */
        unsigned grace_s;                /* taskKillGracePeriodSeconds (3 when unset) */
        unsigned want;                   /* new instances wanted now (in-flight ones counted) */
        bool backoff;                    /* want > 0, but the launch waits for launch_after_ms */
        bool converged;                  /* n new instances healthy and ready, nothing else alive
                                          * (deleted app: nothing alive) */
        int64_t settle_at_ms;            /* when the first instance held back by min_healthy_ms
                                          * counts (the launcher passes the app again then);
                                          * 0: none is held back */
        bool clean;                      /* a full list had nothing older than the configuration */
};

/* Fills *out (release it with launch_plan_release). */
void launch_plan_decide(const struct launch_plan_input *in, struct launch_plan *out);
void launch_plan_release(struct launch_plan *p);
