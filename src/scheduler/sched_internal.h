/* sched_internal.h — the scheduler layer's private structures, shared by its .c files only.
 *
 * Resources are kept in fixed point (thousandths: 0.1 cpus = 100) so that an allocation and its
 * release cancel exactly, and a placement that is undone leaves the cluster bit-for-bit as it
 * was. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/hashmap.h"
#include "common/jregex.h"
#include "scheduler/sched_cluster.h"
#include "scheduler/sched_constraints.h"
#include "scheduler/sched_place.h"

#define NO_POS UINT32_MAX

enum { R_CPUS, R_MEM, R_DISK, R_GPUS, R_N };

int64_t sched_fixed(double v);

/* --- per-class index of free resources (sched_index.c) ----------------------------------------
 * A max segment tree over the class's active agents: every node holds, per dimension, the most
 * free any agent below it has. Updates are O(log n); a search for an agent that fits prunes
 * every subtree whose maxima fall short, so it never misses a fitting agent. */
struct ivec {
        int64_t r[R_N];
        int64_t ports;
};

struct sched_agent;

struct sched_index {
        struct sched_agent **leaf; /* active members, [0, n) */
        struct ivec *node;         /* 2 * cap nodes; node[1] is the root, leaves at cap + i */
        uint32_t n, cap;
};

/* Leaf test for index_find: true when the agent is acceptable beyond the pruned dimensions. */
typedef bool (*index_pred_cb)(struct sched_agent *a, void *data);

void index_release(struct sched_index *x);
void index_add(struct sched_index *x, struct sched_agent *a);
void index_remove(struct sched_index *x, struct sched_agent *a);
/* Recomputes the path of the agent's leaf after its free resources changed. */
void index_update(struct sched_index *x, struct sched_agent *a);
/* The first member at or after position from (wrapping around) whose free resources cover
 * demand and for which pred holds; NULL if none. */
struct sched_agent *index_find(const struct sched_index *x, const struct ivec *demand, uint32_t from,
                               index_pred_cb pred, void *data);

/* --- classes and agents ------------------------------------------------------------------- */

struct sched_class {
        uint32_t slot;
        uint64_t serial; /* unique over the cluster's life: cache key */
        char *sig;       /* identity: role, fault domain and sorted attributes (hashmap key) */
        char *role;
        char *region, *zone; /* NULL when unknown */
        struct sched_attr_kv {
                char *name, *value;
        } * attrs; /* sorted by name */
        size_t n_attrs;
        size_t n_agents; /* agents of any state; the class is freed at 0 */
        struct sched_index index;
};

/* The agents that share one hostname (normally one): hostname constraints count per host. */
struct sched_host {
        struct sched_agent **agents;
        size_t n, cap;
        char name[]; /* the hostname (hashmap key) */
};

struct sched_agent {
        char *id;
        const char *hostname; /* host->name */
        struct sched_host *host;
        uint32_t slot;
        uint32_t member_pos; /* leaf position in the class index; NO_POS unless active */
        struct sched_class *cls;
        enum sched_agent_state state;
        int64_t total[R_N], used[R_N];
        /* host ports: sorted disjoint ranges, one bit per port, set = in use */
        struct sched_port_range *ranges;
        uint32_t *range_base; /* first bit of each range */
        size_t n_ranges;
        uint64_t *bits;
        uint32_t n_bits, n_used_ports;
        /* apps with instances here: open addressing by app slot (sched_app.c) */
        struct app_on_agent *apps;
        uint32_t apps_cap, n_apps;
        size_t n_instances;
};

/* --- per-app instance counts -------------------------------------------------------------- */

enum field_kind { FIELD_HOSTNAME, FIELD_REGION, FIELD_ZONE, FIELD_ATTR };

/* Live instances of one app per value of one class-level field (attribute, @region, @zone),
 * kept incrementally once a constraint has asked for the field. Hostname counts come from the
 * agents' tables instead (host_count): no per-app string map for the most common constraint. */
struct app_field {
        enum field_kind kind;
        char *name;            /* attribute name for FIELD_ATTR, else NULL */
        struct hashmap counts; /* value → struct count_ent (count and the key), for counts > 0 */
        size_t total;          /* instances on agents that have a value */
};

struct sched_app {
        char *id;
        uint32_t slot;
        size_t n_instances;
        uint32_t *agents; /* slots of the agents with instances of the app */
        size_t n_agents, cap_agents;
        struct app_field *fields;
        size_t n_fields;
};

/* Instances of one app on one agent: an entry of the agent's table. Nothing here grows with the
 * number of instances in the cluster, so no rehash ever stalls a placement for long. */
struct app_on_agent {
        uint32_t key;     /* app slot + 1; 0 = empty */
        uint32_t count;   /* live instances */
        uint32_t pos_app; /* position of the agent in the app's agent list */
};

struct sched_cluster {
        uint64_t serial; /* distinguishes clusters in the constraints' caches */
        struct hashmap agents_by_id;
        struct sched_agent **agents; /* by slot; NULL = free */
        size_t n_agent_slots, cap_agent_slots, n_agents;
        uint32_t *free_agent_slots;
        size_t n_free_agent_slots;

        struct hashmap hosts; /* hostname → struct sched_host */

