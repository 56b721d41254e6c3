/* api_groups.c — Marathon's /v2/groups resource (api.md §3): GroupInfo with embeds, create,
 * update (replace, scaleBy, rollback by version, dryRun), delete, version history.
 *
 * A group change becomes the app commands it implies, all carrying one fresh deploymentId (so
 * they join one deployment whose plan orders them by dependencies), framed by the group
 * commands of store/groups.h:
 *   app_delete… (removed apps), group_update|group_delete, app_update… (new and changed apps,
 *   dependencies first), group_version.
 * Everything is checked against the current state before anything is submitted, and all the
 * commands are submitted in one loop turn, so they travel in one Raft entry. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/master_internal.h"
#include "model/app.h"
#include "model/app_id.h"
#include "model/group.h"
#include "store/deployments.h"
#include "store/groups.h"

/* --- reads ----------------------------------------------------------------------------------- */

enum { GEMBED_GROUPS = 1 << 0, GEMBED_APPS = 1 << 1, GEMBED_PODS = 1 << 2 };

struct gembed {
        unsigned bits;
        bool any;
};

static void gembed_one(const char *value, void *data) {
        struct gembed *g = data;
        g->any = true;
        if (streq(value, "group.groups"))
                g->bits |= GEMBED_GROUPS;
        else if (streq(value, "group.apps"))
                g->bits |= GEMBED_APPS;
        else if (streq(value, "group.pods"))
                g->bits |= GEMBED_PODS;
}

/* "If no embed given, groups+apps+pods are embedded." An app embed alone implies the apps. */
static unsigned parse_gembed(struct api_call *call, unsigned app_embed) {
        struct gembed g = { 0 };
        http_request_args_foreach(call->req, "embed", gembed_one, &g);
        if (!g.any)
                return GEMBED_GROUPS | GEMBED_APPS | GEMBED_PODS;
        if (app_embed)
                g.bits |= GEMBED_APPS;
        return g.bits;
}

/* GroupInfo of a tree, with the embeds asked for. */
static json_t *group_info(const struct state *st, const json_t *tree, unsigned gbits, unsigned abits) {
        json_t *out = json_pack("{s:O,s:O}", "id", json_object_get(tree, "id"), "dependencies",
                                json_object_get(tree, "dependencies"));
        if (json_object_get(tree, "version"))
                json_object_set(out, "version", json_object_get(tree, "version"));
        if (json_object_get(tree, "enforceRole"))
                json_object_set(out, "enforceRole", json_object_get(tree, "enforceRole"));
        size_t i;
        json_t *el;
        if (gbits & GEMBED_APPS) {
                json_t *apps = json_array();
                json_array_foreach(json_object_get(tree, "apps"), i, el)
                        json_array_append_new(apps, api_app_info_embedded(st, el, abits));
                json_object_set_new(out, "apps", apps);
        }
        if (gbits & GEMBED_GROUPS) {
                json_t *groups = json_array();
                json_array_foreach(json_object_get(tree, "groups"), i, el)
                        json_array_append_new(groups, group_info(st, el, gbits, abits));
                json_object_set_new(out, "groups", groups);
        }
        if (gbits & GEMBED_PODS)
                json_object_set_new(out, "pods", json_array());
        return out;
}

/* The group path a route names ("/" for the bare collection), canonical; NULL if invalid. */
static char *route_path(struct api_call *call) {
        const char *id = call->id ? call->id : "/";
        if (!app_id_chars_valid(id))
                return NULL;
        return app_id_canonical(id, "/");
}

/* "/v2/groups/versions/<ts>" routes as group "/versions/<ts>": a root version when ts is one. */
static bool root_version_alias(const char *path, const char **ret_ts) {
        const char *p = "/versions/";
        int64_t ms;
        if (strncmp(path, p, strlen(p)) != 0 || strchr(path + strlen(p), '/'))
                return false;
        if (time_parse_iso(path + strlen(p), &ms) < 0)
                return false;
        *ret_ts = path + strlen(p);
        return true;
}

static void reply_version(struct api_call *call, const char *path, const char *ts);

/* The group tree at path (a new reference), or NULL after answering 404 (path NULL: the route's
 * id was not a group path). */
