/* placement.c — interim placement over the state's agents: Marathon constraints, resources and
 * host ports, first fit in rounds, with reservations for placements decided but not committed
 * yet. It scans every agent per placement (O(agents)); the scheduler layer (src/scheduler:
 * equivalence classes, sampling, incremental indexes) is to replace the search, and the
 * bookkeeping here stays. */
#include "master/placement.h"

#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/util.h"
#include "master/launcher.h"
#include "master/master_internal.h"
#include "store/cluster_state.h"

#define MAX_PORTS 64

/* A placement decided by this leader and not yet visible in the state. */
struct pending {
        char *instance_id;
        char *agent_id;
        double cpus, mem, disk, gpus;
        uint16_t ports[MAX_PORTS];
        size_t n_ports;
};

/* All pending reservations, by instance id (the launcher's struct holds the map pointer). */
static struct hashmap *pendings(struct launcher *l) {
        if (!l->cluster) {
                struct hashmap *m = xcalloc(1, sizeof *m);
                hashmap_init(m);
                l->cluster = (struct sched_cluster *)m;
        }
        return (struct hashmap *)l->cluster;
}

static void pending_free(struct pending *p) {
        free(p->instance_id);
        free(p->agent_id);
        free(p);
}

void placement_release(struct launcher *l) {
        if (!l->cluster)
                return;
        struct hashmap *m = pendings(l);
        size_t pos = 0;
        void *v;
        while (hashmap_next(m, &pos, NULL, &v))
                pending_free(v);
        hashmap_release(m);
        free(m);
        l->cluster = NULL;
}

void placement_rebuild(struct launcher *l) {
        placement_release(l);
}

void placement_agent_changed(struct launcher *l, const char *agent_id) {
}

void placement_instance_changed(struct launcher *l, const struct instance *i, int old_state) {
        struct pending *p = hashmap_remove(pendings(l), i->id);
        if (p)
                pending_free(p);
}

struct agent_use {
        double cpus, mem, disk, gpus;
        uint8_t *ports; /* bitmap of 65536 */
};

static int mark_ports(const struct instance *i, void *data) {
        struct agent_use *u = data;
        if (task_state_is_terminal((enum task_state)i->state))
                return 0;
        for (size_t p = 0; p < i->n_ports; p++)
                u->ports[i->ports[p] / 8] |= (uint8_t)(1u << (i->ports[p] % 8));
        return 0;
}

struct plan_ctx {
        struct launcher *l;
        const json_t *app;
        const char *app_id, *version;
        double cpus, mem, disk, gpus;
        size_t n_ports;
        bool require_ports;
        int fixed_ports[MAX_PORTS];
        unsigned need, placed;
        json_t *placements, *reasons;
        struct constraint *cons;
        size_t n_cons;
        bool progress;
};

static void count_reason(json_t *reasons, const char *r) {
        json_object_set_new(reasons, r, json_integer(json_integer_value(json_object_get(reasons, r)) + 1));
}

/* --- Marathon constraints (api.md §2.8), evaluated per candidate agent ----------------------- */

enum op { OP_UNIQUE, OP_CLUSTER, OP_GROUP_BY, OP_LIKE, OP_UNLIKE, OP_MAX_PER, OP_IS };

struct constraint {
        enum op op;
        const char *field;   /* "hostname" or an attribute name (borrowed from the app) */
        const char *value;   /* NULL when absent */
        long n;              /* MAX_PER n, GROUP_BY expected groups (0: unknown) */
        regex_t re;          /* LIKE/UNLIKE, anchored */
        bool has_re;
        struct hashmap counts; /* field value → live instances of the app there (+ this plan's) */
};

/* The agent's value for a constraint field, or NULL when it has none. */
static const char *field_value(const struct agent *a, const char *field) {
        if (streq(field, "hostname") || streq(field, "@hostname"))
                return a->hostname;
        if (field[0] == '@')
                field++; /* @region, @zone: fault domains arrive as attributes */
        return json_string_value(json_object_get(a->attributes, field));
}

static void count_value(struct constraint *k, const char *v, long delta) {
        if (!v)
                return;
        long n = (long)(intptr_t)hashmap_get(&k->counts, v);
        if (!n && delta > 0)
                hashmap_put(&k->counts, xstrdup(v), (void *)(intptr_t)delta);
        else
                hashmap_put(&k->counts, v, (void *)(intptr_t)(n + delta));
}

static long count_of(struct constraint *k, const char *v) {
        return v ? (long)(intptr_t)hashmap_get(&k->counts, v) : 0;
}

struct count_ctx {
        struct plan_ctx *c;
};

static int count_instance(const struct instance *i, void *data) {
        struct plan_ctx *c = data;
        if (task_state_is_terminal((enum task_state)i->state) || i->goal != GOAL_RUNNING || !i->agent_id)
                return 0;
        const struct agent *a = state_agent_get(store_state(c->l->m->store), i->agent_id);
        for (size_t k = 0; a && k < c->n_cons; k++)
                count_value(&c->cons[k], field_value(a, c->cons[k].field), 1);
        return 0;
}

