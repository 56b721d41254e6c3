/* launch_plan.c — one pass over one app as data (launch_plan.h). */
#include "master/launch_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/util.h"
#include "master/deploy_watch.h"
#include "model/deployment.h"
#include "scheduler/sched_kill.h"
#include "store/cluster_state.h"

static const char *const reason_names[] = {
#define X(e, s) [e] = s,
        LAUNCH_KILL_REASONS(X)
#undef X
};

const char *launch_kill_reason_to_string(enum launch_kill_reason r) {
        return (unsigned)r < _LAUNCH_KILL_REASON_MAX ? reason_names[r] : NULL;
}

int launch_kill_reason_from_string(const char *s) {
        for (int i = 0; s && i < _LAUNCH_KILL_REASON_MAX; i++)
                if (streq(s, reason_names[i]))
                        return i;
        return -EINVAL;
}

/* What the app's instances are, for the rules. */
struct scan {
        const char *config_version;
        bool health, readiness;
        const struct instance **active; /* goal running, current version (scale-down candidates) */
        size_t n_active;
        const struct instance **old; /* goal running, older configuration (rolling restart) */
        size_t n_old;
        size_t dying;        /* not terminal, goal not running: being killed */
        size_t dying_old;    /* of which run an older configuration */
        size_t good;         /* active, running, healthy and ready (and run min_healthy_ms) */
        size_t good_rolling; /* of which have run rolling_min_healthy_ms too (the rolling rule's) */
        int64_t settle, settle_rolling; /* when the first one held back by either counts, or 0 */
};

static void note_settle(int64_t *at, int64_t when) {
        if (!*at || when < *at)
                *at = when;
}

/* Marathon: "healthy" = running with goal Running and (no health checks or healthy). */
static bool is_healthy(const struct scan *s, const struct instance *i) {
        return i->state == TASK_RUNNING && (!s->health || (i->has_health && i->healthy));
}

static void classify(const struct launch_plan_input *in, struct scan *s, struct launch_plan *out) {
        double inactive_after_s = 1e12; /* "disabled": never replaced */
        if (in->app) {
                s->config_version = json_string_value(
                        json_object_get(json_object_get(in->app, "versionInfo"), "lastConfigChangeAt"));
                const json_t *us = json_object_get(in->app, "unreachableStrategy");
                if (json_is_object(us))
                        inactive_after_s = json_number_value(json_object_get(us, "inactiveAfterSeconds"));
                s->health = json_array_size(json_object_get(in->app, "healthChecks")) > 0;
                s->readiness = json_array_size(json_object_get(in->app, "readinessChecks")) > 0;
        }
        if (in->n == 0)
                return; /* the caller's fast path: nothing listed, nothing to allocate */
        s->active = xmalloc(in->n * sizeof *s->active);
        s->old = xmalloc(in->n * sizeof *s->old);
        for (size_t k = 0; k < in->n; k++) {
                const struct instance *i = in->instances[k];
                bool older = s->config_version && strcmp(i->version, s->config_version) < 0;
                if (task_state_is_terminal((enum task_state)i->state)) {
                        out->expunge[out->n_expunge++] = i;
                } else if (i->goal != GOAL_RUNNING || (in->killing && hashmap_get(in->killing, i->id))) {
                        s->dying++;
                        s->dying_old += older;
                } else if (i->state == TASK_UNREACHABLE &&
                           in->now_ms - i->updated_at >= (int64_t)(inactive_after_s * 1000)) {
                        /* replaced per unreachableStrategy, kept until it returns or is expunged */
                } else if (older) {
                        s->old[s->n_old++] = i;
                } else {
                        s->active[s->n_active++] = i;
                        if (is_healthy(s, i) && (!s->readiness || i->ready)) {
                                int64_t min = in->min_healthy_ms,
                                        roll_min = MAX(min, in->rolling_min_healthy_ms);
                                if (deploy_watch_settled(min, i, in->now_ms))
                                        s->good++;
                                else if (i->started_at > 0)
                                        note_settle(&s->settle, i->started_at + min);
                                if (deploy_watch_settled(roll_min, i, in->now_ms))
                                        s->good_rolling++;
                                else if (i->started_at > 0)
                                        note_settle(&s->settle_rolling, i->started_at + roll_min);
                        }
                }
        }
}

/* Chooses n_kill of the n candidates with sched_select_victims and appends them to the plan. */
static void select_victims(const struct launch_plan_input *in, enum sched_kill_selection sel,
                           const struct instance *const *cand, size_t n, size_t n_kill,
                           enum launch_kill_reason reason, struct launch_plan *out) {
        if (n_kill == 0 || n == 0)
                return;
        _cleanup_free_ struct sched_instance_ref *refs = xmalloc(n * sizeof *refs);
        _cleanup_free_ size_t *idx = xmalloc(n * sizeof *idx);
        for (size_t k = 0; k < n; k++) {
                const struct instance *i = cand[k];
                /* Not running yet: 0, which selection kills first. */
                int64_t t = i->started_at ? i->started_at : i->staged_at;
                refs[k] = (struct sched_instance_ref){
                        .agent_id = i->agent_id,
                        .started_at = i->state == TASK_RUNNING ? (t > 0 ? t : 1) : 0,
                };
        }
        size_t got = sched_select_victims(in->cluster, in->constraints, sel, refs, n, n_kill, idx);
        for (size_t k = 0; k < got; k++)
                out->kills[out->n_kills++] = (struct launch_kill){cand[idx[k]], reason};
}

