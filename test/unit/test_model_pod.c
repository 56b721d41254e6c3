/* test_model_pod.c — pod definitions accepted or rejected as Marathon 1.10 does: every pod fixture
 * of ../shared/research/fixtures, and each PodsValidation rule with its message and path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/pod.h"

static json_t *fixture(const char *rel) {
        const char *env = getenv("STRATA_FIXTURES");
        const char *roots[] = { env ? env : "", "../shared/research/fixtures", "../../shared/research/fixtures",
                                "/work/shared/research/fixtures" };
        for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++) {
                char *path = NULL;
                if (!roots[r][0] || asprintf(&path, "%s/%s", roots[r], rel) < 0)
                        continue;
                json_t *doc = json_load_file(path, 0, NULL);
                free(path);
                if (doc)
                        return doc;
        }
        fail_msg("fixture %s not found: set STRATA_FIXTURES to .../shared/research/fixtures", rel);
        return NULL;
}

static bool has_error(const json_t *details, const char *path, const char *message) {
        size_t i;
        json_t *d;
        json_array_foreach(details, i, d) {
                if (strcmp(json_string_value(json_object_get(d, "path")), path) != 0)
                        continue;
                size_t k;
                json_t *m;
                json_array_foreach(json_object_get(d, "errors"), k, m) if (strstr(json_string_value(m), message)) return true;
        }
        return false;
}

static json_t *ok(json_t *in) {
        json_t *out = NULL;
        struct err e = { 0 };
        int r = pod_normalize(in, &out, &e);
        if (r < 0) {
                char *d = e.details ? json_dumps(e.details, JSON_COMPACT) : NULL;
                fail_msg("rejected: %s %s", err_msg(&e), d ? d : "");
        }
        json_decref(in);
        return out;
}

static void fails(json_t *in, int code, const char *path, const char *message) {
        json_t *out = NULL;
        struct err e = { 0 };
        int r = pod_normalize(in, &out, &e);
        if (r != code) {
                char *d = e.details ? json_dumps(e.details, JSON_COMPACT) : NULL;
                char *src = json_dumps(in, JSON_COMPACT);
                fail_msg("%s: expected %d (%s), got %d %s", src, code, message, r, d ? d : "");
        }
        assert_null(out);
        assert_string_equal(err_msg(&e), code == -ERR_INVALID ? "Object is not valid" : "Invalid JSON");
        if (!has_error(e.details, path, message)) {
                char *d = json_dumps(e.details, JSON_COMPACT);
                fail_msg("expected %s: %s, got %s", path, message, d);
        }
        err_release(&e);
        json_decref(in);
}

static json_t *parse(const char *s) {
        json_error_t je;
        json_t *j = json_loads(s, 0, &je);
        if (!j)
                fail_msg("bad test JSON: %s: %s", je.text, s);
        return j;
}

#define CT "{\"name\":\"web\",\"resources\":{\"cpus\":0.1,\"mem\":32},\"exec\":{\"command\":{\"shell\":\"sleep 1\"}}"
#define POD(...) parse("{\"id\":\"/p\",\"containers\":[" __VA_ARGS__ "]}")

static void marathon_system_test_pods_are_accepted(void **state) {
        json_t *p = ok(fixture("marathon/tests/system/pods/simple-pod.json"));
        assert_string_equal(json_string_value(json_object_get(p, "id")), "/simple-pod");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "scaling"), "instances")), 1);
        json_decref(p);
        /* lower-case "scheme": "http" and "protocol": ["http"]: the RAML reader takes enums in any
         * case; "containerPort": null and "name": null are absent */
        p = ok(fixture("marathon/tests/system/pods/ports-pod.json"));
        json_t *hc = json_object_get(json_array_get(json_object_get(p, "containers"), 0), "healthCheck");
        assert_string_equal(json_string_value(json_object_get(json_object_get(hc, "http"), "scheme")), "HTTP");
        assert_int_equal(json_integer_value(json_object_get(hc, "delaySeconds")), 15);
        json_decref(p);
        p = ok(fixture("marathon/tests/system/pods/container-bridge-pod.json"));
        json_decref(p);
}

