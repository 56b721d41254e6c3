/* deployments.c — deployment records in the replicated state: locking, plan building, snapshot. */
#include "store/deployments.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"
#include "store/cluster_internal.h"
#include "store/groups.h"
#include "store/state_internal.h"

void deployments_init(struct deployments *d) {
        d->records = json_object();
        d->by_app = json_object();
}

void deployments_release(struct deployments *d) {
        json_decref(d->records);
        json_decref(d->by_app);
        d->records = d->by_app = NULL;
}

const json_t *state_deployment_get(const struct state *s, const char *id) {
        return id ? json_object_get(state_deployments_const(s)->records, id) : NULL;
}

const char *state_app_deployment(const struct state *s, const char *app_id) {
        return app_id ? json_string_value(json_object_get(state_deployments_const(s)->by_app, app_id)) : NULL;
}

size_t state_deployment_count(const struct state *s) {
        return json_object_size(state_deployments_const(s)->records);
}

int state_deployments_foreach(const struct state *s, int (*cb)(const json_t *record, void *data), void *data) {
        const char *k;
        json_t *v;
        json_object_foreach(state_deployments_const(s)->records, k, v) {
                int r = cb(v, data);
                if (r)
                        return r;
        }
        return 0;
}

/* Rebuilds steps, totalSteps and the app → step index from items. Plans are built lazily: a bulk
 * or group change adds thousands of apps to one record, one command each, and rebuilding on
 * every addition would cost O(n²). The steps are a pure function of the items, so a stale cache
 * filled in on read is the same on every master. */
static void replan(json_t *rec) {
        json_t *arr = json_array();
        const char *k;
        json_t *it;
        json_object_foreach(json_object_get(rec, "items"), k, it) json_array_append(arr, it);
        json_t *steps = deploy_steps(arr);
        json_decref(arr);
        json_t *index = json_object();
        size_t i, j;
        json_t *step, *a;
        json_array_foreach(steps, i, step) {
                json_array_foreach(json_object_get(step, "actions"), j, a) {
                        int act = deploy_action_from_string(json_string_value(json_object_get(a, "action")));
                        if (act >= 0 && act != DEPLOY_START)
                                json_object_set_new(index, json_string_value(json_object_get(a, "app")),
                                                    json_pack("[i,i]", (json_int_t)i + 1, act));
                }
        }
        json_object_set_new(rec, "totalSteps", json_integer((json_int_t)json_array_size(steps)));
        json_object_set_new(rec, "steps", steps);
        json_object_set_new(rec, "appSteps", index);
}

static json_t *fresh(const json_t *record) {
        json_t *rec = (json_t *)record; /* the cache below is the only write through a reader */
        if (rec && !json_object_get(rec, "steps"))
                replan(rec);
        return rec;
}

const json_t *deployment_steps(const json_t *record) {
        return json_object_get(fresh(record), "steps");
}

unsigned deployment_total_steps(const json_t *record) {
        return (unsigned)json_integer_value(json_object_get(fresh(record), "totalSteps"));
}

unsigned deployment_app_step(const json_t *record, const char *app_id, enum deploy_action *ret_action) {
        const json_t *e = json_object_get(json_object_get(fresh(record), "appSteps"), app_id);
        if (!e)
                return 0;
        if (ret_action)
                *ret_action = (enum deploy_action)json_integer_value(json_array_get(e, 1));
        return (unsigned)json_integer_value(json_array_get(e, 0));
}

/* --- the dependency graph as the state sees it, with one app replaced ----------------------- */

struct graph {
        const struct state *s;
        const char *app_id;    /* replaced by doc (NULL doc: deleted) */
        const json_t *doc;
};

static const json_t *graph_app(const char *id, void *data) {
        struct graph *g = data;
        if (streq(id, g->app_id))
                return g->doc;
        return state_app_get(g->s, id);
}

struct group_walk {
        struct graph *g;
        const char *prefix;
        size_t n;
        int (*cb)(const char *, void *);
        void *cbdata;
        bool saw_self;
};

static int group_app(const json_t *app, void *data) {
        struct group_walk *w = data;
        const char *id = json_string_value(json_object_get(app, "id"));
        if (!id || strncmp(id, w->prefix, w->n) != 0 || (w->n > 1 && id[w->n] != '/'))
                return 0;
        if (streq(id, w->g->app_id)) {
                w->saw_self = true;
                if (!w->g->doc)
                        return 0;
        }
        return w->cb(id, w->cbdata);
}

