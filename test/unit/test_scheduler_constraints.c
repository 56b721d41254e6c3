/* test_scheduler_constraints.c — Marathon constraints (api.md §2.8): parsing and every operator,
 * the missing-field rule, hostname and fault-domain fields, GROUP_BY balance. */
#include <errno.h>

#include "test_scheduler_helpers.h"

static void parse_error(const char *json, const char *want) {
        json_t *j = json_loads(json, 0, NULL);
        assert_non_null(j);
        struct sched_constraints *k = NULL;
        struct err e = {0};
        assert_int_equal(sched_constraints_parse(j, &k, &e), -ERR_INVALID);
        assert_null(k);
        if (!strstr(err_msg(&e), want))
                fail_msg("%s: got '%s', want '%s'", json, err_msg(&e), want);
        err_release(&e);
        json_decref(j);
}

static void bad_constraints_are_refused_with_marathons_messages(void **state) {
        parse_error("[[\"hostname\"]]", "constraints(0): Each constraint must have either 2 or 3 fields");
        parse_error("[[\"a\",\"IS\",\"x\"],[\"a\",\"IS\",\"x\",\"y\"]]",
                    "constraints(1): Each constraint must have");
        parse_error("[[\"\",\"UNIQUE\"]]", "missing field for constraint declaration");
        parse_error("[[\"rack\",\"NEAR\"]]",
                    "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY");
        parse_error("[[\"hostname\",\"UNIQUE\",\"x\"]]", "UNIQUE does not accept a value");
        parse_error("[[\"rack\",\"GROUP_BY\",\"three\"]]",
                    "GROUP BY must define an integer value or else no value");
        parse_error("[[\"rack\",\"MAX_PER\"]]", "MAX_PER requires an integer value");
        parse_error("[[\"rack\",\"MAX_PER\",\"1.5\"]]", "MAX_PER requires an integer value");
        parse_error("[[\"rack\",\"LIKE\"]]", "LIKE and UNLIKE require a non-empty, regular expression value");
        parse_error("[[\"rack\",\"UNLIKE\",\"(\"]]", "is not a valid regular expression");
        parse_error("[[\"rack\",\"IS\",\"a b\"]]", "IS only supports Mesos text and float values");
        parse_error("[[\"rack\",\"IS\",3]]", "illegal constraint specification");
        parse_error("{\"rack\":1}", "constraints must be an array");
}

static void operators_parse_case_insensitively_and_null_means_none(void **state) {
        struct sched_constraints *k =
                cons("[[\"rack\",\"group_by\"],[\"hostname\",\"Unique\"],[\"x\",\"max_per\",\"2\"]]");
        assert_int_equal(sched_constraints_count(k), 3);
        sched_constraints_free(k);
        k = cons("null");
        assert_int_equal(sched_constraints_count(k), 0);
        sched_constraints_free(k);
        k = cons("[]");
        assert_int_equal(sched_constraints_count(k), 0);
        sched_constraints_free(k);
        sched_constraints_free(NULL);
        for (int op = 0; op < _SCHED_OP_MAX; op++)
                assert_int_equal(sched_op_from_string(sched_op_to_string(op)), op);
}

/* Places count of app with constraints k (committing); returns the number placed. */
static int place_k(struct sched_cluster *c, const char *app, unsigned count, struct sched_constraints *k,
                   struct sched_plan *p) {
        struct sched_request r = req(app, count, 1, 10);
        r.constraints = k;
        return place_commit(c, &r, p);
}

static struct sched_cluster *racks(void) {
        struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .host = "h1.example", .cpus = 10, .mem = 1000, .attrs = "rack=r1,kind=web");
        AGENT(c, .id = "a2", .host = "h2.example", .cpus = 10, .mem = 1000, .attrs = "rack=r1,kind=web");
        AGENT(c, .id = "a3", .host = "h3.example", .cpus = 10, .mem = 1000, .attrs = "rack=r2,kind=db");
        AGENT(c, .id = "a4", .host = "h4.other", .cpus = 10, .mem = 1000, .attrs = "rack=r3");
        AGENT(c, .id = "a5", .host = "h5.other", .cpus = 10, .mem = 1000); /* no attributes */
        return c;
}

