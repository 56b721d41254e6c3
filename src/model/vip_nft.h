/* vip_nft.h — the nftables ruleset that programs a VIP table (model/vip.h's entries) on an agent:
 * table ip strata, a verdict map from VIP address . protocol . port to one chain per VIP that
 * DNATs each new connection to one backend picked at random (numgen random mod N), hooked into
 * nat output (the agent's own processes and its host-network tasks) and prerouting (containers
 * on the agent's bridges, and hosts that route the VIP range through it). Established
 * connections keep their backend (conntrack); only new ones see a change.
 *
 * The table is first written whole ("add table; delete table; table {…}": nothing of an older
 * table survives), then changed by deltas: a VIP whose backends changed gets its chain flushed
 * and refilled, a new one its chain and map element, a gone one loses both — one transaction
 * each time, so a change costs what changed, not the size of the table. Every value is
 * re-printed from what was parsed (never copied), so the view cannot inject ruleset syntax. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#define VIP_NFT_TABLE "strata"

/* The rules of a VIP table (a JSON array of entries): {chain name: {"elem": map key text,
 * "rule": the chain's rule text}} for every well-formed entry with a backend; *skipped (may be
 * NULL) counts the malformed or duplicate entries left out. */
json_t *vip_nft_rules(const json_t *vips, size_t *skipped);
/* The whole table for rules (malloc'd). */
char *vip_nft_full(const json_t *rules);
/* The transaction that turns table old into new (malloc'd), or NULL when they are the same. */
char *vip_nft_delta(const json_t *old, const json_t *rules);
/* What removes the table (and nothing else), whether it exists or not. */
const char *vip_nft_remove(void);
