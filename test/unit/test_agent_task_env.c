/* test_agent_task_env.c — Marathon's task environment: ports (host and container networking),
 * names, labels, resources, prefix, and the app's env overriding the injected variables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/task_env.h"
#include "common/alloc.h"

static char **build(const char *app_json, const int *ports, size_t n_ports, const char *prefix) {
        json_error_t jerr;
        json_t *app = json_loads(app_json, 0, &jerr);
        if (!app)
                fail_msg("bad test JSON: %s", jerr.text);
        struct task_env_input in = {.app = app,
                                    .task_id = "web.instance-1",
                                    .host = "agent-7.dc1",
                                    .host_ports = ports,
                                    .n_host_ports = n_ports,
                                    .prefix = prefix,
                                    .enforce_group_role = -1};
        char **env = NULL;
        struct err err = {0};
        assert_int_equal(task_env_build(&in, &env, &err), 0);
        json_decref(app);
        return env;
}

#define assert_env(env, name, value)                                                                         \
        do {                                                                                                 \
                const char *v_ = task_env_get(env, name);                                                    \
                if (!v_)                                                                                     \
                        fail_msg("%s is not set", name);                                                     \
                assert_string_equal(v_, value);                                                              \
        } while (0)

static void host_networking_ports_names_and_requested_ports(void **state) {
        int ports[] = {31001, 31002, 31003};
        char **env = build("{\"id\": \"/shop/web\", \"version\": \"2020-01-01T00:00:00.000Z\","
                           " \"portDefinitions\": [{\"port\": 10001, \"name\": \"http\"},"
                           " {\"port\": 0, \"name\": \"admin-api\"}, {\"port\": 8080}]}",
                           ports, 3, NULL);
        assert_env(env, "PORT0", "31001");
        assert_env(env, "PORT1", "31002");
        assert_env(env, "PORT2", "31003");
        assert_env(env, "PORT", "31001");
        assert_env(env, "PORTS", "31001,31002,31003");
        assert_env(env, "PORT_HTTP", "31001");
        assert_env(env, "PORT_ADMIN_API", "31002");
        assert_env(env, "PORT_10001", "31001");
        assert_env(env, "PORT_8080", "31003");
        assert_null(task_env_get(env, "PORT_0"));
        assert_env(env, "HOST", "agent-7.dc1");
        assert_env(env, "MESOS_TASK_ID", "web.instance-1");
        assert_env(env, "MARATHON_APP_ID", "/shop/web");
        assert_env(env, "MARATHON_APP_VERSION", "2020-01-01T00:00:00.000Z");
        task_env_free(env);
}

static void resources_use_java_number_formatting(void **state) {
        char **env = build("{\"id\": \"/a\", \"cpus\": 0.25, \"mem\": 128, \"disk\": 1024.5, \"gpus\": 2}",
                           NULL, 0, NULL);
        assert_env(env, "MARATHON_APP_RESOURCE_CPUS", "0.25");
        assert_env(env, "MARATHON_APP_RESOURCE_MEM", "128.0");
        assert_env(env, "MARATHON_APP_RESOURCE_DISK", "1024.5");
        assert_env(env, "MARATHON_APP_RESOURCE_GPUS", "2");
        assert_null(task_env_get(env, "PORT0"));
        assert_null(task_env_get(env, "PORTS"));
        assert_null(task_env_get(env, "MARATHON_APP_DOCKER_IMAGE"));
        task_env_free(env);
        /* Defaults when absent: cpus 1, mem 128, disk 0. */
        env = build("{\"id\": \"/b\"}", NULL, 0, NULL);
        assert_env(env, "MARATHON_APP_RESOURCE_CPUS", "1.0");
        assert_env(env, "MARATHON_APP_RESOURCE_DISK", "0.0");
        assert_env(env, "MARATHON_APP_RESOURCE_GPUS", "0");
        task_env_free(env);
}

static void labels_are_sanitised_and_long_ones_skipped(void **state) {
        char *long_value = xcalloc(600, 1);
        memset(long_value, 'x', 599);
        char *app = xasprintf("{\"id\": \"/a\", \"labels\": {\"HAPROXY_GROUP\": \"external\","
                              " \"my.label--x\": \"1\", \"too-long\": \"%s\"}}",
                              long_value);
        char **env = build(app, NULL, 0, NULL);
        assert_env(env, "MARATHON_APP_LABEL_HAPROXY_GROUP", "external");
        assert_env(env, "MARATHON_APP_LABEL_MY_LABEL_X", "1");
        assert_null(task_env_get(env, "MARATHON_APP_LABEL_TOO_LONG"));
        assert_env(env, "MARATHON_APP_LABELS", "HAPROXY_GROUP MY_LABEL_X");
        task_env_free(env);
        free(app);
        free(long_value);
        char *s = task_env_sanitize("a.b-c d__e");
        assert_string_equal(s, "A_B_C_D__E");
        free(s);
}

