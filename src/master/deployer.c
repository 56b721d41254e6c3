/* deployer.c — the leader walks deployment plans: it holds apps of later steps back, notices
 * when every action of the current step has converged, commits the step (or the end of the
 * plan), and turns plan changes into Marathon's deployment events. */
#include "master/deployer.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/log.h"
#include "common/util.h"
#include "master/deploy_watch.h"
#include "master/event_json.h"
#include "store/cluster_state.h"
#include "store/deployments.h"

struct deployer {
        const struct core_log *log;
        struct clock *clock;
        const struct event_sink *events;
        deployer_wake_cb wake;
        void *data;
        deployer_failure_cb on_failure;
        void *failure_data;
        deployer_reason_cb on_reason; /* why a deployment failed (deploy_watch.c) */
        void *reason_data;
        struct hashmap pending;  /* deployment id → struct pending: the step whose end was submitted */
        json_t *announce;        /* deployment ids whose deployment_info is due */
        struct clock_timer *announce_timer; /* zero-delay: announces new plans after their Raft entry */
        bool leading;
};

bool deployer_gated(struct deployer *d, const char *app_id) {
        const struct state *st = core_state(d->log);
        const json_t *rec = state_deployment_get(st, state_app_deployment(st, app_id));
        if (!rec)
                return false;
        unsigned step = deployment_app_step(rec, app_id, NULL);
        return step > (unsigned)json_integer_value(json_object_get(rec, "currentStep"));
}

/* --- convergence ----------------------------------------------------------------------------- */

struct conv {
        const char *version;  /* the app's configuration version */
        int64_t min_healthy_ms, now; /* a new task counts once it ran this long (deploy_watch.h) */
        bool health, readiness;
        size_t alive, good;   /* non-terminal; new, goal running, running, healthy and ready */
        bool stray;           /* a non-terminal instance that is old or not meant to run */
};

static int conv_instance(const struct instance *i, void *data) {
        struct conv *c = data;
        if (task_state_is_terminal((enum task_state)i->state))
                return 0;
        c->alive++;
        if (!c->version || strcmp(i->version, c->version) < 0 || i->goal != GOAL_RUNNING) {
                c->stray = true;
                return 0;
        }
        if (i->state == TASK_RUNNING && (!c->health || (i->has_health && i->healthy)) && (!c->readiness || i->ready) &&
            deploy_watch_settled(c->min_healthy_ms, i, c->now))
                c->good++;
        return 0;
}

/* Marathon: a scale or restart is done "when n new instances are healthy+ready and no old
 * instance with goal Running remains"; a stop when nothing of the app runs any more. */
static bool action_done(const struct state *st, const char *app_id, enum deploy_action action, int64_t now) {
        if (action == DEPLOY_START)
                return true;
        const json_t *app = state_app_get(st, app_id);
        struct conv c = { 0 };
        if (app) {
                c.version = json_string_value(json_object_get(json_object_get(app, "versionInfo"), "lastConfigChangeAt"));
                c.health = json_array_size(json_object_get(app, "healthChecks")) > 0;
                c.readiness = json_array_size(json_object_get(app, "readinessChecks")) > 0;
                c.min_healthy_ms = deploy_watch_min_healthy_ms(st, app);
                c.now = now;
        }
        state_app_instances_foreach(st, app_id, conv_instance, &c);
        if (action == DEPLOY_STOP)
                return !app && c.alive == 0;
        if (!app)
                return false;
        size_t n = (size_t)json_integer_value(json_object_get(app, "instances"));
        return !c.stray && c.alive == n && c.good == n;
}

/* A step whose completion was submitted: one submission per step (the key is the id inside). */
struct pending {
        json_int_t step;
        char id[];
};

static void forget_pending(struct deployer *d, const char *id) {
        free(hashmap_remove(&d->pending, id));
}

struct submitted {
        struct deployer *d;
        json_int_t step;
        char id[];
};

static void step_submitted(void *data, int status, json_t *result, struct err *err) {
        struct submitted *sub = data;
        if (status < 0) {
                log_warn("deployment %s step %lld: %s", sub->id, (long long)sub->step, err_msg(err));
                /* Not committed: a later pass may try again. */
                struct pending *p = hashmap_get(&sub->d->pending, sub->id);
                if (p && p->step == sub->step)
                        forget_pending(sub->d, sub->id);
        }
        free(sub);
}

