/* dns_answer.c — Mesos-DNS-compatible answers from the zone, built with ldns. */
#include "agent/dns_answer.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"

#define MAX_ANSWERS 512

static uint32_t next_rand(uint32_t *s) {
        /* xorshift32: shuffling answers needs no more */
        uint32_t x = *s ? *s : 2463534242u;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return *s = x;
}

static ldns_rr *rr_new(const ldns_rdf *owner, ldns_rr_type type, uint32_t ttl) {
        ldns_rr *rr = ldns_rr_new();
        ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
        ldns_rr_set_type(rr, type);
        ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
        ldns_rr_set_ttl(rr, ttl);
        return rr;
}

static ldns_rr *a_rr(const ldns_rdf *owner, uint32_t ip, uint32_t ttl) {
        ldns_rr *rr = rr_new(owner, LDNS_RR_TYPE_A, ttl);
        ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &ip));
        return rr;
}

static ldns_rr *srv_rr(const ldns_rdf *owner, const struct dns_record *r) {
        ldns_rdf *target = ldns_dname_new_frm_str(r->target);
        if (!target)
                return NULL;
        ldns_rr *rr = rr_new(owner, LDNS_RR_TYPE_SRV, r->ttl);
        /* Mesos-DNS formatSRV: priority 0, weight SRVRecordDefaultWeight (1). */
        ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 1));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, r->port));
        ldns_rr_push_rdf(rr, target);
        return rr;
}

static ldns_rdf *ns1_name(void) {
        return ldns_dname_new_frm_str("ns1." DISCOVERY_DOMAIN ".");
}

static ldns_rr *soa_rr(const struct dns_zone *z, const ldns_rdf *owner) {
        ldns_rr *rr = rr_new(owner, LDNS_RR_TYPE_SOA, z->ttl);
        ldns_rr_push_rdf(rr, ns1_name());
        ldns_rr_push_rdf(rr, ldns_dname_new_frm_str("root.ns1." DISCOVERY_DOMAIN "."));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, z->serial));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, DISCOVERY_SOA_REFRESH));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, DISCOVERY_SOA_RETRY));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, DISCOVERY_SOA_EXPIRE));
        /* formatSOA: "Minttl: ttl" — the record TTL, not SOAMinttl */
        ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, z->ttl));
        return rr;
}

static ldns_rr *ns_rr(const struct dns_zone *z, const ldns_rdf *owner) {
        ldns_rr *rr = rr_new(owner, LDNS_RR_TYPE_NS, z->ttl);
        ldns_rr_push_rdf(rr, ns1_name());
        return rr;
}

static bool same(const struct dns_record *a, const struct dns_record *b) {
        return a->type == b->type && a->ip == b->ip && a->port == b->port &&
               (a->target == b->target || (a->target && b->target && strcmp(a->target, b->target) == 0));
}

/* The records of set with the type, without duplicates (two tasks of an app on one agent give
 * the same A record), shuffled. Returns how many were put in picked. */
static size_t pick(const struct dns_rrset *set, uint16_t type, uint32_t *rng, const struct dns_record **picked) {
        size_t n = 0;
        for (size_t i = 0; set && i < set->n && n < MAX_ANSWERS; i++) {
                const struct dns_record *r = &set->rr[i];
                if (r->type != type)
                        continue;
                bool dup = false;
                for (size_t k = 0; k < n && !dup; k++)
                        dup = same(picked[k], r);
                if (!dup)
                        picked[n++] = r;
        }
        for (size_t i = n; i > 1; i--) {
                size_t j = next_rand(rng) % i;
                const struct dns_record *t = picked[i - 1];
                picked[i - 1] = picked[j];
                picked[j] = t;
        }
        return n;
}

