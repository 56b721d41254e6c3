/* test_agent_dns.c — the agent's zone follows the discovery view entry by entry, and queries get
 * Mesos-DNS's answers (built and checked with ldns). */
#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/dns_answer.h"
#include "agent/dns_zone.h"
#include "agent/task_env.h"

static const char *SNAPSHOT =
        "{\"type\":\"DISCOVERY_SNAPSHOT\",\"term\":1,\"view\":{"
        "\"masters\":{\"leader\":\"10.0.0.11:8080\",\"masters\":[\"10.0.0.11:8080\"]},"
        "\"agents\":[{\"id\":\"c-S0\",\"ip\":\"10.0.0.1\",\"port\":5051,\"hostname\":\"a1\"},"
        "{\"id\":\"c-S1\",\"ip\":\"10.0.0.2\",\"port\":5051,\"hostname\":\"a2\"}],"
        "\"tasks\":[{\"id\":\"prod_web.instance-1._app\",\"app\":\"/prod/web\",\"agent\":\"c-S0\",\"ports\":[[31000,31000,\"http\",\"tcp\"]]},"
        "{\"id\":\"prod_web.instance-2._app\",\"app\":\"/prod/web\",\"agent\":\"c-S1\",\"ports\":[[31005,31005,\"http\",\"tcp\"]]},"
        "{\"id\":\"db.instance-3._app\",\"app\":\"/db\",\"agent\":\"c-S1\",\"ip\":\"9.0.0.7\",\"ports\":[[5432,0,\"\",\"tcp\"]]}]}}";

static void apply(struct dns_zone *z, const char *text) {
        json_t *ev = json_loads(text, 0, NULL);
        assert_non_null(ev);
        struct err e = { 0 };
        assert_int_equal(dns_zone_apply(z, ev, &e), 0);
        json_decref(ev);
}

/* Sends a question through dns_answer and returns the parsed reply (NULL if not DNS_REPLY). */
static ldns_pkt *ask(const struct dns_zone *z, const char *name, ldns_rr_type type, bool edns,
                     enum dns_verdict *verdict) {
        ldns_pkt *q = NULL;
        assert_int_equal(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
        ldns_pkt_set_id(q, 4242);
        if (edns)
                ldns_pkt_set_edns_udp_size(q, 4096);
        uint8_t *wire = NULL, *out = NULL;
        size_t n = 0, on = 0;
        assert_int_equal(ldns_pkt2wire(&wire, q, &n), LDNS_STATUS_OK);
        ldns_pkt_free(q);
        uint32_t rng = 7;
        struct dns_query_info info;
        enum dns_verdict v = dns_answer(z, wire, n, false, &rng, &out, &on, &info);
        free(wire);
        if (verdict)
                *verdict = v;
        if (v != DNS_REPLY)
                return NULL;
        ldns_pkt *r = NULL;
        assert_int_equal(ldns_wire2pkt(&r, out, on), LDNS_STATUS_OK);
        free(out);
        assert_int_equal(ldns_pkt_id(r), 4242);
        assert_true(ldns_pkt_qr(r));
        return r;
}

/* The answer section's A addresses as "ip,ip" sorted by the caller's expectations (count+has). */
static bool answer_has_a(const ldns_pkt *r, const char *ip) {
        ldns_rr_list *ans = ldns_pkt_answer(r);
        for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
                ldns_rr *rr = ldns_rr_list_rr(ans, i);
                if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A)
                        continue;
                char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
                bool eq = strcmp(s, ip) == 0;
                free(s);
                if (eq)
                        return true;
        }
        return false;
}

static void remember_host(const char *host, void *data) {
        *(const char **)data = host;
}

