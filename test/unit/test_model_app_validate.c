/* test_model_app_validate.c — every validation message of the app definition, with Marathon's
 * paths, and the Play-JSON type errors. */
#include "test_model_app.h"

/* ---- type errors: "Invalid JSON" ---- */

static void wrong_json_types_get_play_error_keys(void **state) {
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"cpus\":\"1\"}", "/cpus", "error.expected.jsnumber");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":5}", "/cmd", "error.expected.jsstring");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"requirePorts\":\"yes\"}", "/requirePorts",
                        "error.expected.jsboolean");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"args\":\"x\"}", "/args", "error.expected.jsarray");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"labels\":[]}", "/labels", "error.expected.jsobject");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"labels\":{\"a\":1}}", "/labels/a", "error.expected.jsstring");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":1.5}", "/instances", "error.expected.int");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":3000000000}", "/instances", "error.expected.int");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":2147483648}", "/instances", "error.expected.int");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":"
                        "9.3e18}}",
                        "/unreachableStrategy/inactiveAfterSeconds", "error.expected.long");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":"
                        "9223372036854775808.0}}",
                        "/unreachableStrategy/inactiveAfterSeconds", "error.expected.long");
        json_decref(norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":2147483647.0,\"unreachableStrategy\":{"
                            "\"inactiveAfterSeconds\":1,\"expungeAfterSeconds\":9223372036854775807}}"));
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"killSelection\":\"RANDOM\"}", "/killSelection",
                        "error.expected.validenumvalue");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"protocol\":\"sctp\"}]}",
                        "/portDefinitions(0)/protocol", "error.expected.validenumvalue");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"protocol\":\"UDP\"}]}",
                        "/healthChecks(0)/protocol", "error.expected.validenumvalue");
        expect_bad_json("{\"id\":\"/a\",\"container\":{\"type\":\"RKT\"}}", "/container/type",
                        "error.expected.validenumvalue");
        expect_bad_json("{\"id\":\"/a\",\"container\":{\"docker\":{}}}", "/container/docker/image",
                        "error.path.missing");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":\"enabled\"}", "/unreachableStrategy",
                        "error.expected.validenumvalue");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":5}", "/unreachableStrategy",
                        "error.expected.jsobject");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"env\":{\"A\":1}}", "/env/A", "error.expected.jsstring");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"env\":{\"A\":{\"secret\":1}}}", "/env/A/secret",
                        "error.expected.jsstring");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"constraints\":[[\"a\",1]]}", "/constraints(0)(1)",
                        "error.expected.jsstring");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"x y\",\"fetch\":[{}]}", "/fetch(0)/uri", "error.path.missing");
        expect_bad_json("[]", "/", "error.expected.jsobject");
}

static void every_type_error_is_reported(void **state) {
        json_t *d = norm_fail("{\"id\":\"/a\",\"cpus\":\"x\",\"mem\":\"y\",\"healthChecks\":[{\"portIndex\":\"0\"}]}",
                              -ERR_BAD_JSON, "Invalid JSON");
        assert_int_equal(json_array_size(d), 3);
        assert_true(has_error(d, "/cpus", "error.expected.jsnumber"));
        assert_true(has_error(d, "/mem", "error.expected.jsnumber"));
        assert_true(has_error(d, "/healthChecks(0)/portIndex", "error.expected.jsnumber"));
        json_decref(d);
}

/* ---- what to run ---- */

static void cmd_args_container_rule(void **state) {
        const char *msg = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";
        expect_invalid("{\"id\":\"/a\"}", "/", msg);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"args\":[\"x\"]}", "/", msg);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"args\":[\"x\"],\"container\":{\"docker\":{\"image\":\"i\"}}}",
                       "/", msg);
        json_decref(norm_ok("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\"}}}"));
        json_decref(norm_ok("{\"id\":\"/a\",\"args\":[\"x\"],\"container\":{\"docker\":{\"image\":\"i\"}}}"));
        json_decref(norm_ok("{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\"}}"));
        /* Marathon's rule (AppValidation: cmd.forall(_.length() > 1)) is on the app, so at "/"; an
         * empty cmd fails the RAML reader's minLength first, at /cmd. */
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x\"}", "/", "must not be an empty string");
        expect_bad_json("{\"id\":\"/a\",\"cmd\":\"\"}", "/cmd", "error.minLength");
        json_decref(norm_ok("{\"id\":\"/a\",\"cmd\":\"xy\"}"));
}

