/* api_info.c — /ping, /v2/info, /v2/leader, /v1/cluster and /metrics. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/prom.h"
#include "net/http_metrics.h"
#include "common/strbuf.h"
#include "master/master_internal.h"
#include "store/cluster_state.h"
#include "store/deployments.h"
#include "store/store_transfer.h"

#define STRATA_VERSION "0.1.0"
/* The Marathon API level Strata implements; tools compare against it. */
#define MARATHON_COMPAT_VERSION "1.10.26"

void api_ping(struct api_call *call) {
        const char *accept = http_request_header(call->req, "Accept");
        if (accept && strstr(accept, "application/json") && !strstr(accept, "text/plain"))
                api_reply_text(call, 200, "application/json", "\"pong\"");
        else
                api_reply_text(call, 200, "text/plain", "pong");
}

static const char *leader_http(struct master *m, struct store_status *st) {
        store_status(m->store, st);
        return st->is_leader ? m->http_advertised : st->leader_http;
}

void api_leader(struct api_call *call) {
        struct store_status st;
        const char *leader = leader_http(call->m, &st);
        if (!leader) {
                api_reply_error(call, 404, "There is no leader");
                return;
        }
        api_reply_json(call, 200, json_pack("{s:s}", "leader", leader));
}

static void abdicated(void *data, int status, struct err *err) {
        struct api_call *call = data;
        if (status < 0)
                api_reply_error(call, 503, "Leadership was not abdicated: %s", err_msg(err));
        else
                api_reply_json(call, 200, json_pack("{s:s}", "message", "Leadership abdicated"));
}

/* DELETE /v2/leader: the leader steps down and another master takes over (Marathon exits and
 * lets an election pick the next leader; Strata hands leadership over in Raft, without a
 * restart). Answers once another master leads. A cluster of one has no one to hand it to: 503.
 * Marathon's backup/restore parameters (ZooKeeper state dumps) have no Strata equivalent. */
void api_leader_abdicate(struct api_call *call) {
        if (http_request_arg(call->req, "backup") || http_request_arg(call->req, "restore")) {
                api_reply_error(call, 400, "backup and restore are not supported: Strata's state is in Raft snapshots");
                return;
        }
        struct err e = { 0 };
        if (store_transfer_leadership(call->m->store, abdicated, call, &e) < 0) {
                api_reply_error(call, 503, "Leadership was not abdicated: %s", err_msg(&e));
                err_release(&e);
        }
}

/* GET /v2/plugins: Marathon's PluginDefinitions; Strata loads no Marathon plugins. */
void api_plugins_list(struct api_call *call) {
        api_reply_json(call, 200, json_pack("{s:[]}", "plugins"));
}

/* /v2/plugins/{pluginId}/{path}: PluginsResource.handleRequest's answer for an unknown plugin. */
void api_plugin_request(struct api_call *call) {
        const char *id = call->id + 1;
        const char *slash = strchr(id, '/');
        api_reply_error(call, 404, "No plugin with this pluginId: %.*s", (int)(slash ? slash - id : (long)strlen(id)), id);
}

void api_info(struct api_call *call) {
        struct master *m = call->m;
        struct store_status st;
        const char *leader = leader_http(m, &st);
        const char *colon = strrchr(m->http_advertised, ':');
        int port = colon ? atoi(colon + 1) : 8080;
        _cleanup_free_ char *host = xstrndup(m->http_advertised, colon ? (size_t)(colon - m->http_advertised) : strlen(m->http_advertised));
        _cleanup_free_ char *webui = xasprintf("http://%s", m->http_advertised);
        /* Every field info.raml's MarathonConfig and ZooKeeperConfig require, with Marathon's
         * defaults where Strata has no such setting (task_lost_expunge_*: ms, as Marathon's
         * --task_lost_expunge_initial_delay / _interval; zk_*: Marathon's defaults, ms). */
        json_t *config = json_pack(
                "{s:[s],s:s,s:s,s:[],s:s,s:b,s:i,s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:i,s:i}", "access_control_allow_origin",
                "*", "executor", "//cmd", "framework_name", "marathon", "features", "hostname", host, "ha",
                m->cfg.n_masters > 1, "local_port_min", 10000, "local_port_max", 20000, "master", "strata",
                "mesos_role", "*", "mesos_user", "root", "webui_url", webui, "task_launch_timeout", 300000,
                "default_network_name", "dcos", "task_lost_expunge_initial_delay", 300000,
                "task_lost_expunge_interval", 30000);
        json_t *info = json_pack("{s:s,s:s,s:s,s:b,s:s,s:o,s:{s:s,s:i,s:i,s:i,s:i},s:{s:i,s:i}}", "name", "marathon",
                                 "version", MARATHON_COMPAT_VERSION, "buildref", "strata-" STRATA_VERSION, "elected",
                                 st.is_leader, "frameworkId", "strata-marathon", "marathon_config", config,
                                 "zookeeper_config", "zk", "strata-raft", "zk_max_versions", 50, "zk_timeout", 10000,
                                 "zk_connection_timeout", 10000, "zk_session_timeout", 10000, "http_config",
                                 "http_port", port, "https_port", 8443);
        /* MarathonInfo's leader is optional, never null. */
        if (leader)
                json_object_set_new(info, "leader", json_string(leader));
        /* Strata's own version is no MarathonInfo field: strict clients reject unknown fields. */
        http_request_add_header(call->req, "X-Strata-Version", STRATA_VERSION);
        api_reply_json(call, 200, info);
}

