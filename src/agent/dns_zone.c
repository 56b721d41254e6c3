/* dns_zone.c — the agent's discovery view and its records, changed entry by entry. */
#include "agent/dns_zone.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/macro.h"
#include "model/vip.h"

/* Owned copies of view entries (the model's structs borrow). */
struct zone_task {
        char *id, *app_id, *agent_id;
        uint32_t ip;
        struct discovery_port *ports;
        size_t n_ports;
};

struct zone_agent {
        char *id, *host, *hostname;
        uint32_t ip;
        uint16_t port;
};

static struct discovery_task task_view(const struct zone_task *t) {
        return (struct discovery_task){ .id = t->id, .app_id = t->app_id, .agent_id = t->agent_id, .ip = t->ip,
                                        .ports = t->ports, .n_ports = t->n_ports };
}

static struct discovery_agent agent_view(const struct zone_agent *a) {
        return (struct discovery_agent){ .id = a->id, .host = a->host, .ip = a->ip, .port = a->port,
                                         .hostname = a->hostname };
}

/* --- records ------------------------------------------------------------------------------- */

struct edit {
        struct dns_zone *z;
        const void *owner;
};

static void add_rr(const struct discovery_rr *rr, void *data) {
        struct edit *e = data;
        struct dns_rrset *set = hashmap_get(&e->z->names, rr->name);
        if (!set) {
                set = xcalloc(1, sizeof *set);
                set->name = xstrdup(rr->name);
                hashmap_put(&e->z->names, set->name, set);
        }
        if (set->n == set->cap) {
                set->cap = set->cap ? set->cap * 2 : 2;
                set->rr = xrealloc(set->rr, set->cap * sizeof *set->rr);
        }
        set->rr[set->n++] = (struct dns_record){ .type = rr->type, .port = rr->port, .ttl = rr->ttl, .ip = rr->ip,
                                                 .target = rr->target ? xstrdup(rr->target) : NULL,
                                                 .owner = e->owner };
        e->z->n_records++;
}

static void rrset_free(struct dns_rrset *set) {
        for (size_t i = 0; i < set->n; i++)
                free(set->rr[i].target);
        free(set->rr);
        free(set->name);
        free(set);
}

/* Removes every record of the owner under rr's name (called with the owner's records as they
 * were added, so each name it had is visited). */
static void del_rr(const struct discovery_rr *rr, void *data) {
        struct edit *e = data;
        struct dns_rrset *set = hashmap_get(&e->z->names, rr->name);
        if (!set)
                return;
        size_t k = 0;
        for (size_t i = 0; i < set->n; i++) {
                if (set->rr[i].owner == e->owner) {
                        free(set->rr[i].target);
                        e->z->n_records--;
                } else {
                        set->rr[k++] = set->rr[i];
                }
        }
        set->n = k;
        if (k == 0) {
                hashmap_remove(&e->z->names, set->name);
                rrset_free(set);
        }
}

static void task_records(struct dns_zone *z, const struct zone_task *t, discovery_emit_cb cb) {
        const struct zone_agent *a = hashmap_get(&z->agents, t->agent_id);
        if (!a)
                return;
        struct discovery_task dt = task_view(t);
        struct discovery_agent da = agent_view(a);
        struct edit e = { z, t };
        discovery_task_records(&dt, &da, z->ttl, cb, &e);
}

static void agent_records(struct dns_zone *z, const struct zone_agent *a, discovery_emit_cb cb) {
        struct discovery_agent da = agent_view(a);
        struct edit e = { z, a };
        discovery_agent_records(&da, z->ttl, cb, &e);
}

static void infra_records(struct dns_zone *z, discovery_emit_cb cb) {
        struct edit e = { z, &z->masters };
        discovery_master_records(&z->masters, z->ttl, cb, &e);
        discovery_ns_records(z->ns_ip, z->ttl, cb, &e);
}

/* --- entries ------------------------------------------------------------------------------- */

static void task_free(struct zone_task *t) {
        if (!t)
                return;
        free(t->id);
        free(t->app_id);
        free(t->agent_id);
        free(t->ports);
        free(t);
}

static void agent_free(struct zone_agent *a) {
        if (!a)
                return;
        free(a->id);
        free(a->host);
        free(a->hostname);
        free(a);
}

