/* test_model_app_fixtures.c — the upstream app fixtures (copied into test/fuzz/corpus/app/ from
 * ../shared/research/fixtures): requests Marathon accepts must normalise to a canonical app that
 * keeps its contracts; the negative ones fail with Marathon's status and message; real Marathon
 * ≥1.5 responses normalise to themselves. */
#include "test_model_app.h"

#include <libgen.h>
#include <unistd.h>

/* The corpus directory, found from the test's working directory or its source path. */
static char corpus[4096];

static int find_corpus(void **state) {
        char *src = strdup(__FILE__);
        const char *env = getenv("STRATA_SOURCE_ROOT");
        char *cand[4] = {NULL};
        if (asprintf(&cand[0], "%s/test/fuzz/corpus/app", env ? env : ".") < 0 ||
            asprintf(&cand[1], "test/fuzz/corpus/app") < 0 ||
            asprintf(&cand[2], "%s/../fuzz/corpus/app", dirname(src)) < 0 ||
            asprintf(&cand[3], "../test/fuzz/corpus/app") < 0)
                abort();
        int r = -1;
        for (size_t i = 0; i < 4 && r < 0; i++) {
                char *probe = NULL;
                if (asprintf(&probe, "%s/seed_update.json", cand[i]) < 0)
                        abort();
                if (access(probe, R_OK) == 0 && strlen(cand[i]) < sizeof corpus) {
                        memcpy(corpus, cand[i], strlen(cand[i]) + 1);
                        r = 0;
                }
                free(probe);
        }
        for (size_t i = 0; i < 4; i++)
                free(cand[i]);
        free(src);
        if (r < 0)
                fail_msg("cannot find test/fuzz/corpus/app (set STRATA_SOURCE_ROOT)");
        return r;
}

static json_t *load(const char *name) {
        char *path = NULL;
        json_error_t je;
        if (asprintf(&path, "%s/%s", corpus, name) < 0)
                abort();
        json_t *j = json_load_file(path, 0, &je);
        free(path);
        if (!j)
                fail_msg("%s: %s", path, je.text);
        return j;
}

/* The apps a fixture holds: one app, an array of apps, or {"apps": [...]}. */
static json_t *apps_of(json_t *doc) {
        if (json_is_array(doc))
                return json_incref(doc);
        json_t *apps = json_object_get(doc, "apps");
        if (json_is_array(apps) && !json_object_get(doc, "id"))
                return json_incref(apps);
        json_t *a = json_array();
        json_array_append(a, doc);
        return a;
}

static void noop_port(int port, void *data) {
        (void)port;
        (*(int *)data)++;
}

/* The contracts of a canonical app. */
static void check_canonical(const char *name, json_t *a) {
        static const char *const always[] = {
                "id", "instances", "cpus", "mem", "disk", "gpus", "executor", "backoffSeconds", "backoffFactor",
                "maxLaunchDelaySeconds", "networks", "requirePorts", "labels", "upgradeStrategy",
                "unreachableStrategy", "killSelection", "role",
        };
        for (size_t i = 0; i < sizeof always / sizeof *always; i++)
                if (!json_object_get(a, always[i]))
                        fail_msg("%s: %s missing", name, always[i]);
        assert_int_equal(json_string_value(json_object_get(a, "id"))[0], '/');
        /* legacy fields are never emitted */
        assert_null(json_object_get(a, "ports"));
        assert_null(json_object_get(a, "uris"));
        assert_null(json_object_get(a, "ipAddress"));
        json_t *docker = json_object_get(json_object_get(a, "container"), "docker");
        assert_null(json_object_get(docker, "network"));
        assert_null(json_object_get(docker, "portMappings"));
        /* host networking ⇔ port definitions; else port mappings */
        const char *mode = json_string_value(json_object_get(json_array_get(json_object_get(a, "networks"), 0), "mode"));
        if (streq(mode, "host")) {
                assert_non_null(json_object_get(a, "portDefinitions"));
                assert_null(json_object_get(json_object_get(a, "container"), "portMappings"));
        } else {
                assert_null(json_object_get(a, "portDefinitions"));
                assert_non_null(json_object_get(json_object_get(a, "container"), "portMappings"));
        }
        /* marathon-lb indexes these without checking */
        size_t i;
        json_t *hc;
        json_array_foreach(json_object_get(a, "healthChecks"), i, hc) {
                static const char *const fields[] = {"protocol", "gracePeriodSeconds", "intervalSeconds",
                                                     "timeoutSeconds", "maxConsecutiveFailures", "delaySeconds"};
                for (size_t k = 0; k < sizeof fields / sizeof *fields; k++)
                        if (!json_object_get(hc, fields[k]))
                                fail_msg("%s: healthChecks(%zu) lacks %s", name, i, fields[k]);
        }

        /* idempotent */
        char *s = json_dumps(a, JSON_COMPACT);
        json_t *again = norm_ok(s);
        if (!json_equal(a, again))
                fail_msg("%s: not idempotent: %s", name, s);
        free(s);
        json_decref(again);

        /* ports can be assigned and the result is still canonical */
        json_t *copy = json_deep_copy(a);
        struct err e = {0};
        assert_int_equal(app_assign_service_ports(copy, 10000, 20000, NULL, NULL, &e), 0);
        int n = 0;
        app_service_ports_foreach(copy, noop_port, &n);
        s = json_dumps(copy, JSON_COMPACT);
        again = norm_ok(s);
        if (!json_equal(copy, again))
                fail_msg("%s: not idempotent after port assignment: %s", name, s);
        free(s);
        json_decref(again);

        /* scaling is a scale */
        json_object_set_new(copy, "instances", json_integer(json_integer_value(json_object_get(a, "instances")) + 1));
        json_t *pa = json_deep_copy(a);
        assert_int_equal(app_assign_service_ports(pa, 10000, 20000, NULL, NULL, &e), 0);
        assert_true(app_is_scale_only(pa, copy));
        json_decref(pa);
        json_decref(copy);
}

