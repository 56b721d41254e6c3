/* agent_link.h — the leader's side of the master ↔ agent protocol (docs/AGENT_PROTOCOL.md):
 * subscriptions (one RecordIO event stream per agent), status updates and heartbeats, agent
 * liveness, and reconciliation at every subscribe.
 *
 * Only the leader talks to agents. Every event carries the leader's Raft term; when this master
 * stops being the leader it ends every stream so agents find the new one. */
#pragma once

#include "master/cluster_net.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/hashmap.h"

struct master;
struct api_call;

struct agent_link_config {
        unsigned heartbeat_interval_s; /* HEARTBEAT events and expected update cadence (default 2) */
        unsigned agent_timeout_s;      /* silence after which an agent is unreachable (default 15) */
        const struct cluster_net *networks; /* named cluster networks (borrowed), n_networks of them */
        size_t n_networks;
};

struct agent_link {
        struct master *m;
        struct agent_link_config cfg;
        struct hashmap conns; /* agent id → struct agent_conn */
        uv_timer_t sweep;     /* heartbeats out, liveness in: once a second */
        bool leading;
};

void agent_link_init(struct agent_link *l, struct master *m, const struct agent_link_config *cfg);
void agent_link_release(struct agent_link *l);
/* Called on every role change: becoming leader starts liveness tracking from now for every
 * agent in the state; losing leadership ends every stream. */
void agent_link_leadership(struct agent_link *l, bool leading);

/* Sends one LAUNCH event: apps_text is the encoded "apps" object ({"<id>@<version>": app}; a
 * batch encodes each app definition once for all its agents), tasks the task list (borrowed).
 * Returns false if the agent has no open stream (it will be relaunched at its next subscribe). */
bool agent_link_launch_text(struct agent_link *l, const char *agent_id, const char *apps_text, json_t *tasks);
/* Sends one framed event {"type": type, "term": T, members} (members: JSON object members
 * without braces, "" for none) to agent_id, or to every agent with an open stream when agent_id
 * is NULL (encoded once). Returns how many agents it was written to. */
size_t agent_link_send_framed(struct agent_link *l, const char *agent_id, const char *type, const char *members);
/* Sends KILL for task ids on one agent. Returns false if the agent has no open stream. */
bool agent_link_kill(struct agent_link *l, const char *agent_id, json_t *task_ids, unsigned grace_s);
/* True if the agent has an open stream. */
bool agent_link_connected(const struct agent_link *l, const char *agent_id);
/* Last time (ms since the epoch) the agent was heard from, or 0. */
int64_t agent_link_last_seen(const struct agent_link *l, const char *agent_id);

/* Route handlers (POST /internal/v1/agents/subscribe, POST /internal/v1/agents/{id}/updates). */
void api_agents_subscribe(struct api_call *call);
void api_agents_updates(struct api_call *call);