static void answers_a_and_srv_from_the_view(void **state) {
        struct dns_zone z;
        dns_zone_init(&z, 60);
        apply(&z, SNAPSHOT);
        ldns_pkt *r = ask(&z, "Web-Prod.marathon.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
        assert_true(ldns_pkt_aa(r));
        assert_int_equal(ldns_pkt_ancount(r), 2);
        assert_true(answer_has_a(r, "10.0.0.1"));
        assert_true(answer_has_a(r, "10.0.0.2"));
        /* the owner keeps the question's case, as Mesos-DNS does */
        char *owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(r), 0)));
        assert_string_equal(owner, "Web-Prod.marathon.mesos.");
        free(owner);
        assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(r), 0)), 60);
        ldns_pkt_free(r);

        r = ask(&z, "_web-prod._tcp.marathon.mesos.", LDNS_RR_TYPE_SRV, false, NULL);
        assert_int_equal(ldns_pkt_ancount(r), 2);
        assert_int_equal(ldns_pkt_arcount(r), 2); /* the targets' A records */
        ldns_rr *srv = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
        uint16_t port = ldns_rdf2native_int16(ldns_rr_rdf(srv, 2));
        assert_true(port == 31000 || port == 31005);
        ldns_pkt_free(r);

        r = ask(&z, "db.marathon.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_true(answer_has_a(r, "9.0.0.7"));
        assert_int_equal(ldns_pkt_ancount(r), 1);
        ldns_pkt_free(r);
        r = ask(&z, "db.marathon.containerip.dcos.thisdcos.directory.", LDNS_RR_TYPE_A, false, NULL);
        assert_true(answer_has_a(r, "9.0.0.7"));
        assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(r), 0)), 5);
        ldns_pkt_free(r);
        /* the mirror zone */
        r = ask(&z, "web-prod.marathon.mesos.thisdcos.directory.", LDNS_RR_TYPE_A, false, NULL);
        assert_int_equal(ldns_pkt_ancount(r), 2);
        ldns_pkt_free(r);
        r = ask(&z, "leader.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_true(answer_has_a(r, "10.0.0.11"));
        ldns_pkt_free(r);
        r = ask(&z, "slave.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_int_equal(ldns_pkt_ancount(r), 2);
        ldns_pkt_free(r);
        dns_zone_release(&z);
}

static void changes_take_exactly_their_records(void **state) {
        struct dns_zone z;
        dns_zone_init(&z, 60);
        apply(&z, SNAPSHOT);
        /* one instance stops serving: its address leaves at once, the other stays */
        apply(&z, "{\"type\":\"DISCOVERY_UPDATE\",\"term\":1,\"view\":{\"tasksGone\":[\"prod_web.instance-2._app\"]}}");
        ldns_pkt *r = ask(&z, "web-prod.marathon.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_int_equal(ldns_pkt_ancount(r), 1);
        assert_true(answer_has_a(r, "10.0.0.1"));
        ldns_pkt_free(r);
        /* the last one goes: NXDOMAIN with the SOA, never a stale address */
        apply(&z, "{\"type\":\"DISCOVERY_UPDATE\",\"term\":1,\"view\":{\"tasksGone\":[\"prod_web.instance-1._app\"]}}");
        r = ask(&z, "web-prod.marathon.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(r), 0)), LDNS_RR_TYPE_SOA);
        ldns_pkt_free(r);
        /* an agent moving moves its tasks' records */
        apply(&z, "{\"type\":\"DISCOVERY_UPDATE\",\"term\":1,\"view\":{\"agents\":[{\"id\":\"c-S1\",\"ip\":\"10.0.9.9\",\"port\":5051}]}}");
        r = ask(&z, "db.marathon.slave.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_true(answer_has_a(r, "10.0.9.9"));
        assert_int_equal(ldns_pkt_ancount(r), 1);
        ldns_pkt_free(r);
        /* a task comes back */
        apply(&z, "{\"type\":\"DISCOVERY_UPDATE\",\"term\":1,\"view\":{\"tasks\":[{\"id\":\"prod_web.instance-9._app\","
                  "\"app\":\"/prod/web\",\"agent\":\"c-S0\",\"ports\":[]}]}}");
        r = ask(&z, "web-prod.marathon.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_true(answer_has_a(r, "10.0.0.1"));
        ldns_pkt_free(r);
        /* a snapshot replaces everything */
        apply(&z, "{\"type\":\"DISCOVERY_SNAPSHOT\",\"term\":2,\"view\":{\"tasks\":[],\"agents\":[],\"masters\":{\"masters\":[]}}}");
        assert_int_equal(dns_zone_task_count(&z), 0);
        r = ask(&z, "leader.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
        ldns_pkt_free(r);
        /* bad entries are skipped, the rest applied */
        json_t *ev = json_loads("{\"type\":\"DISCOVERY_UPDATE\",\"view\":{\"agents\":[{\"id\":1},{\"id\":\"c-S0\",\"ip\":\"10.0.0.1\",\"port\":5051}]}}", 0, NULL);
        struct err e = { 0 };
        assert_int_equal(dns_zone_apply(&z, ev, &e), -EINVAL);
        err_release(&e);
        json_decref(ev);
        r = ask(&z, "slave.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_int_equal(ldns_pkt_ancount(r), 1);
        ldns_pkt_free(r);
        dns_zone_release(&z);
}

static void soa_ns_nodata_and_forwarding(void **state) {
        struct dns_zone z;
        dns_zone_init(&z, 60);
        dns_zone_set_ns(&z, inet_addr("10.0.0.1"));
        apply(&z, SNAPSHOT);
        ldns_pkt *r = ask(&z, "mesos.", LDNS_RR_TYPE_SOA, false, NULL);
        assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
        ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(r), 0);
        assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
        char *mname = ldns_rdf2str(ldns_rr_rdf(soa, 0));
        assert_string_equal(mname, "ns1.mesos.");
        free(mname);
        assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 3)), 60);
        assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 4)), 600);
        assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 5)), 86400);
        ldns_pkt_free(r);
        r = ask(&z, "mesos.", LDNS_RR_TYPE_NS, false, NULL);
        assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(r), 0)), LDNS_RR_TYPE_NS);
        ldns_pkt_free(r);
        r = ask(&z, "ns1.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_true(answer_has_a(r, "10.0.0.1"));
        ldns_pkt_free(r);
        /* NODATA: the name exists, not with that type */
        r = ask(&z, "web-prod.marathon.mesos.", LDNS_RR_TYPE_AAAA, false, NULL);
        assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        ldns_pkt_free(r);
        enum dns_verdict v;
        assert_null(ask(&z, "example.com.", LDNS_RR_TYPE_A, false, &v));
        assert_int_equal(v, DNS_FORWARD);
        assert_null(ask(&z, "mesos.example.com.", LDNS_RR_TYPE_A, false, &v));
        assert_int_equal(v, DNS_FORWARD);
        dns_zone_release(&z);
}