static void app_env_comes_last_and_secrets_are_skipped(void **state) {
        int ports[] = {31000};
        char **env = build("{\"id\": \"/a\", \"env\": {\"PORT0\": \"80\", \"MODE\": \"prod\","
                           " \"DB_PASSWORD\": {\"secret\": \"db\"}}}",
                           ports, 1, NULL);
        assert_env(env, "PORT0", "80");
        assert_env(env, "PORTS", "31000");
        assert_env(env, "MODE", "prod");
        assert_null(task_env_get(env, "DB_PASSWORD"));
        /* Overriding replaces in place: one PORT0 only. */
        int n = 0;
        for (char **p = env; *p; p++)
                n += strncmp(*p, "PORT0=", 6) == 0;
        assert_int_equal(n, 1);
        task_env_free(env);
}

static void prefix_applies_to_port_and_host_variables_only(void **state) {
        int ports[] = {31000};
        char **env = build("{\"id\": \"/a\", \"portDefinitions\": [{\"port\": 0, \"name\": \"web\"}]}", ports,
                           1, "STRATA_");
        assert_env(env, "STRATA_PORT0", "31000");
        assert_env(env, "STRATA_PORT", "31000");
        assert_env(env, "STRATA_PORTS", "31000");
        assert_env(env, "STRATA_PORT_WEB", "31000");
        assert_env(env, "STRATA_HOST", "agent-7.dc1");
        assert_null(task_env_get(env, "PORT0"));
        assert_env(env, "MESOS_TASK_ID", "web.instance-1");
        assert_env(env, "MARATHON_APP_ID", "/a");
        task_env_free(env);
}

static void container_networking_uses_port_mappings(void **state) {
        /* Bridge: every mapping gets a host port (missing hostPort = dynamic). */
        int ports[] = {31500, 31501};
        char **env = build("{\"id\": \"/c\", \"networks\": [{\"mode\": \"container/bridge\"}],"
                           " \"container\": {\"type\": \"DOCKER\", \"docker\": {\"image\": \"nginx:1.25\"},"
                           " \"portMappings\": [{\"containerPort\": 80, \"hostPort\": 0, \"name\": \"http\"},"
                           " {\"containerPort\": 9090, \"name\": \"metrics\"}]}}",
                           ports, 2, NULL);
        assert_env(env, "PORT0", "31500");
        assert_env(env, "PORT1", "31501");
        assert_env(env, "PORT_HTTP", "31500");
        assert_env(env, "PORT_80", "31500");
        assert_env(env, "PORT_9090", "31501");
        assert_env(env, "MARATHON_APP_DOCKER_IMAGE", "nginx:1.25");
        task_env_free(env);

        /* Container mode: a mapping without hostPort exposes its container port. */
        int one[] = {31600};
        env = build("{\"id\": \"/c\", \"networks\": [{\"mode\": \"container\", \"name\": \"dcos\"}],"
                    " \"container\": {\"portMappings\": [{\"containerPort\": 8080, \"name\": \"api\"},"
                    " {\"containerPort\": 7070, \"hostPort\": 0}]}}",
                    one, 1, NULL);
        assert_env(env, "PORT0", "8080");
        assert_env(env, "PORT1", "31600");
        assert_env(env, "PORTS", "8080,31600");
        assert_env(env, "PORT_API", "8080");
        task_env_free(env);
}

static void bad_input_is_an_error(void **state) {
        json_t *arr = json_array();
        struct task_env_input in = {.app = arr, .task_id = "t", .host = "h", .enforce_group_role = -1};
        char **env = NULL;
        struct err err = {0};
        assert_int_equal(task_env_build(&in, &env, &err), -EINVAL);
        assert_null(env);
        err_release(&err);
        json_decref(arr);
        json_t *app = json_pack("{s:s}", "id", "/a");
        in.app = app;
        in.host = NULL;
        assert_int_equal(task_env_build(&in, &env, &err), -EINVAL);
        in.host = "h";
        in.enforce_group_role = 1;
        assert_int_equal(task_env_build(&in, &env, &err), 0);
        assert_env(env, "MARATHON_APP_ENFORCE_GROUP_ROLE", "true");
        task_env_free(env);
        json_decref(app);
        err_release(&err);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(host_networking_ports_names_and_requested_ports),
                cmocka_unit_test(resources_use_java_number_formatting),
                cmocka_unit_test(labels_are_sanitised_and_long_ones_skipped),
                cmocka_unit_test(app_env_comes_last_and_secrets_are_skipped),
                cmocka_unit_test(prefix_applies_to_port_and_host_variables_only),
                cmocka_unit_test(container_networking_uses_port_mappings),
                cmocka_unit_test(bad_input_is_an_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
