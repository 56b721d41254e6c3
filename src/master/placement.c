/* placement.c — the core's adapter to the scheduler library (src/scheduler): keeps a
 * struct sched_cluster in step with the replicated state, incrementally, and turns "place N
 * instances of this app" into placements.
 *
 * What the scheduler's view holds, and when it changes (every step O(log agents), none scans):
 * - agents: added, updated or removed as the state reports them (placement_agent_changed);
 * - committed instances: one sched_alloc per non-terminal instance with an agent, from the
 *   instance's own reservation (so the release later matches), made when the instance appears and
 *   undone when it becomes terminal (placement_instance_changed);
 * - pending placements: decided by this leader, not committed yet. sched_place commits its plan
 *   into the view at once (SCHED_PLACE_COMMIT), so the next plan sees them; the reservation is
 *   swapped for the instance's when the commit lands, or released when the commit fails or the
 *   state machine skips it (placement_forget).
 * The view is built from the state once, when this master becomes leader or the state is
 * restored from a snapshot (placement_rebuild), and dropped when leadership ends (placement_reset). */
#include "master/placement.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/log.h"
#include "common/util.h"
#include "scheduler/sched_constraints.h"
#include "scheduler/sched_place.h"
#include "store/cluster_state.h"

/* A placement decided by this leader and not yet visible in the state. */
struct pending {
        char *instance_id; /* the key in placement.pending */
        char *agent_id;
        char *app_id;
        struct sched_resources res;
        uint16_t ports[SCHED_MAX_PORTS];
        uint8_t n_ports;
};

/* One app's parsed constraints, for the version it was parsed from (parsed once per version:
 * LIKE/UNLIKE compile regular expressions, and the object memoizes class verdicts). */
struct app_constraints {
        char *app_id; /* the key in placement.constraints */
        char *version;
        struct sched_constraints *k; /* NULL: none, or unusable (bad) */
        bool bad;
};

/* Placements per loop turn (strictly: per millisecond of the loop's clock), all apps together.
 * A pass that would place a million instances at once builds one giant Raft entry and
 * launch messages (hundreds of MiB of transient JSON that fragment the heap for good) and holds
 * the loop for seconds; in slices, API calls and status updates interleave and each entry
 * stays small. */
#define PLACEMENT_TURN_BUDGET 2048

struct deferred_app {
        char *app_id; /* the key in placement.deferred */
        unsigned need;
        struct deferred_app *next;
};

/* The scheduler's view and what goes with it; built on first use, dropped with leadership. */
struct view {
        struct sched_cluster *cluster;
        struct hashmap pending;     /* instance id → struct pending */
        struct hashmap constraints; /* app id → struct app_constraints */
        struct sched_plan plan;     /* reused across calls */
        uint64_t calls;             /* mixed into the seed: two plans at one Raft index differ */
        uint64_t budget_ms;         /* loop time the budget below belongs to */
        unsigned budget_used;
        /* Apps the budget turned away, first come first served: app id → struct deferred_app
         * (the queue's entry), and the queue itself. */
        struct hashmap deferred;
        struct deferred_app *deferred_head, *deferred_tail;
};

struct placement {
        const struct core_log *log;
        struct clock *clock;
        placement_wake_cb wake;
        void *data;
        struct clock_timer *deferral; /* retries apps deferred by the budget */
        struct view *view;            /* NULL until first needed */
};

static struct state *st(struct placement *pl) {
        return core_state(pl->log);
}

static void pending_free(struct pending *p) {
        if (!p)
                return;
        free(p->instance_id);
        free(p->agent_id);
        free(p->app_id);
        free(p);
}

static void app_constraints_free(struct app_constraints *a) {
        if (!a)
                return;
        free(a->app_id);
        free(a->version);
        sched_constraints_free(a->k);
        free(a);
}

/* --- agents ---------------------------------------------------------------------------------- */

static enum sched_agent_state sched_state(enum agent_state s) {
        switch (s) {
        case AGENT_DRAINING:
                return SCHED_AGENT_DRAINING;
        case AGENT_UNREACHABLE:
                return SCHED_AGENT_UNREACHABLE;
        default:
                return SCHED_AGENT_ACTIVE;
        }
}

/* Describes a (not gone) agent to the scheduler: its resources, port ranges, attributes, and the
 * attributes "region"/"zone" as its fault domain (what @region/@zone constraints read). */
