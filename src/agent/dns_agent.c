/* dns_agent.c — the agent's DNS server wired to the agent: started from its flags, fed by the
 * discovery events of the agent link, and the `strata dev` flags that reach it. */
#include "agent/dns_agent.h"

#include <string.h>

#include "agent/agent.h"
#include "agent/dns_server.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/util.h"

int agent_dns_start(struct agent *a, struct err *e) {
        if (a->cfg.dns_addr && streq(a->cfg.dns_addr, "off"))
                return 0;
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
                return 0;
        }
        log_info("DNS on %s (udp, tcp)", dns_server_address(a->dns));
        return 0;
}

void agent_dns_stop(struct agent *a) {
        dns_server_free(a->dns);
        a->dns = NULL;
}

bool agent_dns_event(struct agent *a, const json_t *ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (!type || strncmp(type, "DISCOVERY_", 10) != 0)
                return false;
        if (a->dns)
                dns_server_apply(a->dns, ev);
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
