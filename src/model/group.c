/* group.c — group trees: GroupUpdate bodies applied, scaleBy, diffs into app changes and their
 * dependency order (api.md §3). Pure: no state, no I/O. */
#include "model/group.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/macro.h"
#include "common/util.h"
#include "model/app.h"
#include "model/app_id.h"

bool group_path_under(const char *path, const char *group) {
        if (streq(group, "/"))
                return path[0] == '/' && path[1] != 0;
        size_t n = strlen(group);
        return strncmp(path, group, n) == 0 && path[n] == '/';
}

json_t *group_tree_new(const char *path) {
        return json_pack("{s:s,s:[],s:[],s:[]}", "id", path, "apps", "groups", "dependencies");
}

/* --- errors in Marathon's shape ---------------------------------------------------------------- */

static int fail_at(struct err *err, int code, const char *path, const char *msg) {
        err_set(err, code, "%s", code == -ERR_BAD_JSON ? "Invalid JSON" : "Object is not valid");
        err_set_details(err, json_pack("[{s:s,s:[s]}]", "path", path && *path ? path : "/", "errors", msg));
        return code;
}

static int invalid(struct err *err, const char *path, const char *msg) {
        return fail_at(err, -ERR_INVALID, path, msg);
}

static int bad_type(struct err *err, const char *path, const char *expected) {
        return fail_at(err, -ERR_BAD_JSON, path, expected);
}

/* Puts prefix in front of every detail path of err (an app's errors inside a group body). */
static void prefix_details(struct err *err, const char *prefix) {
        size_t i;
        json_t *d;
        json_array_foreach(err->details, i, d) {
                const char *p = json_string_value(json_object_get(d, "path"));
                _cleanup_free_ char *np = xasprintf("%s%s", prefix, p && !streq(p, "/") ? p : "");
                json_object_set_new(d, "path", json_string(np));
        }
}

static const json_t *find_id(const json_t *arr, const char *id) {
        size_t i;
        json_t *el;
        json_array_foreach(arr, i, el) {
                if (streq(json_string_value(json_object_get(el, "id")) ?: "", id))
                        return el;
        }
        return NULL;
}

/* --- GroupUpdate ---------------------------------------------------------------------------------- */

struct apply_ctx {
        size_t n_apps, n_groups;
        struct err *err;
};

static int apply_node(struct apply_ctx *c, const json_t *cur, const char *path, const json_t *upd, const char *jp,
                      int depth, json_t **ret);

static int apply_apps(struct apply_ctx *c, json_t *node, const char *path, const json_t *apps, const char *jp) {
        _cleanup_free_ char *ap = xasprintf("%s/apps", jp);
        if (!json_is_array(apps))
                return bad_type(c->err, ap, "error.expected.jsarray");
        size_t i;
        json_t *el;
        json_array_foreach(apps, i, el) {
                _cleanup_free_ char *ip = xasprintf("%s/apps(%zu)", jp, i);
                _cleanup_free_ char *idp = xasprintf("%s/id", ip);
                if (++c->n_apps > GROUP_MAX_APPS)
                        return invalid(c->err, ip, "a group body may hold at most 1000 apps");
                if (!json_is_object(el))
                        return bad_type(c->err, ip, "error.expected.jsobject");
                const char *raw = json_string_value(json_object_get(el, "id"));
                if (!raw)
                        return bad_type(c->err, idp, "error.path.missing");
                /* Marathon's message for an app outside its group, before the app's own checks. */
                _cleanup_free_ char *abs = app_id_canonical(raw, path);
                _cleanup_free_ char *up = app_id_parent(abs);
                if (!streq(abs, "/") && !streq(up, path)) {
                        _cleanup_free_ char *msg =
                                xasprintf("identifier %s is not child of %s. Hint: use relative paths.", abs, path);
                        return invalid(c->err, idp, msg);
                }
                json_t *app = NULL;
                int r = app_normalize(el, path, &app, c->err);
                if (r < 0) {
                        prefix_details(c->err, ip);
                        return r;
                }
                const char *id = json_string_value(json_object_get(app, "id"));
                _cleanup_free_ char *parent = app_id_parent(id);
                if (!streq(parent, path)) {
                        _cleanup_free_ char *msg =
                                xasprintf("identifier %s is not child of %s. Hint: use relative paths.", id, path);
                        json_decref(app);
                        return invalid(c->err, idp, msg);
                }
                if (find_id(json_object_get(node, "apps"), id) != NULL) {
                        _cleanup_free_ char *msg = xasprintf("app %s is listed twice", id);
                        json_decref(app);
                        return invalid(c->err, idp, msg);
                }
                json_array_append_new(json_object_get(node, "apps"), app);
        }
        return 0;
}

