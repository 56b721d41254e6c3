/* api.c — the route table, DC/OS prefixes, leader policy and Marathon-style replies. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/util.h"
#include "master/audit.h"
#include "master/auth.h"
#include "master/master_internal.h"
#include "master/vip.h"
#include "model/app_id.h"

enum route_flags {
        ROUTE_LOCAL = 0,       /* answered by whichever master receives it */
        ROUTE_LEADER = 1 << 0, /* writes: only the leader; followers forward */
        ROUTE_READ = 1 << 1,   /* reads: leader after a read barrier; ?stale=true answers locally */
        ROUTE_BODY = 1 << 2,   /* parse the body as JSON first (400 "Invalid JSON" otherwise) */
        ROUTE_NO_FORWARD = 1 << 3, /* with ROUTE_LEADER: a follower answers 503 + X-Marathon-Leader
                                    * instead of forwarding (agent streams must reach the leader) */
        ROUTE_REDIRECT = 1 << 4,   /* with ROUTE_LEADER: a follower answers 307 to the leader's same
                                    * URL (streams are not proxied: Marathon ≥ 1.8) */
};

/* How the path after the prefix is matched. */
enum route_match {
        MATCH_EXACT,     /* path == pattern */
        MATCH_APP,       /* pattern + app id (no reserved suffix) */
        MATCH_APP_SUB,   /* pattern + app id + "/" + suffix keyword (sub starts with it) */
};

struct route {
        const char *method;
        const char *pattern;
        enum route_match match;
        const char *suffix; /* for MATCH_APP_SUB: "versions", "tasks", "restart" */
        api_handler_fn handler;
        unsigned flags;
        /* Who may call it (master/auth.h): PERM(rid, action, scope), PERM_OPEN, PERM_AUTHENTICATED
         * or PERM_METRICS. A row without one is for superusers only, and test_auth fails on it. */
        struct route_perm perm;
};

