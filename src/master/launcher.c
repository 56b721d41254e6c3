/* launcher.c — reconciling apps with their instances on the leader. */
#include "master/launcher.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/deploy_watch.h"
#include "master/launch_plan.h"
#include "model/deploy_failure.h"
#include "store/cluster_state.h"
#include "store/deployments.h"

/* Launch backoff and queue bookkeeping of one app (leader memory only). */
struct app_queue {
        char *app_id;
        double delay_s;          /* current backoff; 0 until the first failure */
        int64_t next_launch_ms;  /* no launch before this */
        int64_t since_ms;        /* waiting since */
        unsigned waiting;        /* instances wanted but not placed at the last pass */
        unsigned in_flight;      /* placements submitted, not yet committed */
        char *config_version;    /* lastConfigChangeAt the backoff belongs to */
        char *clean_config;      /* configuration a full scan last found no older instance of */
        int64_t heap_due_ms;     /* next_launch_ms it has an entry for in launcher.backoffs, or 0 */
        int64_t settle_due_ms;   /* the time it has an entry for in launcher.settles, or 0 */
        json_t *reasons;         /* {"InsufficientMemory": n, …} of the last pass that could not place */
};

static void queue_free(struct app_queue *q) {
        free(q->app_id);
        free(q->config_version);
        free(q->clean_config);
        json_decref(q->reasons);
        free(q);
}

static struct app_queue *queue_get(struct launcher *l, const char *app_id) {
        struct app_queue *q = hashmap_get(&l->queues, app_id);
        if (!q) {
                q = xcalloc(1, sizeof *q);
                q->app_id = xstrdup(app_id);
                q->since_ms = clock_now_ms(l->d.clock);
                hashmap_put(&l->queues, q->app_id, q);
        }
        return q;
}

static void pass_cb(struct clock_timer *t, void *data);

/* q->waiting, kept in step with the launcher's set of waiting apps (what new capacity retries). */
static void set_waiting(struct launcher *l, struct app_queue *q, unsigned n) {
        if (n > 0 && q->waiting == 0)
                hashmap_put(&l->waiting, q->app_id, q);
        else if (n == 0 && q->waiting > 0)
                hashmap_remove(&l->waiting, q->app_id);
        q->waiting = n;
}

static void mark_dirty(struct launcher *l, const char *app_id) {
        if (!l->leading)
                return;
        if (!hashmap_get(&l->dirty, app_id)) {
                char *copy = xstrdup(app_id);
                hashmap_put(&l->dirty, copy, copy);
        }
        if (!clock_timer_active(l->pass))
                clock_timer_start(l->pass, 0);
}

/* --- submitting decisions ------------------------------------------------------------------ */

struct place_ctx {
        struct launcher *l;
        char *app_id;
        unsigned count;
        json_t *placements; /* [{"id","appId","version","agentId","ports"}] */
};

