/* discovery.h — the leader's discovery view (DESIGN §8): the tasks that serve (running, healthy,
 * wanted), the agents and the masters, streamed to every agent over the agent link as a
 * snapshot when it subscribes, then as changes, so each agent's DNS answers from it — and keeps
 * answering from the last view while no master is reachable.
 *
 * Events (agent link, RecordIO framing; entries as in model/discovery.h):
 * | DISCOVERY_SNAPSHOT | {"type", "term", "view": {"tasks": [task…], "agents": [agent…],             |
 * |                    |  "masters": {…}}} — replaces the agent's whole view                          |
 * | DISCOVERY_UPDATE   | {"type", "term", "view": {"tasks"?: [task…] (added or changed),              |
 * |                    |  "tasksGone"?: [id…], "agents"?: [agent…], "agentsGone"?: [id…],             |
 * |                    |  "masters"?: {…}, "vips"?: [vip…] (the whole VIP table, when it changed)}}   |
 * Changes made by one loop turn's commands travel in one DISCOVERY_UPDATE, sent on the next
 * turn (well within DESIGN's one second). Every master keeps the view current from the state
 * observer; only the leader has agents to send it to. */
#pragma once

#include <stdbool.h>
#include <uv.h>

#include "common/hashmap.h"
#include "model/task_state.h"

struct store;
struct agent_link;
struct instance;
struct api_call;

struct discovery {
        struct store *store;
        struct agent_link *link;
        struct hashmap served;      /* task id → owned id: tasks in the view */
        struct hashmap dirty_tasks; /* task id → owned id */
        struct hashmap dirty_agents; /* agent id → owned id */
        char *masters_sent;         /* the masters entry last sent (JSON text), owned */
        bool resend_all;            /* a snapshot restore: everything may have changed */
        bool closed;                /* released: observer calls are ignored */
        const char *vip_cidr;       /* --vip-cidr (master/vip.h); NULL: VIP_DEFAULT_CIDR */
        char *vips_sent;            /* the VIP table last sent (JSON text), owned */
        bool vip_busy;              /* a vip_alloc is in flight */
        uv_timer_t flush;
};

void discovery_init(struct discovery *d, uv_loop_t *loop, struct store *store, struct agent_link *link);
/* Closes the timer and frees the sets. */
void discovery_release(struct discovery *d);

/* State observer hooks (master_main.c). */
void discovery_instance_changed(struct discovery *d, const struct instance *i);
void discovery_instance_removed(struct discovery *d, const char *instance_id);
void discovery_agent_changed(struct discovery *d, const char *agent_id);
void discovery_restored(struct discovery *d);
/* An app changed: its VIP labels may have (master/vip.h). */
void discovery_app_changed(struct discovery *d);
/* The leader or the masters changed (store on_change). */
void discovery_masters_changed(struct discovery *d);
/* agent_link.c: an agent's stream opened; it gets the whole view. */
void discovery_agent_subscribed(struct discovery *d, const char *agent_id);

/* GET /v1/dns/lookup?name=NAME[&type=A|SRV|ANY]: the records the cluster's DNS serves for a
 * name, computed from this master's view with the agents' own record builder:
 * {"name", "records": [{"name","type","ttl","ip"|"target"+"port"}…]}; 404 Mesos-DNS style
 * {"message"} when there are none (NXDOMAIN). (discovery_api.c) */
void api_dns_lookup(struct api_call *call);
