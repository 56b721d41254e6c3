/* test_lb_config.c — server slots and their Runtime API commands, and the HAProxy configuration
 * text (checked by `haproxy -c` itself). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/macro.h"
#include "common/strbuf.h"
#include "lb/lb_config.h"

static const struct lb_config_options co = { .admin_socket = "/run/test.sock", .http_port = 8080 };

/* A view of one backend "web_10000" with servers on 10.0.0.<n>:3100<n> for each n in ns. */
static json_t *view(const int *ns, size_t n, const char *extra) {
        json_t *servers = json_array();
        for (size_t i = 0; i < n; i++) {
                char id[32], ip[32];
                snprintf(id, sizeof(id), "web.t%d", ns[i]);
                snprintf(ip, sizeof(ip), "10.0.0.%d", ns[i]);
                json_array_append_new(servers, json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:b}", "task", id, "app", "/web",
                                                         "ip", ip, "port", 31000 + ns[i], "checkPort", 0, "weight", 1,
                                                         "draining", 0));
        }
        json_t *svc = json_pack("{s:s,s:[s],s:i,s:s,s:n,s:n,s:s,s:s,s:b,s:b,s:b,s:[s],s:n,s:i,s:n,s:n,s:n,s:o}",
                                "backend", "web_10000", "apps", "/web", "servicePort", 10000, "bindAddr", "*",
                                "bindOptions", "sslCert", "mode", "http", "balance", "roundrobin", "sticky", 0,
                                "redirectToHttps", 0, "hsts", 0, "vhosts", "web.example.com", "path", "order", 0,
                                "networkAllowed", "healthCheck", "ab", "servers", servers);
        if (extra) {
                json_t *e = json_loads(extra, 0, NULL);
                assert_non_null(e);
                json_object_update(svc, e);
                json_decref(e);
        }
        return json_pack("{s:[o],s:[]}", "services", svc, "issues");
}

static char *update(struct lb_slots *s, const int *ns, size_t n, const char *extra) {
        _cleanup_(json_decrefp) json_t *v = view(ns, n, extra);
        struct strbuf cmds = { 0 };
        lb_slots_update(s, v, &cmds);
        strbuf_puts(&cmds, "");
        return strbuf_steal(&cmds);
}

static char *structural(const struct lb_slots *s, const int *ns, size_t n, const char *extra) {
        _cleanup_(json_decrefp) json_t *v = view(ns, n, extra);
        return lb_config_render(v, s, &co, false, NULL);
}

static void a_new_backend_needs_no_commands_and_its_servers_are_in_the_reload(void **state) {
        struct lb_slots s;
        lb_slots_init(&s);
        static const int ns[] = { 1, 2 };
        _cleanup_free_ char *cmds = update(&s, ns, 2, NULL);
        assert_string_equal(cmds, "");
        _cleanup_(json_decrefp) json_t *v = view(ns, 2, NULL);
        _cleanup_free_ char *mat = lb_config_render(v, &s, &co, true, NULL);
        _cleanup_free_ char *str = lb_config_render(v, &s, &co, false, NULL);
        assert_non_null(strstr(mat, "  server s1 10.0.0.1:31001 weight 1\n"));
        assert_non_null(strstr(mat, "  server s2 10.0.0.2:31002 weight 1\n"));
        assert_non_null(strstr(mat, "  server s3 0.0.0.0:0 disabled\n"));
        assert_null(strstr(str, "10.0.0.1"));
        assert_non_null(strstr(str, "  server s8 0.0.0.0:0 disabled\n"));
        assert_null(strstr(str, "  server s9 "));
        assert_non_null(strstr(str, "stats socket /run/test.sock mode 600 level admin expose-fd listeners"));
        lb_slots_release(&s);
}

static void task_changes_are_runtime_commands_and_keep_the_structure(void **state) {
        struct lb_slots s;
        lb_slots_init(&s);
        static const int four[] = { 1, 2, 3, 4 }, one[] = { 3 }, next[] = { 3, 5, 6, 7 };
        free(update(&s, four, 4, NULL));
        _cleanup_free_ char *before = structural(&s, four, 4, NULL);
        /* scale 4 -> 1: three slots go to maintenance */
        _cleanup_free_ char *down = update(&s, one, 1, NULL);
        assert_string_equal(down, "set server web_10000/s1 state maint\n"
                                  "set server web_10000/s2 state maint\n"
                                  "set server web_10000/s4 state maint\n");
        /* 1 -> 4 with new tasks: they take the free slots in order; the kept task keeps s3 */
        _cleanup_free_ char *up = update(&s, next, 4, NULL);
        assert_string_equal(up, "set server web_10000/s1 addr 10.0.0.5 port 31005\n"
                                "set server web_10000/s1 weight 1\n"
                                "set server web_10000/s1 state ready\n"
                                "set server web_10000/s2 addr 10.0.0.6 port 31006\n"
                                "set server web_10000/s2 weight 1\n"
                                "set server web_10000/s2 state ready\n"
                                "set server web_10000/s4 addr 10.0.0.7 port 31007\n"
                                "set server web_10000/s4 weight 1\n"
                                "set server web_10000/s4 state ready\n");
        _cleanup_free_ char *after = structural(&s, next, 4, NULL);
        assert_string_equal(before, after); /* no reload */
        /* the same view again: nothing to do */
        _cleanup_free_ char *same = update(&s, next, 4, NULL);
        assert_string_equal(same, "");
        lb_slots_release(&s);
}