static void the_api_docs_example_pod_is_rejected_for_its_health_check_timeout(void **state) {
        /* examples/pod.json: timeoutSeconds 20 with intervalSeconds 2 breaks PodsValidation's
         * "hc.timeoutSeconds should be < hc.intervalSeconds" */
        fails(fixture("marathon/docs/docs/rest-api/public/api/v2/examples/pod.json"), -ERR_INVALID,
              "/containers(0)/healthCheck/timeoutSeconds", "got 20, expected less than 2");
}

static void defaults_are_filled_in_and_unknown_fields_dropped(void **state) {
        json_t *p = ok(POD(CT ",\"unknown\":1}"));
        assert_null(json_object_get(p, "networks")); /* absent: the host network */
        assert_null(json_object_get(json_array_get(json_object_get(p, "containers"), 0), "unknown"));
        json_t *sched = json_object_get(p, "scheduling");
        assert_true(json_real_value(json_object_get(json_object_get(sched, "backoff"), "backoffFactor")) == 1.15);
        assert_string_equal(json_string_value(json_object_get(sched, "killSelection")), "YOUNGEST_FIRST");
        json_t *res = json_object_get(json_array_get(json_object_get(p, "containers"), 0), "resources");
        assert_int_equal(json_integer_value(json_object_get(res, "gpus")), 0);
        json_decref(p);
        /* an unnamed container network takes the default network name */
        p = ok(parse("{\"id\":\"/p\",\"networks\":[{}],\"containers\":[" CT ",\"endpoints\":[{\"name\":\"h\",\"containerPort\":80}]}]}"));
        assert_string_equal(json_string_value(json_object_get(p, "id")), "/p");
        json_t *net = json_array_get(json_object_get(p, "networks"), 0);
        assert_string_equal(json_string_value(json_object_get(net, "mode")), "container");
        assert_string_equal(json_string_value(json_object_get(net, "name")), "dcos");
        json_decref(p);
}

static void types_and_raml_facets_are_invalid_json(void **state) {
        fails(parse("{\"id\":\"/p\",\"containers\":[]}"), -ERR_BAD_JSON, "/containers", "error.minLength");
        fails(parse("{\"id\":\"/p\"}"), -ERR_BAD_JSON, "/containers", "error.path.missing");
        fails(POD("{\"name\":\"Web\",\"resources\":{\"cpus\":1,\"mem\":1}}"), -ERR_BAD_JSON, "/containers(0)/name",
              "error.pattern");
        fails(POD("{\"name\":\"w\",\"resources\":{\"cpus\":0,\"mem\":1}}"), -ERR_BAD_JSON,
              "/containers(0)/resources/cpus", "error.min");
        fails(POD("{\"name\":\"w\",\"resources\":{\"cpus\":1,\"mem\":\"1\"}}"), -ERR_BAD_JSON,
              "/containers(0)/resources/mem", "error.expected.jsnumber");
        fails(POD(CT ",\"image\":{\"kind\":\"APPC\",\"id\":\"x\"}}"), -ERR_BAD_JSON, "/containers(0)/image/kind",
              "error.expected.validenumvalue");
        fails(POD(CT ",\"endpoints\":[{\"name\":\"e\",\"containerPort\":70000}]}"), -ERR_BAD_JSON,
              "/containers(0)/endpoints(0)/containerPort", "error.max");
        fails(parse("{\"id\":\"/p\",\"environment\":{\"1X\":\"a\"},\"containers\":[" CT "}]}"), -ERR_BAD_JSON,
              "/environment", "error.pattern");
        fails(parse("{\"id\":\"/p\",\"scaling\":{\"kind\":\"fixed\",\"instances\":-1},\"containers\":[" CT "}]}"),
              -ERR_BAD_JSON, "/scaling/instances", "error.min");
        fails(parse("{\"id\":\"/p\",\"scheduling\":{\"upgrade\":{\"maximumOverCapacity\":2}},\"containers\":[" CT "}]}"),
              -ERR_BAD_JSON, "/scheduling/upgrade/maximumOverCapacity", "error.max");
        fails(POD(CT ",\"exec\":{\"command\":{}}}"), -ERR_BAD_JSON, "/containers(0)/exec/command/shell",
              "error.path.missing");
}

