/* sched_place.h — placing instances of one app: a pure function of (cluster, request, seed) →
 * plan (DESIGN.md §3, §10).
 *
 * How an instance is placed:
 * 1. Classes: the agent classes whose role is accepted and which pass the attribute-only
 *    constraints (memoized per constraints object and class), then, per instance, those the
 *    count-dependent constraints on class-level fields admit (UNIQUE, MAX_PER, CLUSTER, GROUP_BY's
 *    least-loaded values).
 * 2. Relaxed randomization: sample agents uniformly from those classes until two fit (or 16
 *    samples were drawn) and take the less loaded of them (power of two choices: spread by
 *    default). O(1) in the cluster size.
 * 3. When sampling finds nothing (a nearly full cluster), an exhaustive search of each class's
 *    free-resource index (pruned, O(log n) when agents fit) — an instance that fits somewhere is
 *    always placed.
 * Placing stops at the first instance that fits nowhere (later ones would not fit either).
 *
 * The plan is not applied: the cluster is left as it was unless flags has SCHED_PLACE_COMMIT,
 * or until the caller applies it with sched_commit (or sched_alloc per placement). Same cluster
 * (built by the same calls), same request, same seed → same plan. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "scheduler/sched_cluster.h"
#include "scheduler/sched_constraints.h"

/* Marathon's NoOfferMatchReason names, as GET /v2/queue's rejectSummary shows them. */
#define SCHED_REASONS(X)                                                                                     \
        X(SCHED_REASON_UNFULFILLED_ROLE, "UnfulfilledRole")                                                  \
        X(SCHED_REASON_UNFULFILLED_CONSTRAINT, "UnfulfilledConstraint")                                      \
        X(SCHED_REASON_AGENT_MAINTENANCE, "AgentMaintenance")                                                \
        X(SCHED_REASON_INSUFFICIENT_CPUS, "InsufficientCpus")                                                \
        X(SCHED_REASON_INSUFFICIENT_MEMORY, "InsufficientMemory")                                            \
        X(SCHED_REASON_INSUFFICIENT_DISK, "InsufficientDisk")                                                \
        X(SCHED_REASON_INSUFFICIENT_GPUS, "InsufficientGpus")                                                \
        X(SCHED_REASON_INSUFFICIENT_PORTS, "InsufficientPorts")

/* clang-format off */
enum sched_reason {
#define X(e, s) e,
        SCHED_REASONS(X)
#undef X
        _SCHED_REASON_MAX,
};
/* clang-format on */
const char *sched_reason_to_string(enum sched_reason r);
/* Returns the reason or -EINVAL. */
int sched_reason_from_string(const char *s);

/* "Place count more instances of this app." Everything is borrowed for the call. */
struct sched_request {
        const char *app_id; /* required: the instances count for the app's constraints */
        unsigned count;
        struct sched_resources res; /* per instance */
        /* Host ports per instance, in the app's order: 0 = any free port of the agent's ranges,
         * n = exactly host port n (requirePorts, or a fixed hostPort). At most SCHED_MAX_PORTS. */
        const uint16_t *ports;
        size_t n_ports;
        /* NULL: none. Written to (memo), see sched_constraints_parse. */
        struct sched_constraints *constraints;
        /* acceptedResourceRoles; none means {"*"} (unreserved agents only). */
        const char *const *roles;
        size_t n_roles;
        uint64_t seed; /* all randomness derives from it */
};

struct sched_placement {
        const char *agent_id;  /* borrowed from the cluster: valid until the agent is removed or updated */
        uint32_t agent_slot;   /* internal handle for sched_commit */
        const uint16_t *ports; /* request->n_ports host ports, in the request's order (into the plan) */
};

/* A plan, reusable across calls (its arrays grow and are kept). Owned by the caller. */
struct sched_plan {
        struct sched_placement *placements;
        size_t n; /* placements made */
        size_t cap;
        uint16_t *ports; /* n × n_ports */
        size_t ports_cap;
        /* When fewer than count were placed: how the next instance fares on each agent, counted
         * as Marathon counts declined offers — processed agents (active and draining; unreachable
         * ones send no offers) and, per reason, the agents declining for it (an agent may decline
         * for several). All zero when everything was placed. */
        uint32_t processed;
        uint32_t declined[_SCHED_REASON_MAX];
};

void sched_plan_init(struct sched_plan *p);
void sched_plan_release(struct sched_plan *p);

enum {
        SCHED_PLACE_COMMIT = 1 << 0,     /* keep the plan applied (as sched_commit would) */
        SCHED_PLACE_NO_REASONS = 1 << 1, /* skip the reject summary (an O(agents) pass) */
};

/* Places up to request->count instances; fills *plan (replacing what it held). Returns the number
 * placed (>= 0), or -EINVAL (with *err) for a malformed request — then *plan is emptied. */
int sched_place(struct sched_cluster *c, const struct sched_request *req, unsigned flags,
                struct sched_plan *plan, struct err *err);
/* Applies a plan sched_place made for req without SCHED_PLACE_COMMIT, to the cluster it was made
 * on and before any other change to that cluster (equivalent to sched_alloc for each placement;
 * sched_release undoes one). */
void sched_commit(struct sched_cluster *c, const struct sched_request *req, const struct sched_plan *plan);