static void valid_requests_normalise(void **state) {
        static const char *const valid[] = {
                "marathon_tests_system_apps_app-with-https-readiness-checks.json",
                "marathon_tests_system_apps_docker-http-server.json",
                "marathon_tests_system_apps_docker-nginx-ssl.json",
                "marathon_tests_system_apps_external-volume-mesos-app.json",
                "marathon_tests_system_apps_fake-framework.json",
                "marathon_tests_system_apps_healthcheck-and-volume.json",
                "marathon_tests_system_apps_http-server.json",
                "marathon_tests_system_apps_ipv6-healthcheck.json",
                "marathon_tests_system_apps_large-sleep.json",
                "marathon_tests_system_apps_mesos-app.json",
                "marathon_tests_system_apps_persistent-volume-app.json",
                "marathon_tests_system_apps_pinger-bridge-app.json",
                "marathon_tests_system_apps_pinger-container-app.json",
                "marathon_tests_system_apps_pinger-localhost-app.json",
                "marathon_tests_system_apps_private-docker-app.json",
                "marathon_tests_system_apps_private-ucr-docker-app.json",
                "marathon_tests_system_apps_readiness-and-health-app.json",
                "marathon_tests_system_apps_resident-docker-app.json",
                "marathon_tests_system_apps_sleep-app.json",
                "marathon_tests_system_apps_ucr-docker-http-server.json",
                "dcos-core-cli_marathon_apps_hello-stderr.json",
                "dcos-core-cli_marathon_apps_sleep-completed.json",
                "dcos-core-cli_marathon_apps_sleep-completed1.json",
                "dcos-core-cli_marathon_apps_sleep.json",
                "dcos-core-cli_marathon_apps_sleep1.json",
                "dcos-core-cli_marathon_apps_sleep2.json",
                "dcos-core-cli_marathon_apps_sleep_many_instances.json",
                "dcos-core-cli_marathon_apps_stuck_sleep.json",
                "dcos-core-cli_marathon_apps_zero_instance_sleep.json",
                "dcos-core-cli_marathon_apps_zero_instance_sleep_v2.json",
                "marathon-lb_tests_1-nginx.json",
                "marathon-lb_tests_1-nginx-marathon1.5.json",
                "marathon-lb_tests_zdd_app_blue.json",
                "marathon-lb_tests_zdd_app_blue_marathon1.5.json",
                "marathon-lb_ci_backends_docker_bridge.json",
                "marathon-lb_ci_backends_docker_host.json",
                "marathon-lb_ci_backends_docker_ippc.json",
                "marathon-lb_ci_backends_ucr_bridge.json",
                "marathon-lb_ci_backends_ucr_host.json",
                "marathon-lb_ci_backends_ucr_ippc.json",
                "marathon-lb_ci_backends_1.9_ucr_host.json",
                "marathon_examples_app-check-http-example.json",
                "marathon_examples_apps_create.json",
                "marathon_articles_app-simple.json",
                /* responses (GET /v2/apps) fed back in */
                "marathon-lb_tests_marathon15_apps.json",
                "marathon-lb_tests_zdd_apps.json",
                "marathon_benchmark_155_100_app0.json",
                "marathon_benchmark_155_100_app1.json",
                "seed_legacy_ipaddress.json",
                "seed_resident.json",
        };
        for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
                json_t *doc = load(valid[i]);
                json_t *apps = apps_of(doc);
                size_t k;
                json_t *in;
                json_array_foreach(apps, k, in) {
                        json_t *out = NULL;
                        struct err e = {0};
                        if (app_normalize(in, "/", &out, &e) < 0) {
                                char *d = e.details ? json_dumps(e.details, JSON_COMPACT) : NULL;
                                fail_msg("%s[%zu]: %s %s", valid[i], k, err_msg(&e), d ? d : "");
                        }
                        check_canonical(valid[i], out);
                        json_decref(out);
                }
                json_decref(apps);
                json_decref(doc);
        }
}

