/* api_deployments.c — GET /v2/deployments and DELETE /v2/deployments/{id} (api.md §1.3, §3.4). */
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/master_internal.h"
#include "store/cluster_state.h"
#include "store/deployments.h"

struct readiness_ctx {
        const char *version; /* the app's configuration version: only new instances are checked */
        const char *name;
        json_t *results;
};

static int readiness_instance(const struct instance *i, void *data) {
        struct readiness_ctx *c = data;
        /* New = placed at the configuration version or later (a scale adds later versions). */
        if (task_state_is_terminal((enum task_state)i->state) || strcmp(i->version, c->version) < 0)
                return 0;
        /* No lastResponse: Strata keeps none, and Marathon's writer omits an absent one. */
        json_array_append_new(c->results, json_pack("{s:s,s:s,s:b}", "name", c->name, "taskId", i->id, "ready",
                                                    i->ready));
        return 0;
}

/* Marathon's currentActions[].readinessCheckResults: one entry per new instance of an app with a
 * readiness check. */
static json_t *readiness_results(const struct state *st, const char *app_id) {
        json_t *results = json_array();
        const json_t *app = state_app_get(st, app_id);
        const json_t *checks = app ? json_object_get(app, "readinessChecks") : NULL;
        if (json_array_size(checks) == 0)
                return results;
        struct readiness_ctx c = {
                .version = json_string_value(json_object_get(json_object_get(app, "versionInfo"), "lastConfigChangeAt")),
                .name = json_string_value(json_object_get(json_array_get(checks, 0), "name")) ?: "readinessCheck",
                .results = results,
        };
        if (c.version)
                state_app_instances_foreach(st, app_id, readiness_instance, &c);
        return results;
}

/* The record as GET /v2/deployments shows it: the plan, the current step's actions, no internals. */
static json_t *deployment_json(const struct state *st, const json_t *rec) {
        const json_t *steps = deployment_steps(rec);
        json_t *out = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:i}", "id", json_object_get(rec, "id"), "version",
                                json_object_get(rec, "version"), "affectedApps", json_object_get(rec, "affectedApps"),
                                "affectedPods", json_object_get(rec, "affectedPods"), "steps", steps, "currentStep",
                                json_object_get(rec, "currentStep"), "totalSteps",
                                (json_int_t)deployment_total_steps(rec));
        json_t *current = json_array();
        json_int_t k = json_integer_value(json_object_get(rec, "currentStep"));
        const json_t *step = json_array_get(steps, (size_t)(k - 1));
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(step, "actions"), i, a) {
                const char *app = json_string_value(json_object_get(a, "app"));
                json_array_append_new(current, json_pack("{s:O,s:O,s:o}", "action", json_object_get(a, "action"), "app",
                                                         json_object_get(a, "app"), "readinessCheckResults",
                                                         app ? readiness_results(st, app) : json_array()));
        }
        json_object_set_new(out, "currentActions", current);
        return out;
}

struct list_ctx {
        const struct state *st;
        json_t *out;
        const struct api_call *call;
};

static int list_rec(const json_t *rec, void *data) {
        struct list_ctx *c = data;
        json_t *d = deployment_json(c->st, rec);
        /* a tenant sees the deployments that touch only apps it may read (master/auth.h) */
        if (!auth_may_all(c->call, RID_SERVICES, json_object_get(d, "affectedApps"), PERM_READ)) {
                json_decref(d);
                return 0;
        }
        json_array_append_new(c->out, d);
        return 0;
}

void api_deployments_list(struct api_call *call) {
        struct list_ctx c = { .st = store_state(call->m->store), .out = json_array(), .call = call };
        state_deployments_foreach(c.st, list_rec, &c);
        api_reply_json(call, 200, c.out);
}

/* --- DELETE -------------------------------------------------------------------------------- */

struct delete_ctx {
        struct api_call *call;
        bool force;
        char new_id[37];
        char ts[25];
};

static void delete_done(void *data, int status, json_t *result, struct err *err) {
        struct delete_ctx *d = data;
        struct api_call *call = d->call;
        if (status < 0)
                api_reply_err(call, err);
        else if (d->force)
                api_reply_text(call, 202, "application/json", "");
        else {
                http_request_add_header(call->req, "Marathon-Deployment-Id", d->new_id);
                api_reply_json(call, 200, json_pack("{s:s,s:s}", "deploymentId", d->new_id, "version", d->ts));
        }
        free(d);
}

/* DELETE /v2/deployments/{id}: rolls the deployment back (a new deployment restoring every app
 * it touched), or with force=true just stops it, leaving the apps as they are now. */
void api_deployment_delete(struct api_call *call) {
        const char *id = call->id && call->id[0] == '/' ? call->id + 1 : call->id;
        if (!id || !state_deployment_get(store_state(call->m->store), id)) {
                api_reply_error(call, 404, "DeploymentPlan %s does not exist", id ? id : "");
                return;
        }
        struct delete_ctx *d = xcalloc(1, sizeof *d);
        d->call = call;
        d->force = api_arg_bool(call, "force", false);
        time_format_ms(time_now_ms(), d->ts);
        json_t *cmd;
        if (d->force) {
                cmd = json_pack("{s:s,s:i,s:s,s:s,s:s}", "type", "deployment_finish", "v", 1, "id", id, "result",
                                "canceled", "reason", "canceled by DELETE /v2/deployments with force=true");
        } else {
                uuid_random(d->new_id);
                cmd = json_pack("{s:s,s:i,s:s,s:s,s:s}", "type", "deployment_rollback", "v", 1, "id", id, "newId",
                                d->new_id, "ts", d->ts);
        }
        store_submit(call->m->store, cmd, delete_done, d);
}
