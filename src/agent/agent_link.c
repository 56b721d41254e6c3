/* agent_link.c — the agent's side of the subscription: find the leader, subscribe, decode the
 * RecordIO event stream, act on LAUNCH/KILL, resubscribe when the stream dies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/dns_agent.h"
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

static bool docker_param_true(const json_t *params, const char *key) {
        size_t i;
        json_t *p;
        json_array_foreach(params, i, p) {
                const char *k = json_string_value(json_object_get(p, "key"));
                const char *v = json_string_value(json_object_get(p, "value"));
                if (k && streq(k, key) && (!v || streq(v, "true") || streq(v, "")))
                        return true;
        }
        return false;
}

static int64_t docker_param_int(const json_t *params, const char *key) {
        size_t i;
        json_t *p;
        json_array_foreach(params, i, p) {
                const char *k = json_string_value(json_object_get(p, "key"));
                const char *v = json_string_value(json_object_get(p, "value"));
                if (k && v && streq(k, key))
                        return strtoll(v, NULL, 10);
        }
        return 0;
}

/* Marathon's container with docker.image (type MESOS or DOCKER) → the OCI runtime's part of
 * the spec. Host ports come after the portDefinitions' ones, one per mapping with a hostPort
 * (the master's order). docker.parameters: "read-only" (rootfs) and "pids-limit". */