static int apply_groups(struct apply_ctx *c, json_t *node, const json_t *cur, const char *path, const json_t *groups,
                        const char *jp, int depth) {
        _cleanup_free_ char *gp = xasprintf("%s/groups", jp);
        if (!json_is_array(groups))
                return bad_type(c->err, gp, "error.expected.jsarray");
        size_t i;
        json_t *el;
        json_array_foreach(groups, i, el) {
                _cleanup_free_ char *ip = xasprintf("%s/groups(%zu)", jp, i);
                _cleanup_free_ char *idp = xasprintf("%s/id", ip);
                /* Bounded before any work: sibling checks are quadratic in the group count. */
                if (++c->n_groups > GROUP_MAX_GROUPS)
                        return invalid(c->err, ip, "a group body may hold at most 1000 groups");
                if (!json_is_object(el))
                        return bad_type(c->err, ip, "error.expected.jsobject");
                const char *raw = json_string_value(json_object_get(el, "id"));
                if (!raw)
                        return bad_type(c->err, idp, "error.path.missing");
                if (!*raw || !app_id_chars_valid(raw))
                        return invalid(c->err, idp, app_id_pattern_message);
                _cleanup_free_ char *abs = app_id_canonical(raw, path);
                _cleanup_free_ char *parent = app_id_parent(abs);
                if (streq(abs, "/") || !streq(parent, path)) {
                        _cleanup_free_ char *msg =
                                xasprintf("identifier %s is not child of %s. Hint: use relative paths.", abs, path);
                        return invalid(c->err, idp, msg);
                }
                if (find_id(json_object_get(node, "groups"), abs) != NULL) {
                        _cleanup_free_ char *msg = xasprintf("group %s is listed twice", abs);
                        return invalid(c->err, idp, msg);
                }
                json_t *child = NULL;
                int r = apply_node(c, cur ? find_id(json_object_get(cur, "groups"), abs) : NULL, abs, el, ip,
                                   depth + 1, &child);
                if (r < 0)
                        return r;
                json_array_append_new(json_object_get(node, "groups"), child);
        }
        return 0;
}

static int apply_deps(struct apply_ctx *c, json_t *node, const char *path, const json_t *deps, const char *jp) {
        _cleanup_free_ char *dp = xasprintf("%s/dependencies", jp);
        if (!json_is_array(deps))
                return bad_type(c->err, dp, "error.expected.jsarray");
        if (json_array_size(deps) > GROUP_MAX_DEPENDENCIES)
                return invalid(c->err, dp, "a group may list at most 256 dependencies");
        json_t *out = json_object_get(node, "dependencies");
        json_array_clear(out);
        size_t i;
        json_t *el;
        json_array_foreach(deps, i, el) {
                _cleanup_free_ char *ip = xasprintf("%s(%zu)", dp, i);
                const char *d = json_string_value(el);
                if (!d)
                        return bad_type(c->err, ip, "error.expected.jsstring");
                if (!*d || !app_id_chars_valid(d))
                        return invalid(c->err, ip, app_id_pattern_message);
                /* Marathon: canonicalPath(gid) — relative to the group itself. */
                _cleanup_free_ char *abs = app_id_canonical(d, path);
                size_t j;
                json_t *seen;
                bool dup = false;
                json_array_foreach(out, j, seen) dup = dup || streq(json_string_value(seen), abs);
                if (!dup)
                        json_array_append_new(out, json_string(abs));
        }
        return 0;
}

