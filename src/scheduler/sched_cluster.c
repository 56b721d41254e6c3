/* sched_cluster.c — agents, their equivalence classes and allocations. */
#include "scheduler/sched_cluster.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "scheduler/sched_internal.h"

static const char *const state_names[] = {
#define X(e, s) [e] = s,
        SCHED_AGENT_STATES(X)
#undef X
};

const char *sched_agent_state_to_string(enum sched_agent_state s) {
        return (unsigned)s < _SCHED_AGENT_STATE_MAX ? state_names[s] : NULL;
}

int sched_agent_state_from_string(const char *s) {
        for (int i = 0; s && i < _SCHED_AGENT_STATE_MAX; i++)
                if (streq(s, state_names[i]))
                        return i;
        return -EINVAL;
}

int64_t sched_fixed(double v) {
        return llround(v * 1000.0);
}

static double unfixed(int64_t v) {
        return (double)v / 1000.0;
}

char *sched_format_scalar(double v, char buf[static 64]) {
        /* rint rounds half to even in the default rounding mode, like Marathon's HALF_EVEN */
        double r = rint(v * 1000.0) / 1000.0;
        if (r == 0)
                r = 0; /* no "-0" */
        snprintf(buf, 64, "%.3f", r);
        char *dot = strchr(buf, '.');
        if (dot) {
                char *end = buf + strlen(buf) - 1;
                while (end > dot && *end == '0')
                        *end-- = '\0';
                if (end == dot)
                        *end = '\0';
        }
        return buf;
}

struct sched_cluster *sched_cluster_new(void) {
        static uint64_t serials;
        struct sched_cluster *c = xcalloc(1, sizeof *c);
        c->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
        c->next_class_serial = 1;
        hashmap_init(&c->agents_by_id);
        hashmap_init(&c->hosts);
        hashmap_init(&c->classes_by_sig);
        hashmap_init(&c->apps_by_id);
        return c;
}

static void class_free(struct sched_class *cls) {
        for (size_t i = 0; i < cls->n_attrs; i++) {
                free(cls->attrs[i].name);
                free(cls->attrs[i].value);
        }
        free(cls->attrs);
        free(cls->sig);
        free(cls->role);
        free(cls->region);
        free(cls->zone);
        index_release(&cls->index);
        free(cls);
}

static void agent_free_mem(struct sched_agent *a) {
        ports_release(a);
        free(a->apps);
        free(a->id);
        free(a);
}

void sched_cluster_free(struct sched_cluster *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_agent_slots; i++)
                if (c->agents[i])
                        agent_free_mem(c->agents[i]);
        free(c->agents);
        free(c->free_agent_slots);
        hashmap_release(&c->agents_by_id);
        size_t pos = 0;
        void *h;
        while (hashmap_next(&c->hosts, &pos, NULL, &h)) {
                free(((struct sched_host *)h)->agents);
                free(h);
        }
        hashmap_release(&c->hosts);
        for (size_t i = 0; i < c->n_class_slots; i++)
                if (c->classes[i])
                        class_free(c->classes[i]);
        free(c->classes);
        hashmap_release(&c->classes_by_sig);
        cluster_apps_release(c);
        free(c);
}

struct sched_agent *cluster_agent_by_id(const struct sched_cluster *c, const char *id) {
        return id ? hashmap_get(&c->agents_by_id, id) : NULL;
}

