/* sched_app.c — live instances per app: per agent (each agent's table of apps) and per value
 * of each field the app's constraints look at, both kept incrementally. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "scheduler/sched_internal.h"

/* --- each agent's table of apps ---------------------------------------------------------------
 * Open addressing by app slot, linear probing, backward-shift deletion (no tombstones); at most
 * half full. An agent holds few apps, so growing its table is cheap. */

static uint32_t tab_home(const struct sched_agent *a, uint32_t key) {
        return (uint32_t)(((uint64_t)key * 0x9e3779b97f4a7c15ULL) >> 40) & (a->apps_cap - 1);
}

static struct app_on_agent *tab_find(const struct sched_agent *a, uint32_t app_slot) {
        if (!a->apps_cap)
                return NULL;
        uint32_t key = app_slot + 1;
        for (uint32_t i = tab_home(a, key);; i = (i + 1) & (a->apps_cap - 1)) {
                struct app_on_agent *e = &a->apps[i];
                if (e->key == key)
                        return e;
                if (!e->key)
                        return NULL;
        }
}

static struct app_on_agent *tab_put(struct sched_agent *a, struct app_on_agent v) {
        uint32_t i = tab_home(a, v.key);
        while (a->apps[i].key)
                i = (i + 1) & (a->apps_cap - 1);
        a->apps[i] = v;
        return &a->apps[i];
}

static struct app_on_agent *tab_insert(struct sched_agent *a, uint32_t app_slot) {
        if ((a->n_apps + 1) * 2 > a->apps_cap) {
                struct app_on_agent *old = a->apps;
                uint32_t old_cap = a->apps_cap;
                a->apps_cap = old_cap ? 2 * old_cap : 8;
                a->apps = xcalloc(a->apps_cap, sizeof *a->apps);
                for (uint32_t i = 0; i < old_cap; i++)
                        if (old[i].key)
                                tab_put(a, old[i]);
                free(old);
        }
        a->n_apps++;
        return tab_put(a, (struct app_on_agent){.key = app_slot + 1});
}

static void tab_delete(struct sched_agent *a, struct app_on_agent *e) {
        uint32_t mask = a->apps_cap - 1, i = (uint32_t)(e - a->apps);
        for (uint32_t j = (i + 1) & mask; a->apps[j].key; j = (j + 1) & mask) {
                uint32_t h = tab_home(a, a->apps[j].key);
                /* the entry at j may fill the hole at i unless its home lies cyclically in (i, j] */
                bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
                if (!stays) {
                        a->apps[i] = a->apps[j];
                        i = j;
                }
        }
        a->apps[i] = (struct app_on_agent){0};
        a->n_apps--;
}

/* Takes agent a out of the app's agent list (swap with the last). */
static void app_agents_remove(struct sched_cluster *c, struct sched_app *app, uint32_t pos) {
        uint32_t moved = app->agents[--app->n_agents];
        if (pos == app->n_agents)
                return;
        app->agents[pos] = moved;
        tab_find(c->agents[moved], app->slot)->pos_app = pos;
}

uint32_t app_count_on(const struct sched_cluster *c, const struct sched_app *app,
                      const struct sched_agent *a) {
        const struct app_on_agent *e = tab_find(a, app->slot);
        return e ? e->count : 0;
}

size_t host_count(const struct sched_cluster *c, const struct sched_app *app, const struct sched_host *h) {
        size_t n = 0;
        for (size_t i = 0; i < h->n; i++)
                n += app_count_on(c, app, h->agents[i]);
        return n;
}

size_t app_host_next(const struct sched_cluster *c, const struct sched_app *app, size_t above) {
        size_t next = SIZE_MAX;
        for (size_t i = 0; i < app->n_agents; i++) {
                size_t n = host_count(c, app, c->agents[app->agents[i]]->host);
                if (n > above && n < next)
                        next = n;
        }
        return next;
}

/* --- per-field value counts ----------------------------------------------------------------- */

/* One value's count; the map's key lives in it. */
struct count_ent {
        size_t n;
        char key[];
};

