/* test_model_deploy_failure.c — "N failures of the new version before one proved itself" with
 * worked examples. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/deploy_failure.h"

static json_t *app_with(const char *labels) {
        char text[512];
        snprintf(text, sizeof text, "{\"id\":\"/web\",\"labels\":%s}", labels);
        json_t *a = json_loads(text, 0, NULL);
        assert_non_null(a);
        return a;
}

static void defaults_and_labels(void **state) {
        struct deploy_failure_policy p;
        struct err e = { 0 };
        json_t *a = app_with("{}");
        assert_int_equal(deploy_failure_policy_of(a, &p, &e), 0);
        assert_int_equal(p.max_failures, 3);
        assert_int_equal(p.min_healthy_s, 3);
        assert_int_equal(p.on_failure, DEPLOY_ON_FAILURE_FAIL);
        json_decref(a);

        a = app_with("{\"STRATA_DEPLOY_MAX_FAILURES\":\"0\",\"STRATA_DEPLOY_MIN_HEALTHY_SECONDS\":\"2\","
                     "\"STRATA_DEPLOY_ON_FAILURE\":\"rollback\"}");
        assert_int_equal(deploy_failure_policy_of(a, &p, &e), 0);
        assert_int_equal(p.max_failures, 0);
        assert_int_equal(p.min_healthy_s, 2);
        assert_int_equal(p.on_failure, DEPLOY_ON_FAILURE_ROLLBACK);
        json_decref(a);

        a = app_with("{\"STRATA_DEPLOY_MAX_FAILURES\":\"many\"}");
        assert_int_equal(deploy_failure_policy_of(a, &p, &e), -EINVAL);
        assert_string_equal(err_msg(&e), "label STRATA_DEPLOY_MAX_FAILURES: 'many' is not a whole number from 0 to 1000000");
        assert_int_equal(p.max_failures, 3); /* the default stands */
        err_release(&e);
        json_decref(a);
}

static void three_quick_crashes_fail_the_deployment(void **state) {
        struct deploy_failure_policy p = { .max_failures = 3, .min_healthy_s = 10 };
        struct deploy_failure_count c = { 0 };
        /* never started (bad user), then ran 1 s, then ran 2 s */
        struct deploy_task t1 = { .ended_ms = 1000 }, t2 = { .started_ms = 2000, .ended_ms = 3000 },
                           t3 = { .started_ms = 4000, .ended_ms = 6000 };
        assert_false(deploy_failure_note(&p, &c, &t1, 1000));
        assert_false(deploy_failure_note(&p, &c, &t2, 3000));
        assert_true(deploy_failure_note(&p, &c, &t3, 6000));
        char *why = deploy_failure_reason(&p, &c, "/web", "Command exited with status 1");
        assert_string_equal(why, "3 tasks of /web failed before one ran 10 s healthy; last: Command exited with status 1");
        free(why);
}

static void a_task_that_ran_long_enough_proves_the_version(void **state) {
        struct deploy_failure_policy p = { .max_failures = 2, .min_healthy_s = 10 };
        struct deploy_failure_count c = { 0 };
        struct deploy_task ran_long = { .started_ms = 1000, .ended_ms = 11000 }, quick = { .started_ms = 12000, .ended_ms = 12500 };
        assert_false(deploy_failure_note(&p, &c, &ran_long, 11000));
        assert_true(c.proven);
        assert_false(deploy_failure_note(&p, &c, &quick, 12500));
        assert_false(deploy_failure_note(&p, &c, &quick, 12600));
        assert_int_equal(c.failures, 0);

        struct deploy_task running = { .running = true, .healthy = true, .started_ms = 1000 };
        assert_false(deploy_task_proves(&p, &running, 10999));
        assert_true(deploy_task_proves(&p, &running, 11000));
        running.healthy = false; /* running but failing its health checks proves nothing */
        assert_false(deploy_task_proves(&p, &running, 20000));
}

static void zero_means_marathons_retry_forever(void **state) {
        struct deploy_failure_policy p = { .max_failures = 0, .min_healthy_s = 10 };
        struct deploy_failure_count c = { 0 };
        struct deploy_task t = { .ended_ms = 1 };
        for (int i = 0; i < 100; i++)
                assert_false(deploy_failure_note(&p, &c, &t, 1));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(defaults_and_labels),
                cmocka_unit_test(three_quick_crashes_fail_the_deployment),
                cmocka_unit_test(a_task_that_ran_long_enough_proves_the_version),
                cmocka_unit_test(zero_means_marathons_retry_forever),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
