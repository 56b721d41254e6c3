/* agent_link.c — subscriptions, status updates, liveness and reconciliation for agents. */
#include "master/agent_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "store/cluster_state.h"

#define MAX_REPORTED_TASKS 100000
#define MAX_UPDATES 10000
#define SWEEP_MS 1000

struct agent_conn {
        char *agent_id;
        struct agent_link *link;
        struct agent_stream stream;  /* ops NULL when the agent has no open stream */
        int64_t last_seen;           /* ms */
        int64_t last_heartbeat_sent; /* ms */
        bool unreachable_pending;    /* an agent_state command is in flight */
};

static uint64_t current_term(struct agent_link *l) {
        return core_term(l->log);
}

/* Ends the conn's stream, if any. */
static void conn_end(struct agent_conn *c) {
        struct agent_stream s = c->stream;
        c->stream = (struct agent_stream){ 0 };
        if (s.ops)
                s.ops->end(s.impl);
}

static void conn_free(struct agent_conn *c) {
        if (!c)
                return;
        conn_end(c);
        free(c->agent_id);
        free(c);
}

static int64_t now_ms(struct agent_link *l) {
        return clock_now_ms(l->clock);
}

/* One whole record ("<length>\n<json>") to the conn's stream. A stream that refuses it is
 * gone already (the transport reports it closed). */
static bool conn_write(struct agent_conn *c, const char *body, size_t n) {
        if (!c->stream.ops)
                return false;
        char head[32];
        int hn = snprintf(head, sizeof head, "%zu\n", n);
        return c->stream.ops->write(c->stream.impl, head, (size_t)hn, body, n) >= 0;
}

static struct agent_conn *conn_get(struct agent_link *l, const char *id, bool create) {
        struct agent_conn *c = hashmap_get(&l->conns, id);
        if (c || !create)
                return c;
        c = xcalloc(1, sizeof *c);
        c->agent_id = xstrdup(id);
        c->link = l;
        hashmap_put(&l->conns, c->agent_id, c);
        return c;
}

/* One RecordIO record: "<length>\n<json>". */
static bool send_event(struct agent_conn *c, json_t *ev) {
        if (!c->stream.ops) {
                json_decref(ev);
                return false;
        }
        json_object_set_new(ev, "term", json_integer((json_int_t)current_term(c->link)));
        _cleanup_free_ char *body = json_compact(ev);
        json_decref(ev);
        return conn_write(c, body, strlen(body));
}

void agent_link_stream_closed(struct agent_link *l, const char *agent_id, void *impl) {
        struct agent_conn *c = hashmap_get(&l->conns, agent_id);
        if (c && c->stream.ops && c->stream.impl == impl) {
                c->stream = (struct agent_stream){ 0 };
                log_info("agent %s: event stream closed", c->agent_id);
        }
}

bool agent_link_connected(const struct agent_link *l, const char *agent_id) {
        struct agent_conn *c = hashmap_get(&l->conns, agent_id);
        return c && c->stream.ops;
}

size_t agent_link_send(struct agent_link *l, const char *agent_id, json_t *ev) {
        if (agent_id) {
                struct agent_conn *c = hashmap_get(&l->conns, agent_id);
                if (!c) {
                        json_decref(ev);
                        return 0;
                }
                return send_event(c, ev);
        }
        size_t n = 0, pos = 0;
        void *v;
        while (hashmap_next(&l->conns, &pos, NULL, &v))
                if (((struct agent_conn *)v)->stream.ops)
                        n += send_event(v, json_incref(ev));
        json_decref(ev);
        return n;
}

void agent_link_set_subscribed_hook(struct agent_link *l, agent_link_subscribed_cb cb, void *data) {
        l->on_subscribed = cb;
        l->subscribed_data = data;
}

void agent_link_set_task_owner(struct agent_link *l, const struct agent_link_task_owner *owner) {
        l->owner = owner ? *owner : (struct agent_link_task_owner){ 0 };
}

