/* test_model_discovery.c — Mesos-DNS label rules, task names and the records of tasks, agents
 * and masters, with Mesos-DNS's own examples (records/labels/labels_test.go, generator_test.go). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "model/discovery.h"

static void label_is(const char *in, const char *want) {
        char out[64];
        size_t n = discovery_label(in, out);
        assert_string_equal(out, want);
        assert_int_equal(n, strlen(want));
}

static void labels_follow_rfc1123_as_mesos_dns_mangles_them(void **state) {
        label_is("", "");
        label_is("a", "a");
        label_is("-", "");
        label_is("a-", "a");
        label_is("-a", "a");
        label_is("a.b_c", "a-b-c");
        label_is("Web", "web");
        label_is("my*app!", "myapp");
        label_is("mysql.db.shop", "mysql-db-shop");
        /* cut at 63, trailing '-' trimmed and refilled from what follows the cut (trimCut) */
        char in[100];
        memset(in, 'a', 62);
        strcpy(in + 62, "--bcd");
        label_is(in, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
        memset(in, 'x', 80);
        in[80] = '\0';
        char want[64];
        memset(want, 'x', 63);
        want[63] = '\0';
        label_is(in, want);
}

static void domain_fragments_label_each_part(void **state) {
        char out[256];
        discovery_domain_frag("marathon", out, sizeof out);
        assert_string_equal(out, "marathon");
        discovery_domain_frag("Marathon.User..x_y", out, sizeof out);
        assert_string_equal(out, "marathon.user.x-y");
}

static void group_paths_flatten_like_marathon_task_names(void **state) {
        char out[300], lab[64];
        discovery_task_name("/prod/web", out, sizeof out);
        assert_string_equal(out, "web.prod");
        discovery_task_name("/shop/db/mysql", out, sizeof out);
        assert_string_equal(out, "mysql.db.shop");
        discovery_task_name("/web", out, sizeof out);
        assert_string_equal(out, "web");
        discovery_app_label("/prod/web", lab);
        assert_string_equal(lab, "web-prod");
        discovery_app_label("/a.b/c", lab);
        assert_string_equal(lab, "c-a-b");
}

static void task_hash_is_zbase32_of_sha1(void **state) {
        char h[6], tail[33];
        discovery_task_hash("test", h); /* generator_test.go TestHashString */
        assert_string_equal(h, "iffe9");
        discovery_agent_tail("20160107-001256-134875658-5050-27524-S3", tail);
        assert_string_equal(tail, "s3");
        discovery_agent_tail("noDash", tail);
        assert_string_equal(tail, "nodash");
}

static void only_running_healthy_wanted_tasks_serve(void **state) {
        assert_true(discovery_task_serves(TASK_RUNNING, false, false, true));
        assert_true(discovery_task_serves(TASK_RUNNING, true, true, true));
        assert_false(discovery_task_serves(TASK_RUNNING, true, false, true)); /* unhealthy */
        assert_false(discovery_task_serves(TASK_RUNNING, false, false, false)); /* being killed */
        assert_false(discovery_task_serves(TASK_KILLING, false, false, true));
        assert_false(discovery_task_serves(TASK_STAGING, false, false, true));
        assert_false(discovery_task_serves(TASK_FINISHED, false, false, true));
        assert_false(discovery_task_serves(TASK_UNREACHABLE, false, false, true));
}

/* Records collected as "name TYPE data ttl" lines. */
static void collect(const struct discovery_rr *rr, void *data) {
        struct strbuf *sb = data;
        char ip[16];
        struct in_addr a = { .s_addr = rr->ip };
        if (rr->type == DISCOVERY_RR_A)
                strbuf_printf(sb, "%s A %s %u\n", rr->name, inet_ntop(AF_INET, &a, ip, sizeof ip), rr->ttl);
        else
                strbuf_printf(sb, "%s SRV %s:%u %u\n", rr->name, rr->target, rr->port, rr->ttl);
}

static bool has(struct strbuf *sb, const char *line) {
        char want[1024];
        snprintf(want, sizeof want, "%s\n", line);
        return sb->buf && strstr(sb->buf, want) != NULL;
}