static void invalid_requests_fail_like_marathon(void **state) {
        static const struct {
                const char *file;
                int code;
                const char *path, *message;
        } invalid[] = {
                /* "network": "bogus" */
                {"dcos-core-cli_marathon_apps_app_add_400.json", -ERR_BAD_JSON, "/container/docker/network",
                 "error.expected.validenumvalue"},
                /* Docker with ipAddress.discovery, and ports next to ipAddress: "not valid as-is on 1.10" */
                {"marathon_examples_app.json", -ERR_INVALID, "/ipAddress",
                 "ipAddress/discovery is not allowed for Docker containers"},
                {"marathon_examples_app.json", -ERR_INVALID, "/", "cannot specify both an IP address and port"},
                /* deprecated docker.network next to networks */
                {"marathon-lb_ci_backends_1.9_docker_bridge.json", -ERR_INVALID, "/",
                 "must not specify both container.docker.network and networks"},
                {"marathon-lb_ci_backends_1.9_docker_host.json", -ERR_INVALID, "/",
                 "must not specify both container.docker.network and networks"},
                {"marathon-lb_ci_backends_1.9_docker_ippc.json", -ERR_INVALID, "/",
                 "must not specify both networks and ipAddress"},
                /* update bodies are not apps: no id */
                {"dcos-core-cli_marathon_apps_update_zero_instance_sleep.json", -ERR_BAD_JSON, "/id",
                 "error.path.missing"},
                {"marathon_examples_app_patch.json", -ERR_INVALID, "/",
                 "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."},
                {"seed_bad_types.json", -ERR_BAD_JSON, "/cpus", "error.expected.jsnumber"},
                {"seed_constraints.json", -ERR_INVALID, "/constraints(3)", "is not a valid regular expression"},
        };
        for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
                json_t *in = load(invalid[i].file), *out = NULL;
                struct err e = {0};
                int r = app_normalize(in, "/", &out, &e);
                if (r != invalid[i].code || !has_error(e.details, invalid[i].path, invalid[i].message)) {
                        char *d = e.details ? json_dumps(e.details, JSON_COMPACT) : NULL;
                        fail_msg("%s: got %d %s %s", invalid[i].file, r, err_msg(&e), d ? d : "");
                }
                err_release(&e);
                json_decref(in);
        }
        /* bad.json is not JSON at all: the API answers 400 before the model sees it */
        char *path = NULL;
        json_error_t je;
        if (asprintf(&path, "%s/dcos-core-cli_marathon_apps_bad.json", corpus) < 0)
                abort();
        assert_null(json_load_file(path, 0, &je));
        free(path);
}

static void update_bodies_apply(void **state) {
        json_t *cur = norm_ok("{\"id\":\"/zero-instance-app\",\"cmd\":\"sleep 1000\",\"instances\":0,\"mem\":16}");
        static const char *const updates[] = {
                "dcos-core-cli_marathon_apps_update_zero_instance_sleep.json",
                "marathon_examples_app_patch.json",
                "seed_update.json",
        };
        for (size_t i = 0; i < sizeof updates / sizeof *updates; i++) {
                json_t *upd = load(updates[i]), *out = NULL;
                struct err e = {0};
                if (app_apply_update(cur, upd, &out, &e) < 0) {
                        char *d = e.details ? json_dumps(e.details, JSON_COMPACT) : NULL;
                        fail_msg("%s: %s %s", updates[i], err_msg(&e), d ? d : "");
                }
                expect_at(out, "id", "\"/zero-instance-app\"");
                check_canonical(updates[i], out);
                json_decref(out);
                json_decref(upd);
        }
        /* apps_patch.json: bulk PATCH, one update per listed app */
        json_t *bulk = load("marathon_examples_apps_patch.json");
        size_t k;
        json_t *upd;
        json_array_foreach(bulk, k, upd) {
                json_t *out = NULL;
                struct err e = {0};
                assert_int_equal(app_apply_update(cur, upd, &out, &e), 0);
                check_canonical("apps_patch", out);
                json_decref(out);
        }
        json_decref(bulk);
        json_decref(cur);
}

