/* test_scheduler_ports.c — host ports: dynamic from the agent's ranges, required exactly, never
 * handed out twice, given back on release. */
#include <errno.h>

#include "test_scheduler_helpers.h"

static bool in(uint16_t port, uint16_t lo, uint16_t hi) {
        return port >= lo && port <= hi;
}

static void dynamic_ports_come_from_the_ranges_and_are_distinct(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .ports = "31000-31003,32000-32001");
        uint16_t ports[] = {0, 0};
        struct sched_request r = req("/web", 3, 1, 10);
        r.ports = ports;
        r.n_ports = 2;
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_commit(c, &r, &p), 3);
        uint16_t seen[6];
        for (size_t i = 0; i < 3; i++)
                for (size_t k = 0; k < 2; k++) {
                        uint16_t port = p.placements[i].ports[k];
                        assert_true(in(port, 31000, 31003) || in(port, 32000, 32001));
                        for (size_t j = 0; j < i * 2 + k; j++)
                                assert_int_not_equal(seen[j], port);
                        seen[i * 2 + k] = port;
                        assert_true(sched_port_used(c, "a1", port));
                }
        struct sched_agent_info info;
        assert_int_equal(sched_agent_info(c, "a1", &info), 0);
        assert_int_equal(info.ports_total, 6);
        assert_int_equal(info.ports_used, 6);
        /* all six taken: the next is declined for ports alone */
        r.count = 1;
        assert_int_equal(place_commit(c, &r, &p), 0);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_PORTS], 1);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_CPUS], 0);
        sched_plan_release(&p);
}

static void ports_of_a_plan_are_never_given_twice_across_commits(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 100, .mem = 100000, .ports = "20000-20099");
        uint16_t ports[] = {0};
        bool taken[100] = {0};
        struct sched_plan p;
        sched_plan_init(&p);
        for (uint64_t round = 0; round < 10; round++) {
                struct sched_request r = req("/web", 10, 1, 1);
                r.ports = ports;
                r.n_ports = 1;
                r.seed = round; /* the same seed again must not matter either */
                assert_int_equal(place_commit(c, &r, &p), 10);
                for (size_t i = 0; i < 10; i++) {
                        uint16_t port = p.placements[i].ports[0];
                        assert_true(in(port, 20000, 20099));
                        assert_false(taken[port - 20000]);
                        taken[port - 20000] = true;
                }
        }
        struct sched_request r = req("/web", 1, 1, 1);
        r.ports = ports;
        r.n_ports = 1;
        assert_int_equal(place_commit(c, &r, &p), 0);
        sched_plan_release(&p);
}

static void a_required_port_is_exactly_that_port(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .ports = "8000-8100");
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000, .ports = "8000-8100");
        uint16_t ports[] = {8080, 0};
        struct sched_request r = req("/web", 3, 1, 10);
        r.ports = ports;
        r.n_ports = 2;
        struct sched_plan p;
        sched_plan_init(&p);
        /* one per agent: the third has no free 8080 anywhere */
        assert_int_equal(place_commit(c, &r, &p), 2);
        assert_int_equal(count_on(&p, "a1"), 1);
        assert_int_equal(count_on(&p, "a2"), 1);
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(p.placements[i].ports[0], 8080);
                assert_int_not_equal(p.placements[i].ports[1], 8080);
                assert_true(in(p.placements[i].ports[1], 8000, 8100));
        }
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_PORTS], 2);
        sched_plan_release(&p);
}

static void a_dynamic_port_never_takes_a_required_one(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .ports = "5000-5001");
        uint16_t ports[] = {0, 5000};
        struct sched_request r = req("/web", 1, 1, 10);
        r.ports = ports;
        r.n_ports = 2;
        struct sched_plan p;
        sched_plan_init(&p);
        for (uint64_t s = 0; s < 16; s++) {
                r.seed = s;
                assert_int_equal(place_only(c, &r, &p), 1);
                assert_int_equal(p.placements[0].ports[0], 5001);
                assert_int_equal(p.placements[0].ports[1], 5000);
        }
        sched_plan_release(&p);
}

static void a_required_port_outside_the_ranges_fits_nowhere(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .ports = "31000-32000");
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000);
        uint16_t ports[] = {80};
        struct sched_request r = req("/web", 1, 1, 10);
        r.ports = ports;
        r.n_ports = 1;
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_only(c, &r, &p), 0);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_PORTS], 2);
        sched_plan_release(&p);
}