static json_t *group_tree_or_404(struct api_call *call, struct state *st, const char *path) {
        json_t *tree = path ? state_group_tree(st, path) : NULL;
        if (!tree)
                api_reply_error(call, 404, "Group '%s' does not exist", path ? path : call->id);
        return tree;
}

void api_groups_get(struct api_call *call) {
        struct state *st = store_state(call->m->store);
        _cleanup_free_ char *path = route_path(call);
        const char *ts;
        if (path && root_version_alias(path, &ts) && !state_group_known(st, path)) {
                reply_version(call, "/", ts);
                return;
        }
        _cleanup_(json_decrefp) json_t *tree = group_tree_or_404(call, st, path);
        if (!tree)
                return;
        unsigned abits = api_apps_embed(call);
        api_reply_json(call, 200, group_info(st, tree, parse_gembed(call, abits), abits));
}

void api_group_apps(struct api_call *call) {
        struct state *st = store_state(call->m->store);
        _cleanup_free_ char *path = route_path(call);
        _cleanup_(json_decrefp) json_t *tree = group_tree_or_404(call, st, path);
        if (!tree)
                return;
        unsigned abits = api_apps_embed(call);
        json_t *apps = json_array();
        size_t i;
        json_t *el;
        json_array_foreach(json_object_get(tree, "apps"), i, el)
                json_array_append_new(apps, api_app_info_embedded(st, el, abits));
        api_reply_json(call, 200, json_pack("{s:o}", "apps", apps));
}

static void reply_version(struct api_call *call, const char *path, const char *ts) {
        struct state *st = store_state(call->m->store);
        int64_t ms;
        char norm[25];
        if (time_parse_iso(ts, &ms) < 0) {
                api_reply_error(call, 400, "Invalid version '%s': expected an ISO-8601 timestamp", ts);
                return;
        }
        time_format_ms(ms, norm);
        json_t *tree = NULL;
        struct err e = { 0 };
        if (state_group_tree_at(st, path, norm, &tree, &e) < 0) {
                api_reply_error(call, 404, "%s", err_msg(&e));
                err_release(&e);
                return;
        }
        api_reply_json(call, 200, group_info(st, tree, GEMBED_GROUPS | GEMBED_APPS | GEMBED_PODS, 0));
        json_decref(tree);
}

void api_group_versions(struct api_call *call) {
        struct state *st = store_state(call->m->store);
        _cleanup_free_ char *path = route_path(call);
        /* Built once: a group deleted since still has its stored versions. */
        json_t *versions = path ? state_group_versions(st, path) : NULL;
        if (!path || (!state_group_known(st, path) && json_array_size(versions) == 0)) {
                json_decref(versions);
                api_reply_error(call, 404, "Group '%s' does not exist", path ? path : call->id);
                return;
        }
        if (!call->sub || streq(call->sub, "versions")) {
                api_reply_json(call, 200, versions);
                return;
        }
        json_decref(versions);
        reply_version(call, path, call->sub + strlen("versions/"));
}

/* --- writes ---------------------------------------------------------------------------------- */

struct group_write {
        struct api_call *call;
        size_t pending;
        struct err first;
        char deployment[37];
        char ts[25];
        char *location; /* POST: the created group */
        int status;
        bool no_body;   /* PATCH: Marathon answers a bare 200 */
};

static void write_free(struct group_write *w) {
        err_release(&w->first);
        free(w->location);
        free(w);
}

static void write_done(void *data, int status, json_t *result, struct err *err) {
        struct group_write *w = data;
        if (status < 0 && w->first.code == 0) {
                w->first.code = err->code == -ERR_BAD_JSON ? -ERR_INVALID : err->code;
                w->first.msg = xstrdup(err_msg(err));
                if (err->details)
                        w->first.details = json_incref(err->details);
        }
        if (--w->pending > 0)
                return;
        struct api_call *call = w->call;
        if (w->first.code < 0) {
                if (w->first.code == -ERR_NO_LEADER)
                        log_warn("group change %s failed: %s", w->deployment, err_msg(&w->first));
                api_reply_err(call, &w->first);
        } else if (w->no_body) {
                api_reply_text(call, w->status, "application/json", "");
        } else {
                http_request_add_header(call->req, "Marathon-Deployment-Id", w->deployment);
                if (w->location) {
                        _cleanup_free_ char *loc = xasprintf("/v2/groups%s", w->location);
                        http_request_add_header(call->req, "Location", loc);
                }
                api_reply_json(call, w->status,
                               json_pack("{s:s,s:s}", "deploymentId", w->deployment, "version", w->ts));
        }
        write_free(w);
}