static void placed_cb(void *data, int status, json_t *result, struct err *err) {
        struct place_ctx *p = data;
        struct launcher *l = p->l;
        struct app_queue *q = hashmap_get(&l->queues, p->app_id);
        if (q)
                q->in_flight -= MIN(q->in_flight, p->count);
        if (status < 0) {
                log_warn("placing %u instance(s) of %s failed: %s", p->count, p->app_id, err_msg(err));
                size_t k;
                json_t *x;
                json_array_foreach(p->placements, k, x) placement_forget(l->d.placement, json_string_value(json_object_get(x, "id")));
        } else if (l->leading) {
                /* Committed: now, and only now, tell the agents (DESIGN §4). One LAUNCH per agent. */
                struct state *st = core_state(l->d.log);
                struct hashmap per_agent;
                hashmap_init(&per_agent);
                size_t i;
                json_t *pl;
                json_array_foreach(p->placements, i, pl) {
                        const char *id = json_string_value(json_object_get(pl, "id"));
                        const struct instance *inst = state_instance_get(st, id);
                        if (!inst) {
                                placement_forget(l->d.placement, id); /* skipped by the state machine (agent went away) */
                                continue;
                        }
                        if (inst->state != TASK_STAGING)
                                continue;
                        json_t *tasks = hashmap_get(&per_agent, inst->agent_id);
                        if (!tasks) {
                                tasks = json_array();
                                hashmap_put(&per_agent, inst->agent_id, tasks);
                        }
                        _cleanup_free_ char *key = xasprintf("%s@%s", inst->app_id, inst->version);
                        json_array_append_new(tasks, json_pack("{s:s,s:s,s:O}", "taskId", inst->id, "app", key,
                                                               "ports", json_object_get(pl, "ports")));
                }
                /* The scheduler spreads an app's instances over many agents, so one batch may send
                 * a LAUNCH to a thousand agents, each carrying the same app definition: encode each
                 * "app@version": definition member once per batch and splice the text in. */
                struct hashmap encoded; /* key → "\"key\":{…}" */
                hashmap_init(&encoded);
                struct strbuf apps_text = { 0 };
                size_t pos = 0;
                const char *agent_id;
                void *v;
                while (hashmap_next(&per_agent, &pos, &agent_id, &v)) {
                        json_t *tasks = v;
                        apps_text.len = 0;
                        strbuf_puts(&apps_text, "{");
                        json_t *seen = json_object();
                        json_array_foreach(tasks, i, pl) {
                                const char *key = json_string_value(json_object_get(pl, "app"));
                                if (json_object_get(seen, key))
                                        continue;
                                json_object_set_new(seen, key, json_true());
                                char *member = hashmap_get(&encoded, key);
                                if (!member) {
                                        const char *at = strrchr(key, '@');
                                        _cleanup_free_ char *aid = xstrndup(key, (size_t)(at - key));
                                        const json_t *app = state_app_at_version(st, aid, at + 1);
                                        if (!app)
                                                continue;
                                        json_t *one = json_pack("{s:O}", key, (json_t *)app);
                                        _cleanup_free_ char *text = json_compact(one);
                                        json_decref(one);
                                        /* "{\"key\":{…}}" without its braces */
                                        member = xstrndup(text + 1, strlen(text) - 2);
                                        hashmap_put(&encoded, xstrdup(key), member);
                                }
                                if (apps_text.len > 1)
                                        strbuf_puts(&apps_text, ",");
                                strbuf_puts(&apps_text, member);
                        }
                        json_decref(seen);
                        strbuf_puts(&apps_text, "}");
                        if (!l->d.agents->ops->launch_text(l->d.agents->impl, agent_id, apps_text.buf, tasks))
                                log_info("agent %s is not connected: its launches go out when it subscribes", agent_id);
                        json_decref(tasks);
                }
                strbuf_release(&apps_text);
                pos = 0;
                const char *ekey;
                while (hashmap_next(&encoded, &pos, &ekey, &v)) {
                        free((char *)ekey);
                        free(v);
                }
                hashmap_release(&encoded);
                hashmap_release(&per_agent);
        }
        mark_dirty(l, p->app_id);
        json_decref(p->placements);
        free(p->app_id);
        free(p);
}

static void submitted_cb(void *data, int status, json_t *result, struct err *err) {
        char *what = data;
        if (status < 0)
                log_warn("%s failed: %s", what, err_msg(err));
        free(what);
}

/* A goal command in flight: its ids leave launcher.killing when it is applied (or failed). */
struct goal_ctx {
        struct launcher *l;
        json_t *ids;
};

static void unmark_killing(struct launcher *l, json_t *ids) {
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id) {
                const char *key = json_string_value(id);
                void *copy = hashmap_get(&l->killing, key);
                if (copy) {
                        hashmap_remove(&l->killing, key);
                        free(copy);
                }
        }
}

static void goal_done(void *data, int status, json_t *result, struct err *err) {
        struct goal_ctx *g = data;
        if (status < 0)
                log_warn("instances_goal failed: %s", err_msg(err));
        unmark_killing(g->l, g->ids);
        json_decref(g->ids);
        free(g);
}