void deployer_check(struct deployer *d, const char *app_id, bool app_converged) {
        if (!d->leading)
                return;
        const struct state *st = core_state(d->log);
        const char *id = state_app_deployment(st, app_id);
        const json_t *rec = state_deployment_get(st, id);
        if (!rec)
                return;
        json_int_t cur = json_integer_value(json_object_get(rec, "currentStep"));
        json_int_t total = deployment_total_steps(rec);
        /* The app's own action in this step is not done: nothing to look at (passes are hot). */
        if (deployment_app_step(rec, app_id, NULL) == (unsigned)cur && !app_converged)
                return;
        /* One submission per step: the pending mark goes when the record changes. */
        struct pending *pending = hashmap_get(&d->pending, id);
        if (pending && pending->step == cur)
                return;
        const json_t *step = json_array_get(deployment_steps(rec), (size_t)(cur - 1));
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(step, "actions"), i, a) {
                int act = deploy_action_from_string(json_string_value(json_object_get(a, "action")));
                const char *app = json_string_value(json_object_get(a, "app"));
                if (act < 0 || !app)
                        return;
                if (streq(app, app_id) ? !app_converged && act != DEPLOY_START
                                       : !action_done(st, app, (enum deploy_action)act, clock_now_ms(d->clock)))
                        return;
        }
        if (!pending) {
                size_t n = strlen(id) + 1;
                pending = xmalloc(sizeof *pending + n);
                memcpy(pending->id, id, n);
                hashmap_put(&d->pending, pending->id, pending);
        }
        pending->step = cur;
        size_t n = strlen(id) + 1;
        struct submitted *sub = xmalloc(sizeof *sub + n);
        sub->d = d;
        sub->step = cur;
        memcpy(sub->id, id, n);
        json_t *cmd = cur >= total ? json_pack("{s:s,s:i,s:s,s:s}", "type", "deployment_finish", "v", 1, "id", id,
                                               "result", "success")
                                   : json_pack("{s:s,s:i,s:s,s:I}", "type", "deployment_step", "v", 1, "id", id,
                                               "step", (json_int_t)cur);
        core_submit(d->log, cmd, step_submitted, sub);
}

static void forget_all(struct deployer *d) {
        size_t pos = 0;
        const char *k;
        void *v;
        while (hashmap_next(&d->pending, &pos, &k, &v))
                free(v);
        hashmap_release(&d->pending);
        hashmap_init(&d->pending);
        json_object_clear(d->announce);
}

void deployer_leadership(struct deployer *d, bool leading) {
        if (leading == d->leading)
                return;
        d->leading = leading;
        forget_all(d);
        clock_timer_stop(d->announce_timer);
}

/* --- events ---------------------------------------------------------------------------------- */

static json_t *plan_json(const json_t *rec) {
        return json_pack("{s:O,s:O,s:O}", "id", json_object_get(rec, "id"), "steps", deployment_steps(rec),
                         "version", json_object_get(rec, "version"));
}

static void emit_step(struct deployer *d, const char *type, const json_t *rec, json_int_t step) {
        if (!event_wanted(d->events, type))
                return;
        const json_t *s = json_array_get(deployment_steps(rec), (size_t)(step - 1));
        json_t *plan = plan_json(rec);
        json_t *cur = s ? json_incref((json_t *)s) : json_pack("{s:[]}", "actions");
        event_emit(d->events, type, event_deployment_step(plan, cur));
        json_decref(plan);
        json_decref(cur);
}

static void emit_result(struct deployer *d, const char *type, const json_t *rec, const char *reason) {
        if (!event_wanted(d->events, type))
                return;
        json_t *plan = plan_json(rec);
        event_emit(d->events, type,
                    event_deployment_result(json_string_value(json_object_get(rec, "id")), plan, reason));
        json_decref(plan);
}

