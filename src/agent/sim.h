/* sim.h — `strata agent-sim`: one process, one loop, N simulated agents that speak the real agent
 * protocol (docs/AGENT_PROTOCOL.md) over real TCP connections to the master, but run nothing.
 * Like Kubernetes' kubemark and Nomad's nodesim: for sizing a control plane, not a data plane.
 *
 * Each simulated agent has its own subscription stream, agent id, host name, attributes and
 * term; a launched task reports TASK_STARTING at once and TASK_RUNNING after --start-delay-ms (or
 * fails / is lost with the configured probabilities); a KILL reports TASK_KILLED. Status updates
 * are held in memory (no checkpoints, no fsync), batched per agent and resent until the master
 * acknowledges them. A control API (--http) fails, loses or finishes tasks and stops or starts
 * whole agents on request, and reports counters for benchmarks.
 *
 * Memory: a task is one small allocation (its id inline) plus a slot in its agent's hash map,
 * ~140 bytes; measured, the process grows by ~300 bytes per task with allocator slack and
 * buffers, and by ~20 KiB per agent (curl handles): 1,000,000 tasks over 5,000 agents in
 * ~400 MiB. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "agent/agent_proto.h"
#include "common/err.h"
#include "common/hashmap.h"
#include "net/auth_client.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/recordio.h"

struct sim_config {
        char **masters; /* base URLs, NULL-terminated */
        size_t n_masters;
        unsigned count;            /* agents */
        unsigned first;            /* index of the first agent (several sim processes side by side) */
        unsigned classes;          /* attribute class=c<i % classes>; 0: none */
        char *attributes;          /* template, "rack:r{i%10};zone:{i/100}" (see sim_expand) */
        char *hostname;            /* template, default "sim-{i}" */
        json_t *resources;         /* every agent's */
        unsigned start_delay_ms;   /* TASK_STARTING → TASK_RUNNING */
        double fail_rate;          /* probability that a launched task fails instead of running */
        double lose_rate;          /* … is lost instead of running */
        unsigned ramp_per_s;       /* agents started per second (0: all at once) */
        unsigned max_posts;        /* status/heartbeat POSTs in flight across the process */
        unsigned heartbeat_s;      /* 0: what SUBSCRIBED says */
        char *http_addr;           /* control API, or NULL */
        unsigned seed;
};

struct sim_task;
struct sim;

struct sim_agent {
        struct sim *sim;
        unsigned index;
        char *hostname;
        char *address;        /* fake "host:port" of an agent API nobody serves */
        json_t *attributes;
        char *agent_id;       /* from SUBSCRIBED; kept across resubscriptions */
        uint64_t max_term;
        struct hashmap tasks; /* id → struct sim_task (the task owns its id) */
        size_t n_active;      /* tasks not terminal */

        /* status updates: tasks whose state the master has not acknowledged yet */
        struct sim_task **pending;
        size_t n_pending, cap_pending;
        struct sim_task **inflight; /* in the POST in flight */
        size_t n_inflight, cap_inflight;
        uint64_t post_seq;
        bool posting, queued;
        bool beating;                /* a heartbeat outside the POST slots is in flight */
        struct sim_agent *post_next; /* queue of agents waiting for a POST slot */

        /* subscription */
        struct transfer *sub;
        struct recordio rio;
        char *leader_url;
        size_t master_idx;
        bool running;         /* false: stopped (dead machine) */
        bool subscribed;
        unsigned backoff_ms;
        unsigned heartbeat_s;
        int64_t last_event_ms, last_post_ms;
        int64_t subscribed_at_ms; /* last SUBSCRIBED */
        unsigned subscriptions;
        uv_timer_t timer;     /* reconnect / retry / heartbeat */
};

struct sim_stats {
        uint64_t launches, kills, updates_sent, updates_acked, posts, post_errors, subscribes, stream_errors;
        uint64_t heartbeats; /* sent outside the POST slots (an agent's updates were waiting) */
        uint64_t events, bad_events, stale_events;
};