int64_t agent_link_last_seen(const struct agent_link *l, const char *agent_id) {
        struct agent_conn *c = hashmap_get(&l->conns, agent_id);
        return c ? c->last_seen : 0;
}

bool agent_link_launch_text(struct agent_link *l, const char *agent_id, const char *apps_text, json_t *tasks) {
        struct agent_conn *c = hashmap_get(&l->conns, agent_id);
        if (!c || !c->stream.ops)
                return false;
        _cleanup_free_ char *tasks_text = json_compact(tasks);
        struct strbuf body = { 0 };
        strbuf_printf(&body, "{\"type\":\"LAUNCH\",\"term\":%llu,\"apps\":%s,\"tasks\":%s}",
                      (unsigned long long)current_term(c->link), apps_text, tasks_text);
        bool ok = conn_write(c, body.buf, body.len);
        strbuf_release(&body);
        return ok;
}

size_t agent_link_send_framed(struct agent_link *l, const char *agent_id, const char *type, const char *members) {
        struct strbuf body = { 0 };
        strbuf_printf(&body, "{\"type\":\"%s\",\"term\":%llu%s%s}", type, (unsigned long long)current_term(l),
                      *members ? "," : "", members);
        size_t sent = 0, pos = 0;
        void *v;
        struct agent_conn *only = agent_id ? hashmap_get(&l->conns, agent_id) : NULL;
        while (agent_id ? (v = only, only = NULL, v != NULL) : hashmap_next(&l->conns, &pos, NULL, &v)) {
                struct agent_conn *c = v;
                if (conn_write(c, body.buf, body.len))
                        sent++;
        }
        strbuf_release(&body);
        return sent;
}

bool agent_link_kill(struct agent_link *l, const char *agent_id, json_t *task_ids, unsigned grace_s) {
        struct agent_conn *c = hashmap_get(&l->conns, agent_id);
        json_t *ev = json_pack("{s:s,s:O,s:i}", "type", "KILL", "taskIds", task_ids, "gracePeriodSeconds", grace_s);
        if (!c) {
                json_decref(ev);
                return false;
        }
        return send_event(c, ev);
}

static bool tx_launch(void *impl, const char *agent_id, const char *apps_text, json_t *tasks) {
        return agent_link_launch_text(impl, agent_id, apps_text, tasks);
}

static bool tx_kill(void *impl, const char *agent_id, json_t *task_ids, unsigned grace_s) {
        return agent_link_kill(impl, agent_id, task_ids, grace_s);
}

struct agent_tx agent_link_tx(struct agent_link *l) {
        static const struct agent_tx_ops ops = { .launch_text = tx_launch, .kill = tx_kill };
        return (struct agent_tx){ &ops, l };
}

/* --- liveness ------------------------------------------------------------------------------ */

static void unreachable_done(void *data, int status, json_t *result, struct err *err) {
        char *agent_id = data;
        if (status < 0)
                log_warn("agent %s: cannot mark unreachable: %s", agent_id, err_msg(err));
        free(agent_id);
}

struct collect_ctx {
        json_t *updates;
        int64_t now;
};

static int collect_unreachable(const struct instance *i, void *data) {
        struct collect_ctx *c = data;
        if (task_state_is_terminal((enum task_state)i->state) || i->state == TASK_UNREACHABLE)
                return 0;
        json_array_append_new(c->updates, json_pack("{s:s,s:s,s:s,s:I}", "id", i->id, "state", "TASK_UNREACHABLE",
                                                    "message", "Agent is unreachable", "ts", (json_int_t)c->now));
        return 0;
}

