/* core_ports.h — what the master core's parts (launcher, deployer, placement, health monitor,
 * agent link) need of the world besides the clock (clock.h), as small function tables: the
 * replicated log, the agents' command channel and Marathon's event bus. master_core.c wires the
 * daemon's (store.h, agent_link.h, events.h); the integration tier (test/unit/test_master_core.h)
 * wires fakes: a log that applies commands through the real state machine, an agent channel and
 * a bus that record what they are given.
 *
 * Each part holds copies of these small structs (an ops pointer and its implementation), never
 * the objects behind them: no part reaches through another to a third. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* The replicated log as the core uses it. */
struct core_log_ops {
        /* store_submit's contract: takes cmd, cb fires exactly once, later, never inside the call. */
        void (*submit)(void *impl, json_t *cmd, store_submit_cb cb, void *data);
        /* The applied state (borrowed). */
        struct state *(*state)(void *impl);
        /* The current term and last applied index (what decisions are tagged and seeded with). */
        void (*position)(void *impl, uint64_t *ret_term, uint64_t *ret_applied);
};
struct core_log {
        const struct core_log_ops *ops;
        void *impl;
};

static inline void core_submit(const struct core_log *l, json_t *cmd, store_submit_cb cb, void *data) {
        l->ops->submit(l->impl, cmd, cb, data);
}
static inline struct state *core_state(const struct core_log *l) {
        return l->ops->state(l->impl);
}
static inline uint64_t core_term(const struct core_log *l) {
        uint64_t term, applied;
        l->ops->position(l->impl, &term, &applied);
        return term;
}
static inline uint64_t core_applied(const struct core_log *l) {
        uint64_t term, applied;
        l->ops->position(l->impl, &term, &applied);
        return applied;
}
/* The daemon's log: the Raft store. */
struct core_log core_log_store(struct store *s);

/* Commands to agents (docs/AGENT_PROTOCOL.md). The agent link implements it (agent_link_tx). */
struct agent_tx_ops {
        /* One LAUNCH: apps_text is the encoded "apps" object ({"<id>@<version>": app}), tasks the
         * task list (borrowed). False when the agent has no open stream (it is relaunched at its
         * next subscribe). */
        bool (*launch_text)(void *impl, const char *agent_id, const char *apps_text, json_t *tasks);
        /* KILL for task ids (borrowed) on one agent. False when the agent has no open stream. */
        bool (*kill)(void *impl, const char *agent_id, json_t *task_ids, unsigned grace_s);
};
struct agent_tx {
        const struct agent_tx_ops *ops;
        void *impl;
};

/* Marathon's event bus (events.h) as the core emits to it. */
struct event_sink_ops {
        bool (*wanted)(void *impl, const char *event_type);
        void (*emit)(void *impl, const char *event_type, json_t *fields); /* steals fields */
};
struct event_sink {
        const struct event_sink_ops *ops;
        void *impl;
};

static inline bool event_wanted(const struct event_sink *s, const char *type) {
        return s->ops && s->ops->wanted(s->impl, type);
}
static inline void event_emit(const struct event_sink *s, const char *type, json_t *fields) {
        if (s->ops)
                s->ops->emit(s->impl, type, fields);
        else
                json_decref(fields);
}
