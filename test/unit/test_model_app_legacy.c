/* test_model_app_legacy.c — ≤1.4 app fields (uris, ports, ipAddress, container.docker.network,
 * container.docker.portMappings) are accepted, translated to the 1.5 form, never emitted, and
 * refused when mixed with their replacements. */
#include "test_model_app.h"

/* Fails unless src is refused with a bare 422 message (Marathon's NormalizationException). */
static void expect_refused(const char *src, const char *message) {
        json_t *d = norm_fail(src, -ERR_INVALID, message);
        assert_null(d);
}

static void uris_become_fetch(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"uris\":[\"http://x/a.tgz\",\"http://x/b.sh\","
                            "\"http://x/c.tar.xz?token=1\",\"http://x/d.zip#frag\",\"http://x/e.tar.bz2\"]}");
        expect_at(a, "fetch",
                  "[{\"uri\":\"http://x/a.tgz\",\"extract\":true,\"executable\":false,\"cache\":false},"
                  "{\"uri\":\"http://x/b.sh\",\"extract\":false,\"executable\":false,\"cache\":false},"
                  "{\"uri\":\"http://x/c.tar.xz?token=1\",\"extract\":true,\"executable\":false,\"cache\":false},"
                  "{\"uri\":\"http://x/d.zip#frag\",\"extract\":true,\"executable\":false,\"cache\":false},"
                  "{\"uri\":\"http://x/e.tar.bz2\",\"extract\":true,\"executable\":false,\"cache\":false}]");
        assert_null(json_object_get(a, "uris"));
        json_decref(a);
        /* empty uris next to fetch are fine */
        a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"uris\":[],\"fetch\":[{\"uri\":\"http://x/f\"}]}");
        expect_at(a, "fetch/0/uri", "\"http://x/f\"");
        json_decref(a);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"uris\":[\"http://x/a\"],\"fetch\":[{\"uri\":\"http://x/f\"}]}",
                       "/uris", "may not be set in conjunction with fetch");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"uris\":[\"http://x/a b\"]}", "/uris(0)",
                       "URI has invalid syntax.");
}

static void ports_become_port_definitions(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"ports\":[0,8080]}");
        expect_at(a, "portDefinitions", "[{\"port\":0,\"protocol\":\"tcp\"},{\"port\":8080,\"protocol\":\"tcp\"}]");
        assert_null(json_object_get(a, "ports"));
        json_decref(a);
        /* an explicit empty list means no ports */
        a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"ports\":[]}");
        expect_at(a, "portDefinitions", "[]");
        json_decref(a);
        /* both, but saying the same thing (what ≤1.4 GETs returned) */
        a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"ports\":[10000],\"portDefinitions\":[{\"port\":10000,"
                    "\"name\":\"http\"}]}");
        expect_at(a, "portDefinitions", "[{\"port\":10000,\"name\":\"http\",\"protocol\":\"tcp\"}]");
        json_decref(a);
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"ports\":[10000],\"portDefinitions\":[{\"port\":10001}]}", "/",
                       "cannot specify both ports and port definitions");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"ports\":[80,80]}", "/", "ports must be unique");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"ports\":[70000]}", "/ports(0)",
                       "got 70000, expected between 0 and 65535");
        /* with container networking the ports size the port mappings */
        a = norm_ok("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\"}},"
                    "\"ports\":[0,0]}");
        expect_at(a, "container/portMappings",
                  "[{\"containerPort\":0,\"hostPort\":0,\"servicePort\":0,\"protocol\":\"tcp\",\"name\":\"default\","
                  "\"labels\":{}},{\"containerPort\":0,\"hostPort\":0,\"servicePort\":0,\"protocol\":\"tcp\","
                  "\"labels\":{}}]");
        assert_null(json_object_get(a, "portDefinitions"));
        json_decref(a);
}

