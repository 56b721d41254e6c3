/* test_scheduler_resources.c — placement by cpus/mem/disk/gpus, plans vs commits, agent states,
 * the nearly full cluster, determinism. */
#include <errno.h>

#include "test_scheduler_helpers.h"

static void places_as_many_as_cpus_allow_and_says_insufficient_cpus(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 4, .mem = 4096);
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_request r = req("/web", 6, 1, 128);
        assert_int_equal(place_commit(c, &r, &p), 4);
        assert_int_equal(p.processed, 1);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_CPUS], 1);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_MEMORY], 0);
        assert_int_equal(used_cpus(c, "a1"), 4);
        sched_plan_release(&p);
}

static void each_exhausted_resource_has_its_reason(void **state) {
        struct {
                struct sched_resources res;
                enum sched_reason why;
        } cases[] = {
                {{0.1, 2048, 0, 0}, SCHED_REASON_INSUFFICIENT_MEMORY},
                {{0.1, 1, 600, 0}, SCHED_REASON_INSUFFICIENT_DISK},
                {{0.1, 1, 0, 2}, SCHED_REASON_INSUFFICIENT_GPUS},
                {{8, 1, 0, 0}, SCHED_REASON_INSUFFICIENT_CPUS},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
                AGENT(c, .id = "a1", .cpus = 4, .mem = 1024, .disk = 1000, .gpus = 1);
                struct sched_plan p;
                sched_plan_init(&p);
                struct sched_request r = {.app_id = "/x", .count = 2, .res = cases[i].res, .seed = 7};
                int placed = place_commit(c, &r, &p);
                /* the first fits unless the amount exceeds the agent outright */
                assert_true(placed <= 1);
                for (int k = 0; k < _SCHED_REASON_MAX; k++)
                        assert_int_equal(p.declined[k], k == (int)cases[i].why ? 1 : 0);
                sched_plan_release(&p);
        }
}

static void fractional_amounts_add_up_exactly(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 1, .mem = 1000);
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_request r = req("/tiny", 11, 0.1, 0.1);
        assert_int_equal(place_commit(c, &r, &p), 10);
        sched_plan_release(&p);
}

static void a_plan_leaves_the_cluster_unchanged_until_committed(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 2, .mem = 1024, .ports = "31000-31001");
        AGENT(c, .id = "a2", .cpus = 2, .mem = 1024, .ports = "31000-31001");
        uint16_t ports[] = {0};
        struct sched_request r = req("/web", 3, 1, 100);
        r.ports = ports;
        r.n_ports = 1;
        struct sched_plan p, q;
        sched_plan_init(&p);
        sched_plan_init(&q);
        assert_int_equal(place_only(c, &r, &p), 3);
        assert_int_equal(used_cpus(c, "a1") + used_cpus(c, "a2"), 0);
        assert_int_equal(sched_app_instances(c, "/web", NULL), 0);
        /* the same request again gives the same plan: nothing was kept */
        assert_int_equal(place_only(c, &r, &q), 3);
        for (size_t i = 0; i < 3; i++) {
                assert_string_equal(p.placements[i].agent_id, q.placements[i].agent_id);
                assert_int_equal(p.placements[i].ports[0], q.placements[i].ports[0]);
        }
        sched_commit(c, &r, &p);
        assert_int_equal(used_cpus(c, "a1") + used_cpus(c, "a2"), 3);
        assert_int_equal(sched_app_instances(c, "/web", NULL), 3);
        for (size_t i = 0; i < 3; i++)
                assert_true(sched_port_used(c, p.placements[i].agent_id, p.placements[i].ports[0]));
        /* one cpu is left */
        assert_int_equal(place_only(c, &r, &q), 1);
        sched_plan_release(&p);
        sched_plan_release(&q);
}