static void resources_must_not_be_negative(void **state) {
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":-3}", "/instances", "got -3, expected 0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"cpus\":-3}", "/cpus", "got -3.0, expected 0.0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"mem\":-3.5}", "/mem", "got -3.5, expected 0.0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"disk\":-1}", "/disk", "got -1.0, expected 0.0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"gpus\":-3}", "/gpus", "got -3, expected 0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"backoffSeconds\":-1}", "/backoffSeconds",
                       "got -1, expected 0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"backoffFactor\":0.5}", "/backoffFactor",
                       "got 0.5, expected 1.0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"maxLaunchDelaySeconds\":-1}", "/maxLaunchDelaySeconds",
                       "got -1, expected 0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"taskKillGracePeriodSeconds\":-1}",
                       "/taskKillGracePeriodSeconds", "got -1, expected 0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"gpus\":1,\"container\":{\"docker\":{\"image\":\"i\"}}}", "/",
                       "GPU resources only work with the Mesos containerizer");
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":0,\"cpus\":0.25,\"gpus\":1,"
                            "\"backoffSeconds\":0,\"backoffFactor\":1}");
        expect_at(a, "instances", "0");
        expect_at(a, "cpus", "0.25");
        expect_at(a, "gpus", "1");
        json_decref(a);
}

static void executor_pattern(void **state) {
        const char *msg = "must fully match regular expression '^(//cmd)|(/?[^/]+(/[^/]+)*)|$'";
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"executor\":\"/test/\"}", "/executor", msg);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"executor\":\"/test//path\"}", "/executor", msg);
        const char *ok[] = {"//cmd", "", "/opt/exec", "exec", "a/b/c"};
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
                char src[128];
                snprintf(src, sizeof src, "{\"id\":\"/a\",\"cmd\":\"x y\",\"executor\":\"%s\"}", ok[i]);
                json_decref(norm_ok(src));
        }
}

/* ---- strategies ---- */

static void upgrade_strategy_bounds_and_defaults(void **state) {
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"upgradeStrategy\":{\"minimumHealthCapacity\":1.2,"
                       "\"maximumOverCapacity\":0}}",
                       "/upgradeStrategy/minimumHealthCapacity", "got 1.2, expected between 0.0 and 1.0");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"upgradeStrategy\":{\"minimumHealthCapacity\":0,"
                       "\"maximumOverCapacity\":-1.2}}",
                       "/upgradeStrategy/maximumOverCapacity", "got -1.2, expected between 0.0 and 1.0");
        /* a partial object defaults the missing key to 1.0 (Marathon ≤1.4) */
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"upgradeStrategy\":{\"minimumHealthCapacity\":0.5}}");
        expect_at(a, "upgradeStrategy", "{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":1}");
        json_decref(a);
        a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"upgradeStrategy\":{}}");
        expect_at(a, "upgradeStrategy", "{\"minimumHealthCapacity\":1,\"maximumOverCapacity\":1}");
        json_decref(a);
}

static void single_instance_label(void **state) {
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":2,\"labels\":{\"MARATHON_SINGLE_INSTANCE_APP\":"
                       "\"true\"}}",
                       "/", "Single instance app may only have one instance");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"labels\":{\"MARATHON_SINGLE_INSTANCE_APP\":\"true\"},"
                       "\"upgradeStrategy\":{\"minimumHealthCapacity\":1,\"maximumOverCapacity\":0}}",
                       "/upgradeStrategy/minimumHealthCapacity", "got 1.0, expected 0.0");
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"labels\":{\"MARATHON_SINGLE_INSTANCE_APP\":\"true\"}}");
        expect_at(a, "upgradeStrategy", "{\"minimumHealthCapacity\":0,\"maximumOverCapacity\":0}");
        json_decref(a);
}

static void unreachable_strategy(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":\"disabled\"}");
        expect_at(a, "unreachableStrategy", "\"disabled\"");
        json_decref(a);
        /* expungeAfterSeconds defaults to 0, so an inactive time alone is out of order */
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":60}}",
                       "/unreachableStrategy/inactiveAfterSeconds",
                       "inactiveAfterSeconds (60) must be less or equal to expungeAfterSeconds, which is 0");
        a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":{}}");
        expect_at(a, "unreachableStrategy", "{\"inactiveAfterSeconds\":0,\"expungeAfterSeconds\":0}");
        json_decref(a);
}

