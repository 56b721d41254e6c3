/* agent_link.h — the leader's side of the master ↔ agent protocol (docs/AGENT_PROTOCOL.md):
 * subscriptions (one RecordIO event stream per agent), status updates and heartbeats, agent
 * liveness, and reconciliation at every subscribe.
 *
 * Only the leader talks to agents. Every event carries the leader's Raft term; when this master
 * stops being the leader it ends every stream so agents find the new one.
 *
 * It uses the log and the clock (borrowed) and calls no other part of the core. The transport is
 * a struct agent_stream the caller opens (api_agents.c: a chunked HTTP response; tests: a buffer),
 * so the protocol runs without sockets in the integration tier. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hashmap.h"
#include "master/clock.h"
#include "master/cluster_net.h"
#include "master/core_ports.h"

/* One agent's event stream. write gets one whole RecordIO record, its "<length>\n" head and its
 * JSON body, and returns < 0 when the stream is gone; end finishes it (after which the link never
 * touches it and the transport does not report it closed). */
struct agent_stream_ops {
        int (*write)(void *impl, const char *head, size_t head_len, const char *body, size_t body_len);
        void (*end)(void *impl);
};
struct agent_stream {
        const struct agent_stream_ops *ops;
        void *impl;
};

struct agent_link_config {
        unsigned heartbeat_interval_s; /* HEARTBEAT events and expected update cadence (default 2) */
        unsigned agent_timeout_s;      /* silence after which an agent is unreachable (default 15) */
        const struct cluster_net *networks; /* named cluster networks (borrowed), n_networks of them */
        size_t n_networks;
};

/* Called after an agent's stream opened and it got SUBSCRIBED, NETWORKS and its reconciliation:
 * the place to send it a snapshot of something it follows (agent_link_send). */
typedef void (*agent_link_subscribed_cb)(const char *agent_id, void *data);

/* Task ids that are not instances (a job run's task): owns says whether an agent that reports one
 * should keep it (reconciliation kills it otherwise); status takes its status update and returns
 * true if it was that owner's (the update is then acknowledged and not applied to instances). */
struct agent_link_task_owner {
        bool (*owns)(void *data, const char *agent_id, const char *task_id);
        bool (*status)(void *data, const char *agent_id, const char *task_id, const char *state,
                       const char *message, int64_t ts_ms);
        /* The agent (re)subscribed reporting these tasks ({"taskId", "state"} array, borrowed). */
        void (*reconciled)(void *data, const char *agent_id, const json_t *reported);
        void *data;
};

struct agent_link {
        const struct core_log *log;
        struct clock *clock;
        struct agent_link_config cfg;
        struct hashmap conns;          /* agent id → struct agent_conn */
        struct clock_timer *sweep;     /* heartbeats out, liveness in: once a second */
        int64_t last_sweep_ms;         /* when the sweep last ran (0: not yet this term) */
        agent_link_subscribed_cb on_subscribed;
        void *subscribed_data;
        struct agent_link_task_owner owner; /* tasks that are not instances; zeroed: none */
        bool leading;
};

void agent_link_init(struct agent_link *l, const struct core_log *log, struct clock *clock,
                     const struct agent_link_config *cfg);
void agent_link_release(struct agent_link *l);
/* Called on every role change: becoming leader starts liveness tracking from now for every
 * agent in the state; losing leadership ends every stream.
 *
 * Liveness counts only the time this master's loop was running: a sweep that runs more than
 * two intervals late (the loop was stalled — a long pass, a starved process) credits every agent
 * with the stall, since timers run before the loop reads the updates that waited meanwhile. */
void agent_link_leadership(struct agent_link *l, bool leading);

/* The command channel the launcher uses (agent_link_launch_text, agent_link_kill). */
struct agent_tx agent_link_tx(struct agent_link *l);
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
/* Sends one more event (ev stolen; "term" is added) to agent_id's stream, or to every open
 * stream when agent_id is NULL: the hook for what agents follow besides commands (the discovery
 * view). Returns how many streams took it. */
size_t agent_link_send(struct agent_link *l, const char *agent_id, json_t *ev);
/* Sets (NULL clears) the callback run when a subscription has opened. */
void agent_link_set_subscribed_hook(struct agent_link *l, agent_link_subscribed_cb cb, void *data);
/* Sets (NULL clears) the owner of task ids that are not instances. */
void agent_link_set_task_owner(struct agent_link *l, const struct agent_link_task_owner *owner);
/* True if the agent has an open stream. */
bool agent_link_connected(const struct agent_link *l, const char *agent_id);
/* Last time (ms since the epoch) the agent was heard from, or 0. */
int64_t agent_link_last_seen(const struct agent_link *l, const char *agent_id);

/* A subscription's outcome: on success (status 0) the caller opens the agent's stream and returns
 * it; on failure (err says why) it answers the agent and returns a stream with NULL ops. */
typedef struct agent_stream (*agent_link_open_cb)(void *data, int status, struct err *err, const char *agent_id);
/* POST /internal/v1/agents/subscribe with body (borrowed): validates it (-ERR_INVALID with the
 * reason, nothing submitted), registers the agent, and once that is committed calls open, sends
 * SUBSCRIBED (+ NETWORKS) and reconciles the tasks the agent reported. Returns 0 or the error. */
int agent_link_subscribe(struct agent_link *l, const json_t *body, agent_link_open_cb open, void *data,
                         struct err *err);
/* The transport noticed that stream impl of agent_id closed. */
void agent_link_stream_closed(struct agent_link *l, const char *agent_id, void *impl);

/* Answer to a batch of status updates: acknowledged (borrowed) holds the uuids taken. */
typedef void (*agent_link_updates_cb)(void *data, int status, json_t *acknowledged, struct err *err);
/* POST /internal/v1/agents/{id}/updates with body (borrowed): -ERR_NOT_FOUND for an agent that is
 * not subscribed, -ERR_INVALID for a malformed batch (nothing applied, cb not called); otherwise
 * 0 and cb fires once the updates are committed (inside the call when none needs committing). */
int agent_link_updates(struct agent_link *l, const char *agent_id, const json_t *body, agent_link_updates_cb cb,
                       void *data, struct err *err);