static int agent_put(struct sched_cluster *c, const struct agent *a, bool update) {
        struct sched_attr attrs[SCHED_MAX_ATTRS];
        struct sched_port_range ranges[SCHED_MAX_RANGES];
        struct sched_agent_spec spec = {
                .id = a->id,
                .hostname = a->hostname,
                .total = { a->cpus, a->mem, a->disk, a->gpus },
                .state = sched_state(a->state),
                .attrs = attrs,
                .ranges = ranges,
        };
        const char *key;
        json_t *v;
        json_object_foreach(a->attributes, key, v) {
                const char *s = json_string_value(v);
                if (!s || spec.n_attrs == SCHED_MAX_ATTRS)
                        continue;
                attrs[spec.n_attrs++] = (struct sched_attr){ key, s };
                if (streq(key, "region"))
                        spec.region = s;
                else if (streq(key, "zone"))
                        spec.zone = s;
        }
        for (size_t i = 0; i < a->n_ports && spec.n_ranges < SCHED_MAX_RANGES; i++)
                ranges[spec.n_ranges++] = (struct sched_port_range){ a->ports[i].begin, a->ports[i].end };
        struct err err = {0};
        int r = update ? sched_agent_update(c, &spec, &err) : sched_agent_add(c, &spec, &err);
        if (r < 0 && r != -ENOENT && r != -EEXIST)
                log_warn("placement: agent %s: %s", a->id, err_msg(&err));
        err_release(&err);
        return r;
}

/* --- instances ------------------------------------------------------------------------------- */

static bool holds_resources(const struct instance *i) {
        return i->agent_id && !task_state_is_terminal((enum task_state)i->state);
}

static struct sched_resources instance_res(const struct instance *i) {
        return (struct sched_resources){ i->cpus, i->mem, i->disk, i->gpus };
}

static void instance_alloc(struct sched_cluster *c, const struct instance *i) {
        struct sched_resources res = instance_res(i);
        int r = sched_alloc(c, i->agent_id, i->app_id, &res, i->ports, i->n_ports, NULL);
        if (r == -EADDRINUSE) {
                /* Two committed instances on one host port (placed by an older leader, say):
                 * account the resources at least; the port stays taken by the first. */
                r = sched_alloc(c, i->agent_id, i->app_id, &res, NULL, 0, NULL);
        }
        if (r < 0 && r != -ENOENT)
                log_warn("placement: cannot account instance %s: %s", i->id, strerror(-r));
}

static void instance_release(struct sched_cluster *c, const struct instance *i) {
        struct sched_resources res = instance_res(i);
        sched_release(c, i->agent_id, i->app_id, &res, i->ports, i->n_ports);
}

static void pending_release(struct sched_cluster *c, const struct pending *p) {
        sched_release(c, p->agent_id, p->app_id, &p->res, p->ports, p->n_ports);
}

/* --- building the view ----------------------------------------------------------------------- */

static int add_agent(const struct agent *a, void *data) {
        if (a->state != AGENT_GONE)
                agent_put(data, a, false);
        return 0;
}

static int add_instance(const struct instance *i, void *data) {
        if (holds_resources(i))
                instance_alloc(data, i);
        return 0;
}

static struct view *get(struct placement *pl) {
        if (pl->view)
                return pl->view;
        struct view *p = xcalloc(1, sizeof *p);
        hashmap_init(&p->pending);
        hashmap_init(&p->constraints);
        hashmap_init(&p->deferred);
        sched_plan_init(&p->plan);
        p->cluster = sched_cluster_new();
        state_agents_foreach(st(pl), add_agent, p->cluster);
        state_instances_foreach(st(pl), add_instance, p->cluster);
        pl->view = p;
        return p;
}

/* The budget refilled: as many deferred apps as it can serve, oldest first, get their pass (the
 * launcher asks placement_plan again); the rest wait for the next turn. Waking every deferred
 * app at once would have each of them scan its instances only to be turned away again. */
static void deferral_cb(struct clock_timer *t, void *data) {
        struct placement *pl = data;
        struct view *p = pl->view;
        if (!p)
                return;
        unsigned budget = PLACEMENT_TURN_BUDGET;
        while (p->deferred_head && budget > 0) {
                struct deferred_app *x = p->deferred_head;
                p->deferred_head = x->next;
                if (!p->deferred_head)
                        p->deferred_tail = NULL;
                hashmap_remove(&p->deferred, x->app_id);
                budget -= MIN(budget, x->need);
                pl->wake(x->app_id, pl->data);
                free(x->app_id);
                free(x);
        }
        if (p->deferred_head)
                clock_timer_start(pl->deferral, 1);
}