static void unique_hostname_puts_one_instance_per_host(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = racks();
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"hostname\",\"UNIQUE\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/u", 7, k, &p), 5);
        for (int i = 1; i <= 5; i++) {
                char id[8];
                snprintf(id, sizeof id, "a%d", i);
                assert_int_equal(count_on(&p, id), 1);
        }
        assert_int_equal(p.declined[SCHED_REASON_UNFULFILLED_CONSTRAINT], 5);
        /* existing instances count too, also in a later request */
        assert_int_equal(place_k(c, "/u", 1, k, &p), 0);
        struct sched_resources res = {1, 10, 0, 0};
        assert_int_equal(sched_release(c, "a3", "/u", &res, NULL, 0), 0);
        assert_int_equal(place_k(c, "/u", 1, k, &p), 1);
        assert_string_equal(p.placements[0].agent_id, "a3");
        sched_plan_release(&p);
}

static void agents_sharing_a_hostname_count_as_one_host(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "old", .host = "h1", .cpus = 10, .mem = 1000);
        AGENT(c, .id = "new", .host = "h1", .cpus = 10, .mem = 1000);
        AGENT(c, .id = "other", .host = "h2", .cpus = 10, .mem = 1000);
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"hostname\",\"UNIQUE\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/u", 3, k, &p), 2);
        assert_int_equal(count_on(&p, "old") + count_on(&p, "new"), 1);
        assert_int_equal(count_on(&p, "other"), 1);
        /* the agent re-registers under another name: its host is free again */
        const char *on_h1 = count_on(&p, "old") ? "old" : "new";
        AGENT_UPDATE(c, .id = on_h1, .host = "h3", .cpus = 10, .mem = 1000);
        assert_int_equal(place_k(c, "/u", 3, k, &p), 1);
        assert_string_equal(p.placements[0].agent_id, strcmp(on_h1, "old") ? "old" : "new");
        assert_int_equal(sched_agent_remove(c, "old"), 0);
        assert_int_equal(sched_agent_remove(c, "new"), 0);
        sched_plan_release(&p);
}

static void unique_attribute_allows_one_per_value_and_skips_agents_without_it(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = racks();
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"UNIQUE\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/u", 5, k, &p), 3);
        assert_int_equal(count_on(&p, "a1") + count_on(&p, "a2"), 1);
        assert_int_equal(count_on(&p, "a3"), 1);
        assert_int_equal(count_on(&p, "a4"), 1);
        assert_int_equal(count_on(&p, "a5"), 0);
        sched_plan_release(&p);
}

static void cluster_with_a_value_keeps_to_it(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = racks();
        _cleanup_(sched_constraints_freep) struct sched_constraints *k =
                cons("[[\"rack\",\"CLUSTER\",\"r1\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/c", 30, k, &p), 20);
        assert_int_equal(count_on(&p, "a1") + count_on(&p, "a2"), 20);
        sched_plan_release(&p);
}

static void cluster_without_a_value_follows_the_first_instance(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = racks();
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"CLUSTER\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        /* a fresh app: the first placement decides for the batch */
        for (uint64_t s = 0; s < 8; s++) {
                struct sched_request r = req("/fresh", 6, 1, 10);
                r.constraints = k;
                r.seed = s;
                assert_int_equal(place_only(c, &r, &p), 6);
                const char *first = p.placements[0].agent_id;
                bool r1 = !strcmp(first, "a1") || !strcmp(first, "a2");
                for (size_t i = 0; i < p.n; i++) {
                        const char *id = p.placements[i].agent_id;
                        if (r1)
                                assert_true(!strcmp(id, "a1") || !strcmp(id, "a2"));
                        else
                                assert_string_equal(id, first);
                }
        }
        /* an existing instance on r2 pulls the rest there */
        struct sched_resources res = {1, 10, 0, 0};
        assert_int_equal(sched_alloc(c, "a3", "/c", &res, NULL, 0, NULL), 0);
        assert_int_equal(place_k(c, "/c", 12, k, &p), 9);
        assert_int_equal(count_on(&p, "a3"), 9);
        sched_plan_release(&p);
}

