/* api_tasks.c — tasks as Marathon shows them (/v2/tasks, /v2/apps/{id}/tasks), agents as
 * Strata and Mesos show them (/v1/nodes, /master/slaves, /master/state). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/api_tasks.h"
#include "master/health_monitor.h"
#include "master/master_internal.h"
#include "master/queue_offers.h"
#include "model/task_id.h"
#include "store/cluster_state.h"

static json_t *ts_or_null(int64_t ms) {
        if (ms <= 0)
                return json_null();
        char buf[25];
        time_format_ms(ms, buf);
        return json_string(buf);
}

/* Sets key to ms as an ISO timestamp; Marathon omits stagedAt/startedAt a task has not reached
 * (task.raml: `startedAt?: string`, never null). */
static void set_ts(json_t *t, const char *key, int64_t ms) {
        if (ms <= 0)
                return;
        char buf[25];
        time_format_ms(ms, buf);
        json_object_set_new(t, key, json_string(buf));
}

/* The agent's IP: the host part of its address. */
static char *agent_ip(const struct agent *a) {
        if (!a || !a->address)
                return NULL;
        const char *colon = strrchr(a->address, ':');
        return xstrndup(a->address, colon ? (size_t)(colon - a->address) : strlen(a->address));
}

/* Marathon's API writes its RAML types with None fields left out (the generated writers filter
 * `_._2 != JsNull`); the health results Strata keeps say null for "never". Takes results. */
static json_t *without_nulls(json_t *results) {
        size_t idx;
        json_t *r;
        json_array_foreach(results, idx, r) {
                const char *k;
                json_t *v;
                void *tmp;
                json_object_foreach_safe(r, tmp, k, v)
                        if (json_is_null(v))
                                json_object_del(r, k);
        }
        return results;
}

json_t *task_to_json(const struct state *st, const struct instance *i, bool service_ports) {
        const struct agent *a = i->agent_id ? state_agent_get(st, i->agent_id) : NULL;
        json_t *ports = json_array();
        for (size_t p = 0; p < i->n_ports; p++)
                json_array_append_new(ports, json_integer(i->ports[p]));
        json_t *t = json_pack("{s:s,s:s,s:s?,s:s?,s:s,s:o,s:s,s:s}", "id", i->id, "appId", i->app_id, "host",
                              a ? a->hostname : NULL, "slaveId", i->agent_id, "state",
                              task_state_to_string((enum task_state)i->state), "ports", ports, "version", i->version,
                              "role", "*");
        set_ts(t, "stagedAt", i->staged_at);
        set_ts(t, "startedAt", i->started_at);
        /* The task's own IP on a container network, else the agent's (Marathon's host IP). */
        char own[16];
        _cleanup_free_ char *ip = instance_ip(i, own) ? xstrdup(own) : agent_ip(a);
        json_object_set_new(t, "ipAddresses",
                            ip ? json_pack("[{s:s,s:s}]", "ipAddress", ip, "protocol", "IPv4") : json_array());
        json_object_set_new(t, "localVolumes", json_array());
        json_object_set_new(t, "healthCheckResults", without_nulls(health_monitor_results_json(i)));
        if (service_ports) {
                json_t *sp = json_array();
                const json_t *app = state_app_get(st, i->app_id);
                size_t idx;
                json_t *pd;
                json_array_foreach(json_object_get(app, "portDefinitions"), idx, pd)
                        json_array_append(sp, json_object_get(pd, "port"));
                json_t *pms = json_object_get(json_object_get(app, "container"), "portMappings");
                json_array_foreach(pms, idx, pd)
                        json_array_append(sp, json_object_get(pd, "servicePort"));
                json_object_set_new(t, "servicePorts", sp);
        }
        /* i->message (the agent's reason) is no field of Marathon's Task: strict clients reject
         * it. It travels in status_update_event and lastTaskFailure, as in Marathon. */
        return t;
}

struct tasks_ctx {
        const struct state *st;
        json_t *tasks;
        bool service_ports;
        unsigned filter; /* bit per task state; 0 = all */
        const struct api_call *call; /* GET /v2/tasks: only the tasks of apps the caller may read */
};

static int add_task(const struct instance *i, void *data) {
        struct tasks_ctx *c = data;
        if (c->filter && !(c->filter & (1u << i->state)))
                return 0;
        if (c->call && !auth_may(c->call, RID_SERVICES, i->app_id, PERM_READ)) /* master/auth.h */
                return 0;
        json_array_append_new(c->tasks, task_to_json(c->st, i, c->service_ports));
        return 0;
}

