/* test_cli_why.c — why an app is in its state: STATUS, `app why`, `queue`, and the CLI's habits
 * (suggestions for typos, aliases, a noun's default verb, unknown update keys). */
#include "test_cli_fake.h"

#include "cli/cli_why.h"

#define M "http://master.test:8080"
#define QUEUE M "/v2/queue?embed=lastUnusedOffers"

static json_t *j(const char *text) {
        json_t *v = json_loads(text, 0, NULL);
        assert_non_null(v);
        return v;
}

static void check_status(const char *app, const char *entry, const char *want) {
        json_t *a = j(app), *e = entry ? j(entry) : NULL;
        char *s = cli_app_status(a, e);
        assert_string_equal(s, want);
        free(s);
        json_decref(a);
        json_decref(e);
}

static void status_names_the_first_thing_a_person_should_know(void **state) {
        const char *declined = "{\"processedOffersSummary\":{\"rejectSummaryLastOffers\":["
                               "{\"reason\":\"InsufficientMemory\",\"declined\":2,\"processed\":2}]}}";
        check_status("{\"instances\":1,\"tasksRunning\":0,\"deployments\":[{\"id\":\"d\"}]}", declined,
                     "Waiting: InsufficientMemory");
        check_status("{\"instances\":2,\"tasksRunning\":1,\"version\":\"v2\",\"lastTaskFailure\":{\"version\":\"v2\"},"
                     "\"deployments\":[{\"id\":\"d\"}]}",
                     NULL, "Crash-looping");
        /* a failure of an older version is history, not a crash loop */
        check_status("{\"instances\":2,\"tasksRunning\":1,\"version\":\"v2\",\"lastTaskFailure\":{\"version\":\"v1\"},"
                     "\"deployments\":[{\"id\":\"d\"}]}",
                     NULL, "Deploying");
        check_status("{\"instances\":2,\"tasksRunning\":1,\"deployments\":[]}", "{\"count\":1}", "Waiting");
        check_status("{\"instances\":2,\"tasksRunning\":2,\"tasksUnhealthy\":1,\"deployments\":[]}", NULL,
                     "Unhealthy");
        check_status("{\"instances\":0,\"tasksRunning\":0}", NULL, "Suspended");
        check_status("{\"instances\":2,\"tasksRunning\":2}", NULL, "Running");
        check_status("{\"instances\":2,\"tasksRunning\":1}", NULL, "Starting");
        check_status("{\"instances\":2}", NULL, "-");
}

static void queue_reasons_are_the_declined_ones_most_first(void **state) {
        json_t *e = j("{\"processedOffersSummary\":{\"rejectSummaryLastOffers\":["
                      "{\"reason\":\"UnfulfilledRole\",\"declined\":0},{\"reason\":\"InsufficientCpus\",\"declined\":1},"
                      "{\"reason\":\"UnfulfilledConstraint\",\"declined\":4}]}}");
        char *s = cli_queue_reasons(e);
        assert_string_equal(s, "UnfulfilledConstraint, InsufficientCpus");
        free(s);
        json_decref(e);
        e = j("{\"count\":1}");
        assert_null(cli_queue_reasons(e));
        json_decref(e);
}

static const char big_app[] =
        "{\"app\":{\"id\":\"/big\",\"instances\":1,\"mem\":100000,\"version\":\"v1\",\"tasksRunning\":0,"
        "\"tasksStaged\":0,\"tasksHealthy\":0,\"tasksUnhealthy\":0,\"deployments\":[{\"id\":\"d1\"}],\"tasks\":[],"
        "\"lastTaskFailure\":{\"appId\":\"/big\",\"host\":\"h1\",\"message\":\"Command exited with status 3: boom\","
        "\"state\":\"TASK_FAILED\",\"taskId\":\"big.instance-1._app\",\"timestamp\":\"2026-01-01T00:00:00.000Z\","
        "\"version\":\"v0\",\"slaveId\":\"S0\"}}}";
static const char big_queue[] =
        "{\"queue\":[{\"app\":{\"id\":\"/big\"},\"count\":1,\"since\":\"2026-01-01T00:00:01.000Z\","
        "\"delay\":{\"timeLeftSeconds\":0,\"overdue\":true},\"processedOffersSummary\":{\"rejectSummaryLastOffers\":["
        "{\"reason\":\"InsufficientMemory\",\"declined\":1,\"processed\":1}]},"
        "\"lastUnusedOffers\":[{\"offer\":{\"agentId\":\"S0\",\"hostname\":\"h1\",\"resources\":["
        "{\"name\":\"cpus\",\"scalar\":2},{\"name\":\"mem\",\"scalar\":2000}]},\"reason\":[\"InsufficientMemory\"],"
        "\"timestamp\":\"t\"}]}]}";
static const char big_deployments[] =
        "[{\"id\":\"d1\",\"affectedApps\":[\"/big\"],\"currentStep\":1,\"totalSteps\":1,"
        "\"currentActions\":[{\"action\":\"StartApplication\",\"app\":\"/big\"}]},"
        "{\"id\":\"d2\",\"affectedApps\":[\"/other\"],\"currentStep\":1,\"totalSteps\":1}]";

