/* fuzz_dns_query.c — every agent answers UDP and TCP packets from anyone: any bytes through the
 * query path (ldns parse, zone lookup, answer build, truncation, SERVFAIL reply) must not crash,
 * leak or read past the buffer, and a reply must itself parse. */
#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/dns_answer.h"
#include "agent/dns_zone.h"

static struct dns_zone zone;

static void setup(void) {
        static const char *view =
                "{\"type\":\"DISCOVERY_SNAPSHOT\",\"view\":{"
                "\"masters\":{\"leader\":\"10.0.0.11:8080\",\"masters\":[\"10.0.0.11:8080\",\"10.0.0.12:8080\"]},"
                "\"agents\":[{\"id\":\"c-S0\",\"ip\":\"10.0.0.1\",\"port\":5051},{\"id\":\"c-S1\",\"ip\":\"10.0.0.2\",\"port\":5051}],"
                "\"tasks\":[{\"id\":\"prod_web.instance-1._app\",\"app\":\"/prod/web\",\"agent\":\"c-S0\",\"ports\":[[31000,31000,\"http\",\"udp,tcp\"]]},"
                "{\"id\":\"prod_web.instance-2._app\",\"app\":\"/prod/web\",\"agent\":\"c-S1\",\"ports\":[[31001,31001,\"\",\"tcp\"]]},"
                "{\"id\":\"db.instance-3._app\",\"app\":\"/db\",\"agent\":\"c-S1\",\"ip\":\"9.0.0.7\",\"ports\":[[5432,0,\"pg\",\"tcp\"]]}]}}";
        dns_zone_init(&zone, 60);
        json_t *ev = json_loads(view, 0, NULL);
        struct err e = { 0 };
        dns_zone_apply(&zone, ev, &e);
        err_release(&e);
        json_decref(ev);
        dns_zone_set_ns(&zone, 0x0100000a);
}

static void check_reply(const uint8_t *out, size_t n, size_t max) {
        ldns_pkt *p = NULL;
        if (n > max || ldns_wire2pkt(&p, out, n) != LDNS_STATUS_OK)
                __builtin_trap();
        ldns_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int ready;
        if (!ready) {
                setup();
                ready = 1;
        }
        /* an exact-size copy, so reading one byte past the packet is caught */
        uint8_t *q = malloc(size ? size : 1);
        memcpy(q, data, size);
        uint32_t rng = 1;
        for (int tcp = 0; tcp < 2; tcp++) {
                uint8_t *out = NULL;
                size_t on = 0;
                struct dns_query_info info;
                if (dns_answer(&zone, q, size, tcp, &rng, &out, &on, &info) == DNS_REPLY) {
                        check_reply(out, on, tcp ? 65535 : 4096);
                        free(out);
                }
        }
        uint8_t *out = NULL;
        size_t on = 0;
        if (dns_error_reply(q, size, LDNS_RCODE_SERVFAIL, &out, &on) == 0) {
                check_reply(out, on, 4096);
                free(out);
        }
        free(q);
        return 0;
}
