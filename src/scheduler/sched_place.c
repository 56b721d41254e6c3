/* sched_place.c — placing a batch of one app's instances (see sched_place.h for the method). */
#include "scheduler/sched_place.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "scheduler/sched_internal.h"

/* Relaxed randomization: score this many fitting agents, drawing at most SAMPLE_TRIES. */
#define SAMPLE_CHOICES 2
#define SAMPLE_TRIES 16

static const char *const reason_names[] = {
#define X(e, s) [e] = s,
        SCHED_REASONS(X)
#undef X
};

const char *sched_reason_to_string(enum sched_reason r) {
        return (unsigned)r < _SCHED_REASON_MAX ? reason_names[r] : NULL;
}

int sched_reason_from_string(const char *s) {
        for (int i = 0; s && i < _SCHED_REASON_MAX; i++)
                if (streq(s, reason_names[i]))
                        return i;
        return -EINVAL;
}

void sched_plan_init(struct sched_plan *p) {
        *p = (struct sched_plan){0};
}

void sched_plan_release(struct sched_plan *p) {
        free(p->placements);
        free(p->ports);
        *p = (struct sched_plan){0};
}

/* A count-dependent constraint during one request, with the app's counts for its field. */
struct dyn {
        const struct sched_constraint *k;
        struct app_field *f; /* class-level fields; NULL for the hostname (host_count) */
        size_t level;        /* GROUP_BY: values holding at most this many are eligible */
};

struct ctx {
        struct sched_cluster *c;
        const struct sched_request *req;
        struct sched_constraints *k;
        struct sched_app *app;
        struct sched_plan *plan;
        int64_t res[R_N];
        struct ivec demand;
        size_t n_dynamic_ports;
        uint64_t rng;

        /* classes passing roles and the attribute-only constraints, with active agents */
        uint32_t *F;
        size_t nF;
        uint8_t *exhausted;  /* per F entry: no agent there can take an instance any more */
        const char **fvalue; /* nF × n_cdyn: the class's value for each class-level dyn */
        /* classes eligible for the next instance: F indices and cumulative agent counts */
        uint32_t *E;
        uint64_t *cum;
        size_t nE;
        bool dirty;

        struct dyn *cdyn, *adyn; /* on class-level fields / on the hostname */
        size_t n_cdyn, n_adyn;
        const struct sched_constraint **astat; /* hostname constraints independent of counts */
        size_t n_astat;
        bool agent_group_by;
};

/* --- constraint tests ------------------------------------------------------------------------ */

static const char *class_value(const struct sched_class *cls, const struct sched_constraint *k) {
        switch (k->kind) {
        case FIELD_REGION:
                return cls->region;
        case FIELD_ZONE:
                return cls->zone;
        case FIELD_ATTR:
                return class_attr(cls, k->field);
        default:
                return NULL;
        }
}

/* ceil(a / b) for b > 0 */
static size_t div_up(size_t a, size_t b) {
        return (a + b - 1) / b;
}

/* The count-dependent test for a value holding n of the app's total instances (a missing value
 * failed statically already). In report mode GROUP_BY's balance level is not applied: it orders
 * placements, it rejects none. */
static bool dyn_ok(const struct dyn *d, size_t n, size_t total, bool report) {
        switch (d->k->op) {
        case SCHED_OP_UNIQUE:
                return n == 0;
        case SCHED_OP_MAX_PER:
                return (long)n < d->k->n;
        case SCHED_OP_CLUSTER:
                return total == 0 || n > 0;
        case SCHED_OP_GROUP_BY:
                if (!report && n > d->level)
                        return false;
                /* "with N, first fill N distinct values": no value above its share of N */
                return d->k->n <= 0 || n + 1 <= div_up(total + 1, (size_t)d->k->n);
        default:
                return true;
        }
}

static bool class_dyn_ok(const struct dyn *d, const char *v, bool report) {
        return dyn_ok(d, app_field_count(d->f, v), d->f->total, report);
}

static bool host_dyn_ok(const struct ctx *x, const struct dyn *d, const struct sched_agent *a, bool report) {
        return dyn_ok(d, host_count(x->c, x->app, a->host), x->app->n_instances, report);
}

static bool role_ok(const struct sched_request *req, const struct sched_class *cls) {
        if (!req->n_roles)
                return streq(cls->role, "*");
        for (size_t i = 0; i < req->n_roles; i++)
                if (streq(req->roles[i], cls->role))
                        return true;
        return false;
}

static bool covers(const struct ivec *have, const struct ivec *want) {
        for (int i = 0; i < R_N; i++)
                if (have->r[i] < want->r[i])
                        return false;
        return have->ports >= want->ports;
}