static void unreachable_strategy_order(void **state) {
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":600,"
                       "\"expungeAfterSeconds\":300}}",
                       "/unreachableStrategy/inactiveAfterSeconds",
                       "inactiveAfterSeconds (600) must be less or equal to expungeAfterSeconds, which is 300");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":-1,"
                       "\"expungeAfterSeconds\":300}}",
                       "/unreachableStrategy/inactiveAfterSeconds",
                       "inactiveAfterSeconds (-1) must be greater than or equal to 0");
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":300,"
                            "\"expungeAfterSeconds\":600}}");
        expect_at(a, "unreachableStrategy", "{\"inactiveAfterSeconds\":300,\"expungeAfterSeconds\":600}");
        json_decref(a);
}

/* ---- constraints ---- */

static void constraint_messages(void **state) {
        struct {
                const char *c, *msg;
        } cases[] = {
                {"[\"hostname\"]", "Each constraint must have either 2 or 3 fields"},
                {"[\"a\",\"b\",\"c\",\"d\"]", "Each constraint must have either 2 or 3 fields"},
                {"[\"\",\"UNIQUE\"]", "illegal constraint specification"},
                {"[\"hostname\",\"SOMETIMES\"]",
                 "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS"},
                {"[\"hostname\",\"UNIQUE\",\"x\"]", "UNIQUE does not accept a value"},
                {"[\"rack\",\"GROUP_BY\",\"two\"]", "GROUP BY must define an integer value or else no value at all"},
                {"[\"rack\",\"MAX_PER\"]", "MAX_PER requires an integer value"},
                {"[\"rack\",\"MAX_PER\",\"1.5\"]", "MAX_PER requires an integer value"},
                {"[\"rack\",\"LIKE\"]", "LIKE and UNLIKE require a non-empty, regular expression value"},
                {"[\"rack\",\"UNLIKE\",\"(a\"]", "is not a valid regular expression"},
                {"[\"rack\",\"LIKE\",\"[z-a]\"]", "is not a valid regular expression"},
                {"[\"rack\",\"IS\",\"a b\"]", "IS only supports Mesos text and float values (see "
                                              "http://mesos.apache.org/documentation/latest/attributes-resources/)"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                char src[256];
                snprintf(src, sizeof src, "{\"id\":\"/a\",\"cmd\":\"x y\",\"constraints\":[[\"h\",\"UNIQUE\"],%s]}",
                         cases[i].c);
                expect_invalid(src, "/constraints(1)", cases[i].msg);
        }
}

static void constraints_are_upper_cased_and_deduplicated(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"constraints\":[[\"hostname\",\"unique\"],"
                            "[\"rack\",\"group_by\",\"3\"],[\"rack\",\"Group_By\",\"3\"],[\"zone\",\"like\",\"us-.*\"],"
                            "[\"zone\",\"cluster\"],[\"h\",\"max_per\",\"-2\"],[\"a\",\"is\",\"1.5\"],"
                            "[\"@region\",\"UNLIKE\",\"eu.*\"]]}");
        expect_at(a, "constraints",
                  "[[\"hostname\",\"UNIQUE\"],[\"rack\",\"GROUP_BY\",\"3\"],[\"zone\",\"LIKE\",\"us-.*\"],"
                  "[\"zone\",\"CLUSTER\"],[\"h\",\"MAX_PER\",\"-2\"],[\"a\",\"IS\",\"1.5\"],"
                  "[\"@region\",\"UNLIKE\",\"eu.*\"]]");
        json_decref(a);
}

/* ---- health and readiness checks ---- */

