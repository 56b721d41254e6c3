/* groups.c — group records and root-version history in the state: reads (trees, versions) and
 * the snapshot part. The commands are in fsm_groups.c. */
#include "store/groups.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "model/app_id.h"
#include "model/group.h"

void group_records_init(struct group_records *g) {
        g->records = json_object();
        g->history = json_array();
}

void group_records_release(struct group_records *g) {
        json_decref(g->records);
        json_decref(g->history);
        g->records = g->history = NULL;
}

const json_t *state_group_get(const struct state *s, const char *path) {
        return path ? json_object_get(state_group_records_const(s)->records, path) : NULL;
}

bool state_group_known(const struct state *s, const char *path) {
        return streq(path, "/") || state_group_exists(s, path);
}

/* --- building trees -------------------------------------------------------------------------- */

struct builder {
        const char *root;
        json_t *nodes; /* path → node */
};

static json_t *node_at(struct builder *b, const char *p) {
        json_t *node = json_object_get(b->nodes, p);
        if (node)
                return node;
        if (!group_path_under(p, b->root)) /* cannot happen: callers add only paths under root */
                return json_object_get(b->nodes, b->root);
        node = group_tree_new(p);
        json_object_set_new(b->nodes, p, node);
        _cleanup_free_ char *parent = app_id_parent(p);
        json_array_append(json_object_get(node_at(b, parent), "groups"), node);
        return node;
}

static void add_record(struct builder *b, const char *p, const json_t *rec) {
        json_t *node = node_at(b, p);
        json_t *deps = json_object_get(rec, "dependencies");
        json_object_set_new(node, "dependencies", json_is_array(deps) ? json_deep_copy(deps) : json_array());
        if (json_is_boolean(json_object_get(rec, "enforceRole")))
                json_object_set(node, "enforceRole", json_object_get(rec, "enforceRole"));
        if (json_is_string(json_object_get(rec, "version")))
                json_object_set(node, "version", json_object_get(rec, "version"));
}

static void add_app(struct builder *b, const json_t *app) {
        const char *id = json_string_value(json_object_get(app, "id"));
        _cleanup_free_ char *parent = app_id_parent(id);
        json_array_append(json_object_get(node_at(b, parent), "apps"), (json_t *)app);
}

static void builder_init(struct builder *b, const char *root) {
        b->root = root;
        b->nodes = json_object();
        json_object_set_new(b->nodes, root, group_tree_new(root));
}

/* A group's version: the newest of its record's, its apps' and its subgroups' (ISO ms Z
 * timestamps compare as strings). */
static const char *settle_versions(json_t *node) {
        const char *best = json_string_value(json_object_get(node, "version"));
        size_t i;
        json_t *el;
        json_array_foreach(json_object_get(node, "apps"), i, el) {
                const char *v = json_string_value(json_object_get(el, "version"));
                if (v && (!best || strcmp(v, best) > 0))
                        best = v;
        }
        json_array_foreach(json_object_get(node, "groups"), i, el) {
                const char *v = settle_versions(el);
                if (v && (!best || strcmp(v, best) > 0))
                        best = v;
        }
        if (best && best != json_string_value(json_object_get(node, "version")))
                json_object_set_new(node, "version", json_string(best));
        return json_string_value(json_object_get(node, "version"));
}

static json_t *builder_finish(struct builder *b, const char *fallback_version) {
        json_t *root = json_incref(json_object_get(b->nodes, b->root));
        json_decref(b->nodes);
        settle_versions(root);
        if (!json_object_get(root, "version") && fallback_version)
                json_object_set_new(root, "version", json_string(fallback_version));
        return root;
}

static bool at_or_under(const char *p, const char *root) {
        return streq(p, root) || group_path_under(p, root);
}

struct app_walk {
        struct builder *b;
};

static int tree_app(const json_t *app, void *data) {
        struct app_walk *w = data;
        const char *id = json_string_value(json_object_get(app, "id"));
        if (id && group_path_under(id, w->b->root))
                add_app(w->b, app);
        return 0;
}

static const char *latest_root_version(const struct state *s) {
        const json_t *h = state_group_records_const(s)->history;
        size_t n = json_array_size(h);
        return n ? json_string_value(json_object_get(json_array_get(h, n - 1), "version")) : NULL;
}