static bool ports_ok(const struct ctx *x, const struct sched_agent *a) {
        if ((size_t)(a->n_bits - a->n_used_ports) < x->req->n_ports)
                return false;
        for (size_t i = 0; i < x->req->n_ports; i++) {
                if (!x->req->ports[i])
                        continue;
                int32_t bit = ports_bit(a, x->req->ports[i]);
                if (bit < 0 || ports_bit_used(a, (uint32_t)bit))
                        return false;
        }
        return true;
}

/* What the class index cannot see: the exact ports and the hostname constraints. */
static bool agent_ok(struct sched_agent *a, void *data) {
        const struct ctx *x = data;
        if (!ports_ok(x, a))
                return false;
        for (size_t i = 0; i < x->n_astat; i++)
                if (!constraint_static_ok(x->astat[i], a->hostname))
                        return false;
        for (size_t i = 0; i < x->n_adyn; i++)
                if (!host_dyn_ok(x, &x->adyn[i], a, false))
                        return false;
        return true;
}

/* Lower is better: the agent's load after the placement (spread). */
static double load_after(const struct ctx *x, const struct sched_agent *a) {
        double s = 0;
        for (int i = 0; i < R_N; i++)
                if (a->total[i] > 0)
                        s += (double)(a->used[i] + x->res[i]) / (double)a->total[i];
        return s;
}

/* --- eligible classes ------------------------------------------------------------------------ */

static void build_F(struct ctx *x) {
        struct sched_cluster *c = x->c;
        x->F = xmalloc((c->n_class_slots ? c->n_class_slots : 1) * sizeof *x->F);
        for (size_t i = 0; i < c->n_class_slots; i++) {
                const struct sched_class *cls = c->classes[i];
                if (cls && cls->index.n > 0 && role_ok(x->req, cls) && constraints_class_ok(x->k, c, cls))
                        x->F[x->nF++] = (uint32_t)i;
        }
        x->exhausted = xcalloc(x->nF ? x->nF : 1, 1);
        x->E = xmalloc((x->nF ? x->nF : 1) * sizeof *x->E);
        x->cum = xmalloc((x->nF ? x->nF : 1) * sizeof *x->cum);
        x->fvalue = xmalloc((x->nF * x->n_cdyn + 1) * sizeof *x->fvalue);
        for (size_t i = 0; i < x->nF; i++)
                for (size_t d = 0; d < x->n_cdyn; d++)
                        x->fvalue[i * x->n_cdyn + d] = class_value(c->classes[x->F[i]], x->cdyn[d].k);
        x->dirty = true;
}

static void build_E(struct ctx *x) {
        uint64_t total = 0;
        x->nE = 0;
        for (size_t i = 0; i < x->nF; i++) {
                if (x->exhausted[i])
                        continue;
                bool ok = true;
                for (size_t d = 0; ok && d < x->n_cdyn; d++)
                        ok = class_dyn_ok(&x->cdyn[d], x->fvalue[i * x->n_cdyn + d], false);
                if (!ok)
                        continue;
                total += x->c->classes[x->F[i]]->index.n;
                x->E[x->nE] = (uint32_t)i;
                x->cum[x->nE++] = total;
        }
        x->dirty = false;
}

/* The lowest balance level at which some value may be eligible (a lower bound is enough:
 * raise_levels climbs from there). */
static void init_levels(struct ctx *x) {
        for (size_t d = 0; d < x->n_cdyn; d++) {
                struct dyn *g = &x->cdyn[d];
                if (g->k->op != SCHED_OP_GROUP_BY)
                        continue;
                size_t lo = SIZE_MAX;
                for (size_t i = 0; i < x->nF; i++) {
                        size_t n = app_field_count(g->f, x->fvalue[i * x->n_cdyn + d]);
                        lo = n < lo ? n : lo;
                }
                g->level = lo == SIZE_MAX ? 0 : lo;
        }
        uint64_t agents = 0;
        for (size_t i = 0; i < x->nF; i++)
                agents += x->c->classes[x->F[i]]->index.n;
        for (size_t d = 0; d < x->n_adyn; d++) {
                struct dyn *g = &x->adyn[d];
                if (g->k->op != SCHED_OP_GROUP_BY)
                        continue;
                /* fewer agents with instances than candidate agents: some agent has none (with
                 * shared hostnames only a lower bound, which is all a start level needs) */
                if (x->app->n_agents < agents) {
                        g->level = 0;
                        continue;
                }
                size_t lo = app_host_next(x->c, x->app, 0);
                g->level = lo == SIZE_MAX ? 0 : lo;
        }
}

