/* test_lb_view.c — apps and tasks → the edge's services: marathon-lb's labels, which instances
 * serve, what is reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/macro.h"
#include "lb/lb_view.h"

static const struct lb_options opts = { .group = "external", .domain = "cluster", .http_port = 80 };

/* A task of app id on 10.0.0.<n> port 3100<n>, in state, with one health result alive (or none). */
static json_t *task(const char *app, int n, const char *state, int alive) {
        char id[64], ip[32];
        snprintf(id, sizeof(id), "%s.t%d", app + 1, n);
        snprintf(ip, sizeof(ip), "10.0.0.%d", n);
        json_t *t = json_pack("{s:s,s:s,s:s,s:[i],s:[{s:s}],s:[]}", "id", id, "host", "agent1", "state", state, "ports",
                              31000 + n, "ipAddresses", "ipAddress", ip, "healthCheckResults");
        if (alive >= 0)
                json_array_append_new(json_object_get(t, "healthCheckResults"), json_pack("{s:b}", "alive", alive));
        return t;
}

static json_t *app(const char *id, int service_port, const char *labels_json) {
        json_t *labels = json_loads(labels_json, 0, NULL);
        assert_non_null(labels);
        return json_pack("{s:s,s:i,s:[{s:i}],s:o,s:[]}", "id", id, "instances", 2, "portDefinitions", "port",
                         service_port, "labels", labels, "tasks");
}

static void add_task(json_t *a, json_t *t) {
        json_array_append_new(json_object_get(a, "tasks"), t);
}

static json_t *view_of(json_t *apps_arr, const json_t *deployments, const struct lb_options *o) {
        json_t *v = lb_view_build(apps_arr, deployments, o);
        json_decref(apps_arr);
        return v;
}

static const json_t *service(const json_t *v, size_t i) {
        return json_array_get(json_object_get(v, "services"), i);
}

