/* test_cli_app.c — `strata app …` end to end against a scripted master: request shapes, output,
 * errors and exit codes. */
#include <errno.h>
#include <unistd.h>

#include "test_cli_fake.h"

#define M "http://master.test:8080"

/* What `app list` asks for: STATUS needs the counts, deployments and last failures. */
#define LIST M "/v2/apps?embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure"
#define QUEUE M "/v2/queue?embed=lastUnusedOffers"

static const char web_app[] =
        "{\"id\":\"/web\",\"cmd\":\"python3 -m http.server 8080\",\"cpus\":0.1,\"mem\":64.0,\"disk\":0,"
        "\"instances\":2,\"version\":\"2024-05-01T10:00:00.000Z\",\"tasksRunning\":1,\"tasksStaged\":0,"
        "\"tasksHealthy\":1,\"tasksUnhealthy\":0,\"labels\":{\"team\":\"a\"},\"env\":{\"A\":\"1\"},"
        "\"portDefinitions\":[{\"port\":10000,\"name\":\"http\",\"protocol\":\"tcp\"}],"
        "\"constraints\":[[\"hostname\",\"UNIQUE\"]],\"deployments\":[],"
        "\"versionInfo\":{\"lastScalingAt\":\"2024-05-01T10:00:00.000Z\","
        "\"lastConfigChangeAt\":\"2024-04-30T09:00:00.000Z\"}}";

static char *write_temp(const char *text) {
        char *path = xstrdup("/tmp/test_cli_app_XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

/* --- add ---------------------------------------------------------------------------------- */

static void add_posts_the_file_and_names_the_deployment(void **state) {
        char *path = write_temp("{\"id\": \"web\", \"cmd\": \"sleep 100\", \"cpus\": 0.5}");
        struct exchange x[] = {
                { "POST", M "/v2/apps", 201, "{\"id\":\"/web\",\"deployments\":[{\"id\":\"d-body\"}]}",
                  "d-1" },
        };
        struct run r = run_cli(x, "app", "add", path);
        assert_int_equal(r.code, 0);
        assert_string_equal(x[0].sent, "{\"id\":\"web\",\"cmd\":\"sleep 100\",\"cpus\":0.5}");
        assert_string_equal(r.out, "Created app /web (deployment d-1)\n");
        run_release(&r);
        exchanges_release(x, 1);

        /* without the header, the body's deployments[0].id */
        struct exchange y[] = {
                { "POST", M "/v2/apps", 201, "{\"id\":\"/web\",\"deployments\":[{\"id\":\"d-body\"}]}" },
        };
        r = run_cli(y, "app", "add", path);
        assert_string_equal(r.out, "Created app /web (deployment d-body)\n");
        run_release(&r);
        exchanges_release(y, 1);
        unlink(path);
        free(path);
}

static void add_reads_standard_input_and_prints_json(void **state) {
        struct exchange x[] = {
                { "POST", M "/v2/apps", 201, "{\"id\":\"/db\",\"instances\":1}", "d-2" },
        };
        struct run r = run_cli_in(x, 1, "{\"id\":\"/db\"}", ARGS("-o", "json", "app", "add", "-"));
        assert_int_equal(r.code, 0);
        assert_string_equal(x[0].sent, "{\"id\":\"/db\"}");
        assert_string_equal(r.out, "{\n  \"id\": \"/db\",\n  \"instances\": 1\n}\n");
        run_release(&r);
        exchanges_release(x, 1);
}

static void add_reports_the_servers_validation_error(void **state) {
        char *path = write_temp("{\"id\":\"bad\",\"cpus\":-1}");
        struct exchange x[] = {
                { "POST", M "/v2/apps", 422,
                  "{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/cpus\",\"errors\":"
                  "[\"got -1.0, expected 0.0 or more\"]}]}" },
        };
        struct run r = run_cli(x, "app", "add", path);
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "Object is not valid: /cpus: got -1.0, expected 0.0 or more");
        assert_string_equal(r.out, "");
        run_release(&r);
        exchanges_release(x, 1);
        unlink(path);
        free(path);
}

static void add_of_broken_json_fails_locally(void **state) {
        char *path = write_temp("{\"id\": \"web\",\n\"cpus\": 1,,\n}");
        struct run r = run_cli_none("app", "add", path);
        assert_int_equal(r.code, 1);
        char *want = xasprintf("'%s' line 2: string or '}' expected near ','", path);
        assert_string_equal(r.error, want);
        free(want);
        run_release(&r);

        unlink(path);
        free(path);
        path = write_temp("[1, 2]");
        r = run_cli_none("app", "add", path);
        assert_int_equal(r.code, 1);
        assert_non_null(strstr(r.error, "an app definition is a JSON object"));
        run_release(&r);
        unlink(path);
        free(path);

        r = run_cli_none("app", "add", "/nonexistent/app.json");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "cannot open '/nonexistent/app.json': No such file or directory");
        run_release(&r);
}