/* Nothing fits at the current balance levels: admit the next level of one GROUP_BY, the last
 * declared first, so that the first declared spread is kept longest. False when none can rise. */
static bool raise_levels(struct ctx *x) {
        for (size_t d = x->n_adyn; d-- > 0;) {
                struct dyn *g = &x->adyn[d];
                if (g->k->op != SCHED_OP_GROUP_BY)
                        continue;
                size_t next = app_host_next(x->c, x->app, g->level);
                if (next != SIZE_MAX) {
                        g->level = next;
                        return true;
                }
        }
        for (size_t d = x->n_cdyn; d-- > 0;) {
                struct dyn *g = &x->cdyn[d];
                if (g->k->op != SCHED_OP_GROUP_BY)
                        continue;
                size_t next = SIZE_MAX;
                for (size_t i = 0; i < x->nF; i++) {
                        size_t n = app_field_count(g->f, x->fvalue[i * x->n_cdyn + d]);
                        if (!x->exhausted[i] && n > g->level && n < next)
                                next = n;
                }
                if (next != SIZE_MAX) {
                        g->level = next;
                        return true;
                }
        }
        return false;
}

/* --- choosing an agent ----------------------------------------------------------------------- */

/* Power of two choices over agents drawn uniformly from the eligible classes. */
static struct sched_agent *sample(struct ctx *x) {
        uint64_t total = x->cum[x->nE - 1];
        struct sched_agent *best = NULL;
        double best_load = 0;
        int found = 0;
        for (int t = 0; t < SAMPLE_TRIES && found < SAMPLE_CHOICES; t++) {
                uint64_t w = rng_below(&x->rng, total);
                size_t lo = 0, hi = x->nE - 1;
                while (lo < hi) {
                        size_t mid = (lo + hi) / 2;
                        if (x->cum[mid] > w)
                                hi = mid;
                        else
                                lo = mid + 1;
                }
                uint64_t before = lo ? x->cum[lo - 1] : 0;
                const struct sched_class *cls = x->c->classes[x->F[x->E[lo]]];
                struct sched_agent *a = cls->index.leaf[w - before];
                struct ivec free = agent_free(a);
                if (!covers(&free, &x->demand) || !agent_ok(a, x))
                        continue;
                double load = load_after(x, a);
                if (!best || load < best_load) {
                        best = a;
                        best_load = load;
                }
                found++;
        }
        return best;
}

/* The exhaustive fallback: every eligible class's index, from random places. */
static struct sched_agent *search(struct ctx *x) {
        size_t start = (size_t)rng_below(&x->rng, x->nE);
        for (size_t j = 0; j < x->nE; j++) {
                size_t e = x->E[(start + j) % x->nE];
                const struct sched_index *ix = &x->c->classes[x->F[e]]->index;
                struct sched_agent *a =
                        index_find(ix, &x->demand, (uint32_t)rng_below(&x->rng, ix->n), agent_ok, x);
                if (a)
                        return a;
                /* Only an agent-level balance level can make this class fit again later in the
                 * request; everything else that failed (resources, ports, counts) only tightens. */
                if (!x->agent_group_by) {
                        x->exhausted[e] = 1;
                        x->dirty = true;
                }
        }
        return NULL;
}

static struct sched_agent *choose(struct ctx *x) {
        for (;;) {
                if (x->dirty)
                        build_E(x);
                if (x->nE > 0) {
                        struct sched_agent *a = sample(x);
                        if (!a)
                                a = search(x);
                        if (a)
                                return a;
                }
                if (!raise_levels(x))
                        return NULL;
                x->dirty = true;
        }
}

/* --- plan ------------------------------------------------------------------------------------ */

static void plan_reserve(struct sched_plan *p, size_t n_ports) {
        if (p->n == p->cap) {
                p->cap = p->cap ? 2 * p->cap : 16;
                p->placements = xrealloc(p->placements, p->cap * sizeof *p->placements);
        }
        if (n_ports && (p->n + 1) * n_ports > p->ports_cap) {
                p->ports_cap = p->ports_cap ? 2 * p->ports_cap : 16 * n_ports;
                while (p->ports_cap < (p->n + 1) * n_ports)
                        p->ports_cap *= 2;
                p->ports = xrealloc(p->ports, p->ports_cap * sizeof *p->ports);
        }
}

