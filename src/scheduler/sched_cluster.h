/* sched_cluster.h — the scheduler's incremental view of the cluster: agents grouped into
 * equivalence classes, their free resources and host ports, and per-app instance counts.
 *
 * The caller (the leading master) owns one struct sched_cluster and keeps it in step with the
 * state: agents added, updated, removed or changing state, and one sched_alloc per live
 * instance (at placement, or when rebuilding after a failover) with the matching sched_release
 * when the instance ends or a placement is abandoned. No I/O, no clock, no locks: it belongs to
 * the thread that owns the loop.
 *
 * Cost: sched_agent_add/update/remove/set_state are O(attributes + port ranges + log agents),
 * plus, for remove, the agent's (app, agent) pairs; sched_alloc/sched_release are
 * O(ports + log agents-of-the-class + fields the app's constraints track). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/macro.h"

#define SCHED_MAX_PORTS 64    /* host ports one instance may hold */
#define SCHED_MAX_RANGES 1000 /* port ranges one agent may offer */
#define SCHED_MAX_ATTRS 256   /* attributes one agent may carry */

#define SCHED_AGENT_STATES(X)                                                                                \
        X(SCHED_AGENT_ACTIVE, "active")                                                                      \
        X(SCHED_AGENT_DRAINING, "draining")                                                                  \
        X(SCHED_AGENT_UNREACHABLE, "unreachable")

/* Only active agents receive placements. Draining and unreachable ones keep their allocations
 * (and count for constraints) until the caller releases them. */
/* clang-format off */
enum sched_agent_state {
#define X(e, s) e,
        SCHED_AGENT_STATES(X)
#undef X
        _SCHED_AGENT_STATE_MAX,
};
/* clang-format on */
const char *sched_agent_state_to_string(enum sched_agent_state s);
/* Returns the state, or -EINVAL for an unknown name. */
int sched_agent_state_from_string(const char *s);

/* Amounts as Marathon spells them: cpus (fractional), mem and disk in MiB, gpus. Kept inside
 * to a thousandth. */
struct sched_resources {
        double cpus, mem, disk, gpus;
};

struct sched_port_range {
        uint16_t begin, end; /* inclusive */
};

/* An agent attribute, value already in its Mesos string form (text as-is, scalars in 3-decimal
 * form — see sched_format_scalar —, ranges "[b-e,…]", sets "{a,b}"). */
struct sched_attr {
        const char *name, *value;
};

/* What the caller knows of one agent. Everything is copied; nothing is kept. */
struct sched_agent_spec {
        const char *id;            /* required, unique */
        const char *hostname;      /* required: the "hostname" constraint field */
        const char *role;          /* resources' role; NULL means "*" */
        const char *region, *zone; /* fault domain (@region, @zone); NULL when unknown */
        const struct sched_attr *attrs;
        size_t n_attrs;
        struct sched_resources total;
        const struct sched_port_range *ranges;
        size_t n_ranges;
        enum sched_agent_state state;
};

struct sched_cluster;

struct sched_cluster *sched_cluster_new(void);
/* Frees the cluster and everything in it; NULL is a no-op. */
void sched_cluster_free(struct sched_cluster *c);
DEFINE_POINTER_CLEANUP(struct sched_cluster, sched_cluster_free);

/* Adds an agent. -EEXIST if the id is known, -EINVAL (with *err) for a bad spec. */
int sched_agent_add(struct sched_cluster *c, const struct sched_agent_spec *spec, struct err *err);
/* Replaces an agent's description (resources, ports, attributes, state), keeping what is
 * allocated on it. Allocated ports the new ranges no longer hold are forgotten. An agent whose
 * totals shrink below what is allocated receives nothing until enough is released. -ENOENT if
 * unknown, -EINVAL for a bad spec. */
int sched_agent_update(struct sched_cluster *c, const struct sched_agent_spec *spec, struct err *err);
/* Changes only the state. -ENOENT if unknown. */
int sched_agent_set_state(struct sched_cluster *c, const char *id, enum sched_agent_state state);
/* Removes an agent and every allocation on it (the apps' counts there included). -ENOENT if
 * unknown. */
int sched_agent_remove(struct sched_cluster *c, const char *id);

/* A read-only view of one agent, for tests, metrics and /v1/nodes. */
struct sched_agent_info {
        const char *id, *hostname; /* borrowed: valid until the agent is removed or updated */
        enum sched_agent_state state;
        struct sched_resources total, used;
        size_t ports_total, ports_used;
        size_t instances;
};
/* Fills *ret; -ENOENT if unknown. */
int sched_agent_info(const struct sched_cluster *c, const char *id, struct sched_agent_info *ret);
size_t sched_agent_count(const struct sched_cluster *c);
/* Number of equivalence classes (distinct role + fault domain + attribute sets). */
size_t sched_class_count(const struct sched_cluster *c);
/* Whether the host port is in use on the agent (false if the agent or port is unknown). */
bool sched_port_used(const struct sched_cluster *c, const char *agent_id, uint16_t port);
/* Live instances of the app: on one agent, or (agent_id NULL) in all. */
size_t sched_app_instances(const struct sched_cluster *c, const char *app_id, const char *agent_id);

/* Accounts one instance of app_id on the agent: its resources and its host ports (ports outside
 * the agent's ranges are accepted and not tracked). Resources may exceed what is free — the
 * caller reports what runs. -ENOENT for an unknown agent, -EADDRINUSE when a tracked port is
 * already in use (or listed twice), -EINVAL for bad amounts or more than SCHED_MAX_PORTS ports;
 * on failure nothing changes. */
int sched_alloc(struct sched_cluster *c, const char *agent_id, const char *app_id,
                const struct sched_resources *res, const uint16_t *ports, size_t n_ports, struct err *err);
/* The inverse of sched_alloc with the same arguments. -ENOENT when the agent is unknown (gone
 * with its allocations) or the app has no instance on it; then nothing changes. */
int sched_release(struct sched_cluster *c, const char *agent_id, const char *app_id,
                  const struct sched_resources *res, const uint16_t *ports, size_t n_ports);

/* Writes a Mesos scalar the way Marathon compares it: rounded to 3 decimals (half-even), no
 * trailing zeros ("0.8", "2", "1.125"). Returns buf. */
char *sched_format_scalar(double v, char buf[static 64]);
