/* http_metrics.c — the request latency histogram (see http_metrics.h). */
#include "net/http_metrics.h"

#include <string.h>

static const double bounds[HTTP_METRICS_BUCKETS] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,   1,    2.5,   5,    10 };
static const char *const methods[HTTP_METRICS_METHODS] = { "GET", "POST", "PUT", "PATCH", "DELETE", "other" };

static int method_index(const char *m) {
        for (int i = 0; i < HTTP_METRICS_METHODS - 1; i++)
                if (m && strcmp(m, methods[i]) == 0)
                        return i;
        return HTTP_METRICS_METHODS - 1;
}

void http_metrics_observe(struct http_metrics *m, const char *method, int status, double seconds) {
        int mi = method_index(method), ci = status >= 100 && status < 600 ? status / 100 - 1 : 4;
        int b = 0;
        while (b < HTTP_METRICS_BUCKETS && seconds > bounds[b])
                b++;
        m->counts[mi][ci][b]++;
        m->sums[mi][ci] += seconds > 0 ? seconds : 0;
}

void http_metrics_render(const struct http_metrics *m, struct strbuf *out) {
        strbuf_puts(out, "# HELP strata_http_request_duration_seconds Time from a request's arrival to its answer.\n"
                         "# TYPE strata_http_request_duration_seconds histogram\n");
        for (int mi = 0; mi < HTTP_METRICS_METHODS; mi++)
                for (int ci = 0; ci < HTTP_METRICS_CODES; ci++) {
                        uint64_t total = 0;
                        for (int b = 0; b <= HTTP_METRICS_BUCKETS; b++)
                                total += m->counts[mi][ci][b];
                        if (total == 0)
                                continue;
                        uint64_t cum = 0;
                        for (int b = 0; b <= HTTP_METRICS_BUCKETS; b++) {
                                cum += m->counts[mi][ci][b];
                                if (b < HTTP_METRICS_BUCKETS)
                                        strbuf_printf(out,
                                                      "strata_http_request_duration_seconds_bucket{method=\"%s\","
                                                      "code=\"%dxx\",le=\"%g\"} %llu\n",
                                                      methods[mi], ci + 1, bounds[b], (unsigned long long)cum);
                                else
                                        strbuf_printf(out,
                                                      "strata_http_request_duration_seconds_bucket{method=\"%s\","
                                                      "code=\"%dxx\",le=\"+Inf\"} %llu\n",
                                                      methods[mi], ci + 1, (unsigned long long)cum);
                        }
                        strbuf_printf(out,
                                      "strata_http_request_duration_seconds_sum{method=\"%s\",code=\"%dxx\"} %.6f\n"
                                      "strata_http_request_duration_seconds_count{method=\"%s\",code=\"%dxx\"} %llu\n",
                                      methods[mi], ci + 1, m->sums[mi][ci], methods[mi], ci + 1,
                                      (unsigned long long)total);
                }
}
