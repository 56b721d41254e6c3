/* deployer.c — the leader walks deployment plans: it holds apps of later steps back, notices
 * when every action of the current step has converged, commits the step (or the end of the
 * plan), and turns plan changes into Marathon's deployment events. */
#include "master/deployer.h"

#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/deploy_watch.h"
#include "master/event_json.h"
#include "master/events.h"
#include "master/master_internal.h"
#include "store/cluster_state.h"
#include "store/deployments.h"

bool deployer_gated(struct launcher *l, const char *app_id) {
        const struct state *st = store_state(l->m->store);
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
static bool action_done(const struct state *st, const char *app_id, enum deploy_action action) {
        if (action == DEPLOY_START)
                return true;
        const json_t *app = state_app_get(st, app_id);
        struct conv c = { 0 };
        if (app) {
                c.version = json_string_value(json_object_get(json_object_get(app, "versionInfo"), "lastConfigChangeAt"));
                c.health = json_array_size(json_object_get(app, "healthChecks")) > 0;
                c.readiness = json_array_size(json_object_get(app, "readinessChecks")) > 0;
                c.min_healthy_ms = deploy_watch_min_healthy_ms(st, app);
                c.now = time_now_ms();
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

static void forget_pending(struct launcher *l, const char *id) {
        free(hashmap_remove(&l->deploy_pending, id));
}

struct submitted {
        struct launcher *l;
        json_int_t step;
        char id[];
};

static void step_submitted(void *data, int status, json_t *result, struct err *err) {
        struct submitted *sub = data;
        if (status < 0) {
                log_warn("deployment %s step %lld: %s", sub->id, (long long)sub->step, err_msg(err));
                /* Not committed: a later pass may try again. */
                struct pending *p = hashmap_get(&sub->l->deploy_pending, sub->id);
                if (p && p->step == sub->step)
                        forget_pending(sub->l, sub->id);
        }
        free(sub);
}

void deployer_check(struct launcher *l, const char *app_id, bool app_converged) {
        if (!l->leading)
                return;
        const struct state *st = store_state(l->m->store);
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
        struct pending *pending = hashmap_get(&l->deploy_pending, id);
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
                                       : !action_done(st, app, (enum deploy_action)act))
                        return;
        }
        if (!pending) {
                size_t n = strlen(id) + 1;
                pending = xmalloc(sizeof *pending + n);
                memcpy(pending->id, id, n);
                hashmap_put(&l->deploy_pending, pending->id, pending);
        }
        pending->step = cur;
        size_t n = strlen(id) + 1;
        struct submitted *sub = xmalloc(sizeof *sub + n);
        sub->l = l;
        sub->step = cur;
        memcpy(sub->id, id, n);
        json_t *cmd = cur >= total ? json_pack("{s:s,s:i,s:s,s:s}", "type", "deployment_finish", "v", 1, "id", id,
                                               "result", "success")
                                   : json_pack("{s:s,s:i,s:s,s:I}", "type", "deployment_step", "v", 1, "id", id,
                                               "step", (json_int_t)cur);
        store_submit(l->m->store, cmd, step_submitted, sub);
}

void deployer_release(struct launcher *l) {
        size_t pos = 0;
        const char *k;
        void *v;
        while (hashmap_next(&l->deploy_pending, &pos, &k, &v))
                free(v);
        hashmap_release(&l->deploy_pending);
        hashmap_init(&l->deploy_pending);
        if (l->deploy_announce)
                json_object_clear(l->deploy_announce);
}

/* --- events ---------------------------------------------------------------------------------- */

static json_t *plan_json(const json_t *rec) {
        return json_pack("{s:O,s:O,s:O}", "id", json_object_get(rec, "id"), "steps", deployment_steps(rec),
                         "version", json_object_get(rec, "version"));
}

static void emit_step(struct launcher *l, const char *type, const json_t *rec, json_int_t step) {
        if (!events_wanted(l->m->events, type))
                return;
        const json_t *s = json_array_get(deployment_steps(rec), (size_t)(step - 1));
        json_t *plan = plan_json(rec);
        json_t *cur = s ? json_incref((json_t *)s) : json_pack("{s:[]}", "actions");
        events_emit(l->m->events, type, event_deployment_step(plan, cur));
        json_decref(plan);
        json_decref(cur);
}

static void emit_result(struct launcher *l, const char *type, const json_t *rec, const char *reason) {
        if (!events_wanted(l->m->events, type))
                return;
        json_t *plan = plan_json(rec);
        events_emit(l->m->events, type,
                    event_deployment_result(json_string_value(json_object_get(rec, "id")), plan, reason));
        json_decref(plan);
}

/* Marks the apps of the record's current step dirty: they may have been held back. */
static void wake_step(struct launcher *l, const json_t *rec) {
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(rec, "affectedApps"), i, a)
                launcher_app_changed(l, json_string_value(a));
}