static void mark_unreachable(struct agent_link *l, struct agent_conn *c, int64_t now) {
        struct state *st = core_state(l->log);
        log_warn("agent %s: no heartbeat for %u s, marking it unreachable", c->agent_id, l->cfg.agent_timeout_s);
        core_submit(l->log,
                     json_pack("{s:s,s:i,s:s,s:s}", "type", "agent_state", "v", 1, "id", c->agent_id, "state",
                               "unreachable"),
                     unreachable_done, xstrdup(c->agent_id));
        struct collect_ctx cc = { json_array(), now };
        state_agent_instances_foreach(st, c->agent_id, collect_unreachable, &cc);
        if (json_array_size(cc.updates) > 0)
                core_submit(l->log, json_pack("{s:s,s:i,s:o}", "type", "instances_status", "v", 1, "updates", cc.updates),
                            unreachable_done, xstrdup(c->agent_id));
        else
                json_decref(cc.updates);
        conn_end(c);
}

static void sweep_cb(struct clock_timer *t, void *data) {
        struct agent_link *l = data;
        if (!l->leading)
                return;
        clock_timer_start(l->sweep, SWEEP_MS);
        int64_t now = now_ms(l);
        /* A stalled loop: what the agents sent meanwhile waits unread behind this timer. */
        int64_t credit = l->last_sweep_ms && now - l->last_sweep_ms > 2 * SWEEP_MS
                                 ? now - l->last_sweep_ms - SWEEP_MS : 0;
        if (credit > 0)
                log_warn("agent link: the loop was stalled for %lld ms; agents' silence meanwhile is not counted",
                         (long long)credit);
        l->last_sweep_ms = now;
        struct state *st = core_state(l->log);
        size_t pos = 0;
        void *v;
        while (hashmap_next(&l->conns, &pos, NULL, &v)) {
                struct agent_conn *c = v;
                if (credit > 0)
                        c->last_seen = MIN(now, c->last_seen + credit);
                if (c->stream.ops && now - c->last_heartbeat_sent >= (int64_t)l->cfg.heartbeat_interval_s * 1000) {
                        c->last_heartbeat_sent = now;
                        send_event(c, json_pack("{s:s}", "type", "HEARTBEAT"));
                }
                const struct agent *a = state_agent_get(st, c->agent_id);
                if (a && a->state == AGENT_ACTIVE && now - c->last_seen > (int64_t)l->cfg.agent_timeout_s * 1000)
                        mark_unreachable(l, c, now);
        }
}

static int seed_agent(const struct agent *a, void *data) {
        struct agent_link *l = data;
        struct agent_conn *c = conn_get(l, a->id, true);
        c->last_seen = now_ms(l);
        return 0;
}

void agent_link_leadership(struct agent_link *l, bool leading) {
        if (leading == l->leading)
                return;
        l->leading = leading;
        if (leading) {
                /* Every agent gets a full timeout from now to find us before it is unreachable. */
                state_agents_foreach(core_state(l->log), seed_agent, l);
                l->last_sweep_ms = 0;
                clock_timer_start(l->sweep, SWEEP_MS);
                return;
        }
        clock_timer_stop(l->sweep);
        size_t pos = 0;
        void *v;
        while (hashmap_next(&l->conns, &pos, NULL, &v))
                conn_free(v);
        hashmap_release(&l->conns);
        hashmap_init(&l->conns);
}

void agent_link_init(struct agent_link *l, const struct core_log *log, struct clock *clock,
                     const struct agent_link_config *cfg) {
        *l = (struct agent_link){ .log = log, .clock = clock };
        l->cfg.heartbeat_interval_s = cfg && cfg->heartbeat_interval_s ? cfg->heartbeat_interval_s : 2;
        l->cfg.agent_timeout_s = cfg && cfg->agent_timeout_s ? cfg->agent_timeout_s : 15;
        l->cfg.networks = cfg ? cfg->networks : NULL;
        l->cfg.n_networks = cfg ? cfg->n_networks : 0;
        hashmap_init(&l->conns);
        l->sweep = clock_timer_new(clock, sweep_cb, l);
}

void agent_link_release(struct agent_link *l) {
        agent_link_leadership(l, false);
        clock_timer_free(l->sweep);
        l->sweep = NULL;
}

/* --- subscribe ----------------------------------------------------------------------------- */

struct subscribe_ctx {
        struct agent_link *l;
        agent_link_open_cb open;
        void *data;
        json_t *reported; /* the agent's "tasks" */
};