static uint32_t ip4(const char *s) {
        struct in_addr a;
        inet_pton(AF_INET, s, &a);
        return a.s_addr;
}

static const char *TASK_ID = "prod_web.instance-0b2c.4._app";

static void host_task_records(void **state) {
        struct discovery_port ports[2] = { { .number = 31000, .host_port = 31000, .name = "http", .tcp = true },
                                           { .number = 31001, .host_port = 31001, .name = "", .udp = true } };
        struct discovery_task t = { .id = TASK_ID, .app_id = "/prod/web", .agent_id = "c1-S2", .ports = ports,
                                    .n_ports = 2 };
        struct discovery_agent a = { .id = "c1-S2", .host = "10.0.0.2", .ip = ip4("10.0.0.2"), .port = 5051 };
        struct strbuf sb = { 0 };
        char hash[6], line[512];
        discovery_task_hash(TASK_ID, hash);
        discovery_task_records(&t, &a, 60, collect, &sb);
        assert_true(has(&sb, "web-prod.marathon.mesos. A 10.0.0.2 60"));
        assert_true(has(&sb, "web-prod.marathon.slave.mesos. A 10.0.0.2 60"));
        snprintf(line, sizeof line, "web-prod-%s-s2.marathon.mesos. A 10.0.0.2 60", hash);
        assert_true(has(&sb, line));
        snprintf(line, sizeof line, "_web-prod._tcp.marathon.mesos. SRV web-prod-%s-s2.marathon.mesos.:31000 60", hash);
        assert_true(has(&sb, line));
        snprintf(line, sizeof line, "_http._web-prod._tcp.marathon.mesos. SRV web-prod-%s-s2.marathon.mesos.:31000 60", hash);
        assert_true(has(&sb, line));
        snprintf(line, sizeof line, "_web-prod._udp.marathon.mesos. SRV web-prod-%s-s2.marathon.mesos.:31001 60", hash);
        assert_true(has(&sb, line));
        snprintf(line, sizeof line, "_web-prod._udp.marathon.mesos. SRV web-prod-%s-s2.marathon.mesos.:31000 60", hash);
        assert_false(has(&sb, line)); /* port 0 is tcp only */
        snprintf(line, sizeof line, "_web-prod._tcp.marathon.slave.mesos. SRV web-prod-%s-s2.marathon.slave.mesos.:31001 60", hash);
        assert_true(has(&sb, line)); /* slave SRVs: every host port, both protocols */
        /* the DiscoveryInfo name as is, too */
        assert_true(has(&sb, "web.prod.marathon.mesos. A 10.0.0.2 60"));
        /* DC/OS names */
        assert_true(has(&sb, "web-prod.marathon.autoip.dcos.thisdcos.directory. A 10.0.0.2 5"));
        assert_true(has(&sb, "web-prod.marathon.agentip.dcos.thisdcos.directory. A 10.0.0.2 5"));
        assert_null(strstr(sb.buf, "containerip"));
        strbuf_release(&sb);
}

static void container_network_task_uses_its_own_ip(void **state) {
        struct discovery_port ports[1] = { { .number = 8080, .host_port = 0, .name = "api", .tcp = true } };
        struct discovery_task t = { .id = "db.instance-1._app", .app_id = "/db", .agent_id = "c1-S0",
                                    .ip = ip4("9.0.1.5"), .ports = ports, .n_ports = 1 };
        struct discovery_agent a = { .id = "c1-S0", .host = "10.0.0.1", .ip = ip4("10.0.0.1"), .port = 5051 };
        struct strbuf sb = { 0 };
        discovery_task_records(&t, &a, 60, collect, &sb);
        assert_true(has(&sb, "db.marathon.mesos. A 9.0.1.5 60"));
        assert_true(has(&sb, "db.marathon.slave.mesos. A 10.0.0.1 60"));
        assert_true(has(&sb, "db.marathon.autoip.dcos.thisdcos.directory. A 9.0.1.5 5"));
        assert_true(has(&sb, "db.marathon.containerip.dcos.thisdcos.directory. A 9.0.1.5 5"));
        assert_true(has(&sb, "db.marathon.agentip.dcos.thisdcos.directory. A 10.0.0.1 5"));
        assert_null(strstr(sb.buf, "._udp.")); /* no host port: no slave SRVs */
        assert_null(strstr(sb.buf, "db.marathon.mesos. A 10.0.0.1"));
        strbuf_release(&sb);
        /* a task of an unknown agent has no records (Mesos-DNS skips it) */
        discovery_task_records(&t, NULL, 60, collect, &sb);
        assert_null(sb.buf);
}