static int graph_group(const char *group, int (*cb)(const char *, void *), void *cbdata, void *data) {
        struct graph *g = data;
        struct group_walk w = { .g = g, .prefix = group, .n = strlen(group), .cb = cb, .cbdata = cbdata };
        int r = state_apps_foreach(g->s, group_app, &w);
        if (r)
                return r;
        /* A new app under the group is not in the state yet. */
        if (!w.saw_self && g->doc && strncmp(g->app_id, group, w.n) == 0 && g->app_id[w.n] == '/')
                return cb(g->app_id, cbdata);
        return 0;
}

/* Group-level dependencies (groups.h records) count for every app under the group. */
static const json_t *graph_group_get(const char *path, void *data) {
        struct graph *g = data;
        return state_group_get(g->s, path);
}

static unsigned layer_of(const struct state *s, const char *app_id, const json_t *doc, struct err *err, int *ret) {
        struct graph g = { .s = s, .app_id = app_id, .doc = doc };
        struct deploy_graph_ops ops = { .app_get = graph_app, .group_apps_foreach = graph_group,
                                        .group_get = graph_group_get, .data = &g };
        unsigned layer = 0;
        *ret = doc ? deploy_layer(app_id, &ops, &layer, err) : 0;
        return layer;
}

/* --- locking and plan building --------------------------------------------------------------- */

static json_t *locked_error_details(const char *other) {
        return json_pack("[{s:s}]", "id", other);
}

int deployments_check(const struct state *s, const json_t *cmd, const char *app_id, const json_t *new_doc,
                      struct err *err) {
        const char *mine = json_string_value(json_object_get(cmd, "deploymentId"));
        const char *other = state_app_deployment(s, app_id);
        if (other && (!mine || !streq(mine, other)) && !json_is_true(json_object_get(cmd, "force"))) {
                err_set(err, -ERR_CONFLICT,
                        "App is locked by one or more deployments. Override with the option '?force=true'. "
                        "View details at '/v2/deployments/%s'.",
                        other);
                err_set_details(err, locked_error_details(other));
                return -ERR_CONFLICT;
        }
        int r;
        layer_of(s, app_id, new_doc, err, &r);
        return r;
}

/* Removes a record and its locks; the observer hears `what` with the record as it was. */
static void drop(struct state *s, const char *id, const char *what) {
        struct deployments *d = state_deployments(s);
        json_t *rec = json_object_get(d->records, id);
        if (!rec)
                return;
        json_incref(rec);
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(rec, "affectedApps"), i, a) {
                const char *app = json_string_value(a);
                const char *holder = json_string_value(json_object_get(d->by_app, app));
                if (holder && streq(holder, id))
                        json_object_del(d->by_app, app);
        }
        json_object_del(d->records, id);
        cluster_note_deployment(state_cluster(s), rec, what);
        json_decref(rec);
}