static void kill_instances(struct launcher *l, json_t *ids, const char *goal, unsigned grace_s) {
        if (json_array_size(ids) == 0)
                return;
        size_t k;
        json_t *kid;
        json_array_foreach(ids, k, kid) {
                const char *key = json_string_value(kid);
                if (key && !hashmap_get(&l->killing, key)) {
                        char *copy = xstrdup(key);
                        hashmap_put(&l->killing, copy, copy);
                }
        }
        struct goal_ctx *g = xcalloc(1, sizeof *g);
        *g = (struct goal_ctx){ .l = l, .ids = json_incref(ids) };
        core_submit(l->d.log, json_pack("{s:s,s:i,s:O,s:s}", "type", "instances_goal", "v", 1, "ids", ids, "goal", goal),
                    goal_done, g);
        /* The kill itself needs no commit: the goal above makes sure no new leader relaunches. */
        struct state *st = core_state(l->d.log);
        struct hashmap per_agent;
        hashmap_init(&per_agent);
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id) {
                const struct instance *inst = state_instance_get(st, json_string_value(id));
                if (!inst || !inst->agent_id)
                        continue;
                json_t *list = hashmap_get(&per_agent, inst->agent_id);
                if (!list) {
                        list = json_array();
                        hashmap_put(&per_agent, inst->agent_id, list);
                }
                json_array_append(list, id);
        }
        size_t pos = 0;
        const char *agent_id;
        void *v;
        while (hashmap_next(&per_agent, &pos, &agent_id, &v)) {
                l->d.agents->ops->kill(l->d.agents->impl, agent_id, v, grace_s);
                json_decref(v);
        }
        hashmap_release(&per_agent);
}

void launcher_kill(struct launcher *l, json_t *instance_ids, bool wipe) {
        kill_instances(l, instance_ids, wipe ? "decommissioned" : "stopped", 3);
}

/* Marathon's backoff: delay, then delay × factor, up to maxLaunchDelaySeconds. Returns the app's
 * queue (its delay_s the new delay), or NULL for an app that no longer exists. */
static struct app_queue *backoff_fail(struct launcher *l, const char *app_id) {
        const json_t *app = state_app_get(core_state(l->d.log), app_id);
        if (!app)
                return NULL;
        struct app_queue *q = queue_get(l, app_id);
        double base = json_number_value(json_object_get(app, "backoffSeconds"));
        double factor = json_number_value(json_object_get(app, "backoffFactor"));
        double max = json_number_value(json_object_get(app, "maxLaunchDelaySeconds"));
        q->delay_s = q->delay_s == 0 ? base : MIN(q->delay_s * (factor >= 1 ? factor : 1), max);
        q->next_launch_ms = clock_now_ms(l->d.clock) + (int64_t)(q->delay_s * 1000);
        return q;
}

void launcher_count_failure(struct launcher *l, const char *app_id) {
        if (l->leading && backoff_fail(l, app_id))
                mark_dirty(l, app_id);
}

/* --- one pass over an app ------------------------------------------------------------------ */

/* The backoff timer fires at at_ms + slack_ms (or sooner, for an earlier due time). */
static void arm_at(struct launcher *l, int64_t at_ms, uint64_t slack_ms) {
        int64_t now = clock_now_ms(l->d.clock);
        uint64_t due = at_ms > now ? (uint64_t)(at_ms - now) : 0;
        clock_timer_start_by(l->backoff, due + slack_ms);
}

static void arm_backoff(struct launcher *l, int64_t at_ms) {
        arm_at(l, at_ms, 1);
}

struct gather {
        const struct instance **v;
        size_t n, cap;
};

static int gather_instance(const struct instance *i, void *data) {
        struct gather *g = data;
        if (g->n == g->cap) {
                g->cap = g->cap ? 2 * g->cap : 16;
                g->v = xrealloc(g->v, g->cap * sizeof *g->v);
        }
        g->v[g->n++] = i;
        return 0;
}

