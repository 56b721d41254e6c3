/* discovery.c — the discovery view the leader streams to agents: built from the replicated
 * state's change notifications, coalesced per loop turn. */
#include "master/discovery.h"

#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "master/agent_link.h"
#include "master/discovery_view.h"
#include "master/vip.h"
#include "model/discovery.h"
#include "model/vip.h"
#include "store/cluster_state.h"
#include "store/store.h"

static void set_add(struct hashmap *m, const char *id) {
        if (hashmap_get(m, id))
                return;
        char *k = xstrdup(id);
        hashmap_put(m, k, k);
}

static bool set_del(struct hashmap *m, const char *id) {
        char *k = hashmap_remove(m, id);
        free(k);
        return k != NULL;
}

static void set_clear(struct hashmap *m) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(m, &pos, NULL, &v))
                free(v);
        hashmap_release(m);
        hashmap_init(m);
}

/* --- entries from the state (shared with discovery_api.c through discovery_view.h) -------- */

bool discovery_view_serves(const struct instance *i) {
        return !task_state_is_terminal((enum task_state)i->state) &&
               discovery_task_serves((enum task_state)i->state, i->has_health, i->healthy, i->goal == GOAL_RUNNING);
}

size_t discovery_view_task(const struct state *st, const struct instance *i, struct discovery_task *t,
                           struct discovery_port ports[static DISCOVERY_MAX_PORTS]) {
        const json_t *app = state_app_at_version(st, i->app_id, i->version);
        if (!app)
                app = state_app_get(st, i->app_id);
        *t = (struct discovery_task){ .id = i->id, .app_id = i->app_id, .agent_id = i->agent_id, .ports = ports };
        if (app) {
                t->n_ports = discovery_ports_from_app(app, i->ports, i->n_ports, ports, DISCOVERY_MAX_PORTS);
                if (discovery_app_uses_own_ip(app))
                        t->ip = i->ip;
        }
        return t->n_ports;
}

/* Splits "host:port"; false without a port. */
static bool split_host_port(const char *addr, char host[static 256], uint16_t *port) {
        const char *colon = addr ? strrchr(addr, ':') : NULL;
        if (!colon || colon - addr > 255)
                return false;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
        long p = strtol(colon + 1, NULL, 10);
        *port = p > 0 && p <= 65535 ? (uint16_t)p : 0;
        return host[0] != '\0';
}

bool discovery_view_agent(const struct agent *a, struct discovery_agent *ret, char host[static 256]) {
        uint16_t port = 0;
        if (a->state == AGENT_GONE || !split_host_port(a->address, host, &port))
                return false;
        uint32_t ip = 0;
        uint16_t unused;
        char probe[300];
        snprintf(probe, sizeof probe, "%s:1", host);
        discovery_parse_ip_port(probe, &ip, &unused);
        *ret = (struct discovery_agent){ .id = a->id, .host = host, .ip = ip, .port = port, .hostname = a->hostname };
        return true;
}

void discovery_view_masters(struct store *store, struct discovery_masters *m) {
        const struct state *st = store_state(store);
        struct store_status ss;
        store_status(store, &ss);
        *m = (struct discovery_masters){ 0 };
        if (ss.leader_http)
                discovery_parse_ip_port(ss.leader_http, &m->leader_ip, &m->leader_port);
        for (size_t i = 0; i < state_master_count(st) && m->n < DISCOVERY_MAX_MASTERS; i++) {
                const struct state_master *sm = state_master_at(st, i);
                if (discovery_parse_ip_port(sm->http_addr, &m->ips[m->n], &m->ports[m->n]))
                        m->n++;
        }
}

static json_t *task_json(const struct state *st, const struct instance *i) {
        struct discovery_task t;
        struct discovery_port ports[DISCOVERY_MAX_PORTS];
        discovery_view_task(st, i, &t, ports);
        return discovery_task_to_json(&t);
}