struct sim {
        uv_loop_t *loop;
        struct sim_config cfg;
        struct sim_agent *agents;
        /* Two curl multis: libcurl looks for a reusable connection by scanning every connection
         * to the host, and thousands of busy event streams would make each POST pay for them. */
        struct http_client *streams; /* one subscription per agent */
        struct http_client *posts;   /* status updates and heartbeats, at most max_posts at once */
        /* Heartbeats of agents whose updates wait for a slot or for their commit: liveness must
         * never queue behind status updates (5,000 agents went unreachable that way). */
        struct http_client *beats;
        struct auth_client auth; /* $STRATA_SERVICE_ACCOUNT/$STRATA_PRIVATE_KEY, one token for all */
        struct http_server *http;
        struct agent_event ev; /* decode buffer, reused */
        unsigned started;      /* agents started so far (ramp) */
        uv_timer_t ramp_timer;
        /* start delay: a FIFO of launched tasks, in launch order (one constant delay) */
        struct sim_delay *delay;
        size_t delay_head, delay_len, delay_cap;
        uv_timer_t delay_timer;
        /* POST slots */
        unsigned posts_in_flight;
        struct sim_agent *post_head, *post_tail;
        struct sim_stats stats;
        uint64_t rng;
        bool stopping;
        uv_signal_t sigint, sigterm;
};

int sim_main(int argc, char **argv);

/* sim_config.c */
/* Parses `strata agent-sim` flags into c: -1 to go on, else an exit code (usage printed). */
int sim_config_from_args(struct sim_config *c, int argc, char **argv);
void sim_config_release(struct sim_config *c);
/* Expands a template for agent index i: "{i}" → i, "{i%N}" → i mod N, "{i/N}" → i div N,
 * "{class}" → i mod classes (0 if classes is 0). Returns a new string, or NULL with err for an
 * unknown or malformed placeholder. */
char *sim_expand(const char *tmpl, unsigned i, unsigned classes, struct err *err);
/* The attributes of agent i: the expanded template, plus class=c<i % classes> when classes > 0. */
int sim_agent_attributes(const struct sim_config *c, unsigned i, json_t **ret, struct err *err);

/* sim_agent.c */
void sim_agent_init(struct sim *s, struct sim_agent *a, unsigned index, struct err *err);
void sim_agent_release(struct sim_agent *a);
/* Starts (or restarts, as a rebooted machine without tasks) the agent's subscription. */
void sim_agent_start(struct sim_agent *a);
/* Stops the agent as a dead machine would: its connections close, it goes silent and forgets
 * its tasks. */
void sim_agent_stop(struct sim_agent *a);
/* Makes a task end with state (TASK_FAILED, TASK_LOST, TASK_FINISHED …) and reports it.
 * -ENOENT if the agent does not run it. */
int sim_agent_end_task(struct sim_agent *a, const char *task_id, int state);
/* Sends the agent's pending updates (or an empty heartbeat) in one POST, using a slot the caller
 * holds; false if the agent cannot post now (the slot stays the caller's). */
bool sim_agent_post(struct sim_agent *a);
/* Called by the start-delay queue when a task's delay is over. */
void sim_task_started(struct sim_task *t);
/* Takes a task out of the start-delay queue for good (shut-down): freed if its agent forgot it. */
void sim_task_abandon(struct sim_task *t);
/* Counts tasks by state across all agents (into counts[_TASK_STATE_MAX]). */
void sim_count_tasks(struct sim *s, uint64_t *counts);

/* sim_main.c */
/* Queues t to become TASK_RUNNING after the configured delay. */
void sim_delay_push(struct sim *s, struct sim_task *t);
/* A random number in [0, 1). */
double sim_random(struct sim *s);
/* Asks for a POST slot for a's pending updates; sim_post_done gives it back. */
void sim_post_request(struct sim_agent *a);
void sim_post_done(struct sim *s);
