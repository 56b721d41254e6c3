/* test_scheduler_kill.c — scale-down victims: killSelection, not-running first, GROUP_BY spread. */
#include <errno.h>

#include "test_scheduler_helpers.h"

static void youngest_first_kills_the_most_recently_started(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000);
        struct sched_instance_ref inst[] = {
                {"a1", 1000},
                {"a1", 3000},
                {"a1", 2000},
                {"a1", 4000},
        };
        size_t idx[4];
        assert_int_equal(sched_select_victims(c, NULL, SCHED_KILL_YOUNGEST_FIRST, inst, 4, 2, idx), 2);
        assert_int_equal(idx[0], 3);
        assert_int_equal(idx[1], 1);
        assert_int_equal(sched_select_victims(c, NULL, SCHED_KILL_OLDEST_FIRST, inst, 4, 3, idx), 3);
        assert_int_equal(idx[0], 0);
        assert_int_equal(idx[1], 2);
        assert_int_equal(idx[2], 1);
}

static void instances_not_running_yet_go_first(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        struct sched_instance_ref inst[] = {
                {"a1", 1000},
                {"a1", 0},
                {"a1", 5000},
                {NULL, 0},
        };
        size_t idx[4];
        for (int sel = 0; sel < _SCHED_KILL_SELECTION_MAX; sel++) {
                assert_int_equal(sched_select_victims(c, NULL, sel, inst, 4, 2, idx), 2);
                assert_int_equal(idx[0], 1);
                assert_int_equal(idx[1], 3);
        }
        /* asking for more than there are kills them all */
        assert_int_equal(sched_select_victims(c, NULL, SCHED_KILL_OLDEST_FIRST, inst, 4, 10, idx), 4);
        assert_int_equal(idx[2], 0);
        assert_int_equal(idx[3], 2);
        assert_int_equal(sched_select_victims(c, NULL, SCHED_KILL_OLDEST_FIRST, inst, 4, 0, idx), 0);
}

static void group_by_keeps_the_spread_on_scale_down(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        AGENT(c, .id = "a3", .cpus = 10, .mem = 1000, .attrs = "rack=r2");
        AGENT(c, .id = "a4", .cpus = 10, .mem = 1000, .attrs = "rack=r3");
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"GROUP_BY\"]]");
        /* r1: 4 (oldest), r2: 2, r3: 2 (youngest) */
        struct sched_instance_ref inst[] = {
                {"a1", 100}, {"a2", 200}, {"a1", 300}, {"a2", 400},
                {"a3", 500}, {"a3", 600}, {"a4", 700}, {"a4", 800},
        };
        size_t idx[8];
        /* plain youngest-first would kill a4's two; the spread says r1 first */
        assert_int_equal(sched_select_victims(c, k, SCHED_KILL_YOUNGEST_FIRST, inst, 8, 2, idx), 2);
        assert_int_equal(idx[0], 3); /* r1's youngest */
        assert_int_equal(idx[1], 2);
        /* at 2/2/2 the youngest overall goes, then the next value's youngest */
        assert_int_equal(sched_select_victims(c, k, SCHED_KILL_YOUNGEST_FIRST, inst, 8, 5, idx), 5);
        assert_int_equal(idx[2], 7);
        assert_int_equal(idx[3], 5);
        assert_int_equal(idx[4], 1);
        /* oldest first within the same rule */
        assert_int_equal(sched_select_victims(c, k, SCHED_KILL_OLDEST_FIRST, inst, 8, 3, idx), 3);
        assert_int_equal(idx[0], 0);
        assert_int_equal(idx[1], 1);
        assert_int_equal(idx[2], 2);
}

static void among_equal_values_the_next_victim_in_order_decides(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        AGENT(c, .id = "b1", .cpus = 10, .mem = 1000, .attrs = "rack=r2");
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"GROUP_BY\"]]");
        /* r1: 900, 400, 300; r2: 800, 700 */
        struct sched_instance_ref inst[] = {
                {"a1", 900}, {"a1", 400}, {"a1", 300}, {"b1", 800}, {"b1", 700},
        };
        size_t idx[5];
        /* r1 holds more: its youngest (900); then 2/2, and r2's 800 is younger than r1's 400 */
        assert_int_equal(sched_select_victims(c, k, SCHED_KILL_YOUNGEST_FIRST, inst, 5, 2, idx), 2);
        assert_int_equal(idx[0], 0);
        assert_int_equal(idx[1], 3);
}

static void instances_outside_every_group_go_first(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        AGENT(c, .id = "bare", .cpus = 10, .mem = 1000);
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"GROUP_BY\"]]");
        struct sched_instance_ref inst[] = {
                {"a1", 900},
                {"bare", 100},
                {"gone", 200},
                {"a1", 800},
        };
        size_t idx[4];
        assert_int_equal(sched_select_victims(c, k, SCHED_KILL_YOUNGEST_FIRST, inst, 4, 3, idx), 3);
        assert_int_equal(idx[0], 2);
        assert_int_equal(idx[1], 1);
        assert_int_equal(idx[2], 0);
}

static void selection_names_round_trip(void **state) {
        assert_int_equal(sched_kill_selection_from_string("YOUNGEST_FIRST"), SCHED_KILL_YOUNGEST_FIRST);
        assert_int_equal(sched_kill_selection_from_string("OLDEST_FIRST"), SCHED_KILL_OLDEST_FIRST);
        assert_int_equal(sched_kill_selection_from_string("RANDOM"), -EINVAL);
        assert_string_equal(sched_kill_selection_to_string(SCHED_KILL_OLDEST_FIRST), "OLDEST_FIRST");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(youngest_first_kills_the_most_recently_started),
                cmocka_unit_test(instances_not_running_yet_go_first),
                cmocka_unit_test(group_by_keeps_the_spread_on_scale_down),
                cmocka_unit_test(among_equal_values_the_next_victim_in_order_decides),
                cmocka_unit_test(instances_outside_every_group_go_first),
                cmocka_unit_test(selection_names_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