json_t *app_tasks_json(const struct state *st, const char *app_id) {
        struct tasks_ctx c = { st, json_array(), false, 0 };
        state_app_instances_foreach(st, app_id, add_task, &c);
        return c.tasks;
}

static void status_filter(const char *v, void *data) {
        unsigned *f = data;
        if (strcasecmp(v, "running") == 0)
                *f |= 1u << TASK_RUNNING;
        else if (strcasecmp(v, "staging") == 0)
                *f |= (1u << TASK_STAGING) | (1u << TASK_STARTING);
}

void api_tasks_list(struct api_call *call) {
        struct tasks_ctx c = { store_state(call->m->store), json_array(), true, 0, call };
        http_request_args_foreach(call->req, "status", status_filter, &c.filter);
        http_request_args_foreach(call->req, "status[]", status_filter, &c.filter);
        state_instances_foreach(c.st, add_task, &c);
        api_reply_json(call, 200, json_pack("{s:o}", "tasks", c.tasks));
}

void api_app_tasks(struct api_call *call) {
        const struct state *st = store_state(call->m->store);
        if (!state_app_get(st, call->id)) {
                api_reply_error(call, 404, "App '%s' does not exist", call->id);
                return;
        }
        api_reply_json(call, 200, json_pack("{s:o}", "tasks", app_tasks_json(st, call->id)));
}

/* --- agents ------------------------------------------------------------------------------- */

static json_t *ports_array(const struct agent *a) {
        json_t *r = json_array();
        for (size_t p = 0; p < a->n_ports; p++)
                json_array_append_new(r, json_pack("[i,i]", a->ports[p].begin, a->ports[p].end));
        return r;
}

/* Mesos' range string: "[31000-31005, 31010-31010]". */
static char *ports_string(const struct agent *a) {
        struct strbuf sb = { 0 };
        strbuf_puts(&sb, "[");
        for (size_t p = 0; p < a->n_ports; p++)
                strbuf_printf(&sb, "%s%u-%u", p ? ", " : "", a->ports[p].begin, a->ports[p].end);
        strbuf_puts(&sb, "]");
        return strbuf_steal(&sb);
}

json_t *node_to_json(struct master *m, const struct agent *a) {
        int64_t seen = agent_link_last_seen(&m->core.agents, a->id);
        return json_pack("{s:s,s:s,s:s,s:s,s:{s:f,s:f,s:f,s:f,s:o},s:{s:f,s:f,s:f,s:f},s:O,s:I,s:o,s:o,s:b}", "id",
                         a->id, "hostname", a->hostname, "address", a->address, "state",
                         agent_state_to_string(a->state), "resources", "cpus", a->cpus, "mem", a->mem, "disk", a->disk,
                         "gpus", a->gpus, "ports", ports_array(a), "used", "cpus", a->used_cpus, "mem", a->used_mem,
                         "disk", a->used_disk, "gpus", a->used_gpus, "attributes", a->attributes, "tasks",
                         (json_int_t)a->n_instances, "registeredAt", ts_or_null(a->registered_at), "lastHeartbeat",
                         ts_or_null(seen), "connected", agent_link_connected(&m->core.agents, a->id));
}

struct nodes_ctx {
        struct master *m;
        json_t *nodes;
        bool mesos;
};

/* Mesos attributes: numbers where the value is a scalar, strings otherwise. */
static json_t *mesos_attributes(const json_t *attrs) {
        json_t *o = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)attrs, k, v) {
                const char *s = json_string_value(v);
                char *end;
                double d = s ? strtod(s, &end) : 0;
                if (s && *s && !*end)
                        json_object_set_new(o, k, json_real(d));
                else
                        json_object_set(o, k, v);
        }
        return o;
}

json_t *mesos_slave_json(const struct agent *a) {
        _cleanup_free_ char *ports = ports_string(a);
        _cleanup_free_ char *ip = agent_ip(a);
        const char *colon = a->address ? strrchr(a->address, ':') : NULL;
        int port = colon ? atoi(colon + 1) : 5051;
        _cleanup_free_ char *pid = xasprintf("slave(1)@%s:%d", ip ? ip : a->hostname, port);
        return json_pack("{s:s,s:s,s:i,s:s,s:o,s:f,s:{s:f,s:f,s:f,s:f,s:s},s:{s:f,s:f,s:f,s:f},s:{},s:b,s:b,s:s}",
                         "id", a->id, "hostname", a->hostname, "port", port, "pid", pid, "attributes",
                         mesos_attributes(a->attributes), "registered_time", (double)a->registered_at / 1000.0,
                         "resources", "cpus", a->cpus, "mem", a->mem, "disk", a->disk, "gpus", a->gpus, "ports", ports,
                         "used_resources", "cpus", a->used_cpus, "mem", a->used_mem, "disk", a->used_disk, "gpus",
                         a->used_gpus, "offered_resources", "active", a->state == AGENT_ACTIVE, "deactivated",
                         a->state != AGENT_ACTIVE, "version", "1.11.0");
}

