/* test_net_http_metrics.c — the request latency histogram: buckets are cumulative, +Inf equals
 * the count, only seen method/code pairs are written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http_metrics.h"

static void buckets_are_cumulative_and_bounded_by_the_count(void **state) {
        struct http_metrics m = { 0 };
        http_metrics_observe(&m, "GET", 200, 0.0004);
        http_metrics_observe(&m, "GET", 204, 0.2);
        http_metrics_observe(&m, "GET", 200, 30);
        http_metrics_observe(&m, "BREW", 418, 0.002);
        struct strbuf sb = { 0 };
        http_metrics_render(&m, &sb);
        assert_non_null(strstr(sb.buf, "# TYPE strata_http_request_duration_seconds histogram\n"));
        assert_non_null(strstr(sb.buf, "{method=\"GET\",code=\"2xx\",le=\"0.001\"} 1\n"));
        assert_non_null(strstr(sb.buf, "{method=\"GET\",code=\"2xx\",le=\"0.25\"} 2\n"));
        assert_non_null(strstr(sb.buf, "{method=\"GET\",code=\"2xx\",le=\"10\"} 2\n"));
        assert_non_null(strstr(sb.buf, "{method=\"GET\",code=\"2xx\",le=\"+Inf\"} 3\n"));
        assert_non_null(strstr(sb.buf, "_count{method=\"GET\",code=\"2xx\"} 3\n"));
        assert_non_null(strstr(sb.buf, "_sum{method=\"GET\",code=\"2xx\"} 30.200400\n"));
        assert_non_null(strstr(sb.buf, "_count{method=\"other\",code=\"4xx\"} 1\n"));
        assert_null(strstr(sb.buf, "method=\"POST\""));
        strbuf_release(&sb);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(buckets_are_cumulative_and_bounded_by_the_count),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