static void defer(struct placement *pl, struct view *p, const char *app_id, unsigned need) {
        struct deferred_app *x = hashmap_get(&p->deferred, app_id);
        if (x) {
                x->need = need;
        } else {
                x = xcalloc(1, sizeof *x);
                x->app_id = xstrdup(app_id);
                x->need = need;
                hashmap_put(&p->deferred, x->app_id, x);
                if (p->deferred_tail)
                        p->deferred_tail->next = x;
                else
                        p->deferred_head = x;
                p->deferred_tail = x;
        }
        if (!clock_timer_active(pl->deferral))
                clock_timer_start(pl->deferral, 1);
}

void placement_reset(struct placement *pl) {
        struct view *p = pl->view;
        if (!p)
                return;
        size_t pos = 0;
        void *v;
        while (hashmap_next(&p->pending, &pos, NULL, &v))
                pending_free(v);
        hashmap_release(&p->pending);
        pos = 0;
        while (hashmap_next(&p->constraints, &pos, NULL, &v))
                app_constraints_free(v);
        hashmap_release(&p->constraints);
        for (struct deferred_app *x = p->deferred_head, *next; x; x = next) {
                next = x->next;
                free(x->app_id);
                free(x);
        }
        hashmap_release(&p->deferred);
        clock_timer_stop(pl->deferral);
        sched_plan_release(&p->plan);
        sched_cluster_free(p->cluster);
        free(p);
        pl->view = NULL;
}

struct placement *placement_new(const struct core_log *log, struct clock *clock, placement_wake_cb wake, void *data) {
        struct placement *pl = xcalloc(1, sizeof *pl);
        *pl = (struct placement){ .log = log, .clock = clock, .wake = wake, .data = data };
        pl->deferral = clock_timer_new(clock, deferral_cb, pl);
        return pl;
}

void placement_free(struct placement *pl) {
        if (!pl)
                return;
        placement_reset(pl);
        clock_timer_free(pl->deferral);
        free(pl);
}

void placement_rebuild(struct placement *pl) {
        struct view *old = pl->view;
        if (!old)
                return; /* built on first use */
        /* Placements in flight stay reserved: their commits (or failures) are still to come. */
        struct hashmap keep = old->pending;
        hashmap_init(&old->pending);
        placement_reset(pl);
        struct view *p = get(pl);
        size_t pos = 0;
        void *v;
        while (hashmap_next(&keep, &pos, NULL, &v)) {
                struct pending *x = v;
                if (state_instance_get(st(pl), x->instance_id) ||
                    sched_alloc(p->cluster, x->agent_id, x->app_id, &x->res, x->ports, x->n_ports, NULL) < 0) {
                        pending_free(x);
                        continue;
                }
                hashmap_put(&p->pending, x->instance_id, x);
        }
        hashmap_release(&keep);
}

void placement_agent_changed(struct placement *pl, const char *agent_id) {
        struct view *p = pl->view;
        if (!p)
                return; /* the view is built from the state when first needed */
        const struct agent *a = state_agent_get(st(pl), agent_id);
        if (!a || a->state == AGENT_GONE) {
                sched_agent_remove(p->cluster, agent_id);
                return;
        }
        if (agent_put(p->cluster, a, true) == -ENOENT) {
                agent_put(p->cluster, a, false);
                /* An agent the view did not know (removed while gone, say): account what runs
                 * there. */
                state_agent_instances_foreach(st(pl), agent_id, add_instance, p->cluster);
        }
}

void placement_instance_changed(struct placement *pl, const struct instance *i, int old_state) {
        struct view *p = pl->view;
        if (!p)
                return;
        bool held = old_state != TASK_UNKNOWN && !task_state_is_terminal((enum task_state)old_state);
        if (old_state == TASK_UNKNOWN) {
                /* A new instance: its committed reservation replaces the pending one. */
                struct pending *x = hashmap_remove(&p->pending, i->id);
                if (x)
                        pending_release(p->cluster, x);
                pending_free(x);
        }
        bool holds = holds_resources(i);
        if (holds && !held)
                instance_alloc(p->cluster, i);
        else if (!holds && held && i->agent_id)
                instance_release(p->cluster, i);
}