static void health_checks_get_every_default(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{},{\"protocol\":\"TCP\",\"port\":8080},"
                            "{\"protocol\":\"COMMAND\",\"command\":{\"value\":\"true\"}},{\"protocol\":\"MESOS_HTTP\","
                            "\"path\":\"/ping\"}]}");
        expect_at(a, "healthChecks/0",
                  "{\"protocol\":\"HTTP\",\"portIndex\":0,\"gracePeriodSeconds\":300,\"intervalSeconds\":60,"
                  "\"timeoutSeconds\":20,\"maxConsecutiveFailures\":3,\"delaySeconds\":15,\"ignoreHttp1xx\":false}");
        expect_at(a, "healthChecks/1",
                  "{\"protocol\":\"TCP\",\"port\":8080,\"gracePeriodSeconds\":300,\"intervalSeconds\":60,"
                  "\"timeoutSeconds\":20,\"maxConsecutiveFailures\":3,\"delaySeconds\":15}");
        expect_at(a, "healthChecks/2",
                  "{\"protocol\":\"COMMAND\",\"command\":{\"value\":\"true\"},\"gracePeriodSeconds\":300,"
                  "\"intervalSeconds\":60,\"timeoutSeconds\":20,\"maxConsecutiveFailures\":3,\"delaySeconds\":15}");
        expect_at(a, "healthChecks/3",
                  "{\"protocol\":\"MESOS_HTTP\",\"path\":\"/ping\",\"portIndex\":0,\"gracePeriodSeconds\":300,"
                  "\"intervalSeconds\":60,\"timeoutSeconds\":20,\"maxConsecutiveFailures\":3,\"delaySeconds\":15,"
                  "\"ipProtocol\":\"IPv4\"}");
        json_decref(a);
}

static void health_check_port_index_must_exist(void **state) {
        const char *msg = "Health check port indices must address an element of the ports array or container port "
                          "mappings.";
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"portIndex\":1}]}",
                       "/healthChecks(0)/portIndex", msg);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[],\"healthChecks\":[{}]}",
                       "/healthChecks(0)", msg);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[],\"healthChecks\":[{\"protocol\":\"TCP\","
                       "\"portIndex\":0}]}",
                       "/healthChecks(0)/portIndex", msg);
        /* a fixed port, a command, or a Mesos check need no port index */
        json_decref(norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[],\"healthChecks\":[{\"port\":80}]}"));
        json_decref(norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[],\"healthChecks\":[{\"protocol\":"
                            "\"COMMAND\",\"command\":{\"value\":\"true\"}}]}"));
        json_decref(norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{},{}],\"healthChecks\":[{"
                            "\"portIndex\":1}]}"));
}

static void health_check_rules(void **state) {
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"protocol\":\"MESOS_HTTP\"},{\"protocol\":"
                       "\"MESOS_TCP\"}]}",
                       "/", "AppDefinition can contain at most one Mesos health check");
        /* several COMMAND checks stay valid (older Marathons allowed them) */
        json_decref(norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"protocol\":\"COMMAND\",\"command\":{"
                            "\"value\":\"a\"}},{\"protocol\":\"COMMAND\",\"command\":{\"value\":\"b\"}}]}"));
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"ipProtocol\":\"IPv6\"}]}", "/healthChecks(0)",
                       "IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"protocol\":\"COMMAND\"}]}",
                       "/healthChecks(0)/command",
                       "A command is required when using the COMMAND health check protocol.");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"gracePeriodSeconds\":-1}]}",
                       "/healthChecks(0)/gracePeriodSeconds", "got -1, expected 0 or more");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"port\":70000}]}", "/healthChecks(0)/port",
                       "got 70000, expected between 0 and 65535");
}

static void readiness_checks(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"name\":\"http-api\"}],"
                            "\"readinessChecks\":[{}]}");
        expect_at(a, "readinessChecks",
                  "[{\"name\":\"readinessCheck\",\"protocol\":\"HTTP\",\"path\":\"/\",\"portName\":\"http-api\","
                  "\"intervalSeconds\":30,\"timeoutSeconds\":10,\"httpStatusCodesForReady\":[200],"
                  "\"preserveLastResponse\":false}]");
        json_decref(a);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"readinessChecks\":[{\"portName\":\"web\"}]}",
                       "/readinessChecks(0)/portName", "No port definition reference for portName web");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"readinessChecks\":[{\"portName\":\"default\","
                       "\"intervalSeconds\":5,\"timeoutSeconds\":5}]}",
                       "/readinessChecks(0)/timeoutSeconds", "got 5, expected less than 5");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"readinessChecks\":[{\"portName\":\"default\"},{\"portName\":"
                       "\"default\"}]}",
                       "/readinessChecks", "got 2, expected 1 or less");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"readinessChecks\":[{\"portName\":\"default\","
                       "\"httpStatusCodesForReady\":[42]}]}",
                       "/readinessChecks(0)/httpStatusCodesForReady(0)", "got 42, expected between 100 and 999");
}

/* ---- ports and networks ---- */

