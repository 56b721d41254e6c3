/* dns_cache.h — replies the server built with ldns, kept by the exact bytes of the query that
 * asked (everything after the 16-bit id: flags, question, EDNS option), so a repeated question is
 * answered by copying the reply and putting the new id on it — no parse, no build.
 *
 * Correctness: a reply depends only on the query bytes after the id, the transport and the zone,
 * so entries are tagged with the zone's generation (dns_zone.generation) and one from an older
 * generation is a miss: a view change is never answered from before it. A reply with several
 * answers is kept in up to DNS_CACHE_VARIANTS shuffled orders served in turn, so clients still
 * spread over the records as Mesos-DNS's shuffle makes them. Forward decisions are cached too.
 * Bounded: a fixed number of slots (a key lives in one of 8 from its hash), queries ≤ 512 bytes,
 * replies ≤ 4096. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/dns_answer.h"

#define DNS_CACHE_VARIANTS 4

struct dns_cache;

struct dns_cache *dns_cache_new(size_t slots);
void dns_cache_free(struct dns_cache *c);

enum dns_cache_hit { DNS_CACHE_MISS, DNS_CACHE_REPLY, DNS_CACHE_FORWARD };

/* Looks the query up. DNS_CACHE_REPLY: *reply (borrowed until the next put) is the reply with the
 * id of the query that built it — the caller copies it and sets the id. On a hit, info has the
 * qtype and rcode of the decision. */
enum dns_cache_hit dns_cache_get(struct dns_cache *c, uint64_t generation, const uint8_t *q, size_t n, bool tcp,
                                 const uint8_t **reply, size_t *len, struct dns_query_info *info);
/* Remembers what dns_answer decided for q (DNS_REPLY with its reply, or DNS_FORWARD). */
void dns_cache_put(struct dns_cache *c, uint64_t generation, const uint8_t *q, size_t n, bool tcp,
                   enum dns_verdict v, const uint8_t *reply, size_t len, const struct dns_query_info *info);
