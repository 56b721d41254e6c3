/* test_model_app.c — app definitions: canonical form, defaults, ids, updates, scale vs restart,
 * service ports. */
#include "test_model_app.h"

#include <errno.h>

/* ---- canonical form ---- */

static void minimal_app_gets_every_default(void **state) {
        json_t *a = norm_ok("{\"id\":\"web\",\"cmd\":\"python3 -m http.server $PORT0\",\"instances\":2}");
        json_t *want = parse(
                "{\"id\":\"/web\",\"cmd\":\"python3 -m http.server $PORT0\",\"instances\":2,\"cpus\":1,\"mem\":128,"
                "\"disk\":0,\"gpus\":0,\"executor\":\"\",\"networks\":[{\"mode\":\"host\"}],"
                "\"portDefinitions\":[{\"port\":0,\"name\":\"default\",\"protocol\":\"tcp\"}],\"requirePorts\":false,"
                "\"labels\":{},\"backoffSeconds\":1,\"backoffFactor\":1.15,\"maxLaunchDelaySeconds\":300,"
                "\"upgradeStrategy\":{\"minimumHealthCapacity\":1,\"maximumOverCapacity\":1},"
                "\"unreachableStrategy\":{\"inactiveAfterSeconds\":0,\"expungeAfterSeconds\":0},"
                "\"killSelection\":\"YOUNGEST_FIRST\",\"role\":\"*\"}");
        if (!json_equal(a, want)) {
                char *got = json_dumps(a, JSON_COMPACT);
                fail_msg("got %s", got);
        }
        /* id first, deterministic order */
        void *it = json_object_iter(a);
        assert_string_equal(json_object_iter_key(it), "id");
        json_decref(a);
        json_decref(want);
}

static void normalising_twice_changes_nothing(void **state) {
        const char *apps[] = {
                "{\"id\":\"/a\",\"cmd\":\"sleep 1\"}",
                "{\"id\":\"/b\",\"container\":{\"docker\":{\"image\":\"nginx\"}},\"networks\":[{\"mode\":"
                "\"container/bridge\"}]}",
                "{\"id\":\"/c\",\"cmd\":\"x y\",\"ports\":[0,0],\"uris\":[\"http://x/a.tgz\"],"
                "\"healthChecks\":[{}],\"constraints\":[[\"hostname\",\"unique\"]]}",
                "{\"id\":\"/d\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":"
                "\"data\",\"mode\":\"RW\",\"persistent\":{\"size\":10}}]}}",
        };
        for (size_t i = 0; i < sizeof apps / sizeof *apps; i++) {
                json_t *a = norm_ok(apps[i]);
                char *s = json_dumps(a, JSON_COMPACT);
                json_t *b = norm_ok(s);
                if (!json_equal(a, b))
                        fail_msg("not idempotent: %s", s);
                free(s);
                json_decref(a);
                json_decref(b);
        }
}

static void output_only_fields_are_dropped(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"version\":\"2015-01-01T00:00:00.000Z\","
                            "\"versionInfo\":{},\"tasks\":[],\"tasksRunning\":3,\"deployments\":[],\"unknown\":1}");
        assert_null(json_object_get(a, "version"));
        assert_null(json_object_get(a, "versionInfo"));
        assert_null(json_object_get(a, "tasks"));
        assert_null(json_object_get(a, "tasksRunning"));
        assert_null(json_object_get(a, "deployments"));
        assert_null(json_object_get(a, "unknown"));
        json_decref(a);
}

static void null_members_count_as_absent(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"cpus\":null,\"container\":null,\"labels\":null}");
        expect_at(a, "cpus", "1");
        expect_at(a, "labels", "{}");
        assert_null(json_object_get(a, "container"));
        json_decref(a);
}

static void optional_fields_appear_only_when_set(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"args\":[],\"env\":{},\"constraints\":[],"
                            "\"healthChecks\":[],\"fetch\":[],\"dependencies\":[]}");
        const char *absent[] = {"args",   "env",          "constraints",     "healthChecks", "fetch", "dependencies",
                                "user",   "container",    "readinessChecks", "secrets",      "tty",   "residency",
                                "check",  "acceptedResourceRoles", "taskKillGracePeriodSeconds"};
        for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
                if (json_object_get(a, absent[i]))
                        fail_msg("%s should be absent", absent[i]);
        json_decref(a);
}

