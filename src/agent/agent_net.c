/* agent_net.c — named cluster networks on the agent (docs/ARCHITECTURE.md "Named networks").
 *
 * The master's NETWORKS event gives, per network, this agent's subnet (a /24) and every other
 * agent's subnet with its IP. Tasks on the network get an IP from our subnet on the bridge
 * "stn-<name>" (runtime_oci.c, CNI bridge + host-local); this file makes the subnets reach each
 * other and keeps tasks off the host:
 *
 *   ip route replace <peer subnet> via <peer ip>           every other agent (plain routes: the
 *                                                          agents share an L2 segment or a router
 *                                                          that knows the routes)
 *   iptables -t nat -I POSTROUTING -s <ours> -d <cidr> -j RETURN
 *                                                          no masquerading inside the network:
 *                                                          peers see the task's own IP
 *   iptables -I INPUT -i stn-<name> -m conntrack --ctstate NEW -j DROP
 *                                                          isolation: a task cannot open a
 *                                                          connection to the agent host itself
 *                                                          (mapped ports are DNAT'ed before INPUT
 *                                                          and stay reachable)
 *   net.ipv4.ip_forward = 1
 *
 * Every rule is checked (-C) before it is inserted, so programming is idempotent; it runs on the
 * thread pool, one event at a time (a newer event waits and replaces an older waiting one). */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/runtime_oci.h"
#include "agent/spawn_quiet.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/util.h"

struct net_work {
        uv_work_t work;
        struct agent *a;
        json_t *ev;
};

/* iptables [-t table] -C chain rule… || iptables [-t table] -I chain rule… */
static void ensure_rule(const char *table, const char *chain, const char *const rule[]) {
        char *argv[32];
        size_t n = 0;
        argv[n++] = "iptables";
        argv[n++] = "-w";
        argv[n++] = "-t";
        argv[n++] = (char *)table;
        size_t op = n;
        argv[n++] = "-C";
        argv[n++] = (char *)chain;
        for (size_t i = 0; rule[i] && n < ELEMENTSOF(argv) - 1; i++)
                argv[n++] = (char *)rule[i];
        argv[n] = NULL;
        if (spawn_quiet(argv) == 0)
                return;
        argv[op] = "-I";
        int r = spawn_quiet(argv);
        if (r != 0)
                log_warn("named networks: iptables -t %s -I %s … failed (%d)", table, chain, r);
}

static void program(const json_t *ev) {
        FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "we");
        if (f) {
                fputs("1\n", f);
                fclose(f);
        }
        size_t i, k;
        const json_t *net, *peer;
        json_array_foreach(json_object_get(ev, "networks"), i, net) {
                const char *name = json_string_value(json_object_get(net, "name"));
                const char *cidr = json_string_value(json_object_get(net, "cidr"));
                const char *subnet = json_string_value(json_object_get(net, "subnet"));
                if (!name || !cidr || !subnet)
                        continue;
                _cleanup_free_ char *bridge = runtime_oci_network_bridge(name);
                const char *nat[] = {"-s", subnet, "-d", cidr, "-j", "RETURN", NULL};
                ensure_rule("nat", "POSTROUTING", nat);
                const char *iso[] = {"-i", bridge, "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP", NULL};
                ensure_rule("filter", "INPUT", iso);
                json_array_foreach(json_object_get(net, "peers"), k, peer) {
                        const char *ps = json_string_value(json_object_get(peer, "subnet"));
                        const char *ip = json_string_value(json_object_get(peer, "ip"));
                        if (!ps || !ip || streq(ps, subnet))
                                continue;
                        char *argv[] = {"ip", "route", "replace", (char *)ps, "via", (char *)ip, NULL};
                        int r = spawn_quiet(argv);
                        if (r != 0)
                                log_warn("named network '%s': cannot route %s via %s (ip route: %d)", name, ps, ip, r);
                }
        }
}

static void work_cb(uv_work_t *w) {
        struct net_work *nw = w->data;
        program(nw->ev);
}

static void start_work(struct agent *a);

static void done_cb(uv_work_t *w, int status) {
        struct net_work *nw = w->data;
        struct agent *a = nw->a;
        json_decref(nw->ev);
        free(nw);
        a->net_working = false;
        if (a->net_pending && !a->stopping)
                start_work(a);
        else {
                json_decref(a->net_pending);
                a->net_pending = NULL;
        }
}

static void start_work(struct agent *a) {
        struct net_work *nw = xcalloc(1, sizeof *nw);
        nw->a = a;
        nw->ev = a->net_pending;
        a->net_pending = NULL;
        nw->work.data = nw;
        if (uv_queue_work(a->loop, &nw->work, work_cb, done_cb) < 0) {
                log_warn("named networks: cannot queue the programming work");
                json_decref(nw->ev);
                free(nw);
                return;
        }
        a->net_working = true;
}

void agent_net_update(struct agent *a, const json_t *ev) {
        if (a->cfg.fake_runtime)
                return;
        /* The runtime learns the subnets at once: tasks launched from now on get an IP in them. */
        json_t *subnets = json_object();
        size_t i;
        const json_t *net;
        json_array_foreach(json_object_get(ev, "networks"), i, net) {
                const char *name = json_string_value(json_object_get(net, "name"));
                const char *subnet = json_string_value(json_object_get(net, "subnet"));
                if (name && subnet)
                        json_object_set_new(subnets, name, json_string(subnet));
        }
        runtime_oci_set_networks(a->rt, subnets);
        json_decref(subnets);
        json_decref(a->net_pending);
        a->net_pending = json_deep_copy(ev);
        if (!a->net_working)
                start_work(a);
}