static int add_node(const struct agent *a, void *data) {
        struct nodes_ctx *c = data;
        json_array_append_new(c->nodes, c->mesos ? mesos_slave_json(a) : node_to_json(c->m, a));
        return 0;
}

void api_nodes_list(struct api_call *call) {
        struct nodes_ctx c = { call->m, json_array(), false };
        state_agents_foreach(store_state(call->m->store), add_node, &c);
        api_reply_json(call, 200, json_pack("{s:o}", "nodes", c.nodes));
}

void api_node_get(struct api_call *call) {
        const struct agent *a = state_agent_get(store_state(call->m->store), call->id + 1);
        if (!a) {
                api_reply_error(call, 404, "Node '%s' does not exist", call->id + 1);
                return;
        }
        api_reply_json(call, 200, json_pack("{s:o}", "node", node_to_json(call->m, a)));
}

void api_mesos_slaves(struct api_call *call) {
        struct nodes_ctx c = { call->m, json_array(), true };
        state_agents_foreach(store_state(call->m->store), add_node, &c);
        api_reply_json(call, 200, json_pack("{s:o,s:[]}", "slaves", c.nodes, "recovered_slaves"));
}

/* --- /master/state ------------------------------------------------------------------------ */

/* Mesos task name for a Marathon app: path segments reversed, joined by dots (/shop/db → db.shop). */
static char *mesos_task_name(const char *app_id) {
        struct strbuf sb = { 0 };
        const char *end = app_id + strlen(app_id);
        while (end > app_id) {
                const char *seg = end;
                while (seg > app_id && seg[-1] != '/')
                        seg--;
                if (end > seg) {
                        if (sb.len)
                                strbuf_puts(&sb, ".");
                        strbuf_append(&sb, seg, (size_t)(end - seg));
                }
                end = seg > app_id ? seg - 1 : seg;
        }
        return strbuf_steal(&sb);
}

struct mstate_ctx {
        const struct state *st;
        json_t *tasks, *completed;
};

static int add_mesos_task(const struct instance *i, void *data) {
        struct mstate_ctx *c = data;
        _cleanup_free_ char *name = mesos_task_name(i->app_id);
        const json_t *app = state_app_get(c->st, i->app_id);
        struct strbuf ports = { 0 };
        strbuf_puts(&ports, "[");
        for (size_t p = 0; p < i->n_ports; p++)
                strbuf_printf(&ports, "%s%u-%u", p ? ", " : "", i->ports[p], i->ports[p]);
        strbuf_puts(&ports, "]");
        _cleanup_free_ char *ps = strbuf_steal(&ports);
        json_t *dports = json_array();
        size_t idx;
        json_t *pd;
        json_array_foreach(json_object_get(app, "portDefinitions"), idx, pd) {
                json_t *labels = json_array();
                const char *k;
                json_t *v;
                json_object_foreach(json_object_get(pd, "labels"), k, v)
                        json_array_append_new(labels, json_pack("{s:s,s:O}", "key", k, "value", v));
                json_t *e = json_pack("{s:I,s:s,s:{s:o}}", "number",
                                      (json_int_t)(idx < i->n_ports ? i->ports[idx] : 0), "protocol",
                                      json_string_value(json_object_get(pd, "protocol")) ?: "tcp", "labels", "labels",
                                      labels);
                if (json_object_get(pd, "name"))
                        json_object_set(e, "name", json_object_get(pd, "name"));
                json_array_append_new(dports, e);
        }
        json_t *t = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:{s:f,s:f,s:f,s:f,s:s},s:s,s:[{s:s,s:f}],"
                              "s:{s:s,s:s,s:{s:o}}}",
                              "id", i->id, "name", name, "framework_id", "strata-marathon", "executor_id", "",
                              "slave_id", i->agent_id, "state", task_state_to_string((enum task_state)i->state),
                              "resources", "cpus", (double)i->cpus, "mem", (double)i->mem, "disk", (double)i->disk,
                              "gpus", (double)i->gpus, "ports", ps, "role", "*", "statuses", "state",
                              task_state_to_string((enum task_state)i->state), "timestamp",
                              (double)i->updated_at / 1000.0, "discovery", "visibility", "FRAMEWORK", "name", name,
                              "ports", "ports", dports);
        /* Mesos: statuses[].container_status.network_infos[].ip_addresses[].ip_address */
        char own[16];
        _cleanup_free_ char *ip = instance_ip(i, own) ? xstrdup(own) : agent_ip(
                i->agent_id ? state_agent_get(c->st, i->agent_id) : NULL);
        if (ip)
                json_object_set_new(json_array_get(json_object_get(t, "statuses"), 0), "container_status",
                                    json_pack("{s:[{s:[{s:s,s:s}]}]}", "network_infos", "ip_addresses", "protocol",
                                              "IPv4", "ip_address", ip));
        bool done = task_state_is_terminal((enum task_state)i->state);
        json_array_append_new(done ? c->completed : c->tasks, t);
        return 0;
}