static const char *s(const json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static bool has_issue(const json_t *v, const char *label) {
        size_t i;
        const json_t *is;
        json_array_foreach(json_object_get(v, "issues"), i, is)
                if (s(is, "label") && streq(s(is, "label"), label))
                        return true;
        return false;
}

static void a_vhost_app_is_an_http_service_with_its_running_tasks(void **state) {
        json_t *a = app("/prod/web", 10000, "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_0_VHOST\":\"Web.Example.com, www.example.com\"}");
        add_task(a, task("/prod/web", 2, "TASK_RUNNING", -1));
        add_task(a, task("/prod/web", 1, "TASK_RUNNING", -1));
        add_task(a, task("/prod/web", 3, "TASK_STAGING", -1));
        add_task(a, task("/prod/web", 4, "TASK_KILLING", -1));
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[o]", a), NULL, &opts);
        const json_t *svc = service(v, 0);
        assert_non_null(svc);
        assert_string_equal(s(svc, "backend"), "prod_web_10000");
        assert_string_equal(s(svc, "mode"), "http");
        assert_string_equal(s(svc, "balance"), "roundrobin");
        const json_t *vh = json_object_get(svc, "vhosts");
        assert_int_equal(json_array_size(vh), 3);
        assert_string_equal(json_string_value(json_array_get(vh, 0)), "web.example.com");
        assert_string_equal(json_string_value(json_array_get(vh, 1)), "www.example.com");
        assert_string_equal(json_string_value(json_array_get(vh, 2)), "web-prod.cluster"); /* --domain */
        const json_t *servers = json_object_get(svc, "servers");
        assert_int_equal(json_array_size(servers), 2); /* staging and killing tasks do not serve */
        assert_string_equal(s(json_array_get(servers, 0), "ip"), "10.0.0.1"); /* sorted */
        assert_int_equal(json_integer_value(json_object_get(json_array_get(servers, 0), "port")), 31001);
        assert_int_equal(json_array_size(json_object_get(v, "issues")), 0);
}

static void apps_of_other_groups_are_not_exposed_and_star_takes_all(void **state) {
        json_t *a = app("/a", 10000, "{\"HAPROXY_GROUP\":\"internal,other\"}");
        json_t *b = app("/b", 10001, "{}");
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[O,O]", a, b), NULL, &opts);
        assert_int_equal(json_array_size(json_object_get(v, "services")), 0);
        struct lb_options all = opts;
        all.group = "other";
        _cleanup_(json_decrefp) json_t *v2 = view_of(json_pack("[O,O]", a, b), NULL, &all);
        assert_int_equal(json_array_size(json_object_get(v2, "services")), 1);
        all.group = "*";
        _cleanup_(json_decrefp) json_t *v3 = view_of(json_pack("[o,o]", a, b), NULL, &all);
        assert_int_equal(json_array_size(json_object_get(v3, "services")), 2);
        /* no vhost, no http check: tcp, and tcp services get no domain vhost */
        assert_string_equal(s(service(v3, 0), "mode"), "tcp");
        assert_int_equal(json_array_size(json_object_get(service(v3, 0), "vhosts")), 0);
}

static void only_healthy_and_ready_instances_serve(void **state) {
        json_t *a = app("/web", 10000, "{\"HAPROXY_GROUP\":\"external\"}");
        json_object_set_new(a, "healthChecks",
                            json_pack("[{s:s,s:s,s:i,s:i,s:i,s:i}]", "protocol", "MESOS_HTTP", "path", "/health",
                                      "portIndex", 0, "intervalSeconds", 3, "timeoutSeconds", 2,
                                      "maxConsecutiveFailures", 2));
        add_task(a, task("/web", 1, "TASK_RUNNING", 1));
        add_task(a, task("/web", 2, "TASK_RUNNING", 0));  /* unhealthy */
        add_task(a, task("/web", 3, "TASK_RUNNING", -1)); /* no result yet */
        add_task(a, task("/web", 4, "TASK_RUNNING", 1));  /* not ready (below) */
        _cleanup_(json_decrefp) json_t *deps = json_loads(
                "[{\"id\":\"d1\",\"currentActions\":[{\"action\":\"StartApplication\",\"app\":\"/web\","
                "\"readinessCheckResults\":[{\"taskId\":\"web.t4\",\"ready\":false},{\"taskId\":\"web.t1\",\"ready\":true}]}]}]",
                0, NULL);
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[o]", a), deps, &opts);
        const json_t *svc = service(v, 0);
        const json_t *servers = json_object_get(svc, "servers");
        assert_int_equal(json_array_size(servers), 1);
        assert_string_equal(s(json_array_get(servers, 0), "task"), "web.t1");
        /* an HTTP check makes the service http and becomes HAProxy's check: fall = failures + 1 */
        assert_string_equal(s(svc, "mode"), "http");
        const json_t *hc = json_object_get(svc, "healthCheck");
        assert_string_equal(s(hc, "protocol"), "http");
        assert_string_equal(s(hc, "path"), "/health");
        assert_int_equal(json_integer_value(json_object_get(hc, "intervalSeconds")), 3);
        assert_int_equal(json_integer_value(json_object_get(hc, "fall")), 3);
        /* with an http mode, the app also gets its domain vhost */
        assert_string_equal(json_string_value(json_array_get(json_object_get(svc, "vhosts"), 0)), "web.cluster");
}

static void labels_set_the_service_and_bad_or_unsupported_ones_are_reported(void **state) {
        json_t *a = app("/api", 10005,
                        "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_0_VHOST\":\"api.example.com\","
                        "\"HAPROXY_0_PATH\":\"/v2\",\"HAPROXY_0_PORT\":\"9500\",\"HAPROXY_0_BALANCE\":\"leastconn\","
                        "\"HAPROXY_0_STICKY\":\"true\",\"HAPROXY_0_REDIRECT_TO_HTTPS\":\"yes\","
                        "\"HAPROXY_0_SSL_CERT\":\"/etc/ssl/api.pem\",\"HAPROXY_0_BIND_ADDR\":\"10.1.2.3\","
                        "\"HAPROXY_0_MODE\":\"udp\",\"HAPROXY_0_AUTH\":\"realm:u:p\","
                        "\"HAPROXY_0_BACKEND_HEAD\":\"backend x\",\"HAPROXY_HTTP_FRONTEND_HEAD\":\"x\","
                        "\"HAPROXY_0_BACKEND_WEIGHT\":\"5\",\"OTHER\":\"not ours\"}");
        add_task(a, task("/api", 1, "TASK_RUNNING", -1));
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[o]", a), NULL, &opts);
        const json_t *svc = service(v, 0);
        assert_string_equal(s(svc, "backend"), "api_9500"); /* HAPROXY_{n}_PORT replaces the service port */
        assert_int_equal(json_integer_value(json_object_get(svc, "servicePort")), 9500);
        assert_string_equal(s(svc, "path"), "/v2");
        assert_string_equal(s(svc, "balance"), "leastconn");
        assert_true(json_is_true(json_object_get(svc, "sticky")));
        assert_true(json_is_true(json_object_get(svc, "redirectToHttps")));
        assert_string_equal(s(svc, "sslCert"), "/etc/ssl/api.pem");
        assert_string_equal(s(svc, "bindAddr"), "10.1.2.3");
        assert_string_equal(s(svc, "mode"), "http"); /* udp refused; the vhost makes it http */
        assert_int_equal(json_integer_value(json_object_get(svc, "order")), 5);
        assert_true(has_issue(v, "HAPROXY_0_MODE"));
        assert_true(has_issue(v, "HAPROXY_0_AUTH"));
        assert_true(has_issue(v, "HAPROXY_0_BACKEND_HEAD"));
        assert_true(has_issue(v, "HAPROXY_HTTP_FRONTEND_HEAD"));
        assert_false(has_issue(v, "OTHER"));
        assert_false(has_issue(v, "HAPROXY_0_VHOST"));
}

static void a_value_that_would_end_a_config_line_is_refused(void **state) {
        json_t *a = app("/x", 10000,
                        "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_0_BALANCE\":\"roundrobin\\n  server evil 1.2.3.4:80\","
                        "\"HAPROXY_0_PATH\":\"/a # comment\",\"HAPROXY_0_VHOST\":\"a.com b.com\"}");
        add_task(a, task("/x", 1, "TASK_RUNNING", -1));
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[o]", a), NULL, &opts);
        const json_t *svc = service(v, 0);
        assert_string_equal(s(svc, "balance"), "roundrobin");
        assert_true(json_is_null(json_object_get(svc, "path")));
        assert_int_equal(json_array_size(json_object_get(svc, "vhosts")), 0);
        assert_true(has_issue(v, "HAPROXY_0_BALANCE"));
        assert_true(has_issue(v, "HAPROXY_0_PATH"));
        assert_true(has_issue(v, "HAPROXY_0_VHOST"));
}

/* Found by fuzz_lb_view: an id with a control character reached the configuration as a name. */
static void an_app_id_that_would_break_a_config_line_is_left_out(void **state) {
        json_t *a = app("/prod/web\b", 10000, "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_0_VHOST\":\"web.example\"}");
        add_task(a, task("/prod/web", 1, "TASK_RUNNING", -1));
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[o]", a), NULL, &opts);
        assert_int_equal(json_array_size(json_object_get(v, "services")), 0);
        const json_t *is = json_array_get(json_object_get(v, "issues"), 0);
        assert_non_null(is);
        assert_non_null(strstr(s(is, "message"), "not routable"));
}

static void enabled_and_strict_mode_and_per_port_groups(void **state) {
        json_t *a = app("/a", 10000, "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_0_ENABLED\":\"false\"}");
        json_t *b = app("/b", 10001, "{\"HAPROXY_GROUP\":\"internal\",\"HAPROXY_0_GROUP\":\"external\"}");
        json_t *c = app("/c", 10002, "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_0_ENABLED\":\"true\"}");
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[O,O,O]", a, b, c), NULL, &opts);
        assert_int_equal(json_array_size(json_object_get(v, "services")), 2);
        assert_string_equal(s(service(v, 0), "backend"), "b_10001");
        struct lb_options strict = opts;
        strict.strict = true;
        _cleanup_(json_decrefp) json_t *v2 = view_of(json_pack("[o,o,o]", a, b, c), NULL, &strict);
        assert_int_equal(json_array_size(json_object_get(v2, "services")), 1);
        assert_string_equal(s(service(v2, 0), "backend"), "c_10002");
}

/* marathon-lb zdd: two apps of one deployment group are one backend; the old app's tasks drain
 * as the new one's become healthy. */
static void a_deployment_group_is_one_backend_and_drains_the_old_tasks(void **state) {
        json_t *blue = app("/web-blue", 10000,
                           "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_DEPLOYMENT_GROUP\":\"web\","
                           "\"HAPROXY_DEPLOYMENT_ALT_PORT\":\"10001\",\"HAPROXY_DEPLOYMENT_COLOUR\":\"blue\","
                           "\"HAPROXY_DEPLOYMENT_STARTED_AT\":\"2026-01-01T00:00:00Z\"}");
        json_t *green = app("/web-green", 10001,
                            "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_DEPLOYMENT_GROUP\":\"web\","
                            "\"HAPROXY_DEPLOYMENT_ALT_PORT\":\"10000\",\"HAPROXY_DEPLOYMENT_COLOUR\":\"green\","
                            "\"HAPROXY_DEPLOYMENT_STARTED_AT\":\"2026-01-02T00:00:00Z\"}");
        add_task(blue, task("/web-blue", 1, "TASK_RUNNING", -1));
        add_task(blue, task("/web-blue", 2, "TASK_RUNNING", -1));
        add_task(green, task("/web-green", 3, "TASK_RUNNING", -1));
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[o,o]", green, blue), NULL, &opts);
        assert_int_equal(json_array_size(json_object_get(v, "services")), 1);
        const json_t *svc = service(v, 0);
        assert_string_equal(s(svc, "backend"), "web_10000"); /* the group's name, the old app's port */
        assert_string_equal(json_string_value(json_array_get(json_object_get(svc, "apps"), 0)), "/web-blue");
        const json_t *servers = json_object_get(svc, "servers");
        assert_int_equal(json_array_size(servers), 3);
        /* one healthy new task: one old task (the first by id) drains */
        assert_string_equal(s(json_array_get(servers, 0), "task"), "web-blue.t1");
        assert_true(json_is_true(json_object_get(json_array_get(servers, 0), "draining")));
        assert_false(json_is_true(json_object_get(json_array_get(servers, 1), "draining")));
        assert_false(json_is_true(json_object_get(json_array_get(servers, 2), "draining")));
}

static void an_ab_header_sends_the_b_app_to_its_own_backend_and_weights_apply(void **state) {
        json_t *a = app("/shop-a", 10000,
                        "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_0_MODE\":\"http\",\"HAPROXY_DEPLOYMENT_GROUP\":\"shop\","
                        "\"HAPROXY_DEPLOYMENT_STARTED_AT\":\"1\",\"STRATA_LB_WEIGHT\":\"90\"}");
        json_t *b = app("/shop-b", 10001,
                        "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_0_MODE\":\"http\",\"HAPROXY_DEPLOYMENT_GROUP\":\"shop\","
                        "\"HAPROXY_DEPLOYMENT_STARTED_AT\":\"2\",\"STRATA_LB_AB_HEADER\":\"X-Variant: b\"}");
        add_task(a, task("/shop-a", 1, "TASK_RUNNING", -1));
        add_task(b, task("/shop-b", 2, "TASK_RUNNING", -1));
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[o,o]", a, b), NULL, &opts);
        const json_t *svc = service(v, 0);
        const json_t *ab = json_object_get(svc, "ab");
        assert_true(json_is_object(ab));
        assert_string_equal(s(ab, "match"), "header");
        assert_string_equal(s(ab, "name"), "X-Variant");
        assert_string_equal(s(ab, "value"), "b");
        assert_string_equal(s(ab, "backend"), "shop_10000_b");
        assert_int_equal(json_array_size(json_object_get(ab, "servers")), 1);
        const json_t *servers = json_object_get(svc, "servers");
        assert_int_equal(json_array_size(servers), 1);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(servers, 0), "weight")), 90);
        assert_false(json_is_true(json_object_get(json_array_get(servers, 0), "draining")));
}