/* Chooses the host ports on a (which fits) and charges the instance there. */
static void place_on(struct ctx *x, struct sched_agent *a) {
        struct sched_plan *p = x->plan;
        size_t np = x->req->n_ports;
        plan_reserve(p, np);
        uint16_t *chosen = p->ports + p->n * np;
        int32_t bits[SCHED_MAX_PORTS];
        /* fixed ports first, so that dynamic ones never take them */
        for (size_t i = 0; i < np; i++) {
                bits[i] = -1;
                if (x->req->ports[i]) {
                        chosen[i] = x->req->ports[i];
                        bits[i] = ports_bit(a, chosen[i]);
                        ports_bit_set(a, (uint32_t)bits[i], true);
                }
        }
        for (size_t i = 0; i < np; i++) {
                if (x->req->ports[i])
                        continue;
                /* a random start spreads ports over the ranges, so a released port is not reused
                 * at once */
                bits[i] = ports_find_free(a, (uint32_t)rng_below(&x->rng, a->n_bits));
                chosen[i] = ports_port(a, (uint32_t)bits[i]);
                ports_bit_set(a, (uint32_t)bits[i], true);
        }
        for (size_t i = 0; i < np; i++)
                ports_bit_set(a, (uint32_t)bits[i], false);
        cluster_charge(x->c, a, x->app, x->res, chosen, np);
        p->placements[p->n++] = (struct sched_placement){.agent_id = a->id, .agent_slot = a->slot};
}

static void undo(struct ctx *x) {
        struct sched_plan *p = x->plan;
        size_t np = x->req->n_ports;
        for (size_t i = p->n; i-- > 0;) {
                struct sched_agent *a = x->c->agents[p->placements[i].agent_slot];
                cluster_credit(x->c, a, x->app, x->res, np ? p->ports + i * np : NULL, np);
        }
}

/* Marathon-style reject summary: how each agent fares for the next instance. */
static void count_reasons(struct ctx *x) {
        struct sched_plan *p = x->plan;
        struct sched_cluster *c = x->c;
        for (size_t s = 0; s < c->n_agent_slots; s++) {
                struct sched_agent *a = c->agents[s];
                if (!a || a->state == SCHED_AGENT_UNREACHABLE)
                        continue;
                p->processed++;
                if (a->state == SCHED_AGENT_DRAINING) {
                        p->declined[SCHED_REASON_AGENT_MAINTENANCE]++;
                        continue;
                }
                if (!role_ok(x->req, a->cls))
                        p->declined[SCHED_REASON_UNFULFILLED_ROLE]++;
                bool ok = constraints_class_ok(x->k, c, a->cls);
                for (size_t d = 0; ok && d < x->n_cdyn; d++)
                        ok = class_dyn_ok(&x->cdyn[d], class_value(a->cls, x->cdyn[d].k), true);
                for (size_t i = 0; ok && i < x->n_astat; i++)
                        ok = constraint_static_ok(x->astat[i], a->hostname);
                for (size_t d = 0; ok && d < x->n_adyn; d++)
                        ok = host_dyn_ok(x, &x->adyn[d], a, true);
                if (!ok)
                        p->declined[SCHED_REASON_UNFULFILLED_CONSTRAINT]++;
                struct ivec free = agent_free(a);
                static const enum sched_reason by_dim[R_N] = {
                        [R_CPUS] = SCHED_REASON_INSUFFICIENT_CPUS,
                        [R_MEM] = SCHED_REASON_INSUFFICIENT_MEMORY,
                        [R_DISK] = SCHED_REASON_INSUFFICIENT_DISK,
                        [R_GPUS] = SCHED_REASON_INSUFFICIENT_GPUS,
                };
                for (int i = 0; i < R_N; i++)
                        if (free.r[i] < x->res[i])
                                p->declined[by_dim[i]]++;
                if (!ports_ok(x, a))
                        p->declined[SCHED_REASON_INSUFFICIENT_PORTS]++;
        }
}

static int request_check(const struct sched_request *req, struct err *err) {
        const struct sched_resources *r = &req->res;
        if (!req->app_id || !*req->app_id)
                return err_set(err, -EINVAL, "placement request without an app id");
        double v[] = {r->cpus, r->mem, r->disk, r->gpus};
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                if (!isfinite(v[i]) || v[i] < 0 || v[i] >= 1e15)
                        return err_set(err, -EINVAL, "app '%s': resources must be finite and >= 0",
                                       req->app_id);
        if (req->n_ports > SCHED_MAX_PORTS || (req->n_ports && !req->ports))
                return err_set(err, -EINVAL, "app '%s': at most %d host ports", req->app_id, SCHED_MAX_PORTS);
        for (size_t i = 0; i < req->n_ports; i++)
                for (size_t j = 0; j < i; j++)
                        if (req->ports[i] && req->ports[i] == req->ports[j])
                                return err_set(err, -EINVAL, "app '%s': host port %u requested twice",
                                               req->app_id, req->ports[i]);
        if (req->n_roles && !req->roles)
                return err_set(err, -EINVAL, "app '%s': roles missing", req->app_id);
        for (size_t i = 0; i < req->n_roles; i++)
                if (!req->roles[i])
                        return err_set(err, -EINVAL, "app '%s': empty role", req->app_id);
        return 0;
}

