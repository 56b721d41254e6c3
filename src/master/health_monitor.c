/* health_monitor.c — events and kills from health results, on the leader (health_monitor.h). */
#include "master/health_monitor.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/util.h"
#include "master/event_json.h"
#include "store/cluster_state.h"

/* What the monitor last saw of an instance. */
struct seen {
        int8_t healthy; /* -1 unknown */
        bool killed;    /* the kill for failing checks went out */
        uint32_t failures[HEALTH_MAX_CHECKS];
        char id[]; /* the map's key */
};

void health_monitor_init(struct health_monitor *hm, const struct core_log *log, const struct event_sink *events,
                         struct launcher *launcher) {
        *hm = (struct health_monitor){ .log = log, .events = events, .launcher = launcher };
        hashmap_init(&hm->seen);
}

static void clear(struct health_monitor *hm) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&hm->seen, &pos, NULL, &v))
                free(v);
        hashmap_release(&hm->seen);
        hashmap_init(&hm->seen);
}

void health_monitor_release(struct health_monitor *hm) {
        clear(hm);
        hashmap_release(&hm->seen);
}

void health_monitor_leadership(struct health_monitor *hm, bool leading) {
        hm->leading = leading;
        clear(hm);
}

json_t *health_monitor_results_json(const struct instance *i) {
        json_t *arr = json_array();
        struct health_result r[HEALTH_MAX_CHECKS];
        size_t n = instance_health_results(i, r);
        _cleanup_free_ char *iid = event_instance_id(i->id);
        for (size_t k = 0; k < n; k++)
                if (r[k].known)
                        json_array_append_new(arr, health_result_marathon_json(&r[k], iid));
        if (n == 0 && i->has_health) /* results from an agent that sends only "healthy" */
                json_array_append_new(arr, json_pack("{s:b,s:i,s:n,s:n,s:n,s:s}", "alive", i->healthy,
                                                     "consecutiveFailures", i->healthy ? 0 : 1, "firstSuccess",
                                                     "lastSuccess", "lastFailure", "instanceId", iid));
        return arr;
}

static void kill_unhealthy(struct health_monitor *hm, const struct instance *i, const json_t *check,
                           const struct health_result *r) {
        const struct agent *a = i->agent_id ? state_agent_get(core_state(hm->log), i->agent_id) : NULL;
        _cleanup_free_ char *iid = event_instance_id(i->id);
        _cleanup_free_ char *reason =
                xasprintf("%u consecutive health check failures (maxConsecutiveFailures %lld): %s",
                          r->consecutive_failures, (long long)json_integer_value(json_object_get(check, "maxConsecutiveFailures")),
                          r->cause[0] ? r->cause : "unknown");
        log_info("%s: killing %s: %s", i->app_id, i->id, reason);
        if (event_wanted(hm->events, "unhealthy_instance_kill_event"))
                event_emit(hm->events, "unhealthy_instance_kill_event",
                            event_unhealthy_instance_kill(i->app_id, i->id, i->version, reason,
                                                          a ? a->hostname : NULL, i->agent_id));
        json_t *ids = json_pack("[s]", i->id);
        launcher_kill(hm->launcher, ids, false);
        json_decref(ids);
        launcher_count_failure(hm->launcher, i->app_id);
}

void health_monitor_instance_changed(struct health_monitor *hm, const struct instance *i) {
        if (!hm->leading)
                return;
        struct seen *s = hashmap_get(&hm->seen, i->id);
        if (i->state != TASK_RUNNING || (!i->has_health && !i->checks)) {
                if (s)
                        free(hashmap_remove(&hm->seen, i->id));
                return;
        }
        if (!s) {
                size_t len = strlen(i->id);
                s = xcalloc(1, sizeof *s + len + 1);
                memcpy(s->id, i->id, len + 1);
                s->healthy = -1;
                hashmap_put(&hm->seen, s->id, s);
        }
        _cleanup_free_ char *iid = event_instance_id(i->id);
        int healthy = i->has_health ? (int)i->healthy : -1;
        if (healthy >= 0 && healthy != s->healthy) {
                if (event_wanted(hm->events, "health_status_changed_event"))
                        event_emit(hm->events, "health_status_changed_event",
                                    event_health_status_changed(i->app_id, iid, i->version, healthy));
                if (event_wanted(hm->events, "instance_health_changed_event"))
                        event_emit(hm->events, "instance_health_changed_event",
                                    event_instance_health_changed(iid, i->app_id, i->version, healthy));
        }
        s->healthy = (int8_t)healthy;
        struct health_result r[HEALTH_MAX_CHECKS];
        size_t n = instance_health_results(i, r);
        const json_t *app = state_app_at_version(core_state(hm->log), i->app_id, i->version);
        if (!app)
                app = state_app_get(core_state(hm->log), i->app_id);
        const json_t *checks = json_object_get(app, "healthChecks");
        for (size_t k = 0; k < n; k++) {
                const json_t *check = json_array_get(checks, k);
                if (r[k].consecutive_failures > s->failures[k] && event_wanted(hm->events, "failed_health_check_event"))
                        event_emit(hm->events, "failed_health_check_event",
                                    json_pack("{s:s,s:s,s:O}", "appId", i->app_id, "taskId", iid, "healthCheck",
                                              check ? check : json_null()));
                s->failures[k] = r[k].consecutive_failures;
                /* Failures within the grace period are not counted by the agent, so a count at
                 * the limit is past it. "maxConsecutiveFailures": 0 never kills. */
                json_int_t max = json_integer_value(json_object_get(check, "maxConsecutiveFailures"));
                if (check && max > 0 && r[k].consecutive_failures >= (uint64_t)max && !s->killed &&
                    i->goal == GOAL_RUNNING) {
                        s->killed = true;
                        kill_unhealthy(hm, i, check, &r[k]);
                }
        }
}

void health_monitor_instance_removed(struct health_monitor *hm, const char *instance_id) {
        free(hashmap_remove(&hm->seen, instance_id));
}