static void ports_follow_the_app_networking(void **state) {
        json_error_t je;
        json_t *host = json_loads("{\"portDefinitions\":[{\"port\":0,\"name\":\"http\"},"
                                  "{\"port\":0,\"protocol\":\"udp,tcp\"}]}", 0, &je);
        uint16_t hp[2] = { 31000, 31001 };
        struct discovery_port out[8];
        assert_int_equal(discovery_ports_from_app(host, hp, 2, out, 8), 2);
        assert_int_equal(out[0].number, 31000);
        assert_string_equal(out[0].name, "http");
        assert_true(out[0].tcp && !out[0].udp);
        assert_int_equal(out[1].number, 31001);
        assert_true(out[1].tcp && out[1].udp);
        json_decref(host);

        json_t *bridge = json_loads("{\"networks\":[{\"mode\":\"container/bridge\"}],\"container\":{\"portMappings\":"
                                    "[{\"containerPort\":80,\"hostPort\":0,\"name\":\"web\"},{\"containerPort\":9000}]}}",
                                    0, &je);
        assert_int_equal(discovery_ports_from_app(bridge, hp, 1, out, 8), 1); /* 9000 has no host port */
        assert_int_equal(out[0].number, 31000);
        assert_int_equal(out[0].host_port, 31000);
        json_decref(bridge);

        json_t *cont = json_loads("{\"networks\":[{\"mode\":\"container\",\"name\":\"dcos\"}],\"container\":"
                                  "{\"portMappings\":[{\"containerPort\":80,\"name\":\"web\"}]}}", 0, &je);
        assert_int_equal(discovery_ports_from_app(cont, NULL, 0, out, 8), 1);
        assert_int_equal(out[0].number, 80);
        assert_int_equal(out[0].host_port, 0);
        json_decref(cont);
}

static void agent_and_master_records(void **state) {
        struct strbuf sb = { 0 };
        struct discovery_agent a = { .id = "c1-S0", .host = "10.0.0.1", .ip = ip4("10.0.0.1"), .port = 5051 };
        discovery_agent_records(&a, 60, collect, &sb);
        assert_true(has(&sb, "slave.mesos. A 10.0.0.1 60"));
        assert_true(has(&sb, "_slave._tcp.mesos. SRV slave.mesos.:5051 60"));
        strbuf_release(&sb);

        struct discovery_masters m = { .leader_ip = ip4("10.0.0.12"), .leader_port = 8080, .n = 3,
                                       .ips = { ip4("10.0.0.11"), ip4("10.0.0.12"), ip4("10.0.0.13") },
                                       .ports = { 8080, 8080, 8080 } };
        discovery_master_records(&m, 60, collect, &sb);
        assert_true(has(&sb, "leader.mesos. A 10.0.0.12 60"));
        assert_true(has(&sb, "master.mesos. A 10.0.0.11 60"));
        assert_true(has(&sb, "master.mesos. A 10.0.0.12 60"));
        assert_true(has(&sb, "master.mesos. A 10.0.0.13 60"));
        assert_true(has(&sb, "master0.mesos. A 10.0.0.11 60"));
        assert_true(has(&sb, "master1.mesos. A 10.0.0.12 60"));
        assert_true(has(&sb, "master2.mesos. A 10.0.0.13 60"));
        assert_true(has(&sb, "_leader._tcp.mesos. SRV leader.mesos.:8080 60"));
        assert_true(has(&sb, "_leader._udp.mesos. SRV leader.mesos.:8080 60"));
        assert_true(has(&sb, "marathon.mesos. A 10.0.0.12 60"));
        assert_true(has(&sb, "_framework._tcp.marathon.mesos. SRV marathon.mesos.:8080 60"));
        strbuf_release(&sb);

        /* a leader outside the list gets the next index */
        struct discovery_masters m2 = { .leader_ip = ip4("10.0.0.9"), .leader_port = 8080, .n = 1,
                                        .ips = { ip4("10.0.0.11") }, .ports = { 8080 } };
        discovery_master_records(&m2, 60, collect, &sb);
        assert_true(has(&sb, "master0.mesos. A 10.0.0.11 60"));
        assert_true(has(&sb, "master1.mesos. A 10.0.0.9 60"));
        strbuf_release(&sb);
}