/* `app deploy --strategy canary --weight 10`: one new task gets 10 % of the requests of four old. */
static void a_canary_share_becomes_server_weights(void **state) {
        json_t *old = app("/web-blue", 10000,
                          "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_DEPLOYMENT_GROUP\":\"web\","
                          "\"HAPROXY_DEPLOYMENT_STARTED_AT\":\"1\"}");
        json_t *new = app("/web-green", 10001,
                          "{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_DEPLOYMENT_GROUP\":\"web\","
                          "\"HAPROXY_DEPLOYMENT_STARTED_AT\":\"2\",\"STRATA_DEPLOYMENT_STRATEGY\":\"canary\","
                          "\"STRATA_LB_SHARE\":\"10\"}");
        for (int i = 1; i <= 4; i++)
                add_task(old, task("/web-blue", i, "TASK_RUNNING", -1));
        add_task(new, task("/web-green", 5, "TASK_RUNNING", -1));
        _cleanup_(json_decrefp) json_t *v = view_of(json_pack("[o,o]", old, new), NULL, &opts);
        const json_t *servers = json_object_get(service(v, 0), "servers");
        assert_int_equal(json_array_size(servers), 5);
        json_int_t sum_old = 0, w_new = 0;
        size_t i;
        const json_t *srv;
        json_array_foreach(servers, i, srv) {
                assert_false(json_is_true(json_object_get(srv, "draining")));
                if (streq(s(srv, "app"), "/web-green"))
                        w_new = json_integer_value(json_object_get(srv, "weight"));
                else
                        sum_old += json_integer_value(json_object_get(srv, "weight"));
        }
        assert_int_equal(sum_old, 4 * 256); /* 22.5 % each: the largest weight */
        assert_int_equal(w_new, 114);       /* 10 % / 22.5 % of 256 */
        assert_true((double)w_new / (double)(w_new + sum_old) > 0.095 && (double)w_new / (double)(w_new + sum_old) < 0.105);
}