static void fractional_and_integral_numbers_are_canonical(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"cpus\":0.5,\"mem\":64.0,\"instances\":3.0}");
        assert_true(json_is_real(json_object_get(a, "cpus")));
        assert_true(json_is_integer(json_object_get(a, "mem")));
        expect_at(a, "instances", "3");
        json_decref(a);
}

/* ---- ids ---- */

static void relative_ids_resolve_against_the_parent(void **state) {
        char *id = NULL;
        struct err e = {0};
        assert_int_equal(app_id_resolve("web", "/", &id, &e), 0);
        assert_string_equal(id, "/web");
        free(id);
        assert_int_equal(app_id_resolve("web", "/prod/shop", &id, &e), 0);
        assert_string_equal(id, "/prod/shop/web");
        free(id);
        assert_int_equal(app_id_resolve("../web", "/prod/shop", &id, &e), -ERR_INVALID);
        assert_string_equal(err_msg(&e), "Identifier is not child of '/prod/shop'");
        err_release(&e);
        assert_int_equal(app_id_resolve("/a/./b/../c", "/", &id, &e), 0);
        assert_string_equal(id, "/a/c");
        free(id);
        assert_int_equal(app_id_resolve("//a//b/", "/", &id, &e), 0);
        assert_string_equal(id, "/a/b");
        free(id);
        assert_int_equal(app_id_resolve("a.b-c/d0", "/", &id, &e), 0);
        assert_string_equal(id, "/a.b-c/d0");
        free(id);
}

static void bad_ids_are_rejected_with_marathons_messages(void **state) {
        const char *pattern =
                "must fully match regular expression "
                "'^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'";
        const char *bad[] = {"Web", "a_b", "a b", "-a", "a-", "a..b", "a/.b", "a/b./c", "a#", "\xc3\xa9"};
        char *id = (char *)"untouched";
        struct err e = {0};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                assert_int_equal(app_id_resolve(bad[i], "/", &id, &e), -ERR_INVALID);
                assert_string_equal(err_msg(&e), pattern);
                assert_string_equal(id, "untouched");
                err_release(&e);
        }
        const char *reserved[] = {"/a/restart", "tasks", "/x/versions", "/a/b/tasks/./"};
        for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++) {
                assert_int_equal(app_id_resolve(reserved[i], "/", &id, &e), -ERR_INVALID);
                assert_string_equal(err_msg(&e), "must not end with any of the following reserved keywords: "
                                                 "restart, tasks, versions, ., ..");
                err_release(&e);
        }
        const char *root[] = {"/", "", ".", "a/..", "/.."};
        for (size_t i = 0; i < sizeof root / sizeof *root; i++) {
                assert_int_equal(app_id_resolve(root[i], "/", &id, &e), -ERR_INVALID);
                assert_string_equal(err_msg(&e), "Path must contain at least one path element");
                err_release(&e);
        }
        json_t *d = norm_fail("{\"id\":\"Bad_Id\",\"cmd\":\"sleep 1\"}", -ERR_INVALID, "Object is not valid");
        assert_true(has_error(d, "/id", pattern));
        json_decref(d);
}

static void missing_id_is_a_missing_path(void **state) {
        expect_bad_json("{\"cmd\":\"sleep 1\"}", "/id", "error.path.missing");
        expect_bad_json("{\"id\":null,\"cmd\":\"sleep 1\"}", "/id", "error.expected.jsstring");
        expect_bad_json("{\"id\":5,\"cmd\":\"sleep 1\"}", "/id", "error.expected.jsstring");
}

static void ids_in_a_group_must_be_children(void **state) {
        json_t *a = norm_ok_at("{\"id\":\"web\",\"cmd\":\"sleep 1\",\"dependencies\":[\"db\",\"../other\"]}",
                               "/shop");
        expect_at(a, "id", "\"/shop/web\"");
        expect_at(a, "dependencies", "[\"/shop/db\",\"/other\"]");
        json_decref(a);
        json_t *in = parse("{\"id\":\"/elsewhere/web\",\"cmd\":\"sleep 1\"}"), *out = NULL;
        struct err e = {0};
        assert_int_equal(app_normalize(in, "/shop", &out, &e), -ERR_INVALID);
        assert_true(has_error(e.details, "/id", "Identifier is not child of '/shop'"));
        err_release(&e);
        json_decref(in);
}