/* Commits and sends the plan's kills: one goal command for all, one KILL per agent. */
static void send_kills(struct launcher *l, const struct launch_plan *plan) {
        if (plan->n_kills == 0)
                return;
        json_t *ids = json_array();
        for (size_t k = 0; k < plan->n_kills; k++) {
                const struct launch_kill *x = &plan->kills[k];
                log_debug("%s: killing %s: %s", x->instance->app_id, x->instance->id,
                          launch_kill_reason_to_string(x->reason));
                json_array_append_new(ids, json_string(x->instance->id));
        }
        kill_instances(l, ids, plan->goal, plan->grace_s);
        json_decref(ids);
}

/* Gathers what the pass over app_id needs, decides (launch_plan_decide), and carries the plan
 * out: expunges and kills committed and sent, placements planned and submitted, the queue and
 * backoff kept, the deployer told whether the app converged. */
static void app_pass(struct launcher *l, const char *app_id) {
        struct state *st = core_state(l->d.log);
        const json_t *app = state_app_get(st, app_id);
        const char *config_version =
                app ? json_string_value(json_object_get(json_object_get(app, "versionInfo"), "lastConfigChangeAt"))
                    : NULL;
        struct launch_plan_input in = { .app = app, .now_ms = clock_now_ms(l->d.clock) };
        struct state_app_counts counts;
        state_app_counts(st, app_id, &counts);
        /* Fast path: an app still short of instances, with nothing to kill, expunge or roll, needs
         * only its count — not a scan of its instances on every status batch (at a million
         * instances the rescans dominated the master's profile). Nothing older than the current
         * configuration can exist when the last full scan of this configuration found none:
         * new instances are always placed at the current version. */
        struct app_queue *q = app ? hashmap_get(&l->queues, app_id) : NULL;
        struct gather g = { 0 };
        bool full = true;
        bool clean = q && q->clean_config && config_version && streq(q->clean_config, config_version);
        /* A restart's minimum healthy time: the counts cannot say how long a task has run. */
        in.min_healthy_ms = app ? deploy_watch_min_healthy_ms(st, app) : 0;
        bool quiet = clean && counts.stopping == 0 && counts.killing == 0 && counts.unreachable == 0 && counts.terminal == 0;
        long target = app ? (long)json_integer_value(json_object_get(app, "instances")) : 0;
        long have = (long)(counts.instances + (q ? q->in_flight : 0));
        if (quiet && have < target) {
                in.n_unlisted = counts.instances;
                full = false;
        } else if (quiet && have == target && hashmap_size(&l->killing) == 0 && in.min_healthy_ms == 0 &&
                   json_array_size(json_object_get(app, "readinessChecks")) == 0) {
                /* At its target with nothing else to do: whether it converged is a matter of the
                 * state's per-app counts too (a status batch of a settled app costs O(1), not a
                 * scan of its instances). */
                in.n_unlisted = counts.instances;
                in.n_unlisted_good = json_array_size(json_object_get(app, "healthChecks")) > 0 ? counts.healthy
                                                                                               : counts.running;
                full = false;
        } else {
                /* One allocation per pass, not a doubling series. */
                g.cap = counts.instances;
                g.v = g.cap ? xmalloc(g.cap * sizeof *g.v) : NULL;
                state_app_instances_foreach(st, app_id, gather_instance, &g);
                in.instances = g.v;
                in.n = g.n;
        }
        in.gated = app && deployer_gated(l->d.deployer, app_id);
        if (app && !clean)
                in.rolling_min_healthy_ms = deploy_failure_min_healthy_ms(app); /* older instances may remain */
        if (app && !in.gated) {
                q = queue_get(l, app_id);
                if (!q->config_version || !config_version || !streq(q->config_version, config_version)) {
                        /* A new configuration starts without backoff (Marathon resets it per version). */
                        free(q->config_version);
                        q->config_version = config_version ? xstrdup(config_version) : NULL;
                        q->delay_s = 0;
                        q->next_launch_ms = 0;
                }
                in.in_flight = q->in_flight;
                in.launch_after_ms = q->next_launch_ms;
        }
        in.killing = &l->killing;
        if (app && json_array_size(json_object_get(app, "constraints")) > 0) {
                /* Victim selection reads agents' attributes only for a GROUP_BY spread. */
                in.cluster = placement_cluster(l->d.placement);
                in.constraints = placement_constraints(l->d.placement, app);
        }
        struct launch_plan plan;
        launch_plan_decide(&in, &plan);
        if (full && plan.clean) {
                struct app_queue *cq = queue_get(l, app_id);
                if (!cq->clean_config || !streq(cq->clean_config, config_version)) {
                        free(cq->clean_config);
                        cq->clean_config = xstrdup(config_version);
                }
        }
        if (plan.n_expunge > 0) {
                json_t *ids = json_array();
                for (size_t k = 0; k < plan.n_expunge; k++)
                        json_array_append_new(ids, json_string(plan.expunge[k]->id));
                core_submit(l->d.log, json_pack("{s:s,s:i,s:o}", "type", "instances_expunge", "v", 1, "ids", ids),
                            submitted_cb, xstrdup("instances_expunge"));
        }
        send_kills(l, &plan);
        if (plan.settle_at_ms > 0) {
                /* A new instance counts once it has run its minimum healthy time: pass the app
                 * again then (the step may end, the rolling restart go on). */
                struct app_queue *sq = queue_get(l, app_id);
                if (sq->settle_due_ms != plan.settle_at_ms) {
                        sq->settle_due_ms = plan.settle_at_ms;
                        due_heap_push(&l->settles, plan.settle_at_ms, app_id);
                }
                arm_at(l, plan.settle_at_ms, 0); /* a pass that finds it early sets it again */
        }
        if (!app) {
                struct app_queue *dq = hashmap_remove(&l->queues, app_id);
                if (dq) {
                        set_waiting(l, dq, 0);
                        queue_free(dq);
                }
                goto out;
        }
        if (in.gated)
                goto out;
        if (plan.want == 0) {
                set_waiting(l, q, 0);
                json_decref(q->reasons);
                q->reasons = NULL;
                if (target == 0 || q->delay_s == 0)
                        q->since_ms = in.now_ms;
                goto out;
        }
        set_waiting(l, q, plan.want);
        if (plan.backoff) {
                /* One heap entry per backoff, however often the app is passed meanwhile. */
                if (q->heap_due_ms != q->next_launch_ms) {
                        q->heap_due_ms = q->next_launch_ms;
                        due_heap_push(&l->backoffs, q->next_launch_ms, app_id);
                }
                arm_backoff(l, q->next_launch_ms);
                goto out;
        }
        json_t *placements = json_array();
        json_t *reasons = json_object();
        unsigned placed = placement_plan(l->d.placement, app, plan.want, placements, reasons);
        json_decref(q->reasons);
        q->reasons = reasons;
        if (placed == 0) {
                json_decref(placements);
                goto out;
        }
        q->in_flight += placed;
        set_waiting(l, q, plan.want - placed);
        struct place_ctx *p = xcalloc(1, sizeof *p);
        p->l = l;
        p->app_id = xstrdup(app_id);
        p->count = placed;
        p->placements = json_incref(placements);
        core_submit(l->d.log, json_pack("{s:s,s:i,s:o}", "type", "instances_place", "v", 1, "instances", placements),
                    placed_cb, p);
out:
        deployer_check(l->d.deployer, app_id, plan.converged);
        launch_plan_release(&plan);
        free(g.v);
}