void placement_forget(struct placement *pl, const char *instance_id) {
        struct view *p = pl->view;
        if (!p)
                return;
        struct pending *x = hashmap_remove(&p->pending, instance_id);
        if (x)
                pending_release(p->cluster, x);
        pending_free(x);
}

/* --- planning -------------------------------------------------------------------------------- */

/* The app's constraints as the scheduler takes them, parsed once per app version. Returns false
 * when they cannot be parsed (the model validates them; an app restored from an older snapshot
 * may still carry a pattern the regex budget refuses): such an app is not placed. */
/* Drops the parsed constraints of apps that no longer exist, once the cache has grown well past
 * the number of apps (a sweep every ~1,024 deletions, not a scan per call). */
static void sweep_constraints(struct view *p, const struct state *state) {
        if (hashmap_size(&p->constraints) <= state_app_count(state) + 1024)
                return;
        size_t pos = 0;
        void *v;
        while (hashmap_next(&p->constraints, &pos, NULL, &v)) {
                struct app_constraints *a = v;
                if (!state_app_get(state, a->app_id)) {
                        hashmap_remove(&p->constraints, a->app_id);
                        app_constraints_free(a);
                }
        }
}

static bool app_constraints(struct view *p, const struct state *state, const json_t *app, const char *app_id,
                            const char *version, struct sched_constraints **ret) {
        sweep_constraints(p, state);
        struct app_constraints *a = hashmap_get(&p->constraints, app_id);
        if (a && !streq(a->version, version)) {
                hashmap_remove(&p->constraints, app_id);
                app_constraints_free(a);
                a = NULL;
        }
        if (!a) {
                a = xcalloc(1, sizeof *a);
                a->app_id = xstrdup(app_id);
                a->version = xstrdup(version);
                struct err err = {0};
                if (sched_constraints_parse(json_object_get(app, "constraints"), &a->k, &err) < 0) {
                        log_warn("%s: constraints cannot be applied, not placing it: %s", app_id, err_msg(&err));
                        a->bad = true;
                }
                err_release(&err);
                hashmap_put(&p->constraints, a->app_id, a);
        }
        *ret = a->k;
        return !a->bad;
}

/* Host ports one instance needs, in the app's order: 0 for any free port, n for exactly n
 * (requirePorts with portDefinitions; a non-zero hostPort of a port mapping). Returns how many,
 * or -E2BIG beyond SCHED_MAX_PORTS. */
static int app_ports(const json_t *app, uint16_t ports[static SCHED_MAX_PORTS]) {
        bool require = json_is_true(json_object_get(app, "requirePorts"));
        size_t n = 0, i;
        json_t *d;
        json_array_foreach(json_object_get(app, "portDefinitions"), i, d) {
                if (n == SCHED_MAX_PORTS)
                        return -E2BIG;
                json_int_t port = json_integer_value(json_object_get(d, "port"));
                ports[n++] = require && port > 0 && port <= 65535 ? (uint16_t)port : 0;
        }
        json_array_foreach(json_object_get(json_object_get(app, "container"), "portMappings"), i, d) {
                json_t *hp = json_object_get(d, "hostPort");
                if (!json_is_integer(hp))
                        continue; /* a container port without a host port */
                if (n == SCHED_MAX_PORTS)
                        return -E2BIG;
                json_int_t port = json_integer_value(hp);
                ports[n++] = port > 0 && port <= 65535 ? (uint16_t)port : 0;
        }
        return (int)n;
}

/* The task id of a new instance: "<app path with / as _>.instance-<uuid>._app". */
static char *new_instance_id(const char *app_id) {
        _cleanup_free_ char *path = xstrdup(app_id[0] == '/' ? app_id + 1 : app_id);
        for (char *s = path; *s; s++)
                if (*s == '/')
                        *s = '_';
        char uuid[37];
        uuid_random(uuid);
        return xasprintf("%s.instance-%s._app", path, uuid);
}

static void set_reason(json_t *reasons, const char *r, json_int_t n) {
        json_object_set_new(reasons, r, json_integer(n));
}

