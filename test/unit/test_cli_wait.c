/* test_cli_wait.c — --wait and `deployment watch`: the outcome rules, progress from the master's
 * JSON, and whole runs against a scripted master, event stream and clock. */
#include <errno.h>
#include <unistd.h>

#include "test_cli_fake.h"
#include "cli/cli_wait.h"

#define M "http://master.test:8080"
#define D1 "d-1"

static char *write_temp(const char *text) {
        char *path = xstrdup("/tmp/test_cli_wait_XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

/* GET /v2/apps/web answers: n running of want, all tasks at version v (or old ones). */
#define APP_JSON(instances, running, healthy, health, tasks)                                                 \
        "{\"app\":{\"id\":\"/web\",\"instances\":" #instances ",\"tasksRunning\":" #running                   \
        ",\"tasksHealthy\":" #healthy ",\"healthChecks\":" health ",\"version\":\"2024-01-02T00:00:00.000Z\"," \
        "\"versionInfo\":{\"lastConfigChangeAt\":\"2024-01-02T00:00:00.000Z\"},\"tasks\":[" tasks "]}}"
#define NEW_TASK "{\"id\":\"t\",\"version\":\"2024-01-02T00:00:00.000Z\"}"
#define OLD_TASK "{\"id\":\"t\",\"version\":\"2024-01-01T00:00:00.000Z\"}"
#define LISTED "[{\"id\":\"" D1 "\",\"version\":\"v\",\"affectedApps\":[\"/web\"],\"currentStep\":1,\"totalSteps\":1," \
               "\"currentActions\":[{\"action\":\"RestartApplication\",\"app\":\"/web\"}]}]"
#define ADD_ANSWER "{\"id\":\"/web\",\"deployments\":[{\"id\":\"" D1 "\"}]}"
#define EVENT(type, id) "event: " type "\r\ndata: {\"eventType\":\"" type "\",\"id\":\"" id "\"}\r\n\r\n"

/* --- the outcome rules ---------------------------------------------------------------------- */

static void outcome_follows_the_table(void **state) {
        struct cli_wait_state s = { .stream = true, .listed = true, .deadline_ms = INT64_MAX, .settled_since = -1 };
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_RUNNING);
        s.event = 1;
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_SUCCEEDED);
        s.event = -1;
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_FAILED);
        /* an event beats the deadline */
        s.now_ms = s.deadline_ms = 1000;
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_FAILED);
        s.event = 0;
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_TIMED_OUT);

        /* no stream: gone and converged is success, gone alone is not */
        s = (struct cli_wait_state){ .stream = false, .listed = false, .converged = true, .deadline_ms = INT64_MAX,
                                     .settled_since = 0 };
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_SUCCEEDED);
        s.converged = false;
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_RUNNING);
        s.converged = true;
        s.listed = true; /* still listed: the master says it runs */
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_RUNNING);

        /* a stream, settled, no event: success only after the grace */
        s = (struct cli_wait_state){ .stream = true, .listed = false, .converged = true, .deadline_ms = INT64_MAX,
                                     .settled_since = 100, .now_ms = 100 + CLI_WAIT_EVENT_GRACE_MS - 1 };
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_RUNNING);
        s.now_ms++;
        assert_int_equal(cli_wait_decide(&s), CLI_WAIT_SUCCEEDED);
}

/* --- progress from the master's JSON ------------------------------------------------------- */

