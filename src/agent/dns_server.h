/* dns_server.h — the agent's DNS server (DESIGN §8): UDP and TCP on the agent's loop, answers
 * for the cluster's names from the discovery view the leader streams (dns_zone.h, dns_answer.h),
 * everything else forwarded to the host's resolvers (dns_forward.h), SERVFAIL when they do not
 * answer. It answers from the last view it got for as long as it runs, masters or not.
 *
 * Also served: Mesos-DNS's HTTP API on the agent's HTTP port (dns_api.c) and counters for the
 * agent's /metrics (dns_server_metrics). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "agent/dns_zone.h"
#include "common/err.h"
#include "common/strbuf.h"

struct http_request;

struct dns_server_config {
        uv_loop_t *loop;
        const char *addr;        /* listen "ip:port" (UDP and TCP) */
        char **upstreams;        /* "ip[:port]", NULL-terminated; NULL or empty: /etc/resolv.conf */
        unsigned forward_timeout_ms; /* per upstream try (0: 2000) */
        uint32_t ttl;            /* .mesos TTL (0: Mesos-DNS's 60) */
        const char *advertise_ip; /* this agent's address for ns1.mesos (may be NULL) */
};

/* Counters (monotonic since start). */
struct dns_counters {
        uint64_t queries_udp, queries_tcp;
        uint64_t by_type[8];  /* A, AAAA, SRV, SOA, NS, ANY, PTR, other (dns_server.c qtype_index) */
        uint64_t by_rcode[6]; /* NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED */
        uint64_t forwarded, dropped, truncated, view_events, view_errors, cache_hits;
};

struct dns_server;

/* Binds UDP and TCP on cfg->addr and starts serving (an empty zone until the first snapshot).
 * On failure *ret is untouched and err says why (e.g. the port is taken). */
int dns_server_new(const struct dns_server_config *cfg, struct dns_server **ret, struct err *err);
/* Stops serving; freed once every handle is closed. NULL is a no-op. */
void dns_server_free(struct dns_server *s);
/* A DISCOVERY_* event from the agent link. */
void dns_server_apply(struct dns_server *s, const json_t *ev);
const struct dns_zone *dns_server_zone(const struct dns_server *s);
/* The listen address as bound ("ip:port"). */
const char *dns_server_address(const struct dns_server *s);
/* The address others reach it at: the listen address, or advertise_ip with its port when it
 * listens on every address. */
const char *dns_server_reachable_address(const struct dns_server *s);
/* Appends the counters in Prometheus text format (strata_dns_* families) — for the agent's
 * /metrics endpoint. */
void dns_server_metrics(const struct dns_server *s, struct strbuf *out);

/* dns_api.c: Mesos-DNS's HTTP API (GET /v1/version, /v1/config, /v1/hosts/{host},
 * /v1/services/{service}, /v1/enumerate, also under /mesos_dns). Returns false (nothing sent)
 * for any other path. */
bool dns_api_handle(struct dns_server *s, struct http_request *req, const char *path);
/* For dns_api.c: the configuration it reports. */
void dns_server_config_json(const struct dns_server *s, json_t *into);
