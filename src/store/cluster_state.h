/* cluster_state.h — agents and instances in the replicated state (issue: agents and tasks).
 *
 * Desired state and placements are committed before anything is sent to an agent (DESIGN §4):
 * an agent registration, every placement (instance → agent, host ports) and every kill decision
 * is a command. Observed task state (TASK_RUNNING …) is also applied through commands, batched
 * many per entry, so a new leader starts from the last committed view and reconciles.
 *
 * Memory matters (target: ≤ 1 KiB of master RSS per instance at 1M instances): instances are
 * compact C structs (one allocation each, id and ports inline); strings they share (app ids,
 * versions, agent ids, status messages) are interned.
 *
 * Commands (JSON, dispatched by store_fsm.c; "v":1). "ts" of a command is ISO-8601 (store_submit
 * adds the leader's clock); "ts" of a status item is ms since the epoch.
 *
 * agent_register     "agent": {"id": str|null, "hostname", "address"?, "resources": {"cpus", "mem",
 *                    "disk", "gpus", "ports": [[begin, end]…]}, "attributes": {k: "v"}}, "clusterId"?,
 *                    "ts"  →  {"agentId", "created": bool}
 * agent_state        "id", "state": "active"|"unreachable"|"draining"|"gone", "ts"  →  none;
 *                    -ERR_NOT_FOUND for an unknown id, -ERR_CONFLICT for a gone one
 * agent_remove       "id"  →  none; only a gone agent without instances (-ERR_CONFLICT otherwise)
 * instances_place    "instances": [item…], "ts"  →  {"placed": n, "skipped": [id…]}
 *                    item = [id, appId, version, agentId, [port…]] (compact, cluster_place_item) or
 *                    {"id", "appId", "version", "agentId", "ports": [n…], "cpus"?, "mem"?, "disk"?, "gpus"?}
 * instances_status   "updates": [item…], "ts"  →  {"changed": n}
 *                    item = [id, "TASK_…", ts|null, message|null, healthy|null, ready|null,
 *                    checks|null] (compact, cluster_status_item; the last two, and healthy, may be
 *                    left out) or {"id", "state", "ts"?, "message"?, "healthy"?, "ready"?, "checks"?};
 *                    checks = [result|null…], one per health check (model/health_result.h)
 * instances_goal     "ids": [id…], "goal": "running"|"stopped"|"decommissioned"  →  none
 * instances_expunge  "ids": [id…], "force"?: bool  →  {"removed": n}
 *
 * Rules:
 * - agent_register: "id" null, unknown, or naming a gone agent gets a new id "<cluster id>-S<n>"
 *   (n counts registrations from 0). The cluster id is fixed by the first registration: its
 *   "clusterId" (a uuid the leader drew) or, without one, a uuid derived from the command. A known,
 *   not gone id is updated (hostname, address, resources, attributes) and becomes active.
 * - instances_place: a placement of an unknown app, on an unknown or non-active agent, or with an
 *   id already in use is skipped (listed in "skipped"), never an error. An instance starts in
 *   TASK_STAGING with goal running; its resources come from the item or else from the app at
 *   "version" (the current app if that version is no longer stored), and are reserved on the agent.
 * - instances_status: an unknown id is ignored; a terminal instance never changes again;
 *   TASK_STAGING/TASK_STARTING after a later state is ignored (a stale update); TASK_UNREACHABLE
 *   may go back to TASK_RUNNING. started_at is set on the first TASK_RUNNING. Health applies to
 *   TASK_RUNNING only (other states clear it, and the per-check
 *   results with it); an item without "checks" leaves the results as they are. "ready" true marks
 *   the instance ready (readiness checks) for good; false or absent changes nothing. A TASK_KILLED
 *   instance whose last health result was unhealthy, and any TASK_FAILED/ERROR/LOST instance, of an app that exists
 *   becomes its lastTaskFailure. Becoming terminal releases the agent's resources.
 * - instances_expunge removes terminal instances; non-terminal ones only with "force" (their
 *   resources are released), otherwise they are left alone.
 * - Bounds (a command beyond them fails, changing nothing; the CLUSTER_MAX_* constants below, for
 *   the API to check first): ids ≤ 256 bytes, app ids ≤ 256, versions ≤ 64, hostname ≤ 255,
 *   address ≤ 300, messages ≤ 1 KiB, ≤ 64 ports per instance, ≤ 1000 port ranges and ≤ 256
 *   attributes (key ≤ 256, value ≤ 1 KiB) per agent, ≤ 100,000 items per command, resources finite
 *   and 0..1e9. A status item in TASK_UNKNOWN is ignored (it says nothing about the task).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/state.h"

#include "model/health_result.h"
#include "model/task_state.h"

#define CLUSTER_MAX_ID_LEN 256
#define CLUSTER_MAX_VERSION_LEN 64
#define CLUSTER_MAX_HOST_LEN 255
#define CLUSTER_MAX_ADDRESS_LEN 300
#define CLUSTER_MAX_MESSAGE_LEN 1024
#define CLUSTER_MAX_INSTANCE_PORTS 64
#define CLUSTER_MAX_AGENT_RANGES 1000
#define CLUSTER_MAX_ATTRIBUTES 256
#define CLUSTER_MAX_ATTR_KEY_LEN 256
#define CLUSTER_MAX_ATTR_VALUE_LEN 1024
#define CLUSTER_MAX_RESOURCE 1e9
#define CLUSTER_MAX_ITEMS 100000

enum agent_state { AGENT_ACTIVE, AGENT_UNREACHABLE, AGENT_DRAINING, AGENT_GONE };
/* "active", "unreachable", "draining", "gone". */
const char *agent_state_to_string(enum agent_state s);
/* Returns the state (>= 0) or -EINVAL. */
int agent_state_from_string(const char *s);