json_t *state_group_tree(const struct state *s, const char *path) {
        if (!state_group_known(s, path))
                return NULL;
        struct builder b;
        builder_init(&b, path);
        const char *k;
        json_t *rec;
        json_object_foreach(state_group_records_const(s)->records, k, rec) {
                if (at_or_under(k, path))
                        add_record(&b, k, rec);
        }
        struct app_walk w = { &b };
        state_apps_foreach(s, tree_app, &w);
        return builder_finish(&b, latest_root_version(s));
}

/* --- history --------------------------------------------------------------------------------- */

/* True if the history entry covers path (its change wrote path's whole subtree) and path
 * existed after it. */
static bool entry_holds(const json_t *entry, const char *path) {
        const char *ep = json_string_value(json_object_get(entry, "path"));
        if (!ep || !at_or_under(path, ep))
                return false;
        if (streq(path, "/") || json_object_get(json_object_get(entry, "groups"), path))
                return true;
        const char *id;
        json_t *v;
        json_object_foreach(json_object_get(entry, "apps"), id, v) {
                if (group_path_under(id, path))
                        return true;
        }
        return false;
}

json_t *state_group_versions(const struct state *s, const char *path) {
        const json_t *h = state_group_records_const(s)->history;
        json_t *out = json_array();
        for (size_t i = json_array_size(h); i > 0; i--) {
                const json_t *e = json_array_get(h, i - 1);
                if (entry_holds(e, path))
                        json_array_append(out, json_object_get(e, "version"));
        }
        return out;
}

int state_group_tree_at(const struct state *s, const char *path, const char *ts, json_t **ret, struct err *err) {
        const json_t *h = state_group_records_const(s)->history;
        int64_t want, ms;
        if (!ts || time_parse_iso(ts, &want) < 0)
                return err_set(err, -ERR_NOT_FOUND, "Group %s not available in version %s", path, ts ?: "");
        const json_t *entry = NULL;
        for (size_t i = json_array_size(h); i > 0 && !entry; i--) {
                const json_t *e = json_array_get(h, i - 1);
                const char *v = json_string_value(json_object_get(e, "version"));
                if (v && time_parse_iso(v, &ms) == 0 && ms == want && entry_holds(e, path))
                        entry = e;
        }
        if (!entry)
                return err_set(err, -ERR_NOT_FOUND, "Group %s not available in version %s", path, ts);
        struct builder b;
        builder_init(&b, path);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(entry, "groups"), k, v) {
                if (at_or_under(k, path))
                        add_record(&b, k, v);
        }
        json_object_foreach(json_object_get(entry, "apps"), k, v) {
                if (!group_path_under(k, path))
                        continue;
                const json_t *doc = state_app_at_version(s, k, json_string_value(v));
                if (!doc) {
                        json_decref(builder_finish(&b, NULL));
                        return err_set(err, -ERR_NOT_FOUND,
                                       "Group %s not available in version %s: app %s of that version is no longer stored",
                                       path, ts, k);
                }
                add_app(&b, doc);
        }
        json_t *tree = builder_finish(&b, NULL);
        json_object_set(tree, "version", json_object_get(entry, "version"));
        *ret = tree;
        return 0;
}

/* --- snapshot -------------------------------------------------------------------------------- */

json_t *group_records_to_json(const struct group_records *g) {
        return json_pack("{s:O,s:O}", "records", g->records, "history", g->history);
}

int group_records_from_json(struct group_records *g, const json_t *doc, struct err *err) {
        if (!doc) {
                json_object_clear(g->records);
                json_array_clear(g->history);
                return 0;
        }
        json_t *records = json_object_get(doc, "records"), *history = json_object_get(doc, "history");
        if (!json_is_object(doc) || !json_is_object(records) || !json_is_array(history))
                return err_set(err, -EINVAL, "state: \"groups\" must be {\"records\": {…}, \"history\": […]}");
        const char *k;
        json_t *v;
        json_object_foreach(records, k, v) {
                if (k[0] != '/' || !json_is_object(v))
                        return err_set(err, -EINVAL, "state: group record '%s' malformed", k);
        }
        size_t i;
        json_array_foreach(history, i, v) {
                if (!json_is_string(json_object_get(v, "version")) || !json_is_string(json_object_get(v, "path")) ||
                    !json_is_object(json_object_get(v, "groups")) || !json_is_object(json_object_get(v, "apps")))
                        return err_set(err, -EINVAL, "state: group history[%zu] malformed", i);
        }
        json_decref(g->records);
        json_decref(g->history);
        g->records = json_deep_copy(records);
        g->history = json_deep_copy(history);
        return 0;
}