static int build_container(const json_t *app, const json_t *ports, struct task_spec *spec, struct err *err) {
        const json_t *c = json_object_get(app, "container");
        const json_t *docker = json_object_get(c, "docker");
        const char *image = json_string_value(json_object_get(docker, "image"));
        if (!image)
                return 0;
        struct task_container *tc = xcalloc(1, sizeof *tc);
        spec->container = tc;
        tc->image = xstrdup(image);
        tc->force_pull = json_is_true(json_object_get(docker, "forcePullImage"));
        /* pullConfig names an app secret; without a secret store on the agent, the value the app
         * carries (the secret's "source") is what there is: the runtime uses it when it is a
         * Docker config.json and fails the task clearly when it is not (docs/OPERATIONS.md). */
        const char *secret = json_string_value(json_object_get(json_object_get(docker, "pullConfig"), "secret"));
        if (secret) {
                const json_t *sv = json_object_get(json_object_get(app, "secrets"), secret);
                const char *source = json_string_value(json_object_get(sv, "source"));
                tc->pull_secret = xstrdup(secret);
                tc->pull_config = source ? xstrdup(source) : NULL;
        }
        const json_t *params = json_object_get(docker, "parameters");
        tc->read_only = docker_param_true(params, "read-only");
        int64_t pids = docker_param_int(params, "pids-limit");
        if (pids > 0)
                spec->pids_max = pids;
        tc->tty = json_is_true(json_object_get(app, "tty"));
        const json_t *net = json_array_get(json_object_get(app, "networks"), 0);
        const char *mode = json_string_value(json_object_get(net, "mode"));
        if (!mode || streq(mode, "host")) {
                tc->network = TASK_NET_HOST;
        } else if (streq(mode, "container/bridge")) {
                tc->network = TASK_NET_BRIDGE;
        } else {
                tc->network = TASK_NET_CONTAINER;
                const char *name = json_string_value(json_object_get(net, "name"));
                tc->network_name = name ? xstrdup(name) : NULL;
        }
        size_t off = json_array_size(json_object_get(app, "portDefinitions"));
        const json_t *maps = json_object_get(c, "portMappings");
        tc->ports = xcalloc(json_array_size(maps) + 1, sizeof *tc->ports);
        size_t i;
        const json_t *m;
        json_array_foreach(maps, i, m) {
                struct task_port_mapping *pm = &tc->ports[tc->n_ports++];
                pm->container_port = (int)json_integer_value(json_object_get(m, "containerPort"));
                const char *proto = json_string_value(json_object_get(m, "protocol"));
                pm->protocol = xstrdup(proto ? proto : "tcp");
                if (json_is_integer(json_object_get(m, "hostPort")))
                        pm->host_port = (int)json_integer_value(json_array_get(ports, off++));
        }
        const json_t *vols = json_object_get(c, "volumes");
        tc->volumes = xcalloc(json_array_size(vols) + 1, sizeof *tc->volumes);
        const json_t *v;
        json_array_foreach(vols, i, v) {
                const char *host = json_string_value(json_object_get(v, "hostPath"));
                const char *cpath = json_string_value(json_object_get(v, "containerPath"));
                if (!host || !cpath)
                        return err_set(err, -EINVAL, "container volume %zu: only hostPath volumes are supported", i);
                struct task_volume *tv = &tc->volumes[tc->n_volumes++];
                tv->host_path = xstrdup(host);
                tv->container_path = xstrdup(cpath);
                const char *vmode = json_string_value(json_object_get(v, "mode"));
                tv->readonly = vmode && streq(vmode, "RO");
        }
        return 0;
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
                                     .host_ports = host_ports, .n_host_ports = n, .enforce_group_role = -1,
                                     .dns_address = agent_dns_address(a) };
        *spec = (struct task_spec){ 0 };
        int r = task_env_build(&in, &spec->env, err);
        if (r < 0)
                return r;
        spec->task_id = xstrdup(task_id);
        const char *cmd = json_string_value(json_object_get(app, "cmd"));
        const json_t *args = json_object_get(app, "args");
        r = build_container(app, ports, spec, err);
        if (r < 0)
                return r;
        if (cmd)
                spec->cmd = xstrdup(cmd);
        else if (json_array_size(args) > 0) {
                if (strv_from_json(args, &spec->argv) < 0)
                        return err_set(err, -EINVAL, "the app's args must be strings");
        } else if (!spec->container)
                return err_set(err, -EINVAL, "the app has neither cmd nor args nor a container image");
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
        struct task_spec spec = { 0 }; /* released even when build_spec fails early */
        int r = app ? build_spec(a, task_id, app, json_object_get(task, "ports"), &spec, &e)
                    : err_set(&e, -EINVAL, "LAUNCH names app '%s' it does not carry", key ? key : "?");
        if (r == 0) {
                /* Checks are registered first: the runtime reports RUNNING on a later loop turn. */
                const json_t *jports = json_object_get(task, "ports");
                int ports[64];
                size_t n_ports = MIN(json_array_size(jports), ELEMENTSOF(ports));
                for (size_t i = 0; i < n_ports; i++)
                        ports[i] = (int)json_integer_value(json_array_get(jports, i));
                struct err he = { 0 };
                if (health_task_add(a->health, task_id, app, ports, n_ports, spec.env, spec.user, &he) < 0)
                        log_warn("task %s: health checks not set up: %s", task_id, err_msg(&he));
                err_release(&he);
                r = runtime_launch(a->rt, &spec, &e);
                if (r < 0)
                        health_task_ended(a->health, task_id, NULL, 0);
        }
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
                        struct runtime_task_info info;
                        bool running = runtime_get(a->rt, id, &info) == 0 && info.state == TASK_RUNNING;
                        int r = runtime_kill(a->rt, id, ev->grace_s > 0 ? ev->grace_s * 1000 : -1, &ke);
                        if (r == -ENOENT)
                                agent_updates_push(a, id, TASK_KILLED, "Unknown task: nothing to kill", NULL, -1);
                        else if (r >= 0 && running)
                                /* Mesos' TASK_KILLING: the task is still up for its grace period, but
                                 * clients (load balancers, service discovery) must stop sending it
                                 * work now. */
                                agent_updates_push(a, id, TASK_KILLING, "Killing the task", NULL, -1);
                        err_release(&ke);
                }
        } else if (ev->type == AGENT_EVENT_OTHER) {
                _cleanup_(json_decrefp) json_t *doc = json_loadb(data, len, 0, NULL);
                if (streq(json_string_value(json_object_get(doc, "type")) ?: "", "NETWORKS"))
                        agent_net_update(a, doc);
                else
                        agent_dns_event(a, doc); /* DISCOVERY_* (master/discovery.h) */
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
                if (resp->status == 401)
                        auth_client_refused(&a->auth);
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
        const char *auth = auth_client_header(&a->auth, base);
        if (!auth && a->auth.logging_in) { /* the login's end resubscribes (agent_start) */
                agent_resubscribe_later(a);
                return;
        }
        const char *const headers[] = { "Content-Type: application/json", "Accept: application/recordio", auth, NULL };
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