static void release_gives_resources_back(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 1, .mem = 1024);
        struct sched_resources res = {1, 512, 0, 0};
        assert_int_equal(sched_alloc(c, "a1", "/db", &res, NULL, 0, NULL), 0);
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_request r = req("/db", 1, 1, 512);
        assert_int_equal(place_only(c, &r, &p), 0);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_CPUS], 1);
        assert_int_equal(sched_release(c, "a1", "/db", &res, NULL, 0), 0);
        assert_int_equal(sched_app_instances(c, "/db", NULL), 0);
        assert_int_equal(place_only(c, &r, &p), 1);
        /* releasing what is not there is refused and changes nothing */
        assert_int_equal(sched_release(c, "a1", "/db", &res, NULL, 0), -ENOENT);
        assert_int_equal(sched_release(c, "nope", "/db", &res, NULL, 0), -ENOENT);
        assert_int_equal(sched_alloc(c, "nope", "/db", &res, NULL, 0, NULL), -ENOENT);
        assert_int_equal(used_cpus(c, "a1"), 0);
        sched_plan_release(&p);
}

/* 3,000 agents with half a cpu free and one with two: sampling misses it, the search must not. */
static void nearly_full_cluster_finds_the_only_agent_that_fits(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        char id[32];
        struct sched_resources filler = {3.5, 0, 0, 0};
        for (int i = 0; i < 3000; i++) {
                snprintf(id, sizeof id, "a%d", i);
                AGENT(c, .id = id, .cpus = 4, .mem = 4096, .attrs = i % 2 ? "class=x" : "class=y");
                if (i != 1234)
                        assert_int_equal(sched_alloc(c, id, "/filler", &filler, NULL, 0, NULL), 0);
        }
        struct sched_plan p;
        sched_plan_init(&p);
        for (uint64_t seed = 1; seed <= 20; seed++) {
                struct sched_request r = req("/web", 1, 1, 64);
                r.seed = seed;
                assert_int_equal(place_only(c, &r, &p), 1);
                assert_string_equal(p.placements[0].agent_id, "a1234");
        }
        /* four fit there, not five; the fifth is declined by every agent for cpus */
        struct sched_request r = req("/web", 5, 1, 64);
        assert_int_equal(place_only(c, &r, &p), 4);
        assert_int_equal(count_on(&p, "a1234"), 4);
        assert_int_equal(p.processed, 3000);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_CPUS], 3000);
        sched_plan_release(&p);
}

static void an_exactly_full_cluster_takes_every_instance_that_fits(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        char id[32];
        for (int i = 0; i < 500; i++) {
                snprintf(id, sizeof id, "a%d", i);
                AGENT(c, .id = id, .cpus = 3, .mem = 3000);
        }
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_request r = req("/batch", 1501, 1, 1000);
        assert_int_equal(place_commit(c, &r, &p), 1500);
        for (int i = 0; i < 500; i++) {
                snprintf(id, sizeof id, "a%d", i);
                assert_int_equal(used_cpus(c, id), 3);
        }
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_CPUS], 500);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_MEMORY], 500);
        sched_plan_release(&p);
}