/* --- list --------------------------------------------------------------------------------- */

static void list_prints_a_sorted_table(void **state) {
        char *body =
                xasprintf("{\"apps\":[%s,{\"id\":\"/db\",\"instances\":1,\"cpus\":1,\"mem\":1024,\"disk\":0,"
                          "\"container\":{\"type\":\"DOCKER\",\"docker\":{\"image\":\"postgres:16\"}},"
                          "\"version\":\"2024-05-02T00:00:00.000Z\"},"
                          "{\"id\":\"/long\",\"instances\":0,\"cpus\":0.25,\"mem\":32,\"disk\":10,"
                          "\"cmd\":\"while true; do echo a very long line of shell; sleep 1; done\","
                          "\"version\":\"2024-05-03T00:00:00.000Z\"}]}",
                          web_app);
        struct exchange x[] = {
                { "GET", LIST, 200, body },
                { "GET", QUEUE, 200,
                  "{\"queue\":[{\"app\":{\"id\":\"/web\"},\"count\":1,\"processedOffersSummary\":{"
                  "\"rejectSummaryLastOffers\":[{\"reason\":\"InsufficientCpus\",\"declined\":1,\"processed\":1},"
                  "{\"reason\":\"InsufficientMemory\",\"declined\":3,\"processed\":3},"
                  "{\"reason\":\"UnfulfilledRole\",\"declined\":0,\"processed\":3}]}}]}" },
        };
        struct run r = run_cli(x, "app", "list");
        assert_int_equal(r.code, 0);
        assert_null(x[0].sent);
        /* /db has no counts: "-"; /long wants 0 (no counts either); /web waits, most declined first. */
        assert_string_equal(
                r.out,
                "ID     STATUS                                         INSTANCES  CPUS  MEM   DISK  CMD/IMAGE                                 VERSION\n"
                "/db    -                                              1          1     1024  0     postgres:16                               2024-05-02T00:00:00.000Z\n"
                "/long  -                                              0          0.25  32    10    while true; do echo a very long line of…  2024-05-03T00:00:00.000Z\n"
                "/web   Waiting: InsufficientMemory, InsufficientCpus  1/2        0.1   64    0     python3 -m http.server 8080               2024-05-01T10:00:00.000Z\n");
        run_release(&r);
        exchanges_release(x, 2);
        free(body);
}

static void list_passes_filters_escaped_and_prints_the_array_as_json(void **state) {
        struct exchange x[] = {
                { "GET", LIST "&id=web&label=team%3D%3Da%2Cenv%20in%20%28x%29", 200,
                  "{\"apps\":[{\"id\":\"/web\"}]}" },
        };
        struct run r =
                run_cli(x, "app", "list", "--label", "team==a,env in (x)", "--id=web", "--output=json");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "[\n  {\n    \"id\": \"/web\"\n  }\n]\n");
        run_release(&r);
        exchanges_release(x, 1);
}