static void task_remove(struct dns_zone *z, const char *id) {
        struct zone_task *t = hashmap_get(&z->tasks, id);
        if (!t)
                return;
        task_records(z, t, del_rr);
        hashmap_remove(&z->tasks, id);
        task_free(t);
}

static int task_put(struct dns_zone *z, const json_t *j, struct err *err) {
        struct discovery_task dt;
        struct discovery_port ports[DISCOVERY_MAX_PORTS];
        int r = discovery_task_from_json(j, &dt, ports, err);
        if (r < 0)
                return r;
        task_remove(z, dt.id);
        struct zone_task *t = xcalloc(1, sizeof *t);
        t->id = xstrdup(dt.id);
        t->app_id = xstrdup(dt.app_id);
        t->agent_id = xstrdup(dt.agent_id);
        t->ip = dt.ip;
        t->n_ports = dt.n_ports;
        if (dt.n_ports) {
                t->ports = xmalloc(dt.n_ports * sizeof *t->ports);
                memcpy(t->ports, ports, dt.n_ports * sizeof *t->ports);
        }
        hashmap_put(&z->tasks, t->id, t);
        task_records(z, t, add_rr);
        return 0;
}

/* An agent's change moves the records of its tasks (their agent IP) too. */
static void agent_tasks(struct dns_zone *z, const char *agent_id, discovery_emit_cb cb) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&z->tasks, &pos, NULL, &v)) {
                struct zone_task *t = v;
                if (strcmp(t->agent_id, agent_id) == 0)
                        task_records(z, t, cb);
        }
}

static void agent_remove(struct dns_zone *z, const char *id) {
        struct zone_agent *a = hashmap_get(&z->agents, id);
        if (!a)
                return;
        agent_tasks(z, id, del_rr);
        agent_records(z, a, del_rr);
        hashmap_remove(&z->agents, id);
        agent_free(a);
}

static int agent_put(struct dns_zone *z, const json_t *j, struct err *err) {
        struct discovery_agent da;
        int r = discovery_agent_from_json(j, &da, err);
        if (r < 0)
                return r;
        agent_remove(z, da.id);
        struct zone_agent *a = xcalloc(1, sizeof *a);
        a->id = xstrdup(da.id);
        a->host = xstrdup(da.host);
        a->hostname = xstrdup(da.hostname);
        a->ip = da.ip;
        a->port = da.port;
        hashmap_put(&z->agents, a->id, a);
        agent_records(z, a, add_rr);
        agent_tasks(z, a->id, add_rr);
        return 0;
}

static void clear(struct dns_zone *z) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&z->names, &pos, NULL, &v))
                rrset_free(v);
        pos = 0;
        while (hashmap_next(&z->tasks, &pos, NULL, &v))
                task_free(v);
        pos = 0;
        while (hashmap_next(&z->agents, &pos, NULL, &v))
                agent_free(v);
        hashmap_release(&z->names);
        hashmap_release(&z->tasks);
        hashmap_release(&z->agents);
        hashmap_init(&z->names);
        hashmap_init(&z->tasks);
        hashmap_init(&z->agents);
        z->n_records = 0;
}

void dns_zone_init(struct dns_zone *z, uint32_t ttl) {
        *z = (struct dns_zone){ .ttl = ttl ? ttl : DISCOVERY_TTL, .serial = (uint32_t)time(NULL) };
        hashmap_init(&z->names);
        hashmap_init(&z->tasks);
        hashmap_init(&z->agents);
        infra_records(z, add_rr);
}

/* Named VIPs: <name>.marathon.l4lb.thisdcos.directory A, replaced with each "vips" table. */
static void vips_set(struct dns_zone *z, const json_t *vips) {
        struct edit e = { z, &z->vips };
        vip_records(z->vips, del_rr, &e);
        json_decref(z->vips);
        z->vips = vips ? json_incref((json_t *)vips) : NULL;
        vip_records(z->vips, add_rr, &e);
}

void dns_zone_release(struct dns_zone *z) {
        vips_set(z, NULL);
        clear(z);
        hashmap_release(&z->names);
        hashmap_release(&z->tasks);
        hashmap_release(&z->agents);
}

