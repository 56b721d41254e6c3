/* agent_api.c — the agent's HTTP API: sandbox files (Mesos /files/read and /files/browse
 * compatible, plus ?task=&file= for the CLI), its task table, health, task exec
 * (agent_exec.c), the finished tasks it keeps (/v1/sandboxes: task_history.h) and /metrics
 * (agent_metrics.h).  */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/agent_auth.h"
#include "common/strbuf.h"
#include "agent/dns_server.h"
#include "common/alloc.h"
#include "common/util.h"

#define MAX_READ (1024 * 1024)

static void reply_json(struct http_request *req, int status, json_t *body) {
        _cleanup_free_ char *s = json_compact(body);
        json_decref(body);
        http_respond(req, status, "application/json", s, strlen(s));
}

static void reply_error(struct http_request *req, int status, const char *msg) {
        reply_json(req, status, json_pack("{s:s}", "message", msg));
}

/* Resolves the requested file to a real path inside the sandboxes directory, or NULL. */
static char *resolve(struct agent *a, struct http_request *req) {
        const char *task = http_request_arg(req, "task");
        const char *file = http_request_arg(req, "file");
        const char *path = http_request_arg(req, "path");
        _cleanup_free_ char *want = NULL;
        if (task) {
                struct runtime_task_info info;
                if (runtime_get(a->rt, task, &info) < 0 || !info.sandbox)
                        want = xasprintf("%s/sandboxes/%s/%s", a->cfg.data_dir, task, file ? file : "");
                else
                        want = xasprintf("%s/%s", info.sandbox, file ? file : "");
        } else if (path) {
                want = xstrdup(path);
        } else {
                return NULL;
        }
        _cleanup_free_ char *root_want = xasprintf("%s/sandboxes", a->cfg.data_dir);
        char root[PATH_MAX], real[PATH_MAX];
        if (!realpath(root_want, root) || !realpath(want, real))
                return NULL;
        size_t n = strlen(root);
        if (strncmp(real, root, n) != 0 || (real[n] != '/' && real[n] != 0))
                return NULL; /* no escaping the sandboxes */
        return xstrdup(real);
}

static void files_read(struct agent *a, struct http_request *req) {
        _cleanup_free_ char *path = resolve(a, req);
        if (!path) {
                reply_error(req, 404, "No such file in a sandbox");
                return;
        }
        const char *off_s = http_request_arg(req, "offset");
        const char *len_s = http_request_arg(req, "length");
        long long offset = off_s ? atoll(off_s) : 0;
        long long length = len_s ? atoll(len_s) : MAX_READ;
        if (length < 0 || length > MAX_READ)
                length = MAX_READ;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                if (fd >= 0)
                        close(fd);
                reply_error(req, 404, "No such file in a sandbox");
                return;
        }
        if (offset < 0) {
                /* Mesos: offset=-1 asks for the size only. */
                close(fd);
                reply_json(req, 200, json_pack("{s:s,s:I}", "data", "", "offset", (json_int_t)st.st_size));
                return;
        }
        if (offset > st.st_size)
                offset = st.st_size;
        size_t want = (size_t)MIN((long long)(st.st_size - offset), length);
        char *buf = xmalloc(want + 1);
        ssize_t got = pread(fd, buf, want, offset);
        close(fd);
        if (got < 0)
                got = 0;
        json_t *data = json_stringn(buf, (size_t)got);
        if (!data) {
                /* Not UTF-8 (binary output, or a read that split a character): JSON strings must
                 * be, so non-ASCII bytes become '?'. */
                for (ssize_t i = 0; i < got; i++)
                        if ((unsigned char)buf[i] >= 0x80)
                                buf[i] = '?';
                data = json_stringn(buf, (size_t)got);
        }
        free(buf);
        reply_json(req, 200, json_pack("{s:o,s:I}", "data", data, "offset", (json_int_t)offset));
}

static void files_browse(struct agent *a, struct http_request *req) {
        _cleanup_free_ char *path = resolve(a, req);
        DIR *d = path ? opendir(path) : NULL;
        if (!d) {
                reply_error(req, 404, "No such directory in a sandbox");
                return;
        }
        json_t *list = json_array();
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", path, de->d_name);
                struct stat st;
                if (lstat(p, &st) < 0)
                        continue;
                json_array_append_new(list, json_pack("{s:s,s:I,s:I,s:i}", "path", p, "size", (json_int_t)st.st_size,
                                                      "mtime", (json_int_t)st.st_mtime, "nlink", (int)st.st_nlink));
        }
        closedir(d);
        reply_json(req, 200, list);
}