/* ---- updates ---- */

static void partial_update_replaces_top_level_keys(void **state) {
        json_t *cur = norm_ok("{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"env\":{\"A\":\"1\",\"B\":\"2\"},"
                              "\"labels\":{\"x\":\"y\"},\"instances\":2}");
        json_object_set_new(cur, "version", json_string("2020-01-01T00:00:00.000Z"));
        json_t *upd = parse("{\"id\":\"/other\",\"env\":{\"C\":\"3\"},\"version\":\"2019-01-01T00:00:00.000Z\"}");
        json_t *out = NULL;
        struct err e = {0};
        assert_int_equal(app_apply_update(cur, upd, &out, &e), 0);
        expect_at(out, "id", "\"/a\"");
        expect_at(out, "env", "{\"C\":\"3\"}");
        expect_at(out, "labels", "{\"x\":\"y\"}");
        expect_at(out, "instances", "2");
        assert_null(json_object_get(out, "version"));
        json_decref(out);
        json_decref(upd);

        /* a legacy key in the update replaces its canonical counterpart */
        upd = parse("{\"ports\":[8080,9090]}");
        assert_int_equal(app_apply_update(cur, upd, &out, &e), 0);
        expect_at(out, "portDefinitions",
                  "[{\"port\":8080,\"protocol\":\"tcp\"},{\"port\":9090,\"protocol\":\"tcp\"}]");
        json_decref(out);
        json_decref(upd);

        /* an invalid result is refused, current untouched */
        upd = parse("{\"instances\":-1}");
        out = NULL;
        assert_int_equal(app_apply_update(cur, upd, &out, &e), -ERR_INVALID);
        assert_null(out);
        assert_true(has_error(e.details, "/instances", "got -1, expected 0 or more"));
        err_release(&e);
        json_decref(upd);
        upd = parse("{\"cpus\":\"many\"}");
        assert_int_equal(app_apply_update(cur, upd, &out, &e), -ERR_BAD_JSON);
        assert_true(has_error(e.details, "/cpus", "error.expected.jsnumber"));
        err_release(&e);
        json_decref(upd);
        upd = parse("[1]");
        assert_int_equal(app_apply_update(cur, upd, &out, &e), -ERR_BAD_JSON);
        err_release(&e);
        json_decref(upd);
        expect_at(cur, "version", "\"2020-01-01T00:00:00.000Z\"");
        json_decref(cur);
}

static void scale_only_ignores_versions(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"instances\":1}");
        json_t *b = json_deep_copy(a);
        json_object_set_new(b, "instances", json_integer(5));
        json_object_set_new(b, "version", json_string("2020-01-01T00:00:00.000Z"));
        json_object_set_new(b, "versionInfo", json_pack("{s:s}", "lastScalingAt", "x"));
        assert_true(app_is_scale_only(a, b));
        assert_true(app_is_scale_only(b, a));
        /* same instances: not a scale */
        assert_false(app_is_scale_only(a, a));
        /* any other change is a restart */
        json_object_set_new(b, "labels", json_pack("{s:s}", "x", "y"));
        assert_false(app_is_scale_only(a, b));
        json_object_set_new(b, "labels", json_object());
        assert_true(app_is_scale_only(a, b));
        json_object_set_new(b, "tty", json_true());
        assert_false(app_is_scale_only(a, b));
        json_decref(a);
        json_decref(b);
}