static void port_definitions(void **state) {
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
                       "/portDefinitions", "Port names must be unique.");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":80},{\"port\":80}]}",
                       "/portDefinitions", "Ports must be unique.");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"name\":\"Web_1\"}]}",
                       "/portDefinitions(0)/name",
                       "must fully match regular expression '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":65536}]}",
                       "/portDefinitions(0)/port", "got 65536, expected between 0 and 65535");
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[],\"requirePorts\":true}");
        expect_at(a, "portDefinitions", "[]");
        expect_at(a, "requirePorts", "true");
        json_decref(a);
        a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":0},{\"port\":0,\"protocol\":"
                    "\"udp,tcp\",\"labels\":{\"VIP_0\":\"/a:80\"}}]}");
        expect_at(a, "portDefinitions",
                  "[{\"port\":0,\"protocol\":\"tcp\"},{\"port\":0,\"protocol\":\"udp,tcp\",\"labels\":{\"VIP_0\":"
                  "\"/a:80\"}}]");
        json_decref(a);
}

static void networks(void **state) {
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"networks\":[{\"mode\":\"host\"},{\"mode\":"
                       "\"container/bridge\"}]}",
                       "/networks",
                       "May specify a single host network, single bridge network, or else 1-to-n container networks");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"networks\":[{\"mode\":\"host\",\"name\":\"x\"}]}", "/networks",
                       "Host networks may not have names or labels");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"networks\":[{\"mode\":\"container/bridge\",\"name\":\"x\"}]}",
                       "/networks", "Bridge networks may not have names");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"networks\":[{\"name\":\"x\"},{\"name\":\"x\"}]}", "/networks",
                       "Duplicate networks are not allowed");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"networks\":[{\"mode\":\"container\"}]}", "/networks",
                       "Network name must be specified when container network is selected.");
        expect_invalid("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\"}},\"networks\":[{\"name\":\"a\"},"
                       "{\"name\":\"b\"}]}",
                       "/", "may only specify a single container network when using the Docker container engine");
        expect_invalid("{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"portMappings\":[{\"containerPort\":80,"
                       "\"hostPort\":0}]},\"networks\":[{\"name\":\"a\"},{\"name\":\"b\"}]}",
                       "/container/portMappings(0)",
                       "networkNames must be a single item list when hostPort is specified and more than 1 "
                       "container network is defined");
        expect_invalid("{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"portMappings\":[{\"containerPort\":80,"
                       "\"networkNames\":[\"c\"]}]},\"networks\":[{\"name\":\"a\"}]}",
                       "/container/portMappings(0)/networkNames(0)", "is not one of [\"a\"]");

        /* a bridge network defaults the container, its mapping and the mapping's host port */
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"networks\":[{\"mode\":\"container/bridge\"}],"
                            "\"portDefinitions\":[{\"port\":80}],\"requirePorts\":true}");
        expect_at(a, "container",
                  "{\"type\":\"MESOS\",\"volumes\":[],\"portMappings\":[{\"containerPort\":0,\"hostPort\":0,"
                  "\"servicePort\":0,\"protocol\":\"tcp\",\"name\":\"default\",\"labels\":{}}]}");
        assert_null(json_object_get(a, "portDefinitions"));
        expect_at(a, "requirePorts", "false");
        json_decref(a);
        /* container mode: no host port unless asked for */
        a = norm_ok("{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"portMappings\":[{\"containerPort\":80,"
                    "\"name\":\"web\"}]},\"cmd\":\"x y\",\"networks\":[{\"mode\":\"container\",\"name\":\"dcos\"}]}");
        expect_at(a, "container/portMappings",
                  "[{\"containerPort\":80,\"servicePort\":0,\"protocol\":\"tcp\",\"name\":\"web\",\"labels\":{}}]");
        json_decref(a);
        /* host mode drops port mappings */
        a = norm_ok("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\"},\"portMappings\":[{\"containerPort\":"
                    "80}]}}");
        assert_null(json_object_get(json_object_get(a, "container"), "portMappings"));
        expect_at(a, "portDefinitions", "[{\"port\":0,\"name\":\"default\",\"protocol\":\"tcp\"}]");
        json_decref(a);
}

/* ---- container ---- */