        struct hashmap classes_by_sig;
        struct sched_class **classes; /* by slot; NULL = free */
        size_t n_class_slots, n_classes;
        uint64_t next_class_serial;

        struct hashmap apps_by_id;
        struct sched_app **apps; /* by slot */
        size_t n_app_slots;
        size_t cap_app_slots;
        uint32_t *free_app_slots;
        size_t n_free_app_slots;
};

/* The agent's value for a field, or NULL when it has none. */
const char *agent_field_value(const struct sched_agent *a, enum field_kind kind, const char *name);
const char *class_attr(const struct sched_class *cls, const char *name);
struct sched_agent *cluster_agent_by_id(const struct sched_cluster *c, const char *id);
struct sched_app *cluster_app(const struct sched_cluster *c, const char *id);
/* Finds or creates the app's record (an app without instances is freed by app_gc). */
struct sched_app *cluster_app_get_or_new(struct sched_cluster *c, const char *id);
void cluster_app_gc(struct sched_cluster *c, struct sched_app *app);
/* The app's per-value counts for a field, created (from the app's current instances) on first
 * use. The pointer is valid until the next app_field call for the same app. */
struct app_field *app_field(struct sched_cluster *c, struct sched_app *app, enum field_kind kind,
                            const char *name);
size_t app_field_count(const struct app_field *f, const char *value);
uint32_t app_count_on(const struct sched_cluster *c, const struct sched_app *app,
                      const struct sched_agent *a);
/* Live instances of the app on the agents of one host. */
size_t host_count(const struct sched_cluster *c, const struct sched_app *app, const struct sched_host *h);
/* The smallest host_count above `above` over the hosts with instances of the app, SIZE_MAX if
 * none. */
size_t app_host_next(const struct sched_cluster *c, const struct sched_app *app, size_t above);

/* Accounts one instance of app on agent a: resources, ports (already checked free and in
 * range by the caller; ports outside the ranges are ignored), counts, index. */
void cluster_charge(struct sched_cluster *c, struct sched_agent *a, struct sched_app *app,
                    const int64_t res[R_N], const uint16_t *ports, size_t n_ports);
/* The exact inverse of cluster_charge. Frees the app's record when it has no instance left. */
void cluster_credit(struct sched_cluster *c, struct sched_agent *a, struct sched_app *app,
                    const int64_t res[R_N], const uint16_t *ports, size_t n_ports);
struct ivec agent_free(const struct sched_agent *a);
/* Drops the counts of every app on a: the agent goes away with its allocations. */
void cluster_forget_agent_apps(struct sched_cluster *c, struct sched_agent *a);
/* Adds (sign 1) or removes (-1) the agent's instances from the apps' per-value counts: around a
 * change of its field values. */
void cluster_agent_fields(struct sched_cluster *c, struct sched_agent *a, long sign);
void cluster_apps_release(struct sched_cluster *c);

/* --- ports (sched_ports.c) ------------------------------------------------------------------ */

/* Sorts and merges ranges into a->ranges and sizes the bitmap (all free). */
void ports_init(struct sched_agent *a, const struct sched_port_range *ranges, size_t n);
void ports_release(struct sched_agent *a);
/* The port's bit, or -1 when no range holds it. */
int32_t ports_bit(const struct sched_agent *a, uint16_t port);
uint16_t ports_port(const struct sched_agent *a, uint32_t bit);
bool ports_bit_used(const struct sched_agent *a, uint32_t bit);
void ports_bit_set(struct sched_agent *a, uint32_t bit, bool used);
/* The first free bit at or after start (wrapping), or -1. */
int32_t ports_find_free(const struct sched_agent *a, uint32_t start);

/* --- constraints (sched_constraints.c) ------------------------------------------------------ */

struct sched_constraint {
        enum sched_op op;
        enum field_kind kind;
        char *field; /* as given */
        char *value; /* NULL when absent */
        long n;      /* MAX_PER n; GROUP_BY expected number of values (0: none given) */
        struct jregex *re; /* LIKE/UNLIKE: a reference to the shared compiled pattern (whole-value match) */
        char *scalar; /* IS: the value in 3-decimal form when it is a number, else NULL */
};

/* Per class verdict of the constraints that depend on the class alone. */
struct class_verdict {
        uint64_t serial;
        int8_t ok; /* 1 pass, 0 fail; valid when serial matches the class's */
};

struct sched_constraints {
        struct sched_constraint *items;
        size_t n;
        /* memo of class verdicts, for one cluster at a time */
        uint64_t cache_cluster;
        struct class_verdict *cache;
        size_t cache_cap;
};

/* True when the op's truth depends on the app's instances (UNIQUE, MAX_PER, GROUP_BY, CLUSTER
 * without value), false when only on the agent's own value. */
bool constraint_is_dynamic(const struct sched_constraint *k);
/* The static test of one constraint against a value (NULL: the agent lacks the field). For
 * dynamic operators only the missing-field rule applies. */
bool constraint_static_ok(const struct sched_constraint *k, const char *value);
/* Whether the class passes every constraint on class-level fields statically (memoized). */
bool constraints_class_ok(struct sched_constraints *k, const struct sched_cluster *c,
                          const struct sched_class *cls);

/* --- deterministic randomness ------------------------------------------------------------- */

static inline uint64_t rng_next(uint64_t *s) {
        /* splitmix64 */
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n) {
        return (uint64_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}