static void constraints_free(struct plan_ctx *c) {
        for (size_t k = 0; k < c->n_cons; k++) {
                struct constraint *x = &c->cons[k];
                if (x->has_re)
                        regfree(&x->re);
                const char *key;
                size_t pos = 0;
                while (hashmap_next(&x->counts, &pos, &key, NULL))
                        free((char *)key);
                hashmap_release(&x->counts);
        }
        free(c->cons);
}

/* Values of the field over active agents, for GROUP_BY's balance. */
struct values_ctx {
        struct constraint *k;
        long min;
        bool any;
};

static int min_count(const struct agent *a, void *data) {
        struct values_ctx *v = data;
        if (a->state != AGENT_ACTIVE)
                return 0;
        const char *val = field_value(a, v->k->field);
        if (!val)
                return 0;
        long n = count_of(v->k, val);
        if (!v->any || n < v->min)
                v->min = n;
        v->any = true;
        return 0;
}

static bool constraints_allow(struct plan_ctx *c, const struct agent *a) {
        for (size_t i = 0; i < c->n_cons; i++) {
                struct constraint *k = &c->cons[i];
                const char *v = field_value(a, k->field);
                if (!v) {
                        /* "If the offer lacks the field, only UNLIKE matches." */
                        if (k->op != OP_UNLIKE)
                                return false;
                        continue;
                }
                switch (k->op) {
                case OP_UNIQUE:
                        if (count_of(k, v) > 0)
                                return false;
                        break;
                case OP_CLUSTER:
                        if (k->value) {
                                if (!streq(v, k->value))
                                        return false;
                        } else if (hashmap_size(&k->counts) > 0 && count_of(k, v) == 0) {
                                return false; /* all on the value of the first placed instance */
                        }
                        break;
                case OP_GROUP_BY: {
                        struct values_ctx vc = { k, 0, false };
                        state_agents_foreach(store_state(c->l->m->store), min_count, &vc);
                        if (count_of(k, v) > vc.min)
                                return false;
                        break;
                }
                case OP_LIKE:
                        if (regexec(&k->re, v, 0, NULL, 0) != 0)
                                return false;
                        break;
                case OP_UNLIKE:
                        if (regexec(&k->re, v, 0, NULL, 0) == 0)
                                return false;
                        break;
                case OP_MAX_PER:
                        if (count_of(k, v) >= k->n)
                                return false;
                        break;
                case OP_IS:
                        if (!k->value || !streq(v, k->value))
                                return false;
                        break;
                }
        }
        return true;
}

/* The app's constraints (validated by the model already) with the counts of its live
 * instances. */
static void constraints_load(struct plan_ctx *c) {
        static const char *const names[] = { "UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS" };
        const json_t *list = json_object_get(c->app, "constraints");
        c->n_cons = 0;
        c->cons = xcalloc(json_array_size(list) + 1, sizeof *c->cons);
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item) {
                const char *field = json_string_value(json_array_get(item, 0));
                const char *op = json_string_value(json_array_get(item, 1));
                const char *value = json_string_value(json_array_get(item, 2));
                if (!field || !op)
                        continue;
                struct constraint *k = &c->cons[c->n_cons];
                bool known = false;
                for (size_t n = 0; n < ELEMENTSOF(names); n++)
                        if (strcasecmp(op, names[n]) == 0) {
                                k->op = (enum op)n;
                                known = true;
                        }
                if (!known)
                        continue;
                k->field = field;
                k->value = value;
                k->n = value ? strtol(value, NULL, 10) : 0;
                if (k->op == OP_LIKE || k->op == OP_UNLIKE) {
                        _cleanup_free_ char *anchored = xasprintf("^(%s)$", value ? value : "");
                        k->has_re = regcomp(&k->re, anchored, REG_EXTENDED | REG_NOSUB) == 0;
                        if (!k->has_re)
                                continue;
                }
                hashmap_init(&k->counts);
                c->n_cons++;
        }
        if (c->n_cons)
                state_app_instances_foreach(store_state(c->l->m->store), c->app_id, count_instance, c);
}

