/* vip.h — the cluster's VIP table built from the replicated state (issue 11): every VIP named by
 * a VIP_<n> label of an app (model/vip.h), with its address (a named VIP's from the state's
 * allocations, store/vips.h) and its backends — the tasks in the discovery view (running,
 * healthy, wanted: discovery_view_serves; with health checks, only once they passed) at their agent's address and host port, or their own
 * address and container port on a container network.
 *
 * The leader streams the table to agents inside the discovery view ("vips": [entry…], the whole
 * table whenever it changed; master/discovery.h), and allocates an address for every named VIP
 * that has none (vip_alloc with --vip-cidr). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct state;
struct store;
struct api_call;

/* The table: [entry…] (model/vip.h's shape) ordered by app then port, one entry per VIP and
 * protocol. Named VIPs without an address yet are left out and their names appended to missing
 * (an array; NULL: not wanted). */
json_t *vip_table(const struct state *st, json_t *missing);

/* On the leader: submits vip_alloc for missing (taken) unless one is in flight (*busy); done is
 * called on the loop once it is applied (to resend the table). */
void vip_allocate(struct store *store, const char *cidr, json_t *missing, bool *busy, void (*done)(void *data),
                  void *data);

/* --vip-cidr: checks the CIDR (a one-line message on stderr, -EINVAL) and stores it in *ret. */
int vip_cidr_flag(const char *arg, char **ret);

/* GET /v1/vips: {"vips": [entry…]} — the table as agents get it, plus "pending": [name…] for
 * named VIPs still waiting for an address. */
void api_vips_list(struct api_call *call);