static void container_rules(void **state) {
        expect_invalid("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"\"}}}", "/container/docker/image",
                       "must not be empty");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"DOCKER\"}}", "/container/docker",
                       "must not be empty");
        expect_invalid("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"pullConfig\":{\"secret\":\"s\"}}},"
                       "\"secrets\":{\"s\":{\"source\":\"x\"}}}",
                       "/container/docker/pullConfig", "pullConfig is not supported with Docker containerizer");
        expect_invalid("{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"docker\":{\"image\":\"i\",\"pullConfig\":{"
                       "\"secret\":\"s\"}}}}",
                       "/container/docker/pullConfig", "pullConfig.secret must refer to an existing secret");
        expect_invalid("{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"docker\":{\"image\":\"i\",\"parameters\":["
                       "{\"key\":\"a\",\"value\":\"b\"}]}}}",
                       "/container/docker/parameters", "must be empty");
        expect_invalid("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"credential\":{\"principal\":\"p\"}"
                       "}}}",
                       "/container/docker/credential", "must be empty");
        json_t *a = norm_ok("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"parameters\":[{\"key\":"
                            "\"label\",\"value\":\"x=y\"}],\"privileged\":true}}}");
        expect_at(a, "container",
                  "{\"type\":\"DOCKER\",\"docker\":{\"image\":\"i\",\"forcePullImage\":false,\"privileged\":true,"
                  "\"parameters\":[{\"key\":\"label\",\"value\":\"x=y\"}]},\"volumes\":[]}");
        json_decref(a);
}

static void volumes(void **state) {
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                       "\"containerPath\":\"/x\",\"mode\":\"RO\"}]}}",
                       "/container/volumes(0)/hostPath", "must not be empty");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                       "\"containerPath\":\"/data\",\"persistent\":{\"size\":1}}]}}",
                       "/container/volumes(0)/containerPath", "value must not contain \"/\"");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                       "\"containerPath\":\"data\",\"persistent\":{\"size\":0}}]}}",
                       "/container/volumes(0)/persistent/size", "got 0, expected more than 0");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                       "\"containerPath\":\"data\",\"persistent\":{\"size\":1,\"maxSize\":5}}]}}",
                       "/container/volumes(0)/persistent", "Only mount volumes can have maxSize");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                       "\"containerPath\":\"data\",\"persistent\":{\"type\":\"mount\",\"size\":10,\"maxSize\":5}}]}}",
                       "/container/volumes(0)/persistent", "Max size must be larger than size");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                       "\"containerPath\":\"data\",\"persistent\":{\"size\":1,\"constraints\":[[\"path\",\"LIKE\","
                       "\"x\"]]}}]}}",
                       "/container/volumes(0)/persistent", "Constraints on root volumes are not supported");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                       "\"containerPath\":\"data\",\"persistent\":{\"type\":\"path\",\"size\":1,\"constraints\":[["
                       "\"path\",\"UNIQUE\",\"x\"]]}}]}}",
                       "/container/volumes(0)/persistent/constraints(0)", "Operator must be one of LIKE, UNLIKE");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                       "\"containerPath\":\"s\",\"secret\":\"nope\"}]}}",
                       "/container/volumes(0)", "volume.secret must refer to an existing secret");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                       "\"containerPath\":\"a\",\"external\":{\"name\":\"v\",\"provider\":\"dvdi\"}},{"
                       "\"containerPath\":\"b\",\"external\":{\"name\":\"v\",\"provider\":\"dvdi\"}}]}}",
                       "/container/volumes", "Volume names must be unique");
}

static void resident_apps(void **state) {
        const char *vol = "\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"data\",\"mode\":\"RW\","
                          "\"persistent\":{\"size\":10}}]}";
        char src[512];
        snprintf(src, sizeof src, "{\"id\":\"/db\",\"cmd\":\"x y\",%s}", vol);
        json_t *a = norm_ok(src);
        expect_at(a, "upgradeStrategy", "{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":0}");
        expect_at(a, "unreachableStrategy", "\"disabled\"");
        expect_at(a, "residency", "{\"relaunchEscalationTimeoutSeconds\":3600,\"taskLostBehavior\":\"WAIT_FOREVER\"}");
        expect_at(a, "container/volumes/0",
                  "{\"containerPath\":\"data\",\"mode\":\"RW\",\"persistent\":{\"type\":\"root\",\"size\":10,"
                  "\"constraints\":[]}}");
        json_decref(a);
        /* external volumes default the upgrade strategy the same way, but may be unreachable */
        a = norm_ok("{\"id\":\"/ext\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{"
                    "\"containerPath\":\"v\",\"mode\":\"RW\",\"external\":{\"name\":\"v1\",\"provider\":\"dvdi\","
                    "\"options\":{\"dvdi/driver\":\"rexray\"}}}]}}");
        expect_at(a, "upgradeStrategy", "{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":0}");
        expect_at(a, "unreachableStrategy", "{\"inactiveAfterSeconds\":0,\"expungeAfterSeconds\":0}");
        assert_null(json_object_get(a, "residency"));
        json_decref(a);
        snprintf(src, sizeof src,
                 "{\"id\":\"/db\",\"cmd\":\"x y\",%s,\"unreachableStrategy\":{\"inactiveAfterSeconds\":0}}", vol);
        expect_invalid(src, "/", "unreachableStrategy must be disabled for resident tasks");
        snprintf(src, sizeof src,
                 "{\"id\":\"/db\",\"cmd\":\"x y\",%s,\"upgradeStrategy\":{\"minimumHealthCapacity\":0.5,"
                 "\"maximumOverCapacity\":0.5}}",
                 vol);
        expect_invalid(src, "/upgradeStrategy/maximumOverCapacity", "got 0.5, expected 0.0");
        snprintf(src, sizeof src, "{\"id\":\"/db\",\"cmd\":\"x y\",%s,\"acceptedResourceRoles\":[\"slave_public\"]}",
                 vol);
        expect_invalid(src, "/acceptedResourceRoles", "A resident app must have `acceptedResourceRoles = [\"*\"]`.");
}

