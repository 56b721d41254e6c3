/* http_metrics.h — request latency of an HTTP server, as a Prometheus histogram:
 *
 *   strata_http_request_duration_seconds{method,code} — from the request's arrival to its
 *   answer's completion; streams (events, agent subscriptions) are left out. method is GET, POST,
 *   PUT, PATCH, DELETE or other; code the status class (2xx … 5xx). Buckets (seconds): 0.001,
 *   0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, +Inf. */
#pragma once

#include <stdint.h>

#include "common/strbuf.h"

#define HTTP_METRICS_BUCKETS 12
#define HTTP_METRICS_METHODS 6
#define HTTP_METRICS_CODES 5 /* 1xx … 5xx */

struct http_metrics {
        uint64_t counts[HTTP_METRICS_METHODS][HTTP_METRICS_CODES][HTTP_METRICS_BUCKETS + 1];
        double sums[HTTP_METRICS_METHODS][HTTP_METRICS_CODES];
};

/* Counts one answered request that took seconds. */
void http_metrics_observe(struct http_metrics *m, const char *method, int status, double seconds);
/* Appends the histogram family (only the method/code pairs seen; the family header always). */
void http_metrics_render(const struct http_metrics *m, struct strbuf *out);
