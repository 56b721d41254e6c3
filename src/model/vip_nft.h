/* vip_nft.h — the nftables ruleset that programs a VIP table (model/vip.h's entries) on an agent:
 * table ip strata, a verdict map from VIP address . protocol . port to one chain per VIP that
 * DNATs each new connection to one backend picked at random (numgen random mod N), hooked into
 * nat output (the agent's own processes and its host-network tasks) and prerouting (containers
 * on the agent's bridges, and hosts that route the VIP range through it). Established
 * connections keep their backend (conntrack); only new ones see a change.
 *
 * The text replaces the whole table in one transaction ("add table; delete table; table {…}"),
 * so a change is atomic and nothing of an older table survives. Every value is re-printed from
 * what was parsed (never copied), so the view cannot inject ruleset syntax. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#define VIP_NFT_TABLE "strata"

/* The ruleset for vips (a JSON array of entries); entries that are malformed or have no backend
 * are left out (*skipped counts the malformed ones; may be NULL). malloc'd. */
char *vip_nft_ruleset(const json_t *vips, size_t *programmed, size_t *skipped);
/* What removes the table (and nothing else), whether it exists or not. */
const char *vip_nft_remove(void);