static void docker_network_becomes_networks(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\","
                            "\"portMappings\":[{\"containerPort\":80,\"servicePort\":10080,\"name\":\"http\"}]}}}");
        expect_at(a, "networks", "[{\"mode\":\"container/bridge\"}]");
        expect_at(a, "container",
                  "{\"type\":\"DOCKER\",\"docker\":{\"image\":\"i\",\"forcePullImage\":false,\"privileged\":false,"
                  "\"parameters\":[]},\"volumes\":[],\"portMappings\":[{\"containerPort\":80,\"hostPort\":0,"
                  "\"servicePort\":10080,\"protocol\":\"tcp\",\"name\":\"http\",\"labels\":{}}]}");
        json_decref(a);
        a = norm_ok("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"HOST\"}}}");
        expect_at(a, "networks", "[{\"mode\":\"host\"}]");
        expect_at(a, "portDefinitions", "[{\"port\":0,\"name\":\"default\",\"protocol\":\"tcp\"}]");
        json_decref(a);
        /* USER needs a network name: from ipAddress */
        a = norm_ok("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"USER\"}},"
                    "\"ipAddress\":{\"networkName\":\"dcos\",\"labels\":{\"a\":\"b\"}}}");
        expect_at(a, "networks", "[{\"mode\":\"container\",\"name\":\"dcos\",\"labels\":{\"a\":\"b\"}}]");
        expect_at(a, "container/portMappings",
                  "[{\"containerPort\":0,\"servicePort\":0,\"protocol\":\"tcp\",\"name\":\"default\",\"labels\":{}}]");
        json_decref(a);
        expect_refused("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"NONE\"}}}",
                       "unsupported docker network type NONE");
        expect_invalid("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\"}},"
                       "\"networks\":[{\"mode\":\"container/bridge\"}]}",
                       "/", "must not specify both container.docker.network and networks");
        expect_refused("{\"id\":\"/a\",\"container\":{\"portMappings\":[{\"containerPort\":1}],\"docker\":{\"image\":"
                       "\"i\",\"network\":\"BRIDGE\",\"portMappings\":[{\"containerPort\":2}]}}}",
                       "cannot specify both portMappings and docker.portMappings");
        expect_invalid("{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"docker\":{\"image\":\"i\",\"network\":"
                       "\"BRIDGE\"}}}",
                       "/container/docker/network", "must be empty");
}

static void ip_address_becomes_a_container_network(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"ipAddress\":{\"networkName\":\"dcos\",\"groups\":[],"
                            "\"discovery\":{\"ports\":[{\"number\":80,\"name\":\"http\",\"protocol\":\"tcp\"}]}}}");
        expect_at(a, "networks", "[{\"mode\":\"container\",\"name\":\"dcos\"}]");
        expect_at(a, "container",
                  "{\"type\":\"MESOS\",\"volumes\":[],\"portMappings\":[{\"containerPort\":80,\"servicePort\":0,"
                  "\"protocol\":\"tcp\",\"name\":\"http\",\"labels\":{}}]}");
        assert_null(json_object_get(a, "ipAddress"));
        assert_null(json_object_get(a, "portDefinitions"));
        json_decref(a);
        /* Marathon's mesos bridge name means the bridge */
        a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"ipAddress\":{\"networkName\":\"mesos-bridge\"}}");
        expect_at(a, "networks", "[{\"mode\":\"container/bridge\"}]");
        json_decref(a);
        expect_invalid("{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\"}},\"ipAddress\":{\"networkName\":"
                       "\"dcos\",\"discovery\":{\"ports\":[{\"number\":80,\"name\":\"http\"}]}}}",
                       "/ipAddress", "ipAddress/discovery is not allowed for Docker containers");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"ipAddress\":{\"networkName\":\"dcos\"},\"networks\":[{"
                       "\"mode\":\"container\",\"name\":\"dcos\"}]}",
                       "/", "must not specify both networks and ipAddress");
        expect_invalid("{\"id\":\"/a\",\"cmd\":\"x y\",\"ipAddress\":{\"networkName\":\"dcos\"},\"ports\":[80]}", "/",
                       "cannot specify both an IP address and port");
        expect_refused("{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"portMappings\":[{\"containerPort\":1}]},"
                       "\"cmd\":\"x y\",\"ipAddress\":{\"networkName\":\"dcos\",\"discovery\":{\"ports\":[{\"number\":"
                       "80,\"name\":\"http\"}]}}}",
                       "container.portMappings and ipAddress.discovery.ports must not both be set");
}