static void big_answers_are_truncated_over_udp(void **state) {
        struct dns_zone z;
        dns_zone_init(&z, 60);
        json_t *agents = json_array(), *tasks = json_array();
        for (int i = 0; i < 100; i++) {
                char id[32], ip[32], tid[64];
                snprintf(id, sizeof id, "c-S%d", i);
                snprintf(ip, sizeof ip, "10.1.%d.%d", i / 200, i % 200 + 1);
                snprintf(tid, sizeof tid, "big.instance-%d._app", i);
                json_array_append_new(agents, json_pack("{s:s,s:s,s:i}", "id", id, "ip", ip, "port", 5051));
                json_array_append_new(tasks, json_pack("{s:s,s:s,s:s,s:[]}", "id", tid, "app", "/big", "agent", id, "ports"));
        }
        json_t *ev = json_pack("{s:s,s:{s:o,s:o,s:{s:[]}}}", "type", "DISCOVERY_SNAPSHOT", "view", "agents", agents,
                               "tasks", tasks, "masters", "masters");
        struct err e = { 0 };
        assert_int_equal(dns_zone_apply(&z, ev, &e), 0);
        json_decref(ev);
        ldns_pkt *r = ask(&z, "big.marathon.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_true(ldns_pkt_tc(r));
        assert_true(ldns_pkt_ancount(r) > 0 && ldns_pkt_ancount(r) < 100);
        ldns_pkt_free(r);
        r = ask(&z, "big.marathon.mesos.", LDNS_RR_TYPE_A, true, NULL); /* EDNS 4096 */
        assert_false(ldns_pkt_tc(r));
        assert_int_equal(ldns_pkt_ancount(r), 100);
        ldns_pkt_free(r);
        dns_zone_release(&z);
}

static void garbage_is_dropped_and_replies_are_not_answered(void **state) {
        struct dns_zone z;
        dns_zone_init(&z, 60);
        uint32_t rng = 1;
        uint8_t *out = NULL;
        size_t on = 0;
        struct dns_query_info info;
        const uint8_t junk[] = { 1, 2, 3 };
        assert_int_equal(dns_answer(&z, junk, sizeof junk, false, &rng, &out, &on, &info), DNS_DROP);
        ldns_pkt *q = NULL;
        ldns_pkt_query_new_frm_str(&q, "leader.mesos.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
        ldns_pkt_set_qr(q, true);
        uint8_t *wire = NULL;
        size_t n = 0;
        ldns_pkt2wire(&wire, q, &n);
        assert_int_equal(dns_answer(&z, wire, n, false, &rng, &out, &on, &info), DNS_DROP);
        /* SERVFAIL for a forwarded query that got no answer */
        ldns_pkt_set_qr(q, false);
        free(wire);
        ldns_pkt2wire(&wire, q, &n);
        assert_int_equal(dns_error_reply(wire, n, LDNS_RCODE_SERVFAIL, &out, &on), 0);
        assert_int_equal(dns_reply_rcode(out, on), LDNS_RCODE_SERVFAIL);
        free(out);
        free(wire);
        ldns_pkt_free(q);
        dns_zone_release(&z);
}

static void agents_known_by_host_name_wait_for_its_address(void **state) {
        struct dns_zone z;
        dns_zone_init(&z, 60);
        apply(&z, "{\"type\":\"DISCOVERY_SNAPSHOT\",\"view\":{\"masters\":{\"masters\":[]},"
                  "\"agents\":[{\"id\":\"c-S0\",\"ip\":\"node-1.example\",\"port\":5051}],"
                  "\"tasks\":[{\"id\":\"web.instance-1._app\",\"app\":\"/web\",\"agent\":\"c-S0\",\"ports\":[]}]}}");
        ldns_pkt *r = ask(&z, "web.marathon.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
        ldns_pkt_free(r);
        const char *unresolved = NULL;
        dns_zone_foreach_unresolved(&z, remember_host, &unresolved);
        assert_string_equal(unresolved, "node-1.example");
        uint64_t gen = z.generation;
        dns_zone_resolved(&z, "node-1.example", inet_addr("10.3.3.3"));
        assert_true(z.generation > gen);
        r = ask(&z, "web.marathon.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_true(answer_has_a(r, "10.3.3.3"));
        ldns_pkt_free(r);
        r = ask(&z, "slave.mesos.", LDNS_RR_TYPE_A, false, NULL);
        assert_true(answer_has_a(r, "10.3.3.3"));
        ldns_pkt_free(r);
        unresolved = NULL;
        dns_zone_foreach_unresolved(&z, remember_host, &unresolved);
        assert_null(unresolved);
        dns_zone_release(&z);
}

static void tasks_get_the_dns_address_in_their_environment(void **state) {
        json_t *app = json_loads("{\"id\":\"/web\",\"cmd\":\"true\"}", 0, NULL);
        struct task_env_input in = { .app = app, .task_id = "web.instance-1._app", .host = "h", .enforce_group_role = -1,
                                     .dns_address = "10.0.0.5:53" };
        char **env = NULL;
        struct err e = { 0 };
        assert_int_equal(task_env_build(&in, &env, &e), 0);
        assert_string_equal(task_env_get(env, "STRATA_DNS_ADDRESS"), "10.0.0.5:53");
        task_env_free(env);
        in.dns_address = NULL; /* an agent without DNS */
        assert_int_equal(task_env_build(&in, &env, &e), 0);
        assert_null(task_env_get(env, "STRATA_DNS_ADDRESS"));
        task_env_free(env);
        json_decref(app);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(answers_a_and_srv_from_the_view),
                cmocka_unit_test(changes_take_exactly_their_records),
                cmocka_unit_test(soa_ns_nodata_and_forwarding),
                cmocka_unit_test(big_answers_are_truncated_over_udp),
                cmocka_unit_test(garbage_is_dropped_and_replies_are_not_answered),
                cmocka_unit_test(agents_known_by_host_name_wait_for_its_address),
                cmocka_unit_test(tasks_get_the_dns_address_in_their_environment),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