static void add_answers(const struct dns_zone *z, ldns_pkt *resp, const struct dns_rrset *set, const ldns_rdf *owner,
                        uint16_t type, uint32_t *rng) {
        const struct dns_record *picked[MAX_ANSWERS];
        size_t n = pick(set, type, rng, picked);
        for (size_t i = 0; i < n; i++) {
                const struct dns_record *r = picked[i];
                ldns_rr *rr = type == DISCOVERY_RR_A ? a_rr(owner, r->ip, r->ttl) : srv_rr(owner, r);
                if (!rr)
                        continue;
                ldns_pkt_push_rr(resp, LDNS_SECTION_ANSWER, rr);
                if (type != DISCOVERY_RR_SRV)
                        continue;
                /* handleSRV: the target's first A record as additional data, once per target */
                const struct dns_rrset *tset = dns_zone_lookup(z, r->target);
                bool seen = false;
                for (size_t k = 0; k < i && !seen; k++)
                        seen = strcmp(picked[k]->target, r->target) == 0;
                for (size_t k = 0; tset && !seen && k < tset->n; k++) {
                        if (tset->rr[k].type != DISCOVERY_RR_A)
                                continue;
                        ldns_rdf *t = ldns_dname_new_frm_str(r->target);
                        if (t) {
                                ldns_pkt_push_rr(resp, LDNS_SECTION_ADDITIONAL, a_rr(t, tset->rr[k].ip, tset->rr[k].ttl));
                                ldns_rdf_deep_free(t);
                        }
                        break;
                }
        }
}

/* Encodes resp, cutting answers (and additional data) until it fits in max bytes. */
static int encode(ldns_pkt *resp, size_t max, uint8_t **out, size_t *n_out, bool *truncated) {
        for (;;) {
                uint8_t *wire = NULL;
                size_t len = 0;
                if (ldns_pkt2wire(&wire, resp, &len) != LDNS_STATUS_OK)
                        return -ENOMEM;
                if (len <= max) {
                        *out = wire;
                        *n_out = len;
                        return 0;
                }
                free(wire);
                ldns_rr_list *extra = ldns_pkt_additional(resp), *ans = ldns_pkt_answer(resp);
                ldns_rr_list *from = ldns_rr_list_rr_count(extra) > 0 ? extra : ans;
                if (ldns_rr_list_rr_count(from) == 0)
                        from = ldns_pkt_authority(resp);
                ldns_rr *rr = ldns_rr_list_pop_rr(from);
                if (!rr)
                        return -EMSGSIZE;
                ldns_rr_free(rr);
                ldns_pkt_set_ancount(resp, (uint16_t)ldns_rr_list_rr_count(ans));
                ldns_pkt_set_arcount(resp, (uint16_t)ldns_rr_list_rr_count(extra));
                ldns_pkt_set_nscount(resp, (uint16_t)ldns_rr_list_rr_count(ldns_pkt_authority(resp)));
                ldns_pkt_set_tc(resp, true);
                *truncated = true;
        }
}

/* The reply skeleton: id, flags and question of the query. */
static ldns_pkt *reply_to(const ldns_pkt *req) {
        ldns_pkt *resp = ldns_pkt_new();
        ldns_pkt_set_id(resp, ldns_pkt_id(req));
        ldns_pkt_set_qr(resp, true);
        ldns_pkt_set_opcode(resp, ldns_pkt_get_opcode(req));
        ldns_pkt_set_rd(resp, ldns_pkt_rd(req));
        ldns_pkt_set_cd(resp, ldns_pkt_cd(req));
        ldns_pkt_set_ra(resp, true);
        ldns_rr_list *q = ldns_pkt_question(req);
        for (size_t i = 0; i < ldns_rr_list_rr_count(q); i++)
                ldns_pkt_push_rr(resp, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(q, i)));
        if (ldns_pkt_edns(req))
                ldns_pkt_set_edns_udp_size(resp, 4096);
        return resp;
}

static size_t udp_max(const ldns_pkt *req) {
        uint16_t sz = ldns_pkt_edns(req) ? ldns_pkt_edns_udp_size(req) : 512;
        return sz < 512 ? 512 : sz > 4096 ? 4096 : sz;
}

