/* dns_cache.c — a cache of built replies keyed by query bytes (open addressing, short probes). */
#include "agent/dns_cache.h"

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

#define MAX_QUERY 512
#define MAX_REPLY 4096
#define PROBE 8 /* a key lives in one of the PROBE slots from its hash */

struct slot {
        uint64_t generation, hash;
        uint8_t *key; /* query bytes after the id */
        uint16_t klen;
        bool used, tcp, forward;
        struct dns_query_info info;
        uint8_t want, n, next; /* variants wanted, held, served next */
        uint8_t *var[DNS_CACHE_VARIANTS];
        uint16_t vlen[DNS_CACHE_VARIANTS];
};

struct dns_cache {
        struct slot *slots;
        size_t n; /* a power of two */
};

static uint64_t hash_query(const uint8_t *q, size_t n, bool tcp) {
        uint64_t h = 1469598103934665603ull ^ (uint64_t)tcp;
        for (size_t i = 2; i < n; i++) {
                h ^= q[i];
                h *= 1099511628211ull;
        }
        return h;
}

static void slot_clear(struct slot *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->var[i]);
        free(s->key);
        *s = (struct slot){ 0 };
}

struct dns_cache *dns_cache_new(size_t slots) {
        struct dns_cache *c = xcalloc(1, sizeof *c);
        c->n = 1;
        while (c->n < slots)
                c->n <<= 1;
        c->slots = xcalloc(c->n, sizeof *c->slots);
        return c;
}

void dns_cache_free(struct dns_cache *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++)
                slot_clear(&c->slots[i]);
        free(c->slots);
        free(c);
}

static struct slot *find(struct dns_cache *c, uint64_t generation, const uint8_t *q, size_t n, bool tcp, uint64_t h) {
        for (size_t i = 0; i < PROBE; i++) {
                struct slot *s = &c->slots[(h + i) & (c->n - 1)];
                if (s->used && s->hash == h && s->generation == generation && s->tcp == tcp && s->klen == n - 2 &&
                    memcmp(s->key, q + 2, n - 2) == 0)
                        return s;
        }
        return NULL;
}

/* Where a new key goes: a free or outdated slot of its window, else the first one. */
static struct slot *victim(struct dns_cache *c, uint64_t generation, uint64_t h) {
        for (size_t i = 0; i < PROBE; i++) {
                struct slot *s = &c->slots[(h + i) & (c->n - 1)];
                if (!s->used || s->generation != generation)
                        return s;
        }
        return &c->slots[h & (c->n - 1)];
}

enum dns_cache_hit dns_cache_get(struct dns_cache *c, uint64_t generation, const uint8_t *q, size_t n, bool tcp,
                                 const uint8_t **reply, size_t *len, struct dns_query_info *info) {
        if (n < LDNS_HEADER_SIZE || n > MAX_QUERY)
                return DNS_CACHE_MISS;
        struct slot *s = find(c, generation, q, n, tcp, hash_query(q, n, tcp));
        if (!s)
                return DNS_CACHE_MISS;
        *info = s->info;
        if (s->forward)
                return DNS_CACHE_FORWARD;
        if (s->n < s->want)
                return DNS_CACHE_MISS; /* build another shuffled order */
        size_t i = s->next++ % s->n;
        *reply = s->var[i];
        *len = s->vlen[i];
        return DNS_CACHE_REPLY;
}

void dns_cache_put(struct dns_cache *c, uint64_t generation, const uint8_t *q, size_t n, bool tcp,
                   enum dns_verdict v, const uint8_t *reply, size_t len, const struct dns_query_info *info) {
        if (n < LDNS_HEADER_SIZE || n > MAX_QUERY || (v == DNS_REPLY && len > MAX_REPLY) || v == DNS_DROP)
                return;
        uint64_t h = hash_query(q, n, tcp);
        struct slot *s = find(c, generation, q, n, tcp, h);
        if (!s) {
                s = victim(c, generation, h);
                slot_clear(s);
                *s = (struct slot){ .generation = generation, .hash = h, .klen = (uint16_t)(n - 2), .used = true,
                                    .tcp = tcp, .forward = v == DNS_FORWARD, .info = *info };
                s->key = xmalloc(n - 2);
                memcpy(s->key, q + 2, n - 2);
                /* several answers: keep several orders */
                s->want = v == DNS_REPLY && LDNS_ANCOUNT(reply) > 1 ? DNS_CACHE_VARIANTS : 1;
        }
        if (v != DNS_REPLY || s->n >= s->want)
                return;
        s->var[s->n] = xmalloc(len);
        memcpy(s->var[s->n], reply, len);
        s->vlen[s->n] = (uint16_t)len;
        s->n++;
}