size_t app_field_count(const struct app_field *f, const char *value) {
        const struct count_ent *e = value ? hashmap_get(&f->counts, value) : NULL;
        return e ? e->n : 0;
}

static void field_add(struct app_field *f, const char *value, long delta) {
        if (!value || delta == 0)
                return;
        struct count_ent *e = hashmap_get(&f->counts, value);
        f->total = (size_t)((long)f->total + delta);
        if (!e) {
                size_t len = strlen(value);
                e = xmalloc(sizeof *e + len + 1);
                memcpy(e->key, value, len + 1);
                e->n = 0;
                hashmap_put(&f->counts, e->key, e);
        }
        e->n = (size_t)((long)e->n + delta);
        if (e->n == 0) {
                hashmap_remove(&f->counts, value);
                free(e);
        }
}

static void field_charge_agent(struct app_field *f, const struct sched_agent *a, long delta) {
        field_add(f, agent_field_value(a, f->kind, f->name), delta);
}

struct app_field *app_field(struct sched_cluster *c, struct sched_app *app, enum field_kind kind,
                            const char *name) {
        for (size_t i = 0; i < app->n_fields; i++) {
                struct app_field *f = &app->fields[i];
                if (f->kind == kind && (kind != FIELD_ATTR || streq(f->name, name)))
                        return f;
        }
        app->fields = xrealloc(app->fields, (app->n_fields + 1) * sizeof *app->fields);
        struct app_field *f = &app->fields[app->n_fields++];
        *f = (struct app_field){.kind = kind, .name = kind == FIELD_ATTR ? xstrdup(name) : NULL};
        hashmap_init(&f->counts);
        for (size_t i = 0; i < app->n_agents; i++) {
                const struct sched_agent *a = c->agents[app->agents[i]];
                field_charge_agent(f, a, (long)app_count_on(c, app, a));
        }
        return f;
}

static void field_release(struct app_field *f) {
        size_t pos = 0;
        void *e;
        while (hashmap_next(&f->counts, &pos, NULL, &e))
                free(e);
        hashmap_release(&f->counts);
        free(f->name);
}

/* --- apps ------------------------------------------------------------------------------------ */

struct sched_app *cluster_app(const struct sched_cluster *c, const char *id) {
        return hashmap_get(&c->apps_by_id, id);
}

struct sched_app *cluster_app_get_or_new(struct sched_cluster *c, const char *id) {
        struct sched_app *app = hashmap_get(&c->apps_by_id, id);
        if (app)
                return app;
        app = xcalloc(1, sizeof *app);
        app->id = xstrdup(id);
        if (c->n_free_app_slots) {
                app->slot = c->free_app_slots[--c->n_free_app_slots];
        } else {
                if (c->n_app_slots == c->cap_app_slots) {
                        c->cap_app_slots = c->cap_app_slots ? 2 * c->cap_app_slots : 64;
                        c->apps = xrealloc(c->apps, c->cap_app_slots * sizeof *c->apps);
                        c->free_app_slots =
                                xrealloc(c->free_app_slots, c->cap_app_slots * sizeof *c->free_app_slots);
                }
                app->slot = (uint32_t)c->n_app_slots++;
        }
        c->apps[app->slot] = app;
        hashmap_put(&c->apps_by_id, app->id, app);
        return app;
}

void cluster_app_gc(struct sched_cluster *c, struct sched_app *app) {
        if (!app || app->n_instances > 0)
                return;
        hashmap_remove(&c->apps_by_id, app->id);
        c->apps[app->slot] = NULL;
        c->free_app_slots[c->n_free_app_slots++] = app->slot;
        for (size_t i = 0; i < app->n_fields; i++)
                field_release(&app->fields[i]);
        free(app->fields);
        free(app->agents);
        free(app->id);
        free(app);
}