enum instance_goal { GOAL_RUNNING, GOAL_STOPPED, GOAL_DECOMMISSIONED };
/* "running", "stopped", "decommissioned". */
const char *instance_goal_to_string(enum instance_goal g);
/* Returns the goal (>= 0) or -EINVAL. */
int instance_goal_from_string(const char *s);

struct port_range {
        uint16_t begin, end; /* inclusive */
};

struct agent {
        const char *id; /* owned by the state; stable while the agent exists */
        char *hostname;
        char *address; /* "ip:port" of the agent's API; may be NULL */
        double cpus, mem, disk, gpus;
        struct port_range *ports;
        size_t n_ports;
        json_t *attributes; /* object of strings (owned) */
        enum agent_state state;
        int64_t registered_at, state_since; /* ms, leader clock from the command */
        /* used resources: derived from the instances placed here that are not terminal (kept
         * exact in fixed point inside, so they return to 0 when everything is released) */
        double used_cpus, used_mem, used_disk, used_gpus;
        size_t n_instances; /* non-terminal instances placed here */
};

/* Per-check health results of an instance (only instances whose agent reported some have one). */
struct instance_check {
        int64_t first_success, last_success, last_failure; /* ms; 0: none */
        char *cause;                                        /* lastFailureCause or NULL (owned) */
        uint32_t consecutive_failures;
        bool known, alive;
};
struct instance_health {
        uint8_t n;
        struct instance_check checks[];
};

struct instance {
        const char *id;        /* task id "<app_path>.instance-<uuid>._app", stored with the instance */
        const char *app_id;    /* interned */
        const char *version;   /* interned: the app version it runs */
        const char *agent_id;  /* interned (the agent's id) */
        const uint16_t *ports; /* host ports, stored with the instance */
        uint8_t n_ports;
        uint8_t state; /* enum task_state */
        uint8_t goal;  /* enum instance_goal */
        bool healthy, has_health;
        bool left_unhealthy; /* left TASK_RUNNING (e.g. to TASK_KILLING) with a failing health result */
        bool ready; /* its readiness check passed (apps with readinessChecks; set by the agent's reports) */
        uint32_t ip; /* its own IPv4 address (container networks; network byte order), 0: the agent's */
        float cpus, mem, disk, gpus;               /* reserved at placement */
        int64_t staged_at, started_at, updated_at; /* ms; started_at 0 until the first TASK_RUNNING */
        const char *message;                       /* last status message (interned, may be NULL) */
        const struct instance_health *checks;      /* per-check results while running, or NULL */
};

/* The instance's own IP (instance.ip) as text in buf, or NULL when it has none. */
const char *instance_ip(const struct instance *i, char buf[static 16]);

/* The per-check results of an instance as health_result values; returns how many (0 if none). */
size_t instance_health_results(const struct instance *i, struct health_result ret[static HEALTH_MAX_CHECKS]);

/* Read access (borrowed pointers, valid until the next mutation). */
const struct agent *state_agent_get(const struct state *s, const char *id);
size_t state_agent_count(const struct state *s);
/* In registration order; stops early when cb returns non-zero and returns that value. */
int state_agents_foreach(const struct state *s, int (*cb)(const struct agent *a, void *data), void *data);
/* The cluster id fixed by the first agent registration, or NULL before. */
const char *state_cluster_id(const struct state *s);