/* Rolling restart: old instances go as new ones become healthy, within Marathon's bounds
 * (model/deployment.h rolling_decide). Returns how many new instances to launch. */
static unsigned roll(const struct launch_plan_input *in, struct scan *s, unsigned target,
                     struct launch_plan *out) {
        const json_t *us = json_object_get(in->app, "upgradeStrategy");
        size_t old_healthy = 0;
        for (size_t i = 0; i < s->n_old; i++)
                old_healthy += is_healthy(s, s->old[i]);
        struct rolling_input ri = {
                .n = target,
                .min_health = json_is_object(us)
                                      ? json_number_value(json_object_get(us, "minimumHealthCapacity"))
                                      : 1.0,
                .max_over = json_is_object(us) ? json_number_value(json_object_get(us, "maximumOverCapacity"))
                                               : 1.0,
                .healthy = (unsigned)(old_healthy + s->good_rolling),
                .old_active = (unsigned)(s->n_old + s->dying),
                .new_started = (unsigned)(s->n_active + in->n_unlisted + in->in_flight),
                .resident = json_array_size(
                                    json_object_get(json_object_get(in->app, "container"), "volumes")) > 0 &&
                            json_object_get(in->app, "residency") != NULL,
        };
        struct rolling_decision d;
        rolling_decide(&ri, &d);
        /* "unhealthy old instances killed first": they hold no capacity the bound counts on. */
        _cleanup_free_ const struct instance **unhealthy = xmalloc((s->n_old + 1) * sizeof *unhealthy);
        size_t n_unhealthy = 0, kept = 0;
        for (size_t i = 0; i < s->n_old; i++) {
                if (!is_healthy(s, s->old[i]))
                        unhealthy[n_unhealthy++] = s->old[i];
                else
                        s->old[kept++] = s->old[i];
        }
        select_victims(in, SCHED_KILL_OLDEST_FIRST, unhealthy, n_unhealthy, n_unhealthy,
                       LAUNCH_KILL_UNHEALTHY_OLD, out);
        /* Then healthy ones within the budget, oldest first; and any old surplus beyond n. */
        size_t budget = d.kill_healthy_old;
        enum launch_kill_reason why = LAUNCH_KILL_ROLLING;
        if (kept > target && kept - target > budget) {
                budget = kept - target;
                why = LAUNCH_KILL_OLD_SURPLUS;
        }
        select_victims(in, SCHED_KILL_OLDEST_FIRST, s->old, kept, budget, why, out);
        return d.launch;
}

void launch_plan_decide(const struct launch_plan_input *in, struct launch_plan *out) {
        *out = (struct launch_plan){.goal = "stopped", .grace_s = 3};
        if (in->n > 0) {
                out->expunge = xmalloc(in->n * sizeof *out->expunge);
                out->kills = xmalloc(in->n * sizeof *out->kills);
        }
        struct scan s = {0};
        classify(in, &s, out);
        size_t n_active = s.n_active + in->n_unlisted;
        out->clean = in->app && s.config_version && s.n_old == 0 && s.dying_old == 0;
        if (!in->app) {
                /* Deleted app: everything of it goes. */
                out->goal = "decommissioned";
                out->converged = n_active + s.n_old + s.dying == 0;
                for (size_t k = 0; k < s.n_active; k++)
                        out->kills[out->n_kills++] =
                                (struct launch_kill){s.active[k], LAUNCH_KILL_APP_DELETED};
                for (size_t k = 0; k < s.n_old; k++)
                        out->kills[out->n_kills++] = (struct launch_kill){s.old[k], LAUNCH_KILL_APP_DELETED};
                goto out;
        }
        json_int_t target_j = json_integer_value(json_object_get(in->app, "instances"));
        unsigned target = target_j > 0 ? (unsigned)target_j : 0;
        out->converged =
                s.n_old == 0 && s.dying == 0 && n_active == target && s.good + in->n_unlisted_good == target;
        if (in->gated)
                goto out; /* a later step of a deployment: its instances wait (api.md §3.2) */
        unsigned grace = (unsigned)json_integer_value(json_object_get(in->app, "taskKillGracePeriodSeconds"));
        if (grace)
                out->grace_s = grace;
        size_t have = n_active + in->in_flight;
        /* A restart is rolling until the last old instance has ended (while killed ones finish
         * their grace period they still count against maximumOverCapacity). */
        if (s.n_old > 0 || s.dying_old > 0) {
                out->want = roll(in, &s, target, out);
                out->settle_at_ms = s.settle_rolling;
        } else {
                if (have > target && s.n_active > 0) {
                        int sel = sched_kill_selection_from_string(
                                json_string_value(json_object_get(in->app, "killSelection")));
                        select_victims(in,
                                       sel < 0 ? SCHED_KILL_YOUNGEST_FIRST : (enum sched_kill_selection)sel,
                                       s.active, s.n_active, MIN(s.n_active, have - target),
                                       LAUNCH_KILL_SCALE_DOWN, out);
                }
                out->want = have < target ? (unsigned)(target - have) : 0;
                out->settle_at_ms = s.settle;
        }
        out->backoff = out->want > 0 && in->now_ms < in->launch_after_ms;
out:
        free(s.active);
        free(s.old);
}

void launch_plan_release(struct launch_plan *p) {
        free(p->expunge);
        free(p->kills);
        *p = (struct launch_plan){0};
}
