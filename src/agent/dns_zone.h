/* dns_zone.h — the agent's copy of the discovery view (master/discovery.h events) and the
 * records it implies, indexed by owner name for the DNS server.
 *
 * Every record remembers which view entry (a task, an agent, the masters) produced it, so an
 * entry that changes or leaves takes exactly its records with it: a task that stops serving is
 * gone from the answers when its DISCOVERY_UPDATE is applied. The zone is only ever changed by
 * dns_zone_apply / dns_zone_set_ns; it survives any loss of the masters unchanged. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hashmap.h"
#include "model/discovery.h"

struct dns_record {
        uint16_t type;  /* DISCOVERY_RR_A or _SRV */
        uint16_t port;
        uint32_t ttl;
        uint32_t ip;    /* network order */
        char *target;   /* SRV, owned */
        const void *owner;
};

struct dns_rrset {
        char *name; /* normalized (lower case, absolute), owned; the key in names */
        struct dns_record *rr;
        size_t n, cap;
};

struct dns_zone {
        struct hashmap names;  /* name → struct dns_rrset */
        struct hashmap tasks;  /* task id → struct zone_task (dns_zone.c) */
        struct hashmap agents; /* agent id → struct zone_agent */
        struct discovery_masters masters;
        uint32_t ns_ip;
        uint32_t ttl;          /* Mesos-DNS TTL of the .mesos records */
        uint32_t serial;       /* SOA serial: unix time of the last change (Mesos-DNS: of the last reload) */
        uint64_t generation;   /* bumps on every change */
        bool has_view;         /* a snapshot has been applied */
        size_t n_records;
        json_t *vips;          /* the view's VIP table, for its records (model/vip.h) */
};

void dns_zone_init(struct dns_zone *z, uint32_t ttl);
void dns_zone_release(struct dns_zone *z);
/* Applies a DISCOVERY_SNAPSHOT (replaces everything) or DISCOVERY_UPDATE event. Entries that do
 * not decode are skipped and counted in the error (-EINVAL with err, the rest applied). */
int dns_zone_apply(struct dns_zone *z, const json_t *ev, struct err *err);
/* Sets the server's own address (ns1.mesos). */
void dns_zone_set_ns(struct dns_zone *z, uint32_t ip);
/* The records of a normalized name, or NULL. */
const struct dns_rrset *dns_zone_lookup(const struct dns_zone *z, const char *name);
size_t dns_zone_task_count(const struct dns_zone *z);
/* Calls cb for every task in the view with its agent (NULL if the view has none for it). */
void dns_zone_foreach_task(const struct dns_zone *z,
                           void (*cb)(const struct discovery_task *t, const struct discovery_agent *a, void *data),
                           void *data);
/* Agents known by a host name rather than an address (their records wait for its IPv4). */
void dns_zone_foreach_unresolved(const struct dns_zone *z, void (*cb)(const char *host, void *data), void *data);
/* The IPv4 address (network order) of such a host name: its agents' and their tasks' records
 * appear. */
void dns_zone_resolved(struct dns_zone *z, const char *host, uint32_t ip);