struct cluster_ctx {
        json_t *masters;
        struct state *state;
        uint64_t leader_id;
};

static void add_server(uint64_t id, const char *raft_addr, bool voter, void *data) {
        struct cluster_ctx *c = data;
        char ids[32];
        snprintf(ids, sizeof ids, "%" PRIu64, id);
        const struct state_master *sm = state_master_by_id(c->state, id);
        json_array_append_new(c->masters,
                              json_pack("{s:s,s:s,s:o,s:b,s:b}", "id", ids, "raftAddress", raft_addr, "httpAddress",
                                        sm && sm->http_addr ? json_string(sm->http_addr) : json_null(), "voter",
                                        voter, "leader", id == c->leader_id));
}

void api_cluster(struct api_call *call) {
        struct master *m = call->m;
        struct store_status st;
        const char *leader = leader_http(m, &st);
        struct cluster_ctx c = { json_array(), store_state(m->store), st.leader_id };
        store_servers_foreach(m->store, add_server, &c);
        json_t *body = json_pack("{s:o,s:s,s:I,s:I,s:I,s:I,s:o}", "leader", leader ? json_string(leader) : json_null(),
                                 "state", st.state, "term", (json_int_t)st.term, "commitIndex",
                                 (json_int_t)st.commit_index, "lastApplied", (json_int_t)st.last_applied,
                                 "lastIndex", (json_int_t)st.last_index, "masters", c.masters);
        char self[32];
        snprintf(self, sizeof self, "%" PRIu64, st.id);
        json_object_set_new(body, "self", json_string(self));
        api_reply_json(call, 200, body);
}

/* Instance totals by state, summed from the per-app counts the state keeps (O(apps), no scan of
 * instances: benchmarks poll this with a million tasks). */
struct totals {
        const struct state *st;
        struct state_app_counts sum;
};

static int add_app_counts(const json_t *app, void *data) {
        struct totals *t = data;
        struct state_app_counts c;
        state_app_counts(t->st, json_string_value(json_object_get(app, "id")), &c);
        t->sum.staged += c.staged;
        t->sum.running += c.running;
        t->sum.unreachable += c.unreachable;
        t->sum.killing += c.killing;
        t->sum.terminal += c.terminal;
        return 0;
}

static int count_active_agent(const struct agent *a, void *data) {
        if (a->state == AGENT_ACTIVE)
                (*(size_t *)data)++;
        return 0;
}

/* GET /metrics with Accept: application/json: Marathon's Dropwizard registry as its
 * MetricsConversion writes it (newMetrics.raml NewMetrics, "version": "4.0.0"), with the metrics
 * of Marathon's that Strata has, under Marathon's names ("<prefix>.<name>.<type>",
 * DropwizardMetrics.constructName). Strata's own figures (Raft, agents) stay in the Prometheus
 * text, which is the default. */
static void metrics_json(struct api_call *call) {
        const struct state *state = store_state(call->m->store);
        struct totals t = { .st = state };
        state_apps_foreach(state, add_app_counts, &t);
        size_t streams = 0;
        if (call->m->events) {
                struct events_stats es;
                events_get_stats(call->m->events, &es);
                streams = es.subscribers;
        }
        json_t *gauges = json_pack("{s:{s:f},s:{s:f},s:{s:f},s:{s:f},s:{s:f}}", "marathon.apps.active.gauge", "value",
                                   (double)state_app_count(state), "marathon.pods.active.gauge", "value", 0.0,
                                   "marathon.instances.running.gauge", "value", (double)t.sum.running,
                                   "marathon.instances.staged.gauge", "value", (double)t.sum.staged,
                                   "marathon.http.event-streams.active.gauge", "value", (double)streams);
        /* DeploymentManagerActor's "deployments" counter goes up at a start and down at the end. */
        json_t *counters = json_pack("{s:{s:I}}", "marathon.deployments.counter", "count",
                                     (json_int_t)state_deployment_count(state));
        api_reply_json(call, 200,
                       json_pack("{s:s,s:o,s:o,s:{},s:{},s:{}}", "version", "4.0.0", "counters", counters, "gauges",
                                 gauges, "histograms", "meters", "timers"));
}