const char *class_attr(const struct sched_class *cls, const char *name) {
        size_t lo = 0, hi = cls->n_attrs;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int r = strcmp(name, cls->attrs[mid].name);
                if (r == 0)
                        return cls->attrs[mid].value;
                if (r < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

const char *agent_field_value(const struct sched_agent *a, enum field_kind kind, const char *name) {
        switch (kind) {
        case FIELD_HOSTNAME:
                return a->hostname;
        case FIELD_REGION:
                return a->cls->region;
        case FIELD_ZONE:
                return a->cls->zone;
        case FIELD_ATTR:
                return class_attr(a->cls, name);
        }
        return NULL;
}

struct ivec agent_free(const struct sched_agent *a) {
        struct ivec v;
        for (int i = 0; i < R_N; i++) {
                int64_t f = a->total[i] - a->used[i];
                v.r[i] = f > 0 ? f : 0;
        }
        v.ports = (int64_t)a->n_bits - a->n_used_ports;
        return v;
}

/* --- classes ---------------------------------------------------------------------------------- */

static int cmp_attr(const void *pa, const void *pb) {
        const struct sched_attr *a = pa, *b = pb;
        return strcmp(a->name, b->name);
}

static bool good_amount(double v) {
        return isfinite(v) && v >= 0 && v < 1e15;
}

static int spec_check(const struct sched_agent_spec *s, struct err *err) {
        if (!s->id || !*s->id)
                return err_set(err, -EINVAL, "agent id is required");
        if (!s->hostname || !*s->hostname)
                return err_set(err, -EINVAL, "agent '%s': hostname is required", s->id);
        if (s->role && !*s->role)
                return err_set(err, -EINVAL, "agent '%s': empty role", s->id);
        if (!good_amount(s->total.cpus) || !good_amount(s->total.mem) || !good_amount(s->total.disk) ||
            !good_amount(s->total.gpus))
                return err_set(err, -EINVAL, "agent '%s': resources must be finite and >= 0", s->id);
        if (s->n_ranges > SCHED_MAX_RANGES || (s->n_ranges && !s->ranges))
                return err_set(err, -EINVAL, "agent '%s': at most %d port ranges", s->id, SCHED_MAX_RANGES);
        for (size_t i = 0; i < s->n_ranges; i++)
                if (s->ranges[i].begin > s->ranges[i].end)
                        return err_set(err, -EINVAL, "agent '%s': port range %u-%u is empty", s->id,
                                       s->ranges[i].begin, s->ranges[i].end);
        if (s->n_attrs > SCHED_MAX_ATTRS || (s->n_attrs && !s->attrs))
                return err_set(err, -EINVAL, "agent '%s': at most %d attributes", s->id, SCHED_MAX_ATTRS);
        for (size_t i = 0; i < s->n_attrs; i++) {
                if (!s->attrs[i].name || !*s->attrs[i].name || !s->attrs[i].value)
                        return err_set(err, -EINVAL, "agent '%s': attribute %zu needs a name and a value",
                                       s->id, i);
                for (size_t j = 0; j < i; j++)
                        if (streq(s->attrs[i].name, s->attrs[j].name))
                                return err_set(err, -EINVAL, "agent '%s': attribute '%s' given twice", s->id,
                                               s->attrs[i].name);
        }
        if ((unsigned)s->state >= _SCHED_AGENT_STATE_MAX)
                return err_set(err, -EINVAL, "agent '%s': bad state", s->id);
        return 0;
}

/* Separators that cannot occur in what they separate would need escaping; lengths make the
 * signature unambiguous instead. */
static void sig_put(struct strbuf *sb, const char *s) {
        if (!s) {
                strbuf_puts(sb, "-;");
                return;
        }
        strbuf_printf(sb, "%zu:%s;", strlen(s), s);
}

static struct sched_class *class_get(struct sched_cluster *c, const struct sched_agent_spec *s) {
        struct sched_attr *sorted = xmalloc((s->n_attrs ? s->n_attrs : 1) * sizeof *sorted);
        if (s->n_attrs)
                memcpy(sorted, s->attrs, s->n_attrs * sizeof *sorted);
        qsort(sorted, s->n_attrs, sizeof *sorted, cmp_attr);
        struct strbuf sb = {0};
        sig_put(&sb, s->role ? s->role : "*");
        sig_put(&sb, s->region);
        sig_put(&sb, s->zone);
        for (size_t i = 0; i < s->n_attrs; i++) {
                sig_put(&sb, sorted[i].name);
                sig_put(&sb, sorted[i].value);
        }
        char *sig = strbuf_steal(&sb);
        struct sched_class *cls = hashmap_get(&c->classes_by_sig, sig);
        if (cls) {
                free(sig);
                free(sorted);
                cls->n_agents++;
                return cls;
        }
        cls = xcalloc(1, sizeof *cls);
        cls->sig = sig;
        cls->serial = c->next_class_serial++;
        cls->role = xstrdup(s->role ? s->role : "*");
        cls->region = s->region ? xstrdup(s->region) : NULL;
        cls->zone = s->zone ? xstrdup(s->zone) : NULL;
        cls->attrs = xcalloc(s->n_attrs ? s->n_attrs : 1, sizeof *cls->attrs);
        cls->n_attrs = s->n_attrs;
        for (size_t i = 0; i < s->n_attrs; i++) {
                cls->attrs[i].name = xstrdup(sorted[i].name);
                cls->attrs[i].value = xstrdup(sorted[i].value);
        }
        free(sorted);
        cls->n_agents = 1;
        /* reuse a free slot: classes come and go rarely, a scan is fine */
        size_t slot = c->n_class_slots;
        for (size_t i = 0; i < c->n_class_slots; i++)
                if (!c->classes[i]) {
                        slot = i;
                        break;
                }
        if (slot == c->n_class_slots) {
                c->classes = xrealloc(c->classes, (c->n_class_slots + 1) * sizeof *c->classes);
                c->n_class_slots++;
        }
        cls->slot = (uint32_t)slot;
        c->classes[slot] = cls;
        c->n_classes++;
        hashmap_put(&c->classes_by_sig, cls->sig, cls);
        return cls;
}

static void class_put(struct sched_cluster *c, struct sched_class *cls) {
        if (--cls->n_agents > 0)
                return;
        hashmap_remove(&c->classes_by_sig, cls->sig);
        c->classes[cls->slot] = NULL;
        c->n_classes--;
        class_free(cls);
}

/* --- agents ----------------------------------------------------------------------------------- */

static void host_attach(struct sched_cluster *c, struct sched_agent *a, const char *name) {
        struct sched_host *h = hashmap_get(&c->hosts, name);
        if (!h) {
                size_t len = strlen(name);
                h = xcalloc(1, sizeof *h + len + 1);
                memcpy(h->name, name, len + 1);
                hashmap_put(&c->hosts, h->name, h);
        }
        if (h->n == h->cap) {
                h->cap = h->cap ? 2 * h->cap : 1;
                h->agents = xrealloc(h->agents, h->cap * sizeof *h->agents);
        }
        h->agents[h->n++] = a;
        a->host = h;
        a->hostname = h->name;
}

static void host_detach(struct sched_cluster *c, struct sched_agent *a) {
        struct sched_host *h = a->host;
        for (size_t i = 0; i < h->n; i++)
                if (h->agents[i] == a) {
                        h->agents[i] = h->agents[--h->n];
                        break;
                }
        a->host = NULL;
        a->hostname = NULL;
        if (h->n)
                return;
        hashmap_remove(&c->hosts, h->name);
        free(h->agents);
        free(h);
}

static void set_totals(struct sched_agent *a, const struct sched_resources *r) {
        a->total[R_CPUS] = sched_fixed(r->cpus);
        a->total[R_MEM] = sched_fixed(r->mem);
        a->total[R_DISK] = sched_fixed(r->disk);
        a->total[R_GPUS] = sched_fixed(r->gpus);
}

int sched_agent_add(struct sched_cluster *c, const struct sched_agent_spec *spec, struct err *err) {
        int r = spec_check(spec, err);
        if (r < 0)
                return r;
        if (cluster_agent_by_id(c, spec->id))
                return err_set(err, -EEXIST, "agent '%s' exists", spec->id);
        struct sched_agent *a = xcalloc(1, sizeof *a);
        a->id = xstrdup(spec->id);
        host_attach(c, a, spec->hostname);
        a->member_pos = NO_POS;
        a->state = spec->state;
        set_totals(a, &spec->total);
        ports_init(a, spec->ranges, spec->n_ranges);
        a->cls = class_get(c, spec);
        if (c->n_free_agent_slots) {
                a->slot = c->free_agent_slots[--c->n_free_agent_slots];
        } else {
                if (c->n_agent_slots == c->cap_agent_slots) {
                        c->cap_agent_slots = c->cap_agent_slots ? 2 * c->cap_agent_slots : 64;
                        c->agents = xrealloc(c->agents, c->cap_agent_slots * sizeof *c->agents);
                        c->free_agent_slots = xrealloc(c->free_agent_slots,
                                                       c->cap_agent_slots * sizeof *c->free_agent_slots);
                }
                a->slot = (uint32_t)c->n_agent_slots++;
        }
        c->agents[a->slot] = a;
        c->n_agents++;
        hashmap_put(&c->agents_by_id, a->id, a);
        if (a->state == SCHED_AGENT_ACTIVE)
                index_add(&a->cls->index, a);
        return 0;
}

int sched_agent_update(struct sched_cluster *c, const struct sched_agent_spec *spec, struct err *err) {
        int r = spec_check(spec, err);
        if (r < 0)
                return r;
        struct sched_agent *a = cluster_agent_by_id(c, spec->id);
        if (!a)
                return err_set(err, -ENOENT, "agent '%s' is unknown", spec->id);

        /* out of the old class and the apps' counts under the old values */
        cluster_agent_fields(c, a, -1);
        if (a->member_pos != NO_POS)
                index_remove(&a->cls->index, a);
        struct sched_class *old = a->cls;
        a->cls = class_get(c, spec);
        class_put(c, old);

        host_detach(c, a);
        host_attach(c, a, spec->hostname);
        set_totals(a, &spec->total);
        /* keep the used ports that the new ranges still hold */
        uint16_t *used = xmalloc((a->n_used_ports ? a->n_used_ports : 1) * sizeof *used);
        size_t n_used = 0;
        for (uint32_t bit = 0; bit < a->n_bits && n_used < a->n_used_ports; bit++)
                if (ports_bit_used(a, bit))
                        used[n_used++] = ports_port(a, bit);
        ports_release(a);
        ports_init(a, spec->ranges, spec->n_ranges);
        for (size_t i = 0; i < n_used; i++) {
                int32_t bit = ports_bit(a, used[i]);
                if (bit >= 0)
                        ports_bit_set(a, (uint32_t)bit, true);
        }
        free(used);

        a->state = spec->state;
        if (a->state == SCHED_AGENT_ACTIVE)
                index_add(&a->cls->index, a);
        cluster_agent_fields(c, a, 1);
        return 0;
}

int sched_agent_set_state(struct sched_cluster *c, const char *id, enum sched_agent_state state) {
        struct sched_agent *a = cluster_agent_by_id(c, id);
        if (!a)
                return -ENOENT;
        if ((unsigned)state >= _SCHED_AGENT_STATE_MAX)
                return -EINVAL;
        if (state == a->state)
                return 0;
        if (a->member_pos != NO_POS)
                index_remove(&a->cls->index, a);
        a->state = state;
        if (state == SCHED_AGENT_ACTIVE)
                index_add(&a->cls->index, a);
        return 0;
}

int sched_agent_remove(struct sched_cluster *c, const char *id) {
        struct sched_agent *a = cluster_agent_by_id(c, id);
        if (!a)
                return -ENOENT;
        cluster_forget_agent_apps(c, a);
        if (a->member_pos != NO_POS)
                index_remove(&a->cls->index, a);
        class_put(c, a->cls);
        host_detach(c, a);
        hashmap_remove(&c->agents_by_id, a->id);
        c->agents[a->slot] = NULL;
        c->free_agent_slots[c->n_free_agent_slots++] = a->slot;
        c->n_agents--;
        agent_free_mem(a);
        return 0;
}

int sched_agent_info(const struct sched_cluster *c, const char *id, struct sched_agent_info *ret) {
        const struct sched_agent *a = cluster_agent_by_id(c, id);
        if (!a)
                return -ENOENT;
        *ret = (struct sched_agent_info){
                .id = a->id,
                .hostname = a->hostname,
                .state = a->state,
                .total = {unfixed(a->total[R_CPUS]), unfixed(a->total[R_MEM]), unfixed(a->total[R_DISK]),
                          unfixed(a->total[R_GPUS])},
                .used = {unfixed(a->used[R_CPUS]), unfixed(a->used[R_MEM]), unfixed(a->used[R_DISK]),
                         unfixed(a->used[R_GPUS])},
                .ports_total = a->n_bits,
                .ports_used = a->n_used_ports,
                .instances = a->n_instances,
        };
        return 0;
}

size_t sched_agent_count(const struct sched_cluster *c) {
        return c->n_agents;
}

size_t sched_class_count(const struct sched_cluster *c) {
        return c->n_classes;
}

bool sched_port_used(const struct sched_cluster *c, const char *agent_id, uint16_t port) {
        const struct sched_agent *a = cluster_agent_by_id(c, agent_id);
        int32_t bit = a ? ports_bit(a, port) : -1;
        return bit >= 0 && ports_bit_used(a, (uint32_t)bit);
}

/* --- allocations ------------------------------------------------------------------------------ */

static int res_fixed(const struct sched_resources *res, int64_t out[R_N]) {
        if (!res) {
                for (int i = 0; i < R_N; i++)
                        out[i] = 0;
                return 0;
        }
        if (!good_amount(res->cpus) || !good_amount(res->mem) || !good_amount(res->disk) ||
            !good_amount(res->gpus))
                return -EINVAL;
        out[R_CPUS] = sched_fixed(res->cpus);
        out[R_MEM] = sched_fixed(res->mem);
        out[R_DISK] = sched_fixed(res->disk);
        out[R_GPUS] = sched_fixed(res->gpus);
        return 0;
}

int sched_alloc(struct sched_cluster *c, const char *agent_id, const char *app_id,
                const struct sched_resources *res, const uint16_t *ports, size_t n_ports, struct err *err) {
        int64_t fx[R_N];
        if (!app_id || res_fixed(res, fx) < 0 || n_ports > SCHED_MAX_PORTS || (n_ports && !ports))
                return err_set(err, -EINVAL, "bad allocation for app '%s'", app_id ? app_id : "(null)");
        struct sched_agent *a = cluster_agent_by_id(c, agent_id);
        if (!a)
                return err_set(err, -ENOENT, "agent '%s' is unknown", agent_id ? agent_id : "(null)");
        for (size_t i = 0; i < n_ports; i++) {
                int32_t bit = ports_bit(a, ports[i]);
                bool twice = false;
                for (size_t j = 0; j < i; j++)
                        twice |= ports[j] == ports[i];
                if (bit >= 0 && (twice || ports_bit_used(a, (uint32_t)bit)))
                        return err_set(err, -EADDRINUSE, "port %u of agent '%s' is in use", ports[i], a->id);
        }
        cluster_charge(c, a, cluster_app_get_or_new(c, app_id), fx, ports, n_ports);
        return 0;
}

int sched_release(struct sched_cluster *c, const char *agent_id, const char *app_id,
                  const struct sched_resources *res, const uint16_t *ports, size_t n_ports) {
        int64_t fx[R_N];
        if (!app_id || res_fixed(res, fx) < 0 || n_ports > SCHED_MAX_PORTS || (n_ports && !ports))
                return -EINVAL;
        struct sched_agent *a = cluster_agent_by_id(c, agent_id);
        struct sched_app *app = cluster_app(c, app_id);
        if (!a || !app || app_count_on(c, app, a) == 0)
                return -ENOENT;
        cluster_credit(c, a, app, fx, ports, n_ports);
        return 0;
}