static void pass_cb(struct clock_timer *t, void *data) {
        struct launcher *l = data;
        if (!l->leading)
                return;
        /* Take the dirty set; passes may dirty apps again (next turn). */
        struct hashmap dirty = l->dirty;
        hashmap_init(&l->dirty);
        size_t pos = 0;
        void *v;
        while (hashmap_next(&dirty, &pos, NULL, &v)) {
                app_pass(l, v);
                free(v);
        }
        hashmap_release(&dirty);
        /* Apps waiting on backoff get another pass when it expires: only the heap's due entries
         * are looked at (a scan of every app's queue here cost O(apps) per pass). */
        int64_t now = clock_now_ms(l->d.clock), due;
        while (due_heap_peek(&l->backoffs, &due) && due <= now) {
                _cleanup_free_ char *app_id = due_heap_pop(&l->backoffs, NULL);
                struct app_queue *q = hashmap_get(&l->queues, app_id);
                if (!q || q->heap_due_ms != due)
                        continue; /* gone, or a later backoff has its own entry */
                q->heap_due_ms = 0;
                if (q->waiting > 0 && q->next_launch_ms <= now)
                        mark_dirty(l, q->app_id);
        }
        while (due_heap_peek(&l->settles, &due) && due <= now) {
                _cleanup_free_ char *app_id = due_heap_pop(&l->settles, NULL);
                struct app_queue *q = hashmap_get(&l->queues, app_id);
                if (!q || q->settle_due_ms != due)
                        continue; /* gone, or superseded by a later pass's entry */
                q->settle_due_ms = 0;
                mark_dirty(l, q->app_id);
        }
        if (due_heap_peek(&l->backoffs, &due))
                arm_backoff(l, due);
        if (due_heap_peek(&l->settles, &due))
                arm_at(l, due, 0);
}