void api_metrics(struct api_call *call) {
        struct master *m = call->m;
        const char *accept = http_request_header(call->req, "Accept");
        if (accept && strstr(accept, "application/json")) {
                metrics_json(call);
                return;
        }
        struct store_status st;
        store_status(m->store, &st);
        struct strbuf sb = { 0 };
        strbuf_printf(&sb,
                      "# HELP strata_raft_term Current Raft term of this master.\n"
                      "# TYPE strata_raft_term gauge\nstrata_raft_term %" PRIu64 "\n"
                      "# HELP strata_raft_commit_index Highest committed Raft index.\n"
                      "# TYPE strata_raft_commit_index gauge\nstrata_raft_commit_index %" PRIu64 "\n"
                      "# HELP strata_raft_last_applied Highest Raft index applied to the state machine.\n"
                      "# TYPE strata_raft_last_applied gauge\nstrata_raft_last_applied %" PRIu64 "\n"
                      "# HELP strata_master_leader 1 if this master is the leader.\n"
                      "# TYPE strata_master_leader gauge\nstrata_master_leader %d\n"
                      "# HELP strata_apps Number of apps in the replicated state.\n"
                      "# TYPE strata_apps gauge\nstrata_apps %zu\n",
                      st.term, st.commit_index, st.last_applied, st.is_leader ? 1 : 0,
                      state_app_count(store_state(m->store)));
        const struct state *state = store_state(m->store);
        struct totals t = { .st = state };
        size_t active = 0;
        state_apps_foreach(state, add_app_counts, &t);
        state_agents_foreach(state, count_active_agent, &active);
        strbuf_printf(&sb,
                      "# HELP strata_agents_registered Agents in the replicated state, whatever their state.\n"
                      "# TYPE strata_agents_registered gauge\nstrata_agents_registered %zu\n"
                      "# HELP strata_agents_active Active agents (the ones that receive placements).\n"
                      "# TYPE strata_agents_active gauge\nstrata_agents_active %zu\n"
                      "# HELP strata_instances_stored Instances (tasks) in the replicated state, those of deleted "
                      "apps included.\n"
                      "# TYPE strata_instances_stored gauge\nstrata_instances_stored %zu\n"
                      "# HELP strata_instances Instances of existing apps, by state (each counted once).\n"
                      "# TYPE strata_instances gauge\n"
                      "strata_instances{state=\"staged\"} %zu\nstrata_instances{state=\"running\"} %zu\n"
                      "strata_instances{state=\"killing\"} %zu\nstrata_instances{state=\"unreachable\"} %zu\n"
                      "strata_instances{state=\"terminal\"} %zu\n",
                      state_agent_count(state), active, state_instance_count(state), t.sum.staged, t.sum.running,
                      t.sum.killing, t.sum.unreachable, t.sum.terminal);
        if (m->events) {
                struct events_stats es;
                events_get_stats(m->events, &es);
                strbuf_printf(&sb,
                              "# HELP strata_event_subscribers Open GET /v2/events streams.\n"
                              "# TYPE strata_event_subscribers gauge\nstrata_event_subscribers %zu\n"
                              "# HELP strata_events_emitted_total Events framed for at least one subscriber.\n"
                              "# TYPE strata_events_emitted_total counter\nstrata_events_emitted_total %" PRIu64 "\n"
                              "# HELP strata_events_delivered_total Event copies queued to subscribers.\n"
                              "# TYPE strata_events_delivered_total counter\nstrata_events_delivered_total %" PRIu64 "\n"
                              "# HELP strata_event_subscribers_dropped_total Subscribers dropped for falling behind.\n"
                              "# TYPE strata_event_subscribers_dropped_total counter\n"
                              "strata_event_subscribers_dropped_total %" PRIu64 "\n",
                              es.subscribers, es.emitted, es.delivered, es.dropped);
        }
        if (m->http)
                http_metrics_render(http_server_metrics(m->http), &sb);
        prom_process_metrics(&sb, "master");
        _cleanup_free_ char *text = strbuf_steal(&sb);
        api_reply_text(call, 200, "text/plain; version=0.0.4", text);
}