static void add_task(const struct runtime_task_info *info, void *data) {
        json_array_append_new(data, json_pack("{s:s,s:s,s:i,s:s?}", "taskId", info->task_id, "state",
                                              task_state_to_string(info->state), "pid", (int)info->pid, "sandbox",
                                              info->sandbox));
}

/* GET /v1/images: the image store's refs with their use counts; POST /v1/images/gc?maxAge=S:
 * what `strata image gc` does, for a store a running agent holds locked. */
static void images_list(struct agent *a, struct http_request *req) {
        if (!a->images) {
                reply_error(req, 404, "This agent has no image store");
                return;
        }
        reply_json(req, 200, json_pack("{s:o}", "images", image_store_list(a->images)));
}

static void images_gc(struct agent *a, struct http_request *req) {
        if (!a->images) {
                reply_error(req, 404, "This agent has no image store");
                return;
        }
        const char *age = http_request_arg(req, "maxAge");
        char *end = NULL;
        long long max_age = age ? strtoll(age, &end, 10) : 0;
        if (age && (*end || max_age < 0 || max_age > UINT32_MAX)) {
                reply_error(req, 400, "maxAge must be a number of seconds");
                return;
        }
        struct image_gc_stats st = {0};
        struct err e = {0};
        if (image_store_gc(a->images, (unsigned)max_age, &st, &e) < 0) {
                reply_error(req, 500, err_msg(&e));
                err_release(&e);
                return;
        }
        reply_json(req, 200, json_pack("{s:I,s:I,s:I,s:I}", "refsRemoved", (json_int_t)st.refs_removed,
                                       "layersRemoved", (json_int_t)st.layers_removed, "blobsRemoved",
                                       (json_int_t)st.blobs_removed, "bytesFreed", (json_int_t)st.bytes_freed));
}

static void task_exec(struct agent *a, struct http_request *req) {
        const char *path = http_request_path(req);
        size_t plen = strlen(path);
        _cleanup_free_ char *id = xstrndup(path + 10, plen - 15);
        if (strchr(id, '/'))
                reply_error(req, 404, "URI not found");
        else
                agent_exec_handle(a, req, id);
}

static void state(struct agent *a, struct http_request *req) {
        json_t *tasks = json_array();
        runtime_foreach(a->rt, add_task, tasks);
        reply_json(req, 200, json_pack("{s:s?,s:s,s:s,s:b,s:I,s:o,s:O,s:O}", "id", a->agent_id, "hostname",
                                       a->cfg.hostname, "address", a->address, "subscribed", a->subscribed, "maxTerm",
                                       (json_int_t)a->max_term, "tasks", tasks, "resources", a->cfg.resources,
                                       "attributes", a->cfg.attributes));
}

static void pong(struct agent *a, struct http_request *req) {
        http_respond(req, 200, "text/plain", "pong", 4);
}

/* GET /v1/sandboxes, POST /v1/sandboxes/gc: the finished tasks the agent keeps (task_history.h). */
static void sandboxes_list(struct agent *a, struct http_request *req) {
        reply_json(req, 200, task_history_list(a->history));
}

static void sandboxes_gc(struct agent *a, struct http_request *req) {
        bool started = task_history_collect(a->history);
        reply_json(req, started ? 202 : 409,
                   json_pack("{s:s}", "message", started ? "collection started" : "a collection is running"));
}

/* GET /metrics (agent_metrics.h): the agent's state, so its permission (scrape with a token). */
static void metrics(struct agent *a, struct http_request *req) {
        struct strbuf sb = { 0 };
        agent_metrics_render(a->metrics, a->rt, a->http ? http_server_metrics(a->http) : NULL, a->subscribed,
                             json_array_size(a->pending), &sb);
        http_respond(req, 200, "text/plain; version=0.0.4", sb.buf ? sb.buf : "", sb.len);
        strbuf_release(&sb);
}

/* How a route's path matches. */
enum agent_match {
        AM_EXACT,     /* path == pattern */
        AM_TASK_EXEC, /* "/v1/tasks/<task id>/exec" */
        AM_DNS,       /* Mesos-DNS's HTTP API: "[/mesos_dns]/v1/…", routed by dns_api_handle */
};

/* The agent's routes. perm_rid NULL: open (health only); every other route names the
 * permission its caller needs (agent_auth.h), like the master's table. */
struct agent_route {
        const char *method;
        const char *pattern;
        enum agent_match match;
        agent_auth_ok_cb handler;
        const char *perm_rid;
        unsigned perm_action;
        bool open;
};

static void routes_list(struct agent *a, struct http_request *req);