static int try_agent(const struct agent *a, void *data) {
        struct plan_ctx *c = data;
        if (c->placed >= c->need)
                return 1;
        if (a->state != AGENT_ACTIVE)
                return 0;
        struct agent_use u = { a->used_cpus, a->used_mem, a->used_disk, a->used_gpus, xcalloc(8192, 1) };
        state_agent_instances_foreach(store_state(c->l->m->store), a->id, mark_ports, &u);
        struct hashmap *m = pendings(c->l);
        size_t pos = 0;
        void *v;
        while (hashmap_next(m, &pos, NULL, &v)) {
                struct pending *p = v;
                if (!streq(p->agent_id, a->id))
                        continue;
                u.cpus += p->cpus, u.mem += p->mem, u.disk += p->disk, u.gpus += p->gpus;
                for (size_t k = 0; k < p->n_ports; k++)
                        u.ports[p->ports[k] / 8] |= (uint8_t)(1u << (p->ports[k] % 8));
        }
        const double eps = 1e-9;
        while (c->placed < c->need) {
                const char *why = NULL;
                if (!constraints_allow(c, a))
                        why = "UnfulfilledConstraint";
                else if (u.cpus + c->cpus > a->cpus + eps)
                        why = "InsufficientCpus";
                else if (u.mem + c->mem > a->mem + eps)
                        why = "InsufficientMemory";
                else if (u.disk + c->disk > a->disk + eps)
                        why = "InsufficientDisk";
                else if (u.gpus + c->gpus > a->gpus + eps)
                        why = "InsufficientGpus";
                uint16_t chosen[MAX_PORTS];
                size_t got = 0;
                for (size_t k = 0; !why && k < c->n_ports; k++) {
                        bool ok = false;
                        for (size_t r = 0; r < a->n_ports && !ok; r++) {
                                for (unsigned port = a->ports[r].begin; port <= a->ports[r].end; port++) {
                                        if (c->require_ports && c->fixed_ports[k] && (int)port != c->fixed_ports[k])
                                                continue;
                                        if (u.ports[port / 8] & (1u << (port % 8)))
                                                continue;
                                        bool dup = false;
                                        for (size_t j = 0; j < got; j++)
                                                dup |= chosen[j] == port;
                                        if (dup)
                                                continue;
                                        chosen[got++] = (uint16_t)port;
                                        ok = true;
                                        break;
                                }
                        }
                        if (!ok)
                                why = "InsufficientPorts";
                }
                if (why) {
                        if (c->placed < c->need)
                                count_reason(c->reasons, why);
                        break;
                }
                struct pending *p = xcalloc(1, sizeof *p);
                char uuid[37];
                uuid_random(uuid);
                _cleanup_free_ char *path = xstrdup(c->app_id[0] == '/' ? c->app_id + 1 : c->app_id);
                for (char *s = path; *s; s++)
                        if (*s == '/')
                                *s = '_';
                p->instance_id = xasprintf("%s.instance-%s._app", path, uuid);
                p->agent_id = xstrdup(a->id);
                p->cpus = c->cpus, p->mem = c->mem, p->disk = c->disk, p->gpus = c->gpus;
                p->n_ports = got;
                json_t *ports = json_array();
                for (size_t k = 0; k < got; k++) {
                        p->ports[k] = chosen[k];
                        u.ports[chosen[k] / 8] |= (uint8_t)(1u << (chosen[k] % 8));
                        json_array_append_new(ports, json_integer(chosen[k]));
                }
                u.cpus += c->cpus, u.mem += c->mem, u.disk += c->disk, u.gpus += c->gpus;
                hashmap_put(m, p->instance_id, p);
                json_array_append_new(c->placements, json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", p->instance_id, "appId",
                                                               c->app_id, "version", c->version, "agentId", a->id,
                                                               "ports", ports));
                c->placed++;
                c->progress = true;
                for (size_t k = 0; k < c->n_cons; k++)
                        count_value(&c->cons[k], field_value(a, c->cons[k].field), 1);
        }
        free(u.ports);
        return c->placed >= c->need;
}

unsigned placement_plan(struct launcher *l, const json_t *app, unsigned need, json_t *placements, json_t *reasons) {
        struct plan_ctx c = {
                .l = l, .app = app, .need = need, .placements = placements, .reasons = reasons,
                .app_id = json_string_value(json_object_get(app, "id")),
                .version = json_string_value(json_object_get(app, "version")),
                .cpus = json_number_value(json_object_get(app, "cpus")),
                .mem = json_number_value(json_object_get(app, "mem")),
                .disk = json_number_value(json_object_get(app, "disk")),
                .gpus = json_number_value(json_object_get(app, "gpus")),
                .require_ports = json_is_true(json_object_get(app, "requirePorts")),
        };
        const json_t *defs = json_object_get(app, "portDefinitions");
        const json_t *maps = json_object_get(json_object_get(app, "container"), "portMappings");
        size_t i;
        json_t *d;
        json_array_foreach(defs, i, d) {
                if (c.n_ports < MAX_PORTS)
                        c.fixed_ports[c.n_ports++] = (int)json_integer_value(json_object_get(d, "port"));
        }
        json_array_foreach(maps, i, d) {
                json_t *hp = json_object_get(d, "hostPort");
                if (json_is_integer(hp) && c.n_ports < MAX_PORTS) {
                        c.fixed_ports[c.n_ports++] = (int)json_integer_value(hp);
                        c.require_ports |= json_integer_value(hp) != 0;
                }
        }
        constraints_load(&c);
        /* Rounds over the agents: a spread (GROUP_BY) can make an agent eligible again. */
        do {
                c.progress = false;
                json_object_clear(reasons);
                state_agents_foreach(store_state(l->m->store), try_agent, &c);
        } while (c.progress && c.placed < c.need);
        constraints_free(&c);
        if (state_agent_count(store_state(l->m->store)) == 0)
                count_reason(reasons, "NoAgents");
        return c.placed;
}

void placement_forget(struct launcher *l, const char *instance_id) {
        struct pending *p = hashmap_remove(pendings(l), instance_id);
        if (p)
                pending_free(p);
}
