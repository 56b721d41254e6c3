/* test_cli_cluster.c — `strata cluster status` against a scripted master. */
#include "test_cli_fake.h"

#define M "http://master.test:8080"

static const char cluster_body[] =
        "{\"leader\":\"10.0.0.1:8080\",\"self\":\"2\",\"state\":\"follower\",\"term\":7,\"commitIndex\":1234,"
        "\"lastApplied\":1234,\"lastIndex\":1235,\"masters\":["
        "{\"id\":\"1\",\"raftAddress\":\"10.0.0.1:8090\",\"httpAddress\":\"10.0.0.1:8080\",\"voter\":true,"
        "\"leader\":true},"
        "{\"id\":\"2\",\"raftAddress\":\"10.0.0.2:8090\",\"httpAddress\":\"10.0.0.2:8080\",\"voter\":true,"
        "\"leader\":false},"
        "{\"id\":\"3\",\"raftAddress\":\"10.0.0.3:8090\",\"httpAddress\":null,\"voter\":false,\"leader\":"
        "false}]}";

static void status_prints_the_leader_line_and_the_masters(void **state) {
        struct exchange x[] = {
                { "GET", M "/v1/cluster", 200, cluster_body },
                /* each master's own view; the second does not answer */
                { "GET", "http://10.0.0.1:8080/v1/cluster?stale=true", 200, "{\"state\":\"leader\"}" },
                { "GET", "http://10.0.0.2:8080/v1/cluster?stale=true", 0 },
        };
        struct run r = run_cli(x, "cluster", "status");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "leader: 10.0.0.1:8080  term: 7  commit index: 1234\n"
                                   "\n"
                                   "MASTER  RAFT           HTTP           ROLE       STATE\n"
                                   "1       10.0.0.1:8090  10.0.0.1:8080  leader     leader\n"
                                   "2       10.0.0.2:8090  10.0.0.2:8080  follower   unreachable: cannot reach master "
                                   "at http://10.0.0.2:8080: Couldn't connect to server\n"
                                   "3       10.0.0.3:8090  -              non-voter  -\n");
        run_release(&r);
        exchanges_release(x, 3);
}

static void status_without_a_leader_says_none(void **state) {
        struct exchange x[] = {
                { "GET", M "/v1/cluster", 200,
                  "{\"leader\":null,\"term\":3,\"commitIndex\":10,\"masters\":[{\"id\":\"1\",\"raftAddress\":"
                  "\"a:1\","
                  "\"httpAddress\":\"a:2\",\"voter\":true,\"leader\":false}]}" },
                { "GET", "http://a:2/v1/cluster?stale=true", 200, "{\"state\":\"candidate\"}" },
        };
        struct run r = run_cli(x, "cluster", "status");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "leader: none  term: 3  commit index: 10\n\n"
                                   "MASTER  RAFT  HTTP  ROLE      STATE\n"
                                   "1       a:1   a:2   follower  candidate\n");
        run_release(&r);
        exchanges_release(x, 2);
}

static void status_json_is_the_body(void **state) {
        struct exchange x[] = { { "GET", M "/v1/cluster", 200, cluster_body } };
        struct run r = run_cli(x, "cluster", "status", "-o", "json");
        assert_int_equal(r.code, 0);
        json_t *printed = json_loads(r.out, 0, NULL), *sent = json_loads(cluster_body, 0, NULL);
        assert_non_null(printed);
        assert_true(json_equal(printed, sent));
        json_decref(printed);
        json_decref(sent);
        run_release(&r);
        exchanges_release(x, 1);
}

static void status_during_an_election_is_the_servers_503(void **state) {
        struct exchange x[] = {
                { "GET", M "/v1/cluster", 503,
                  "{\"message\":\"Could not determine the current leader: there is no leader\"}" },
        };
        struct run r = run_cli(x, "cluster", "status");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "Could not determine the current leader: there is no leader");
        run_release(&r);
        exchanges_release(x, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(status_prints_the_leader_line_and_the_masters),
                cmocka_unit_test(status_without_a_leader_says_none),
                cmocka_unit_test(status_json_is_the_body),
                cmocka_unit_test(status_during_an_election_is_the_servers_503),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