static void dns_api(struct agent *a, struct http_request *req) {
        if (!dns_api_handle(a->dns, req, http_request_path(req))) /* dns_api.c */
                reply_error(req, 404, "URI not found");
}

static const struct agent_route routes[] = {
        { "POST", "/v1/tasks/", AM_TASK_EXEC, task_exec, RID_AGENT_CONTAINER, PERM_UPDATE, false },
        { "POST", "/v1/images/gc", AM_EXACT, images_gc, RID_AGENT_IMAGES, PERM_DELETE, false },
        { "GET", "/v1/images", AM_EXACT, images_list, RID_AGENT_IMAGES, PERM_READ, false },
        { "GET", "/files/read", AM_EXACT, files_read, RID_AGENT_SANDBOX, PERM_READ, false },
        { "GET", "/files/read.json", AM_EXACT, files_read, RID_AGENT_SANDBOX, PERM_READ, false },
        { "GET", "/files/browse", AM_EXACT, files_browse, RID_AGENT_SANDBOX, PERM_READ, false },
        { "GET", "/files/browse.json", AM_EXACT, files_browse, RID_AGENT_SANDBOX, PERM_READ, false },
        { "GET", "/state", AM_EXACT, state, RID_AGENT_STATE, PERM_READ, false },
        { "GET", "/slave(1)/state", AM_EXACT, state, RID_AGENT_STATE, PERM_READ, false },
        { "GET", "/v1/auth/routes", AM_EXACT, routes_list, RID_AGENT_STATE, PERM_READ, false },
        { "GET", "/v1/sandboxes", AM_EXACT, sandboxes_list, RID_AGENT_SANDBOX, PERM_READ, false },
        { "POST", "/v1/sandboxes/gc", AM_EXACT, sandboxes_gc, RID_AGENT_SANDBOX, PERM_DELETE, false },
        { "GET", "/metrics", AM_EXACT, metrics, RID_AGENT_STATE, PERM_READ, false },
        { "GET", "/health", AM_EXACT, pong, NULL, 0, true },
        { "GET", "/ping", AM_EXACT, pong, NULL, 0, true },
        /* Open: the same names and addresses the agent's DNS port answers to anyone. Last. */
        { "GET", "/v1/", AM_DNS, dns_api, NULL, 0, true },
};

json_t *agent_api_routes_json(void) {
        json_t *arr = json_array();
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                const struct agent_route *rt = &routes[i];
                json_t *perm = rt->open       ? json_string("open")
                               : rt->perm_rid ? json_pack("{s:s,s:s}", "rid", rt->perm_rid, "action",
                                                          perm_action_name(rt->perm_action))
                                              : json_null();
                json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o}", "method", rt->method, "pattern", rt->pattern,
                                                     "match", rt->match == AM_EXACT      ? "exact"
                                                              : rt->match == AM_DNS ? "dns-api"
                                                                                    : "task-exec",
                                                     "permission", perm));
        }
        return arr;
}

/* GET /v1/auth/routes: this table, as the master's /v1/auth/routes lists its own. */
static void routes_list(struct agent *a, struct http_request *req) {
        reply_json(req, 200, json_pack("{s:o}", "routes", agent_api_routes_json()));
}

static bool route_hit(const struct agent_route *rt, const char *path) {
        if (rt->match == AM_EXACT)
                return streq(path, rt->pattern);
        if (rt->match == AM_DNS)
                return strncmp(path, "/v1/", 4) == 0 || strncmp(path, "/mesos_dns/v1/", 14) == 0;
        size_t plen = strlen(path);
        return strncmp(path, "/v1/tasks/", 10) == 0 && plen > 15 && streq(path + plen - 5, "/exec");
}

void agent_api_dispatch(struct http_request *req, void *data) {
        struct agent *a = data;
        const char *path = http_request_path(req);
        const char *method = http_request_method(req);
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                const struct agent_route *rt = &routes[i];
                if (!route_hit(rt, path))
                        continue;
                known = true;
                if (!streq(method, rt->method) && !(streq(method, "HEAD") && streq(rt->method, "GET")))
                        continue;
                if (rt->open)
                        rt->handler(a, req);
                else if (!rt->perm_rid) /* undeclared: nobody (test_agent_auth fails on it) */
                        reply_error(req, 403, "Forbidden: this route declares no permission");
                else
                        agent_auth_check(a, req, rt->perm_rid, rt->perm_action, rt->handler);
                return;
        }
        if (known)
                reply_error(req, 405, "Method not allowed here");
        else
                reply_error(req, 404, "URI not found");
}