/* Reconciliation (DESIGN §5): what the agent runs vs what the state placed there. */
static void reconcile(struct agent_link *l, struct agent_conn *c, json_t *reported);

/* Every connected agent learns its subnets and every other agent's (routes to them): on each
 * subscription, since that is when an agent (or its address) may be new. */
static void broadcast_networks(struct agent_link *l) {
        if (l->cfg.n_networks == 0)
                return;
        const struct state *st = core_state(l->log);
        size_t pos = 0;
        const char *key;
        void *v;
        while (hashmap_next(&l->conns, &pos, &key, &v)) {
                struct agent_conn *c = v;
                if (c->stream.ops)
                        send_event(c, cluster_net_event(st, l->cfg.networks, l->cfg.n_networks, c->agent_id));
        }
}

static void subscribe_done(void *data, int status, json_t *result, struct err *err) {
        struct subscribe_ctx *s = data;
        struct agent_link *l = s->l;
        const char *id = status < 0 ? NULL : json_string_value(json_object_get(result, "agentId"));
        if (status >= 0 && !id)
                status = err_set(err, -EIO, "agent registration returned no agent id");
        if (status < 0) {
                s->open(s->data, status, err, NULL);
                json_decref(s->reported);
                free(s);
                return;
        }
        struct agent_conn *c = conn_get(l, id, true);
        conn_end(c);
        c->last_seen = now_ms(l);
        c->last_heartbeat_sent = c->last_seen;
        c->stream = s->open(s->data, 0, NULL, id);
        log_info("agent %s subscribed", id);
        send_event(c, json_pack("{s:s,s:s,s:i}", "type", "SUBSCRIBED", "agentId", id, "heartbeatIntervalSeconds",
                                l->cfg.heartbeat_interval_s));
        broadcast_networks(l); /* before reconcile's launches: they may need a subnet */
        reconcile(l, c, s->reported);
        json_decref(s->reported);
        free(s);
        if (l->on_subscribed && c->stream.ops)
                l->on_subscribed(id, l->subscribed_data);
}

static bool valid_resources(const json_t *r) {
        static const char *const keys[] = { "cpus", "mem", "disk", "gpus" };
        if (!json_is_object(r))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                json_t *v = json_object_get(r, keys[i]);
                if (v && (!json_is_number(v) || json_number_value(v) < 0))
                        return false;
        }
        json_t *ports = json_object_get(r, "ports");
        size_t i;
        json_t *range;
        if (ports && (!json_is_array(ports) || json_array_size(ports) > 1000))
                return false;
        json_array_foreach(ports, i, range) {
                json_int_t b = json_integer_value(json_array_get(range, 0));
                json_int_t e = json_integer_value(json_array_get(range, 1));
                if (!json_is_array(range) || json_array_size(range) != 2 || b < 1 || e > 65535 || b > e)
                        return false;
        }
        return true;
}

int agent_link_subscribe(struct agent_link *l, const json_t *b, agent_link_open_cb open, void *data,
                         struct err *err) {
        const char *hostname = json_string_value(json_object_get(b, "hostname"));
        const char *address = json_string_value(json_object_get(b, "address"));
        json_t *agent_id = json_object_get(b, "agentId");
        json_t *resources = json_object_get(b, "resources");
        json_t *attributes = json_object_get(b, "attributes");
        json_t *tasks = json_object_get(b, "tasks");
        if (!json_is_object(b) || !hostname || !address || strlen(hostname) > 255 || strlen(address) > 300 ||
            (agent_id && !json_is_null(agent_id) && !json_is_string(agent_id)) || !valid_resources(resources) ||
            (attributes && (!json_is_object(attributes) || json_object_size(attributes) > 256)) ||
            (tasks && (!json_is_array(tasks) || json_array_size(tasks) > MAX_REPORTED_TASKS)))
                return err_set(err, -ERR_INVALID,
                               "Invalid subscription: expected hostname, address, resources, attributes, tasks");
        const char *key;
        json_t *val;
        json_object_foreach(attributes, key, val) {
                if (!json_is_string(val))
                        return err_set(err, -ERR_INVALID, "Invalid subscription: attribute '%s' is not a string", key);
        }
        json_t *agent = json_pack("{s:O,s:s,s:s,s:O,s:o}", "id", agent_id ? agent_id : json_null(), "hostname",
                                  hostname, "address", address, "resources", resources, "attributes",
                                  attributes ? json_incref(attributes) : json_object());
        struct subscribe_ctx *s = xcalloc(1, sizeof *s);
        *s = (struct subscribe_ctx){ .l = l, .open = open, .data = data };
        s->reported = tasks ? json_incref(tasks) : json_array();
        core_submit(l->log, json_pack("{s:s,s:i,s:o}", "type", "agent_register", "v", 1, "agent", agent),
                    subscribe_done, s);
        return 0;
}

