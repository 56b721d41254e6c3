/* sched_app.c — live instances per app: per agent (the (app, agent) pair table) and per value
 * of each field the app's constraints look at, both kept incrementally. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "scheduler/sched_internal.h"

/* --- the (app, agent) → pair table --------------------------------------------------------- */

static uint64_t pair_key(uint32_t app, uint32_t agent) {
        return (uint64_t)app << 32 | agent;
}

static size_t pair_home(const struct sched_cluster *c, uint64_t key) {
        return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 17) & (c->pair_table_cap - 1);
}

static uint32_t pair_lookup(const struct sched_cluster *c, uint32_t app, uint32_t agent) {
        if (!c->pair_table_cap)
                return NO_POS;
        uint64_t key = pair_key(app, agent);
        for (size_t i = pair_home(c, key);; i = (i + 1) & (c->pair_table_cap - 1)) {
                uint32_t v = c->pair_table[i];
                if (!v)
                        return NO_POS;
                const struct pair *p = &c->pairs[v - 1];
                if (p->app == app && p->agent == agent)
                        return v - 1;
        }
}

static void table_insert(struct sched_cluster *c, uint32_t idx) {
        const struct pair *p = &c->pairs[idx];
        size_t i = pair_home(c, pair_key(p->app, p->agent));
        while (c->pair_table[i])
                i = (i + 1) & (c->pair_table_cap - 1);
        c->pair_table[i] = idx + 1;
}

static void table_grow(struct sched_cluster *c) {
        uint32_t *old = c->pair_table;
        size_t old_cap = c->pair_table_cap;
        c->pair_table_cap = old_cap ? 2 * old_cap : 1024;
        c->pair_table = xcalloc(c->pair_table_cap, sizeof *c->pair_table);
        for (size_t i = 0; i < old_cap; i++)
                if (old[i])
                        table_insert(c, old[i] - 1);
        free(old);
}

static void table_delete(struct sched_cluster *c, uint32_t idx) {
        size_t mask = c->pair_table_cap - 1;
        const struct pair *p = &c->pairs[idx];
        size_t i = pair_home(c, pair_key(p->app, p->agent));
        while (c->pair_table[i] != idx + 1)
                i = (i + 1) & mask;
        /* backward-shift deletion: no tombstones */
        for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
                uint32_t v = c->pair_table[j];
                if (!v)
                        break;
                const struct pair *q = &c->pairs[v - 1];
                size_t h = pair_home(c, pair_key(q->app, q->agent));
                /* move v into the hole i unless its home lies cyclically in (i, j] */
                bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
                if (!stays) {
                        c->pair_table[i] = v;
                        i = j;
                }
        }
        c->pair_table[i] = 0;
}

static void list_push(uint32_t **list, size_t *n, size_t *cap, uint32_t v) {
        if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 4;
                *list = xrealloc(*list, *cap * sizeof **list);
        }
        (*list)[(*n)++] = v;
}

static uint32_t pair_new(struct sched_cluster *c, struct sched_app *app, struct sched_agent *a) {
        uint32_t idx;
        if (c->n_free_pairs) {
                idx = c->free_pairs[--c->n_free_pairs];
        } else {
                if (c->n_pair_slots == c->cap_pair_pool) {
                        c->cap_pair_pool = c->cap_pair_pool ? 2 * c->cap_pair_pool : 1024;
                        c->pairs = xrealloc(c->pairs, c->cap_pair_pool * sizeof *c->pairs);
                        c->free_pairs = xrealloc(c->free_pairs, c->cap_pair_pool * sizeof *c->free_pairs);
                }
                idx = (uint32_t)c->n_pair_slots++;
        }
        if ((c->n_live_pairs + 1) * 2 > c->pair_table_cap)
                table_grow(c);
        struct pair *p = &c->pairs[idx];
        *p = (struct pair){ .app = app->slot, .agent = a->slot, .count = 0 };
        p->pos_app = (uint32_t)app->n_pairs;
        list_push(&app->pairs, &app->n_pairs, &app->cap_pairs, idx);
        p->pos_agent = (uint32_t)a->n_pairs;
        list_push(&a->pairs, &a->n_pairs, &a->cap_pairs, idx);
        table_insert(c, idx);
        c->n_live_pairs++;
        return idx;
}

static void pair_delete(struct sched_cluster *c, uint32_t idx) {
        struct pair *p = &c->pairs[idx];
        struct sched_app *app = c->apps[p->app];
        struct sched_agent *a = c->agents[p->agent];
        table_delete(c, idx);
        uint32_t moved = app->pairs[--app->n_pairs];
        if (moved != idx) {
                app->pairs[p->pos_app] = moved;
                c->pairs[moved].pos_app = p->pos_app;
        }
        moved = a->pairs[--a->n_pairs];
        if (moved != idx) {
                a->pairs[p->pos_agent] = moved;
                c->pairs[moved].pos_agent = p->pos_agent;
        }
        c->free_pairs[c->n_free_pairs++] = idx;
        c->n_live_pairs--;
}

