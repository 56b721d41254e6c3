/* agent_link.c — the agent's side of the subscription: find the leader, subscribe, decode the
 * RecordIO event stream, act on LAUNCH/KILL, resubscribe when the stream dies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/task_env.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

static void persist_identity(struct agent *a) {
        _cleanup_free_ char *path = xasprintf("%s/agent.json", a->cfg.data_dir);
        _cleanup_(json_decrefp) json_t *j = json_pack("{s:s?,s:I}", "agentId", a->agent_id, "maxTerm",
                                                      (json_int_t)a->max_term);
        _cleanup_free_ char *text = json_compact(j);
        struct err e = { 0 };
        if (file_write_atomic(path, text, strlen(text), &e) < 0)
                log_error("%s", err_msg(&e));
        err_release(&e);
}

static void reconnect_cb(uv_timer_t *t) {
        agent_subscribe(t->data);
}

void agent_resubscribe_later(struct agent *a) {
        if (a->stopping)
                return;
        if (a->sub) {
                http_client_cancel(a->client, a->sub);
                a->sub = NULL;
        }
        a->subscribed = false;
        unsigned jitter = a->backoff_ms / 4 ? (unsigned)(rand() % (int)(a->backoff_ms / 4 + 1)) : 0;
        uv_timer_start(&a->reconnect_timer, reconnect_cb, a->backoff_ms + jitter, 0);
        a->backoff_ms = a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff_ms * 2;
}

/* --- launching ----------------------------------------------------------------------------- */

static char **json_strv(const json_t *arr) {
        size_t n = json_array_size(arr);
        char **v = xcalloc(n + 1, sizeof *v);
        for (size_t i = 0; i < n; i++) {
                const char *s = json_string_value(json_array_get(arr, i));
                v[i] = xstrdup(s ? s : "");
        }
        return v;
}

static int build_spec(struct agent *a, const char *task_id, const json_t *app, const json_t *ports,
                      struct task_spec *spec, struct err *err) {
        size_t n = json_array_size(ports);
        int host_ports[64];
        if (n > 64)
                return err_set(err, -EINVAL, "more than 64 ports");
        for (size_t i = 0; i < n; i++)
                host_ports[i] = (int)json_integer_value(json_array_get(ports, i));
        struct task_env_input in = { .app = app, .task_id = task_id, .host = a->cfg.hostname,
                                     .host_ports = host_ports, .n_host_ports = n, .enforce_group_role = -1 };
        *spec = (struct task_spec){ 0 };
        int r = task_env_build(&in, &spec->env, err);
        if (r < 0)
                return r;
        spec->task_id = xstrdup(task_id);
        const char *cmd = json_string_value(json_object_get(app, "cmd"));
        const json_t *args = json_object_get(app, "args");
        if (cmd)
                spec->cmd = xstrdup(cmd);
        else if (json_array_size(args) > 0)
                spec->argv = json_strv(args);
        else
                return err_set(err, -EINVAL, "the app has neither cmd nor args (containers run on the OCI runtime)");
        const char *user = json_string_value(json_object_get(app, "user"));
        if (user)
                spec->user = xstrdup(user);
        spec->cpus = json_number_value(json_object_get(app, "cpus"));
        spec->mem_mib = json_number_value(json_object_get(app, "mem"));
        spec->disk_mib = json_number_value(json_object_get(app, "disk"));
        spec->gpus = (unsigned)json_integer_value(json_object_get(app, "gpus"));
        json_t *grace = json_object_get(app, "taskKillGracePeriodSeconds");
        spec->kill_grace_ms = json_is_number(grace) ? (int64_t)(json_number_value(grace) * 1000) : -1;
        const json_t *fetch = json_object_get(app, "fetch");
        spec->n_fetch = json_array_size(fetch);
        if (spec->n_fetch) {
                spec->fetch = xcalloc(spec->n_fetch, sizeof *spec->fetch);
                for (size_t i = 0; i < spec->n_fetch; i++) {
                        const json_t *f = json_array_get(fetch, i);
                        const char *uri = json_string_value(json_object_get(f, "uri"));
                        const char *dest = json_string_value(json_object_get(f, "destPath"));
                        spec->fetch[i].uri = xstrdup(uri ? uri : "");
                        spec->fetch[i].extract = json_is_true(json_object_get(f, "extract"));
                        spec->fetch[i].executable = json_is_true(json_object_get(f, "executable"));
                        spec->fetch[i].dest_path = dest ? xstrdup(dest) : NULL;
                }
        }
        return 0;
}