static int apply_node(struct apply_ctx *c, const json_t *cur, const char *path, const json_t *upd, const char *jp,
                      int depth, json_t **ret) {
        if (!json_is_object(upd))
                return bad_type(c->err, jp, "error.expected.jsobject");
        if (depth > GROUP_MAX_DEPTH)
                return invalid(c->err, jp, "groups may nest at most 32 levels deep");
        _cleanup_(json_decrefp) json_t *node = group_tree_new(path);
        const json_t *v;
        int r;

        if ((v = json_object_get(upd, "apps")) && !json_is_null(v)) {
                if ((r = apply_apps(c, node, path, v, jp)) < 0)
                        return r;
        } else if (cur) {
                json_array_extend(json_object_get(node, "apps"), json_object_get(cur, "apps"));
        }
        if ((v = json_object_get(upd, "groups")) && !json_is_null(v)) {
                if ((r = apply_groups(c, node, cur, path, v, jp, depth)) < 0)
                        return r;
        } else if (cur) {
                json_array_extend(json_object_get(node, "groups"), json_object_get(cur, "groups"));
        }
        if ((v = json_object_get(upd, "dependencies")) && !json_is_null(v)) {
                if ((r = apply_deps(c, node, path, v, jp)) < 0)
                        return r;
        } else if (cur && json_is_array(json_object_get(cur, "dependencies"))) {
                json_array_extend(json_object_get(node, "dependencies"), json_object_get(cur, "dependencies"));
        }
        if ((v = json_object_get(upd, "enforceRole")) && !json_is_null(v)) {
                _cleanup_free_ char *ep = xasprintf("%s/enforceRole", jp);
                _cleanup_free_ char *parent = streq(path, "/") ? NULL : app_id_parent(path);
                if (!json_is_boolean(v))
                        return bad_type(c->err, ep, "error.expected.jsboolean");
                if (json_is_true(v) && (!parent || !streq(parent, "/")))
                        return invalid(c->err, ep, "enforceRole can only be set for top-level groups");
                json_object_set(node, "enforceRole", (json_t *)v);
        } else if (cur && json_is_boolean(json_object_get(cur, "enforceRole"))) {
                json_object_set(node, "enforceRole", json_object_get(cur, "enforceRole"));
        }
        /* "An id cannot be both an app and a group." */
        size_t i;
        json_t *app;
        json_array_foreach(json_object_get(node, "apps"), i, app) {
                const char *id = json_string_value(json_object_get(app, "id"));
                if (id && find_id(json_object_get(node, "groups"), id) != NULL)
                        return invalid(c->err, jp, "Groups and Applications may not have the same identifier.");
        }
        *ret = TAKE_PTR(node);
        return 0;
}

int group_update_apply(const json_t *current, const char *path, const json_t *update, json_t **ret,
                       struct err *err) {
        struct apply_ctx c = { .err = err };
        json_t *tree = NULL;
        int r = apply_node(&c, current, path, update, "", 0, &tree);
        if (r < 0)
                return r;
        *ret = tree;
        return 0;
}

/* --- scaleBy --------------------------------------------------------------------------------------- */

static int scale_node(json_t *node, double f, struct err *err) {
        json_t *apps = json_object_get(node, "apps");
        for (size_t i = 0; i < json_array_size(apps); i++) {
                json_t *app = json_deep_copy(json_array_get(apps, i));
                double n = ceil((double)json_integer_value(json_object_get(app, "instances")) * f);
                if (n > 1e9) {
                        json_decref(app);
                        return invalid(err, "/scaleBy", "scaleBy gives an app more than 1000000000 instances");
                }
                json_object_set_new(app, "instances", json_integer((json_int_t)n));
                json_array_set_new(apps, i, app);
        }
        json_t *groups = json_object_get(node, "groups");
        for (size_t i = 0; i < json_array_size(groups); i++) {
                json_t *g = json_deep_copy(json_array_get(groups, i));
                int r = scale_node(g, f, err);
                json_array_set_new(groups, i, g);
                if (r < 0)
                        return r;
        }
        return 0;
}