static void legacy_fields_in_updates_replace_their_successors(void **state) {
        json_t *cur = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"fetch\":[{\"uri\":\"http://x/old\"}],"
                              "\"portDefinitions\":[{\"port\":10000,\"name\":\"http\"}]}");
        json_t *upd = parse("{\"uris\":[\"http://x/new.tgz\"]}"), *out = NULL;
        struct err e = {0};
        assert_int_equal(app_apply_update(cur, upd, &out, &e), 0);
        expect_at(out, "fetch",
                  "[{\"uri\":\"http://x/new.tgz\",\"extract\":true,\"executable\":false,\"cache\":false}]");
        json_decref(out);
        json_decref(upd);
        upd = parse("{\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\"}}}");
        assert_int_equal(app_apply_update(cur, upd, &out, &e), 0);
        expect_at(out, "networks", "[{\"mode\":\"container/bridge\"}]");
        assert_null(json_object_get(out, "portDefinitions"));
        json_decref(out);
        json_decref(upd);
        /* switching back to host networking drops the mappings and defaults the definitions */
        json_t *bridged = norm_ok("{\"id\":\"/b\",\"container\":{\"docker\":{\"image\":\"i\"},\"portMappings\":[{"
                                  "\"containerPort\":80}]},\"networks\":[{\"mode\":\"container/bridge\"}]}");
        upd = parse("{\"networks\":[{\"mode\":\"host\"}]}");
        assert_int_equal(app_apply_update(bridged, upd, &out, &e), 0);
        assert_null(json_object_get(json_object_get(out, "container"), "portMappings"));
        expect_at(out, "portDefinitions", "[{\"port\":0,\"name\":\"default\",\"protocol\":\"tcp\"}]");
        json_decref(out);
        json_decref(upd);
        json_decref(bridged);
        json_decref(cur);
}

static void reposted_zero_ports_keep_their_service_ports(void **state) {
        json_t *cur = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":10005},{\"port\":"
                              "10006}]}");
        json_t *upd = parse("{\"portDefinitions\":[{\"port\":0},{\"port\":10006},{\"port\":0}]}"), *out = NULL;
        struct err e = {0};
        assert_int_equal(app_apply_update(cur, upd, &out, &e), 0);
        /* 10005 is handed back; the third one waits for app_assign_service_ports */
        expect_at(out, "portDefinitions/0/port", "10005");
        expect_at(out, "portDefinitions/1/port", "10006");
        expect_at(out, "portDefinitions/2/port", "0");
        json_decref(out);
        json_decref(upd);

        /* the helper on its own, for wholesale replacements */
        json_t *full = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":0}]}");
        app_reuse_service_ports(full, cur);
        expect_at(full, "portDefinitions/0/port", "10005");
        app_reuse_service_ports(full, NULL);
        json_decref(full);
        json_decref(cur);
}

static void legacy_fields_are_never_emitted(void **state) {
        json_t *a = norm_ok("{\"id\":\"/a\",\"cmd\":\"x y\",\"ports\":[0],\"uris\":[\"http://x/a\"],\"container\":{"
                            "\"type\":\"DOCKER\",\"docker\":{\"image\":\"i\",\"network\":\"HOST\",\"portMappings\":[]}}}");
        assert_null(json_object_get(a, "ports"));
        assert_null(json_object_get(a, "uris"));
        assert_null(json_object_get(a, "ipAddress"));
        json_t *d = json_object_get(json_object_get(a, "container"), "docker");
        assert_null(json_object_get(d, "network"));
        assert_null(json_object_get(d, "portMappings"));
        json_decref(a);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(uris_become_fetch),
                cmocka_unit_test(ports_become_port_definitions),
                cmocka_unit_test(docker_network_becomes_networks),
                cmocka_unit_test(ip_address_becomes_a_container_network),
                cmocka_unit_test(legacy_fields_in_updates_replace_their_successors),
                cmocka_unit_test(reposted_zero_ports_keep_their_service_ports),
                cmocka_unit_test(legacy_fields_are_never_emitted),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
