/* cluster_internal.h — how agents and instances are kept inside struct state, for the command
 * handlers (fsm_agents.c, fsm_instances.c), snapshot encoding (cluster_json.c) and state.c.
 *
 * Indexes: agents by id (hash map) and in registration order; instances by id (open-addressing
 * table of node pointers); per app id a group listing its instances (intrusive doubly-linked
 * list, O(1) removal) with its counts and lastTaskFailure; per agent a list of its instances.
 * An instance node is one allocation: struct instance, its links, then its ports and id.
 *
 * Used resources are fixed point (CLUSTER_FX units per 1.0), so a release undoes exactly what a
 * reservation did, in whatever order; the agent's public doubles are derived from them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hashmap.h"
#include "store/cluster_state.h"
#include "store/strtab.h"

#define CLUSTER_FX 10000.0

struct inst_node;

struct app_group {
        const char *app_id; /* interned in cluster.strings; instances borrow it */
        struct inst_node *first, *last;
        struct state_app_counts counts;
        json_t *last_failure;          /* owned, may be NULL */
        struct app_group *prev, *next; /* creation order */
};

struct agent_node {
        struct agent pub;
        struct inst_node *first, *last;
        int64_t used_fx[4];             /* cpus, mem, disk, gpus */
        struct agent_node *prev, *next; /* registration order */
};

struct inst_node {
        struct instance pub;
        struct inst_node *app_prev, *app_next;
        struct inst_node *agent_prev, *agent_next;
        struct app_group *group;
        struct agent_node *agent;
        uint32_t hash;
        bool noted;                   /* already in this command's change list */
        bool reserved;                /* its resources count on the agent */
        struct inst_node *grave_next; /* removed, freed after the observer ran */
        /* uint16_t ports[n_ports]; char id[]; */
};

enum change_kind { CHANGE_APP, CHANGE_AGENT, CHANGE_INSTANCE, CHANGE_REMOVED, CHANGE_DEPLOYMENT };

struct change {
        enum change_kind kind;
        uint8_t old_state;
        char *id;               /* CHANGE_APP, CHANGE_AGENT (owned) */
        struct inst_node *node; /* CHANGE_INSTANCE, CHANGE_REMOVED */
        json_t *record;         /* CHANGE_DEPLOYMENT: the record (a reference) */
        const char *what;       /* CHANGE_DEPLOYMENT: "created", "updated", "step", "success"… (static) */
};

struct cluster {
        struct strtab strings;
        char *cluster_id;
        uint64_t next_agent;
        struct hashmap agents; /* id -> agent_node */
        struct agent_node *agents_first, *agents_last;
        size_t n_agents;
        struct hashmap groups; /* app id -> app_group */
        struct app_group *groups_first, *groups_last;
        struct inst_node **slots; /* instance table: open addressing, load <= 1/2 */
        size_t cap, n_instances;

        struct change *changes;
        size_t n_changes, cap_changes;
        struct inst_node *graveyard;
        struct state_observer obs;
        bool has_obs;
};

/* state.c owns the struct cluster inside struct state. */
struct cluster *state_cluster(const struct state *s);

void cluster_init(struct cluster *c);
/* Frees everything but the observer. */
void cluster_release(struct cluster *c);
/* Moves src's contents into dst (released first), keeping dst's observer; src is left empty. */
void cluster_move(struct cluster *dst, struct cluster *src);

/* Agents. */
struct agent_node *cluster_agent(const struct cluster *c, const char *id);
/* A new agent with id (copied), appended in registration order; fields zero, state active. */
struct agent_node *cluster_agent_add(struct cluster *c, const char *id);
/* Removes an agent that has no instances. */
void cluster_agent_remove(struct cluster *c, struct agent_node *a);
/* Clears hostname, address, ports and attributes (before a re-registration fills them). */
void cluster_agent_reset(struct agent_node *a);

/* Groups. */
struct app_group *cluster_group(const struct cluster *c, const char *app_id);
struct app_group *cluster_group_get_or_add(struct cluster *c, const char *app_id);
/* Frees the group if it has neither instances nor a last failure. */
void cluster_group_maybe_free(struct cluster *c, struct app_group *g);