/* --- reconciliation ------------------------------------------------------------------------ */

struct reconcile_ctx {
        struct agent_link *l;
        struct hashmap reported; /* task id → its reported state string */
        json_t *lost;            /* instances_status updates */
        json_t *kill;            /* task ids */
        json_t *relaunch_apps, *relaunch_tasks;
        int64_t now;
};

static int reconcile_expected(const struct instance *i, void *data) {
        struct reconcile_ctx *r = data;
        if (task_state_is_terminal((enum task_state)i->state))
                return 0;
        const char *rep = hashmap_get(&r->reported, i->id);
        if (rep) {
                if (i->goal != GOAL_RUNNING)
                        json_array_append_new(r->kill, json_string(i->id));
                return 0;
        }
        if (i->state == TASK_STAGING && i->goal == GOAL_RUNNING) {
                /* The launch may have been lost with the previous stream: send it again; the agent
                 * launches a task id at most once. */
                const json_t *app = state_app_at_version(core_state(r->l->log), i->app_id, i->version);
                if (app) {
                        _cleanup_free_ char *key = xasprintf("%s@%s", i->app_id, i->version);
                        json_object_set(r->relaunch_apps, key, (json_t *)app);
                        json_t *ports = json_array();
                        for (size_t p = 0; p < i->n_ports; p++)
                                json_array_append_new(ports, json_integer(i->ports[p]));
                        json_array_append_new(r->relaunch_tasks,
                                              json_pack("{s:s,s:s,s:o}", "taskId", i->id, "app", key, "ports", ports));
                        return 0;
                }
        }
        json_array_append_new(r->lost, json_pack("{s:s,s:s,s:s,s:I}", "id", i->id, "state", "TASK_LOST", "message",
                                                 "Task was not reported by its agent on resubscription", "ts",
                                                 (json_int_t)r->now));
        return 0;
}

static void reconcile_submitted(void *data, int status, json_t *result, struct err *err) {
        if (status < 0)
                log_warn("reconciliation update failed: %s", err_msg(err));
}