void api_mesos_state(struct api_call *call) {
        struct master *m = call->m;
        const struct state *st = store_state(m->store);
        struct store_status ss;
        store_status(m->store, &ss);
        const char *leader = ss.is_leader ? m->http_advertised : ss.leader_http;
        _cleanup_free_ char *pid = xasprintf("master@%s", m->http_advertised);
        _cleanup_free_ char *lpid = leader ? xasprintf("master@%s", leader) : xstrdup("");
        struct nodes_ctx nc = { m, json_array(), true };
        state_agents_foreach(st, add_node, &nc);
        struct mstate_ctx mc = { st, json_array(), json_array() };
        state_instances_foreach(st, add_mesos_task, &mc);
        _cleanup_free_ char *webui = xasprintf("http://%s", m->http_advertised);
        json_t *fw = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:o,s:[],s:o,s:[]}", "id", "strata-marathon", "name",
                               "marathon", "hostname", m->cfg.advertise, "webui_url", webui, "active", 1, "connected", 1,
                               "role", "*", "tasks", mc.tasks, "unreachable_tasks", "completed_tasks", mc.completed,
                               "executors");
        size_t active = 0;
        size_t idx;
        json_t *sl;
        json_array_foreach(nc.nodes, idx, sl) active += json_is_true(json_object_get(sl, "active"));
        json_t *body = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o,s:[o],s:[],s:[],s:[],s:{}}", "version", "1.11.0",
                                 "id", "strata-master", "pid", pid, "hostname", m->cfg.advertise, "leader", lpid,
                                 "activated_slaves", (json_int_t)active, "deactivated_slaves",
                                 (json_int_t)(json_array_size(nc.nodes) - active), "slaves", nc.nodes, "frameworks", fw,
                                 "completed_frameworks", "orphan_tasks", "unregistered_frameworks", "flags");
        api_reply_json(call, 200, body);
}

/* --- killing tasks ------------------------------------------------------------------------- */

struct kill_ctx {
        struct api_call *call;
        json_t *killed; /* task objects */
        char deployment[37];
};

static void scaled_cb(void *data, int status, json_t *result, struct err *err) {
        struct kill_ctx *k = data;
        if (status < 0) {
                api_reply_err(k->call, err);
        } else {
                const char *version = json_string_value(json_object_get(json_object_get(result, "app"), "version"));
                http_request_add_header(k->call->req, "Marathon-Deployment-Id", k->deployment);
                api_reply_json(k->call, 200, json_pack("{s:s,s:s?}", "deploymentId", k->deployment, "version", version));
        }
        json_decref(k->killed);
        free(k);
}

/* Kills the instances whose ids are in `ids` (all known), then answers per Marathon:
 * scale=true → the app's instance count drops by the number killed and the answer is a
 * deployment; otherwise the killed tasks ({"tasks":[…]} or {"task":…} when single). */
static void kill_and_reply(struct api_call *call, json_t *ids, const char *app_id, bool single) {
        struct master *m = call->m;
        const struct state *st = store_state(m->store);
        bool scale = api_arg_bool(call, "scale", false), wipe = api_arg_bool(call, "wipe", false);
        if (scale && wipe) {
                json_decref(ids);
                api_reply_error(call, 400, "You cannot use scale and wipe at the same time.");
                return;
        }
        json_t *killed = json_array();
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id) {
                const struct instance *inst = state_instance_get(st, json_string_value(id));
                if (inst)
                        json_array_append_new(killed, task_to_json(st, inst, false));
        }
        launcher_kill(&m->core.launcher, ids, wipe);
        if (scale && app_id) {
                const json_t *app = state_app_get(st, app_id);
                json_int_t n = json_integer_value(json_object_get(app, "instances"));
                json_int_t left = n - (json_int_t)json_array_size(killed);
                struct kill_ctx *k = xcalloc(1, sizeof *k);
                k->call = call;
                k->killed = killed;
                uuid_random(k->deployment);
                char ts[25];
                time_format_ms(time_now_ms(), ts);
                store_submit(m->store,
                             json_pack("{s:s,s:i,s:s,s:{s:I},s:b,s:b,s:s,s:s}", "type", "app_update", "v", 1, "id", app_id,
                                       "update", "instances", left < 0 ? 0 : left, "partial", 1, "create", 0, "ts", ts,
                                       "deploymentId", k->deployment),
                             scaled_cb, k);
                json_decref(ids);
                return;
        }
        json_decref(ids);
        if (single)
                api_reply_json(call, 200, json_pack("{s:O}", "task", json_array_get(killed, 0)));
        else
                api_reply_json(call, 200, json_pack("{s:O}", "tasks", killed));
        json_decref(killed);
}

