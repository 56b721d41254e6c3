/* test_cli_group.c — `strata group …` and `strata deployment …` against a scripted master:
 * request shapes, output, usage errors. */
#include <errno.h>
#include <unistd.h>

#include "test_cli_fake.h"

#define M "http://master.test:8080"

static char *write_temp(const char *text) {
        char *path = xstrdup("/tmp/test_cli_group_XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

static const char root[] =
        "{\"id\":\"/\",\"version\":\"v0\",\"apps\":[],\"dependencies\":[],\"groups\":["
        "{\"id\":\"/prod\",\"version\":\"v1\",\"apps\":[{\"id\":\"/prod/web\",\"instances\":2}],\"dependencies\":[],"
        "\"groups\":[{\"id\":\"/prod/db\",\"version\":\"v1\",\"apps\":[{\"id\":\"/prod/db/pg\",\"instances\":1}],"
        "\"groups\":[]}]},"
        "{\"id\":\"/test\",\"version\":\"v2\",\"apps\":[],\"dependencies\":[\"/prod\"],\"groups\":[]}]}";

static void list_walks_the_tree_depth_first(void **state) {
        struct exchange x[] = { { "GET", M "/v2/groups", 200, root } };
        struct run r = run_cli(x, "group", "list");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "ID        APPS  GROUPS  DEPENDENCIES  VERSION\n"
                                   "/         0     2       -             v0\n"
                                   "/prod     1     1       -             v1\n"
                                   "/prod/db  1     0       -             v1\n"
                                   "/test     0     0       /prod         v2\n");
        run_release(&r);
}

static void show_lists_the_groups_apps(void **state) {
        struct exchange x[] = {
                { "GET", M "/v2/groups/prod", 200,
                  "{\"id\":\"/prod\",\"version\":\"v1\",\"dependencies\":[\"/db\"],\"groups\":[{\"id\":\"/prod/db\"}],"
                  "\"apps\":[{\"id\":\"/prod/web\",\"instances\":2,\"tasksRunning\":1,\"cmd\":\"serve\"}]}" },
        };
        struct run r = run_cli(x, "group", "show", "prod");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "id:            /prod\n"
                                   "version:       v1\n"
                                   "dependencies:  /db\n"
                                   "groups:        /prod/db\n"
                                   "\n"
                                   "apps:\n"
                                   "ID         STATUS    INSTANCES  CPUS  MEM  DISK  CMD/IMAGE  VERSION\n"
                                   "/prod/web  Starting  1/2        -     -    -     serve      -\n");
        run_release(&r);

        struct exchange y[] = { { "GET", M "/v2/groups/nope", 404, "{\"message\":\"Group '/nope' does not exist\"}" } };
        r = run_cli(y, "group", "show", "/nope/");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "Group '/nope' does not exist");
        run_release(&r);
}

static void add_posts_and_names_the_deployment(void **state) {
        char *path = write_temp("{\"id\":\"prod\",\"apps\":[{\"id\":\"web\",\"cmd\":\"x\"}]}");
        struct exchange x[] = {
                { "POST", M "/v2/groups", 201, "{\"deploymentId\":\"d1\",\"version\":\"v1\"}" },
        };
        struct run r = run_cli(x, "group", "add", path);
        assert_int_equal(r.code, 0);
        assert_string_equal(x[0].sent, "{\"id\":\"prod\",\"apps\":[{\"id\":\"web\",\"cmd\":\"x\"}]}");
        assert_string_equal(r.out, "Created group /prod (deployment d1, version v1)\n");
        run_release(&r);
        exchanges_release(x, 1);
        unlink(path);
        free(path);

        /* no id: nothing is sent */
        r = run_cli_in(NULL, 0, "{\"apps\":[]}", ARGS("group", "add", "-"));
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "standard input: a new group needs an \"id\"");
        run_release(&r);
}

static void update_with_wait_follows_the_groups_apps(void **state) {
        char *path = write_temp("{\"apps\":[{\"id\":\"web\",\"cmd\":\"y\"}]}");
        struct exchange x[] = {
                { "PUT", M "/v2/groups/prod?force=true", 200, "{\"deploymentId\":\"d2\",\"version\":\"v2\"}" },
                { "GET", M "/v2/groups/prod", 200,
                  "{\"id\":\"/prod\",\"apps\":[{\"id\":\"/prod/web\"}],\"groups\":[{\"id\":\"/prod/db\",\"apps\":"
                  "[{\"id\":\"/prod/db/pg\"}]}]}" },
                { "GET", M "/v2/deployments", 200, "[]" },
                { "GET", M "/v2/apps/prod/web", 200,
                  "{\"app\":{\"id\":\"/prod/web\",\"instances\":1,\"tasksRunning\":1,\"version\":\"v2\",\"tasks\":"
                  "[{\"version\":\"v2\"}]}}" },
                { "GET", M "/v2/apps/prod/db/pg", 200,
                  "{\"app\":{\"id\":\"/prod/db/pg\",\"instances\":0,\"tasksRunning\":0,\"version\":\"v1\",\"tasks\":[]}}" },
        };
        struct run r = run_cli(x, "group", "update", "prod", path, "--force", "--wait");
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, "Updated group /prod (deployment d2, version v2)\n"));
        assert_non_null(strstr(r.out, "/prod/web: 1/1 new, 0 old, 1 running; /prod/db/pg: 0/0 new"));
        assert_non_null(strstr(r.out, "Deployment d2 succeeded"));
        run_release(&r);
        exchanges_release(x, ELEMENTSOF(x));
        unlink(path);
        free(path);
}