static void weights_draining_and_check_ports_are_commands_too(void **state) {
        struct lb_slots s;
        lb_slots_init(&s);
        static const int ns[] = { 1 };
        free(update(&s, ns, 1, NULL));
        _cleanup_(json_decrefp) json_t *v = view(ns, 1, NULL);
        json_t *srv = json_array_get(json_object_get(json_array_get(json_object_get(v, "services"), 0), "servers"), 0);
        json_object_set_new(srv, "weight", json_integer(10));
        json_object_set_new(srv, "draining", json_true());
        struct strbuf cmds = { 0 };
        lb_slots_update(&s, v, &cmds);
        assert_string_equal(cmds.buf, "set server web_10000/s1 weight 10\nset server web_10000/s1 state drain\n");
        strbuf_release(&cmds);
        json_object_set_new(srv, "checkPort", json_integer(9001)); /* another port: a refill */
        lb_slots_update(&s, v, &cmds);
        assert_string_equal(cmds.buf, "set server web_10000/s1 state maint\n"
                                      "set server web_10000/s1 addr 10.0.0.1 port 31001\n"
                                      "set server web_10000/s1 check-port 9001\n"
                                      "set server web_10000/s1 weight 10\n"
                                      "set server web_10000/s1 state drain\n");
        strbuf_release(&cmds);
        lb_slots_release(&s);
}

