/* fsm_apps.c — the app commands of the state machine: create, update, rollback, delete.
 *
 * Versions are the leader's clock from the command's "ts", made strictly increasing per app: a
 * ts not later than the app's current version becomes current version + 1 ms. Every new version
 * is appended to the app's history (at most APP_MAX_VERSIONS, oldest dropped). */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "model/app.h"
#include "store/cluster_internal.h"
#include "store/state_internal.h"
#include "store/store_fsm.h"

/* The version the next document of app id gets (ISO ms Z, into buf). */
static int next_version(const struct state *s, const char *id, const json_t *cmd, char buf[static 25],
                        struct err *err) {
        const char *ts = json_string_value(json_object_get(cmd, "ts"));
        int64_t ms;
        if (!ts || time_parse_iso(ts, &ms) < 0)
                return err_set(err, -EINVAL, "command has no valid \"ts\"");
        int64_t cur = state_app_version_ms(s, id);
        if (cur >= 0 && ms <= cur)
                ms = cur + 1;
        time_format_ms(ms, buf);
        return 0;
}

/* Sets "version" and "versionInfo" on a document about to become the app's newest version:
 * a scale (only "instances" changed) keeps the last configuration change of the current one. */
static void stamp(json_t *doc, const json_t *current, const char *version) {
        const char *config = version;
        if (current && app_is_scale_only(current, doc)) {
                const json_t *info = json_object_get(current, "versionInfo");
                config = json_string_value(json_object_get(info, "lastConfigChangeAt"))
                                 ?: json_string_value(json_object_get(current, "version")) ?: version;
        }
        json_object_set_new(doc, "version", json_string(version));
        json_object_set_new(doc, "versionInfo",
                            json_pack("{s:s,s:s}", "lastScalingAt", version, "lastConfigChangeAt", config));
}

/* Ports a document already names, plus the ones handed out while assigning its zeros: a port
 * must not be given twice within one app either. */
struct port_scratch {
        const struct state *s;
        int *ports;
        size_t n, cap;
};

static void scratch_add(int port, void *data) {
        struct port_scratch *p = data;
        if (p->n == p->cap) {
                p->cap = p->cap ? 2 * p->cap : 16;
                p->ports = xrealloc(p->ports, p->cap * sizeof *p->ports);
        }
        p->ports[p->n++] = port;
}

static bool port_taken(int port, void *data) {
        struct port_scratch *p = data;
        if (state_port_taken(p->s, port))
                return true;
        for (size_t i = 0; i < p->n; i++)
                if (p->ports[i] == port)
                        return true;
        /* The caller takes a port it was told is free. */
        scratch_add(port, p);
        return false;
}

/* Replaces every service port 0 of doc by a port no app holds. */
static int assign_ports(const struct state *s, json_t *doc, struct err *err) {
        struct port_scratch p = {.s = s};
        app_service_ports_foreach(doc, scratch_add, &p);
        int r = app_assign_service_ports(doc, STATE_SERVICE_PORT_MIN, STATE_SERVICE_PORT_MAX, port_taken, &p,
                                         err);
        free(p.ports);
        return r;
}

/* Stores doc (ownership taken) as the newest version and, if wanted, returns a copy for the
 * client: stored documents are shared with readers and must stay unchanged. */
static json_t *commit(struct state *s, json_t *doc, bool want_copy) {
        json_t *copy = want_copy ? json_deep_copy(doc) : NULL;
        cluster_note_app(state_cluster(s), json_string_value(json_object_get(doc, "id")));
        state_app_push(s, doc);
        return copy;
}

/* A new app may neither be a group of existing apps ("/a" while "/a/b" exists) nor live inside
 * an existing app ("/a/b/c" while "/a/b" exists). */
static int check_path_free(const struct state *s, const char *id, struct err *err) {
        if (state_group_exists(s, id))
                return err_set(err, -ERR_CONFLICT, "A group with id %s already exists.", id);
        for (const char *p = strchr(id + 1, '/'); p; p = strchr(p + 1, '/')) {
                _cleanup_free_ char *parent = xstrndup(id, (size_t)(p - id));
                if (state_app_get(s, parent))
                        return err_set(err, -ERR_CONFLICT, "An app with the path %s already exists.", parent);
        }
        return 0;
}

