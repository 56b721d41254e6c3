/* dns_agent.c — the agent's DNS server wired to the agent: started from its flags, fed by the
 * discovery events of the agent link, and the `strata dev` flags that reach it. */
#include "agent/dns_agent.h"

#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/agent_metrics.h"
#include "agent/dns_server.h"
#include "agent/vip_agent.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"

char *agent_dns_resolv_conf_path(const struct agent *a) {
        return xasprintf("%s/dns-resolv.conf", a->cfg.data_dir);
}

const char *agent_dns_address(const struct agent *a) {
        return a->dns ? dns_server_reachable_address(a->dns) : NULL;
}

/* Containers resolve through this agent: "nameserver <its address>" and the host's search and
 * options lines. Only for port 53 (resolv.conf has no port) on an address other than loopback
 * (a container's loopback is its own). */
static void write_resolv_conf(struct agent *a) {
        _cleanup_free_ char *path = agent_dns_resolv_conf_path(a);
        unlink(path);
        const char *addr = agent_dns_address(a);
        const char *colon = addr ? strrchr(addr, ':') : NULL;
        if (!colon || !streq(colon + 1, "53") || strncmp(addr, "127.", 4) == 0)
                return;
        struct strbuf sb = { 0 };
        strbuf_printf(&sb, "# written by the strata agent: the cluster's DNS (it forwards other names)\n"
                           "nameserver %.*s\n", (int)(colon - addr), addr);
        _cleanup_free_ char *host = NULL;
        size_t n = 0;
        struct err e = { 0 };
        if (file_read_all("/etc/resolv.conf", 64 * 1024, &host, &n, &e) == 0) {
                for (char *line = strtok(host, "\n"); line; line = strtok(NULL, "\n"))
                        if (strncmp(line, "search", 6) == 0 || strncmp(line, "options", 7) == 0)
                                strbuf_printf(&sb, "%s\n", line);
        }
        err_release(&e);
        if (file_write_atomic(path, sb.buf, sb.len, &e) < 0) {
                log_warn("containers keep the host's resolv.conf: %s", err_msg(&e));
                err_release(&e);
        }
        strbuf_release(&sb);
}

/* The DNS counters on the agent's /metrics (queries by type and rcode, forward latency). */
static void dns_family(struct strbuf *out, void *data) {
        dns_server_metrics(data, out);
}

int agent_dns_start(struct agent *a, struct err *e) {
        if (a->cfg.dns_addr && streq(a->cfg.dns_addr, "off")) {
                write_resolv_conf(a);
                return 0;
        }
        const char *addr = a->cfg.dns_addr ? a->cfg.dns_addr : AGENT_DNS_DEFAULT;
        struct dns_server_config c = { .loop = a->loop, .addr = addr, .upstreams = a->cfg.dns_upstreams,
                                       .advertise_ip = a->cfg.advertise };
        int r = dns_server_new(&c, &a->dns, e);
        if (r < 0) {
                if (a->cfg.dns_addr)
                        return r; /* asked for: a clear failure */
                log_warn("%s (no DNS on this agent; --dns ADDR:PORT picks another address, --dns off none)",
                         err_msg(e));
                err_release(e);
                write_resolv_conf(a);
                return 0;
        }
        log_info("DNS on %s (udp, tcp)", dns_server_address(a->dns));
        if (a->metrics)
                agent_metrics_add_family(a->metrics, dns_family, a->dns);
        write_resolv_conf(a);
        return 0;
}

void agent_dns_stop(struct agent *a) {
        if (a->dns && a->metrics)
                agent_metrics_remove_family(a->metrics, dns_family, a->dns);
        dns_server_free(a->dns);
        a->dns = NULL;
}

bool agent_dns_event(struct agent *a, const json_t *ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (!type || strncmp(type, "DISCOVERY_", 10) != 0)
                return false;
        if (a->dns)
                dns_server_apply(a->dns, ev);
        agent_vip_event(a, ev);
        return true;
}

static void push(char ***list, size_t *n, const char *s) {
        *list = xrealloc(*list, (*n + 2) * sizeof **list);
        (*list)[(*n)++] = xstrdup(s);
        (*list)[*n] = NULL;
}

char **agent_dns_take_flags(int *argc, char **argv) {
        char **out = NULL;
        size_t n = 0;
        int k = 1;
        for (int i = 1; i < *argc; i++) {
                const char *s = argv[i];
                bool dns = streq(s, "--dns"), up = streq(s, "--dns-upstream");
                if ((dns || up) && i + 1 < *argc) {
                        push(&out, &n, s);
                        push(&out, &n, argv[++i]);
                } else if (strncmp(s, "--dns=", 6) == 0 || strncmp(s, "--dns-upstream=", 15) == 0) {
                        push(&out, &n, s);
                } else {
                        argv[k++] = argv[i];
                }
        }
        argv[k] = NULL;
        *argc = k;
        return out;
}
