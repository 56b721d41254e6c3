/* cluster_net.c — named cluster networks: flags, per-agent subnets, the NETWORKS event. */
#include "master/cluster_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"
#include "store/cluster_state.h"

int cluster_net_parse(const char *spec, struct cluster_net *ret, struct err *err) {
        const char *eq = strchr(spec, '=');
        size_t nlen = eq ? (size_t)(eq - spec) : 0;
        if (!eq || nlen == 0 || nlen >= sizeof ret->name)
                return err_set(err, -EINVAL, "network '%s': expected NAME=CIDR (e.g. dcos=10.200.0.0/16)", spec);
        for (size_t i = 0; i < nlen; i++)
                if (!((spec[i] >= 'a' && spec[i] <= 'z') || (spec[i] >= '0' && spec[i] <= '9') || spec[i] == '-'))
                        return err_set(err, -EINVAL, "network '%s': the name may have only a-z, 0-9 and '-'", spec);
        const char *slash = strchr(eq + 1, '/');
        char addr[INET_ADDRSTRLEN];
        size_t alen = slash ? (size_t)(slash - eq - 1) : 0;
        struct in_addr a;
        char *end = NULL;
        long prefix = slash ? strtol(slash + 1, &end, 10) : -1;
        if (!slash || alen == 0 || alen >= sizeof addr || !end || *end || end == slash + 1 || prefix < 8 ||
            prefix > 24)
                return err_set(err, -EINVAL, "network '%s': the CIDR must be a.b.c.d/len with len 8..24", spec);
        memcpy(addr, eq + 1, alen);
        addr[alen] = 0;
        if (inet_pton(AF_INET, addr, &a) != 1)
                return err_set(err, -EINVAL, "network '%s': '%s' is not an IPv4 address", spec, addr);
        uint32_t base = ntohl(a.s_addr);
        uint32_t mask = prefix ? ~UINT32_C(0) << (32 - prefix) : 0;
        if (base & ~mask)
                return err_set(err, -EINVAL, "network '%s': '%s' has bits outside its /%ld", spec, addr, prefix);
        memcpy(ret->name, spec, nlen);
        ret->name[nlen] = 0;
        ret->base = base;
        ret->prefix = (unsigned)prefix;
        return 0;
}

static char *format_cidr(uint32_t base, unsigned prefix) {
        struct in_addr a = {.s_addr = htonl(base)};
        char buf[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, buf, sizeof buf);
        return xasprintf("%s/%u", buf, prefix);
}

char *cluster_net_agent_subnet(const struct cluster_net *net, const char *agent_id) {
        const char *s = agent_id ? strrchr(agent_id, 'S') : NULL;
        if (!s || s == agent_id || s[-1] != '-' || !s[1])
                return NULL;
        char *end;
        unsigned long long n = strtoull(s + 1, &end, 10);
        uint64_t slots = UINT64_C(1) << (24 - net->prefix);
        if (*end || n >= slots)
                return NULL;
        return format_cidr(net->base + (uint32_t)(n << 8), 24);
}

/* The IPv4 literal of an agent's "ip:port" address, or false. */
static bool agent_ipv4(const struct agent *a, char buf[static INET_ADDRSTRLEN]) {
        const char *colon = a->address ? strrchr(a->address, ':') : NULL;
        size_t len = colon ? (size_t)(colon - a->address) : 0;
        struct in_addr x;
        if (len == 0 || len >= INET_ADDRSTRLEN)
                return false;
        memcpy(buf, a->address, len);
        buf[len] = 0;
        return inet_pton(AF_INET, buf, &x) == 1;
}

struct peers_ctx {
        const struct cluster_net *net;
        const char *self;
        json_t *peers;
};

static int add_peer(const struct agent *a, void *data) {
        struct peers_ctx *p = data;
        char ip[INET_ADDRSTRLEN];
        if (streq(a->id, p->self) || a->state == AGENT_GONE || !agent_ipv4(a, ip))
                return 0;
        _cleanup_free_ char *subnet = cluster_net_agent_subnet(p->net, a->id);
        if (subnet)
                json_array_append_new(p->peers, json_pack("{s:s,s:s,s:s}", "agentId", a->id, "subnet", subnet, "ip", ip));
        return 0;
}

json_t *cluster_net_event(const struct state *st, const struct cluster_net *nets, size_t n, const char *agent_id) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
                struct peers_ctx p = {&nets[i], agent_id, json_array()};
                state_agents_foreach(st, add_peer, &p);
                _cleanup_free_ char *cidr = format_cidr(nets[i].base, nets[i].prefix);
                _cleanup_free_ char *subnet = cluster_net_agent_subnet(&nets[i], agent_id);
                json_array_append_new(list, json_pack("{s:s,s:s,s:s?,s:o}", "name", nets[i].name, "cidr", cidr,
                                                      "subnet", subnet, "peers", p.peers));
        }
        return json_pack("{s:s,s:o}", "type", "NETWORKS", "networks", list);
}