static void group_by_spreads_evenly_over_the_values(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = racks();
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"GROUP_BY\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/g", 9, k, &p), 9);
        assert_int_equal(count_on(&p, "a1") + count_on(&p, "a2"), 3);
        assert_int_equal(count_on(&p, "a3"), 3);
        assert_int_equal(count_on(&p, "a4"), 3);
        assert_int_equal(count_on(&p, "a5"), 0); /* no rack: GROUP_BY does not match */
        sched_plan_release(&p);
}

static void group_by_fills_the_least_used_values_first(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = racks();
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"GROUP_BY\"]]");
        struct sched_resources res = {1, 10, 0, 0};
        for (int i = 0; i < 4; i++)
                assert_int_equal(sched_alloc(c, "a1", "/g", &res, NULL, 0, NULL), 0);
        assert_int_equal(sched_alloc(c, "a3", "/g", &res, NULL, 0, NULL), 0);
        struct sched_plan p;
        sched_plan_init(&p);
        /* r1: 4, r2: 1, r3: 0 → r3, then r2 and r3 up to 4 each, then one more anywhere */
        assert_int_equal(place_k(c, "/g", 7, k, &p), 7);
        assert_int_equal(count_on(&p, "a3"), 3);
        assert_int_equal(count_on(&p, "a4"), 4);
        assert_int_equal(count_on(&p, "a1") + count_on(&p, "a2"), 0);
        assert_int_equal(place_k(c, "/g", 3, k, &p), 3);
        assert_int_equal(count_on(&p, "a1") + count_on(&p, "a2"), 1);
        assert_int_equal(count_on(&p, "a3"), 1);
        assert_int_equal(count_on(&p, "a4"), 1);
        sched_plan_release(&p);
}

static void group_by_goes_on_where_a_value_is_full(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 2, .mem = 1000, .attrs = "rack=r1");
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000, .attrs = "rack=r2");
        _cleanup_(sched_constraints_freep) struct sched_constraints *k = cons("[[\"rack\",\"GROUP_BY\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/g", 8, k, &p), 8);
        assert_int_equal(count_on(&p, "a1"), 2);
        assert_int_equal(count_on(&p, "a2"), 6);
        sched_plan_release(&p);
}

static void group_by_with_a_count_waits_for_enough_values(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000, .attrs = "rack=r2");
        _cleanup_(sched_constraints_freep) struct sched_constraints *k =
                cons("[[\"rack\",\"GROUP_BY\",\"3\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        /* three racks expected, two exist: one instance each, the third waits for a third rack */
        assert_int_equal(place_k(c, "/g", 3, k, &p), 2);
        assert_int_equal(p.declined[SCHED_REASON_UNFULFILLED_CONSTRAINT], 2);
        AGENT(c, .id = "a3", .cpus = 10, .mem = 1000, .attrs = "rack=r3");
        assert_int_equal(place_k(c, "/g", 4, k, &p), 4);
        assert_int_equal(count_on(&p, "a3"), 2);
        assert_int_equal(count_on(&p, "a1"), 1);
        assert_int_equal(count_on(&p, "a2"), 1);
        sched_plan_release(&p);
}

static void group_by_hostname_takes_the_least_loaded_host_that_fits(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "full0", .cpus = 1, .mem = 1000);
        AGENT(c, .id = "one", .cpus = 10, .mem = 1000);
        AGENT(c, .id = "many", .cpus = 10, .mem = 1000);
        struct sched_resources res = {1, 10, 0, 0};
        /* full0 is full of another app; one has 1 instance, many has 4 */
        assert_int_equal(sched_alloc(c, "full0", "/other", &res, NULL, 0, NULL), 0);
        assert_int_equal(sched_alloc(c, "one", "/g", &res, NULL, 0, NULL), 0);
        for (int i = 0; i < 4; i++)
                assert_int_equal(sched_alloc(c, "many", "/g", &res, NULL, 0, NULL), 0);
        _cleanup_(sched_constraints_freep) struct sched_constraints *k =
                cons("[[\"hostname\",\"GROUP_BY\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/g", 3, k, &p), 3);
        assert_int_equal(count_on(&p, "one"), 3);
        assert_int_equal(place_k(c, "/g", 4, k, &p), 4);
        assert_int_equal(count_on(&p, "one"), 2);
        assert_int_equal(count_on(&p, "many"), 2);
        sched_plan_release(&p);
}