static json_t *agent_json(const struct agent *a) {
        struct discovery_agent da;
        char host[256];
        return discovery_view_agent(a, &da, host) ? discovery_agent_to_json(&da) : NULL;
}

static json_t *masters_json(struct discovery *d) {
        struct discovery_masters m;
        discovery_view_masters(d->store, &m);
        return discovery_masters_to_json(&m);
}

/* --- sending ------------------------------------------------------------------------------- */

/* Sends {"type", "term", "view": view} to agent_id or every agent (NULL). The view is nested:
 * the agent's event decoder gives top-level members such as "tasks" their LAUNCH meaning. */
static void send_view(struct discovery *d, const char *agent_id, const char *type, json_t *view) {
        _cleanup_free_ char *text = json_compact(view);
        json_decref(view);
        _cleanup_free_ char *members = xasprintf("\"view\":%s", text);
        agent_link_send_framed(d->link, agent_id, type, members);
}

struct snap_ctx {
        json_t *tasks, *agents;
        const struct state *st;
};

static int snap_task(const struct instance *i, void *data) {
        struct snap_ctx *c = data;
        if (discovery_view_serves(i))
                json_array_append_new(c->tasks, task_json(c->st, i));
        return 0;
}

static int snap_agent(const struct agent *a, void *data) {
        struct snap_ctx *c = data;
        json_t *j = agent_json(a);
        if (j)
                json_array_append_new(c->agents, j);
        return 0;
}

static json_t *snapshot(struct discovery *d) {
        struct snap_ctx c = { json_array(), json_array(), store_state(d->store) };
        state_instances_foreach(c.st, snap_task, &c);
        state_agents_foreach(c.st, snap_agent, &c);
        return json_pack("{s:o,s:o,s:o,s:o}", "tasks", c.tasks, "agents", c.agents, "masters", masters_json(d), "vips",
                         vip_table(c.st, NULL));
}

static void vip_resend(void *data);

/* The VIP table into ev when it changed since last sent; named VIPs without an address get one. */
static void vips_member(struct discovery *d, json_t *ev) {
        json_t *missing = json_array();
        json_t *vips = vip_table(store_state(d->store), missing);
        char *text = json_compact(vips);
        if (!d->vips_sent || !streq(text, d->vips_sent)) {
                json_object_set(ev, "vips", vips);
                free(d->vips_sent);
                d->vips_sent = text;
        } else {
                free(text);
        }
        json_decref(vips);
        vip_allocate(d->store, d->vip_cidr ? d->vip_cidr : VIP_DEFAULT_CIDR, missing, &d->vip_busy, vip_resend, d);
}

void discovery_agent_subscribed(struct discovery *d, const char *agent_id) {
        if (d->closed)
                return;
        send_view(d, agent_id, "DISCOVERY_SNAPSHOT", snapshot(d));
}

/* Brings the served set in line with the state after a restore (every master). */
static int reseed(const struct instance *i, void *data) {
        if (discovery_view_serves(i))
                set_add(data, i->id);
        return 0;
}

