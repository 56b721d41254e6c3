/* test_model_task_stats.c — tasksStats split by version as Marathon's TaskStatsByVersion does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "model/task_stats.h"

#define SCALED "2026-01-01T00:00:10.000Z"
#define CONFIG "2026-01-01T00:00:05.000Z"
#define OLD "2026-01-01T00:00:01.000Z"

static json_int_t count(const json_t *out, const char *part, const char *what) {
        json_t *c = json_object_get(json_object_get(json_object_get(json_object_get(out, part), "stats"), "counts"),
                                    what);
        assert_true(json_is_integer(c));
        return json_integer_value(c);
}

static double life(const json_t *out, const char *part, const char *what) {
        json_t *v = json_object_get(
                json_object_get(json_object_get(json_object_get(out, part), "stats"), "lifeTime"), what);
        assert_true(json_is_real(v));
        return json_real_value(v);
}

static void tasks_split_by_scaling_and_config_change(void **state) {
        struct task_stat t[] = {
                { .version = OLD, .running = true, .unhealthy = true, .life_s = 100 },
                { .version = CONFIG, .running = true, .healthy = true, .life_s = 30 },
                { .version = SCALED, .running = true, .healthy = true, .life_s = 10 },
                { .version = SCALED, .staging = true, .life_s = -1 },
        };
        json_t *out = task_stats_json(t, 4, SCALED, CONFIG);
        assert_int_equal(json_object_size(out), 4);
        assert_int_equal(count(out, "totalSummary", "running"), 3);
        assert_int_equal(count(out, "totalSummary", "staged"), 1);
        assert_int_equal(count(out, "totalSummary", "healthy"), 2);
        assert_int_equal(count(out, "totalSummary", "unhealthy"), 1);
        /* average over started tasks; median = sorted[n/2] = sorted {10,30,100}[1] */
        assert_true(life(out, "totalSummary", "averageSeconds") > 46.66 &&
                    life(out, "totalSummary", "averageSeconds") < 46.67);
        assert_true(life(out, "totalSummary", "medianSeconds") == 30);
        assert_int_equal(count(out, "startedAfterLastScaling", "running"), 1);
        assert_int_equal(count(out, "startedAfterLastScaling", "staged"), 1);
        assert_int_equal(count(out, "withLatestConfig", "running"), 2);
        assert_int_equal(count(out, "withOutdatedConfig", "running"), 1);
        assert_int_equal(count(out, "withOutdatedConfig", "unhealthy"), 1);
        assert_true(life(out, "withOutdatedConfig", "medianSeconds") == 100);
        json_decref(out);
}

static void empty_parts_and_unstarted_life_times_are_left_out(void **state) {
        json_t *out = task_stats_json(NULL, 0, SCALED, CONFIG);
        assert_int_equal(json_object_size(out), 0);
        json_decref(out);
        struct task_stat staging = { .version = SCALED, .staging = true, .life_s = -1 };
        out = task_stats_json(&staging, 1, SCALED, CONFIG);
        assert_null(json_object_get(out, "withOutdatedConfig"));
        assert_null(json_object_get(json_object_get(json_object_get(out, "totalSummary"), "stats"), "lifeTime"));
        assert_int_equal(count(out, "withLatestConfig", "staged"), 1);
        json_decref(out);
}

static void without_full_version_info_only_the_total_is_given(void **state) {
        struct task_stat t = { .version = OLD, .running = true, .life_s = 1 };
        json_t *out = task_stats_json(&t, 1, NULL, NULL);
        assert_int_equal(json_object_size(out), 1);
        assert_int_equal(count(out, "totalSummary", "running"), 1);
        json_decref(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(tasks_split_by_scaling_and_config_change),
                cmocka_unit_test(empty_parts_and_unstarted_life_times_are_left_out),
                cmocka_unit_test(without_full_version_info_only_the_total_is_given),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