enum dns_verdict dns_answer(const struct dns_zone *z, const uint8_t *q, size_t n, bool tcp, uint32_t *rng,
                            uint8_t **out, size_t *n_out, struct dns_query_info *info) {
        *info = (struct dns_query_info){ 0 };
        ldns_pkt *req = NULL;
        if (ldns_wire2pkt(&req, q, n) != LDNS_STATUS_OK)
                return DNS_DROP;
        if (ldns_pkt_qr(req)) {
                /* a reply sent to us: never answer it (no reflection loops) */
                ldns_pkt_free(req);
                return DNS_DROP;
        }
        ldns_pkt *resp = reply_to(req);
        ldns_rr *question = ldns_pkt_qdcount(req) == 1 ? ldns_rr_list_rr(ldns_pkt_question(req), 0) : NULL;
        uint16_t qtype = question ? (uint16_t)ldns_rr_get_type(question) : 0;
        info->qtype = qtype;
        if (ldns_pkt_get_opcode(req) != LDNS_PACKET_QUERY) {
                ldns_pkt_set_rcode(resp, LDNS_RCODE_NOTIMPL);
        } else if (!question) {
                ldns_pkt_set_rcode(resp, LDNS_RCODE_FORMERR);
        } else {
                const ldns_rdf *owner = ldns_rr_owner(question);
                char *text = ldns_rdf2str(owner);
                char name[DISCOVERY_MAX_NAME + 1];
                size_t len = text ? discovery_normalize_name(text, name) : 0;
                free(text);
                if (len == 0 || !discovery_is_local_name(name)) {
                        ldns_pkt_free(resp);
                        ldns_pkt_free(req);
                        return DNS_FORWARD;
                }
                ldns_pkt_set_aa(resp, true);
                const struct dns_rrset *set = dns_zone_lookup(z, name);
                ldns_rr_class cls = ldns_rr_get_class(question);
                if (cls != LDNS_RR_CLASS_IN && cls != LDNS_RR_CLASS_ANY) {
                        ldns_pkt_set_rcode(resp, LDNS_RCODE_REFUSED);
                } else {
                        bool any = qtype == LDNS_RR_TYPE_ANY;
                        if (qtype == LDNS_RR_TYPE_SRV || any)
                                add_answers(z, resp, set, owner, DISCOVERY_RR_SRV, rng);
                        if (qtype == LDNS_RR_TYPE_A || any)
                                add_answers(z, resp, set, owner, DISCOVERY_RR_A, rng);
                        if (qtype == LDNS_RR_TYPE_SOA || any)
                                ldns_pkt_push_rr(resp, LDNS_SECTION_AUTHORITY, soa_rr(z, owner));
                        if (qtype == LDNS_RR_TYPE_NS || any)
                                ldns_pkt_push_rr(resp, LDNS_SECTION_AUTHORITY, ns_rr(z, owner));
                        if (ldns_pkt_ancount(resp) == 0) {
                                /* handleEmpty: SOA and NS questions are answered; otherwise
                                 * NXDOMAIN unless the name has records (NODATA), with the SOA */
                                if (qtype != LDNS_RR_TYPE_SOA && qtype != LDNS_RR_TYPE_NS) {
                                        if (!set)
                                                ldns_pkt_set_rcode(resp, LDNS_RCODE_NXDOMAIN);
                                        if (!any)
                                                ldns_pkt_push_rr(resp, LDNS_SECTION_AUTHORITY, soa_rr(z, owner));
                                }
                        }
                }
        }
        info->rcode = ldns_pkt_get_rcode(resp);
        int r = encode(resp, tcp ? 65535 : udp_max(req), out, n_out, &info->truncated);
        ldns_pkt_free(resp);
        ldns_pkt_free(req);
        return r < 0 ? DNS_DROP : DNS_REPLY;
}

int dns_error_reply(const uint8_t *q, size_t n, uint8_t rcode, uint8_t **out, size_t *n_out) {
        ldns_pkt *req = NULL;
        if (ldns_wire2pkt(&req, q, n) != LDNS_STATUS_OK)
                return -EBADMSG;
        ldns_pkt *resp = reply_to(req);
        ldns_pkt_set_rcode(resp, rcode);
        bool tc = false;
        int r = encode(resp, udp_max(req), out, n_out, &tc);
        ldns_pkt_free(resp);
        ldns_pkt_free(req);
        return r;
}

int dns_reply_rcode(const uint8_t *r, size_t n) {
        return n >= LDNS_HEADER_SIZE ? (int)LDNS_RCODE_WIRE(r) : -1;
}
