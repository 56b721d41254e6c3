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
#include "model/deployment.h"
#include "store/cluster_internal.h"
#include "store/deployments.h"
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
 * a scale (only "instances" changed) or no change at all keeps the last configuration change of
 * the current one; restart forces a configuration change (POST /v2/apps/{id}/restart). */
static void stamp(json_t *doc, const json_t *current, const char *version, bool restart) {
        const char *config = version;
        if (current && !restart && (app_is_scale_only(current, doc) || app_is_unchanged(current, doc))) {
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
        if ((r = deployments_check(s, cmd, id, doc, err)) < 0)
                return r;
        stamp(doc, NULL, version, false);
        json_t *copy = commit(s, TAKE_PTR(doc), ret_result);
        deployments_note(s, cmd, id, NULL, state_app_get(s, id));
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
        if ((r = deployments_check(s, cmd, id, doc, err)) < 0)
                return r;
        stamp(doc, current, version, false);

        bool created = !current;
        _cleanup_(json_decrefp) json_t *old = json_incref((json_t *)current);
        json_t *copy = commit(s, TAKE_PTR(doc), ret_result);
        deployments_note(s, cmd, id, old, state_app_get(s, id));
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
        if ((r = deployments_check(s, cmd, id, doc, err)) < 0)
                return r;
        stamp(doc, current, version, false);
        _cleanup_(json_decrefp) json_t *prev = json_incref((json_t *)current);
        json_t *copy = commit(s, TAKE_PTR(doc), ret_result);
        deployments_note(s, cmd, id, prev, state_app_get(s, id));
        if (ret_result)
                *ret_result = json_pack("{s:o}", "app", copy);
        return 0;
}

/* {"type":"app_restart","v":1,"id":"/x","ts":"…","deploymentId"?,"force"?} → {"app": stored app}.
 * The same definition as a new configuration version: every instance is replaced by a rolling
 * restart (POST /v2/apps/{id}/restart). */
int fsm_app_restart(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *id = json_string_value(json_object_get(cmd, "id"));
        char version[25];
        int r;
        if (!id)
                return err_set(err, -EINVAL, "app_restart: expected \"id\"");
        const json_t *current = state_app_get(s, id);
        if (!current)
                return err_set(err, -ERR_NOT_FOUND, "App '%s' does not exist", id);
        if ((r = deployments_check(s, cmd, id, current, err)) < 0)
                return r;
        if ((r = next_version(s, id, cmd, version, err)) < 0)
                return r;
        _cleanup_(json_decrefp) json_t *doc = json_deep_copy(current);
        stamp(doc, current, version, true);
        _cleanup_(json_decrefp) json_t *prev = json_incref((json_t *)current);
        json_t *copy = commit(s, TAKE_PTR(doc), ret_result);
        deployments_note(s, cmd, id, prev, state_app_get(s, id));
        if (ret_result)
                *ret_result = json_pack("{s:o}", "app", copy);
        return 0;
}

/* {"type":"app_delete","v":1,"id":"/x"} → no result; the history and service ports go too. */
int fsm_app_delete(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *id = json_string_value(json_object_get(cmd, "id"));
        if (!id)
                return err_set(err, -EINVAL, "app_delete: expected \"id\"");
        const json_t *current = state_app_get(s, id);
        if (!current)
                return err_set(err, -ERR_NOT_FOUND, "App '%s' does not exist", id);
        int r = deployments_check(s, cmd, id, NULL, err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *prev = json_incref((json_t *)current);
        state_app_remove(s, id);
        deployments_note(s, cmd, id, prev, NULL);
        /* Its instances stay: the master kills them, then expunges them
         * (state_orphan_apps_foreach finds them). */
        cluster_app_deleted(state_cluster(s), id);
        cluster_note_app(state_cluster(s), id);
        return 0;
}

/* {"type":"deployment_rollback","v":1,"id":"<deployment>","newId":"<uuid>","ts":"…"}
 *   → {"deploymentId": newId, "version": ts}.
 * Every app the deployment touched goes back to its definition from before it (a created app is
 * deleted, a deleted one comes back), as the new deployment newId; the old one is canceled. */
int fsm_deployment_rollback(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const char *id = json_string_value(json_object_get(cmd, "id"));
        const char *new_id = json_string_value(json_object_get(cmd, "newId"));
        if (!id || !new_id || !json_is_string(json_object_get(cmd, "ts")))
                return err_set(err, -EINVAL, "deployment_rollback: expected \"id\", \"newId\" and \"ts\"");
        const json_t *rec = state_deployment_get(s, id);
        if (!rec)
                return err_set(err, -ERR_NOT_FOUND, "DeploymentPlan %s does not exist", id);
        _cleanup_(json_decrefp) json_t *originals = json_incref(json_object_get(rec, "originals"));
        /* Every change below is forced over the old deployment, which the first one cancels. */
        _cleanup_(json_decrefp) json_t *sub = json_pack("{s:s,s:s,s:O,s:b}", "type", "deployment_rollback",
                                                        "deploymentId", new_id, "ts", json_object_get(cmd, "ts"),
                                                        "force", true);
        const char *app_id;
        json_t *orig;
        int r;
        /* Check everything first: a rollback is applied wholly or not at all. */
        json_object_foreach(originals, app_id, orig) {
                const json_t *current = state_app_get(s, app_id);
                if (json_is_null(orig))
                        continue;
                if (!current && (r = check_path_free(s, app_id, err)) < 0)
                        return r;
        }
        json_object_foreach(originals, app_id, orig) {
                const json_t *current = state_app_get(s, app_id);
                _cleanup_(json_decrefp) json_t *prev = json_incref((json_t *)current);
                if (json_is_null(orig)) {
                        if (!current)
                                continue;
                        state_app_remove(s, app_id);
                        cluster_app_deleted(state_cluster(s), app_id);
                        cluster_note_app(state_cluster(s), app_id);
                        deployments_note(s, sub, app_id, prev, NULL);
                        continue;
                }
                char version[25];
                if ((r = next_version(s, app_id, cmd, version, err)) < 0)
                        return r; /* cannot happen: "ts" was checked */
                _cleanup_(json_decrefp) json_t *doc = json_deep_copy(orig);
                json_object_del(doc, "version");
                json_object_del(doc, "versionInfo");
                if (current)
                        app_reuse_service_ports(doc, current);
                /* Named ports are kept as they are; only zeros are assigned (never fails then, since the
                 * definition was valid once). */
                if ((r = assign_ports(s, doc, err)) < 0)
                        return r;
                stamp(doc, current, version, false);
                /* The original configuration comes back as it was: instances that still run it are
                 * current again, not restarted. */
                const char *orig_config =
                        json_string_value(json_object_get(json_object_get(orig, "versionInfo"), "lastConfigChangeAt"));
                if (orig_config)
                        json_object_set_new(json_object_get(doc, "versionInfo"), "lastConfigChangeAt",
                                            json_string(orig_config));
                json_decref(commit(s, TAKE_PTR(doc), false));
                deployments_note(s, sub, app_id, prev, state_app_get(s, app_id));
        }
        /* Nothing changed back (every app already as it was): the old plan still goes. */
        if (state_deployment_get(s, id)) {
                _cleanup_(json_decrefp) json_t *fin = json_pack("{s:s,s:s}", "id", id, "result", "canceled");
                fsm_deployment_finish(s, fin, NULL, err);
        }
        if (ret_result)
                *ret_result = json_pack("{s:s,s:O}", "deploymentId", new_id, "version", json_object_get(cmd, "ts"));
        return 0;
}
