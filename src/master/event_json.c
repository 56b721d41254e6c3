/* event_json.c — Marathon event bodies, SSE framing, filters and the Accept check. */
#include "master/event_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"

char *event_frame(const char *event_type, json_t *fields, int64_t now_ms, size_t *ret_len) {
        json_object_set_new(fields, "eventType", json_string(event_type));
        if (!json_object_get(fields, "timestamp")) {
                char ts[25];
                time_format_ms(now_ms, ts);
                json_object_set_new(fields, "timestamp", json_string(ts));
        }
        /* Compact JSON escapes control characters, so "data:" is always one line. */
        _cleanup_free_ char *data = json_compact(fields);
        struct strbuf sb = { 0 };
        strbuf_puts(&sb, "event: ");
        strbuf_puts(&sb, event_type);
        strbuf_puts(&sb, "\r\ndata: ");
        strbuf_puts(&sb, data);
        strbuf_puts(&sb, "\r\n\r\n");
        *ret_len = sb.len;
        return strbuf_steal(&sb);
}

bool event_accept_ok(const char *accept) {
        static const char want[] = "text/event-stream";
        if (!accept)
                return false;
        const char *p = accept;
        while (*p) {
                /* One media range: skip blanks, compare the type up to ';', ',' or blank. */
                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                const char *start = p;
                while (*p && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
                        p++;
                if ((size_t)(p - start) == sizeof want - 1 && strncasecmp(start, want, sizeof want - 1) == 0)
                        return true;
                while (*p && *p != ',')
                        p++;
        }
        return false;
}

int event_filter_add(struct event_filter *f, const char *type) {
        size_t n = strlen(type);
        if (n == 0 || n > EVENT_TYPE_MAX_LEN)
                return -EINVAL;
        for (const char *c = type; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
                        return -EINVAL;
        if (event_filter_accepts(f, type) && f->n > 0)
                return 0; /* repeated: once is enough */
        if (f->n >= EVENT_FILTER_MAX_TYPES)
                return -E2BIG;
        f->types = xrealloc(f->types, (f->n + 1) * sizeof *f->types);
        f->types[f->n++] = xstrdup(type);
        return 0;
}

bool event_filter_accepts(const struct event_filter *f, const char *type) {
        if (f->n == 0)
                return true;
        for (size_t i = 0; i < f->n; i++)
                if (streq(f->types[i], type))
                        return true;
        return false;
}

void event_filter_release(struct event_filter *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->types[i]);
        free(f->types);
        f->types = NULL;
        f->n = 0;
}

char *event_instance_id(const char *task_id) {
        const char *app = strstr(task_id, "._app");
        if (app && strstr(task_id, ".instance-") && (app[5] == 0 || app[5] == '.'))
                return xstrndup(task_id, (size_t)(app - task_id));
        return xstrdup(task_id);
}

const char *event_condition(enum task_state s) {
        switch (s) {
        case TASK_STAGING:
                return "Staging";
        case TASK_STARTING:
                return "Starting";
        case TASK_RUNNING:
                return "Running";
        case TASK_KILLING:
                return "Killing";
        case TASK_FINISHED:
                return "Finished";
        case TASK_FAILED:
                return "Failed";
        case TASK_KILLED:
                return "Killed";
        case TASK_ERROR:
                return "Error";
        case TASK_DROPPED:
                return "Dropped";
        /* Marathon infers LOST as Unreachable while the agent may come back. */
        case TASK_LOST:
        case TASK_UNREACHABLE:
                return "Unreachable";
        case TASK_GONE:
        case TASK_GONE_BY_OPERATOR:
                return "Gone";
        case TASK_UNKNOWN:
        case _TASK_STATE_MAX:
                break;
        }
        return "Unknown";
}

/* The agent's IP: the host part of its "ip:port" API address. */
static json_t *ip_addresses(const struct agent *a) {
        if (!a || !a->address)
                return json_array();
        const char *colon = strrchr(a->address, ':');
        _cleanup_free_ char *ip = xstrndup(a->address, colon ? (size_t)(colon - a->address) : strlen(a->address));
        return json_pack("[{s:s,s:s}]", "ipAddress", ip, "protocol", strchr(ip, ':') ? "IPv6" : "IPv4");
}

json_t *event_status_update(const struct state *st, const struct instance *i) {
        const struct agent *a = i->agent_id ? state_agent_get(st, i->agent_id) : NULL;
        json_t *ports = json_array();
        for (size_t p = 0; p < i->n_ports; p++)
                json_array_append_new(ports, json_integer(i->ports[p]));
        return json_pack("{s:s*,s:s,s:s,s:s,s:s,s:s*,s:o,s:o,s:s}", "slaveId", i->agent_id, "taskId", i->id,
                         "taskStatus", task_state_to_string((enum task_state)i->state), "message",
                         i->message ? i->message : "", "appId", i->app_id, "host", a ? a->hostname : NULL,
                         "ipAddresses", ip_addresses(a), "ports", ports, "version", i->version);
}

json_t *event_instance_changed(const struct state *st, const struct instance *i) {
        const struct agent *a = i->agent_id ? state_agent_get(st, i->agent_id) : NULL;
        _cleanup_free_ char *iid = event_instance_id(i->id);
        return json_pack("{s:s,s:s,s:s,s:s*,s:s*,s:s}", "instanceId", iid, "condition",
                         event_condition((enum task_state)i->state), "runSpecId", i->app_id, "agentId", i->agent_id,
                         "host", a ? a->hostname : NULL, "runSpecVersion", i->version);
}

json_t *event_api_post(const char *client_ip, const char *uri, json_t *app) {
        return json_pack("{s:s,s:s,s:O}", "clientIp", client_ip ? client_ip : "", "uri", uri, "appDefinition", app);
}

json_t *event_app_terminated(const char *app_id) {
        return json_pack("{s:s}", "appId", app_id);
}

json_t *event_group_change_success(const char *group_id, const char *version) {
        return json_pack("{s:s,s:s}", "groupId", group_id, "version", version);
}

json_t *event_health_status_changed(const char *app_id, const char *instance_id, const char *version,
                                    bool alive) {
        return json_pack("{s:s,s:s,s:s,s:b}", "appId", app_id, "instanceId", instance_id, "version", version, "alive",
                         alive);
}

json_t *event_instance_health_changed(const char *instance_id, const char *run_spec_id, const char *version,
                                      int healthy) {
        return json_pack("{s:s,s:s,s:s,s:o}", "instanceId", instance_id, "runSpecId", run_spec_id, "runSpecVersion",
                         version, "healthy", healthy < 0 ? json_null() : json_boolean(healthy));
}

json_t *event_unhealthy_instance_kill(const char *app_id, const char *task_id, const char *version,
                                      const char *reason, const char *host, const char *slave_id) {
        _cleanup_free_ char *iid = event_instance_id(task_id);
        return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s*,s:s*}", "appId", app_id, "taskId", task_id, "instanceId", iid,
                         "version", version, "reason", reason ? reason : "", "host", host, "slaveId", slave_id);
}

json_t *event_deployment_step(json_t *plan, json_t *current_step) {
        return json_pack("{s:O,s:O}", "plan", plan, "currentStep", current_step);
}

json_t *event_deployment_result(const char *id, json_t *plan, const char *reason) {
        return json_pack("{s:s,s:O,s:s*}", "id", id, "plan", plan, "reason", reason);
}

json_t *event_stream_peer(const char *remote_address) {
        return json_pack("{s:s}", "remoteAddress", remote_address ? remote_address : "");
}
