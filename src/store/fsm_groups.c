/* fsm_groups.c — the group commands of the state machine: group_update, group_delete,
 * group_version (formats in groups.h). Deterministic: times come from the command's "ts". */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"
#include "model/app_id.h"
#include "model/group.h"
#include "store/groups.h"
#include "store/store_fsm.h"

static bool at_or_under(const char *p, const char *root) {
        return streq(p, root) || group_path_under(p, root);
}

static int check_path(const json_t *cmd, const char *what, const char **ret, struct err *err) {
        const char *path = json_string_value(json_object_get(cmd, "path"));
        if (!path || path[0] != '/' || !json_is_string(json_object_get(cmd, "ts")))
                return err_set(err, -EINVAL, "%s: expected an absolute \"path\" and \"ts\"", what);
        _cleanup_free_ char *canon = app_id_canonical(path, "/");
        if (!streq(canon, path) || !app_id_chars_valid(path))
                return err_set(err, -EINVAL, "%s: \"path\" '%s' is not a canonical group path", what, path);
        *ret = path;
        return 0;
}

/* A group may not sit at or under an app's path. */
static int check_not_app(const struct state *s, const char *p, struct err *err) {
        _cleanup_free_ char *cur = xstrdup(p);
        while (!streq(cur, "/")) {
                if (state_app_get(s, cur))
                        return err_set(err, -ERR_CONFLICT, "An app with the path %s already exists.", cur);
                char *up = app_id_parent(cur);
                free(cur);
                cur = up;
        }
        return 0;
}

static int check_record(const char *what, const char *k, const json_t *rec, struct err *err) {
        const json_t *deps = json_object_get(rec, "dependencies");
        const json_t *er = json_object_get(rec, "enforceRole");
        if (!json_is_object(rec) || (deps && !json_is_array(deps)) || (er && !json_is_boolean(er)) ||
            json_array_size(deps) > GROUP_MAX_DEPENDENCIES)
                return err_set(err, -EINVAL, "%s: group '%s': malformed record", what, k);
        size_t i;
        json_t *d;
        json_array_foreach(deps, i, d) {
                const char *dep = json_string_value(d);
                if (!dep || dep[0] != '/')
                        return err_set(err, -EINVAL, "%s: group '%s': dependencies must be absolute paths", what, k);
        }
        return 0;
}

static void drop_under(struct group_records *g, const char *path, bool keep_path) {
        _cleanup_(json_decrefp) json_t *gone = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(g->records, k, v) {
                if (group_path_under(k, path) || (!keep_path && streq(k, path)))
                        json_array_append_new(gone, json_string(k));
        }
        size_t i;
        json_array_foreach(gone, i, v) json_object_del(g->records, json_string_value(v));
}

static json_t *stamped(const json_t *rec, const json_t *ts) {
        json_t *out = json_pack("{s:o,s:O}", "dependencies",
                                json_is_array(json_object_get(rec, "dependencies"))
                                        ? json_deep_copy(json_object_get(rec, "dependencies"))
                                        : json_array(),
                                "version", ts);
        if (json_is_boolean(json_object_get(rec, "enforceRole")))
                json_object_set(out, "enforceRole", json_object_get(rec, "enforceRole"));
        return out;
}

/* {"type":"group_update","v":1,"path":"/x","groups":{path: record},"ts"} → no result. */
int fsm_group_update(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *path;
        int r = check_path(cmd, "group_update", &path, err);
        if (r < 0)
                return r;
        const json_t *groups = json_object_get(cmd, "groups");
        const json_t *ts = json_object_get(cmd, "ts");
        if (!json_is_object(groups) || json_object_size(groups) > GROUP_MAX_RECORDS)
                return err_set(err, -EINVAL, "group_update: \"groups\" must be an object of at most %d records",
                               GROUP_MAX_RECORDS);
        struct group_records *g = state_group_records(s);
        const char *k;
        json_t *rec;
        size_t kept = 0;
        json_object_foreach(g->records, k, rec) kept += !at_or_under(k, path);
        if (kept + json_object_size(groups) + 64 > GROUP_MAX_RECORDS)
                return err_set(err, -ERR_TOO_LARGE, "group_update: more than %d groups", GROUP_MAX_RECORDS);
        json_object_foreach((json_t *)groups, k, rec) {
                if (!at_or_under(k, path))
                        return err_set(err, -EINVAL, "group_update: group '%s' is not under '%s'", k, path);
                if ((r = check_record("group_update", k, rec, err)) < 0)
                        return r;
                if (!streq(k, "/") && (r = check_not_app(s, k, err)) < 0)
                        return r;
        }
        if (!streq(path, "/") && (r = check_not_app(s, path, err)) < 0)
                return r;

        drop_under(g, path, false);
        json_object_foreach((json_t *)groups, k, rec) json_object_set_new(g->records, k, stamped(rec, ts));
        /* The group itself and every group above it exist from now on. */
        _cleanup_free_ char *cur = xstrdup(path);
        while (!streq(cur, "/")) {
                if (!json_object_get(g->records, cur)) {
                        _cleanup_(json_decrefp) json_t *empty = json_object();
                        json_object_set_new(g->records, cur, stamped(empty, ts));
                }
                char *up = app_id_parent(cur);
                free(cur);
                cur = up;
        }
        return 0;
}

/* {"type":"group_delete","v":1,"path":"/x","ts"} → no result. The apps under the group are
 * deleted by their own app_delete commands in the same entry. */
int fsm_group_delete(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *path;
        int r = check_path(cmd, "group_delete", &path, err);
        if (r < 0)
                return r;
        drop_under(state_group_records(s), path, false);
        return 0;
}

struct version_walk {
        const char *path;
        json_t *apps;
};

static int note_app(const json_t *app, void *data) {
        struct version_walk *w = data;
        const char *id = json_string_value(json_object_get(app, "id"));
        if (id && group_path_under(id, w->path))
                json_object_set(w->apps, id, json_object_get(app, "version"));
        return 0;
}

/* {"type":"group_version","v":1,"path":"/x","ts"} → no result: the subtree at path as it is now
 * becomes root version ts in the history. */
int fsm_group_version(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *path;
        int r = check_path(cmd, "group_version", &path, err);
        if (r < 0)
                return r;
        struct group_records *g = state_group_records(s);
        json_t *groups = json_object();
        const char *k;
        json_t *rec;
        json_object_foreach(g->records, k, rec) {
                if (at_or_under(k, path))
                        json_object_set(groups, k, rec);
        }
        struct version_walk w = { .path = path, .apps = json_object() };
        state_apps_foreach(s, note_app, &w);
        json_array_append_new(g->history, json_pack("{s:O,s:s,s:o,s:o}", "version", json_object_get(cmd, "ts"),
                                                    "path", path, "groups", groups, "apps", w.apps));
        while (json_array_size(g->history) > GROUP_MAX_VERSIONS)
                json_array_remove(g->history, 0);
        return 0;
}