unsigned placement_plan(struct placement *pl, const json_t *app, unsigned need, json_t *placements, json_t *reasons) {
        struct view *p = get(pl);
        const char *app_id = json_string_value(json_object_get(app, "id"));
        const char *version = json_string_value(json_object_get(app, "version"));
        json_object_clear(reasons);
        if (!app_id || !version || need == 0)
                return 0;
        if (state_agent_count(st(pl)) == 0) {
                set_reason(reasons, "NoAgents", 1);
                return 0;
        }
        uint64_t now = clock_turn_ms(pl->clock);
        if (now != p->budget_ms) {
                p->budget_ms = now;
                p->budget_used = 0;
        }
        if (p->budget_used >= PLACEMENT_TURN_BUDGET) {
                /* No reasons: nothing was declined, the app waits for its turn. When placed > 0
                 * the launcher comes back by itself (after the commit); at 0 it needs a nudge. */
                defer(pl, p, app_id, need);
                return 0;
        }
        struct sched_request req = {
                .app_id = app_id,
                .count = MIN(need, PLACEMENT_TURN_BUDGET - p->budget_used),
                .res = {
                        json_number_value(json_object_get(app, "cpus")),
                        json_number_value(json_object_get(app, "mem")),
                        json_number_value(json_object_get(app, "disk")),
                        json_number_value(json_object_get(app, "gpus")),
                },
        };
        uint16_t ports[SCHED_MAX_PORTS];
        int n_ports = app_ports(app, ports);
        if (n_ports < 0) {
                set_reason(reasons, sched_reason_to_string(SCHED_REASON_INSUFFICIENT_PORTS), 1);
                return 0;
        }
        req.ports = ports;
        req.n_ports = (size_t)n_ports;
        if (!app_constraints(p, st(pl), app, app_id, version, &req.constraints)) {
                set_reason(reasons, sched_reason_to_string(SCHED_REASON_UNFULFILLED_CONSTRAINT), 1);
                return 0;
        }
        const json_t *roles_json = json_object_get(app, "acceptedResourceRoles");
        const char *roles[64];
        size_t i;
        json_t *r;
        json_array_foreach(roles_json, i, r) {
                if (json_is_string(r) && req.n_roles < ELEMENTSOF(roles))
                        roles[req.n_roles++] = json_string_value(r);
        }
        req.roles = roles;
        /* Deterministic per decision: the Raft index this plan is made at, and a counter. */
        req.seed = core_applied(pl->log) * UINT64_C(0x9e3779b97f4a7c15) ^ ++p->calls;

        struct err err = {0};
        int placed = sched_place(p->cluster, &req, SCHED_PLACE_COMMIT, &p->plan, &err);
        if (placed < 0) {
                log_warn("%s: cannot place: %s", app_id, err_msg(&err));
                err_release(&err);
                set_reason(reasons, sched_reason_to_string(SCHED_REASON_UNFULFILLED_CONSTRAINT), 1);
                return 0;
        }
        p->budget_used += (unsigned)placed;
        for (size_t k = 0; k < p->plan.n; k++) {
                const struct sched_placement *sp = &p->plan.placements[k];
                struct pending *x = xcalloc(1, sizeof *x);
                x->instance_id = new_instance_id(app_id);
                x->agent_id = xstrdup(sp->agent_id);
                x->app_id = xstrdup(app_id);
                x->res = req.res;
                x->n_ports = (uint8_t)req.n_ports;
                json_t *jports = json_array();
                for (size_t j = 0; j < req.n_ports; j++) {
                        x->ports[j] = sp->ports[j];
                        json_array_append_new(jports, json_integer(sp->ports[j]));
                }
                json_array_append_new(placements,
                                      json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", x->instance_id, "appId", app_id,
                                                "version", version, "agentId", x->agent_id, "ports", jports));
                hashmap_put(&p->pending, x->instance_id, x);
        }
        if ((unsigned)placed < req.count)
                for (int k = 0; k < _SCHED_REASON_MAX; k++)
                        if (p->plan.declined[k] > 0)
                                set_reason(reasons, sched_reason_to_string((enum sched_reason)k),
                                           (json_int_t)p->plan.declined[k]);
        return (unsigned)placed;
}

const struct sched_cluster *placement_cluster(struct placement *pl) {
        return get(pl)->cluster;
}

const struct sched_constraints *placement_constraints(struct placement *pl, const json_t *app) {
        struct view *p = get(pl);
        const char *app_id = json_string_value(json_object_get(app, "id"));
        const char *version = json_string_value(json_object_get(app, "version"));
        struct sched_constraints *k = NULL;
        if (!app_id || !version || !app_constraints(p, st(pl), app, app_id, version, &k))
                return NULL;
        return k;
}