const struct instance *state_instance_get(const struct state *s, const char *id);
size_t state_instance_count(const struct state *s);
/* Every instance, app by app (in the order apps got their first instance), each app's in
 * placement order. The foreach functions stop early when cb returns non-zero and return it. */
int state_instances_foreach(const struct state *s, int (*cb)(const struct instance *i, void *data),
                            void *data);
/* The instances of an app id, in placement order — also of an app that has been deleted. */
int state_app_instances_foreach(const struct state *s, const char *app_id,
                                int (*cb)(const struct instance *i, void *data), void *data);
/* The instances placed on an agent (terminal ones until they are expunged); order unspecified. */
int state_agent_instances_foreach(const struct state *s, const char *agent_id,
                                  int (*cb)(const struct instance *i, void *data), void *data);
/* App ids that have instances but no app any more (app_delete leaves instances for the master
 * to kill and expunge), with how many instances each has. */
int state_orphan_apps_foreach(const struct state *s,
                              int (*cb)(const char *app_id, size_t n_instances, void *data), void *data);

/* Per-app instance counts, kept incrementally (GET /v2/apps never scans instances). Zero for an
 * app without instances. */
struct state_app_counts {
        size_t instances;   /* all, terminal ones included until expunged */
        size_t staged;      /* TASK_STAGING, TASK_STARTING (Marathon's tasksStaged) */
        size_t running;     /* TASK_RUNNING (tasksRunning) */
        size_t healthy;     /* running with a health result, healthy (tasksHealthy) */
        size_t unhealthy;   /* running with a health result, unhealthy (tasksUnhealthy) */
        size_t killing;     /* TASK_KILLING */
        size_t unreachable; /* TASK_UNREACHABLE */
        size_t terminal;    /* terminal, not yet expunged */
        size_t stopping;    /* not terminal, goal not running (being killed) */
};
void state_app_counts(const struct state *s, const char *app_id, struct state_app_counts *ret);

/* The last failed task of an app (Marathon's lastTaskFailure: {appId, host, message, state,
 * taskId, timestamp, version, slaveId}), as JSON (borrowed), or NULL. Deleting the app forgets it. */
const json_t *state_app_last_failure(const struct state *s, const char *app_id);

/* Change notification: after applying a command, the store calls the observer (on every master,
 * in log order, once the whole command is applied, so callbacks see a consistent state) with what
 * changed, so the leader's control loops react without rescanning. A failed command calls nothing.
 * An instance changed several times by one command is reported once, with its state before the
 * command. Pointers and strings passed are valid during the callback only. Callbacks must not
 * mutate the state (they may submit commands). Snapshot restore calls only `restored`: everything
 * may have changed. Any member may be NULL. */
struct state_observer {
        void (*app_changed)(const char *app_id, void *data);     /* created, updated, rolled back, deleted */
        void (*agent_changed)(const char *agent_id, void *data); /* registered, state, removed */
        /* old_state: the state before the command; TASK_UNKNOWN for a new instance. */
        void (*instance_changed)(const struct instance *i, enum task_state old_state, void *data);
        void (*instance_removed)(const char *instance_id, const char *app_id, void *data);
        void (*restored)(void *data);
        /* A deployment record (store/deployments.h) changed: what is "created", "updated" (an app
         * joined), "step" (currentStep advanced), or, once removed, "success", "failed" or
         * "canceled" (record as it was). */
        void (*deployment_changed)(const json_t *record, const char *what, void *data);
        void *data;
};
/* Copies *obs (NULL removes the observer). It survives snapshot restores. */
void state_set_observer(struct state *s, const struct state_observer *obs);

/* Compact command items for the master to build hot-path commands with (new references). */
json_t *cluster_place_item(const char *id, const char *app_id, const char *version, const char *agent_id,
                           const uint16_t *ports, size_t n_ports);
/* message may be NULL; healthy: -1 unknown, 0 unhealthy, 1 healthy. */
json_t *cluster_status_item(const char *id, enum task_state state, int64_t ts_ms, const char *message,
                            int healthy);
/* The same with readiness (ready: the readiness check passed) and per-check results (checks: n
 * results, NULL for none). */
json_t *cluster_status_item_health(const char *id, enum task_state state, int64_t ts_ms, const char *message,
                                   int healthy, bool ready, const struct health_result *checks, size_t n);