static void list_with_no_apps_prints_the_header(void **state) {
        struct exchange x[] = { { "GET", LIST, 200, "{\"apps\":[]}" }, { "GET", QUEUE, 200, "{\"queue\":[]}" } };
        struct run r = run_cli(x, "app", "list");
        assert_string_equal(r.out, "ID  STATUS  INSTANCES  CPUS  MEM  DISK  CMD/IMAGE  VERSION\n");
        run_release(&r);
        exchanges_release(x, 1);
}

static void list_rejects_an_answer_without_apps(void **state) {
        struct exchange x[] = { { "GET", LIST, 200, "{\"things\":[]}" } };
        struct run r = run_cli(x, "app", "list");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "master sent no \"apps\" array for GET "
                                     "/v2/apps?embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure");
        run_release(&r);
        exchanges_release(x, 1);
}

/* --- show --------------------------------------------------------------------------------- */

static void show_prints_key_fields(void **state) {
        char *body = xasprintf("{\"app\":%s}", web_app);
        struct exchange x[] = {
                { "GET", M "/v2/apps/web", 200, body },
                { "GET", QUEUE, 200, "{\"queue\":[]}" },
                { "GET", M "/v2/deployments", 200, "[]" },
        };
        struct run r = run_cli(x, "app", "show", "web");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "id:                  /web\n"
                                   "version:             2024-05-01T10:00:00.000Z\n"
                                   "instances:           2 (running 1, staged 0, healthy 1, unhealthy 0)\n"
                                   "cpus:                0.1\n"
                                   "mem:                 64\n"
                                   "disk:                0\n"
                                   "cmd:                 python3 -m http.server 8080\n"
                                   "ports:               10000/http\n"
                                   "constraints:         hostname:UNIQUE\n"
                                   "labels:              team=a\n"
                                   "env:                 A=1\n"
                                   "deployments:         -\n"
                                   "last config change:  2024-04-30T09:00:00.000Z\n"
                                   "last scaling:        2024-05-01T10:00:00.000Z\n"
                                   "\n"
                                   "Status:       Starting (1 of 2 running)\n"
                                   "Deployment:   none\n");
        run_release(&r);
        exchanges_release(x, 3);
        free(body);
}

static void show_escapes_the_id_and_prints_the_app_object_as_json(void **state) {
        struct exchange x[] = {
                { "GET", M "/v2/apps/prod/a%20b", 200, "{\"app\":{\"id\":\"/prod/a b\"}}" },
        };
        struct run r = run_cli(x, "app", "show", "/prod/a b/", "-o", "json");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "{\n  \"id\": \"/prod/a b\"\n}\n");
        run_release(&r);
        exchanges_release(x, 1);
}

static void show_of_a_missing_app_is_the_servers_404(void **state) {
        struct exchange x[] = { { "GET", M "/v2/apps/nope", 404,
                                  "{\"message\":\"App '/nope' does not exist\"}" } };
        struct run r = run_cli(x, "app", "show", "nope");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "App '/nope' does not exist");
        run_release(&r);
        exchanges_release(x, 1);
}

/* --- update ------------------------------------------------------------------------------- */

static void update_with_plain_keys_puts_them_without_reading_first(void **state) {
        struct exchange x[] = {
                { "PUT", M "/v2/apps/web", 200,
                  "{\"deploymentId\":\"d-3\",\"version\":\"2024-05-04T00:00:00.000Z\"}", "d-3" },
        };
        struct run r = run_cli(x, "app", "update", "web", "instances=3", "cmd=sleep 5");
        assert_int_equal(r.code, 0);
        assert_string_equal(x[0].sent, "{\"instances\":3,\"cmd\":\"sleep 5\"}");
        assert_string_equal(r.out, "Updated app /web (deployment d-3, version 2024-05-04T00:00:00.000Z)\n");
        run_release(&r);
        exchanges_release(x, 1);
}

