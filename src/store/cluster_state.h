/* cluster_state.h — agents and instances in the replicated state (issue: agents and tasks).
 *
 * Desired state and placements are committed before anything is sent to an agent (DESIGN §4):
 * an agent registration, every placement (instance → agent, host ports) and every kill decision
 * is a command. Observed task state (TASK_RUNNING …) is also applied through commands, batched
 * many per entry, so a new leader starts from the last committed view and reconciles.
 *
 * Memory matters (target: ≤ 1 KiB of master RSS per instance at 1M instances): instances are
 * compact C structs; strings they share (app ids, versions, agent ids) are interned.
 *
 * Commands (JSON, dispatched by store_fsm.c; "v":1):
 * | type               | payload                                                              | result |
 * | agent_register     | "agent": {"id"|null, hostname, address, resources{cpus,mem,disk,gpus,ports:[[b,e]…]}, attributes{k:v}}, "ts" | {"agentId"} — a new id "<cluster id>-S<n>" when id is null or unknown |
 * | agent_state        | "id", "state": "active"|"unreachable"|"draining"|"gone", "ts"         | none |
 * | instances_place    | "instances": [{"id": task id, "appId", "version", "agentId", "ports": [n…]}], "ts" | none; a placement on an unknown/non-active agent or of an unknown app is skipped |
 * | instances_status   | "updates": [{"id", "state": "TASK_…", "message", "ts" (ms), "healthy"?}] | none; idempotent: a terminal instance never changes state again, an update for an unknown id is ignored |
 * | instances_goal     | "ids": [...], "goal": "running"|"stopped"|"decommissioned"          | none |
 * | instances_expunge  | "ids": [...]                                                          | none; removes terminal instances |
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/state.h"

#include "model/task_state.h"

enum agent_state { AGENT_ACTIVE, AGENT_UNREACHABLE, AGENT_DRAINING, AGENT_GONE };
const char *agent_state_to_string(enum agent_state s);
int agent_state_from_string(const char *s);

enum instance_goal { GOAL_RUNNING, GOAL_STOPPED, GOAL_DECOMMISSIONED };

struct port_range {
        uint16_t begin, end; /* inclusive */
};

struct agent {
        const char *id;        /* interned */
        char *hostname;
        char *address;         /* "ip:port" of the agent's API */
        double cpus, mem, disk, gpus;
        struct port_range *ports;
        size_t n_ports;
        json_t *attributes;    /* object of strings (owned) */
        enum agent_state state;
        int64_t registered_at, state_since; /* ms, leader clock from the command */
        /* used resources: derived from the instances placed here that are not terminal */
        double used_cpus, used_mem, used_disk, used_gpus;
        size_t n_instances;
};

struct instance {
        const char *id;        /* task id, interned: "<app_path>.instance-<uuid>._app" */
        const char *app_id;    /* interned */
        const char *version;   /* interned: the app version it runs */
        const char *agent_id;  /* interned */
        uint16_t *ports;       /* host ports (owned) */
        uint8_t n_ports;
        uint8_t state;         /* enum task_state */
        uint8_t goal;          /* enum instance_goal */
        bool healthy, has_health;
        float cpus, mem, disk, gpus; /* reserved at placement */
        int64_t staged_at, started_at, updated_at; /* ms */
        char *message;         /* last status message (owned, may be NULL) */
};

/* Read access (borrowed pointers, valid until the next mutation). */
const struct agent *state_agent_get(const struct state *s, const char *id);
size_t state_agent_count(const struct state *s);
int state_agents_foreach(const struct state *s, int (*cb)(const struct agent *a, void *data), void *data);

const struct instance *state_instance_get(const struct state *s, const char *id);
size_t state_instance_count(const struct state *s);
int state_instances_foreach(const struct state *s, int (*cb)(const struct instance *i, void *data), void *data);
int state_app_instances_foreach(const struct state *s, const char *app_id,
                                int (*cb)(const struct instance *i, void *data), void *data);
int state_agent_instances_foreach(const struct state *s, const char *agent_id,
                                  int (*cb)(const struct instance *i, void *data), void *data);

/* The last failed task of an app (Marathon's lastTaskFailure), as JSON (borrowed), or NULL. */
const json_t *state_app_last_failure(const struct state *s, const char *app_id);

/* Change notification: after applying a command, the store calls the observer (on every master,
 * in log order) with what changed, so the leader's control loops react without rescanning. */
struct state_observer {
        void (*app_changed)(const char *app_id, void *data);           /* created, updated, deleted */
        void (*agent_changed)(const char *agent_id, void *data);
        void (*instance_changed)(const struct instance *i, enum task_state old_state, void *data);
        void (*instance_removed)(const char *instance_id, const char *app_id, void *data);
        void *data;
};
void state_set_observer(struct state *s, const struct state_observer *obs);
