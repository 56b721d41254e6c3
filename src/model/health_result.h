/* health_result.h — the result of one health check of one task, as agents report it and the
 * API shows it (Marathon's healthCheckResults), with its JSON codec.
 *
 * Wire form (agent status updates, instances_status command items), one object per health check
 * of the app, in the app's order:
 *
 * | key                 | type        | meaning                                                  |
 * | ------------------- | ----------- | -------------------------------------------------------- |
 * | alive               | bool        | the last counted result was a success                    |
 * | consecutiveFailures | int ≥ 0     | failures since the last success (grace period excluded)  |
 * | firstSuccess        | ms or null  | first success since the task started                     |
 * | lastSuccess         | ms or null  |                                                          |
 * | lastFailure         | ms or null  |                                                          |
 * | lastFailureCause    | str or null | e.g. "HTTP 404", "connection refused" (≤ 256 bytes)       |
 *
 * Times are milliseconds since the epoch. A check that has no counted result yet is `null`. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Most health checks an app may have that the wire carries results for. */
#define HEALTH_MAX_CHECKS 16
#define HEALTH_MAX_CAUSE_LEN 256

struct health_result {
        bool known;                /* false: no counted result yet (the others are zero) */
        bool alive;
        uint32_t consecutive_failures;
        int64_t first_success_ms;  /* 0: none */
        int64_t last_success_ms;   /* 0: none */
        int64_t last_failure_ms;   /* 0: none */
        char cause[HEALTH_MAX_CAUSE_LEN + 1]; /* "" when none */
};

/* The wire object of r (null when !r->known); new reference. */
json_t *health_result_to_json(const struct health_result *r);
/* Parses a wire array of at most HEALTH_MAX_CHECKS results into ret[] (zeroed first) and sets *n.
 * Untrusted input: wrong types, negative numbers or over-long causes give -EINVAL with a message;
 * then ret and *n are untouched. */
int health_results_from_json(const json_t *arr, struct health_result ret[static HEALTH_MAX_CHECKS], size_t *n,
                             struct err *err);
/* Marathon's healthCheckResults element: {alive, consecutiveFailures, firstSuccess, lastSuccess,
 * lastFailure, lastFailureCause, instanceId} with ISO timestamps or null; new reference. */
json_t *health_result_marathon_json(const struct health_result *r, const char *instance_id);
/* Overall health of a task from its checks' results: 1 when at least one result is known and
 * every known one is alive, 0 when a known one is not alive, -1 when none is known (Marathon's
 * tasksHealthy/tasksUnhealthy rule). */
int health_results_healthy(const struct health_result *r, size_t n);
