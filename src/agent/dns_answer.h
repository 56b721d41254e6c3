/* dns_answer.h — one DNS query in, one decision out (no I/O): an authoritative answer from the
 * zone for the cluster's names, "forward" for everything else, or "drop" for what is not a
 * query. Wire format through ldns only.
 *
 * Answers follow Mesos-DNS's resolver (resolver/resolver.go HandleMesos): AA set, RA set (other
 * names are forwarded), answers shuffled; an SOA or NS question gets the zone's SOA / NS in the
 * authority section with NOERROR; a name with records but none of the asked type is NODATA
 * (NOERROR); a name without records is NXDOMAIN; both carry the SOA in the authority section.
 * SRV answers carry the targets' A records as additional data. Over UDP a reply is cut to the
 * client's EDNS size (512 without EDNS) with TC set, as Mesos-DNS's truncate does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/dns_zone.h"

enum dns_verdict { DNS_REPLY, DNS_FORWARD, DNS_DROP };

struct dns_query_info {
        uint16_t qtype;   /* 0 if the packet had no question */
        uint8_t rcode;    /* of the reply (DNS_REPLY) */
        bool truncated;
};

/* Decides on the query q (n bytes, untrusted). DNS_REPLY: *out (malloc'd, n_out bytes) is the
 * reply; DNS_FORWARD: send q upstream; DNS_DROP: not a parsable query, nothing to send. tcp:
 * the reply may be up to 65535 bytes. rng: the caller's shuffle state (never 0). */
enum dns_verdict dns_answer(const struct dns_zone *z, const uint8_t *q, size_t n, bool tcp, uint32_t *rng,
                            uint8_t **out, size_t *n_out, struct dns_query_info *info);

/* A reply with only the question and rcode (SERVFAIL when upstreams do not answer). Returns 0
 * and *out (malloc'd), or -EBADMSG if q does not parse as a query. */
int dns_error_reply(const uint8_t *q, size_t n, uint8_t rcode, uint8_t **out, size_t *n_out);

/* The rcode of a reply on the wire (for counters), or -1 if too short. */
int dns_reply_rcode(const uint8_t *r, size_t n);
