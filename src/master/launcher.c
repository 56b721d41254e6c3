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
#include "master/master_internal.h"
#include "master/deploy_watch.h"
#include "master/deployer.h"
#include "master/placement.h"
#include "model/deployment.h"
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
                q->since_ms = time_now_ms();
                hashmap_put(&l->queues, q->app_id, q);
        }
        return q;
}

static void pass_cb(uv_timer_t *t);

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
        if (!uv_is_active((uv_handle_t *)&l->pass))
                uv_timer_start(&l->pass, pass_cb, 0, 0);
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
                json_array_foreach(p->placements, k, x) placement_forget(l, json_string_value(json_object_get(x, "id")));
        } else if (l->leading) {
                /* Committed: now, and only now, tell the agents (DESIGN §4). One LAUNCH per agent. */
                struct state *st = store_state(l->m->store);
                struct hashmap per_agent;
                hashmap_init(&per_agent);
                size_t i;
                json_t *pl;
                json_array_foreach(p->placements, i, pl) {
                        const char *id = json_string_value(json_object_get(pl, "id"));
                        const struct instance *inst = state_instance_get(st, id);
                        if (!inst) {
                                placement_forget(l, id); /* skipped by the state machine (agent went away) */
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
                        if (!agent_link_launch_text(&l->m->agents, agent_id, apps_text.buf, tasks))
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

static void kill_instances(struct launcher *l, json_t *ids, const char *goal, unsigned grace_s) {
        if (json_array_size(ids) == 0)
                return;
        store_submit(l->m->store, json_pack("{s:s,s:i,s:O,s:s}", "type", "instances_goal", "v", 1, "ids", ids, "goal", goal),
                     submitted_cb, xstrdup("instances_goal"));
        /* The kill itself needs no commit: the goal above makes sure no new leader relaunches. */
        struct state *st = store_state(l->m->store);
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
                agent_link_kill(&l->m->agents, agent_id, v, grace_s);
                json_decref(v);
        }
        hashmap_release(&per_agent);
}

void launcher_kill(struct launcher *l, json_t *instance_ids, bool wipe) {
        kill_instances(l, instance_ids, wipe ? "decommissioned" : "stopped", 3);
}

void launcher_count_failure(struct launcher *l, const char *app_id) {
        const json_t *app = state_app_get(store_state(l->m->store), app_id);
        if (!l->leading || !app)
                return;
        struct app_queue *q = queue_get(l, app_id);
        double base = json_number_value(json_object_get(app, "backoffSeconds"));
        double factor = json_number_value(json_object_get(app, "backoffFactor"));
        double max = json_number_value(json_object_get(app, "maxLaunchDelaySeconds"));
        q->delay_s = q->delay_s == 0 ? base : MIN(q->delay_s * (factor >= 1 ? factor : 1), max);
        q->next_launch_ms = time_now_ms() + (int64_t)(q->delay_s * 1000);
        mark_dirty(l, app_id);
}

/* --- one pass over an app ------------------------------------------------------------------ */

struct scan {
        int64_t now;
        const char *config_version;
        double inactive_after_s;
        bool health, readiness;   /* the app has health / readiness checks */
        const struct instance **active; /* goal running, current version (scale-down candidates) */
        size_t n_active, cap;
        const struct instance **old;    /* goal running, older configuration (rolling restart) */
        size_t n_old, cap_old;
        size_t dying;             /* not terminal, goal not running: being killed */
        size_t dying_old;         /* of which run an older configuration */
        size_t good;              /* active, running, healthy and ready */
        int64_t min_healthy_ms;   /* in a deployment, good only after running this long (deploy_watch.h) */
        json_t *expunge;
};

static void push(const struct instance ***arr, size_t *n, size_t *cap, const struct instance *i) {
        if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 16;
                *arr = xrealloc(*arr, *cap * sizeof **arr);
        }
        (*arr)[(*n)++] = i;
}

/* Marathon: "healthy" = running with goal Running and (no health checks or healthy). */
static bool is_healthy(const struct scan *s, const struct instance *i) {
        return i->state == TASK_RUNNING && (!s->health || (i->has_health && i->healthy));
}

static int scan_instance(const struct instance *i, void *data) {
        struct scan *s = data;
        if (task_state_is_terminal((enum task_state)i->state)) {
                json_array_append_new(s->expunge, json_string(i->id));
                return 0;
        }
        if (i->goal != GOAL_RUNNING) {
                s->dying++;
                if (s->config_version && strcmp(i->version, s->config_version) < 0)
                        s->dying_old++;
                return 0;
        }
        if (i->state == TASK_UNREACHABLE && s->now - i->updated_at >= (int64_t)(s->inactive_after_s * 1000))
                return 0; /* replaced per unreachableStrategy, kept until it returns or is expunged */
        if (s->config_version && strcmp(i->version, s->config_version) < 0) {
                push(&s->old, &s->n_old, &s->cap_old, i);
                return 0;
        }
        push(&s->active, &s->n_active, &s->cap, i);
        if (is_healthy(s, i) && (!s->readiness || i->ready) && deploy_watch_settled(s->min_healthy_ms, i, s->now))
                s->good++;
        return 0;
}

/* Scale-down victims first: not yet running, then by killSelection. */
static bool youngest_first;
static int victim_order(const void *x, const void *y) {
        const struct instance *a = *(const struct instance *const *)x, *b = *(const struct instance *const *)y;
        bool ar = a->state == TASK_RUNNING, br = b->state == TASK_RUNNING;
        if (ar != br)
                return ar ? 1 : -1;
        int64_t ta = a->started_at ? a->started_at : a->staged_at, tb = b->started_at ? b->started_at : b->staged_at;
        if (ta == tb)
                return strcmp(a->id, b->id);
        return youngest_first ? (ta > tb ? -1 : 1) : (ta < tb ? -1 : 1);
}

static void arm_backoff(struct launcher *l, int64_t at_ms) {
        int64_t now = time_now_ms();
        uint64_t due = at_ms > now ? (uint64_t)(at_ms - now) : 0;
        if (!uv_is_active((uv_handle_t *)&l->backoff) || uv_timer_get_due_in(&l->backoff) > due)
                uv_timer_start(&l->backoff, (uv_timer_cb)pass_cb, due + 1, 0);
}

/* Rolling restart: old instances go as new ones become healthy, within Marathon's bounds
 * (model/deployment.h rolling_decide). Returns how many new instances to launch. */
static unsigned roll(struct launcher *l, const json_t *app, struct scan *s, long target, unsigned in_flight,
                     unsigned grace) {
        const json_t *us = json_object_get(app, "upgradeStrategy");
        size_t old_healthy = 0;
        for (size_t i = 0; i < s->n_old; i++)
                old_healthy += is_healthy(s, s->old[i]);
        struct rolling_input in = {
                .n = (unsigned)target,
                .min_health = json_is_object(us) ? json_number_value(json_object_get(us, "minimumHealthCapacity")) : 1.0,
                .max_over = json_is_object(us) ? json_number_value(json_object_get(us, "maximumOverCapacity")) : 1.0,
                .healthy = (unsigned)(old_healthy + s->good),
                .old_active = (unsigned)(s->n_old + s->dying),
                .new_started = (unsigned)(s->n_active + in_flight),
                .resident = json_array_size(json_object_get(json_object_get(app, "container"), "volumes")) > 0 &&
                            json_object_get(app, "residency") != NULL,
        };
        struct rolling_decision d;
        rolling_decide(&in, &d);
        json_t *victims = json_array();
        /* "unhealthy old instances killed first": they hold no capacity the bound counts on. */
        size_t kept_old = 0;
        for (size_t i = 0; i < s->n_old; i++) {
                if (!is_healthy(s, s->old[i]))
                        json_array_append_new(victims, json_string(s->old[i]->id));
                else
                        s->old[kept_old++] = s->old[i];
        }
        /* Then healthy ones within the budget, oldest first; and any old surplus beyond n. */
        size_t budget = d.kill_healthy_old;
        if (kept_old > (size_t)target && kept_old - (size_t)target > budget)
                budget = kept_old - (size_t)target;
        youngest_first = false;
        qsort(s->old, kept_old, sizeof *s->old, victim_order);
        for (size_t i = 0; i < kept_old && i < budget; i++)
                json_array_append_new(victims, json_string(s->old[i]->id));
        kill_instances(l, victims, "stopped", grace);
        json_decref(victims);
        return d.launch;
}

static void app_pass(struct launcher *l, const char *app_id) {
        struct state *st = store_state(l->m->store);
        const json_t *app = state_app_get(st, app_id);
        struct scan s = { .now = time_now_ms(), .expunge = json_array() };
        bool converged = false;
        if (app) {
                s.config_version =
                        json_string_value(json_object_get(json_object_get(app, "versionInfo"), "lastConfigChangeAt"));
                const json_t *us = json_object_get(app, "unreachableStrategy");
                s.inactive_after_s = json_is_object(us) ? json_number_value(json_object_get(us, "inactiveAfterSeconds"))
                                                        : 1e12; /* "disabled": never replaced */
                s.health = json_array_size(json_object_get(app, "healthChecks")) > 0;
                s.min_healthy_ms = deploy_watch_min_healthy_ms(st, app);
                s.readiness = json_array_size(json_object_get(app, "readinessChecks")) > 0;
        }
        struct state_app_counts counts;
        state_app_counts(st, app_id, &counts);
        /* Fast path: an app still short of instances, with nothing to kill, expunge or roll, needs
         * only its count — not a scan of its instances on every status batch (at a million
         * instances the rescans dominated the master's profile). Nothing older than the current
         * configuration can exist when the last full scan of this configuration found none:
         * new instances are always placed at the current version. */
        struct app_queue *fq = app ? hashmap_get(&l->queues, app_id) : NULL;
        if (fq && fq->clean_config && s.config_version && streq(fq->clean_config, s.config_version) &&
            counts.stopping == 0 && counts.killing == 0 && counts.unreachable == 0 && counts.terminal == 0 &&
            (long)(counts.instances + fq->in_flight) < (long)json_integer_value(json_object_get(app, "instances"))) {
                s.n_active = counts.instances;
        } else {
                /* One allocation per pass, not a doubling series. */
                if (counts.instances > 0) {
                        s.cap = s.cap_old = counts.instances;
                        s.active = xmalloc(s.cap * sizeof *s.active);
                        s.old = xmalloc(s.cap_old * sizeof *s.old);
                }
                state_app_instances_foreach(st, app_id, scan_instance, &s);
                if (app && s.n_old == 0 && s.dying_old == 0 && s.config_version) {
                        struct app_queue *cq = queue_get(l, app_id);
                        if (!cq->clean_config || !streq(cq->clean_config, s.config_version)) {
                                free(cq->clean_config);
                                cq->clean_config = xstrdup(s.config_version);
                        }
                }
        }
        if (json_array_size(s.expunge) > 0)
                store_submit(l->m->store, json_pack("{s:s,s:i,s:O}", "type", "instances_expunge", "v", 1, "ids", s.expunge),
                             submitted_cb, xstrdup("instances_expunge"));
        if (!app) {
                /* Deleted app: everything of it goes. */
                json_t *all = json_array();
                for (size_t i = 0; i < s.n_active; i++)
                        json_array_append_new(all, json_string(s.active[i]->id));
                for (size_t i = 0; i < s.n_old; i++)
                        json_array_append_new(all, json_string(s.old[i]->id));
                kill_instances(l, all, "decommissioned", 3);
                json_decref(all);
                struct app_queue *q = hashmap_remove(&l->queues, app_id);
                if (q) {
                        set_waiting(l, q, 0);
                        queue_free(q);
                }
                goto out;
        }
        long target = (long)json_integer_value(json_object_get(app, "instances"));
        converged = s.n_old == 0 && s.dying == 0 && (long)s.n_active == target && (long)s.good == target;
        /* A later step of a deployment: its instances wait for the earlier steps (api.md §3.2). */
        if (deployer_gated(l, app_id))
                goto out;
        unsigned grace = (unsigned)json_integer_value(json_object_get(app, "taskKillGracePeriodSeconds"));
        if (!grace)
                grace = 3;
        struct app_queue *q = queue_get(l, app_id);
        if (!q->config_version || !s.config_version || !streq(q->config_version, s.config_version)) {
                /* A new configuration starts without backoff (Marathon resets it per version). */
                free(q->config_version);
                q->config_version = s.config_version ? xstrdup(s.config_version) : NULL;
                q->delay_s = 0;
                q->next_launch_ms = 0;
        }
        long have = (long)s.n_active + (long)q->in_flight;
        unsigned need;
        /* A restart is rolling until the last old instance has ended (while killed ones finish
         * their grace period they still count against maximumOverCapacity). */
        if (s.n_old > 0 || s.dying_old > 0) {
                need = roll(l, app, &s, target, q->in_flight, grace);
        } else {
                if (have > target && (long)s.n_active > 0) {
                        size_t surplus = (size_t)MIN((long)s.n_active, have - target);
                        youngest_first =
                                !streq(json_string_value(json_object_get(app, "killSelection")) ?: "", "OLDEST_FIRST");
                        qsort(s.active, s.n_active, sizeof *s.active, victim_order);
                        json_t *victims = json_array();
                        for (size_t i = 0; i < surplus; i++)
                                json_array_append_new(victims, json_string(s.active[i]->id));
                        kill_instances(l, victims, "stopped", grace);
                        json_decref(victims);
                }
                need = have < target ? (unsigned)(target - have) : 0;
        }
        if (need == 0) {
                set_waiting(l, q, 0);
                json_decref(q->reasons);
                q->reasons = NULL;
                if (target == 0 || q->delay_s == 0)
                        q->since_ms = s.now;
                goto out;
        }
        set_waiting(l, q, need);
        if (s.now < q->next_launch_ms) {
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
        unsigned placed = placement_plan(l, app, need, placements, reasons);
        json_decref(q->reasons);
        q->reasons = reasons;
        if (placed == 0) {
                json_decref(placements);
                goto out;
        }
        q->in_flight += placed;
        set_waiting(l, q, need - placed);
        struct place_ctx *p = xcalloc(1, sizeof *p);
        p->l = l;
        p->app_id = xstrdup(app_id);
        p->count = placed;
        p->placements = json_incref(placements);
        store_submit(l->m->store,
                     json_pack("{s:s,s:i,s:o}", "type", "instances_place", "v", 1, "instances", placements),
                     placed_cb, p);
out:
        deployer_check(l, app_id, app ? converged : s.n_active + s.n_old + s.dying == 0);
        free(s.active);
        free(s.old);
        json_decref(s.expunge);
}

static void pass_cb(uv_timer_t *t) {
        struct launcher *l = t->data;
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
        int64_t now = time_now_ms(), due;
        while (due_heap_peek(&l->backoffs, &due) && due <= now) {
                _cleanup_free_ char *app_id = due_heap_pop(&l->backoffs, NULL);
                struct app_queue *q = hashmap_get(&l->queues, app_id);
                if (!q || q->heap_due_ms != due)
                        continue; /* gone, or a later backoff has its own entry */
                q->heap_due_ms = 0;
                if (q->waiting > 0 && q->next_launch_ms <= now)
                        mark_dirty(l, q->app_id);
        }
        if (due_heap_peek(&l->backoffs, &due))
                arm_backoff(l, due);
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
        placement_agent_changed(l, agent_id);
        state_agent_instances_foreach(store_state(l->m->store), agent_id, dirty_instance_app, l);
        retry_waiting(l);
}

void launcher_instance_changed(struct launcher *l, const struct instance *i, int old_state) {
        if (!l->leading)
                return;
        placement_instance_changed(l, i, old_state);
        deploy_watch_instance(l, i, old_state);
        enum task_state now = (enum task_state)i->state;
        if (task_state_is_terminal(now) && !task_state_is_terminal((enum task_state)old_state))
                retry_waiting(l);
        if (task_state_is_terminal(now) && !task_state_is_terminal((enum task_state)old_state) &&
            task_state_is_failure(now) && i->goal == GOAL_RUNNING) {
                /* Marathon's backoff: delay, then delay × factor, up to maxLaunchDelaySeconds. */
                const json_t *app = state_app_get(store_state(l->m->store), i->app_id);
                struct app_queue *q = queue_get(l, i->app_id);
                double base = json_number_value(json_object_get(app, "backoffSeconds"));
                double factor = json_number_value(json_object_get(app, "backoffFactor"));
                double max = json_number_value(json_object_get(app, "maxLaunchDelaySeconds"));
                q->delay_s = q->delay_s == 0 ? base : MIN(q->delay_s * (factor >= 1 ? factor : 1), max);
                q->next_launch_ms = time_now_ms() + (int64_t)(q->delay_s * 1000);
                log_info("%s: task %s %s; next launch in %.2f s", i->app_id, i->id, task_state_to_string(now),
                         q->delay_s);
        }
        /* During a deployment health and readiness drive the rolling restart and the step's end,
         * so any change counts; otherwise only a new state does. */
        if (old_state != i->state || state_app_deployment(store_state(l->m->store), i->app_id))
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
        if (!state_app_get(store_state(l->m->store), i->app_id))
                mark_dirty(l, i->app_id);
        return 0;
}

void launcher_state_restored(struct launcher *l) {
        if (!l->leading)
                return;
        placement_rebuild(l);
        state_apps_foreach(store_state(l->m->store), dirty_app, l);
        state_instances_foreach(store_state(l->m->store), dirty_orphans, l);
}

/* --- lifecycle ----------------------------------------------------------------------------- */

void launcher_init(struct launcher *l, struct master *m) {
        *l = (struct launcher){ .m = m };
        hashmap_init(&l->queues);
        hashmap_init(&l->dirty);
        hashmap_init(&l->waiting);
        due_heap_init(&l->backoffs);
        hashmap_init(&l->deploy_pending);
        deployer_init(l, m->loop);
        uv_timer_init(m->loop, &l->pass);
        uv_timer_init(m->loop, &l->backoff);
        l->pass.data = l->backoff.data = l;
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
        hashmap_release(&l->waiting);
        due_heap_release(&l->backoffs);
        deploy_watch_free(TAKE_PTR(l->deploy_watch));
        hashmap_init(&l->queues);
        hashmap_init(&l->dirty);
        hashmap_init(&l->waiting);
        deployer_release(l);
}

void launcher_leadership(struct launcher *l, bool leading) {
        if (leading == l->leading)
                return;
        l->leading = leading;
        clear(l);
        uv_timer_stop(&l->pass);
        uv_timer_stop(&l->backoff);
        if (leading)
                launcher_state_restored(l);
        else
                placement_release(l);
}

void launcher_release(struct launcher *l) {
        launcher_leadership(l, false);
        deployer_close(l);
        uv_close((uv_handle_t *)&l->pass, NULL);
        uv_close((uv_handle_t *)&l->backoff, NULL);
}

/* --- queue API ----------------------------------------------------------------------------- */

json_t *launcher_queue_json(struct launcher *l) {
        json_t *queue = json_array();
        struct state *st = store_state(l->m->store);
        int64_t now = time_now_ms();
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