static void tasks_count_new_by_the_last_config_change(void **state) {
        json_t *app = json_loads(APP_JSON(3, 3, 2, "[{\"protocol\":\"HTTP\"}]",
                                          NEW_TASK "," OLD_TASK ",{\"id\":\"s\",\"version\":\"2024-01-03T00:00:00.000Z\"}"),
                                 0, NULL);
        struct cli_app_progress p;
        cli_app_progress_from_json(&p, "/web", json_object_get(app, "app"));
        assert_true(p.exists && p.has_health);
        assert_int_equal(p.fresh, 2); /* a task started after a later scale is new too */
        assert_int_equal(p.old, 1);
        assert_false(cli_app_progress_converged(&p));
        free(p.id);
        json_decref(app);

        app = json_loads(APP_JSON(2, 2, 1, "[{\"protocol\":\"HTTP\"}]", NEW_TASK "," NEW_TASK), 0, NULL);
        cli_app_progress_from_json(&p, "/web", json_object_get(app, "app"));
        assert_false(cli_app_progress_converged(&p)); /* one of two healthy */
        free(p.id);
        json_decref(app);

        app = json_loads(APP_JSON(2, 2, 0, "[]", NEW_TASK "," NEW_TASK), 0, NULL);
        cli_app_progress_from_json(&p, "/web", json_object_get(app, "app"));
        assert_true(cli_app_progress_converged(&p)); /* no health checks: running is enough */
        free(p.id);
        json_decref(app);

        cli_app_progress_from_json(&p, "/gone", NULL);
        assert_true(cli_app_progress_converged(&p));
        free(p.id);
}

static void the_progress_line_says_step_actions_and_counts(void **state) {
        json_t *list = json_loads(LISTED, 0, NULL);
        json_t *app = json_loads(APP_JSON(3, 3, 1, "[{\"protocol\":\"HTTP\"}]", NEW_TASK "," OLD_TASK "," OLD_TASK), 0,
                                 NULL);
        struct cli_progress p = { .deployment = xstrdup(D1) };
        assert_non_null(cli_progress_find(&p, list, D1));
        p.apps = xcalloc(1, sizeof *p.apps);
        cli_app_progress_from_json(&p.apps[p.n_apps++], "/web", json_object_get(app, "app"));
        _cleanup_free_ char *line = cli_progress_line(&p);
        assert_string_equal(line, "deployment d-1: step 1/1 RestartApplication /web; /web: 1/3 new, 2 old, 3 running, "
                                  "1 healthy");
        json_t *j = cli_progress_json(&p);
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
        assert_string_equal(s, "{\"type\":\"progress\",\"deployment\":\"d-1\",\"listed\":true,\"currentStep\":1,"
                               "\"totalSteps\":1,\"currentActions\":\"RestartApplication /web\",\"apps\":[{\"id\":"
                               "\"/web\",\"exists\":true,\"instances\":3,\"new\":1,\"old\":2,\"running\":3,\"healthy\":1}]}");
        json_decref(j);
        json_t *empty = json_array();
        assert_null(cli_progress_find(&p, empty, D1));
        assert_false(p.listed);
        json_decref(empty);
        cli_progress_release(&p);
        json_decref(list);
        json_decref(app);
}

/* --- whole runs ------------------------------------------------------------------------------- */

static void add_wait_ends_on_deployment_success(void **state) {
        char *path = write_temp("{\"id\":\"web\",\"cmd\":\"sleep 1\"}");
        struct chunk chunks[] = {
                { 0, EVENT("deployment_success", "someone-else") },
                { 300, EVENT("deployment_success", D1) },
        };
        struct fake_stream fs = { .chunks = chunks, .n = 2 };
        struct exchange x[] = {
                { "POST", M "/v2/apps", 201, ADD_ANSWER },
                { "GET", M "/v2/deployments", 200, LISTED },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 0, 0, "[]", "") },
                { "GET", M "/v2/deployments", 200, "[]" },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", NEW_TASK) },
        };
        next_stream = &fs;
        struct run r = run_cli(x, "app", "add", path, "--wait");
        assert_int_equal(r.code, 0);
        assert_string_equal(fs.path, "/v2/events?event_type=deployment_success&event_type=deployment_failed");
        assert_true(fs.opened && fs.closed);
        assert_string_equal(r.out, "Created app /web (deployment d-1)\n"
                                   "deployment d-1: step 1/1 RestartApplication /web; /web: 0/1 new, 0 old, 0 running\n"
                                   "deployment d-1: not in /v2/deployments; /web: 1/1 new, 0 old, 1 running\n"
                                   "Deployment d-1 succeeded (0.3 s)\n");
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        free(fs.path);
        unlink(path);
        free(path);
}