static void announce_cb(uv_timer_t *t) {
        struct launcher *l = t->data;
        const struct state *st = store_state(l->m->store);
        const char *id;
        json_t *v;
        json_object_foreach(l->deploy_announce, id, v) {
                const json_t *rec = state_deployment_get(st, id);
                if (!rec || !l->leading)
                        continue;
                json_int_t cur = json_integer_value(json_object_get(rec, "currentStep"));
                log_info("deployment %s: %u step(s), %zu app(s)", id, deployment_total_steps(rec),
                         json_array_size(json_object_get(rec, "affectedApps")));
                emit_step(l, "deployment_info", rec, cur);
                wake_step(l, rec);
        }
        json_object_clear(l->deploy_announce);
}

void deployer_init(struct launcher *l, uv_loop_t *loop) {
        l->deploy_announce = json_object();
        uv_timer_init(loop, &l->deploy_timer);
        l->deploy_timer.data = l;
}

void deployer_close(struct launcher *l) {
        uv_close((uv_handle_t *)&l->deploy_timer, NULL);
        json_decref(l->deploy_announce);
        l->deploy_announce = NULL;
}

void deployer_deployment_changed(struct launcher *l, const json_t *rec, const char *what) {
        const char *id = json_string_value(json_object_get(rec, "id"));
        if (!id || !what || !l->leading)
                return;
        if (streq(what, "updated"))
                return; /* an app joined: the app itself is dirty already */
        json_int_t cur = json_integer_value(json_object_get(rec, "currentStep"));
        if (streq(what, "created")) {
                /* The rest of a bulk or group change joins in the same Raft entry: announce the
                 * plan once the whole entry is applied (next loop turn). */
                if (!json_object_get(l->deploy_announce, id))
                        json_object_set_new(l->deploy_announce, id, json_true());
                if (!uv_is_active((uv_handle_t *)&l->deploy_timer))
                        uv_timer_start(&l->deploy_timer, announce_cb, 0, 0);
                return;
        }
        json_int_t total = deployment_total_steps(rec);
        if (streq(what, "step")) {
                forget_pending(l, id);
                log_debug("deployment %s: step %lld of %lld", id, (long long)cur, (long long)total);
                emit_step(l, "deployment_step_success", rec, cur - 1);
                emit_step(l, "deployment_info", rec, cur);
        } else if (streq(what, "success")) {
                forget_pending(l, id);
                free(deploy_watch_ended(l, id));
                log_info("deployment %s: success", id);
                emit_step(l, "deployment_step_success", rec, cur);
                emit_result(l, "deployment_success", rec, NULL);
        } else if (streq(what, "failed") || streq(what, "canceled")) {
                forget_pending(l, id);
                _cleanup_free_ char *why = deploy_watch_ended(l, id); /* the new version kept failing */
                log_info("deployment %s: %s", id, what);
                emit_result(l, "deployment_failed", rec, why ? why : streq(what, "canceled") ? "canceled" : "failed");
        }
        wake_step(l, rec);
}