/* Marks the apps of the record's current step dirty: they may have been held back. */
static void wake_step(struct deployer *d, const json_t *rec) {
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(rec, "affectedApps"), i, a)
                d->wake(json_string_value(a), d->data);
}

static void announce_cb(struct clock_timer *t, void *data) {
        struct deployer *d = data;
        const struct state *st = core_state(d->log);
        const char *id;
        json_t *v;
        json_object_foreach(d->announce, id, v) {
                const json_t *rec = state_deployment_get(st, id);
                if (!rec || !d->leading)
                        continue;
                json_int_t cur = json_integer_value(json_object_get(rec, "currentStep"));
                log_info("deployment %s: %u step(s), %zu app(s)", id, deployment_total_steps(rec),
                         json_array_size(json_object_get(rec, "affectedApps")));
                emit_step(d, "deployment_info", rec, cur);
                wake_step(d, rec);
        }
        json_object_clear(d->announce);
}

struct deployer *deployer_new(const struct core_log *log, struct clock *clock, const struct event_sink *events,
                              deployer_wake_cb wake, void *data) {
        struct deployer *d = xcalloc(1, sizeof *d);
        *d = (struct deployer){ .log = log, .clock = clock, .events = events, .wake = wake, .data = data };
        hashmap_init(&d->pending);
        d->announce = json_object();
        d->announce_timer = clock_timer_new(clock, announce_cb, d);
        return d;
}

void deployer_free(struct deployer *d) {
        if (!d)
                return;
        forget_all(d);
        hashmap_release(&d->pending);
        clock_timer_free(d->announce_timer);
        json_decref(d->announce);
        free(d);
}

void deployer_set_failure_hook(struct deployer *d, deployer_failure_cb cb, void *data) {
        d->on_failure = cb;
        d->failure_data = data;
}

void deployer_set_reason_hook(struct deployer *d, deployer_reason_cb cb, void *data) {
        d->on_reason = cb;
        d->reason_data = data;
}

void deployer_instance_failed(struct deployer *d, const struct instance *i) {
        if (!d->leading || !d->on_failure)
                return;
        const struct state *st = core_state(d->log);
        const json_t *rec = state_deployment_get(st, state_app_deployment(st, i->app_id));
        if (rec)
                d->on_failure(rec, (unsigned)json_integer_value(json_object_get(rec, "currentStep")), i,
                              d->failure_data);
}

void deployer_deployment_changed(struct deployer *d, const json_t *rec, const char *what) {
        const char *id = json_string_value(json_object_get(rec, "id"));
        if (!id || !what || !d->leading)
                return;
        if (streq(what, "updated"))
                return; /* an app joined: the app itself is dirty already */
        json_int_t cur = json_integer_value(json_object_get(rec, "currentStep"));
        if (streq(what, "created")) {
                /* The rest of a bulk or group change joins in the same Raft entry: announce the
                 * plan once the whole entry is applied (next loop turn). */
                if (!json_object_get(d->announce, id))
                        json_object_set_new(d->announce, id, json_true());
                if (!clock_timer_active(d->announce_timer))
                        clock_timer_start(d->announce_timer, 0);
                return;
        }
        json_int_t total = deployment_total_steps(rec);
        if (streq(what, "step")) {
                forget_pending(d, id);
                log_debug("deployment %s: step %lld of %lld", id, (long long)cur, (long long)total);
                emit_step(d, "deployment_step_success", rec, cur - 1);
                emit_step(d, "deployment_info", rec, cur);
        } else if (streq(what, "success")) {
                forget_pending(d, id);
                if (d->on_reason)
                        free(d->on_reason(id, d->reason_data)); /* forgets its counts */
                log_info("deployment %s: success", id);
                emit_step(d, "deployment_step_success", rec, cur);
                emit_result(d, "deployment_success", rec, NULL);
        } else if (streq(what, "failed") || streq(what, "canceled")) {
                forget_pending(d, id);
                _cleanup_free_ char *why = d->on_reason ? d->on_reason(id, d->reason_data) : NULL;
                log_info("deployment %s: %s", id, what);
                emit_result(d, "deployment_failed", rec, why ? why : streq(what, "canceled") ? "canceled" : "failed");
        }
        wake_step(d, rec);
}