void dns_zone_set_ns(struct dns_zone *z, uint32_t ip) {
        infra_records(z, del_rr);
        z->ns_ip = ip;
        infra_records(z, add_rr);
        z->generation++;
}

static void set_masters(struct dns_zone *z, const json_t *j, size_t *bad, struct err *err) {
        struct discovery_masters m;
        if (discovery_masters_from_json(j, &m, err) < 0) {
                (*bad)++;
                return;
        }
        infra_records(z, del_rr);
        z->masters = m;
        infra_records(z, add_rr);
}

int dns_zone_apply(struct dns_zone *z, const json_t *ev, struct err *err) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        bool snapshot = type && strcmp(type, "DISCOVERY_SNAPSHOT") == 0;
        if (!snapshot && (!type || strcmp(type, "DISCOVERY_UPDATE") != 0))
                return err_set(err, -EINVAL, "not a discovery event");
        size_t bad = 0, i;
        json_t *v;
        struct err e = { 0 };
        ev = json_object_get(ev, "view");
        if (!json_is_object(ev))
                return err_set(err, -EINVAL, "discovery event without a \"view\" object");
        if (snapshot) {
                clear(z);
                z->masters = (struct discovery_masters){ 0 };
                infra_records(z, add_rr);
                z->has_view = true;
        }
        if (json_object_get(ev, "masters"))
                set_masters(z, json_object_get(ev, "masters"), &bad, &e);
        if (json_is_array(json_object_get(ev, "vips")))
                vips_set(z, json_object_get(ev, "vips"));
        /* agents first: tasks need theirs */
        json_array_foreach(json_object_get(ev, "agentsGone"), i, v) {
                if (json_is_string(v))
                        agent_remove(z, json_string_value(v));
        }
        json_array_foreach(json_object_get(ev, "agents"), i, v) {
                if (agent_put(z, v, &e) < 0)
                        bad++;
        }
        json_array_foreach(json_object_get(ev, "tasksGone"), i, v) {
                if (json_is_string(v))
                        task_remove(z, json_string_value(v));
        }
        json_array_foreach(json_object_get(ev, "tasks"), i, v) {
                if (task_put(z, v, &e) < 0)
                        bad++;
        }
        z->generation++;
        z->serial = MAX(z->serial + 1, (uint32_t)time(NULL));
        if (bad) {
                int r = err_set(err, -EINVAL, "%zu discovery entries skipped (last: %s)", bad, err_msg(&e));
                err_release(&e);
                return r;
        }
        err_release(&e);
        return 0;
}

const struct dns_rrset *dns_zone_lookup(const struct dns_zone *z, const char *name) {
        return hashmap_get(&z->names, name);
}

size_t dns_zone_task_count(const struct dns_zone *z) {
        return hashmap_size(&z->tasks);
}

void dns_zone_foreach_task(const struct dns_zone *z,
                           void (*cb)(const struct discovery_task *t, const struct discovery_agent *a, void *data),
                           void *data) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&z->tasks, &pos, NULL, &v)) {
                const struct zone_task *t = v;
                const struct zone_agent *a = hashmap_get(&z->agents, t->agent_id);
                struct discovery_task dt = task_view(t);
                struct discovery_agent da = a ? agent_view(a) : (struct discovery_agent){ 0 };
                cb(&dt, a ? &da : NULL, data);
        }
}

void dns_zone_foreach_unresolved(const struct dns_zone *z, void (*cb)(const char *host, void *data), void *data) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&z->agents, &pos, NULL, &v)) {
                const struct zone_agent *a = v;
                if (!a->ip)
                        cb(a->host, data);
        }
}

void dns_zone_resolved(struct dns_zone *z, const char *host, uint32_t ip) {
        size_t pos = 0;
        void *v;
        bool changed = false;
        while (hashmap_next(&z->agents, &pos, NULL, &v)) {
                struct zone_agent *a = v;
                if (a->ip || strcmp(a->host, host) != 0)
                        continue;
                agent_tasks(z, a->id, del_rr);
                agent_records(z, a, del_rr);
                a->ip = ip;
                agent_records(z, a, add_rr);
                agent_tasks(z, a->id, add_rr);
                changed = true;
        }
        if (changed)
                z->generation++;
}