static void same_seed_same_plan_other_seed_other_plan(void **state) {
        struct sched_cluster *c[2];
        char id[32];
        for (int k = 0; k < 2; k++) {
                c[k] = sched_cluster_new();
                for (int i = 0; i < 200; i++) {
                        snprintf(id, sizeof id, "a%d", i);
                        AGENT(c[k], .id = id, .cpus = 8, .mem = 8192, .ports = "31000-32000",
                              .attrs = i % 3 ? "rack=r1" : "rack=r2");
                }
        }
        uint16_t ports[] = {0, 0};
        struct sched_request r = req("/web", 50, 0.5, 256);
        r.ports = ports;
        r.n_ports = 2;
        r.seed = 42;
        struct sched_plan p[2], other;
        sched_plan_init(&p[0]);
        sched_plan_init(&p[1]);
        sched_plan_init(&other);
        assert_int_equal(place_commit(c[0], &r, &p[0]), 50);
        assert_int_equal(place_commit(c[1], &r, &p[1]), 50);
        for (size_t i = 0; i < 50; i++) {
                assert_string_equal(p[0].placements[i].agent_id, p[1].placements[i].agent_id);
                assert_memory_equal(p[0].placements[i].ports, p[1].placements[i].ports, 2 * sizeof(uint16_t));
        }
        r.seed = 43;
        assert_int_equal(place_only(c[0], &r, &other), 50);
        size_t same = 0;
        for (size_t i = 0; i < 50; i++)
                same += strcmp(p[0].placements[i].agent_id, other.placements[i].agent_id) == 0;
        assert_true(same < 10);
        sched_plan_release(&p[0]);
        sched_plan_release(&p[1]);
        sched_plan_release(&other);
        sched_cluster_free(c[0]);
        sched_cluster_free(c[1]);
}

static void spreads_instances_over_agents_by_default(void **state) {
        char id[32];
        for (uint64_t seed = 1; seed <= 5; seed++) {
                _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
                for (int i = 0; i < 50; i++) {
                        snprintf(id, sizeof id, "a%d", i);
                        AGENT(c, .id = id, .cpus = 1000, .mem = 1e6);
                }
                struct sched_plan p;
                sched_plan_init(&p);
                struct sched_request r = req("/web", 500, 1, 10);
                r.seed = seed;
                assert_int_equal(place_commit(c, &r, &p), 500);
                /* power of two choices keeps every agent near the mean of 10 (measured: 7..12);
                 * one random choice would not (2..21) */
                for (int i = 0; i < 50; i++) {
                        snprintf(id, sizeof id, "a%d", i);
                        assert_in_range(count_on(&p, id), 6, 14);
                }
                sched_plan_release(&p);
        }
}

static void only_active_agents_get_placements(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "drain", .cpus = 8, .mem = 8192, .state = SCHED_AGENT_DRAINING);
        AGENT(c, .id = "gone", .cpus = 8, .mem = 8192, .state = SCHED_AGENT_UNREACHABLE);
        AGENT(c, .id = "ok", .cpus = 1, .mem = 8192);
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_request r = req("/web", 3, 1, 10);
        assert_int_equal(place_only(c, &r, &p), 1);
        assert_string_equal(p.placements[0].agent_id, "ok");
        /* unreachable agents make no offers; draining ones decline for maintenance */
        assert_int_equal(p.processed, 2);
        assert_int_equal(p.declined[SCHED_REASON_AGENT_MAINTENANCE], 1);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_CPUS], 1);

        assert_int_equal(sched_agent_set_state(c, "gone", SCHED_AGENT_ACTIVE), 0);
        assert_int_equal(place_only(c, &r, &p), 3);
        assert_int_equal(count_on(&p, "ok") + count_on(&p, "gone"), 3);
        assert_int_equal(count_on(&p, "drain"), 0);

        assert_int_equal(sched_agent_set_state(c, "gone", SCHED_AGENT_UNREACHABLE), 0);
        assert_int_equal(sched_agent_set_state(c, "ok", SCHED_AGENT_DRAINING), 0);
        assert_int_equal(place_only(c, &r, &p), 0);
        assert_int_equal(sched_agent_set_state(c, "nope", SCHED_AGENT_ACTIVE), -ENOENT);
        sched_plan_release(&p);
}