static void outgrowing_the_slots_is_a_structural_change(void **state) {
        struct lb_slots s;
        lb_slots_init(&s);
        static const int two[] = { 1, 2 }, nine[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        free(update(&s, two, 2, NULL));
        _cleanup_free_ char *before = structural(&s, two, 2, NULL);
        _cleanup_free_ char *cmds = update(&s, nine, 9, NULL);
        assert_string_equal(cmds, ""); /* the reload carries them */
        _cleanup_free_ char *after = structural(&s, nine, 9, NULL);
        assert_string_not_equal(before, after);
        assert_non_null(strstr(after, "  server s32 0.0.0.0:0 disabled\n")); /* 2 x 9 -> 32 */
        assert_int_equal(lb_slots_get(&s, "web_10000")->n, 32);
        /* a backend that leaves the view loses its slots */
        _cleanup_(json_decrefp) json_t *empty = json_pack("{s:[],s:[]}", "services", "issues");
        struct strbuf none = { 0 };
        lb_slots_update(&s, empty, &none);
        assert_null(lb_slots_get(&s, "web_10000"));
        lb_slots_release(&s);
}

static void the_frontends_follow_marathon_lb_templates(void **state) {
        struct lb_slots s;
        lb_slots_init(&s);
        static const int ns[] = { 1 };
        const char *extra = "{\"path\":\"/api\",\"sticky\":true,\"redirectToHttps\":true,\"hsts\":true,"
                            "\"networkAllowed\":\"10.0.0.0/8\",\"healthCheck\":{\"protocol\":\"http\",\"path\":\"/h\","
                            "\"intervalSeconds\":2,\"timeoutSeconds\":1,\"fall\":4},"
                            "\"ab\":{\"match\":\"cookie\",\"name\":\"variant\",\"value\":\"b\",\"backend\":\"web_10000_b\","
                            "\"servers\":[],\"apps\":[]}}";
        free(update(&s, ns, 1, extra));
        struct lb_config_options tls = co;
        tls.https_port = 8443;
        tls.ssl_cert = "/etc/ssl/cert.pem";
        _cleanup_(json_decrefp) json_t *v = view(ns, 1, extra);
        _cleanup_free_ char *text = lb_config_render(v, &s, &tls, true, NULL);
        static const char *const want[] = {
                "frontend strata_http_in\n  bind :8080\n  mode http\n",
                "  acl host_web_10000 req.hdr(host),field(1,:) -i web.example.com\n",
                "  acl path_web_10000 path_beg /api\n",
                "  http-request redirect location https://%[req.hdr(host),field(1,:)]:8443%[capture.req.uri] code 301 if "
                "host_web_10000 path_web_10000 !{ ssl_fc }\n",
                "  acl ab_web_10000 req.cook(variant) -m str b\n",
                "  use_backend web_10000_b if host_web_10000 path_web_10000 ab_web_10000\n",
                "  use_backend web_10000 if host_web_10000 path_web_10000\n",
                "frontend strata_https_in\n  bind :8443 ssl crt /etc/ssl/cert.pem\n",
                "frontend web_10000\n  bind *:10000\n  mode http\n",
                "  use_backend web_10000_b if ab_web_10000\n  use_backend web_10000\n",
                "backend web_10000\n  balance roundrobin\n  mode http\n  option forwardfor\n",
                "  http-response set-header Strict-Transport-Security max-age=15768000\n",
                "  acl network_allowed src 10.0.0.0/8\n  http-request deny if !network_allowed\n",
                "  cookie mesosphere_server_id insert indirect nocache\n",
                "  option httpchk GET /h\n  timeout check 1s\n",
                "  server s1 10.0.0.1:31001 check inter 2s fall 4 cookie s1 weight 1\n",
                "backend web_10000_b\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (!strstr(text, want[i]))
                        fail_msg("missing:\n%s\nin:\n%s", want[i], text);
        lb_slots_release(&s);
}

static void a_taken_port_is_reported_and_left_unbound(void **state) {
        struct lb_slots s;
        lb_slots_init(&s);
        static const int ns[] = { 1 };
        _cleanup_(json_decrefp) json_t *v = view(ns, 1, "{\"servicePort\":8080}");
        _cleanup_(json_decrefp) json_t *issues = json_array();
        _cleanup_free_ char *text = lb_config_render(v, &s, &co, false, issues);
        assert_null(strstr(text, "frontend web_10000"));
        assert_non_null(strstr(text, "backend web_10000"));
        assert_int_equal(json_array_size(issues), 1);
        assert_non_null(strstr(json_string_value(json_object_get(json_array_get(issues, 0), "message")),
                               "taken by the http frontend"));
        lb_slots_release(&s);
}

/* The text must be what HAProxy accepts (haproxy is a dependency: Makefile PACKAGES). */
static void haproxy_accepts_the_configuration(void **state) {
        struct lb_slots s;
        lb_slots_init(&s);
        static const int ns[] = { 1, 2 };
        const char *extra = "{\"path\":\"-i /api /v2\",\"sticky\":true,\"redirectToHttps\":true,\"hsts\":true,"
                            "\"networkAllowed\":\"10.0.0.0/8 192.168.1.1\",\"healthCheck\":{\"protocol\":\"https\","
                            "\"path\":\"/h\",\"intervalSeconds\":2,\"timeoutSeconds\":1,\"fall\":4},"
                            "\"ab\":{\"match\":\"header\",\"name\":\"X-Variant\",\"value\":\"b\",\"backend\":\"web_10000_b\","
                            "\"servers\":[],\"apps\":[]}}";
        free(update(&s, ns, 2, extra));
        _cleanup_(json_decrefp) json_t *v = view(ns, 2, extra);
        json_t *tcp = json_pack("{s:s,s:[s],s:i,s:s,s:n,s:n,s:s,s:s,s:b,s:b,s:b,s:[],s:n,s:i,s:s,s:{s:s,s:s,s:i,s:i,s:i},"
                                "s:n,s:[]}",
                                "backend", "db_10001", "apps", "/db", "servicePort", 10001, "bindAddr", "127.0.0.1",
                                "bindOptions", "sslCert", "mode", "tcp", "balance", "leastconn", "sticky", 0,
                                "redirectToHttps", 0, "hsts", 0, "vhosts", "path", "order", 0, "networkAllowed",
                                "10.0.0.0/8", "healthCheck", "protocol", "tcp", "path", "/", "intervalSeconds", 5,
                                "timeoutSeconds", 2, "fall", 3, "ab", "servers");
        json_array_append_new(json_object_get(v, "services"), tcp);
        _cleanup_free_ char *text = lb_config_render(v, &s, &co, true, NULL);
        char path[] = "/tmp/test_lb_config_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        _cleanup_free_ char *cmd = xasprintf("haproxy -c -q -f %s", path);
        int rc = system(cmd);
        unlink(path);
        if (rc != 0)
                fail_msg("haproxy -c refused:\n%s", text);
        lb_slots_release(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_new_backend_needs_no_commands_and_its_servers_are_in_the_reload),
                cmocka_unit_test(task_changes_are_runtime_commands_and_keep_the_structure),
                cmocka_unit_test(weights_draining_and_check_ports_are_commands_too),
                cmocka_unit_test(outgrowing_the_slots_is_a_structural_change),
                cmocka_unit_test(the_frontends_follow_marathon_lb_templates),
                cmocka_unit_test(a_taken_port_is_reported_and_left_unbound),
                cmocka_unit_test(haproxy_accepts_the_configuration),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