static void group_by_hostname_spreads_over_hosts(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = racks();
        _cleanup_(sched_constraints_freep) struct sched_constraints *k =
                cons("[[\"hostname\",\"GROUP_BY\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/g", 12, k, &p), 12);
        size_t total = 0;
        for (int i = 1; i <= 5; i++) {
                char id[8];
                snprintf(id, sizeof id, "a%d", i);
                size_t n = count_on(&p, id);
                assert_in_range(n, 2, 3);
                total += n;
        }
        assert_int_equal(total, 12);
        sched_plan_release(&p);
}

static void like_and_unlike_match_the_whole_value(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=rack-1");
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000, .attrs = "rack=rack-10");
        AGENT(c, .id = "a3", .cpus = 10, .mem = 1000);
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_constraints *k = cons("[[\"rack\",\"LIKE\",\"rack-1\"]]");
        assert_int_equal(place_k(c, "/l1", 20, k, &p), 10);
        assert_int_equal(count_on(&p, "a1"), 10);
        sched_constraints_free(k);
        k = cons("[[\"rack\",\"LIKE\",\"rack-1|rack-10\"]]");
        assert_int_equal(place_k(c, "/l2", 20, k, &p), 10);
        assert_int_equal(count_on(&p, "a2"), 10);
        sched_constraints_free(k);
        /* UNLIKE: not fully matching — and an agent without the field matches */
        k = cons("[[\"rack\",\"UNLIKE\",\"rack-1\"]]");
        assert_int_equal(place_k(c, "/u", 20, k, &p), 10);
        assert_int_equal(count_on(&p, "a3"), 10);
        assert_int_equal(p.declined[SCHED_REASON_UNFULFILLED_CONSTRAINT], 1);
        sched_constraints_free(k);
        sched_plan_release(&p);
}

static void a_missing_field_matches_only_unlike(void **state) {
        const char *ops[] = {
                "[[\"zone\",\"UNIQUE\"]]",        "[[\"zone\",\"CLUSTER\"]]",
                "[[\"zone\",\"CLUSTER\",\"z\"]]", "[[\"zone\",\"GROUP_BY\"]]",
                "[[\"zone\",\"LIKE\",\".*\"]]",   "[[\"zone\",\"MAX_PER\",\"5\"]]",
                "[[\"zone\",\"IS\",\"z\"]]",      "[[\"@zone\",\"LIKE\",\".*\"]]",
                "[[\"@region\",\"UNIQUE\"]]",
        };
        for (size_t i = 0; i < ELEMENTSOF(ops); i++) {
                _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
                AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
                struct sched_constraints *k = cons(ops[i]);
                struct sched_plan p;
                sched_plan_init(&p);
                if (place_k(c, "/x", 1, k, &p) != 0)
                        fail_msg("%s matched an agent without the field", ops[i]);
                assert_int_equal(p.declined[SCHED_REASON_UNFULFILLED_CONSTRAINT], 1);
                sched_constraints_free(k);
                k = cons("[[\"zone\",\"UNLIKE\",\"z\"]]");
                assert_int_equal(place_k(c, "/y", 1, k, &p), 1);
                sched_constraints_free(k);
                sched_plan_release(&p);
        }
}

static void max_per_caps_instances_per_value(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = racks();
        _cleanup_(sched_constraints_freep) struct sched_constraints *k =
                cons("[[\"rack\",\"MAX_PER\",\"2\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/m", 10, k, &p), 6);
        assert_int_equal(count_on(&p, "a1") + count_on(&p, "a2"), 2);
        assert_int_equal(count_on(&p, "a3"), 2);
        assert_int_equal(count_on(&p, "a4"), 2);
        sched_plan_release(&p);
}

static void is_requires_equality_with_scalars_in_three_decimals(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "gen=1.5,os=linux");
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000, .attrs = "gen=2,os=Linux");
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_constraints *k = cons("[[\"gen\",\"IS\",\"1.50\"]]");
        assert_int_equal(place_k(c, "/i1", 12, k, &p), 10);
        assert_int_equal(count_on(&p, "a1"), 10);
        sched_constraints_free(k);
        k = cons("[[\"os\",\"IS\",\"Linux\"]]");
        assert_int_equal(place_k(c, "/i2", 12, k, &p), 10);
        assert_int_equal(count_on(&p, "a2"), 10);
        sched_constraints_free(k);
        char buf[64];
        assert_string_equal(sched_format_scalar(0.8, buf), "0.8");
        assert_string_equal(sched_format_scalar(2, buf), "2");
        assert_string_equal(sched_format_scalar(1.12549, buf), "1.125");
        assert_string_equal(sched_format_scalar(-0.0001, buf), "0");
        sched_plan_release(&p);
}

