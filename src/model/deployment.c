/* deployment.c — deployment plans and the rolling-restart rule (pure functions). */
#include "model/deployment.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/macro.h"
#include "common/util.h"
#include "model/app.h"

static const char *const action_names[] = {
#define DEPLOY_ACTION_NAME(e, s) [e] = s,
        DEPLOY_ACTIONS(DEPLOY_ACTION_NAME)
#undef DEPLOY_ACTION_NAME
};

const char *deploy_action_to_string(enum deploy_action a) {
        return (unsigned)a < _DEPLOY_ACTION_MAX ? action_names[a] : NULL;
}

int deploy_action_from_string(const char *s) {
        for (int a = 0; s && a < _DEPLOY_ACTION_MAX; a++)
                if (streq(s, action_names[a]))
                        return a;
        return -EINVAL;
}

static bool output_only(const char *k) {
        return streq(k, "version") || streq(k, "versionInfo");
}

bool app_is_unchanged(const json_t *a, const json_t *b) {
        const char *k;
        json_t *v;
        if (!json_is_object(a) || !json_is_object(b))
                return false;
        json_object_foreach((json_t *)a, k, v) {
                if (output_only(k))
                        continue;
                json_t *w = json_object_get(b, k);
                if (!w || !json_equal(v, w))
                        return false;
        }
        json_object_foreach((json_t *)b, k, v)
                if (!output_only(k) && !json_object_get(a, k))
                        return false;
        return true;
}

int deploy_action_for(const json_t *old_app, const json_t *new_app) {
        if (!old_app && !new_app)
                return -1;
        if (!new_app)
                return DEPLOY_STOP;
        if (!old_app)
                return DEPLOY_SCALE;
        if (app_is_unchanged(old_app, new_app))
                return -1;
        return app_is_scale_only(old_app, new_app) ? DEPLOY_SCALE : DEPLOY_RESTART;
}

/* --- dependency layers ----------------------------------------------------------------------- */

enum { VISITING = 1, DONE = 2 };

struct walk {
        const struct deploy_graph_ops *ops;
        struct hashmap marks;   /* app id → struct mark */
        struct err *err;
        int depth;
};

struct mark {
        int state;
        unsigned layer;
};

static int visit(struct walk *w, const char *app_id, unsigned *ret_layer);

struct group_ctx {
        struct walk *w;
        unsigned max;
        bool any;
        int r;
};

static int group_member(const char *app_id, void *data) {
        struct group_ctx *g = data;
        unsigned layer;
        int r = visit(g->w, app_id, &layer);
        if (r < 0) {
                g->r = r;
                return 1;
        }
        if (!g->any || layer > g->max)
                g->max = layer;
        g->any = true;
        return 0;
}

/* Resolves a dependency path against the app's parent group: absolute paths stand, relative
 * ones ("db", "../db", "./x") are joined to the parent; "." and ".." segments are folded.
 * Returns NULL for a path that climbs above the root or has an empty segment. */