static void update_env_merges_into_the_current_env(void **state) {
        char *body = xasprintf("{\"app\":%s}", web_app);
        struct exchange x[] = {
                { "GET", M "/v2/apps/web", 200, body },
                { "PUT", M "/v2/apps/web?force=true", 200, "{\"deploymentId\":\"d-4\",\"version\":\"v2\"}" },
        };
        struct run r = run_cli(x, "app", "update", "--force", "web", "env.B=2", "labels.tier=front");
        assert_int_equal(r.code, 0);
        assert_string_equal(
                x[1].sent,
                "{\"env\":{\"A\":\"1\",\"B\":\"2\"},\"labels\":{\"team\":\"a\",\"tier\":\"front\"}}");
        assert_string_equal(r.out, "Updated app /web (deployment d-4, version v2)\n");
        run_release(&r);
        exchanges_release(x, 2);
        free(body);
}

static void update_from_a_file_and_a_created_app(void **state) {
        char *path = write_temp("{\"cpus\": 2}");
        struct exchange x[] = {
                { "PUT", M "/v2/apps/new", 201, "{\"deploymentId\":\"d-5\",\"version\":\"v1\"}", "d-5" },
        };
        struct run r = run_cli(x, "app", "update", "new", path);
        assert_int_equal(r.code, 0);
        assert_string_equal(x[0].sent, "{\"cpus\":2}");
        assert_string_equal(r.out, "Created app /new (deployment d-5, version v1)\n");
        run_release(&r);
        exchanges_release(x, 1);
        unlink(path);
        free(path);
}

static void update_json_output_is_the_servers_answer(void **state) {
        struct exchange x[] = {
                { "PUT", M "/v2/apps/web", 200, "{\"deploymentId\":\"d-6\",\"version\":\"v3\"}" },
        };
        struct run r =
                run_cli_in(x, 1, "{\"instances\": 0}", ARGS("app", "update", "web", "-", "-o", "json"));
        assert_int_equal(r.code, 0);
        assert_string_equal(x[0].sent, "{\"instances\":0}");
        assert_string_equal(r.out, "{\n  \"deploymentId\": \"d-6\",\n  \"version\": \"v3\"\n}\n");
        run_release(&r);
        exchanges_release(x, 1);
}

static void update_mixing_a_file_and_assignments_is_a_usage_error(void **state) {
        struct run r = run_cli_none("app", "update", "web", "instances=1", "app.json");
        assert_int_equal(r.code, 2);
        assert_string_equal(r.error,
                            "'app.json' is not KEY=VALUE (give one FILE, '-', or KEY=VALUE arguments)");
        run_release(&r);
        r = run_cli_none("app", "update", "web");
        assert_int_equal(r.code, 2);
        assert_string_equal(r.error, "missing argument for 'app update' (usage: strata app update [OPTIONS] "
                                     "ID FILE|-|KEY=VALUE...)");
        run_release(&r);
}

static void update_of_a_missing_app_with_env_fails_on_the_read(void **state) {
        struct exchange x[] = { { "GET", M "/v2/apps/nope", 404,
                                  "{\"message\":\"App '/nope' does not exist\"}" } };
        struct run r = run_cli(x, "app", "update", "nope", "env.A=1");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "App '/nope' does not exist");
        run_release(&r);
        exchanges_release(x, 1);
}

/* --- remove and versions ------------------------------------------------------------------ */

static void remove_deletes_and_names_the_deployment(void **state) {
        struct exchange x[] = {
                { "DELETE", M "/v2/apps/web", 200, "{\"deploymentId\":\"d-7\",\"version\":\"v4\"}" },
        };
        struct run r = run_cli(x, "app", "remove", "/web");
        assert_int_equal(r.code, 0);
        assert_null(x[0].sent);
        assert_string_equal(r.out, "Removed app /web (deployment d-7, version v4)\n");
        run_release(&r);
        exchanges_release(x, 1);
}