static void launch_one(struct agent *a, const json_t *apps, const json_t *task) {
        const char *task_id = json_string_value(json_object_get(task, "taskId"));
        const char *key = json_string_value(json_object_get(task, "app"));
        const json_t *app = key ? json_object_get(apps, key) : NULL;
        if (!task_id)
                return;
        struct runtime_task_info info;
        if (runtime_get(a->rt, task_id, &info) == 0)
                return; /* launches are idempotent by task id */
        struct err e = { 0 };
        struct task_spec spec;
        int r = app ? build_spec(a, task_id, app, json_object_get(task, "ports"), &spec, &e)
                    : err_set(&e, -EINVAL, "LAUNCH names app '%s' it does not carry", key ? key : "?");
        if (r == 0)
                r = runtime_launch(a->rt, &spec, &e);
        if (r < 0) {
                log_warn("cannot launch %s: %s", task_id, err_msg(&e));
                agent_updates_push(a, task_id, r == -EINVAL ? TASK_ERROR : TASK_FAILED, err_msg(&e),
                                   TASK_REASON_LAUNCH_FAILED, -1);
        }
        if (app)
                task_spec_release(&spec);
        err_release(&e);
}

/* --- events -------------------------------------------------------------------------------- */

static int on_record(const char *data, size_t len, void *userdata) {
        struct agent *a = userdata;
        struct err e = { 0 };
        /* The shared decoder (agent_proto.c, also the simulator's) checks every field. */
        if (agent_event_decode(&a->ev, data, len, &e) < 0) {
                log_warn("%s from the master; resubscribing", err_msg(&e));
                err_release(&e);
                return -EBADMSG;
        }
        const struct agent_event *ev = &a->ev;
        const char *type = ev->type == AGENT_EVENT_SUBSCRIBED ? "SUBSCRIBED"
                           : ev->type == AGENT_EVENT_LAUNCH   ? "LAUNCH"
                           : ev->type == AGENT_EVENT_KILL     ? "KILL"
                           : ev->type == AGENT_EVENT_HEARTBEAT ? "HEARTBEAT"
                                                              : "event";
        a->last_event_ms = time_now_ms();
        if (ev->term < a->max_term) {
                /* A deposed leader can do no harm (DESIGN §5). */
                log_warn("ignoring %s from a leader of term %llu (seen %llu)", type, (unsigned long long)ev->term,
                         (unsigned long long)a->max_term);
                return 0;
        }
        if (ev->term > a->max_term) {
                a->max_term = ev->term;
                persist_identity(a);
        }
        if (ev->type == AGENT_EVENT_SUBSCRIBED) {
                if (!a->agent_id || !streq(a->agent_id, ev->agent_id)) {
                        free(a->agent_id);
                        a->agent_id = xstrdup(ev->agent_id);
                        persist_identity(a);
                }
                a->heartbeat_s = ev->heartbeat_s > 0 && ev->heartbeat_s < 3600 ? (unsigned)ev->heartbeat_s : 2;
                a->subscribed = true;
                a->backoff_ms = BACKOFF_MIN_MS;
                log_info("subscribed as %s (term %llu)", ev->agent_id, (unsigned long long)ev->term);
                agent_updates_flush(a);
        } else if (ev->type == AGENT_EVENT_LAUNCH) {
                /* A real launch needs the app definitions too: those are read as a tree. */
                _cleanup_(json_decrefp) json_t *doc = json_loadb(data, len, 0, NULL);
                const json_t *apps = json_object_get(doc, "apps");
                size_t i;
                json_t *t;
                json_array_foreach(json_object_get(doc, "tasks"), i, t) launch_one(a, apps, t);
        } else if (ev->type == AGENT_EVENT_KILL) {
                size_t pos = 0;
                const char *id;
                while ((id = agent_event_next_id(ev, &pos))) {
                        struct err ke = { 0 };
                        if (runtime_kill(a->rt, id, ev->grace_s > 0 ? ev->grace_s * 1000 : -1, &ke) == -ENOENT)
                                agent_updates_push(a, id, TASK_KILLED, "Unknown task: nothing to kill", NULL, -1);
                        err_release(&ke);
                }
        }
        return 0;
}