/* The state as the dependency walk sees it beyond the changed subtree. */
struct outside_walk {
        const char *group;
        size_t n;
        int (*cb)(const char *, void *);
        void *cbdata;
};

static const json_t *st_app_get(const char *id, void *data) {
        return state_app_get(data, id);
}

static int st_app_under(const json_t *app, void *data) {
        struct outside_walk *w = data;
        const char *id = json_string_value(json_object_get(app, "id"));
        return id && group_path_under(id, w->group) ? w->cb(id, w->cbdata) : 0;
}

static int st_group_apps(const char *group, int (*cb)(const char *, void *), void *cbdata, void *data) {
        struct outside_walk w = { .group = group, .cb = cb, .cbdata = cbdata };
        return state_apps_foreach(data, st_app_under, &w);
}

static const json_t *st_group_get(const char *path, void *data) {
        return state_group_get(data, path);
}

/* 409 unless forced: an app of the change belongs to another deployment (api.md §1.3). */
static bool reply_if_locked(struct api_call *call, const json_t *changes, bool force) {
        if (force)
                return false;
        const struct state *st = store_state(call->m->store);
        size_t i;
        json_t *ch;
        json_array_foreach(changes, i, ch) {
                const char *other = state_app_deployment(st, json_string_value(json_object_get(ch, "app")));
                if (!other)
                        continue;
                _cleanup_free_ char *msg = xasprintf(
                        "App is locked by one or more deployments. Override with the option '?force=true'. "
                        "View details at '/v2/deployments/%s'.",
                        other);
                api_reply_json(call, 409, json_pack("{s:s,s:[{s:s}]}", "message", msg, "deployments", "id", other));
                return true;
        }
        return false;
}

/* 409 if path or a group above it is an app. */
static bool reply_if_app_path(struct api_call *call, const char *path) {
        const struct state *st = store_state(call->m->store);
        _cleanup_free_ char *cur = xstrdup(path);
        while (!streq(cur, "/")) {
                if (state_app_get(st, cur)) {
                        api_reply_error(call, 409, "An app with the path %s already exists.", cur);
                        return true;
                }
                char *up = app_id_parent(cur);
                free(cur);
                cur = up;
        }
        return false;
}

static json_t *cmd_new(const char *type, const struct group_write *w) {
        return json_pack("{s:s,s:i,s:s,s:s}", "type", type, "v", 1, "ts", w->ts, "deploymentId", w->deployment);
}

static void fail_change(struct api_call *call, struct err *e, struct group_write *w) {
        if (e->code == -ERR_BAD_JSON)
                e->code = -ERR_INVALID;
        api_reply_err(call, e);
        err_release(e);
        write_free(w);
}

/* Submits the commands of ordered changes (see the file comment). Takes w. */
static void submit_change(struct api_call *call, const char *path, const json_t *target, const json_t *changes,
                          bool force, struct group_write *w) {
        _cleanup_(json_decrefp) json_t *cmds = json_array();
        size_t i;
        json_t *ch;
        json_array_foreach(changes, i, ch) {
                if (json_object_get(ch, "new"))
                        continue;
                json_t *c = cmd_new("app_delete", w);
                json_object_set(c, "id", json_object_get(ch, "app"));
                json_array_append_new(cmds, c);
        }
        json_t *gc = cmd_new(target ? "group_update" : "group_delete", w);
        json_object_set_new(gc, "path", json_string(path));
        if (target)
                json_object_set_new(gc, "groups", group_records(target));
        json_array_append_new(cmds, gc);
        json_array_foreach(changes, i, ch) {
                json_t *doc = json_object_get(ch, "new");
                if (!doc)
                        continue;
                json_t *c = cmd_new("app_update", w);
                json_t *update = json_deep_copy(doc);
                json_object_del(update, "version");
                json_object_del(update, "versionInfo");
                json_object_set(c, "id", json_object_get(ch, "app"));
                json_object_set_new(c, "update", update);
                json_object_set_new(c, "partial", json_false());
                json_object_set_new(c, "create", json_true());
                json_array_append_new(cmds, c);
        }
        json_t *vc = cmd_new("group_version", w);
        json_object_set_new(vc, "path", json_string(path));
        json_array_append_new(cmds, vc);
        w->call = call;
        w->pending = json_array_size(cmds);
        json_array_foreach(cmds, i, ch) {
                if (force)
                        json_object_set_new(ch, "force", json_true());
                store_submit(call->m->store, json_incref(ch), write_done, w);
        }
}