static const struct route routes[] = {
        { "GET", "/ping", MATCH_EXACT, NULL, api_ping, ROUTE_LOCAL, PERM_OPEN },
        { "GET", "/v2/info", MATCH_EXACT, NULL, api_info, ROUTE_LOCAL, PERM(RID_INFO, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/v2/leader", MATCH_EXACT, NULL, api_leader, ROUTE_LOCAL, PERM(RID_INFO, PERM_READ, PERM_SCOPE_NONE) },
        { "DELETE", "/v2/leader", MATCH_EXACT, NULL, api_leader_abdicate, ROUTE_LEADER,
          PERM(RID_LEADER, PERM_DELETE, PERM_SCOPE_NONE) },
        { "GET", "/v2/plugins", MATCH_EXACT, NULL, api_plugins_list, ROUTE_LOCAL, PERM(RID_INFO, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/v2/plugins/", MATCH_APP, NULL, api_plugin_request, ROUTE_LOCAL, PERM(RID_PLUGINS, PERM_READ, PERM_SCOPE_NONE) },
        { "PUT", "/v2/plugins/", MATCH_APP, NULL, api_plugin_request, ROUTE_LOCAL, PERM(RID_PLUGINS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "POST", "/v2/plugins/", MATCH_APP, NULL, api_plugin_request, ROUTE_LOCAL, PERM(RID_PLUGINS, PERM_CREATE, PERM_SCOPE_NONE) },
        { "DELETE", "/v2/plugins/", MATCH_APP, NULL, api_plugin_request, ROUTE_LOCAL, PERM(RID_PLUGINS, PERM_DELETE, PERM_SCOPE_NONE) },
        { "GET", "/v1/cluster", MATCH_EXACT, NULL, api_cluster, ROUTE_LOCAL, PERM(RID_CLUSTER, PERM_READ, PERM_SCOPE_NONE) },
        { "POST", "/v1/cluster/masters", MATCH_EXACT, NULL, api_cluster_register, ROUTE_LEADER | ROUTE_BODY, PERM(RID_MASTERS, PERM_CREATE, PERM_SCOPE_NONE) },
        { "GET", "/metrics", MATCH_EXACT, NULL, api_metrics, ROUTE_LOCAL, PERM_METRICS },
        { "POST", "/internal/v1/agents/subscribe", MATCH_EXACT, NULL, api_agents_subscribe,
          ROUTE_LEADER | ROUTE_BODY | ROUTE_NO_FORWARD,
          PERM(RID_AGENT, PERM_CREATE, PERM_SCOPE_NONE) },
        { "POST", "/internal/v1/agents/", MATCH_APP_SUB, "updates", api_agents_updates,
          ROUTE_LEADER | ROUTE_BODY | ROUTE_NO_FORWARD,
          PERM(RID_AGENT, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "GET", "/v2/apps", MATCH_EXACT, NULL, api_apps_list, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_SOME) },
        { "POST", "/v2/apps", MATCH_EXACT, NULL, api_apps_create, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_CREATE, PERM_SCOPE_BODY) },
        { "PUT", "/v2/apps", MATCH_EXACT, NULL, api_apps_bulk_update, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_BODY) },
        { "PATCH", "/v2/apps", MATCH_EXACT, NULL, api_apps_bulk_update, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_BODY) },
        { "GET", "/v2/apps/", MATCH_APP_SUB, "versions", api_app_versions, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_ID) },
        { "GET", "/v2/apps/", MATCH_APP_SUB, "tasks", api_app_tasks, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_ID) },
        /* Suffix routes before the plain app routes: "/v2/apps/a/tasks/<id>" is not app "/a/tasks/<id>". */
        { "DELETE", "/v2/apps/", MATCH_APP_SUB, "tasks", api_app_tasks_kill, ROUTE_LEADER, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ID) },
        { "GET", "/v2/apps/", MATCH_APP, NULL, api_app_get, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_ID) },
        { "PUT", "/v2/apps/", MATCH_APP, NULL, api_app_put, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ID) },
        { "PATCH", "/v2/apps/", MATCH_APP, NULL, api_app_patch, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ID) },
        { "DELETE", "/v2/apps/", MATCH_APP, NULL, api_app_delete, ROUTE_LEADER, PERM(RID_SERVICES, PERM_DELETE, PERM_SCOPE_ID) },
        { "POST", "/v2/apps/", MATCH_APP_SUB, "restart", api_app_restart, ROUTE_LEADER, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ID) },
        { "GET", "/v2/groups", MATCH_EXACT, NULL, api_groups_get, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_ROOT) },
        { "POST", "/v2/groups", MATCH_EXACT, NULL, api_groups_create, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_CREATE, PERM_SCOPE_BODY) },
        { "PUT", "/v2/groups", MATCH_EXACT, NULL, api_groups_put, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ROOT) },
        { "DELETE", "/v2/groups", MATCH_EXACT, NULL, api_groups_delete, ROUTE_LEADER, PERM(RID_SERVICES, PERM_DELETE, PERM_SCOPE_ROOT) },
        { "GET", "/v2/groups/versions", MATCH_EXACT, NULL, api_group_versions, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_ROOT) },
        /* "/v2/groups/x/apps" and "…/versions[/ts]" before the plain group routes. */
        { "GET", "/v2/groups/", MATCH_APP_SUB, "versions", api_group_versions, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_ID) },
        { "GET", "/v2/groups/", MATCH_APP_SUB, "apps", api_group_apps, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_ID) },
        { "GET", "/v2/groups/", MATCH_APP, NULL, api_groups_get, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_ID) },
        { "POST", "/v2/groups/", MATCH_APP, NULL, api_groups_create, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_CREATE, PERM_SCOPE_BODY) },
        { "PUT", "/v2/groups/", MATCH_APP, NULL, api_groups_put, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ID) },
        { "DELETE", "/v2/groups/", MATCH_APP, NULL, api_groups_delete, ROUTE_LEADER, PERM(RID_SERVICES, PERM_DELETE, PERM_SCOPE_ID) },
        { "PATCH", "/v2/groups/", MATCH_APP, NULL, api_groups_patch, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ID) },
        { "GET", "/v2/events", MATCH_EXACT, NULL, api_events, ROUTE_LEADER | ROUTE_REDIRECT, PERM(RID_EVENTS, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/v2/deployments", MATCH_EXACT, NULL, api_deployments_list, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_SOME) },
        { "DELETE", "/v2/deployments/", MATCH_APP, NULL, api_deployment_delete, ROUTE_LEADER, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ROOT) },
        { "GET", "/v2/tasks", MATCH_EXACT, NULL, api_tasks_list, ROUTE_READ, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_SOME) },
        { "POST", "/v2/tasks/delete", MATCH_EXACT, NULL, api_tasks_delete, ROUTE_LEADER | ROUTE_BODY, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ROOT) },
        /* The launch queue lives in the leader's memory: always answered by the leader. */
        { "GET", "/v2/queue", MATCH_EXACT, NULL, api_queue_list, ROUTE_LEADER, PERM(RID_SERVICES, PERM_READ, PERM_SCOPE_SOME) },
        { "DELETE", "/v2/queue/", MATCH_APP_SUB, "delay", api_queue_delay_reset, ROUTE_LEADER, PERM(RID_SERVICES, PERM_UPDATE, PERM_SCOPE_ID) },
        { "GET", "/v1/nodes", MATCH_EXACT, NULL, api_nodes_list, ROUTE_READ, PERM(RID_NODES, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/v1/dns/lookup", MATCH_EXACT, NULL, api_dns_lookup, ROUTE_READ, PERM(RID_DNS, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/v1/vips", MATCH_EXACT, NULL, api_vips_list, ROUTE_READ, PERM(RID_DNS, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/v1/nodes/", MATCH_APP, NULL, api_node_get, ROUTE_READ, PERM(RID_NODES, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/master/slaves", MATCH_EXACT, NULL, api_mesos_slaves, ROUTE_READ, PERM(RID_MESOS_STATE, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/master/state", MATCH_EXACT, NULL, api_mesos_state, ROUTE_READ, PERM(RID_MESOS_STATE, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/master/state.json", MATCH_EXACT, NULL, api_mesos_state, ROUTE_READ, PERM(RID_MESOS_STATE, PERM_READ, PERM_SCOPE_NONE) },
        /* Identities and grants (DC/OS's IAM paths); login is open, whoami needs any token. */
        { "POST", "/acs/api/v1/auth/login", MATCH_EXACT, NULL, api_auth_login, ROUTE_LOCAL | ROUTE_BODY, PERM_OPEN },
        { "POST", "/acs/api/v1/auth/logout", MATCH_EXACT, NULL, api_auth_logout, ROUTE_LEADER, PERM_AUTHENTICATED },
        { "GET", "/v1/auth/whoami", MATCH_EXACT, NULL, api_auth_whoami, ROUTE_LOCAL, PERM_AUTHENTICATED },
        { "POST", "/v1/auth/revoke", MATCH_EXACT, NULL, api_auth_revoke, ROUTE_LEADER | ROUTE_BODY,
          PERM(RID_ACS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "GET", "/v1/audit", MATCH_EXACT, NULL, api_audit, ROUTE_LOCAL, PERM(RID_AUDIT, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/v1/auth/routes", MATCH_EXACT, NULL, api_auth_routes, ROUTE_LOCAL, PERM(RID_ACS, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/acs/api/v1/users", MATCH_EXACT, NULL, api_acs_users_list, ROUTE_READ,
          PERM(RID_ACS, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/acs/api/v1/users/", MATCH_APP, NULL, api_acs_user_get, ROUTE_READ, PERM(RID_ACS, PERM_READ, PERM_SCOPE_NONE) },
        { "PUT", "/acs/api/v1/users/", MATCH_APP, NULL, api_acs_user_put, ROUTE_LEADER,
          PERM(RID_ACS, PERM_CREATE, PERM_SCOPE_NONE) },
        { "DELETE", "/acs/api/v1/users/", MATCH_APP, NULL, api_acs_user_delete, ROUTE_LEADER,
          PERM(RID_ACS, PERM_DELETE, PERM_SCOPE_NONE) },
        { "GET", "/acs/api/v1/groups", MATCH_EXACT, NULL, api_acs_groups_list, ROUTE_READ,
          PERM(RID_ACS, PERM_READ, PERM_SCOPE_NONE) },
        { "PUT", "/acs/api/v1/groups/", MATCH_APP, NULL, api_acs_group_put, ROUTE_LEADER,
          PERM(RID_ACS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "DELETE", "/acs/api/v1/groups/", MATCH_APP, NULL, api_acs_group_delete, ROUTE_LEADER,
          PERM(RID_ACS, PERM_DELETE, PERM_SCOPE_NONE) },
        { "PUT", "/acs/api/v1/acls/", MATCH_APP, NULL, api_acs_acl_put, ROUTE_LEADER,
          PERM(RID_ACS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "DELETE", "/acs/api/v1/acls/", MATCH_APP, NULL, api_acs_acl_delete, ROUTE_LEADER,
          PERM(RID_ACS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "GET", "/state-summary", MATCH_EXACT, NULL, api_mesos_state, ROUTE_READ, PERM(RID_MESOS_STATE, PERM_READ, PERM_SCOPE_NONE) },
        { "GET", "/v1/jobs", MATCH_EXACT, NULL, api_jobs_list, ROUTE_READ, PERM(RID_JOBS, PERM_READ, PERM_SCOPE_NONE) },
        { "POST", "/v1/jobs", MATCH_EXACT, NULL, api_jobs_create, ROUTE_LEADER | ROUTE_BODY, PERM(RID_JOBS, PERM_CREATE, PERM_SCOPE_NONE) },
        { "GET", "/v1/jobs/", MATCH_APP, NULL, api_jobs_get_sub, ROUTE_READ, PERM(RID_JOBS, PERM_READ, PERM_SCOPE_NONE) },
        { "POST", "/v1/jobs/", MATCH_APP, NULL, api_jobs_post_sub, ROUTE_LEADER, PERM(RID_JOBS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "PUT", "/v1/jobs/", MATCH_APP, NULL, api_jobs_put_sub, ROUTE_LEADER | ROUTE_BODY, PERM(RID_JOBS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "DELETE", "/v1/jobs/", MATCH_APP, NULL, api_jobs_delete_sub, ROUTE_LEADER, PERM(RID_JOBS, PERM_DELETE, PERM_SCOPE_NONE) },
        /* Chronos (/v1/scheduler/…): the same jobs, so the same permissions as Metronome's. */
        { "GET", "/v1/scheduler/jobs", MATCH_EXACT, NULL, api_chronos_jobs, ROUTE_READ, PERM(RID_JOBS, PERM_READ, PERM_SCOPE_NONE) },
        { "POST", "/v1/scheduler/iso8601", MATCH_EXACT, NULL, api_chronos_iso8601, ROUTE_LEADER | ROUTE_BODY, PERM(RID_JOBS, PERM_CREATE, PERM_SCOPE_NONE) },
        { "PUT", "/v1/scheduler/iso8601", MATCH_EXACT, NULL, api_chronos_iso8601, ROUTE_LEADER | ROUTE_BODY, PERM(RID_JOBS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "POST", "/v1/scheduler/dependency", MATCH_EXACT, NULL, api_chronos_dependency, ROUTE_LEADER | ROUTE_BODY, PERM(RID_JOBS, PERM_CREATE, PERM_SCOPE_NONE) },
        { "PUT", "/v1/scheduler/dependency", MATCH_EXACT, NULL, api_chronos_dependency, ROUTE_LEADER | ROUTE_BODY, PERM(RID_JOBS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "PUT", "/v1/scheduler/job/", MATCH_APP, NULL, api_chronos_job_run, ROUTE_LEADER, PERM(RID_JOBS, PERM_UPDATE, PERM_SCOPE_NONE) },
        { "DELETE", "/v1/scheduler/job/", MATCH_APP, NULL, api_chronos_job_delete, ROUTE_LEADER, PERM(RID_JOBS, PERM_DELETE, PERM_SCOPE_NONE) },
};

/* DC/OS Admin Router paths for Marathon. */
static const char *const prefixes[] = { "/service/marathon", "/marathon", "/mesos", "/service/metronome" };

void api_call_release(struct api_call *call) {
        auth_who_free(call->who);
        free(call->id);
        free(call->sub);
        json_decref(call->body);
        free(call);
}

static void call_free(struct api_call *call) {
        auth_who_free(call->who);
        free(call->id);
        free(call->sub);
        json_decref(call->body);
        free(call);
}

static void add_leader_header(struct api_call *call) {
        /* Writes that fail because the store is closing are answered after master_stop
         * dropped it. */
        if (!call->m->store)
                return;
        struct store_status st;
        store_status(call->m->store, &st);
        const char *leader = st.is_leader ? call->m->http_advertised : st.leader_http;
        if (leader) {
                _cleanup_free_ char *v = xasprintf("http://%s", leader);
                http_request_add_header(call->req, "X-Marathon-Leader", v);
        }
}

void api_reply_text(struct api_call *call, int status, const char *ct, const char *text) {
        /* Stopping: the HTTP server and its requests are gone already (writes still in the
         * store fail while it closes, and their callbacks end up here). */
        if (call->m->stopping) {
                call_free(call);
                return;
        }
        add_leader_header(call);
        if (call->audit)
                audit_record(call, status); /* master/audit.h */
        http_respond(call->req, status, ct, text, strlen(text));
        call_free(call);
}

void api_reply_json(struct api_call *call, int status, json_t *body) {
        _cleanup_free_ char *s = json_compact(body);
        json_decref(body);
        api_reply_text(call, status, "application/json", s);
}

void api_reply_err(struct api_call *call, struct err *err) {
        json_t *body = json_pack("{s:s}", "message", err_msg(err));
        /* A locked app's 409 names the deployments that hold it (api.md §1.3). */
        if (err->details)
                json_object_set(body, err->code == -ERR_CONFLICT ? "deployments" : "details", err->details);
        api_reply_json(call, err_http_status(err), body);
}

void api_reply_error(struct api_call *call, int status, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        api_reply_json(call, status, json_pack("{s:s}", "message", msg));
}

bool api_arg_bool(struct api_call *call, const char *name, bool dflt) {
        const char *v = http_request_arg(call->req, name);
        if (!v)
                return dflt;
        return !*v || strcasecmp(v, "true") == 0 || streq(v, "1");
}

/* Splits "<id>[/<suffix>…]" for MATCH_APP / MATCH_APP_SUB. Marathon parses suffix keywords off
 * the end, which is why they are reserved as an app id's last segment. The id comes back in
 * Marathon's canonical form, as every resource of Marathon reads it (`id.toAbsolutePath`:
 * PathId.apply drops empty segments, canonicalPath resolves "." and ".."), so
 * "/v2/apps//prod/./web" names app "/prod/web" on every route. Opaque keys (node, agent and
 * deployment ids) hold no "/", ".", "..", so the same form only strips their extra slashes. */
static bool match_app(const struct route *rt, const char *rest, char **ret_id, char **ret_sub) {
        if (!*rest)
                return false;
        _cleanup_free_ char *copy = xstrdup(rest);
        size_t n = strlen(copy);
        while (n > 1 && copy[n - 1] == '/')
                copy[--n] = 0;
        if (rt->match == MATCH_APP) {
                char *id = app_id_canonical(copy, "/");
                const char *last = strrchr(id, '/') + 1;
                if (streq(last, "versions") || streq(last, "tasks") || streq(last, "restart")) {
                        free(id);
                        return false;
                }
                *ret_id = id;
                *ret_sub = NULL;
                return true;
        }
        /* MATCH_APP_SUB: find "/<suffix>" followed by end or "/…" — the last such occurrence. */
        _cleanup_free_ char *needle = xasprintf("/%s", rt->suffix);
        char *hit = NULL;
        for (char *p = copy; (p = strstr(p, needle)); p++)
                if (p[strlen(needle)] == 0 || p[strlen(needle)] == '/')
                        hit = p;
        if (!hit || hit == copy)
                return false;
        /* "versions/<ts>" has one more segment; "tasks"/"restart" end the path. */
        const char *after = hit + strlen(needle);
        if (*after == '/' && !streq(rt->suffix, "versions") && !streq(rt->suffix, "tasks"))
                return false;
        if (*after == '/' && strchr(after + 1, '/'))
                return false;
        *hit = 0;
        *ret_id = app_id_canonical(copy, "/");
        *ret_sub = xstrdup(hit + 1);
        return true;
}

static void run_handler(struct api_call *call, const struct route *rt);

static void read_barrier_cb(void *data, int status, struct err *err) {
        struct api_call *call = data;
        if (status < 0) {
                /* Lost leadership between the routing decision and the barrier: forward. */
                forward_to_leader(call);
                return;
        }
        const struct route *rt = http_request_get_data(call->req);
        rt->handler(call);
}

static void run_handler(struct api_call *call, const struct route *rt) {
        struct store_status st;
        store_status(call->m->store, &st);
        bool stale = api_arg_bool(call, "stale", false);
        if ((rt->flags & ROUTE_LEADER) || ((rt->flags & ROUTE_READ) && !stale)) {
                if (!st.is_leader && (rt->flags & ROUTE_REDIRECT)) {
                        redirect_to_leader(call);
                        return;
                }
                if (!st.is_leader && (rt->flags & ROUTE_NO_FORWARD)) {
                        api_reply_error(call, 503, "Not the leader");
                        return;
                }
                if (!st.is_leader) {
                        forward_to_leader(call);
                        return;
                }
        }
        if (rt->flags & ROUTE_BODY) {
                size_t len;
                const char *body = http_request_body(call->req, &len);
                json_error_t jerr;
                call->body = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
                if (!call->body) {
                        json_t *b = json_pack("{s:s,s:s+}", "message", "Invalid JSON", "details",
                                              jerr.text, len == 0 ? " (empty body)" : "");
                        api_reply_json(call, 400, b);
                        return;
                }
        }
        /* Where the handler runs: a follower forwards the caller's own token to the leader. */
        if (!auth_route_check(call, &rt->perm))
                return;
        if ((rt->flags & ROUTE_READ) && !stale) {
                http_request_set_data(call->req, (void *)rt);
                store_read_barrier(call->m->store, read_barrier_cb, call);
                return;
        }
        rt->handler(call);
}

void api_dispatch(struct http_request *req, void *data) {
        struct master *m = data;
        struct api_call *call = xcalloc(1, sizeof *call);
        call->m = m;
        call->req = req;
        const char *path = http_request_path(req);
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                size_t n = strlen(prefixes[i]);
                if (strncmp(path, prefixes[i], n) == 0 && (path[n] == '/' || !path[n])) {
                        path += n;
                        break;
                }
        }
        call->path = path;
        const char *method = http_request_method(req);
        bool path_known = false;
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                const struct route *rt = &routes[i];
                bool hit = false;
                if (rt->match == MATCH_EXACT) {
                        size_t n = strlen(path);
                        hit = strncmp(path, rt->pattern, strlen(rt->pattern)) == 0 &&
                              (n == strlen(rt->pattern) || (n == strlen(rt->pattern) + 1 && path[n - 1] == '/'));
                } else if (strncmp(path, rt->pattern, strlen(rt->pattern)) == 0) {
                        free(call->id);
                        free(call->sub);
                        call->id = call->sub = NULL;
                        hit = match_app(rt, path + strlen(rt->pattern), &call->id, &call->sub);
                }
                if (!hit)
                        continue;
                path_known = true;
                if (!streq(method, rt->method) && !(streq(method, "HEAD") && streq(rt->method, "GET")))
                        continue;
                run_handler(call, rt);
                return;
        }
        if (path_known) {
                api_reply_error(call, 405, "Method %s not allowed on %s", method, path);
                return;
        }
        api_reply_error(call, 404, "URI not found: %s", http_request_path(req));
}

static const char *const match_names[] = { [MATCH_EXACT] = "exact", [MATCH_APP] = "id", [MATCH_APP_SUB] = "id+suffix" };

json_t *api_routes_json(void) {
        json_t *arr = json_array();
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                const struct route *rt = &routes[i];
                const struct route_perm *p = &rt->perm;
                json_t *o = json_pack("{s:s,s:s,s:s}", "method", rt->method, "pattern", rt->pattern, "match",
                                      match_names[rt->match]);
                if (rt->suffix)
                        json_object_set_new(o, "suffix", json_string(rt->suffix));
                if (!(p->flags & PERM_F_DECLARED))
                        json_object_set_new(o, "permission", json_null()); /* undeclared: a bug */
                else if (p->flags & PERM_F_OPEN)
                        json_object_set_new(o, "permission", json_string("open"));
                else if (p->flags & PERM_F_AUTHN)
                        json_object_set_new(o, "permission", json_string("authenticated"));
                else {
                        static const char *const scopes[] = { "none", "id", "root", "some", "body" };
                        json_object_set_new(o, "permission",
                                            json_pack("{s:s,s:s,s:s,s:b}", "rid", p->rid, "action",
                                                      perm_action_name(p->action), "scope", scopes[p->scope],
                                                      "metrics", (p->flags & PERM_F_METRICS) != 0));
                }
                json_array_append_new(arr, o);
        }
        return arr;
}

/* GET /v1/auth/routes: every route with the permission it needs (operators; the route walk test). */
void api_auth_routes(struct api_call *call) {
        api_reply_json(call, 200, json_pack("{s:o}", "routes", api_routes_json()));
}