static void ctx_release(struct ctx *x) {
        free(x->F);
        free(x->exhausted);
        free(x->fvalue);
        free(x->E);
        free(x->cum);
        free(x->cdyn);
        free(x->adyn);
        free(x->astat);
}

/* Sorts the constraints by what they depend on and takes the app's counts for each field. */
static void ctx_constraints(struct ctx *x) {
        size_t n = x->k ? x->k->n : 0;
        x->cdyn = xcalloc(n ? n : 1, sizeof *x->cdyn);
        x->adyn = xcalloc(n ? n : 1, sizeof *x->adyn);
        x->astat = xcalloc(n ? n : 1, sizeof *x->astat);
        /* create every tracked field first: app_field may move the array */
        for (size_t i = 0; i < n; i++) {
                const struct sched_constraint *k = &x->k->items[i];
                if (constraint_is_dynamic(k) && k->kind != FIELD_HOSTNAME)
                        app_field(x->c, x->app, k->kind, k->field);
        }
        for (size_t i = 0; i < n; i++) {
                const struct sched_constraint *k = &x->k->items[i];
                if (!constraint_is_dynamic(k)) {
                        if (k->kind == FIELD_HOSTNAME)
                                x->astat[x->n_astat++] = k;
                        continue;
                }
                struct dyn d = {.k = k};
                if (k->kind == FIELD_HOSTNAME) {
                        x->adyn[x->n_adyn++] = d;
                        x->agent_group_by |= k->op == SCHED_OP_GROUP_BY;
                } else {
                        d.f = app_field(x->c, x->app, k->kind, k->field);
                        x->cdyn[x->n_cdyn++] = d;
                }
        }
}

int sched_place(struct sched_cluster *c, const struct sched_request *req, unsigned flags,
                struct sched_plan *plan, struct err *err) {
        plan->n = 0;
        plan->processed = 0;
        memset(plan->declined, 0, sizeof plan->declined);
        int r = request_check(req, err);
        if (r < 0)
                return r;
        if (req->count == 0)
                return 0;

        struct ctx x = {
                .c = c,
                .req = req,
                .k = req->constraints,
                .plan = plan,
                .rng = req->seed,
                .res = {sched_fixed(req->res.cpus), sched_fixed(req->res.mem), sched_fixed(req->res.disk),
                        sched_fixed(req->res.gpus)},
        };
        for (int i = 0; i < R_N; i++)
                x.demand.r[i] = x.res[i];
        x.demand.ports = (int64_t)req->n_ports;
        x.app = cluster_app_get_or_new(c, req->app_id);
        ctx_constraints(&x);
        build_F(&x);
        init_levels(&x);

        while (plan->n < req->count) {
                struct sched_agent *a = choose(&x);
                if (!a)
                        break;
                place_on(&x, a);
                if (x.n_cdyn)
                        x.dirty = true; /* counts moved: class eligibility may have too */
        }
        if (plan->n < req->count && !(flags & SCHED_PLACE_NO_REASONS))
                count_reasons(&x);
        if (!(flags & SCHED_PLACE_COMMIT))
                undo(&x);
        cluster_app_gc(c, cluster_app(c, req->app_id));
        for (size_t i = 0; i < plan->n; i++)
                plan->placements[i].ports = req->n_ports ? plan->ports + i * req->n_ports : NULL;
        ctx_release(&x);
        return (int)plan->n;
}

void sched_commit(struct sched_cluster *c, const struct sched_request *req, const struct sched_plan *plan) {
        int64_t res[R_N] = {sched_fixed(req->res.cpus), sched_fixed(req->res.mem), sched_fixed(req->res.disk),
                            sched_fixed(req->res.gpus)};
        struct sched_app *app = cluster_app_get_or_new(c, req->app_id);
        for (size_t i = 0; i < plan->n; i++) {
                struct sched_agent *a = c->agents[plan->placements[i].agent_slot];
                cluster_charge(c, a, app, res, plan->placements[i].ports, req->n_ports);
        }
}