static void pods_validation_rules(void **state) {
        fails(parse("{\"id\":\"p/Q\",\"containers\":[" CT "}]}"), -ERR_INVALID, "/id", "Path needs to be absolute");
        fails(parse("{\"id\":\"/p/Q\",\"containers\":[" CT "}]}"), -ERR_INVALID, "/id", "must fully match");
        fails(POD(CT "}," CT "}"), -ERR_INVALID, "/containers", "container names must be unique");
        fails(POD(CT ",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"m\"}]}"), -ERR_INVALID,
              "/containers(0)/volumeMounts(0)/name", "Referenced Volume in VolumeMount should exist");
        fails(parse("{\"id\":\"/p\",\"volumes\":[{\"name\":\"v\"}],\"containers\":[" CT "}]}"), -ERR_INVALID,
              "/volumes(0)", "volume must be referenced by at least one container");
        /* with the host network named (absent networks are only defaulted to host afterwards) */
        fails(parse("{\"id\":\"/p\",\"networks\":[{\"mode\":\"host\"}],\"containers\":[" CT
                    ",\"endpoints\":[{\"name\":\"e\",\"containerPort\":80}]}]}"),
              -ERR_INVALID, "/containers(0)/endpoints(0)/containerPort", "is not allowed when using host-mode networking");
        fails(parse("{\"id\":\"/p\",\"networks\":[{\"mode\":\"container\",\"name\":\"n\"}],\"containers\":[" CT
                    ",\"endpoints\":[{\"name\":\"e\"}]}]}"),
              -ERR_INVALID, "/containers(0)/endpoints(0)/containerPort", "is required when using container-mode");
        fails(POD(CT ",\"endpoints\":[{\"name\":\"e\",\"protocol\":[\"tcp\",\"tcp\"]}]}"), -ERR_INVALID,
              "/containers(0)/endpoints(0)/protocol", "Duplicate protocols");
        fails(POD(CT ",\"endpoints\":[{\"name\":\"e\",\"hostPort\":80}]}," "{\"name\":\"b\",\"resources\":{\"cpus\":1,"
                  "\"mem\":1},\"endpoints\":[{\"name\":\"e\",\"hostPort\":80}]}"),
              -ERR_INVALID, "/", "host ports must be unique across all containers");
        fails(POD(CT ",\"healthCheck\":{\"tcp\":{\"endpoint\":\"nope\"}}}"), -ERR_INVALID,
              "/containers(0)/healthCheck/tcp/endpoint", "contained in the container endpoints");
        fails(POD(CT ",\"endpoints\":[{\"name\":\"e\"}],\"healthCheck\":{\"tcp\":{\"endpoint\":\"e\"},\"http\":"
                  "{\"endpoint\":\"e\"}}}"),
              -ERR_INVALID, "/containers(0)/healthCheck", "Only one of http, tcp, or command may be specified");
        fails(parse("{\"id\":\"/p\",\"networks\":[{\"mode\":\"host\",\"name\":\"x\"}],\"containers\":[" CT "}]}"),
              -ERR_INVALID, "/networks", "Host networks may not have names or labels");
        fails(parse("{\"id\":\"/p\",\"networks\":[{\"mode\":\"host\"},{\"mode\":\"container/bridge\"}],"
                    "\"containers\":[" CT "}]}"),
              -ERR_INVALID, "/networks", "May specify a single host network");
        fails(parse("{\"id\":\"/p\",\"scheduling\":{\"placement\":{\"constraints\":[{\"fieldName\":\"hostname\","
                    "\"operator\":\"MAX_PER\",\"value\":\"x\"}]}},\"containers\":[" CT "}]}"),
              -ERR_INVALID, "/scheduling/placement/constraints(0)", "MAX_PER requires an integer value");
        fails(parse("{\"id\":\"/p\",\"secrets\":{\"s\":{\"source\":\"x\"}},\"containers\":[" CT "}]}"), -ERR_INVALID,
              "/secrets", "must be empty");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(marathon_system_test_pods_are_accepted),
                cmocka_unit_test(the_api_docs_example_pod_is_rejected_for_its_health_check_timeout),
                cmocka_unit_test(defaults_are_filled_in_and_unknown_fields_dropped),
                cmocka_unit_test(types_and_raml_facets_are_invalid_json),
                cmocka_unit_test(pods_validation_rules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
