/* placement.c — interim first-fit placement over the state's agents (resources and host ports),
 * with reservations for placements decided but not committed yet. The scheduler layer
 * (src/scheduler) replaces the search; the bookkeeping stays. */
#include "master/placement.h"

#include <math.h>
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
};

static void count_reason(json_t *reasons, const char *r) {
        json_object_set_new(reasons, r, json_integer(json_integer_value(json_object_get(reasons, r)) + 1));
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
                if (u.cpus + c->cpus > a->cpus + eps)
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
        if (state_agent_count(store_state(l->m->store)) == 0)
                count_reason(reasons, "NoAgents");
        state_agents_foreach(store_state(l->m->store), try_agent, &c);
        return c.placed;
}

void placement_forget(struct launcher *l, const char *instance_id) {
        struct pending *p = hashmap_remove(pendings(l), instance_id);
        if (p)
                pending_free(p);
}
