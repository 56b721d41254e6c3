/* discovery_view.h — the discovery view's entries built from the replicated state, shared by
 * the stream (discovery.c) and the lookup API (discovery_api.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "model/discovery.h"

struct state;
struct store;
struct instance;
struct agent;

/* Whether the instance is in the view (model/discovery.h discovery_task_serves). */
bool discovery_view_serves(const struct instance *i);
/* The instance's task entry (strings borrowed from the state; ports written to ports); returns
 * the number of ports. */
size_t discovery_view_task(const struct state *st, const struct instance *i, struct discovery_task *t,
                           struct discovery_port ports[static DISCOVERY_MAX_PORTS]);
/* The agent's entry (host is its buffer); false for a gone agent or one without an address. */
bool discovery_view_agent(const struct agent *a, struct discovery_agent *ret, char host[static 256]);
/* The leader and the masters registry (IPv4 HTTP addresses only). */
void discovery_view_masters(struct store *store, struct discovery_masters *m);