static void deployment_failed_exits_3_with_the_reason(void **state) {
        struct chunk chunks[] = {
                { 0, "event: deployment_failed\r\ndata: {\"id\":\"" D1 "\",\"reason\":\"task crashed\"}\r\n\r\n" },
        };
        struct fake_stream fs = { .chunks = chunks, .n = 1 };
        struct exchange x[] = {
                { "PUT", M "/v2/apps/web", 200, "{\"deploymentId\":\"" D1 "\",\"version\":\"v2\"}" },
                { "GET", M "/v2/deployments", 200, LISTED },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", OLD_TASK) },
                { "GET", M "/v2/deployments", 200, "[]" },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", OLD_TASK) },
        };
        next_stream = &fs;
        struct run r = run_cli(x, "app", "update", "web", "cmd=false", "-w");
        assert_int_equal(r.code, 3);
        assert_string_equal(r.error, "deployment d-1 failed: task crashed");
        assert_non_null(strstr(r.out, "Updated app /web (deployment d-1, version v2)\n"));
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        free(fs.path);
}

static void timeout_exits_4_and_says_where_it_stood(void **state) {
        struct fake_stream fs = { 0 };
        struct exchange x[] = {
                { "POST", M "/v2/apps/web/restart", 200, "{\"deploymentId\":\"" D1 "\",\"version\":\"v2\"}" },
                { "GET", M "/v2/deployments", 200, LISTED },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", OLD_TASK) },
                { "GET", M "/v2/deployments", 200, LISTED },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", OLD_TASK) },
                { "GET", M "/v2/deployments", 200, LISTED },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", OLD_TASK) },
        };
        next_stream = &fs;
        struct run r = run_cli(x, "app", "restart", "web", "--wait", "--timeout", "1");
        assert_int_equal(r.code, 4);
        assert_string_equal(r.error, "deployment d-1 did not end within 1 s (last seen: deployment d-1: step 1/1 "
                                     "RestartApplication /web; /web: 0/1 new, 1 old, 1 running)");
        /* the unchanged progress is printed once */
        assert_string_equal(r.out, "Restarting app /web (deployment d-1, version v2)\n"
                                   "deployment d-1: step 1/1 RestartApplication /web; /web: 0/1 new, 1 old, 1 running\n");
        assert_int_equal(fs.now_ms, 1000);
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        free(fs.path);
}

static void without_a_stream_gone_and_converged_is_success(void **state) {
        struct fake_stream fs = { .open_status = 404 };
        struct exchange x[] = {
                { "PUT", M "/v2/apps/web", 200, "{\"deploymentId\":\"" D1 "\",\"version\":\"v2\"}" },
                { "GET", M "/v2/deployments", 200, "[]" },
                { "GET", M "/v2/apps/web", 200, APP_JSON(2, 1, 0, "[]", NEW_TASK) },
                { "GET", M "/v2/deployments", 200, "[]" },
                { "GET", M "/v2/apps/web", 200, APP_JSON(2, 2, 0, "[]", NEW_TASK "," NEW_TASK) },
        };
        next_stream = &fs;
        struct run r = run_cli(x, "app", "scale", "web", "2", "--wait");
        assert_int_equal(r.code, 0);
        assert_string_equal(x[0].sent, "{\"instances\":2}");
        assert_string_equal(r.out,
                            "note: no event stream (URI not found: /v2/events); judging the end from /v2/deployments "
                            "and the apps' tasks\n"
                            "Scaling app /web to 2 instances (deployment d-1, version v2)\n"
                            "deployment d-1: not in /v2/deployments; /web: 1/2 new, 0 old, 1 running\n"
                            "deployment d-1: not in /v2/deployments; /web: 2/2 new, 0 old, 2 running\n"
                            "Deployment d-1 succeeded (0.5 s)\n");
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        free(fs.path);
}

