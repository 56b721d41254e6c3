/* vips.h — the VIP part of the replicated state (issue 11): the address allocated to each named
 * VIP, so it is the same on every master and survives failovers and restarts.
 *
 * Commands (fsm_vips.c; "v": 1):
 * | vip_alloc   | "cidr": "a.b.c.d/len", "names": ["/web", …] | each name without an address gets the |
 * |             | lowest free one of the CIDR (the same on every replica); result {name: ip} of the   |
 * |             | names asked; 507-style -ENOSPC "VIP CIDR … is exhausted" when none is left          |
 * | vip_release | "names": [...]                               | frees them (unknown names ignored)      |
 * Snapshot key "vips": {"names": {name: ip}}; absent in old snapshots. */
#pragma once

#include <jansson.h>

#include "common/err.h"
#include "store/state.h"

struct vip_records {
        json_t *names; /* "/web" → "11.0.0.1" */
        json_t *ips;   /* "11.0.0.1" → "/web" */
};

void vip_records_init(struct vip_records *v);
void vip_records_release(struct vip_records *v);
struct vip_records *state_vip_records(struct state *s);
json_t *vip_records_to_json(const struct vip_records *v);
/* Replaces everything; checks the document first (NULL: nothing, an old snapshot). */
int vip_records_from_json(struct vip_records *v, const json_t *doc, struct err *err);

/* The address allocated to a named VIP (borrowed), or NULL. */
const char *state_vip_address(const struct state *s, const char *name);
/* name → ip of every allocation (borrowed). */
const json_t *state_vip_names(const struct state *s);

int fsm_vip_alloc(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_vip_release(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