static void dns_names_reverse_the_path(void **state) {
        char *n = lb_dns_name("/prod/web");
        assert_string_equal(n, "web-prod");
        free(n);
        n = lb_dns_name("/web-feature-x");
        assert_string_equal(n, "web-feature-x");
        free(n);
        assert_false(lb_value_safe("a\nb"));
        assert_false(lb_value_safe("a # b"));
        assert_true(lb_value_safe("-i /a /b"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_vhost_app_is_an_http_service_with_its_running_tasks),
                cmocka_unit_test(apps_of_other_groups_are_not_exposed_and_star_takes_all),
                cmocka_unit_test(only_healthy_and_ready_instances_serve),
                cmocka_unit_test(labels_set_the_service_and_bad_or_unsupported_ones_are_reported),
                cmocka_unit_test(a_value_that_would_end_a_config_line_is_refused),
                cmocka_unit_test(an_app_id_that_would_break_a_config_line_is_left_out),
                cmocka_unit_test(enabled_and_strict_mode_and_per_port_groups),
                cmocka_unit_test(a_deployment_group_is_one_backend_and_drains_the_old_tasks),
                cmocka_unit_test(an_ab_header_sends_the_b_app_to_its_own_backend_and_weights_apply),
                cmocka_unit_test(a_canary_share_becomes_server_weights),
                cmocka_unit_test(dns_names_reverse_the_path),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