int group_scale(const json_t *current, double f, json_t **ret, struct err *err) {
        if (!isfinite(f) || f < 0)
                return invalid(err, "/scaleBy", "scaleBy must be a number >= 0");
        /* Shallow copies on the way down: stored app documents are shared and must not change. */
        _cleanup_(json_decrefp) json_t *tree = json_copy((json_t *)current);
        json_object_set_new(tree, "apps", json_copy(json_object_get(current, "apps")));
        json_object_set_new(tree, "groups", json_copy(json_object_get(current, "groups")));
        int r = scale_node(tree, f, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(tree);
        return 0;
}

/* --- diff and order -------------------------------------------------------------------------------- */

void group_apps_foreach(const json_t *tree, void (*cb)(const json_t *app, void *data), void *data) {
        size_t i;
        json_t *el;
        json_array_foreach(json_object_get(tree, "apps"), i, el) cb(el, data);
        json_array_foreach(json_object_get(tree, "groups"), i, el) group_apps_foreach(el, cb, data);
}

static void collect(const json_t *app, void *data) {
        const char *id = json_string_value(json_object_get(app, "id"));
        if (id)
                json_object_set((json_t *)data, id, (json_t *)app);
}

json_t *group_diff(const json_t *current, const json_t *target) {
        _cleanup_(json_decrefp) json_t *cur = json_object(), *tgt = json_object();
        if (current)
                group_apps_foreach(current, collect, cur);
        if (target)
                group_apps_foreach(target, collect, tgt);
        json_t *out = json_array();
        const char *id;
        json_t *doc;
        /* jansson objects keep insertion order: the trees' order. */
        json_object_foreach(cur, id, doc) {
                if (!json_object_get(tgt, id))
                        json_array_append_new(out, json_pack("{s:s,s:s,s:O}", "app", id, "action",
                                                             deploy_action_to_string(DEPLOY_STOP), "old", doc));
        }
        json_object_foreach(tgt, id, doc) {
                const json_t *old = json_object_get(cur, id);
                json_t *want = json_deep_copy(doc);
                if (old)
                        app_reuse_service_ports(want, old);
                int action = deploy_action_for(old, want);
                if (action < 0) {
                        json_decref(want);
                        continue;
                }
                json_t *ch = json_pack("{s:s,s:s,s:o}", "app", id, "action",
                                       deploy_action_to_string((enum deploy_action)action), "new", want);
                if (old)
                        json_object_set(ch, "old", (json_t *)old);
                json_array_append_new(out, ch);
        }
        return out;
}

/* The dependency graph seen through the target subtree, and through outside beyond it. */
struct merged {
        const char *root;
        json_t *apps;   /* id → target app */
        json_t *groups; /* path → target group node */
        const struct deploy_graph_ops *outside;
};

static bool inside(const struct merged *m, const char *id) {
        return streq(id, m->root) || group_path_under(id, m->root);
}

static const json_t *m_app_get(const char *id, void *data) {
        struct merged *m = data;
        if (inside(m, id))
                return json_object_get(m->apps, id);
        return m->outside && m->outside->app_get ? m->outside->app_get(id, m->outside->data) : NULL;
}

struct outside_filter {
        const struct merged *m;
        int (*cb)(const char *, void *);
        void *cbdata;
};

static int outside_only(const char *app_id, void *data) {
        struct outside_filter *f = data;
        return inside(f->m, app_id) ? 0 : f->cb(app_id, f->cbdata);
}

static int m_group_apps(const char *group, int (*cb)(const char *, void *), void *cbdata, void *data) {
        struct merged *m = data;
        int r;
        if (!inside(m, group) && m->outside && m->outside->group_apps_foreach) {
                struct outside_filter f = { m, cb, cbdata };
                if ((r = m->outside->group_apps_foreach(group, outside_only, &f, m->outside->data)))
                        return r;
        }
        const char *id;
        json_t *doc;
        json_object_foreach(m->apps, id, doc) {
                if (group_path_under(id, group) && (r = cb(id, cbdata)))
                        return r;
        }
        return 0;
}

static const json_t *m_group_get(const char *path, void *data) {
        struct merged *m = data;
        if (inside(m, path))
                return json_object_get(m->groups, path);
        return m->outside && m->outside->group_get ? m->outside->group_get(path, m->outside->data) : NULL;
}

static void index_groups(const json_t *node, json_t *out) {
        json_object_set(out, json_string_value(json_object_get(node, "id")) ?: "", (json_t *)node);
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(node, "groups"), i, g) index_groups(g, out);
}