static void why_explains_a_waiting_app(void **state) {
        struct exchange x[] = {
                { "GET", M "/v2/apps/big", 200, big_app },
                { "GET", QUEUE, 200, big_queue },
                { "GET", M "/v2/deployments", 200, big_deployments },
        };
        struct run r = run_cli(x, "app", "why", "big");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out,
                            "App /big\n"
                            "Status:       Waiting: InsufficientMemory (0 of 1 running)\n"
                            "Queue:        1 instance waiting since 2026-01-01T00:00:01.000Z\n"
                            "Declined by:  InsufficientMemory\n"
                            "  AGENT  HOSTNAME  FREE CPUS  FREE MEM  REASONS\n"
                            "  S0     h1        2          2000      InsufficientMemory\n"
                            "Last failure: TASK_FAILED at 2026-01-01T00:00:00.000Z on h1, exit code 3\n"
                            "  task:       big.instance-1._app (version v0)\n"
                            "  message:    Command exited with status 3: boom\n"
                            "Deployment:   d1, step 1 of 1\n"
                            "  action:     StartApplication /big\n");
        run_release(&r);
        exchanges_release(x, 3);
}

static void why_as_json_keeps_the_queue_entry_and_the_apps_deployments(void **state) {
        struct exchange x[] = {
                { "GET", M "/v2/apps/big", 200, big_app },
                { "GET", QUEUE, 200, big_queue },
                { "GET", M "/v2/deployments", 200, big_deployments },
        };
        struct run r = run_cli(x, "-o", "json", "app", "debug", "/big");
        assert_int_equal(r.code, 0);
        json_t *out = j(r.out);
        assert_string_equal(json_string_value(json_object_get(out, "status")), "Waiting: InsufficientMemory");
        assert_int_equal(json_array_size(json_object_get(out, "deployments")), 1);
        assert_non_null(json_object_get(json_object_get(out, "queue"), "lastUnusedOffers"));
        json_decref(out);
        run_release(&r);
        exchanges_release(x, 3);
}

static void queue_alone_lists_waiting_apps(void **state) {
        struct exchange x[] = { { "GET", QUEUE, 200, big_queue } };
        struct run r = run_cli(x, "queue");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "APP   WAITING  SINCE                     DELAY  REASONS\n"
                                   "/big  1        2026-01-01T00:00:01.000Z  -      InsufficientMemory\n");
        run_release(&r);
        struct exchange y[] = { { "GET", QUEUE, 200, "{\"queue\":[]}" } };
        r = run_cli(y, "queue", "ls");
        assert_string_equal(r.out, "No app is waiting to launch.\n");
        run_release(&r);
}

static void typos_get_a_suggestion_and_exit_2(void **state) {
        static const struct {
                char *args[6];
                const char *error;
        } cases[] = {
                { { "app", "lsit" }, "unknown command 'app lsit'; did you mean 'strata app list'? (see 'strata app --help')" },
                { { "ap", "list" }, "unknown command 'ap'; did you mean 'strata app'? (see 'strata --help')" },
                { { "deploy", "list" },
                  "unknown command 'deploy'; did you mean 'strata deployment'? (see 'strata --help')" },
                { { "app", "list", "--lable", "x" }, "app list: unknown option '--lable'; did you mean '--label'?" },
                { { "app", "update", "web", "instnaces=3" }, "unknown app field 'instnaces'; did you mean 'instances'?" },
                { { "app", "frob" }, "unknown command 'app frob' (see 'strata app --help')" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct run r = run_cli_in(NULL, 0, NULL, (char **)cases[i].args);
                assert_int_equal(r.code, 2);
                assert_string_equal(r.error, cases[i].error);
                run_release(&r);
        }
}

static void aliases_and_plurals_reach_the_verb(void **state) {
        struct exchange x[] = { { "DELETE", M "/v2/apps/web", 200, "{\"deploymentId\":\"d\"}", "d" } };
        struct run r = run_cli(x, "apps", "rm", "web");
        assert_int_equal(r.code, 0);
        run_release(&r);
        exchanges_release(x, 1);
}

static void strict_rejects_unknown_fields_of_a_definition(void **state) {
        struct run r = run_cli_in(NULL, 0, "{\"id\":\"/w\",\"cmd\":\"x\",\"memory\":64}",
                                  ARGS("app", "add", "-", "--strict"));
        assert_int_equal(r.code, 2);
        assert_string_equal(r.error, "standard input: unknown field 'memory'; did you mean 'mem'?");
        run_release(&r);
}

static void verb_help_has_examples(void **state) {
        struct run r = run_cli_none("app", "why", "--help");
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, "Examples:\n  strata app why /web\n"));
        run_release(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(status_names_the_first_thing_a_person_should_know),
                cmocka_unit_test(queue_reasons_are_the_declined_ones_most_first),
                cmocka_unit_test(why_explains_a_waiting_app),
                cmocka_unit_test(why_as_json_keeps_the_queue_entry_and_the_apps_deployments),
                cmocka_unit_test(queue_alone_lists_waiting_apps),
                cmocka_unit_test(typos_get_a_suggestion_and_exit_2),
                cmocka_unit_test(aliases_and_plurals_reach_the_verb),
                cmocka_unit_test(strict_rejects_unknown_fields_of_a_definition),
                cmocka_unit_test(verb_help_has_examples),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