static void dry_run_prints_the_plan(void **state) {
        char *path = write_temp("{\"apps\":[]}");
        struct exchange x[] = {
                { "PUT", M "/v2/groups/prod?dryRun=true", 200,
                  "{\"steps\":[{\"actions\":[{\"action\":\"StopApplication\",\"app\":\"/prod/web\"}]},"
                  "{\"actions\":[{\"action\":\"ScaleApplication\",\"app\":\"/prod/a\"},"
                  "{\"action\":\"RestartApplication\",\"app\":\"/prod/b\"}]}]}" },
        };
        struct run r = run_cli(x, "group", "update", "prod", path, "--dry-run");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "step 1: StopApplication /prod/web\n"
                                   "step 2: ScaleApplication /prod/a, RestartApplication /prod/b\n");
        run_release(&r);
        exchanges_release(x, 1);

        r = run_cli_none("group", "update", "prod", path, "--dry-run", "--wait");
        assert_int_equal(r.code, 2);
        run_release(&r);
        unlink(path);
        free(path);
}

static void scale_sends_scale_by_and_checks_the_factor(void **state) {
        struct exchange x[] = {
                { "PUT", M "/v2/groups/prod", 200, "{\"deploymentId\":\"d3\",\"version\":\"v3\"}" },
        };
        struct run r = run_cli(x, "group", "scale", "prod", "1.5");
        assert_int_equal(r.code, 0);
        assert_string_equal(x[0].sent, "{\"scaleBy\":1.5}");
        assert_string_equal(r.out, "Scaling group /prod by 1.5 (deployment d3, version v3)\n");
        run_release(&r);
        exchanges_release(x, 1);

        const char *bad[] = { "-1", "x", "nan", "" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                r = run_cli_none("group", "scale", "prod", (char *)bad[i]);
                assert_int_equal(r.code, 2);
                run_release(&r);
        }
}

static void remove_deletes_with_force(void **state) {
        struct exchange x[] = {
                { "DELETE", M "/v2/groups/prod?force=true", 200, "{\"deploymentId\":\"d4\",\"version\":\"v4\"}" },
        };
        struct run r = run_cli(x, "group", "remove", "-f", "prod");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "Removed group /prod (deployment d4, version v4)\n");
        run_release(&r);
}

/* --- deployment ------------------------------------------------------------------------------ */

static void deployment_list_shows_steps_and_apps(void **state) {
        struct exchange x[] = {
                { "GET", M "/v2/deployments", 200,
                  "[{\"id\":\"d1\",\"version\":\"v1\",\"affectedApps\":[\"/a\",\"/b\"],\"currentStep\":2,"
                  "\"totalSteps\":3,\"currentActions\":[{\"action\":\"ScaleApplication\",\"app\":\"/b\"}]}]" },
        };
        struct run r = run_cli(x, "deployment", "list");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "ID  VERSION  STEP  CURRENT ACTIONS      APPS\n"
                                   "d1  v1       2/3   ScaleApplication /b  /a, /b\n");
        run_release(&r);

        struct exchange y[] = { { "GET", M "/v2/deployments", 200, "{}" } };
        r = run_cli(y, "deployment", "list");
        assert_int_equal(r.code, 1);
        run_release(&r);
}

static void deployment_rollback_and_stop(void **state) {
        struct exchange x[] = {
                { "DELETE", M "/v2/deployments/d1", 200, "{\"deploymentId\":\"d2\",\"version\":\"v2\"}" },
        };
        struct run r = run_cli(x, "deployment", "rollback", "d1");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "Rolling back deployment d1 with a new one (deployment d2, version v2)\n");
        run_release(&r);

        struct exchange y[] = { { "DELETE", M "/v2/deployments/d1?force=true", 202, "" } };
        r = run_cli(y, "deployment", "stop", "d1");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "Stopped deployment d1 (its apps stay as they are now)\n");
        run_release(&r);

        struct exchange z[] = {
                { "DELETE", M "/v2/deployments/nope?force=true", 404, "{\"message\":\"DeploymentPlan nope does not exist\"}" },
        };
        r = run_cli(z, "deployment", "stop", "nope");
        assert_int_equal(r.code, 1);
        assert_string_equal(r.error, "DeploymentPlan nope does not exist");
        run_release(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(list_walks_the_tree_depth_first),
                cmocka_unit_test(show_lists_the_groups_apps),
                cmocka_unit_test(add_posts_and_names_the_deployment),
                cmocka_unit_test(update_with_wait_follows_the_groups_apps),
                cmocka_unit_test(dry_run_prints_the_plan),
                cmocka_unit_test(scale_sends_scale_by_and_checks_the_factor),
                cmocka_unit_test(remove_deletes_with_force),
                cmocka_unit_test(deployment_list_shows_steps_and_apps),
                cmocka_unit_test(deployment_rollback_and_stop),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
