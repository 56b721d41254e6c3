/* health_state.h — the health of one check of one task as a pure state machine: outcomes in,
 * Marathon's result (alive, consecutive failures, first/last success, last failure) out. The
 * clock is a parameter, so tests drive time by hand.
 *
 * Rules (api.md §2.9):
 * - the first check runs at once for Marathon's protocols (HTTP, HTTPS, TCP) and after
 *   delaySeconds for the Mesos ones (MESOS_*, COMMAND); then every intervalSeconds;
 * - healthy is HTTP 200–399 within timeoutSeconds, a TCP connect, a command exiting 0;
 *   with ignoreHttp1xx a 1xx answer counts for nothing;
 * - failures are ignored (not counted at all) until the first success or until
 *   gracePeriodSeconds have passed since the task started running;
 * - a task has failed its check once consecutiveFailures reaches maxConsecutiveFailures (> 0;
 *   0 never kills). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/health_result.h"

enum health_protocol { HEALTH_HTTP, HEALTH_HTTPS, HEALTH_TCP, HEALTH_COMMAND };

struct health_policy {
        enum health_protocol protocol;
        bool mesos;          /* MESOS_* or COMMAND: the first check waits delaySeconds */
        bool ignore_1xx;
        int64_t grace_ms, interval_ms, timeout_ms, delay_ms;
        uint32_t max_failures; /* 0: never kill */
};

enum health_outcome { HEALTH_SUCCESS, HEALTH_FAILURE, HEALTH_IGNORED };

/* What an outcome changed; a status update goes to the master when this is non-zero. */
enum {
        HEALTH_CHANGED_ALIVE = 1 << 0,    /* alive flipped, or the first result arrived */
        HEALTH_CHANGED_FAILURES = 1 << 1, /* consecutiveFailures changed */
};

/* When the first check is due for a task that started running at started_ms. */
int64_t health_first_check_ms(const struct health_policy *p, int64_t started_ms);

/* Applies one outcome observed at now_ms to r (cause: why it failed, may be NULL) for a task
 * that started running at started_ms; returns HEALTH_CHANGED_* flags (0: nothing to report). */
unsigned health_apply(struct health_result *r, const struct health_policy *p, int64_t started_ms, int64_t now_ms,
                      enum health_outcome o, const char *cause);

/* The outcome of an HTTP answer: 200–399 success, 1xx ignored with ignore_1xx, else failure
 * with cause "HTTP <status>" written to cause (cap bytes). */
enum health_outcome health_http_outcome(long status, bool ignore_1xx, char *cause, size_t cap);

/* True when the check has failed maxConsecutiveFailures (> 0) times in a row. */
bool health_failed(const struct health_result *r, const struct health_policy *p);