static int on_data(void *data, const char *chunk, size_t len) {
        struct agent *a = data;
        struct err e = { 0 };
        int r = recordio_feed(&a->rio, chunk, len, on_record, a, &e);
        if (r < 0 && e.msg)
                log_warn("event stream: %s", err_msg(&e));
        err_release(&e);
        return r < 0 ? r : 0;
}

static void stream_done(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct agent *a = data;
        a->sub = NULL;
        a->subscribed = false;
        if (a->stopping)
                return;
        if (status < 0) {
                log_info("event stream from the master ended: %s", err_msg(err));
                free(a->leader_url);
                a->leader_url = NULL;
                a->master_idx = (a->master_idx + 1) % a->cfg.n_masters;
        } else {
                _cleanup_free_ char *leader = http_client_response_header(resp, "X-Marathon-Leader");
                if (resp->status == 503 && leader && (!a->leader_url || !streq(a->leader_url, leader))) {
                        free(a->leader_url);
                        a->leader_url = TAKE_PTR(leader);
                        a->backoff_ms = BACKOFF_MIN_MS;
                        agent_subscribe(a);
                        return;
                }
                if (resp->status != 200)
                        log_info("subscription refused: %ld %s", resp->status, resp->body);
                free(a->leader_url);
                a->leader_url = NULL;
                if (resp->status != 200)
                        a->master_idx = (a->master_idx + 1) % a->cfg.n_masters;
        }
        agent_resubscribe_later(a);
}

static void add_task(const struct runtime_task_info *info, void *data) {
        json_array_append_new(data, json_pack("{s:s,s:s}", "taskId", info->task_id, "state",
                                              task_state_to_string(info->state)));
}

void agent_subscribe(struct agent *a) {
        if (a->stopping || a->sub)
                return;
        recordio_release(&a->rio);
        recordio_init(&a->rio, 64 * 1024 * 1024);
        const char *base = a->leader_url ? a->leader_url : a->cfg.masters[a->master_idx];
        _cleanup_free_ char *url = xasprintf("%s/internal/v1/agents/subscribe", base);
        json_t *tasks = json_array();
        runtime_foreach(a->rt, add_task, tasks);
        _cleanup_(json_decrefp) json_t *body = json_pack(
                "{s:s?,s:s,s:s,s:O,s:O,s:o,s:I}", "agentId", a->agent_id, "hostname", a->cfg.hostname, "address",
                a->address, "resources", a->cfg.resources, "attributes", a->cfg.attributes, "tasks", tasks, "maxTerm",
                (json_int_t)a->max_term);
        _cleanup_free_ char *text = json_compact(body);
        static const char *const headers[] = { "Content-Type: application/json", "Accept: application/recordio", NULL };
        a->last_event_ms = time_now_ms();
        a->sub = http_client_stream(a->client, "POST", url, headers, text, strlen(text), -1, on_data, stream_done, a);
}

void agent_link_load_identity(struct agent *a) {
        _cleanup_free_ char *path = xasprintf("%s/agent.json", a->cfg.data_dir);
        _cleanup_(json_decrefp) json_t *j = json_load_file(path, 0, NULL);
        const char *id = json_string_value(json_object_get(j, "agentId"));
        if (id)
                a->agent_id = xstrdup(id);
        a->max_term = (uint64_t)json_integer_value(json_object_get(j, "maxTerm"));
        a->backoff_ms = BACKOFF_MIN_MS;
}