static void a_closed_stream_falls_back_to_polling(void **state) {
        struct chunk chunks[] = { { 0, ": hello\n" } };
        struct fake_stream fs = { .chunks = chunks, .n = 1, .close_at_end = true };
        struct exchange x[] = {
                { "DELETE", M "/v2/apps/web", 200, "{\"deploymentId\":\"" D1 "\",\"version\":\"v2\"}" },
                { "GET", M "/v2/deployments", 200, LISTED },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", NEW_TASK) },
                { "GET", M "/v2/deployments", 200, "[]" },
                { "GET", M "/v2/apps/web", 404, "{\"message\":\"App '/web' does not exist\"}" },
        };
        next_stream = &fs;
        struct run r = run_cli(x, "app", "remove", "web", "--wait");
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, "note: the master closed the event stream; judging"));
        assert_non_null(strstr(r.out, "/web: removed\nDeployment d-1 succeeded"));
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        free(fs.path);
}

static void a_settled_deployment_without_its_event_succeeds_after_the_grace(void **state) {
        struct fake_stream fs = { 0 };
        enum { POLLS = CLI_WAIT_EVENT_GRACE_MS / CLI_WAIT_POLL_MS + 1 };
        struct exchange x[1 + 2 * POLLS] = {
                { "PUT", M "/v2/apps/web", 200, "{\"deploymentId\":\"" D1 "\",\"version\":\"v2\"}" },
        };
        for (size_t i = 0; i < POLLS; i++) {
                x[1 + 2 * i] = (struct exchange){ "GET", M "/v2/deployments", 200, "[]" };
                x[2 + 2 * i] = (struct exchange){ "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", NEW_TASK) };
        }
        next_stream = &fs;
        struct run r = run_cli(x, "app", "update", "web", "instances=1", "--wait");
        assert_int_equal(r.code, 0);
        assert_int_equal(fs.now_ms, CLI_WAIT_EVENT_GRACE_MS);
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        free(fs.path);
}

static void json_output_is_one_object_per_line(void **state) {
        struct chunk chunks[] = { { 0, EVENT("deployment_success", D1) } };
        struct fake_stream fs = { .chunks = chunks, .n = 1 };
        struct exchange x[] = {
                { "GET", M "/v2/deployments", 200, LISTED },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", NEW_TASK) },
                { "GET", M "/v2/deployments", 200, "[]" },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", NEW_TASK) },
        };
        next_stream = &fs;
        struct run r = run_cli(x, "-o", "json", "deployment", "watch", D1);
        assert_int_equal(r.code, 0);
        const char *want =
                "{\"type\":\"progress\",\"deployment\":\"d-1\",\"listed\":true,\"currentStep\":1,\"totalSteps\":1,"
                "\"currentActions\":\"RestartApplication /web\",\"apps\":[{\"id\":\"/web\",\"exists\":true,"
                "\"instances\":1,\"new\":1,\"old\":0,\"running\":1,\"healthy\":null}]}\n"
                "{\"type\":\"progress\",\"deployment\":\"d-1\",\"listed\":false,\"apps\":[{\"id\":\"/web\",\"exists\":"
                "true,\"instances\":1,\"new\":1,\"old\":0,\"running\":1,\"healthy\":null}]}\n"
                "{\"type\":\"result\",\"deployment\":\"d-1\",\"result\":\"success\",\"seconds\":0.0}\n";
        assert_string_equal(r.out, want);
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        free(fs.path);
}

static void watching_a_deployment_that_is_not_running_fails(void **state) {
        struct fake_stream fs = { 0 };
        struct exchange x[] = { { "GET", M "/v2/deployments", 200, "[]" } };
        next_stream = &fs;
        struct run r = run_cli(x, "deployment", "watch", "d-9");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error,
                            "Deployment 'd-9' is not running (a deployment leaves /v2/deployments when it ends)");
        run_release(&r);
        free(fs.path);
}

