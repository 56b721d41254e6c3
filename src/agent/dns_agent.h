/* dns_agent.h — the agent's DNS server as the agent uses it (dns_agent.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

struct agent;

/* Where `strata agent` serves DNS without --dns (DESIGN §1), and `strata dev`. */
#define AGENT_DNS_DEFAULT "0.0.0.0:53"
#define AGENT_DNS_DEV_DEFAULT "127.0.0.1:8053"

/* Starts a->dns from a->cfg (dns_addr, dns_upstreams): an explicit --dns that cannot be served
 * fails (err); the default address only warns and runs without DNS; "off" runs none. */
int agent_dns_start(struct agent *a, struct err *err);
void agent_dns_stop(struct agent *a);
/* DATA/dns-resolv.conf: what containers get as /etc/resolv.conf while the agent serves DNS on
 * port 53 of an address they can reach (malloc'd). */
char *agent_dns_resolv_conf_path(const struct agent *a);
/* The agent's DNS as tasks reach it ("ip:port"), or NULL without DNS. */
const char *agent_dns_address(const struct agent *a);
/* An agent-link event: a DISCOVERY_* event goes to the DNS server (true); any other, false. */
bool agent_dns_event(struct agent *a, const json_t *ev);
/* `strata dev`: takes --dns/--dns-upstream (and their =forms) out of argv (argc updated) and
 * returns them, NULL-terminated (strv_free), for the built-in agent's flags; NULL if none. */
char **agent_dns_take_flags(int *argc, char **argv);