/* Turns the change of the group at path from current (NULL: new) to target (NULL: deleted)
 * into commands and submits them; or answers the dryRun, or the error. Takes w. */
static void deploy_change(struct api_call *call, const char *path, const json_t *current, const json_t *target,
                          struct group_write *w) {
        struct state *st = store_state(call->m->store);
        bool force = api_arg_bool(call, "force", false);
        struct err e = { 0 };
        _cleanup_(json_decrefp) json_t *changes = group_diff(current, target);
        _cleanup_(json_decrefp) json_t *empty = group_tree_new(path);
        size_t i;
        json_t *ch;

        /* Scaled and restored definitions are checked again like any new one. */
        json_array_foreach(changes, i, ch) {
                json_t *doc = json_object_get(ch, "new"), *checked = NULL;
                if (doc && app_normalize(doc, "/", &checked, &e) < 0) {
                        fail_change(call, &e, w);
                        return;
                }
                json_decref(checked);
        }
        struct deploy_graph_ops outside = { .app_get = st_app_get, .group_apps_foreach = st_group_apps,
                                            .group_get = st_group_get, .data = st };
        if (group_order(changes, target ? target : empty, &outside, &e) < 0) {
                fail_change(call, &e, w);
                return;
        }
        if (api_arg_bool(call, "dryRun", false)) {
                api_reply_json(call, 200, json_pack("{s:o}", "steps", group_steps(changes)));
                write_free(w);
                return;
        }
        if (reply_if_locked(call, changes, force)) {
                write_free(w);
                return;
        }
        submit_change(call, path, target, changes, force, w);
}

static struct group_write *write_new(int status) {
        struct group_write *w = xcalloc(1, sizeof *w);
        uuid_random(w->deployment);
        time_format_ms(time_now_ms(), w->ts);
        w->status = status;
        return w;
}

/* The group a write body addresses: its "id" relative to the route's path, else that path. */
static char *effective_path(struct api_call *call, const char *base, struct err *e) {
        const json_t *id = json_object_get(call->body, "id");
        if (!id || json_is_null(id))
                return xstrdup(base);
        if (!json_is_string(id)) {
                err_set(e, -ERR_INVALID, "Invalid JSON");
                err_set_details(e, json_pack("[{s:s,s:[s]}]", "path", "/id", "errors", "error.expected.jsstring"));
                return NULL;
        }
        if (!app_id_chars_valid(json_string_value(id))) {
                err_set(e, -ERR_INVALID, "Object is not valid");
                err_set_details(e, json_pack("[{s:s,s:[s]}]", "path", "/id", "errors", app_id_pattern_message));
                return NULL;
        }
        return app_id_canonical(json_string_value(id), base);
}

/* Common start of POST and PUT: the body is an object, the paths are valid. */
static char *write_path(struct api_call *call) {
        app_json_drop_nulls(call->body);
        if (!json_is_object(call->body)) {
                api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Invalid JSON", "details",
                                                    "path", "/", "errors", "error.expected.jsobject"));
                return NULL;
        }
        _cleanup_free_ char *base = route_path(call);
        if (!base) {
                api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Object is not valid", "details",
                                                    "path", "/id", "errors", app_id_pattern_message));
                return NULL;
        }
        struct err e = { 0 };
        char *path = effective_path(call, base, &e);
        if (!path) {
                api_reply_err(call, &e);
                err_release(&e);
                return NULL;
        }
        if (reply_if_app_path(call, path)) {
                free(path);
                return NULL;
        }
        return path;
}

static void reply_model_error(struct api_call *call, struct err *e) {
        if (e->code == -ERR_BAD_JSON)
                e->code = -ERR_INVALID;
        api_reply_err(call, e);
        err_release(e);
}