static void view_entries_round_trip_and_reject_bad_input(void **state) {
        struct discovery_port ports[1] = { { .number = 31000, .host_port = 31000, .name = "http", .tcp = true,
                                             .udp = true } };
        struct discovery_task t = { .id = "a.instance-1._app", .app_id = "/a", .agent_id = "c-S0",
                                    .ip = ip4("9.0.0.3"), .ports = ports, .n_ports = 1 };
        json_t *j = discovery_task_to_json(&t);
        struct discovery_task back;
        struct discovery_port bp[DISCOVERY_MAX_PORTS];
        struct err e = { 0 };
        assert_int_equal(discovery_task_from_json(j, &back, bp, &e), 0);
        assert_string_equal(back.id, t.id);
        assert_string_equal(back.app_id, "/a");
        assert_int_equal(back.ip, t.ip);
        assert_int_equal(back.n_ports, 1);
        assert_int_equal(bp[0].number, 31000);
        assert_true(bp[0].tcp && bp[0].udp);
        assert_string_equal(bp[0].name, "http");
        json_decref(j);

        const char *bad[] = { "{}", "{\"id\":\"x\",\"app\":\"/a\"}", "{\"id\":\"x\",\"app\":\"/a\",\"agent\":\"s\",\"ip\":\"nope\"}",
                              "{\"id\":\"x\",\"app\":\"/a\",\"agent\":\"s\",\"ports\":[[0,0,\"\",\"tcp\"]]}",
                              "{\"id\":\"x\",\"app\":\"/a\",\"agent\":\"s\",\"ports\":[[1,70000,\"\",\"tcp\"]]}",
                              "{\"id\":\"x\",\"app\":\"/a\",\"agent\":\"s\",\"ports\":{}}" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                json_t *b = json_loads(bad[i], 0, NULL);
                assert_int_equal(discovery_task_from_json(b, &back, bp, &e), -EINVAL);
                err_release(&e);
                json_decref(b);
        }

        struct discovery_masters m = { .leader_ip = ip4("10.1.1.1"), .leader_port = 8080, .n = 1,
                                       .ips = { ip4("10.1.1.1") }, .ports = { 8080 } }, mb;
        j = discovery_masters_to_json(&m);
        assert_int_equal(discovery_masters_from_json(j, &mb, &e), 0);
        assert_int_equal(mb.leader_ip, m.leader_ip);
        assert_int_equal(mb.leader_port, 8080);
        assert_int_equal(mb.n, 1);
        json_decref(j);
        uint32_t ip;
        uint16_t port;
        assert_false(discovery_parse_ip_port("host:80", &ip, &port));
        assert_false(discovery_parse_ip_port("1.2.3.4:", &ip, &port));
        assert_false(discovery_parse_ip_port("1.2.3.4:99999", &ip, &port));
        assert_true(discovery_parse_ip_port("1.2.3.4:53", &ip, &port));
        assert_int_equal(port, 53);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(labels_follow_rfc1123_as_mesos_dns_mangles_them),
                cmocka_unit_test(domain_fragments_label_each_part),
                cmocka_unit_test(group_paths_flatten_like_marathon_task_names),
                cmocka_unit_test(task_hash_is_zbase32_of_sha1),
                cmocka_unit_test(only_running_healthy_wanted_tasks_serve),
                cmocka_unit_test(host_task_records),
                cmocka_unit_test(container_network_task_uses_its_own_ip),
                cmocka_unit_test(ports_follow_the_app_networking),
                cmocka_unit_test(agent_and_master_records),
                cmocka_unit_test(view_entries_round_trip_and_reject_bad_input),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