struct host_ctx {
        const struct state *st;
        const char *host;
        json_t *ids;
};

static int collect_on_host(const struct instance *i, void *data) {
        struct host_ctx *c = data;
        if (task_state_is_terminal((enum task_state)i->state))
                return 0;
        if (c->host && !streq(c->host, "*")) {
                const struct agent *a = i->agent_id ? state_agent_get(c->st, i->agent_id) : NULL;
                if (!a || !streq(a->hostname, c->host))
                        return 0;
        }
        json_array_append_new(c->ids, json_string(i->id));
        return 0;
}

/* DELETE /v2/apps/{id}/tasks[/{taskId}] */
void api_app_tasks_kill(struct api_call *call) {
        const struct state *st = store_state(call->m->store);
        if (!state_app_get(st, call->id)) {
                api_reply_error(call, 404, "App '%s' does not exist", call->id);
                return;
        }
        const char *task = strncmp(call->sub, "tasks/", 6) == 0 ? call->sub + 6 : NULL;
        if (task) {
                const struct instance *i = state_instance_get(st, task);
                if (!i || !streq(i->app_id, call->id)) {
                        api_reply_error(call, 404, "Task '%s' does not exist", task);
                        return;
                }
                kill_and_reply(call, json_pack("[s]", task), call->id, true);
                return;
        }
        struct host_ctx c = { st, http_request_arg(call->req, "host"), json_array() };
        state_app_instances_foreach(st, call->id, collect_on_host, &c);
        kill_and_reply(call, c.ids, call->id, false);
}

/* POST /v2/tasks/delete {"ids":[…]} */
void api_tasks_delete(struct api_call *call) {
        const struct state *st = store_state(call->m->store);
        json_t *ids = json_object_get(call->body, "ids");
        if (!json_is_array(ids) || json_array_size(ids) > 10000) {
                api_reply_error(call, 400, "Expected {\"ids\": [task ids]} (at most 10000)");
                return;
        }
        size_t i;
        json_t *id;
        const char *app_id = NULL;
        json_t *known = json_array();
        json_array_foreach(ids, i, id) {
                const struct instance *inst = json_is_string(id) ? state_instance_get(st, json_string_value(id)) : NULL;
                _cleanup_free_ char *app = NULL;
                struct err e = { 0 };
                if (!json_is_string(id) || task_id_parse(json_string_value(id), &app, &e) < 0) {
                        json_decref(known);
                        /* Marathon: an id it cannot parse (any of its forms) is a 400. */
                        api_reply_error(call, 400, "%s", json_is_string(id) ? err_msg(&e) : "Task ids must be strings");
                        err_release(&e);
                        return;
                }
                if (!inst)
                        continue; /* Marathon ignores unknown ids here */
                json_array_append(known, id);
                app_id = inst->app_id;
        }
        /* scale=true across several apps scales the app of the last id: Marathon scales each app;
         * with one app (the common case) this is exact. */
        kill_and_reply(call, known, app_id, false);
}

static void embed_offers(const char *value, void *data) {
        *(bool *)data |= streq(value, "lastUnusedOffers");
}

void api_queue_list(struct api_call *call) {
        json_t *body = launcher_queue_json(&call->m->core.launcher);
        auth_filter_items(call, json_object_get(body, "queue"), "app"); /* a tenant sees its own (auth.h) */
        bool offers = false;
        http_request_args_foreach(call->req, "embed", embed_offers, &offers);
        if (offers)
                queue_offers_embed(store_state(call->m->store), body);
        api_reply_json(call, 200, body);
}

/* DELETE /v2/queue/{id}/delay */
void api_queue_delay_reset(struct api_call *call) {
        if (!launcher_reset_delay(&call->m->core.launcher, call->id)) {
                api_reply_error(call, 404, "Application %s not found in tasks queue.", call->id);
                return;
        }
        api_reply_text(call, 204, "application/json", "");
}