void api_groups_create(struct api_call *call) {
        _cleanup_free_ char *path = write_path(call);
        if (!path)
                return;
        struct state *st = store_state(call->m->store);
        if (state_group_known(st, path)) {
                api_reply_error(call, 409, "Group %s is already created. Use PUT to change this group.", path);
                return;
        }
        struct err e = { 0 };
        _cleanup_(json_decrefp) json_t *target = NULL;
        if (group_update_apply(NULL, path, call->body, &target, &e) < 0) {
                reply_model_error(call, &e);
                return;
        }
        struct group_write *w = write_new(201);
        w->location = xstrdup(path);
        deploy_change(call, path, NULL, target, w);
}

void api_groups_put(struct api_call *call) {
        _cleanup_free_ char *path = write_path(call);
        if (!path)
                return;
        struct state *st = store_state(call->m->store);
        _cleanup_(json_decrefp) json_t *current = state_group_tree(st, path);
        _cleanup_(json_decrefp) json_t *target = NULL;
        struct err e = { 0 };
        const json_t *version = json_object_get(call->body, "version");
        const json_t *scale = json_object_get(call->body, "scaleBy");
        if (version && !json_is_null(version)) {
                /* "If both are given, only version is applied." */
                int64_t ms;
                char norm[25];
                if (!json_is_string(version) || time_parse_iso(json_string_value(version), &ms) < 0) {
                        api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Invalid JSON",
                                                            "details", "path", "/version", "errors",
                                                            "error.expected.date"));
                        return;
                }
                time_format_ms(ms, norm);
                if (state_group_tree_at(st, path, norm, &target, &e) < 0) {
                        api_reply_error(call, 422, "%s", err_msg(&e));
                        err_release(&e);
                        return;
                }
        } else if (scale && !json_is_null(scale)) {
                if (!json_is_number(scale)) {
                        api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Invalid JSON",
                                                            "details", "path", "/scaleBy", "errors",
                                                            "error.expected.jsnumber"));
                        return;
                }
                if (!current) {
                        api_reply_error(call, 404, "Group '%s' does not exist", path);
                        return;
                }
                if (group_scale(current, json_number_value(scale), &target, &e) < 0) {
                        reply_model_error(call, &e);
                        return;
                }
        } else if (group_update_apply(current, path, call->body, &target, &e) < 0) {
                reply_model_error(call, &e);
                return;
        }
        deploy_change(call, path, current, target, write_new(200));
}

void api_groups_delete(struct api_call *call) {
        struct state *st = store_state(call->m->store);
        _cleanup_free_ char *path = route_path(call);
        _cleanup_(json_decrefp) json_t *current = group_tree_or_404(call, st, path);
        if (!current)
                return;
        deploy_change(call, path, current, NULL, write_new(200));
}

/* PATCH /v2/groups/{id}: GroupPartialUpdate, Marathon's GroupsResource.patchGroup — only
 * enforceRole, only on a top-level group, absent meaning the default (false: Marathon's
 * --new_group_enforce_role=off); no deployment, a bare 200. */
void api_groups_patch(struct api_call *call) {
        if (!json_is_object(call->body)) {
                api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Invalid JSON", "details",
                                                    "path", "/", "errors", "error.expected.jsobject"));
                return;
        }
        app_json_drop_nulls(call->body);
        const json_t *er = json_object_get(call->body, "enforceRole");
        if (er && !json_is_boolean(er)) {
                api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Invalid JSON", "details",
                                                    "path", "/enforceRole", "errors", "error.expected.jsboolean"));
                return;
        }
        _cleanup_free_ char *path = route_path(call);
        if (!path || streq(path, "/") || strchr(path + 1, '/')) {
                api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Object is not valid", "details",
                                                    "path", "/", "errors",
                                                    path ? "Path needs to be top-level" : app_id_pattern_message));
                return;
        }
        struct state *st = store_state(call->m->store);
        _cleanup_(json_decrefp) json_t *target = group_tree_or_404(call, st, path);
        if (!target)
                return;
        json_object_set_new(target, "enforceRole", json_boolean(json_is_true(er)));
        struct group_write *w = write_new(200);
        w->no_body = true;
        json_t *gc = cmd_new("group_update", w);
        json_object_set_new(gc, "path", json_string(path));
        json_object_set_new(gc, "groups", group_records(target));
        json_t *vc = cmd_new("group_version", w);
        json_object_set_new(vc, "path", json_string(path));
        w->call = call;
        w->pending = 2;
        store_submit(call->m->store, gc, write_done, w);
        store_submit(call->m->store, vc, write_done, w);
}