void deployments_note(struct state *s, const json_t *cmd, const char *app_id, const json_t *old_doc,
                      const json_t *new_doc) {
        struct deployments *d = state_deployments(s);
        const char *mine = json_string_value(json_object_get(cmd, "deploymentId"));
        const char *other = state_app_deployment(s, app_id);
        if (other && (!mine || !streq(mine, other))) {
                _cleanup_free_ char *o = xstrdup(other);
                drop(s, o, "canceled"); /* forced: deployments_check let it through */
        }
        int action = deploy_action_for(old_doc, new_doc);
        if (old_doc && new_doc && streq(json_string_value(json_object_get(cmd, "type")) ?: "", "app_restart"))
                action = DEPLOY_RESTART; /* the same definition, on purpose */
        if (!mine || action < 0)
                return;
        json_t *rec = json_object_get(d->records, mine);
        bool opened = !rec;
        if (!rec) {
                json_t *ts = json_object_get(cmd, "ts");
                rec = json_pack("{s:s,s:o,s:[],s:[],s:i,s:{},s:{}}", "id", mine, "version",
                                ts ? json_incref(ts) : json_string(""), "affectedApps", "affectedPods",
                                "currentStep", 1, "items", "originals");
                json_object_set_new(d->records, mine, rec);
        }
        json_t *items = json_object_get(rec, "items");
        json_t *originals = json_object_get(rec, "originals");
        /* An app changed twice in one deployment keeps its first original and its latest action. */
        if (!json_object_get(originals, app_id)) {
                json_object_set_new(originals, app_id, old_doc ? json_incref((json_t *)old_doc) : json_null());
                json_array_append_new(json_object_get(rec, "affectedApps"), json_string(app_id));
        }
        bool is_new = json_is_null(json_object_get(originals, app_id)) && new_doc;
        int r;
        struct err ignore = { 0 };
        unsigned layer = layer_of(s, app_id, new_doc, &ignore, &r); /* checked before the change */
        err_release(&ignore);
        json_t *item = json_pack("{s:s,s:s,s:i}", "app", app_id, "action",
                                 deploy_action_to_string(is_new ? DEPLOY_SCALE : (enum deploy_action)action),
                                 "layer", (json_int_t)layer);
        if (is_new)
                json_object_set_new(item, "new", json_true());
        json_object_set_new(items, app_id, item);
        json_object_set_new(d->by_app, app_id, json_string(mine));
        json_object_del(rec, "steps"); /* rebuilt on the next read */
        cluster_note_deployment(state_cluster(s), rec, opened ? "created" : "updated");
}

/* --- commands -------------------------------------------------------------------------------- */

int fsm_deployment_step(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *id = json_string_value(json_object_get(cmd, "id"));
        json_t *step = json_object_get(cmd, "step");
        if (!id || !json_is_integer(step))
                return err_set(err, -EINVAL, "deployment_step: expected \"id\" and \"step\"");
        json_t *rec = json_object_get(state_deployments(s)->records, id);
        if (!rec)
                return err_set(err, -ERR_NOT_FOUND, "DeploymentPlan %s does not exist", id);
        json_int_t cur = json_integer_value(json_object_get(rec, "currentStep"));
        fresh(rec);
        if (cur != json_integer_value(step))
                return 0; /* already advanced (a retry, or a new leader's duplicate) */
        json_object_set_new(rec, "currentStep", json_integer(cur + 1));
        cluster_note_deployment(state_cluster(s), rec, "step");
        return 0;
}

int fsm_deployment_finish(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *id = json_string_value(json_object_get(cmd, "id"));
        const char *result = json_string_value(json_object_get(cmd, "result"));
        if (!id || !result || !(streq(result, "success") || streq(result, "failed") || streq(result, "canceled")))
                return err_set(err, -EINVAL,
                               "deployment_finish: expected \"id\" and \"result\" success|failed|canceled");
        if (!state_deployment_get(s, id))
                return err_set(err, -ERR_NOT_FOUND, "DeploymentPlan %s does not exist", id);
        drop(s, id, result);
        return 0;
}

/* --- snapshot -------------------------------------------------------------------------------- */

json_t *deployments_to_json(const struct deployments *d) {
        json_t *arr = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(d->records, k, v) {
                json_t *copy = json_deep_copy(fresh(v));
                /* Derived from items: not stored. */
                json_object_del(copy, "steps");
                json_object_del(copy, "appSteps");
                json_object_del(copy, "totalSteps");
                json_array_append_new(arr, copy);
        }
        return arr;
}

int deployments_from_json(struct deployments *d, const json_t *arr, struct err *err) {
        if (arr && !json_is_array(arr))
                return err_set(err, -EINVAL, "state: \"deployments\" must be an array");
        size_t i, j;
        json_t *rec, *a;
        json_array_foreach(arr, i, rec) {
                if (!json_is_string(json_object_get(rec, "id")) || !json_is_object(json_object_get(rec, "items")) ||
                    !json_is_object(json_object_get(rec, "originals")))
                        return err_set(err, -EINVAL, "state: deployments[%zu] malformed", i);
        }
        json_object_clear(d->records);
        json_object_clear(d->by_app);
        json_array_foreach(arr, i, rec) {
                const char *id = json_string_value(json_object_get(rec, "id"));
                json_object_set_new(d->records, id, json_deep_copy(rec));
                json_array_foreach(json_object_get(rec, "affectedApps"), j, a)
                        json_object_set_new(d->by_app, json_string_value(a), json_string(id));
        }
        return 0;
}