static void reconcile(struct agent_link *l, struct agent_conn *c, json_t *reported) {
        struct state *st = core_state(l->log);
        struct reconcile_ctx r = { .l = l, .lost = json_array(), .kill = json_array(), .relaunch_apps = json_object(),
                                   .relaunch_tasks = json_array(), .now = now_ms(l) };
        hashmap_init(&r.reported);
        json_t *status_updates = json_array();
        size_t idx;
        json_t *t;
        json_array_foreach(reported, idx, t) {
                const char *id = json_string_value(json_object_get(t, "taskId"));
                const char *state = json_string_value(json_object_get(t, "state"));
                if (!id)
                        continue;
                const struct instance *i = state_instance_get(st, id);
                if (!i || task_state_is_terminal((enum task_state)i->state) || !i->agent_id ||
                    !streq(i->agent_id, c->agent_id)) {
                        if (!i && l->owner.owns && l->owner.owns(l->owner.data, c->agent_id, id))
                                continue; /* another owner's task (a job run's: job_scheduler.c) */
                        /* Unknown here: a task the cluster does not want. */
                        json_array_append_new(r.kill, json_string(id));
                        continue;
                }
                hashmap_put(&r.reported, i->id, (void *)(state ? state : "TASK_RUNNING"));
                int s = state ? task_state_from_string(state) : -1;
                if (s >= 0 && s != i->state)
                        json_array_append_new(status_updates,
                                              json_pack("{s:s,s:s,s:s,s:I}", "id", i->id, "state", state, "message",
                                                        "Reported by the agent on resubscription", "ts", (json_int_t)r.now));
        }
        state_agent_instances_foreach(st, c->agent_id, reconcile_expected, &r);
        if (l->owner.reconciled)
                l->owner.reconciled(l->owner.data, c->agent_id, reported);
        json_array_extend(status_updates, r.lost);
        if (json_array_size(status_updates) > 0)
                core_submit(l->log, json_pack("{s:s,s:i,s:O}", "type", "instances_status", "v", 1, "updates", status_updates),
                            reconcile_submitted, NULL);
        if (json_array_size(r.kill) > 0) {
                log_info("agent %s: killing %zu task(s) the cluster does not expect there", c->agent_id,
                         json_array_size(r.kill));
                agent_link_kill(l, c->agent_id, r.kill, 3);
        }
        if (json_array_size(r.relaunch_tasks) > 0) {
                _cleanup_free_ char *apps_text = json_compact(r.relaunch_apps);
                agent_link_launch_text(l, c->agent_id, apps_text, r.relaunch_tasks);
        }
        json_decref(status_updates);
        json_decref(r.lost);
        json_decref(r.kill);
        json_decref(r.relaunch_apps);
        json_decref(r.relaunch_tasks);
        hashmap_release(&r.reported);
}

/* --- status updates and heartbeats --------------------------------------------------------- */

/* Copies the health fields of an agent's status update u ("ready", "health") into the
 * instances_status item being built; malformed ones are dropped (the update still applies). */
static void health_fields(json_t *item, const json_t *u) {
        json_t *ready = json_object_get(u, "ready");
        if (json_is_true(ready))
                json_object_set_new(item, "ready", json_true());
        json_t *health = json_object_get(u, "health");
        struct health_result r[HEALTH_MAX_CHECKS];
        size_t n;
        if (health && health_results_from_json(health, r, &n, NULL) == 0)
                json_object_set(item, "checks", health);
}

/* The state machine's item for one valid update u of task (the compact array form unless a rarer
 * field needs the object form), or NULL when the task is not ours to report. */
