/* deploy_watch.c — counts failures of deployments' new versions and fails (or rolls back) the
 * deployments whose policy says so (see deploy_watch.h, model/deploy_failure.h). */
#include "master/deploy_watch.h"

#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "model/deploy_failure.h"
#include "store/cluster_state.h"
#include "store/deployments.h"

struct deploy_watch {
        const struct core_log *log;
        struct clock *clock;
        bool leading;
        /* deployment id → {"apps": {app id: {"failures": n, "proven": bool}}, "reason"?: text} */
        json_t *deployments;
};

/* --- the minimum healthy time ------------------------------------------------------------------ */

int64_t deploy_watch_min_healthy_ms(const struct state *st, const json_t *app) {
        const char *id = json_string_value(json_object_get(app, "id"));
        const json_t *rec = id ? state_deployment_get(st, state_app_deployment(st, id)) : NULL;
        enum deploy_action action;
        /* Only a restart replaces running tasks: new apps and scales end as in Marathon, when
         * their tasks run (clients that scale right after a create expect no 409). */
        if (!rec || deployment_app_step(rec, id, &action) == 0 || action != DEPLOY_RESTART)
                return 0;
        return deploy_failure_min_healthy_ms(app);
}

bool deploy_watch_settled(int64_t min_healthy_ms, const struct instance *i, int64_t now_ms) {
        return min_healthy_ms <= 0 || (i->started_at > 0 && now_ms - i->started_at >= min_healthy_ms);
}

/* --- failures ---------------------------------------------------------------------------------- */

struct proof_ctx {
        const struct deploy_failure_policy *p;
        const char *config; /* lastConfigChangeAt: instances at or after it run the new version */
        bool health;
        int64_t now;
        bool proven;
};

static struct deploy_task task_of(const struct instance *i, bool health) {
        bool terminal = task_state_is_terminal((enum task_state)i->state);
        return (struct deploy_task){ .running = i->state == TASK_RUNNING,
                                     .healthy = !health || (i->has_health && i->healthy),
                                     .started_ms = i->started_at,
                                     .ended_ms = terminal ? (i->updated_at > 0 ? i->updated_at : 1) : 0 };
}

static int prove_instance(const struct instance *i, void *data) {
        struct proof_ctx *c = data;
        if (strcmp(i->version, c->config) < 0 || task_state_is_terminal((enum task_state)i->state))
                return 0;
        struct deploy_task t = task_of(i, c->health);
        if (deploy_task_proves(c->p, &t, c->now)) {
                c->proven = true;
                return 1;
        }
        return 0;
}

static void decided_cb(void *data, int status, json_t *result, struct err *err) {
        char *id = data;
        if (status < 0)
                log_warn("deployment %s: cannot end it: %s", id, err_msg(err));
        free(id);
}

void deploy_watch_failure(const json_t *record, unsigned step, const struct instance *i, void *data) {
        struct deploy_watch *w = data;
        const struct state *st = core_state(w->log);
        const char *dep = json_string_value(json_object_get(record, "id"));
        const json_t *app = state_app_get(st, i->app_id);
        const char *config = json_string_value(json_object_get(json_object_get(app, "versionInfo"), "lastConfigChangeAt"));
        if (!w->leading || !dep || !app || !config || strcmp(i->version, config) < 0)
                return; /* an old version's task: not this deployment's business */
        struct deploy_failure_policy p;
        struct err e = { 0 };
        if (deploy_failure_policy_of(app, &p, &e) < 0)
                log_warn("%s: %s (using the default)", i->app_id, err_msg(&e));
        err_release(&e);
        if (p.max_failures == 0)
                return;

        json_t *d = json_object_get(w->deployments, dep);
        if (!d) {
                d = json_pack("{s:{}}", "apps");
                json_object_set_new(w->deployments, dep, d);
        }
        if (json_object_get(d, "reason"))
                return; /* decided already; the record ends soon */
        json_t *apps = json_object_get(d, "apps");
        json_t *a = json_object_get(apps, i->app_id);
        if (!a) {
                a = json_pack("{s:i,s:b}", "failures", 0, "proven", false);
                json_object_set_new(apps, i->app_id, a);
        }
        struct deploy_failure_count count = { .failures = (unsigned)json_integer_value(json_object_get(a, "failures")),
                                              .proven = json_is_true(json_object_get(a, "proven")) };
        int64_t now = clock_now_ms(w->clock);
        bool health = json_array_size(json_object_get(app, "healthChecks")) > 0;
        /* Another task of the new version that has proven itself by now ends the counting. */
        if (!count.proven) {
                struct proof_ctx pc = { .p = &p, .config = config, .health = health, .now = now };
                state_app_instances_foreach(st, i->app_id, prove_instance, &pc);
                count.proven = pc.proven;
        }
        struct deploy_task t = task_of(i, health);
        bool failed = deploy_failure_note(&p, &count, &t, now);
        json_object_set_new(a, "failures", json_integer(count.failures));
        json_object_set_new(a, "proven", json_boolean(count.proven));
        if (!failed)
                return;

        _cleanup_free_ char *why = deploy_failure_reason(&p, &count, i->app_id, i->message);
        json_t *cmd;
        if (p.on_failure == DEPLOY_ON_FAILURE_ROLLBACK) {
                char new_id[37], ts[25];
                uuid_random(new_id);
                time_format_ms(now, ts);
                cmd = json_pack("{s:s,s:i,s:s,s:s,s:s}", "type", "deployment_rollback", "v", 1, "id", dep, "newId",
                                new_id, "ts", ts);
                json_object_set_new(d, "reason", json_sprintf("%s; rolled back by deployment %s", why, new_id));
        } else {
                cmd = json_pack("{s:s,s:i,s:s,s:s,s:s}", "type", "deployment_finish", "v", 1, "id", dep, "result",
                                "failed", "reason", why);
                json_object_set_new(d, "reason", json_string(why));
        }
        log_warn("deployment %s failed: %s", dep, json_string_value(json_object_get(d, "reason")));
        core_submit(w->log, cmd, decided_cb, xstrdup(dep));
}

char *deploy_watch_reason(const char *deployment_id, void *data) {
        struct deploy_watch *w = data;
        json_t *d = json_object_get(w->deployments, deployment_id);
        const char *reason = json_string_value(json_object_get(d, "reason"));
        char *out = reason ? xstrdup(reason) : NULL;
        json_object_del(w->deployments, deployment_id);
        return out;
}

/* --- lifecycle --------------------------------------------------------------------------------- */

struct deploy_watch *deploy_watch_new(const struct core_log *log, struct clock *clock) {
        struct deploy_watch *w = xcalloc(1, sizeof *w);
        *w = (struct deploy_watch){ .log = log, .clock = clock, .deployments = json_object() };
        return w;
}

void deploy_watch_free(struct deploy_watch *w) {
        if (!w)
                return;
        json_decref(w->deployments);
        free(w);
}

void deploy_watch_leadership(struct deploy_watch *w, bool leading) {
        w->leading = leading;
        json_object_clear(w->deployments);
}
