/* event_json.h — Marathon's events as JSON (api.md §4.2), their SSE framing, and the
 * subscriber's filter and Accept check: the pure half of the event bus, tested on its own.
 *
 * Wire format of one event on GET /v2/events (Server-Sent Events, CRLF line ends):
 *
 * | line                    | content                                                     |
 * | `event: <eventType>`    | the event type, also the value `event_type=` filters on     |
 * | `data: <json>`          | one line of compact JSON with "eventType" and "timestamp"   |
 * | (empty)                 | ends the event                                              |
 *
 * A keep-alive is a bare CRLF between events. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/cluster_state.h"

/* A subscriber may name at most this many event types, each at most this long (400 beyond). */
#define EVENT_FILTER_MAX_TYPES 64
#define EVENT_TYPE_MAX_LEN 64

/* Frames one event: sets "eventType" (always) and "timestamp" (Marathon format, from now_ms,
 * unless fields has one) on fields (borrowed, modified), and returns the malloc'd frame
 * "event: T\r\ndata: J\r\n\r\n" with its length in *ret_len. */
char *event_frame(const char *event_type, json_t *fields, int64_t now_ms, size_t *ret_len);

/* Does an Accept header ask for an event stream? Marathon (Jetty's EventSource servlet)
 * serves only requests that accept exactly text/event-stream, answering 405 otherwise; a
 * comma-separated list that names it (parameters such as ";q=0.9" ignored) is accepted too.
 * NULL, a bare wildcard, or anything else is not. */
bool event_accept_ok(const char *accept);

/* The set of event types a subscriber wants; empty = every type. */
struct event_filter {
        char **types;
        size_t n;
};
/* Adds one `event_type=` value. Returns 0, or -EINVAL (empty, too long, or not
 * [A-Za-z0-9_] — no event type has other characters) or -E2BIG (too many types). */
int event_filter_add(struct event_filter *f, const char *type);
bool event_filter_accepts(const struct event_filter *f, const char *type);
void event_filter_release(struct event_filter *f);

/* Marathon's instance id of a task id: "<app>.instance-<uuid>._app[.<n>]" →
 * "<app>.instance-<uuid>"; other forms are returned whole. Malloc'd. */
char *event_instance_id(const char *task_id);
/* Marathon's instance condition for a task state: "Running", "Killed", "Unreachable"… */
const char *event_condition(enum task_state s);

/* Event bodies (new references; "eventType"/"timestamp" are added when framed). Strings are
 * copied; NULL optional strings are left out. */
/* status_update_event: slaveId, taskId, taskStatus, message, appId, host, ipAddresses, ports,
 * version — from an instance and the state that holds it (for its agent's host and IP). */
json_t *event_status_update(const struct state *st, const struct instance *i);
/* instance_changed_event: instanceId, condition, runSpecId, agentId, host, runSpecVersion. */
json_t *event_instance_changed(const struct state *st, const struct instance *i);
/* api_post_event: clientIp, uri, appDefinition (app: borrowed, copied by reference). */
json_t *event_api_post(const char *client_ip, const char *uri, json_t *app);
/* app_terminated_event: appId. */
json_t *event_app_terminated(const char *app_id);
/* group_change_success: groupId, version. */
json_t *event_group_change_success(const char *group_id, const char *version);
/* health_status_changed_event: appId, instanceId, version, alive. */
json_t *event_health_status_changed(const char *app_id, const char *instance_id, const char *version,
                                    bool alive);
/* instance_health_changed_event: instanceId, runSpecId, runSpecVersion, healthy (-1 = null). */
json_t *event_instance_health_changed(const char *instance_id, const char *run_spec_id, const char *version,
                                      int healthy);
/* unhealthy_instance_kill_event: appId, taskId, instanceId, version, reason, host, slaveId. */
json_t *event_unhealthy_instance_kill(const char *app_id, const char *task_id, const char *version,
                                      const char *reason, const char *host, const char *slave_id);
/* deployment_info / deployment_step_success / deployment_step_failure: plan (borrowed),
 * currentStep (borrowed). */
json_t *event_deployment_step(json_t *plan, json_t *current_step);
/* deployment_success / deployment_failed: id, plan (borrowed), reason (failed only, may be NULL). */
json_t *event_deployment_result(const char *id, json_t *plan, const char *reason);
/* event_stream_attached / event_stream_detached: remoteAddress. */
json_t *event_stream_peer(const char *remote_address);
