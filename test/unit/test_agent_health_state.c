/* Health state machine: grace period, consecutive failures, ignoreHttp1xx, delay, reporting only
 * on changes — with the clock driven by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/health_state.h"

#define T0 INT64_C(1700000000000)

static const struct health_policy marathon_http = {
        .protocol = HEALTH_HTTP, .grace_ms = 10000, .interval_ms = 1000, .timeout_ms = 500, .delay_ms = 15000,
        .max_failures = 3,
};

static void failures_in_grace_period_are_ignored(void **state) {
        struct health_result r = { 0 };
        assert_int_equal(health_apply(&r, &marathon_http, T0, T0 + 1000, HEALTH_FAILURE, "HTTP 503"), 0);
        assert_int_equal(health_apply(&r, &marathon_http, T0, T0 + 9999, HEALTH_FAILURE, "HTTP 503"), 0);
        assert_false(r.known);
        assert_int_equal(r.consecutive_failures, 0);
        /* grace elapsed: counted */
        unsigned ch = health_apply(&r, &marathon_http, T0, T0 + 10000, HEALTH_FAILURE, "HTTP 503");
        assert_int_equal(ch, HEALTH_CHANGED_ALIVE | HEALTH_CHANGED_FAILURES);
        assert_true(r.known);
        assert_false(r.alive);
        assert_int_equal(r.consecutive_failures, 1);
        assert_int_equal(r.last_failure_ms, T0 + 10000);
        assert_string_equal(r.cause, "HTTP 503");
}

static void first_success_ends_the_grace_period(void **state) {
        struct health_result r = { 0 };
        assert_int_equal(health_apply(&r, &marathon_http, T0, T0 + 1000, HEALTH_SUCCESS, NULL), HEALTH_CHANGED_ALIVE);
        assert_true(r.alive);
        assert_int_equal(r.first_success_ms, T0 + 1000);
        /* within what would have been grace, a failure now counts */
        assert_int_equal(health_apply(&r, &marathon_http, T0, T0 + 2000, HEALTH_FAILURE, "x"),
                         HEALTH_CHANGED_ALIVE | HEALTH_CHANGED_FAILURES);
        assert_int_equal(r.consecutive_failures, 1);
        assert_int_equal(r.first_success_ms, T0 + 1000);
}

static void unhealthy_task_fails_after_max_consecutive_failures(void **state) {
        struct health_result r = { 0 };
        health_apply(&r, &marathon_http, T0, T0 + 1000, HEALTH_SUCCESS, NULL);
        for (int k = 1; k <= 3; k++) {
                assert_false(health_failed(&r, &marathon_http));
                unsigned ch = health_apply(&r, &marathon_http, T0, T0 + 1000 + k * 1000, HEALTH_FAILURE, "HTTP 404");
                /* only the first failure flips alive; each changes the count */
                assert_int_equal(ch, k == 1 ? (HEALTH_CHANGED_ALIVE | HEALTH_CHANGED_FAILURES) : HEALTH_CHANGED_FAILURES);
        }
        assert_true(health_failed(&r, &marathon_http));
        /* a success resets the count and flips alive back */
        assert_int_equal(health_apply(&r, &marathon_http, T0, T0 + 9000, HEALTH_SUCCESS, NULL),
                         HEALTH_CHANGED_ALIVE | HEALTH_CHANGED_FAILURES);
        assert_false(health_failed(&r, &marathon_http));
        assert_int_equal(r.last_success_ms, T0 + 9000);
}

static void successes_in_a_row_report_nothing(void **state) {
        struct health_result r = { 0 };
        health_apply(&r, &marathon_http, T0, T0 + 1000, HEALTH_SUCCESS, NULL);
        assert_int_equal(health_apply(&r, &marathon_http, T0, T0 + 2000, HEALTH_SUCCESS, NULL), 0);
        assert_int_equal(r.last_success_ms, T0 + 2000);
}

static void max_failures_zero_never_fails(void **state) {
        struct health_policy p = marathon_http;
        p.max_failures = 0;
        p.grace_ms = 0;
        struct health_result r = { 0 };
        for (int k = 0; k < 100; k++)
                health_apply(&r, &p, T0, T0 + k, HEALTH_FAILURE, "down");
        assert_int_equal(r.consecutive_failures, 100);
        assert_false(health_failed(&r, &p));
}

static void ignore_http_1xx(void **state) {
        char cause[64] = "";
        assert_int_equal(health_http_outcome(200, false, cause, sizeof cause), HEALTH_SUCCESS);
        assert_int_equal(health_http_outcome(399, false, cause, sizeof cause), HEALTH_SUCCESS);
        assert_int_equal(health_http_outcome(101, true, cause, sizeof cause), HEALTH_IGNORED);
        assert_int_equal(health_http_outcome(101, false, cause, sizeof cause), HEALTH_FAILURE);
        assert_string_equal(cause, "HTTP 101");
        assert_int_equal(health_http_outcome(400, true, cause, sizeof cause), HEALTH_FAILURE);
        assert_string_equal(cause, "HTTP 400");
        /* an ignored result changes nothing at all */
        struct health_result r = { 0 };
        assert_int_equal(health_apply(&r, &marathon_http, T0, T0 + 20000, HEALTH_IGNORED, NULL), 0);
        assert_false(r.known);
}

static void delay_applies_to_mesos_checks_only(void **state) {
        struct health_policy p = marathon_http;
        assert_int_equal(health_first_check_ms(&p, T0), T0);
        p.mesos = true;
        assert_int_equal(health_first_check_ms(&p, T0), T0 + 15000);
}

static void overall_health_of_several_checks(void **state) {
        struct health_result r[3] = { 0 };
        assert_int_equal(health_results_healthy(r, 3), -1);
        r[0] = (struct health_result){ .known = true, .alive = true };
        assert_int_equal(health_results_healthy(r, 3), 1);
        r[2] = (struct health_result){ .known = true, .alive = false, .consecutive_failures = 1 };
        assert_int_equal(health_results_healthy(r, 3), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(failures_in_grace_period_are_ignored),
                cmocka_unit_test(first_success_ends_the_grace_period),
                cmocka_unit_test(unhealthy_task_fails_after_max_consecutive_failures),
                cmocka_unit_test(successes_in_a_row_report_nothing),
                cmocka_unit_test(max_failures_zero_never_fails),
                cmocka_unit_test(ignore_http_1xx),
                cmocka_unit_test(delay_applies_to_mesos_checks_only),
                cmocka_unit_test(overall_health_of_several_checks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