static char *path_resolve(const char *path, const char *parent) {
        _cleanup_free_ char *joined = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", parent, path);
        size_t len = strlen(joined);
        char *out = xmalloc(len + 2);
        size_t o = 0;
        for (const char *p = joined; *p;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);
                if (n == 1 && p[0] == '.') {
                        /* stays */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (o == 0) {
                                free(out);
                                return NULL;
                        }
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--; /* the slash */
                } else {
                        out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p = end;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = 0;
        return out;
}

/* The parent group of an app id ("/a/b" → "/a", "/a" → "/"). */
static char *parent_of(const char *id) {
        const char *slash = strrchr(id, '/');
        return slash == id ? xstrdup("/") : xstrndup(id, (size_t)(slash - id));
}

/* Raises *layer above every app that deps (relative to parent) name, directly or as a group. */
static int visit_deps(struct walk *w, const char *app_id, const json_t *deps, const char *parent, unsigned *layer) {
        size_t i;
        json_t *d;
        json_array_foreach(deps, i, d) {
                const char *dep = json_string_value(d);
                _cleanup_free_ char *abs = dep && dep[0] ? path_resolve(dep, parent) : NULL;
                if (!abs)
                        continue;
                if (streq(abs, app_id))
                        return err_set(w->err, -ERR_INVALID, "Dependency graph has cyclic dependencies.");
                unsigned dl;
                if (w->ops->app_get(abs, w->ops->data)) {
                        int r = visit(w, abs, &dl);
                        if (r < 0)
                                return r;
                        *layer = MAX(*layer, dl + 1);
                        continue;
                }
                struct group_ctx g = { .w = w };
                if (w->ops->group_apps_foreach)
                        w->ops->group_apps_foreach(abs, group_member, &g, w->ops->data);
                if (g.r < 0)
                        return g.r;
                if (g.any)
                        *layer = MAX(*layer, g.max + 1);
        }
        return 0;
}

static int visit(struct walk *w, const char *app_id, unsigned *ret_layer) {
        struct mark *m = hashmap_get(&w->marks, app_id);
        if (m && m->state == DONE) {
                *ret_layer = m->layer;
                return 0;
        }
        if (m && m->state == VISITING)
                return err_set(w->err, -ERR_INVALID, "Dependency graph has cyclic dependencies.");
        if (++w->depth > 1000) /* a recursion bound well inside the loop thread's stack */
                return err_set(w->err, -ERR_INVALID, "Dependency graph is too deep.");
        m = xcalloc(1, sizeof *m);
        m->state = VISITING;
        hashmap_put(&w->marks, xstrdup(app_id), m);

        unsigned layer = 0;
        const json_t *app = w->ops->app_get(app_id, w->ops->data);
        _cleanup_free_ char *parent = parent_of(app_id);
        int r = visit_deps(w, app_id, app ? json_object_get(app, "dependencies") : NULL, parent, &layer);
        if (r < 0)
                return r;
        /* Group dependencies: every ancestor group's list, relative to that group's parent. */
        if (w->ops->group_get) {
                _cleanup_free_ char *g = xstrdup(parent);
                while (!streq(g, "/")) {
                        const json_t *group = w->ops->group_get(g, w->ops->data);
                        _cleanup_free_ char *gp = parent_of(g);
                        if (group && (r = visit_deps(w, app_id, json_object_get(group, "dependencies"), gp, &layer)) < 0)
                                return r;
                        free(g);
                        g = TAKE_PTR(gp);
                }
        }
        m = hashmap_get(&w->marks, app_id);
        m->state = DONE;
        m->layer = layer;
        w->depth--;
        *ret_layer = layer;
        return 0;
}

int deploy_layer(const char *app_id, const struct deploy_graph_ops *ops, unsigned *ret_layer, struct err *err) {
        struct walk w = { .ops = ops, .err = err };
        hashmap_init(&w.marks);
        unsigned layer = 0;
        int r = visit(&w, app_id, &layer);
        size_t pos = 0;
        const char *k;
        void *v;
        while (hashmap_next(&w.marks, &pos, &k, &v)) {
                free((char *)k);
                free(v);
        }
        hashmap_release(&w.marks);
        if (r < 0)
                return r;
        *ret_layer = layer;
        return 0;
}

/* --- steps ----------------------------------------------------------------------------------- */

static json_t *action_json(const json_t *item) {
        return json_pack("{s:O,s:O}", "action", json_object_get(item, "action"), "app", json_object_get(item, "app"));
}

json_t *deploy_steps(const json_t *items) {
        json_t *steps = json_array();
        json_t *stops = json_array(), *starts = json_array();
        unsigned max_layer = 0;
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
                int a = deploy_action_from_string(json_string_value(json_object_get(it, "action")));
                if (a == DEPLOY_STOP)
                        json_array_append_new(stops, action_json(it));
                else
                        max_layer = MAX(max_layer, (unsigned)json_integer_value(json_object_get(it, "layer")));
                if (json_is_true(json_object_get(it, "new")))
                        json_array_append_new(starts, json_pack("{s:s,s:O}", "action", "StartApplication", "app",
                                                                json_object_get(it, "app")));
        }
        if (json_array_size(stops) > 0)
                json_array_append_new(steps, json_pack("{s:o}", "actions", stops));
        else
                json_decref(stops);
        if (json_array_size(starts) > 0)
                json_array_append_new(steps, json_pack("{s:o}", "actions", starts));
        else
                json_decref(starts);
        for (unsigned layer = 0; layer <= max_layer; layer++) {
                json_t *actions = json_array();
                json_array_foreach(items, i, it) {
                        int a = deploy_action_from_string(json_string_value(json_object_get(it, "action")));
                        if (a == DEPLOY_STOP || a == DEPLOY_START)
                                continue;
                        if ((unsigned)json_integer_value(json_object_get(it, "layer")) == layer)
                                json_array_append_new(actions, action_json(it));
                }
                if (json_array_size(actions) > 0)
                        json_array_append_new(steps, json_pack("{s:o}", "actions", actions));
                else
                        json_decref(actions);
        }
        return steps;
}

/* --- the rolling rule ------------------------------------------------------------------------ */

void rolling_decide(const struct rolling_input *in, struct rolling_decision *out) {
        double mh = in->min_health < 0 ? 0 : in->min_health > 1 ? 1 : in->min_health;
        double mo = in->max_over < 0 ? 0 : in->max_over > 1 ? 1 : in->max_over;
        /* A tiny epsilon keeps 3 × 0.1 × 10 from rounding up to 4 through binary fractions. */
        unsigned min_healthy = (unsigned)ceil((double)in->n * mh - 1e-9);
        unsigned max_capacity = (unsigned)floor((double)in->n * (1.0 + mo) + 1e-9);
        unsigned kill = in->healthy > min_healthy ? in->healthy - min_healthy : 0;
        if (min_healthy == max_capacity && max_capacity <= in->healthy) {
                if (in->resident)
                        kill = in->healthy - min_healthy + 1;
                else
                        max_capacity += 1;
        }
        unsigned launch = 0;
        if (in->n > in->new_started) {
                unsigned want = in->n - in->new_started;
                unsigned used = in->old_active + in->new_started;
                unsigned room = max_capacity > used ? max_capacity - used : 0;
                launch = MIN(want, room);
        }
        *out = (struct rolling_decision){
                .min_healthy = min_healthy,
                .max_capacity = max_capacity,
                .kill_healthy_old = kill,
                .launch = launch,
        };
}