/* ---- env, secrets, fetch, labels, roles ---- */

static void env_and_secrets(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"env\":{\"A\":\"1\",\"PW\":{\"secret\":\"pw\"}},"
                            "\"secrets\":{\"pw\":{\"source\":\"/db/pw\"}}}");
        expect_at(a, "env", "{\"A\":\"1\",\"PW\":{\"secret\":\"pw\"}}");
        expect_at(a, "secrets", "{\"pw\":{\"source\":\"/db/pw\"}}");
        json_decref(a);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"env\":{\"PW\":{\"secret\":\"nope\"}}}", "/env/PW",
                       "references an undefined secret");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"env\":{\"\":\"x\"}}", "/env", "must not be empty");
}

static void fetch_uris(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"fetch\":[{\"uri\":\"http://x/a.tgz\"},{\"uri\":"
                            "\"http://x/b\",\"extract\":false,\"executable\":true,\"cache\":true,\"destPath\":\"c\"}]}");
        expect_at(a, "fetch",
                  "[{\"uri\":\"http://x/a.tgz\",\"extract\":true,\"executable\":false,\"cache\":false},"
                  "{\"uri\":\"http://x/b\",\"extract\":false,\"executable\":true,\"cache\":true,\"destPath\":\"c\"}]");
        json_decref(a);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"fetch\":[{\"uri\":\"\"}]}", "/fetch(0)/uri",
                       "must not be empty");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"fetch\":[{\"uri\":\"http://x/a b\"}]}", "/fetch(0)/uri",
                       "URI has invalid syntax.");
        char big[1200 + 100];
        memset(big, 'a', sizeof big);
        int n = snprintf(big, sizeof big, "{\"id\":\"/a\",\"cmd\":\"x y\",\"fetch\":[{\"uri\":\"");
        memset(big + n, 'a', 1025);
        snprintf(big + n + 1025, sizeof big - (size_t)n - 1025, "\"}]}");
        expect_invalid(big, "/fetch(0)/uri", "got 1025 characters, expected 1024 or less");
}

static void roles_and_labels(void **state) {
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"acceptedResourceRoles\":[]}", "/acceptedResourceRoles",
                       "must not be empty");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"acceptedResourceRoles\":[\"a b\"]}",
                       "/acceptedResourceRoles(0)", "A role name must not include a space (\\x20) character.");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"role\":\"-x\"}", "/role", "A role name must not start with a '-'.");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"labels\":{\"DCOS_MIGRATION_API_VERSION\":\"v1\"}}", "/",
                       "DCOS_PACKAGE_FRAMEWORK_NAME and DCOS_MIGRATION_API_PATH must be defined when using "
                       "DCOS_MIGRATION_API_VERSION");
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"acceptedResourceRoles\":[\"slave_public\",\"*\"],"
                            "\"role\":\"prod\",\"labels\":{\"HAPROXY_GROUP\":\"external\"}}");
        expect_at(a, "acceptedResourceRoles", "[\"slave_public\",\"*\"]");
        expect_at(a, "role", "\"prod\"");
        expect_at(a, "labels", "{\"HAPROXY_GROUP\":\"external\"}");
        json_decref(a);
}