static void flush_cb(uv_timer_t *t) {
        struct discovery *d = t->data;
        const struct state *st = store_state(d->store);
        if (d->resend_all) {
                d->resend_all = false;
                set_clear(&d->served);
                set_clear(&d->dirty_tasks);
                set_clear(&d->dirty_agents);
                state_instances_foreach(st, reseed, &d->served);
                free(d->masters_sent);
                d->masters_sent = NULL;
                free(d->vips_sent);
                d->vips_sent = NULL;
                send_view(d, NULL, "DISCOVERY_SNAPSHOT", snapshot(d));
                return;
        }
        json_t *tasks = json_array(), *gone = json_array(), *agents = json_array(), *agents_gone = json_array();
        size_t pos = 0;
        const char *id;
        void *v;
        while (hashmap_next(&d->dirty_tasks, &pos, &id, &v)) {
                const struct instance *i = state_instance_get(st, id);
                if (i && discovery_view_serves(i)) {
                        set_add(&d->served, id);
                        json_array_append_new(tasks, task_json(st, i));
                } else if (set_del(&d->served, id)) {
                        json_array_append_new(gone, json_string(id));
                }
        }
        set_clear(&d->dirty_tasks);
        pos = 0;
        while (hashmap_next(&d->dirty_agents, &pos, &id, &v)) {
                const struct agent *a = state_agent_get(st, id);
                json_t *j = a ? agent_json(a) : NULL;
                json_array_append_new(j ? agents : agents_gone, j ? j : json_string(id));
        }
        set_clear(&d->dirty_agents);
        json_t *ev = json_object();
        json_t *masters = masters_json(d);
        char *mtext = json_compact(masters);
        if (!d->masters_sent || !streq(mtext, d->masters_sent)) {
                json_object_set(ev, "masters", masters);
                free(d->masters_sent);
                d->masters_sent = mtext;
        } else {
                free(mtext);
        }
        json_decref(masters);
        vips_member(d, ev);
        if (json_array_size(tasks))
                json_object_set(ev, "tasks", tasks);
        if (json_array_size(gone))
                json_object_set(ev, "tasksGone", gone);
        if (json_array_size(agents))
                json_object_set(ev, "agents", agents);
        if (json_array_size(agents_gone))
                json_object_set(ev, "agentsGone", agents_gone);
        json_decref(tasks);
        json_decref(gone);
        json_decref(agents);
        json_decref(agents_gone);
        if (json_object_size(ev) > 0)
                send_view(d, NULL, "DISCOVERY_UPDATE", ev);
        else
                json_decref(ev);
}

static void schedule(struct discovery *d) {
        if (!d->closed && !uv_is_active((uv_handle_t *)&d->flush))
                uv_timer_start(&d->flush, flush_cb, 0, 0);
}

void discovery_instance_changed(struct discovery *d, const struct instance *i) {
        if (d->closed)
                return; /* the store may still apply entries while the master stops */
        /* Only changes that can move it in or out of the view, or change its entry. */
        bool serves = discovery_view_serves(i);
        if (!serves && !hashmap_get(&d->served, i->id))
                return;
        set_add(&d->dirty_tasks, i->id);
        schedule(d);
}

void discovery_instance_removed(struct discovery *d, const char *instance_id) {
        if (d->closed || !hashmap_get(&d->served, instance_id))
                return;
        set_add(&d->dirty_tasks, instance_id);
        schedule(d);
}

void discovery_agent_changed(struct discovery *d, const char *agent_id) {
        if (d->closed)
                return;
        set_add(&d->dirty_agents, agent_id);
        schedule(d);
}

void discovery_restored(struct discovery *d) {
        d->resend_all = true;
        schedule(d);
}

void discovery_masters_changed(struct discovery *d) {
        schedule(d);
}

void discovery_app_changed(struct discovery *d) {
        schedule(d);
}

static void vip_resend(void *data) {
        schedule(data);
}

void discovery_init(struct discovery *d, uv_loop_t *loop, struct store *store, struct agent_link *link) {
        *d = (struct discovery){ .store = store, .link = link };
        hashmap_init(&d->served);
        hashmap_init(&d->dirty_tasks);
        hashmap_init(&d->dirty_agents);
        uv_timer_init(loop, &d->flush);
        d->flush.data = d;
        /* A master that starts from a snapshot or log replay has its state before the observer
         * is set: seed the served set from it. */
        state_instances_foreach(store_state(store), reseed, &d->served);
}

void discovery_release(struct discovery *d) {
        if (d->closed)
                return;
        d->closed = true;
        uv_close((uv_handle_t *)&d->flush, NULL);
        set_clear(&d->served);
        set_clear(&d->dirty_tasks);
        set_clear(&d->dirty_agents);
        hashmap_release(&d->served);
        hashmap_release(&d->dirty_tasks);
        hashmap_release(&d->dirty_agents);
        free(d->masters_sent);
        d->masters_sent = NULL;
        free(d->vips_sent);
        d->vips_sent = NULL;
}