static json_t *update_item(struct agent_link *l, const struct state *st, const char *agent_id, const json_t *u,
                           bool *owner_took) {
        const char *task = json_string_value(json_object_get(u, "taskId"));
        const char *state = json_string_value(json_object_get(u, "state"));
        const char *msg = json_string_value(json_object_get(u, "message"));
        json_t *ts = json_object_get(u, "timestamp");
        const struct instance *inst = state_instance_get(st, task);
        if (!inst && l->owner.status && l->owner.status(l->owner.data, agent_id, task, state, msg, now_ms(l))) {
                *owner_took = true; /* acknowledged after a commit that follows the owner's */
                return NULL;        /* another owner's task (a job run's): applied there */
        }
        if (!inst || !inst->agent_id || !streq(inst->agent_id, agent_id))
                return NULL; /* not ours (or already expunged): acknowledge and drop */
        /* The compact item form: a million updates are encoded into Raft entries and parsed
         * back by every master's state machine. */
        json_t *healthy = json_object_get(u, "healthy");
        /* One bad field must not fail the whole batch (the agent would resend it forever):
         * a bad time is now, an over-long message is cut at a character boundary. */
        int64_t when = json_is_integer(ts) && json_integer_value(ts) >= 0 ? json_integer_value(ts) : now_ms(l);
        _cleanup_free_ char *cut = NULL;
        if (msg && strlen(msg) > CLUSTER_MAX_MESSAGE_LEN) {
                size_t n = CLUSTER_MAX_MESSAGE_LEN;
                while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
                        n--;
                msg = cut = xstrndup(msg, n);
        }
        json_t *item = cluster_status_item(task, (enum task_state)task_state_from_string(state), when,
                                           msg && *msg ? msg : NULL,
                                           json_is_boolean(healthy) ? json_is_true(healthy) : -1);
        /* The rarer fields (a container's IP, readiness, per-check results) need the object
         * form. A container's IP that is not an IPv4 address is dropped here, so one bad
         * field never fails the whole batch in the state machine. */
        struct in_addr addr;
        const char *ip = json_string_value(json_object_get(u, "ipAddress"));
        bool has_ip = ip && inet_pton(AF_INET, ip, &addr) == 1 && addr.s_addr != 0;
        if (has_ip || json_object_get(u, "ready") || json_object_get(u, "health")) {
                json_t *obj = json_pack("{s:O,s:O,s:O}", "id", json_array_get(item, 0), "state",
                                        json_array_get(item, 1), "ts", json_array_get(item, 2));
                if (json_is_string(json_array_get(item, 3)))
                        json_object_set(obj, "message", json_array_get(item, 3));
                if (json_is_boolean(healthy))
                        json_object_set(obj, "healthy", healthy);
                if (has_ip)
                        json_object_set_new(obj, "ip", json_string(ip));
                health_fields(obj, u);
                json_decref(item);
                item = obj;
        }
        return item;
}

struct updates_ctx {
        agent_link_updates_cb cb;
        void *data;
        json_t *uuids;
};

static void updates_done(void *data, int status, json_t *result, struct err *err) {
        struct updates_ctx *u = data;
        u->cb(u->data, status, status < 0 ? NULL : u->uuids, err);
        json_decref(u->uuids);
        free(u);
}

int agent_link_updates(struct agent_link *l, const char *agent_id, const json_t *body, agent_link_updates_cb cb,
                       void *data, struct err *err) {
        struct state *st = core_state(l->log);
        const struct agent *a = state_agent_get(st, agent_id);
        struct agent_conn *c = a ? conn_get(l, agent_id, false) : NULL;
        if (!a || !c)
                return err_set(err, -ERR_NOT_FOUND, "Agent '%s' is not subscribed", agent_id);
        json_t *updates = json_object_get(body, "updates");
        if (!json_is_array(updates) || json_array_size(updates) > MAX_UPDATES)
                return err_set(err, -ERR_INVALID, "Expected {\"updates\": [...]} with at most %d updates",
                               MAX_UPDATES);
        c->last_seen = now_ms(l);
        size_t i;
        json_t *u;
        json_array_foreach(updates, i, u) {
                const char *uuid = json_string_value(json_object_get(u, "uuid"));
                const char *task = json_string_value(json_object_get(u, "taskId"));
                const char *state = json_string_value(json_object_get(u, "state"));
                if (!uuid || !task || !state || task_state_from_string(state) < 0)
                        return err_set(err, -ERR_INVALID, "Invalid status update #%zu", i);
        }
        json_t *items = json_array();
        json_t *uuids = json_array();
        bool jobs_pending = false;
        json_array_foreach(updates, i, u) {
                json_array_append_new(uuids, json_string(json_string_value(json_object_get(u, "uuid"))));
                json_t *item = update_item(l, st, agent_id, u, &jobs_pending);
                if (item)
                        json_array_append_new(items, item);
        }
        if (json_array_size(items) == 0 && !jobs_pending) {
                json_decref(items);
                cb(data, 0, uuids, NULL);
                json_decref(uuids);
                return 0;
        }
        struct updates_ctx *ctx = xcalloc(1, sizeof *ctx);
        *ctx = (struct updates_ctx){ .cb = cb, .data = data, .uuids = uuids };
        core_submit(l->log, json_pack("{s:s,s:i,s:o}", "type", "instances_status", "v", 1, "updates", items),
                    updates_done, ctx);
        return 0;
}