static void resident_apps_keep_volumes_resources_and_host_ports(void **state) {
        json_t *cur = norm_ok("{\"id\":\"/db\",\"cmd\":\"x y\",\"cpus\":1,\"portDefinitions\":[{\"port\":10000}],"
                              "\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"data\","
                              "\"mode\":\"RW\",\"persistent\":{\"size\":10}}]}}");
        json_t *out = NULL;
        struct err e = {0};
        /* scaling and other changes are fine */
        json_t *upd = parse("{\"instances\":3,\"env\":{\"A\":\"1\"}}");
        assert_int_equal(app_apply_update(cur, upd, &out, &e), 0);
        json_decref(out);
        json_decref(upd);
        upd = parse("{\"cpus\":2,\"portDefinitions\":[{\"port\":10001}]}");
        assert_int_equal(app_apply_update(cur, upd, &out, &e), -ERR_INVALID);
        assert_true(has_error(e.details, "/cpus",
                              "Services with persistent volumes configured may not change resource requirements. If "
                              "you need to make this change, please create a new service."));
        assert_true(has_error(e.details, "/",
                              "Services with persistent volumes configured may not change host ports. If you need to "
                              "make this change, please create a new service."));
        err_release(&e);
        json_decref(upd);
        upd = parse("{\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"data\",\"mode\":"
                    "\"RW\",\"persistent\":{\"size\":20}}]}}");
        assert_int_equal(app_apply_update(cur, upd, &out, &e), -ERR_INVALID);
        assert_true(has_error(e.details, "/", "Persistent volumes can not be changed!"));
        err_release(&e);
        json_decref(upd);
        upd = parse("{\"upgradeStrategy\":{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":0.2}}");
        assert_int_equal(app_apply_update(cur, upd, &out, &e), -ERR_INVALID);
        assert_true(has_error(e.details, "/upgradeStrategy/maximumOverCapacity", "got 0.2, expected 0.0"));
        err_release(&e);
        json_decref(upd);
        json_decref(cur);
}

/* ---- service ports ---- */

static void collect(int port, void *data) {
        json_array_append_new(data, json_integer(port));
}

static bool taken_10000(int port, void *data) {
        (void)data;
        return port == 10000;
}

static void zero_service_ports_are_assigned(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"portDefinitions\":[{\"port\":0},{\"port\":10002},"
                            "{\"port\":0}]}");
        json_t *seen = json_array();
        app_service_ports_foreach(a, collect, seen);
        expect_at(seen, "", "[10002]");
        struct err e = {0};
        assert_int_equal(app_assign_service_ports(a, 10000, 20000, taken_10000, NULL, &e), 0);
        expect_at(a, "portDefinitions/0/port", "10001");
        expect_at(a, "portDefinitions/1/port", "10002");
        expect_at(a, "portDefinitions/2/port", "10003");
        json_array_clear(seen);
        app_service_ports_foreach(a, collect, seen);
        expect_at(seen, "", "[10001,10002,10003]");
        json_decref(a);

        /* container networking: servicePort of the mappings */
        a = norm_ok("{\"id\":\"/b\",\"container\":{\"docker\":{\"image\":\"x\"},\"portMappings\":[{\"containerPort\":"
                    "80},{\"containerPort\":443,\"servicePort\":10443}]},\"networks\":[{\"mode\":\"container/bridge\"}]}");
        assert_int_equal(app_assign_service_ports(a, 10000, 20000, NULL, NULL, &e), 0);
        expect_at(a, "container/portMappings/0/servicePort", "10000");
        expect_at(a, "container/portMappings/1/servicePort", "10443");
        json_array_clear(seen);
        app_service_ports_foreach(a, collect, seen);
        expect_at(seen, "", "[10000,10443]");
        json_decref(a);
        json_decref(seen);
}

static void exhausted_port_range_leaves_the_app_alone(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"portDefinitions\":[{\"port\":0},{\"port\":0}]}");
        struct err e = {0};
        assert_int_equal(app_assign_service_ports(a, 10000, 10001, taken_10000, NULL, &e), -ENOSPC);
        assert_non_null(strstr(err_msg(&e), "10000"));
        expect_at(a, "portDefinitions/0/port", "0");
        expect_at(a, "portDefinitions/1/port", "0");
        err_release(&e);
        json_decref(a);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(minimal_app_gets_every_default),
                cmocka_unit_test(normalising_twice_changes_nothing),
                cmocka_unit_test(output_only_fields_are_dropped),
                cmocka_unit_test(null_members_count_as_absent),
                cmocka_unit_test(optional_fields_appear_only_when_set),
                cmocka_unit_test(fractional_and_integral_numbers_are_canonical),
                cmocka_unit_test(relative_ids_resolve_against_the_parent),
                cmocka_unit_test(bad_ids_are_rejected_with_marathons_messages),
                cmocka_unit_test(missing_id_is_a_missing_path),
                cmocka_unit_test(ids_in_a_group_must_be_children),
                cmocka_unit_test(partial_update_replaces_top_level_keys),
                cmocka_unit_test(scale_only_ignores_versions),
                cmocka_unit_test(resident_apps_keep_volumes_resources_and_host_ports),
                cmocka_unit_test(zero_service_ports_are_assigned),
                cmocka_unit_test(exhausted_port_range_leaves_the_app_alone),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