/* Real ≥1.5 responses are already canonical: only "role" (1.9+) and the status fields differ. */
static void real_responses_are_canonical(void **state) {
        static const char *const responses[] = {
                "marathon_benchmark_155_100_app0.json",
                "marathon_benchmark_155_100_app1.json",
                "marathon-lb_tests_marathon15_apps.json",
        };
        static const char *const status[] = {"version", "versionInfo", "tasks", "tasksStaged", "tasksRunning",
                                             "tasksHealthy", "tasksUnhealthy", "deployments", "lastTaskFailure"};
        for (size_t i = 0; i < sizeof responses / sizeof *responses; i++) {
                json_t *doc = load(responses[i]);
                json_t *apps = apps_of(doc);
                size_t k;
                json_t *in;
                json_array_foreach(apps, k, in) {
                        char *s = json_dumps(in, JSON_COMPACT);
                        json_t *out = norm_ok(s);
                        free(s);
                        json_t *want = json_deep_copy(in);
                        for (size_t j = 0; j < sizeof status / sizeof *status; j++)
                                json_object_del(want, status[j]);
                        json_object_set_new(want, "role", json_string("*"));
                        if (!json_equal(out, want)) {
                                char *g = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
                                char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
                                fail_msg("%s[%zu]:\n got %s\nwant %s", responses[i], k, g, w);
                        }
                        json_decref(want);
                        json_decref(out);
                }
                json_decref(apps);
                json_decref(doc);
        }
}

/* ≤1.4 responses translate: ports/docker.network/docker.portMappings become the 1.5 form, and
 * assigned service ports survive. */
static void old_responses_translate(void **state) {
        json_t *doc = load("marathon-lb_tests_zdd_apps.json");
        json_t *apps = apps_of(doc);
        json_t *blue = NULL;
        size_t k;
        json_t *in;
        json_array_foreach(apps, k, in)
                if (streq(json_string_value(json_object_get(in, "id")), "/nginx-blue"))
                        blue = in;
        assert_non_null(blue);
        char *s = json_dumps(blue, JSON_COMPACT);
        json_t *out = norm_ok(s);
        free(s);
        expect_at(out, "networks", "[{\"mode\":\"container/bridge\"}]");
        expect_at(out, "container/portMappings",
                  "[{\"containerPort\":8080,\"hostPort\":0,\"servicePort\":10001,\"protocol\":\"tcp\",\"labels\":{}}]");
        assert_null(json_object_get(out, "portDefinitions"));
        json_decref(out);
        json_decref(apps);
        json_decref(doc);
}

/* Every app of the 100-app golden dump. The shared fixtures sit beside the repository (CI and
 * developers alike), found from the working directory (repo root or build dir) or
 * $STRATA_FIXTURES; their absence is a failure, not a skip. */
static void golden_dump_when_present(void **state) {
        static const char rel[] = "marathon/benchmark/src/main/resources/mocks/json/real/155_100.json";
        const char *env = getenv("STRATA_FIXTURES");
        const char *roots[] = { env ? env : "", "../shared/research/fixtures", "../../shared/research/fixtures",
                                "/work/shared/research/fixtures" };
        json_t *doc = NULL;
        for (size_t r = 0; r < sizeof roots / sizeof roots[0] && !doc; r++) {
                char *path = NULL;
                if (!roots[r][0] || asprintf(&path, "%s/%s", roots[r], rel) < 0)
                        continue;
                doc = json_load_file(path, 0, NULL);
                free(path);
        }
        if (!doc)
                fail_msg("shared fixtures not found: set STRATA_FIXTURES to .../shared/research/fixtures");
        json_t *stack = json_array();
        json_array_append(stack, doc);
        size_t n = 0;
        while (json_array_size(stack) > 0) {
                json_t *g = json_incref(json_array_get(stack, json_array_size(stack) - 1));
                json_array_remove(stack, json_array_size(stack) - 1);
                size_t i;
                json_t *x;
                json_array_foreach(json_object_get(g, "groups"), i, x)
                        json_array_append(stack, x);
                json_array_foreach(json_object_get(g, "apps"), i, x) {
                        char *s = json_dumps(x, JSON_COMPACT);
                        json_t *out = norm_ok(s);
                        free(s);
                        json_t *want = json_deep_copy(x);
                        json_object_del(want, "version");
                        json_object_del(want, "versionInfo");
                        json_object_set_new(want, "role", json_string("*"));
                        assert_true(json_equal(out, want));
                        json_decref(want);
                        json_decref(out);
                        n++;
                }
                json_decref(g);
        }
        assert_int_equal(n, 100);
        json_decref(stack);
        json_decref(doc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(valid_requests_normalise),
                cmocka_unit_test(invalid_requests_fail_like_marathon),
                cmocka_unit_test(update_bodies_apply),
                cmocka_unit_test(real_responses_are_canonical),
                cmocka_unit_test(old_responses_translate),
                cmocka_unit_test(golden_dump_when_present),
        };
        return cmocka_run_group_tests(tests, find_corpus, NULL);
}
