/* agent_metrics.h — the agent's GET /metrics (Prometheus text 0.0.4): process_* and build info
 * (common/prom.h), then
 *
 *   | family                                   | type    | meaning                                  |
 *   | strata_agent_tasks{state}                | gauge   | tasks the runtime holds, by state (each  |
 *   |                                          |         | task once: no "all" series)              |
 *   | strata_agent_task_launches_total         | counter | tasks launched (reported TASK_STARTING)  |
 *   | strata_agent_task_failures_total{reason} | counter | tasks that ended in TASK_FAILED, ERROR,  |
 *   |                                          |         | LOST or DROPPED, by Mesos reason (or the |
 *   |                                          |         | state when the runtime gave none)        |
 *   | strata_agent_task_state_changes_total{state} | counter | status updates, by the state reported |
 *   | strata_agent_health_results_total{result}| counter | health results that changed a task's     |
 *   |                                          |         | health ("healthy", "unhealthy")          |
 *   | strata_agent_subscribed                  | gauge   | 1 while the master's stream is open      |
 *   | strata_agent_pending_updates             | gauge   | status updates not yet acknowledged      |
 *   | strata_http_request_duration_seconds     | histogram | the agent API's latency (net/http_metrics.h) |
 *
 * and whatever the registered families add (agent_metrics_add_family: DNS, VIPs…), in
 * registration order. Counters live in memory: they restart at 0 with the agent. */
#pragma once

#include <stdbool.h>

#include "agent/runtime.h"
#include "common/strbuf.h"

struct agent_metrics;

/* Appends complete families (# HELP, # TYPE and samples) to out. */
typedef void (*agent_metrics_family_cb)(struct strbuf *out, void *data);

struct agent_metrics *agent_metrics_new(void);
/* NULL is a no-op. */
void agent_metrics_free(struct agent_metrics *m);

/* Adds families rendered by cb(out, data) on every scrape, after the agent's own; data is
 * borrowed and must stay valid until agent_metrics_remove_family(m, cb, data) or the free.
 * Family names must be unique across callers (prefix them: strata_dns_…). */
void agent_metrics_add_family(struct agent_metrics *m, agent_metrics_family_cb cb, void *data);
void agent_metrics_remove_family(struct agent_metrics *m, agent_metrics_family_cb cb, void *data);

/* Every status the runtime reports (agent_main.c's status hook). NULL m is a no-op. */
void agent_metrics_task_status(struct agent_metrics *m, const struct task_status *st);
/* A health result that changed a task's health. NULL m is a no-op. */
void agent_metrics_health_result(struct agent_metrics *m, bool healthy);

struct http_metrics;
/* The whole exposition: process metrics, the API's request latency (http, may be NULL), tasks of
 * rt by state, the counters, subscribed and pending (as given), then the registered families. */
void agent_metrics_render(struct agent_metrics *m, struct runtime *rt, const struct http_metrics *http,
                          bool subscribed, size_t pending, struct strbuf *out);