uint32_t app_count_on(const struct sched_cluster *c, const struct sched_app *app, const struct sched_agent *a) {
        uint32_t idx = pair_lookup(c, app->slot, a->slot);
        return idx == NO_POS ? 0 : c->pairs[idx].count;
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

void app_field_range(const struct app_field *f, size_t *ret_min, size_t *ret_max) {
        size_t pos = 0, lo = SIZE_MAX, hi = 0;
        void *v;
        while (hashmap_next(&f->counts, &pos, NULL, &v)) {
                const struct count_ent *e = v;
                lo = e->n < lo ? e->n : lo;
                hi = e->n > hi ? e->n : hi;
        }
        *ret_min = lo == SIZE_MAX ? 0 : lo;
        *ret_max = hi;
}

static void field_charge_agent(struct app_field *f, const struct sched_agent *a, long delta) {
        field_add(f, agent_field_value(a, f->kind, f->name), delta);
}

struct app_field *app_field(struct sched_cluster *c, struct sched_app *app, enum field_kind kind, const char *name) {
        for (size_t i = 0; i < app->n_fields; i++) {
                struct app_field *f = &app->fields[i];
                if (f->kind == kind && (kind != FIELD_ATTR || streq(f->name, name)))
                        return f;
        }
        app->fields = xrealloc(app->fields, (app->n_fields + 1) * sizeof *app->fields);
        struct app_field *f = &app->fields[app->n_fields++];
        *f = (struct app_field){ .kind = kind, .name = kind == FIELD_ATTR ? xstrdup(name) : NULL };
        hashmap_init(&f->counts);
        for (size_t i = 0; i < app->n_pairs; i++) {
                const struct pair *p = &c->pairs[app->pairs[i]];
                field_charge_agent(f, c->agents[p->agent], (long)p->count);
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
                c->apps = xrealloc(c->apps, (c->n_app_slots + 1) * sizeof *c->apps);
                c->free_app_slots = xrealloc(c->free_app_slots, (c->n_app_slots + 1) * sizeof *c->free_app_slots);
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
        free(app->pairs);
        free(app->id);
        free(app);
}

/* Counts one instance more (delta 1) or less (-1) of app on a. */
static void app_count(struct sched_cluster *c, struct sched_app *app, struct sched_agent *a, long delta) {
        uint32_t idx = pair_lookup(c, app->slot, a->slot);
        if (idx == NO_POS)
                idx = pair_new(c, app, a);
        c->pairs[idx].count = (uint32_t)((long)c->pairs[idx].count + delta);
        if (c->pairs[idx].count == 0)
                pair_delete(c, idx);
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

void cluster_charge(struct sched_cluster *c, struct sched_agent *a, struct sched_app *app, const int64_t res[R_N],
                    const uint16_t *ports, size_t n_ports) {
        for (int i = 0; i < R_N; i++)
                a->used[i] += res[i];
        ports_mark(a, ports, n_ports, true);
        app_count(c, app, a, 1);
        if (a->cls)
                index_update(&a->cls->index, a);
}

void cluster_credit(struct sched_cluster *c, struct sched_agent *a, struct sched_app *app, const int64_t res[R_N],
                    const uint16_t *ports, size_t n_ports) {
        for (int i = 0; i < R_N; i++)
                a->used[i] -= res[i];
        ports_mark(a, ports, n_ports, false);
        app_count(c, app, a, -1);
        if (a->cls)
                index_update(&a->cls->index, a);
        cluster_app_gc(c, app);
}

void cluster_forget_agent_apps(struct sched_cluster *c, struct sched_agent *a) {
        while (a->n_pairs) {
                struct pair *p = &c->pairs[a->pairs[a->n_pairs - 1]];
                struct sched_app *app = c->apps[p->app];
                long n = (long)p->count;
                for (size_t i = 0; i < app->n_fields; i++)
                        field_charge_agent(&app->fields[i], a, -n);
                app->n_instances -= (size_t)n;
                a->n_instances -= (size_t)n;
                pair_delete(c, a->pairs[a->n_pairs - 1]);
                cluster_app_gc(c, app);
        }
}

void cluster_agent_fields(struct sched_cluster *c, struct sched_agent *a, long sign) {
        for (size_t k = 0; k < a->n_pairs; k++) {
                const struct pair *p = &c->pairs[a->pairs[k]];
                struct sched_app *app = c->apps[p->app];
                for (size_t i = 0; i < app->n_fields; i++)
                        field_charge_agent(&app->fields[i], a, sign * (long)p->count);
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
                free(app->pairs);
                free(app->id);
                free(app);
        }
        free(c->apps);
        free(c->free_app_slots);
        hashmap_release(&c->apps_by_id);
        free(c->pairs);
        free(c->free_pairs);
        free(c->pair_table);
}

size_t sched_app_instances(const struct sched_cluster *c, const char *app_id, const char *agent_id) {
        const struct sched_app *app = cluster_app(c, app_id);
        if (!app)
                return 0;
        if (!agent_id)
                return app->n_instances;
        const struct sched_agent *a = cluster_agent(c, agent_id);
        return a ? app_count_on(c, app, a) : 0;
}
