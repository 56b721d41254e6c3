/* test_agent_dns_cache.c — cached replies are keyed by the query bytes after the id, never
 * outlive a zone change, and several-answer replies rotate through shuffled orders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/dns_cache.h"

/* A header (id, flags, counts) followed by a fake question: enough for the cache. */
static size_t query(uint8_t *q, uint16_t id, const char *tail) {
        memset(q, 0, 12);
        q[0] = (uint8_t)(id >> 8);
        q[1] = (uint8_t)id;
        q[5] = 1; /* qdcount */
        strcpy((char *)q + 12, tail);
        return 12 + strlen(tail) + 1;
}

static size_t reply(uint8_t *r, uint8_t ancount, uint8_t tag) {
        memset(r, 0, 16);
        r[2] = 0x84;
        r[7] = ancount;
        r[12] = tag;
        return 16;
}

static void hits_need_the_same_bytes_the_same_transport_and_generation(void **state) {
        struct dns_cache *c = dns_cache_new(64);
        uint8_t q[64], q2[64], r[16];
        size_t n = query(q, 1, "web"), n2 = query(q2, 999, "web");
        struct dns_query_info info = { .qtype = 1, .rcode = 0 }, got;
        const uint8_t *out;
        size_t len;
        assert_int_equal(dns_cache_get(c, 1, q, n, false, &out, &len, &got), DNS_CACHE_MISS);
        size_t rn = reply(r, 1, 7);
        dns_cache_put(c, 1, q, n, false, DNS_REPLY, r, rn, &info);
        /* another id: same question */
        assert_int_equal(dns_cache_get(c, 1, q2, n2, false, &out, &len, &got), DNS_CACHE_REPLY);
        assert_int_equal(len, rn);
        assert_int_equal(out[12], 7);
        assert_int_equal(got.qtype, 1);
        /* TCP is another key; a newer zone generation is a miss */
        assert_int_equal(dns_cache_get(c, 1, q, n, true, &out, &len, &got), DNS_CACHE_MISS);
        assert_int_equal(dns_cache_get(c, 2, q, n, false, &out, &len, &got), DNS_CACHE_MISS);
        /* other bytes (case, flags) are other keys */
        uint8_t q3[64];
        size_t n3 = query(q3, 1, "Web");
        assert_int_equal(dns_cache_get(c, 1, q3, n3, false, &out, &len, &got), DNS_CACHE_MISS);
        /* forward decisions */
        uint8_t f[64];
        size_t fn = query(f, 5, "example");
        dns_cache_put(c, 1, f, fn, false, DNS_FORWARD, NULL, 0, &info);
        assert_int_equal(dns_cache_get(c, 1, f, fn, false, &out, &len, &got), DNS_CACHE_FORWARD);
        dns_cache_free(c);
}

static void several_answers_rotate_through_variants(void **state) {
        struct dns_cache *c = dns_cache_new(64);
        uint8_t q[64], r[16];
        size_t n = query(q, 1, "multi");
        struct dns_query_info info = { 0 }, got;
        const uint8_t *out;
        size_t len;
        for (uint8_t v = 0; v < DNS_CACHE_VARIANTS; v++) {
                if (v > 0)
                        assert_int_equal(dns_cache_get(c, 1, q, n, false, &out, &len, &got), DNS_CACHE_MISS);
                dns_cache_put(c, 1, q, n, false, DNS_REPLY, r, reply(r, 3, v), &info);
        }
        int seen[DNS_CACHE_VARIANTS] = { 0 };
        for (int i = 0; i < 2 * DNS_CACHE_VARIANTS; i++) {
                assert_int_equal(dns_cache_get(c, 1, q, n, false, &out, &len, &got), DNS_CACHE_REPLY);
                seen[out[12]]++;
        }
        for (int v = 0; v < DNS_CACHE_VARIANTS; v++)
                assert_int_equal(seen[v], 2);
        dns_cache_free(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(hits_need_the_same_bytes_the_same_transport_and_generation),
                cmocka_unit_test(several_answers_rotate_through_variants),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
