/* health_monitor.h — the leader's reaction to health results (api.md §2.9, §4.2): events when
 * an instance's health changes or a check fails, and the kill (with launch backoff) of an
 * instance that failed a check maxConsecutiveFailures times in a row after its grace period.
 *
 * Checks run on the agents; their results reach the state through status updates
 * (instances_status items with "healthy", "ready" and "checks"), so every master holds them and
 * a new leader starts from the committed view. The monitor only remembers, in leader memory,
 * what it last saw of each instance with health results, to emit events on changes. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/hashmap.h"
#include "master/core_ports.h"
#include "master/launcher.h"

struct instance;

/* It uses the log (the state), the event bus and the launcher (the kill and its backoff), all
 * borrowed. */
struct health_monitor {
        const struct core_log *log;
        const struct event_sink *events;
        struct launcher *launcher;
        struct hashmap seen; /* task id → struct seen (instances with health results) */
        bool leading;
};

void health_monitor_init(struct health_monitor *hm, const struct core_log *log, const struct event_sink *events,
                         struct launcher *launcher);
void health_monitor_release(struct health_monitor *hm);
void health_monitor_leadership(struct health_monitor *hm, bool leading);
/* Observer hooks. */
void health_monitor_instance_changed(struct health_monitor *hm, const struct instance *i);
void health_monitor_instance_removed(struct health_monitor *hm, const char *instance_id);

/* Marathon's healthCheckResults of a task ([] when it has none); new reference. */
json_t *health_monitor_results_json(const struct instance *i);