static void an_added_agent_receives_placements_and_a_removed_one_takes_its_instances_along(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_request r = req("/web", 2, 1, 10);
        assert_int_equal(place_commit(c, &r, &p), 0);
        assert_int_equal(p.processed, 0); /* no agents at all */
        AGENT(c, .id = "a1", .cpus = 1, .mem = 100, .attrs = "rack=r1");
        assert_int_equal(sched_class_count(c), 1);
        assert_int_equal(place_commit(c, &r, &p), 1);
        AGENT(c, .id = "a2", .cpus = 1, .mem = 100, .attrs = "rack=r1");
        assert_int_equal(sched_class_count(c), 1);
        assert_int_equal(place_commit(c, &r, &p), 1);
        assert_int_equal(sched_app_instances(c, "/web", NULL), 2);
        assert_int_equal(sched_agent_remove(c, "a1"), 0);
        assert_int_equal(sched_agent_remove(c, "a1"), -ENOENT);
        assert_int_equal(sched_app_instances(c, "/web", NULL), 1);
        assert_int_equal(sched_app_instances(c, "/web", "a2"), 1);
        assert_int_equal(sched_agent_count(c), 1);
        /* the app's counts followed: UNIQUE rack now sees only a2's instance */
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"UNIQUE\"]]");
        AGENT(c, .id = "a3", .cpus = 1, .mem = 100, .attrs = "rack=r3");
        assert_int_equal(sched_class_count(c), 2);
        r.constraints = k;
        r.count = 1;
        assert_int_equal(place_commit(c, &r, &p), 1);
        assert_string_equal(p.placements[0].agent_id, "a3");
        assert_int_equal(sched_agent_remove(c, "a3"), 0);
        assert_int_equal(sched_agent_remove(c, "a2"), 0);
        assert_int_equal(sched_class_count(c), 0);
        assert_int_equal(sched_app_instances(c, "/web", NULL), 0);
        sched_plan_release(&p);
}

static void an_updated_agent_keeps_its_allocations(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 4, .mem = 1000, .attrs = "rack=r1");
        struct sched_resources res = {3, 100, 0, 0};
        assert_int_equal(sched_alloc(c, "a1", "/web", &res, NULL, 0, NULL), 0);
        /* shrunk below what runs there: nothing more goes there */
        AGENT_UPDATE(c, .id = "a1", .cpus = 2, .mem = 1000, .attrs = "rack=r2");
        assert_int_equal(used_cpus(c, "a1"), 3);
        assert_int_equal(sched_class_count(c), 1);
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_request r = req("/other", 1, 0.5, 1);
        assert_int_equal(place_only(c, &r, &p), 0);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_CPUS], 1);
        AGENT_UPDATE(c, .id = "a1", .cpus = 8, .mem = 1000, .attrs = "rack=r2");
        assert_int_equal(place_only(c, &r, &p), 1);
        assert_int_equal(sched_app_instances(c, "/web", "a1"), 1);
        struct err e = {0};
        struct sched_agent_spec bad = {.id = "zz", .hostname = "zz"};
        assert_int_equal(sched_agent_update(c, &bad, &e), -ENOENT);
        err_release(&e);
        sched_plan_release(&p);
}

static void roles_limit_agents_to_accepted_ones(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "pub", .cpus = 4, .mem = 1000, .role = "slave_public");
        AGENT(c, .id = "priv", .cpus = 4, .mem = 1000);
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_request r = req("/lb", 1, 1, 10);
        const char *roles[] = {"slave_public"};
        r.roles = roles;
        r.n_roles = 1;
        for (uint64_t s = 0; s < 10; s++) {
                r.seed = s;
                assert_int_equal(place_only(c, &r, &p), 1);
                assert_string_equal(p.placements[0].agent_id, "pub");
        }
        r.count = 5;
        assert_int_equal(place_only(c, &r, &p), 4);
        assert_int_equal(p.declined[SCHED_REASON_UNFULFILLED_ROLE], 1);
        assert_int_equal(p.declined[SCHED_REASON_INSUFFICIENT_CPUS], 1);
        /* default: unreserved ("*") only */
        struct sched_request d = req("/web", 5, 1, 10);
        assert_int_equal(place_only(c, &d, &p), 4);
        assert_int_equal(count_on(&p, "priv"), 4);
        sched_plan_release(&p);
}