static void remove_of_a_locked_app_explains_and_force_overrides(void **state) {
        struct exchange x[] = {
                { "DELETE", M "/v2/apps/web", 409,
                  "{\"message\":\"App is locked by one or more deployments. Override with the option "
                  "'?force=true'.\","
                  "\"deployments\":[{\"id\":\"d-0\"}]}" },
        };
        struct run r = run_cli(x, "app", "remove", "web");
        assert_int_equal(r.code, 1);
        /* the API's advice in the CLI's words */
        assert_string_equal(r.error, "App is locked by one or more deployments. Use --force to override. "
                                     "(deployments: d-0)");
        run_release(&r);
        exchanges_release(x, 1);

        struct exchange y[] = {
                { "DELETE", M "/v2/apps/web?force=true", 200, "{\"deploymentId\":\"d-8\",\"version\":\"v5\"}",
                  "d-8" },
        };
        r = run_cli(y, "app", "remove", "-f", "web");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "Removed app /web (deployment d-8, version v5)\n");
        run_release(&r);
        exchanges_release(y, 1);
}

static void versions_one_per_line_or_the_array(void **state) {
        const char *body = "{\"versions\":[\"2024-05-02T00:00:00.000Z\",\"2024-05-01T00:00:00.000Z\"]}";
        struct exchange x[] = { { "GET", M "/v2/apps/web/versions", 200, body } };
        struct run r = run_cli(x, "app", "versions", "web");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "2024-05-02T00:00:00.000Z\n2024-05-01T00:00:00.000Z\n");
        run_release(&r);
        exchanges_release(x, 1);

        struct exchange y[] = { { "GET", M "/v2/apps/web/versions", 200, body } };
        r = run_cli(y, "-o", "json", "app", "versions", "web");
        assert_string_equal(r.out, "[\n  \"2024-05-02T00:00:00.000Z\",\n  \"2024-05-01T00:00:00.000Z\"\n]\n");
        run_release(&r);
        exchanges_release(y, 1);
}

/* --- the network -------------------------------------------------------------------------- */

static void unreachable_master_exits_1(void **state) {
        struct exchange x[] = { { "GET", LIST, 0 } };
        struct run r = run_cli(x, "app", "list");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "cannot reach master at " M ": Couldn't connect to server");
        run_release(&r);
        exchanges_release(x, 1);
}

static void master_option_beats_the_environment(void **state) {
        struct exchange x[] = {
                { "GET", "http://other:9090/v2/apps?embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure",
                  200, "{\"apps\":[]}" },
                { "GET", "http://other:9090/v2/queue?embed=lastUnusedOffers", 200, "{\"queue\":[]}" },
        };
        struct run r = run_cli(x, "app", "list", "--master", "other:9090/");
        assert_int_equal(r.code, 0);
        run_release(&r);
        exchanges_release(x, 1);
}

/* --- restart, scale, rollback ------------------------------------------------------------- */

static void restart_posts_to_the_restart_route(void **state) {
        struct exchange x[] = {
                { "POST", M "/v2/apps/prod/web/restart?force=true", 200, "{\"deploymentId\":\"d-r\",\"version\":\"v9\"}" },
        };
        struct run r = run_cli(x, "app", "restart", "--force", "prod/web");
        assert_int_equal(r.code, 0);
        assert_null(x[0].sent);
        assert_string_equal(r.out, "Restarting app /prod/web (deployment d-r, version v9)\n");
        run_release(&r);

        struct exchange y[] = {
                { "POST", M "/v2/apps/web/restart", 409,
                  "{\"message\":\"App is locked by one or more deployments.\",\"deployments\":[{\"id\":\"d-0\"}]}" },
        };
        r = run_cli(y, "app", "restart", "web");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "App is locked by one or more deployments. (deployments: d-0)");
        run_release(&r);
}

