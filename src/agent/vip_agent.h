/* vip_agent.h — the agent's VIPs (issue 11): the VIP table of the discovery view programmed into
 * nftables (libnftables; model/vip_nft.h's ruleset, one atomic transaction per change, off the
 * loop). The table stays while masters are away (the agent keeps balancing from its last view)
 * and across agent restarts; `--vip off` removes it. */
#pragma once

#include <jansson.h>

#include "common/err.h"
#include "common/strbuf.h"

struct agent;

/* Starts from a->cfg.vip: "on" fails (err) when nftables cannot be programmed (not root, no
 * nf_tables); NULL (the default) warns and runs without VIPs then; "off" removes the table. */
int agent_vip_start(struct agent *a, struct err *err);
void agent_vip_stop(struct agent *a);
/* A DISCOVERY_* event: its "view"'s "vips" (when present) replaces the programmed table. */
void agent_vip_event(struct agent *a, const json_t *ev);
/* Prometheus text for /metrics: VIPs and backends programmed, syncs, failures, last sync time. */
void agent_vip_metrics(const struct agent *a, struct strbuf *sb);
