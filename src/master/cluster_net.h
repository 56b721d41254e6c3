/* cluster_net.h — named cluster networks (Marathon `networks: [{"mode": "container", "name"}]`):
 * configured on the masters (`--network dcos=10.200.0.0/16`), one /24 of it per agent, and the
 * NETWORKS event that tells an agent its subnet and every other agent's (docs/ARCHITECTURE.md).
 *
 * An agent's subnet is a pure function of the network and the agent's id: agent ids end in
 * "-S<n>", n assigned once at registration by the replicated state machine, so every master
 * computes the same subnet n of the network without another replicated record; agent n gets
 * the n-th /24 (10.200.n.0/24). Masters must share the same --network flags. */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"
#include "store/state.h"

#define CLUSTER_NET_MAX 8

struct cluster_net {
        char name[64];
        uint32_t base; /* host byte order, aligned to the prefix */
        unsigned prefix; /* 8..24 */
};

/* "name=a.b.c.d/len" → *ret; -EINVAL with the reason (name [a-z0-9-], 1..63; len 8..24). */
int cluster_net_parse(const char *spec, struct cluster_net *ret, struct err *err);
/* The subnet ("10.200.3.0/24") agent_id has in net, or NULL (an id without "-S<n>", or n
 * beyond the network's /24s); malloc'd. */
char *cluster_net_agent_subnet(const struct cluster_net *net, const char *agent_id);
/* The NETWORKS event for one agent: {"type": "NETWORKS", "networks": [{"name", "cidr",
 * "subnet" (null if none), "peers": [{"agentId", "subnet", "ip"}]}]} with every other active
 * or unreachable agent whose address is an IPv4 literal. New object. */
json_t *cluster_net_event(const struct state *st, const struct cluster_net *nets, size_t n, const char *agent_id);