static void scale_puts_instances_and_rejects_a_bad_count(void **state) {
        struct exchange x[] = {
                { "PUT", M "/v2/apps/web", 200, "{\"deploymentId\":\"d-s\",\"version\":\"v2\"}" },
        };
        struct run r = run_cli(x, "app", "scale", "web", "1");
        assert_int_equal(r.code, 0);
        assert_string_equal(x[0].sent, "{\"instances\":1}");
        assert_string_equal(r.out, "Scaling app /web to 1 instance (deployment d-s, version v2)\n");
        run_release(&r);
        exchanges_release(x, 1);

        const char *bad[] = { "-1", "two", "1.5", "", "99999999999" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                r = run_cli_none("app", "scale", "web", (char *)bad[i]);
                assert_int_equal(r.code, 2);
                run_release(&r);
        }
        r = run_cli_none("app", "scale", "web");
        assert_int_equal(r.code, 2);
        run_release(&r);
}

static void rollback_takes_the_previous_version_by_default(void **state) {
        struct exchange x[] = {
                { "GET", M "/v2/apps/web/versions", 200, "{\"versions\":[\"v3\",\"v2\",\"v1\"]}" },
                { "PUT", M "/v2/apps/web", 200, "{\"deploymentId\":\"d-b\",\"version\":\"v4\"}" },
        };
        struct run r = run_cli(x, "app", "rollback", "web");
        assert_int_equal(r.code, 0);
        assert_string_equal(x[1].sent, "{\"version\":\"v2\"}");
        assert_string_equal(r.out, "Rolling back app /web to version v2 (deployment d-b, version v4)\n");
        run_release(&r);
        exchanges_release(x, 2);

        struct exchange y[] = {
                { "PUT", M "/v2/apps/web?force=true", 200, "{\"deploymentId\":\"d-c\",\"version\":\"v5\"}" },
        };
        r = run_cli(y, "app", "rollback", "web", "v1", "-f");
        assert_int_equal(r.code, 0);
        assert_string_equal(y[0].sent, "{\"version\":\"v1\"}");
        run_release(&r);
        exchanges_release(y, 1);

        struct exchange z[] = { { "GET", M "/v2/apps/web/versions", 200, "{\"versions\":[\"v1\"]}" } };
        r = run_cli(z, "app", "rollback", "web");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "app /web has no earlier version to roll back to");
        run_release(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(add_posts_the_file_and_names_the_deployment),
                cmocka_unit_test(add_reads_standard_input_and_prints_json),
                cmocka_unit_test(add_reports_the_servers_validation_error),
                cmocka_unit_test(add_of_broken_json_fails_locally),
                cmocka_unit_test(list_prints_a_sorted_table),
                cmocka_unit_test(list_passes_filters_escaped_and_prints_the_array_as_json),
                cmocka_unit_test(list_with_no_apps_prints_the_header),
                cmocka_unit_test(list_rejects_an_answer_without_apps),
                cmocka_unit_test(show_prints_key_fields),
                cmocka_unit_test(show_escapes_the_id_and_prints_the_app_object_as_json),
                cmocka_unit_test(show_of_a_missing_app_is_the_servers_404),
                cmocka_unit_test(update_with_plain_keys_puts_them_without_reading_first),
                cmocka_unit_test(update_env_merges_into_the_current_env),
                cmocka_unit_test(update_from_a_file_and_a_created_app),
                cmocka_unit_test(update_json_output_is_the_servers_answer),
                cmocka_unit_test(update_mixing_a_file_and_assignments_is_a_usage_error),
                cmocka_unit_test(update_of_a_missing_app_with_env_fails_on_the_read),
                cmocka_unit_test(remove_deletes_and_names_the_deployment),
                cmocka_unit_test(remove_of_a_locked_app_explains_and_force_overrides),
                cmocka_unit_test(versions_one_per_line_or_the_array),
                cmocka_unit_test(restart_posts_to_the_restart_route),
                cmocka_unit_test(scale_puts_instances_and_rejects_a_bad_count),
                cmocka_unit_test(rollback_takes_the_previous_version_by_default),
                cmocka_unit_test(unreachable_master_exits_1),
                cmocka_unit_test(master_option_beats_the_environment),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