static void hostname_region_and_zone_are_fields(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .host = "web-1.dc", .cpus = 10, .mem = 1000, .attrs = "@region=eu,@zone=eu-a");
        AGENT(c, .id = "a2", .host = "web-2.dc", .cpus = 10, .mem = 1000, .attrs = "@region=eu,@zone=eu-b");
        AGENT(c, .id = "a3", .host = "db-1.dc", .cpus = 10, .mem = 1000, .attrs = "@region=us,@zone=us-a");
        assert_int_equal(sched_class_count(c), 3);
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_constraints *k = cons("[[\"@hostname\",\"LIKE\",\"web-.*\"]]");
        assert_int_equal(place_k(c, "/h", 25, k, &p), 20);
        assert_int_equal(count_on(&p, "a3"), 0);
        sched_constraints_free(k);
        k = cons("[[\"hostname\",\"CLUSTER\",\"db-1.dc\"]]");
        assert_int_equal(place_k(c, "/h2", 3, k, &p), 3);
        assert_int_equal(count_on(&p, "a3"), 3);
        sched_constraints_free(k);

        _cleanup_(sched_cluster_freep) struct sched_cluster *d = sched_cluster_new();
        AGENT(d, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "@region=eu,@zone=eu-a");
        AGENT(d, .id = "a2", .cpus = 10, .mem = 1000, .attrs = "@region=eu,@zone=eu-b");
        AGENT(d, .id = "a3", .cpus = 10, .mem = 1000, .attrs = "@region=us,@zone=us-a");
        k = cons("[[\"@region\",\"IS\",\"eu\"],[\"@zone\",\"GROUP_BY\"]]");
        assert_int_equal(place_k(d, "/z", 6, k, &p), 6);
        assert_int_equal(count_on(&p, "a1"), 3);
        assert_int_equal(count_on(&p, "a2"), 3);
        sched_constraints_free(k);
        k = cons("[[\"@zone\",\"UNIQUE\"]]");
        assert_int_equal(place_k(d, "/z2", 6, k, &p), 3);
        sched_constraints_free(k);
        sched_plan_release(&p);
}