/* {"type":"app_create","v":1,"app":{canonical app},"ts":"…"} → the stored app. */
int fsm_app_create(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const json_t *app = json_object_get(cmd, "app");
        const char *id = json_string_value(json_object_get(app, "id"));
        char version[25];
        int r;

        if (!json_is_object(app) || !id || id[0] != '/')
                return err_set(err, -EINVAL,
                               "app_create: \"app\" must be a canonical app with an absolute id");
        if (state_app_get(s, id))
                return err_set(err, -ERR_CONFLICT, "An app with id [%s] already exists.", id);
        if ((r = check_path_free(s, id, err)) < 0)
                return r;
        r = next_version(s, id, cmd, version, err);
        if (r < 0)
                return r;

        _cleanup_(json_decrefp) json_t *doc = json_deep_copy(app);
        json_object_del(doc, "version");
        json_object_del(doc, "versionInfo");
        r = assign_ports(s, doc, err);
        if (r < 0)
                return r;
        stamp(doc, NULL, version);
        json_t *copy = commit(s, TAKE_PTR(doc), ret_result);
        if (ret_result)
                *ret_result = copy;
        return 0;
}

/* Builds the full document a PUT without partialUpdate (or a create-on-PUT) asks for. */
static int normalize_full(const json_t *update, const char *id, json_t **ret, struct err *err) {
        _cleanup_(json_decrefp) json_t *full = json_deep_copy(update);
        json_object_set_new(full, "id", json_string(id));
        return app_normalize(full, "/", ret, err);
}

/* {"type":"app_update","v":1,"id":"/x","update":{…},"partial":bool,"create":bool,"ts":"…"}
 *   → {"app": stored app, "created": bool}. */
int fsm_app_update(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *id = json_string_value(json_object_get(cmd, "id"));
        const json_t *update = json_object_get(cmd, "update");
        bool partial = json_is_true(json_object_get(cmd, "partial"));
        bool create = json_is_true(json_object_get(cmd, "create"));
        _cleanup_(json_decrefp) json_t *doc = NULL;
        char version[25];
        int r;

        if (!id || id[0] != '/' || !json_is_object(update))
                return err_set(err, -EINVAL, "app_update: expected \"id\" and an \"update\" object");
        const json_t *current = state_app_get(s, id);
        if (!current && !create)
                return err_set(err, -ERR_NOT_FOUND, "App '%s' does not exist", id);
        if (!current && (r = check_path_free(s, id, err)) < 0)
                return r;

        if (current && partial)
                r = app_apply_update(current, update, &doc, err);
        else
                r = normalize_full(update, id, &doc, err);
        if (r < 0)
                return r;
        const char *got = json_string_value(json_object_get(doc, "id"));
        if (!got || !streq(got, id))
                return err_set(err, -ERR_INVALID, "app_update: the update changes the id of '%s'", id);
        r = next_version(s, id, cmd, version, err);
        if (r < 0)
                return r;
        if (current && !partial)
                app_reuse_service_ports(doc, current); /* a full replace keeps its service ports */
        r = assign_ports(s, doc, err);
        if (r < 0)
                return r;
        stamp(doc, current, version);

        bool created = !current;
        json_t *copy = commit(s, TAKE_PTR(doc), ret_result);
        if (ret_result)
                *ret_result = json_pack("{s:o,s:b}", "app", copy, "created", created);
        return 0;
}

/* {"type":"app_rollback","v":1,"id":"/x","to":"<version>","ts":"…"} → {"app": stored app}.
 * The old definition becomes a new version; its history entry stays as it was. */
int fsm_app_rollback(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *id = json_string_value(json_object_get(cmd, "id"));
        const char *to = json_string_value(json_object_get(cmd, "to"));
        char version[25];
        int r;

        if (!id || !to)
                return err_set(err, -EINVAL, "app_rollback: expected \"id\" and \"to\"");
        const json_t *current = state_app_get(s, id);
        if (!current)
                return err_set(err, -ERR_NOT_FOUND, "App '%s' does not exist", id);
        const json_t *old = state_app_at_version(s, id, to);
        if (!old)
                return err_set(err, -ERR_NOT_FOUND, "App '%s' does not exist in version %s", id, to);
        r = next_version(s, id, cmd, version, err);
        if (r < 0)
                return r;

        _cleanup_(json_decrefp) json_t *doc = json_deep_copy(old);
        json_object_del(doc, "version");
        json_object_del(doc, "versionInfo");
        r = assign_ports(s, doc, err);
        if (r < 0)
                return r;
        stamp(doc, current, version);
        json_t *copy = commit(s, TAKE_PTR(doc), ret_result);
        if (ret_result)
                *ret_result = json_pack("{s:o}", "app", copy);
        return 0;
}

/* {"type":"app_delete","v":1,"id":"/x"} → no result; the history and service ports go too. */
int fsm_app_delete(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *id = json_string_value(json_object_get(cmd, "id"));
        if (!id)
                return err_set(err, -EINVAL, "app_delete: expected \"id\"");
        if (!state_app_remove(s, id))
                return err_set(err, -ERR_NOT_FOUND, "App '%s' does not exist", id);
        /* Its instances stay: the master kills them, then expunges them
         * (state_orphan_apps_foreach finds them). */
        cluster_app_deleted(state_cluster(s), id);
        cluster_note_app(state_cluster(s), id);
        return 0;
}