/* Instances. */
struct inst_node *cluster_instance(const struct cluster *c, const char *id);
/* A new instance node in TASK_STAGING, linked into every index; strings are interned/copied here,
 * resources reserved on the agent. */
struct inst_node *cluster_instance_add(struct cluster *c, const char *id, struct app_group *g,
                                       struct agent_node *a, const char *version, const uint16_t *ports,
                                       size_t n_ports, const float res[4]);
/* Sets state (and what follows from it: counts, resource release on becoming terminal). */
void cluster_instance_set_state(struct cluster *c, struct inst_node *n, enum task_state st);
/* Sets the goal, keeping counts. */
void cluster_instance_set_goal(struct cluster *c, struct inst_node *n, enum instance_goal goal);
/* Sets health (has_health false clears it), keeping counts. */
void cluster_instance_set_health(struct cluster *c, struct inst_node *n, bool has_health, bool healthy);
/* Replaces the per-check results (n == 0 clears them). */
void cluster_instance_set_checks(struct cluster *c, struct inst_node *n, const struct health_result *r, size_t k);
/* True if the instance's per-check results equal r[0..k). */
bool cluster_instance_checks_equal(const struct inst_node *n, const struct health_result *r, size_t k);
/* Replaces the message (interned). */
void cluster_instance_set_message(struct cluster *c, struct inst_node *n, const char *msg);
/* Unlinks the instance from every index, releasing its resources if still reserved; the node is
 * freed after the observer ran (cluster_notify). */
void cluster_instance_remove(struct cluster *c, struct inst_node *n);

/* Change notes, delivered by cluster_notify after the command. */
void cluster_note_app(struct cluster *c, const char *app_id);
void cluster_note_agent(struct cluster *c, const char *agent_id);
/* Notes a deployment record change (a reference to record is kept until delivery; coalesced per
 * record and command); what is static. */
void cluster_note_deployment(struct cluster *c, const json_t *record, const char *what);
/* Notes an instance about to change (old: its state now), or just created (old: TASK_UNKNOWN).
 * Only the first note of an instance per command counts. */
void cluster_note_instance(struct cluster *c, struct inst_node *n, enum task_state old);
/* Calls the observer for every note (when ok) and forgets them; frees removed nodes. */
void cluster_notify(struct cluster *c, bool ok);

/* Called by fsm_app_delete: the app's lastTaskFailure goes (its instances stay). */
void cluster_app_deleted(struct cluster *c, const char *app_id);

/* Snapshot encoding (cluster_json.c): adds "cluster", "agents" and, when asked, "instance_apps"
 * to doc. */
void cluster_to_json(const struct cluster *c, json_t *doc, bool with_instances);
/* Builds a fresh cluster from doc (keys absent: empty). On failure *out is released. */
int cluster_from_json(struct cluster *out, const json_t *doc, struct err *err);
/* The "instance_apps" value, streamed as JSON text through put (which returns < 0 to stop):
 * a snapshot of a million instances never exists as a jansson tree. Returns 0 or -ENOMEM. */
int cluster_dump_instance_apps(const struct cluster *c, int (*put)(const char *buf, size_t n, void *data),
                               void *data);
struct jscan;
/* Reads an "instance_apps" value from sc into c (whose agents are loaded already). On failure
 * c is half-filled: the caller releases it. */
int cluster_load_instance_apps(struct cluster *c, struct jscan *sc, struct err *err);

/* Command parsing helpers shared by the handlers. */
/* A string member of at most max bytes: 0 and *ret (NULL when absent and optional), or -EINVAL. */
int cluster_get_str(const json_t *v, size_t max, bool optional, const char **ret);
/* A dotted-quad IPv4 address (not 0.0.0.0) → *ret in network byte order; -EINVAL otherwise. */
int cluster_parse_ipv4(const char *s, uint32_t *ret);
/* The command's ISO "ts" in ms, or -EINVAL. */
int cluster_cmd_ts(const json_t *cmd, int64_t *ret);