static void constraints_follow_an_agent_whose_attributes_change(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000, .attrs = "rack=r2");
        _cleanup_(sched_constraints_freep) struct sched_constraints *is = cons("[[\"rack\",\"IS\",\"r1\"]]");
        _cleanup_(sched_constraints_freep) struct sched_constraints *uq = cons("[[\"rack\",\"UNIQUE\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_resources res = {1, 10, 0, 0};
        assert_int_equal(sched_alloc(c, "a1", "/u", &res, NULL, 0, NULL), 0);
        assert_int_equal(place_k(c, "/u", 2, uq, &p), 1);
        assert_string_equal(p.placements[0].agent_id, "a2");
        struct sched_request r = req("/is", 1, 1, 10);
        r.constraints = is;
        assert_int_equal(place_only(c, &r, &p), 1);
        assert_string_equal(p.placements[0].agent_id, "a1");
        /* a1 moves to rack r3: IS r1 has nowhere to go (the memo must not hide it) */
        AGENT_UPDATE(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=r3");
        assert_int_equal(place_only(c, &r, &p), 0);
        /* the UNIQUE counts moved with a1's instance: r3 is taken, a new r1 agent is free */
        AGENT(c, .id = "a3", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        assert_int_equal(place_k(c, "/u", 2, uq, &p), 1);
        assert_string_equal(p.placements[0].agent_id, "a3");
        sched_plan_release(&p);
}

static void a_class_slot_reused_by_other_attributes_is_judged_afresh(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        _cleanup_(sched_constraints_freep) struct sched_constraints *is = cons("[[\"rack\",\"IS\",\"r1\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        struct sched_request r = req("/is", 1, 1, 10);
        r.constraints = is;
        AGENT(c, .id = "a1", .cpus = 10, .mem = 1000, .attrs = "rack=r1");
        assert_int_equal(place_only(c, &r, &p), 1);
        assert_int_equal(sched_agent_remove(c, "a1"), 0);
        AGENT(c, .id = "a2", .cpus = 10, .mem = 1000, .attrs = "rack=r2");
        assert_int_equal(place_only(c, &r, &p), 0);
        assert_int_equal(p.declined[SCHED_REASON_UNFULFILLED_CONSTRAINT], 1);
        sched_plan_release(&p);
}

static void constraints_combine(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        char id[16], attrs[64];
        for (int i = 0; i < 12; i++) {
                snprintf(id, sizeof id, "a%d", i);
                snprintf(attrs, sizeof attrs, "rack=r%d,kind=%s", i % 3, i < 9 ? "web" : "db");
                AGENT(c, .id = id, .cpus = 10, .mem = 1000, .attrs = attrs);
        }
        _cleanup_(sched_constraints_freep) struct sched_constraints *k =
                cons("[[\"kind\",\"IS\",\"web\"],[\"rack\",\"GROUP_BY\"],[\"hostname\",\"UNIQUE\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/w", 20, k, &p), 9);
        for (int i = 0; i < 12; i++) {
                snprintf(id, sizeof id, "a%d", i);
                assert_int_equal(count_on(&p, id), i < 9 ? 1 : 0);
        }
        assert_int_equal(p.declined[SCHED_REASON_UNFULFILLED_CONSTRAINT], 12);
        sched_plan_release(&p);
}

static void a_thousand_classes_are_cached_and_the_cluster_shares_them(void **state) {
        _cleanup_(sched_cluster_freep) struct sched_cluster *c = sched_cluster_new();
        char id[16], attrs[64];
        for (int i = 0; i < 3000; i++) {
                snprintf(id, sizeof id, "a%d", i);
                snprintf(attrs, sizeof attrs, "cell=c%d", i % 1000);
                AGENT(c, .id = id, .cpus = 1, .mem = 1000, .attrs = attrs);
        }
        assert_int_equal(sched_class_count(c), 1000);
        _cleanup_(sched_constraints_freep) struct sched_constraints *k =
                cons("[[\"cell\",\"LIKE\",\"c99.\"]]");
        struct sched_plan p;
        sched_plan_init(&p);
        assert_int_equal(place_k(c, "/cells", 100, k, &p), 30);
        for (size_t i = 0; i < p.n; i++) {
                int n = atoi(p.placements[i].agent_id + 1);
                assert_in_range(n % 1000, 990, 999);
        }
        sched_plan_release(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bad_constraints_are_refused_with_marathons_messages),
                cmocka_unit_test(operators_parse_case_insensitively_and_null_means_none),
                cmocka_unit_test(unique_hostname_puts_one_instance_per_host),
                cmocka_unit_test(agents_sharing_a_hostname_count_as_one_host),
                cmocka_unit_test(unique_attribute_allows_one_per_value_and_skips_agents_without_it),
                cmocka_unit_test(cluster_with_a_value_keeps_to_it),
                cmocka_unit_test(cluster_without_a_value_follows_the_first_instance),
                cmocka_unit_test(group_by_spreads_evenly_over_the_values),
                cmocka_unit_test(group_by_fills_the_least_used_values_first),
                cmocka_unit_test(group_by_goes_on_where_a_value_is_full),
                cmocka_unit_test(group_by_with_a_count_waits_for_enough_values),
                cmocka_unit_test(group_by_hostname_spreads_over_hosts),
                cmocka_unit_test(group_by_hostname_takes_the_least_loaded_host_that_fits),
                cmocka_unit_test(like_and_unlike_match_the_whole_value),
                cmocka_unit_test(a_missing_field_matches_only_unlike),
                cmocka_unit_test(max_per_caps_instances_per_value),
                cmocka_unit_test(is_requires_equality_with_scalars_in_three_decimals),
                cmocka_unit_test(hostname_region_and_zone_are_fields),
                cmocka_unit_test(constraints_follow_an_agent_whose_attributes_change),
                cmocka_unit_test(a_class_slot_reused_by_other_attributes_is_judged_afresh),
                cmocka_unit_test(constraints_combine),
                cmocka_unit_test(a_thousand_classes_are_cached_and_the_cluster_shares_them),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