static void malformed_requests_and_agents_are_refused(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 4, .mem = 1000, .ports = "1000-1010");
        struct sched_plan p;
        sched_plan_init(&p);
        struct err e = {0};
        struct sched_request r = req("/web", 1, -1, 10);
        assert_int_equal(sched_place(c, &r, 0, &p, &e), -EINVAL);
        r = req(NULL, 1, 1, 10);
        assert_int_equal(sched_place(c, &r, 0, &p, &e), -EINVAL);
        uint16_t twice[] = {1001, 1001};
        r = req("/web", 1, 1, 10);
        r.ports = twice;
        r.n_ports = 2;
        assert_int_equal(sched_place(c, &r, 0, &p, &e), -EINVAL);
        r.n_ports = SCHED_MAX_PORTS + 1;
        assert_int_equal(sched_place(c, &r, 0, &p, &e), -EINVAL);
        assert_int_equal(p.n, 0);
        assert_int_equal(sched_app_instances(c, "/web", NULL), 0);

        struct sched_agent_spec s = {.id = "a1", .hostname = "h", .total = {1, 1, 0, 0}};
        assert_int_equal(sched_agent_add(c, &s, &e), -EEXIST);
        s.id = "a2";
        s.total.mem = -1;
        assert_int_equal(sched_agent_add(c, &s, &e), -EINVAL);
        s.total.mem = 1;
        struct sched_port_range backwards = {10, 5};
        s.ranges = &backwards;
        s.n_ranges = 1;
        assert_int_equal(sched_agent_add(c, &s, &e), -EINVAL);
        s.n_ranges = 0;
        struct sched_attr dup[] = {{"rack", "a"}, {"rack", "b"}};
        s.attrs = dup;
        s.n_attrs = 2;
        assert_int_equal(sched_agent_add(c, &s, &e), -EINVAL);
        s.hostname = NULL;
        s.n_attrs = 0;
        assert_int_equal(sched_agent_add(c, &s, &e), -EINVAL);
        assert_int_equal(sched_agent_count(c), 1);
        err_release(&e);
        sched_plan_release(&p);
}

static void state_names_round_trip(void **state) {
        for (int s = 0; s < _SCHED_AGENT_STATE_MAX; s++)
                assert_int_equal(sched_agent_state_from_string(sched_agent_state_to_string(s)), s);
        for (int r = 0; r < _SCHED_REASON_MAX; r++)
                assert_int_equal(sched_reason_from_string(sched_reason_to_string(r)), r);
        assert_string_equal(sched_reason_to_string(SCHED_REASON_INSUFFICIENT_MEMORY), "InsufficientMemory");
        assert_int_equal(sched_reason_from_string("Nope"), -EINVAL);
        assert_int_equal(sched_agent_state_from_string("gone"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(places_as_many_as_cpus_allow_and_says_insufficient_cpus),
                cmocka_unit_test(each_exhausted_resource_has_its_reason),
                cmocka_unit_test(fractional_amounts_add_up_exactly),
                cmocka_unit_test(a_plan_leaves_the_cluster_unchanged_until_committed),
                cmocka_unit_test(release_gives_resources_back),
                cmocka_unit_test(nearly_full_cluster_finds_the_only_agent_that_fits),
                cmocka_unit_test(an_exactly_full_cluster_takes_every_instance_that_fits),
                cmocka_unit_test(same_seed_same_plan_other_seed_other_plan),
                cmocka_unit_test(spreads_instances_over_agents_by_default),
                cmocka_unit_test(only_active_agents_get_placements),
                cmocka_unit_test(
                        an_added_agent_receives_placements_and_a_removed_one_takes_its_instances_along),
                cmocka_unit_test(an_updated_agent_keeps_its_allocations),
                cmocka_unit_test(roles_limit_agents_to_accepted_ones),
                cmocka_unit_test(malformed_requests_and_agents_are_refused),
                cmocka_unit_test(state_names_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