/* --- observer hooks ------------------------------------------------------------------------ */

void launcher_app_changed(struct launcher *l, const char *app_id) {
        mark_dirty(l, app_id);
}

static int dirty_instance_app(const struct instance *i, void *data) {
        mark_dirty(data, i->app_id);
        return 0;
}

/* New capacity (an agent, or resources and ports a task released) may unblock what waits. */
static void retry_waiting(struct launcher *l) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&l->waiting, &pos, NULL, &v)) {
                struct app_queue *q = v;
                mark_dirty(l, q->app_id);
        }
}

void launcher_agent_changed(struct launcher *l, const char *agent_id) {
        if (!l->leading)
                return;
        placement_agent_changed(l->d.placement, agent_id);
        state_agent_instances_foreach(core_state(l->d.log), agent_id, dirty_instance_app, l);
        retry_waiting(l);
}

void launcher_instance_changed(struct launcher *l, const struct instance *i, int old_state) {
        if (!l->leading)
                return;
        placement_instance_changed(l->d.placement, i, old_state);
        enum task_state now = (enum task_state)i->state;
        if (task_state_is_terminal(now) && !task_state_is_terminal((enum task_state)old_state))
                retry_waiting(l);
        if (task_state_is_terminal(now) && !task_state_is_terminal((enum task_state)old_state) &&
            task_state_is_failure(now) && i->goal == GOAL_RUNNING) {
                struct app_queue *q = backoff_fail(l, i->app_id);
                if (q)
                        log_info("%s: task %s %s; next launch in %.2f s", i->app_id, i->id,
                                 task_state_to_string(now), q->delay_s);
        }
        /* During a deployment health and readiness drive the rolling restart and the step's end,
         * so any change counts; otherwise only a new state does. */
        if (old_state != i->state || state_app_deployment(core_state(l->d.log), i->app_id))
                mark_dirty(l, i->app_id);
}

void launcher_instance_removed(struct launcher *l, const char *instance_id, const char *app_id) {
        mark_dirty(l, app_id);
}

static int dirty_app(const json_t *app, void *data) {
        mark_dirty(data, json_string_value(json_object_get(app, "id")));
        return 0;
}

static int dirty_orphans(const struct instance *i, void *data) {
        struct launcher *l = data;
        if (!state_app_get(core_state(l->d.log), i->app_id))
                mark_dirty(l, i->app_id);
        return 0;
}