static void released_ports_can_be_given_again(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .ports = "7000-7000");
        uint16_t ports[] = {0};
        struct sched_request r = req("/web", 1, 1, 10);
        r.ports = ports;
        r.n_ports = 1;
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_commit(c, &r, &p), 1);
        uint16_t got = p.placements[0].ports[0];
        assert_int_equal(got, 7000);
        assert_int_equal(place_only(c, &r, &p), 0);
        struct sched_resources res = {1, 10, 0, 0};
        assert_int_equal(sched_release(c, "a1", "/web", &res, &got, 1), 0);
        assert_false(sched_port_used(c, "a1", 7000));
        assert_int_equal(place_only(c, &r, &p), 1);
        assert_int_equal(p.placements[0].ports[0], 7000);
        sched_plan_release(&p);
}

static void alloc_refuses_a_port_in_use_and_changes_nothing(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .ports = "9000-9010");
        struct sched_resources res = {1, 10, 0, 0};
        uint16_t one[] = {9005}, clash[] = {9001, 9005}, dup[] = {9002, 9002}, outside[] = {22};
        assert_int_equal(sched_alloc(c, "a1", "/a", &res, one, 1, NULL), 0);
        assert_int_equal(sched_alloc(c, "a1", "/b", &res, clash, 2, NULL), -EADDRINUSE);
        assert_int_equal(sched_alloc(c, "a1", "/b", &res, dup, 2, NULL), -EADDRINUSE);
        assert_false(sched_port_used(c, "a1", 9001));
        assert_false(sched_port_used(c, "a1", 9002));
        assert_int_equal(sched_app_instances(c, "/b", NULL), 0);
        assert_int_equal(used_cpus(c, "a1"), 1);
        /* a port the agent does not offer (an instance from before a range change) is accepted */
        assert_int_equal(sched_alloc(c, "a1", "/b", &res, outside, 1, NULL), 0);
        assert_int_equal(sched_release(c, "a1", "/b", &res, outside, 1), 0);
        sched_cluster_free(TAKE_PTR(c));
}

static void an_agent_update_keeps_ports_in_use_that_it_still_offers(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .ports = "100-110");
        struct sched_resources res = {1, 10, 0, 0};
        uint16_t used[] = {105, 110};
        assert_int_equal(sched_alloc(c, "a1", "/a", &res, used, 2, NULL), 0);
        AGENT_UPDATE(c, .id = "a1", .cpus = 10, .mem = 1000, .ports = "90-107");
        assert_true(sched_port_used(c, "a1", 105));
        assert_false(sched_port_used(c, "a1", 110));
        struct sched_agent_info info;
        assert_int_equal(sched_agent_info(c, "a1", &info), 0);
        assert_int_equal(info.ports_total, 18);
        assert_int_equal(info.ports_used, 1);
        uint16_t want[] = {105};
        struct sched_request r = req("/b", 1, 1, 10);
        r.ports = want;
        r.n_ports = 1;
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_only(c, &r, &p), 0);
        sched_plan_release(&p);
}

static void overlapping_ranges_are_merged_and_the_whole_port_space_works(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .ports = "10-20,15-30,31-31");
        AGENT(c, .id = "big", .cpus = 10, .mem = 1000, .ports = "1-65535", .attrs = "kind=big");
        struct sched_agent_info info;
        assert_int_equal(sched_agent_info(c, "a1", &info), 0);
        assert_int_equal(info.ports_total, 22);
        assert_int_equal(sched_agent_info(c, "big", &info), 0);
        assert_int_equal(info.ports_total, 65535);
        uint16_t want[] = {65535, 0};
        struct sched_request r = req("/b", 1, 1, 10);
        r.ports = want;
        r.n_ports = 2;
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_commit(c, &r, &p), 1);
        assert_string_equal(p.placements[0].agent_id, "big");
        assert_true(sched_port_used(c, "big", 65535));
        sched_plan_release(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(dynamic_ports_come_from_the_ranges_and_are_distinct),
                cmocka_unit_test(ports_of_a_plan_are_never_given_twice_across_commits),
                cmocka_unit_test(a_required_port_is_exactly_that_port),
                cmocka_unit_test(a_dynamic_port_never_takes_a_required_one),
                cmocka_unit_test(a_required_port_outside_the_ranges_fits_nowhere),
                cmocka_unit_test(released_ports_can_be_given_again),
                cmocka_unit_test(alloc_refuses_a_port_in_use_and_changes_nothing),
                cmocka_unit_test(an_agent_update_keeps_ports_in_use_that_it_still_offers),
                cmocka_unit_test(overlapping_ranges_are_merged_and_the_whole_port_space_works),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