/* Counts one instance more (delta 1) or less (-1) of app on a. */
static void app_count(struct sched_cluster *c, struct sched_app *app, struct sched_agent *a, long delta) {
        struct app_on_agent *e = tab_find(a, app->slot);
        if (!e) {
                e = tab_insert(a, app->slot);
                e->pos_app = (uint32_t)app->n_agents;
                if (app->n_agents == app->cap_agents) {
                        app->cap_agents = app->cap_agents ? 2 * app->cap_agents : 4;
                        app->agents = xrealloc(app->agents, app->cap_agents * sizeof *app->agents);
                }
                app->agents[app->n_agents++] = a->slot;
        }
        e->count = (uint32_t)((long)e->count + delta);
        if (e->count == 0) {
                uint32_t pos = e->pos_app;
                tab_delete(a, e);
                app_agents_remove(c, app, pos);
        }
        app->n_instances = (size_t)((long)app->n_instances + delta);
        a->n_instances = (size_t)((long)a->n_instances + delta);
        for (size_t i = 0; i < app->n_fields; i++)
                field_charge_agent(&app->fields[i], a, delta);
}

static void ports_mark(struct sched_agent *a, const uint16_t *ports, size_t n, bool used) {
        for (size_t i = 0; i < n; i++) {
                int32_t bit = ports_bit(a, ports[i]);
                if (bit >= 0 && ports_bit_used(a, (uint32_t)bit) != used)
                        ports_bit_set(a, (uint32_t)bit, used);
        }
}

void cluster_charge(struct sched_cluster *c, struct sched_agent *a, struct sched_app *app,
                    const int64_t res[R_N], const uint16_t *ports, size_t n_ports) {
        for (int i = 0; i < R_N; i++)
                a->used[i] += res[i];
        ports_mark(a, ports, n_ports, true);
        app_count(c, app, a, 1);
        if (a->cls)
                index_update(&a->cls->index, a);
}

void cluster_credit(struct sched_cluster *c, struct sched_agent *a, struct sched_app *app,
                    const int64_t res[R_N], const uint16_t *ports, size_t n_ports) {
        for (int i = 0; i < R_N; i++)
                a->used[i] -= res[i];
        ports_mark(a, ports, n_ports, false);
        app_count(c, app, a, -1);
        if (a->cls)
                index_update(&a->cls->index, a);
        cluster_app_gc(c, app);
}

void cluster_forget_agent_apps(struct sched_cluster *c, struct sched_agent *a) {
        for (uint32_t i = 0; i < a->apps_cap; i++) {
                const struct app_on_agent *e = &a->apps[i];
                if (!e->key)
                        continue;
                struct sched_app *app = c->apps[e->key - 1];
                long n = (long)e->count;
                for (size_t f = 0; f < app->n_fields; f++)
                        field_charge_agent(&app->fields[f], a, -n);
                app->n_instances -= (size_t)n;
                a->n_instances -= (size_t)n;
                app_agents_remove(c, app, e->pos_app);
                cluster_app_gc(c, app);
        }
        free(a->apps);
        a->apps = NULL;
        a->apps_cap = a->n_apps = 0;
}

void cluster_agent_fields(struct sched_cluster *c, struct sched_agent *a, long sign) {
        for (uint32_t i = 0; i < a->apps_cap; i++) {
                const struct app_on_agent *e = &a->apps[i];
                if (!e->key)
                        continue;
                struct sched_app *app = c->apps[e->key - 1];
                for (size_t f = 0; f < app->n_fields; f++)
                        field_charge_agent(&app->fields[f], a, sign * (long)e->count);
        }
}

void cluster_apps_release(struct sched_cluster *c) {
        for (size_t i = 0; i < c->n_app_slots; i++) {
                struct sched_app *app = c->apps[i];
                if (!app)
                        continue;
                for (size_t f = 0; f < app->n_fields; f++)
                        field_release(&app->fields[f]);
                free(app->fields);
                free(app->agents);
                free(app->id);
                free(app);
        }
        free(c->apps);
        free(c->free_app_slots);
        hashmap_release(&c->apps_by_id);
}

size_t sched_app_instances(const struct sched_cluster *c, const char *app_id, const char *agent_id) {
        const struct sched_app *app = cluster_app(c, app_id);
        if (!app)
                return 0;
        if (!agent_id)
                return app->n_instances;
        const struct sched_agent *a = cluster_agent_by_id(c, agent_id);
        return a ? app_count_on(c, app, a) : 0;
}