static void resource_limits(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"cpus\":1,\"resourceLimits\":{\"cpus\":\"unlimited\","
                            "\"mem\":256}}");
        expect_at(a, "resourceLimits", "{\"cpus\":\"unlimited\",\"mem\":256}");
        json_decref(a);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"resourceLimits\":{\"cpus\":\"lots\"}}", "/resourceLimits/cpus",
                       "'lots' is an invalid resource limit. It must be 'unlimited' or a number");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"resourceLimits\":{\"mem\":64}}", "/resourceLimits/mem",
                       "resource limit must be greater than or equal to requested resource (128.0)");
}

/* ---- bounds ---- */

static void oversized_collections_are_refused(void **state) {
        size_t cap = 64 * 1024;
        char *src = malloc(cap);
        size_t n = (size_t)snprintf(src, cap, "{\"id\":\"/a\",\"cmd\":\"x y\",\"labels\":{");
        for (int i = 0; i < 1001; i++)
                n += (size_t)snprintf(src + n, cap - n, "%s\"k%d\":\"v\"", i ? "," : "", i);
        snprintf(src + n, cap - n, "}}");
        expect_invalid(src, "/labels", "must not have more than 1000 elements");
        n = (size_t)snprintf(src, cap, "{\"id\":\"/a\",\"cmd\":\"x y\",\"constraints\":[");
        for (int i = 0; i < 1001; i++)
                n += (size_t)snprintf(src + n, cap - n, "%s[\"h\",\"UNIQUE\"]", i ? "," : "");
        snprintf(src + n, cap - n, "]}");
        expect_invalid(src, "/constraints", "must not have more than 1000 elements");
        /* exactly 1000 is fine */
        n = (size_t)snprintf(src, cap, "{\"id\":\"/a\",\"cmd\":\"x y\",\"env\":{");
        for (int i = 0; i < 1000; i++)
                n += (size_t)snprintf(src + n, cap - n, "%s\"E%d\":\"v\"", i ? "," : "", i);
        snprintf(src + n, cap - n, "}}");
        json_decref(norm_ok(src));
        free(src);
}

static void all_semantic_errors_are_collected(void **state) {
        json_t *d = norm_fail("{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":-1,\"cpus\":-1,\"upgradeStrategy\":{"
                              "\"minimumHealthCapacity\":2,\"maximumOverCapacity\":2},\"constraints\":[[\"a\"]]}",
                              -ERR_INVALID, "Object is not valid");
        assert_true(has_error(d, "/instances", "got -1, expected 0 or more"));
        assert_true(has_error(d, "/cpus", "got -1.0, expected 0.0 or more"));
        assert_true(has_error(d, "/upgradeStrategy/minimumHealthCapacity", "got 2.0, expected between 0.0 and 1.0"));
        assert_true(has_error(d, "/upgradeStrategy/maximumOverCapacity", "got 2.0, expected between 0.0 and 1.0"));
        assert_true(has_error(d, "/constraints(0)", "Each constraint must have either 2 or 3 fields"));
        json_decref(d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(wrong_json_types_get_play_error_keys),
                cmocka_unit_test(every_type_error_is_reported),
                cmocka_unit_test(cmd_args_container_rule),
                cmocka_unit_test(resources_must_not_be_negative),
                cmocka_unit_test(executor_pattern),
                cmocka_unit_test(upgrade_strategy_bounds_and_defaults),
                cmocka_unit_test(single_instance_label),
                cmocka_unit_test(unreachable_strategy),
                cmocka_unit_test(unreachable_strategy_order),
                cmocka_unit_test(constraint_messages),
                cmocka_unit_test(constraints_are_upper_cased_and_deduplicated),
                cmocka_unit_test(health_checks_get_every_default),
                cmocka_unit_test(health_check_port_index_must_exist),
                cmocka_unit_test(health_check_rules),
                cmocka_unit_test(readiness_checks),
                cmocka_unit_test(port_definitions),
                cmocka_unit_test(networks),
                cmocka_unit_test(container_rules),
                cmocka_unit_test(volumes),
                cmocka_unit_test(resident_apps),
                cmocka_unit_test(env_and_secrets),
                cmocka_unit_test(fetch_uris),
                cmocka_unit_test(roles_and_labels),
                cmocka_unit_test(resource_limits),
                cmocka_unit_test(oversized_collections_are_refused),
                cmocka_unit_test(all_semantic_errors_are_collected),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
