/* test_model_vip.c — VIP labels, CIDRs and DNS names (model/vip.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/vip.h"

static void labels_parse_named_and_ip_forms(void **state) {
        struct vip_label l;
        assert_int_equal(vip_parse("/web:80", &l, NULL), 0);
        assert_string_equal(l.name, "/web");
        assert_int_equal(l.port, 80);
        assert_int_equal(l.ip, 0);
        assert_int_equal(vip_parse("/prod/db:5432", &l, NULL), 0);
        assert_string_equal(l.name, "/prod/db");
        assert_int_equal(vip_parse("10.1.2.3:8080", &l, NULL), 0);
        assert_string_equal(l.name, "");
        assert_int_equal(l.ip, inet_addr("10.1.2.3"));
        assert_int_equal(l.port, 8080);
}

static void bad_labels_are_refused_with_a_message(void **state) {
        const char *bad[] = { "", "web", "/web", "/web:", "/web:0", "/web:65536", "/web:8x", ":80", "/:80",
                              "1.2.3:80", "0.0.0.0:80", "1.2.3.4.5:80", "/***:80" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                struct err e = { 0 };
                struct vip_label l = { .port = 7 };
                assert_int_equal(vip_parse(bad[i], &l, &e), -EINVAL);
                assert_non_null(e.msg);
                assert_int_equal(l.port, 7);
                err_release(&e);
        }
}

static json_t *parse(const char *s) {
        json_t *j = json_loads(s, 0, NULL);
        assert_non_null(j);
        return j;
}

static void host_apps_take_labels_from_port_definitions(void **state) {
        json_t *app = parse("{\"portDefinitions\":[{\"port\":0,\"labels\":{\"x\":\"y\"}},"
                            "{\"port\":0,\"protocol\":\"udp,tcp\",\"labels\":{\"VIP_0\":\"/web:80\",\"VIP_1\":\"9.9.9.9:81\","
                            "\"VIP_2\":\"bad\"}}]}");
        struct vip_label l[8];
        assert_int_equal(vip_labels_from_app(app, l, 8), 2);
        assert_string_equal(l[0].name, "/web");
        assert_true(l[0].tcp && l[0].udp);
        assert_int_equal(l[0].host_slot, 1);
        assert_false(l[0].own_ip);
        uint16_t hp[] = { 31000, 31001 };
        assert_int_equal(vip_backend_port(&l[0], hp, 2), 31001);
        assert_int_equal(vip_backend_port(&l[0], hp, 1), 0);
        assert_int_equal(l[1].ip, inet_addr("9.9.9.9"));
        struct err e = { 0 };
        assert_int_equal(vip_check_app(app, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "VIP_2"));
        err_release(&e);
        json_decref(app);
}

static void container_apps_use_port_mappings(void **state) {
        json_t *app = parse("{\"networks\":[{\"mode\":\"container\",\"name\":\"n\"}],\"container\":{\"portMappings\":["
                            "{\"containerPort\":8080,\"labels\":{\"VIP_0\":\"/api:80\"}}]}}");
        struct vip_label l[2];
        assert_int_equal(vip_labels_from_app(app, l, 2), 1);
        assert_true(l[0].own_ip);
        assert_int_equal(l[0].host_slot, -1);
        assert_int_equal(vip_backend_port(&l[0], NULL, 0), 8080);
        assert_int_equal(vip_check_app(app, NULL), 0);
        json_decref(app);
        /* bridge: the agent's address and the host port of mappings that have one */
        app = parse("{\"networks\":[{\"mode\":\"container/bridge\"}],\"container\":{\"portMappings\":["
                    "{\"containerPort\":1},{\"containerPort\":80,\"hostPort\":0,\"labels\":{\"VIP_0\":\"/b:80\"}}]}}");
        assert_int_equal(vip_labels_from_app(app, l, 2), 1);
        assert_false(l[0].own_ip);
        uint16_t hp[] = { 32000 };
        assert_int_equal(vip_backend_port(&l[0], hp, 1), 32000);
        json_decref(app);
}

static void cidrs_skip_network_and_broadcast(void **state) {
        uint32_t base, count;
        assert_int_equal(vip_cidr_parse("11.0.0.0/8", &base, &count, NULL), 0);
        assert_int_equal(base, inet_addr("11.0.0.0"));
        assert_int_equal(count, (1u << 24) - 2);
        assert_int_equal(vip_cidr_at(base, 0), inet_addr("11.0.0.1"));
        assert_int_equal(vip_cidr_at(base, 255), inet_addr("11.0.1.0"));
        assert_int_equal(vip_cidr_parse("10.5.7.9/30", &base, &count, NULL), 0);
        assert_int_equal(base, inet_addr("10.5.7.8"));
        assert_int_equal(count, 2);
        const char *bad[] = { "11.0.0.0", "11.0.0.0/7", "11.0.0.0/31", "11.0.0/16", "11.0.0.0/x", "11.0.0.0/" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_int_equal(vip_cidr_parse(bad[i], &base, &count, NULL), -EINVAL);
}

static void names_drop_slashes_as_dcos_net(void **state) {
        char out[256];
        assert_int_equal(vip_dns_name("/web", out, sizeof out), strlen("web.marathon.l4lb.thisdcos.directory."));
        assert_string_equal(out, "web.marathon.l4lb.thisdcos.directory.");
        vip_dns_name("/My-Group/Web_1", out, sizeof out);
        assert_string_equal(out, "my-groupweb-1.marathon.l4lb.thisdcos.directory.");
        assert_int_equal(vip_dns_name("/***", out, sizeof out), 0);
        assert_int_equal(vip_dns_name("/web", out, 10), 0);
}

static void collect_a(const struct discovery_rr *rr, void *data) {
        char *out = data;
        char ip[16];
        struct in_addr a = { .s_addr = rr->ip };
        assert_int_equal(rr->type, DISCOVERY_RR_A);
        assert_int_equal(rr->ttl, DISCOVERY_DCOS_TTL);
        sprintf(out + strlen(out), "%s=%s;", rr->name, inet_ntop(AF_INET, &a, ip, sizeof ip));
}

static void named_vips_answer_their_address_once(void **state) {
        json_t *vips = parse("[{\"name\":\"/web\",\"ip\":\"11.0.0.1\",\"port\":80,\"protocol\":\"tcp\"},"
                             "{\"name\":\"/web\",\"ip\":\"11.0.0.1\",\"port\":443,\"protocol\":\"tcp\"},"
                             "{\"ip\":\"10.0.0.9\",\"port\":80},{\"name\":\"/bad\",\"ip\":\"x\"},{\"name\":7},"
                             "{\"name\":\"/prod/db\",\"ip\":\"11.0.0.2\"}]");
        char out[512] = "";
        vip_records(vips, collect_a, out);
        assert_string_equal(out, "web.marathon.l4lb.thisdcos.directory.=11.0.0.1;"
                                 "proddb.marathon.l4lb.thisdcos.directory.=11.0.0.2;");
        json_decref(vips);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(labels_parse_named_and_ip_forms),
                cmocka_unit_test(bad_labels_are_refused_with_a_message),
                cmocka_unit_test(host_apps_take_labels_from_port_definitions),
                cmocka_unit_test(container_apps_use_port_mappings),
                cmocka_unit_test(cidrs_skip_network_and_broadcast),
                cmocka_unit_test(names_drop_slashes_as_dcos_net),
                cmocka_unit_test(named_vips_answer_their_address_once),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