void launcher_state_restored(struct launcher *l) {
        if (!l->leading)
                return;
        placement_rebuild(l->d.placement);
        state_apps_foreach(core_state(l->d.log), dirty_app, l);
        state_instances_foreach(core_state(l->d.log), dirty_orphans, l);
}

/* --- lifecycle ----------------------------------------------------------------------------- */

void launcher_init(struct launcher *l, const struct launcher_deps *deps) {
        *l = (struct launcher){ .d = *deps };
        hashmap_init(&l->queues);
        hashmap_init(&l->dirty);
        hashmap_init(&l->killing);
        hashmap_init(&l->waiting);
        due_heap_init(&l->backoffs);
        due_heap_init(&l->settles);
        l->pass = clock_timer_new(deps->clock, pass_cb, l);
        l->backoff = clock_timer_new(deps->clock, pass_cb, l);
}

static void clear(struct launcher *l) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&l->queues, &pos, NULL, &v))
                queue_free(v);
        hashmap_release(&l->queues);
        pos = 0;
        while (hashmap_next(&l->dirty, &pos, NULL, &v))
                free(v);
        hashmap_release(&l->dirty);
        pos = 0;
        while (hashmap_next(&l->killing, &pos, NULL, &v))
                free(v);
        hashmap_release(&l->killing);
        hashmap_init(&l->killing);
        hashmap_release(&l->waiting);
        due_heap_release(&l->backoffs);
        due_heap_release(&l->settles);
        hashmap_init(&l->queues);
        hashmap_init(&l->dirty);
        hashmap_init(&l->waiting);
}

void launcher_leadership(struct launcher *l, bool leading) {
        if (leading == l->leading)
                return;
        l->leading = leading;
        clear(l);
        clock_timer_stop(l->pass);
        clock_timer_stop(l->backoff);
        if (leading)
                launcher_state_restored(l);
        else
                placement_reset(l->d.placement);
}

void launcher_release(struct launcher *l) {
        launcher_leadership(l, false);
        clock_timer_free(l->pass);
        clock_timer_free(l->backoff);
        l->pass = l->backoff = NULL;
}

/* --- queue API ----------------------------------------------------------------------------- */

json_t *launcher_queue_json(struct launcher *l) {
        json_t *queue = json_array();
        struct state *st = core_state(l->d.log);
        int64_t now = clock_now_ms(l->d.clock);
        size_t pos = 0;
        void *v;
        while (hashmap_next(&l->queues, &pos, NULL, &v)) {
                struct app_queue *q = v;
                const json_t *app = state_app_get(st, q->app_id);
                if (!app || q->waiting == 0)
                        continue;
                char since[25];
                time_format_ms(q->since_ms, since);
                int64_t left = q->next_launch_ms > now ? q->next_launch_ms - now : 0;
                json_t *summary = json_array();
                const char *reason;
                json_t *count;
                json_object_foreach(q->reasons, reason, count)
                        json_array_append_new(summary, json_pack("{s:s,s:O,s:O}", "reason", reason, "declined", count,
                                                                 "processed", count));
                json_array_append_new(
                        queue, json_pack("{s:O,s:i,s:s,s:{s:f,s:b},s:s,s:{s:i,s:i,s:o}}", "app", app, "count",
                                         q->waiting, "role", "*", "delay", "timeLeftSeconds", (double)left / 1000.0,
                                         "overdue", left == 0, "since", since, "processedOffersSummary",
                                         "processedOffersCount", (int)json_object_size(q->reasons), "unusedOffersCount",
                                         (int)json_object_size(q->reasons), "rejectSummaryLastOffers", summary));
        }
        return json_pack("{s:o}", "queue", queue);
}

bool launcher_reset_delay(struct launcher *l, const char *app_id) {
        struct app_queue *q = hashmap_get(&l->queues, app_id);
        if (!q || q->waiting == 0)
                return false;
        q->delay_s = 0;
        q->next_launch_ms = 0;
        mark_dirty(l, app_id);
        return true;
}