static void a_terminal_gets_the_block_redrawn(void **state) {
        struct chunk chunks[] = { { 500, EVENT("deployment_success", D1) } };
        struct fake_stream fs = { .chunks = chunks, .n = 1 };
        struct exchange x[] = {
                { "GET", M "/v2/deployments", 200, LISTED },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 0, 0, "[]", "") },
                { "GET", M "/v2/deployments", 200, "[]" },
                { "GET", M "/v2/apps/web", 200, APP_JSON(1, 1, 0, "[]", NEW_TASK) },
        };
        next_stream = &fs;
        next_tty = true;
        struct run r = run_cli(x, "deployment", "watch", D1, "--timeout", "60");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "Deployment d-1  step 1/1 RestartApplication /web  (0 s)\n"
                                   "  APP   NEW  OLD  RUNNING  HEALTHY  INSTANCES\n"
                                   "  /web  0    0    0        -        1\n"
                                   "\033[3A\033[J"
                                   "Deployment d-1  not in /v2/deployments  (0 s)\n"
                                   "  APP   NEW  OLD  RUNNING  HEALTHY  INSTANCES\n"
                                   "  /web  1    0    1        -        1\n"
                                   "Deployment d-1 succeeded (0.5 s)\n");
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        free(fs.path);
}

static void wait_options_are_checked_before_anything_is_sent(void **state) {
        struct run r = run_cli_none("app", "restart", "web", "--timeout", "5");
        assert_int_equal(r.code, 2);
        assert_string_equal(r.error, "--timeout goes with --wait");
        run_release(&r);
        r = run_cli_none("app", "restart", "web", "--wait", "--timeout", "soon");
        assert_int_equal(r.code, 2);
        assert_string_equal(r.error, "--timeout needs a number of seconds above 0, not 'soon'");
        run_release(&r);
        r = run_cli_none("deployment", "watch", "d", "--timeout", "-1");
        assert_int_equal(r.code, 2);
        run_release(&r);
}

static void an_answer_without_a_deployment_cannot_be_waited_for(void **state) {
        struct fake_stream fs = { 0 };
        struct exchange x[] = { { "POST", M "/v2/apps/web/restart", 200, "{}" } };
        next_stream = &fs;
        struct run r = run_cli(x, "app", "restart", "web", "--wait");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error,
                            "the master named no deployment for POST /v2/apps/web/restart: nothing to wait for");
        assert_true(fs.closed);
        run_release(&r);
        free(fs.path);
}

static void a_master_that_stops_answering_ends_the_wait(void **state) {
        struct fake_stream fs = { 0 };
        struct exchange x[] = { { "POST", M "/v2/apps/web/restart", 200, "{\"deploymentId\":\"" D1 "\"}" },
                                { "GET", M "/v2/deployments", 0 } };
        next_stream = &fs;
        struct run r = run_cli(x, "app", "restart", "web", "--wait");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "cannot follow deployment d-1: cannot reach master at " M
                                     ": Couldn't connect to server");
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        free(fs.path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(outcome_follows_the_table),
                cmocka_unit_test(tasks_count_new_by_the_last_config_change),
                cmocka_unit_test(the_progress_line_says_step_actions_and_counts),
                cmocka_unit_test(add_wait_ends_on_deployment_success),
                cmocka_unit_test(deployment_failed_exits_3_with_the_reason),
                cmocka_unit_test(timeout_exits_4_and_says_where_it_stood),
                cmocka_unit_test(without_a_stream_gone_and_converged_is_success),
                cmocka_unit_test(a_closed_stream_falls_back_to_polling),
                cmocka_unit_test(a_settled_deployment_without_its_event_succeeds_after_the_grace),
                cmocka_unit_test(json_output_is_one_object_per_line),
                cmocka_unit_test(watching_a_deployment_that_is_not_running_fails),
                cmocka_unit_test(a_terminal_gets_the_block_redrawn),
                cmocka_unit_test(wait_options_are_checked_before_anything_is_sent),
                cmocka_unit_test(an_answer_without_a_deployment_cannot_be_waited_for),
                cmocka_unit_test(a_master_that_stops_answering_ends_the_wait),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