int group_order(json_t *changes, const json_t *target, const struct deploy_graph_ops *outside, struct err *err) {
        _cleanup_(json_decrefp) json_t *apps = json_object(), *groups = json_object();
        group_apps_foreach(target, collect, apps);
        index_groups(target, groups);
        struct merged m = { .root = json_string_value(json_object_get(target, "id")) ?: "/", .apps = apps,
                            .groups = groups, .outside = outside };
        struct deploy_graph_ops ops = { .app_get = m_app_get, .group_apps_foreach = m_group_apps,
                                        .group_get = m_group_get, .data = &m };
        unsigned max_layer = 0;
        size_t i;
        json_t *ch;
        json_array_foreach(changes, i, ch) {
                unsigned layer = 0;
                if (json_object_get(ch, "new")) {
                        int r = deploy_layer(json_string_value(json_object_get(ch, "app")), &ops, &layer, err);
                        if (r < 0)
                                return r;
                }
                json_object_set_new(ch, "layer", json_integer(layer));
                max_layer = MAX(max_layer, layer);
        }
        /* A cycle may close through a dependency change alone (of a group), with no app
         * changed: every app of the target is checked. */
        const char *id;
        json_t *doc;
        json_object_foreach(apps, id, doc) {
                unsigned layer;
                int r = deploy_layer(id, &ops, &layer, err);
                if (r < 0)
                        return r;
        }
        /* Stable: stops, then layer 0, 1, … in the order they came. */
        _cleanup_(json_decrefp) json_t *sorted = json_array();
        json_array_foreach(changes, i, ch) {
                if (!json_object_get(ch, "new"))
                        json_array_append(sorted, ch);
        }
        for (unsigned l = 0; l <= max_layer; l++) {
                json_array_foreach(changes, i, ch) {
                        if (json_object_get(ch, "new") && (unsigned)json_integer_value(json_object_get(ch, "layer")) == l)
                                json_array_append(sorted, ch);
                }
        }
        json_array_clear(changes);
        json_array_extend(changes, sorted);
        return 0;
}

json_t *group_steps(const json_t *changes) {
        _cleanup_(json_decrefp) json_t *items = json_array();
        size_t i;
        json_t *ch;
        json_array_foreach(changes, i, ch) {
                json_t *it = json_pack("{s:O,s:O,s:I}", "app", json_object_get(ch, "app"), "action",
                                       json_object_get(ch, "action"), "layer",
                                       json_integer_value(json_object_get(ch, "layer")));
                if (json_object_get(ch, "new") && !json_object_get(ch, "old"))
                        json_object_set_new(it, "new", json_true());
                json_array_append_new(items, it);
        }
        return deploy_steps(items);
}

static void records_of(const json_t *node, json_t *out) {
        const char *id = json_string_value(json_object_get(node, "id"));
        if (!id)
                return;
        const json_t *deps = json_object_get(node, "dependencies");
        json_t *rec = json_pack("{s:o}", "dependencies", json_is_array(deps) ? json_deep_copy(deps) : json_array());
        if (json_is_boolean(json_object_get(node, "enforceRole")))
                json_object_set(rec, "enforceRole", json_object_get(node, "enforceRole"));
        json_object_set_new(out, id, rec);
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(node, "groups"), i, g) records_of(g, out);
}

json_t *group_records(const json_t *tree) {
        json_t *out = json_object();
        records_of(tree, out);
        return out;
}
