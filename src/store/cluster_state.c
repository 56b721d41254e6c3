/* cluster_state.c — agents and instances inside the replicated state: their indexes, the
 * bookkeeping that must stay exact (used resources, per-app counts), read access and the change
 * notes delivered to the observer after each command. */
#include "store/cluster_state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/timeutil.h"
#include "store/cluster_internal.h"
#include "store/state_internal.h"

static const char *const agent_state_names[] = {"active", "unreachable", "draining", "gone"};
static const char *const goal_names[] = {"running", "stopped", "decommissioned"};

const char *agent_state_to_string(enum agent_state s) {
        return (unsigned)s < ELEMENTSOF(agent_state_names) ? agent_state_names[s] : "unknown";
}

int agent_state_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(agent_state_names); i++)
                if (streq(s, agent_state_names[i]))
                        return (int)i;
        return -EINVAL;
}

const char *instance_goal_to_string(enum instance_goal g) {
        return (unsigned)g < ELEMENTSOF(goal_names) ? goal_names[g] : "unknown";
}

int instance_goal_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(goal_names); i++)
                if (streq(s, goal_names[i]))
                        return (int)i;
        return -EINVAL;
}

void cluster_init(struct cluster *c) {
        *c = (struct cluster){0};
        strtab_init(&c->strings);
        hashmap_init(&c->agents);
        hashmap_init(&c->groups);
}

static void agent_free(struct agent_node *a) {
        cluster_agent_reset(a);
        free(a);
}

static void checks_free(const struct instance_health *h) {
        if (!h)
                return;
        for (size_t k = 0; k < h->n; k++)
                free(h->checks[k].cause);
        free((void *)h);
}

static void node_free(struct inst_node *n) {
        checks_free(n->pub.checks);
        free(n);
}

static void changes_clear(struct cluster *c) {
        for (size_t i = 0; i < c->n_changes; i++) {
                free(c->changes[i].id);
                json_decref(c->changes[i].record);
        }
        c->n_changes = 0;
}

void cluster_release(struct cluster *c) {
        /* Strings are released with the table at the end, not one reference at a time. */
        for (struct app_group *g = c->groups_first, *gn; g; g = gn) {
                gn = g->next;
                for (struct inst_node *n = g->first, *nn; n; n = nn) {
                        nn = n->app_next;
                        node_free(n);
                }
                json_decref(g->last_failure);
                free(g);
        }
        for (struct agent_node *a = c->agents_first, *an; a; a = an) {
                an = a->next;
                agent_free(a);
        }
        for (struct inst_node *n = c->graveyard, *nn; n; n = nn) {
                nn = n->grave_next;
                node_free(n);
        }
        changes_clear(c);
        free(c->changes);
        free(c->slots);
        free(c->cluster_id);
        hashmap_release(&c->agents);
        hashmap_release(&c->groups);
        strtab_release(&c->strings);
        struct state_observer obs = c->obs;
        bool has_obs = c->has_obs;
        cluster_init(c);
        c->obs = obs;
        c->has_obs = has_obs;
}

void cluster_move(struct cluster *dst, struct cluster *src) {
        cluster_release(dst);
        struct state_observer obs = dst->obs;
        bool has_obs = dst->has_obs;
        *dst = *src;
        dst->obs = obs;
        dst->has_obs = has_obs;
        cluster_init(src);
}

/* ---- agents ---- */

struct agent_node *cluster_agent(const struct cluster *c, const char *id) {
        return id ? hashmap_get(&c->agents, id) : NULL;
}

struct agent_node *cluster_agent_add(struct cluster *c, const char *id) {
        struct agent_node *a = xcalloc(1, sizeof *a);
        a->pub.id = strtab_intern(&c->strings, id);
        a->pub.state = AGENT_ACTIVE;
        hashmap_put(&c->agents, a->pub.id, a);
        a->prev = c->agents_last;
        if (c->agents_last)
                c->agents_last->next = a;
        else
                c->agents_first = a;
        c->agents_last = a;
        c->n_agents++;
        return a;
}

void cluster_agent_reset(struct agent_node *a) {
        free(a->pub.hostname);
        free(a->pub.address);
        free(a->pub.ports);
        json_decref(a->pub.attributes);
        a->pub.hostname = a->pub.address = NULL;
        a->pub.ports = NULL;
        a->pub.n_ports = 0;
        a->pub.attributes = NULL;
}

void cluster_agent_remove(struct cluster *c, struct agent_node *a) {
        hashmap_remove(&c->agents, a->pub.id);
        if (a->prev)
                a->prev->next = a->next;
        else
                c->agents_first = a->next;
        if (a->next)
                a->next->prev = a->prev;
        else
                c->agents_last = a->prev;
        c->n_agents--;
        strtab_unref(&c->strings, a->pub.id);
        agent_free(a);
}

static void sync_used(struct agent_node *a) {
        a->pub.used_cpus = (double)a->used_fx[0] / CLUSTER_FX;
        a->pub.used_mem = (double)a->used_fx[1] / CLUSTER_FX;
        a->pub.used_disk = (double)a->used_fx[2] / CLUSTER_FX;
        a->pub.used_gpus = (double)a->used_fx[3] / CLUSTER_FX;
}

static void fx_of(const struct instance *i, int64_t out[4]) {
        out[0] = llround((double)i->cpus * CLUSTER_FX);
        out[1] = llround((double)i->mem * CLUSTER_FX);
        out[2] = llround((double)i->disk * CLUSTER_FX);
        out[3] = llround((double)i->gpus * CLUSTER_FX);
}

static void reserve(struct inst_node *n) {
        int64_t fx[4];
        fx_of(&n->pub, fx);
        for (int k = 0; k < 4; k++)
                n->agent->used_fx[k] += fx[k];
        n->agent->pub.n_instances++;
        n->reserved = true;
        sync_used(n->agent);
}

static void release(struct inst_node *n) {
        if (!n->reserved)
                return;
        int64_t fx[4];
        fx_of(&n->pub, fx);
        for (int k = 0; k < 4; k++)
                n->agent->used_fx[k] -= fx[k];
        n->agent->pub.n_instances--;
        n->reserved = false;
        sync_used(n->agent);
}

/* ---- groups ---- */

struct app_group *cluster_group(const struct cluster *c, const char *app_id) {
        return app_id ? hashmap_get(&c->groups, app_id) : NULL;
}

struct app_group *cluster_group_get_or_add(struct cluster *c, const char *app_id) {
        struct app_group *g = cluster_group(c, app_id);
        if (g)
                return g;
        g = xcalloc(1, sizeof *g);
        g->app_id = strtab_intern(&c->strings, app_id);
        hashmap_put(&c->groups, g->app_id, g);
        g->prev = c->groups_last;
        if (c->groups_last)
                c->groups_last->next = g;
        else
                c->groups_first = g;
        c->groups_last = g;
        return g;
}

void cluster_group_maybe_free(struct cluster *c, struct app_group *g) {
        if (g->first || g->last_failure)
                return;
        hashmap_remove(&c->groups, g->app_id);
        if (g->prev)
                g->prev->next = g->next;
        else
                c->groups_first = g->next;
        if (g->next)
                g->next->prev = g->prev;
        else
                c->groups_last = g->prev;
        strtab_unref(&c->strings, g->app_id);
        free(g);
}

void cluster_app_deleted(struct cluster *c, const char *app_id) {
        struct app_group *g = cluster_group(c, app_id);
        if (!g)
                return;
        json_decref(g->last_failure);
        g->last_failure = NULL;
        cluster_group_maybe_free(c, g);
}

/* Adds (d = 1) or removes (d = SIZE_MAX, i.e. -1) what an instance contributes to its counts. */
static void counts_add(struct state_app_counts *k, const struct instance *i, size_t d) {
        k->instances += d;
        if (i->goal != GOAL_RUNNING && !task_state_is_terminal((enum task_state)i->state))
                k->stopping += d;
        switch ((enum task_state)i->state) {
        case TASK_STAGING:
        case TASK_STARTING:
                k->staged += d;
                break;
        case TASK_RUNNING:
                k->running += d;
                if (i->has_health) {
                        if (i->healthy)
                                k->healthy += d;
                        else
                                k->unhealthy += d;
                }
                break;
        case TASK_KILLING:
                k->killing += d;
                break;
        case TASK_UNREACHABLE:
                k->unreachable += d;
                break;
        default:
                if (task_state_is_terminal(i->state))
                        k->terminal += d;
                break;
        }
}

static void push_change(struct cluster *c, struct change ch) {
        if (c->n_changes == c->cap_changes) {
                c->cap_changes = c->cap_changes ? 2 * c->cap_changes : 64;
                c->changes = xrealloc(c->changes, c->cap_changes * sizeof *c->changes);
        }
        c->changes[c->n_changes++] = ch;
}

/* ---- instance table ---- */

static void table_insert(struct cluster *c, struct inst_node *n) {
        if ((c->n_instances + 1) * 2 > c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 1024;
                struct inst_node **slots = xcalloc(cap, sizeof *slots);
                for (size_t i = 0; i < c->cap; i++) {
                        struct inst_node *e = c->slots[i];
                        if (!e)
                                continue;
                        size_t j = e->hash & (cap - 1);
                        while (slots[j])
                                j = (j + 1) & (cap - 1);
                        slots[j] = e;
                }
                free(c->slots);
                c->slots = slots;
                c->cap = cap;
        }
        size_t i = n->hash & (c->cap - 1);
        while (c->slots[i])
                i = (i + 1) & (c->cap - 1);
        c->slots[i] = n;
        c->n_instances++;
}

static void table_remove(struct cluster *c, struct inst_node *n) {
        size_t mask = c->cap - 1, i = n->hash & mask;
        while (c->slots[i] != n)
                i = (i + 1) & mask;
        c->slots[i] = NULL;
        c->n_instances--;
        /* Backward shift deletion (no tombstones). */
        for (size_t j = (i + 1) & mask; c->slots[j]; j = (j + 1) & mask) {
                size_t home = c->slots[j]->hash & mask;
                bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
                if (stays)
                        continue;
                c->slots[i] = c->slots[j];
                c->slots[j] = NULL;
                i = j;
        }
}

struct inst_node *cluster_instance(const struct cluster *c, const char *id) {
        if (!id || !c->cap)
                return NULL;
        uint32_t h = (uint32_t)hash_string(id);
        for (size_t i = h & (c->cap - 1); c->slots[i]; i = (i + 1) & (c->cap - 1)) {
                struct inst_node *n = c->slots[i];
                if (n->hash == h && streq(n->pub.id, id))
                        return n;
        }
        return NULL;
}

struct inst_node *cluster_instance_add(struct cluster *c, const char *id, struct app_group *g,
                                       struct agent_node *a, const char *version, const uint16_t *ports,
                                       size_t n_ports, const float res[4]) {
        size_t id_len = strlen(id);
        struct inst_node *n = xmalloc(sizeof *n + n_ports * sizeof(uint16_t) + id_len + 1);
        memset(n, 0, sizeof *n);
        uint16_t *p = (uint16_t *)(void *)(n + 1);
        if (n_ports)
                memcpy(p, ports, n_ports * sizeof *p);
        char *idp = (char *)(p + n_ports);
        memcpy(idp, id, id_len + 1);
        n->pub.id = idp;
        n->pub.ports = p;
        n->pub.n_ports = (uint8_t)n_ports;
        n->pub.app_id = g->app_id;
        n->pub.agent_id = a->pub.id;
        n->pub.version = strtab_intern(&c->strings, version);
        n->pub.state = TASK_STAGING;
        n->pub.goal = GOAL_RUNNING;
        n->pub.cpus = res[0];
        n->pub.mem = res[1];
        n->pub.disk = res[2];
        n->pub.gpus = res[3];
        n->hash = (uint32_t)hash_string(idp);
        n->group = g;
        n->agent = a;

        n->app_prev = g->last;
        if (g->last)
                g->last->app_next = n;
        else
                g->first = n;
        g->last = n;
        n->agent_prev = a->last;
        if (a->last)
                a->last->agent_next = n;
        else
                a->first = n;
        a->last = n;
        table_insert(c, n);
        counts_add(&g->counts, &n->pub, 1);
        reserve(n);
        return n;
}

void cluster_instance_set_state(struct cluster *c, struct inst_node *n, enum task_state st) {
        (void)c;
        if (n->pub.state == st)
                return;
        counts_add(&n->group->counts, &n->pub, SIZE_MAX);
        if (n->pub.state == TASK_RUNNING && n->pub.has_health && !n->pub.healthy)
                n->pub.left_unhealthy = true;
        n->pub.state = (uint8_t)st;
        if (st != TASK_RUNNING) {
                n->pub.has_health = n->pub.healthy = false;
                checks_free(n->pub.checks);
                n->pub.checks = NULL;
        }
        counts_add(&n->group->counts, &n->pub, 1);
        if (task_state_is_terminal(st))
                release(n);
}

void cluster_instance_set_goal(struct cluster *c, struct inst_node *n, enum instance_goal goal) {
        (void)c;
        if (n->pub.goal == goal)
                return;
        counts_add(&n->group->counts, &n->pub, SIZE_MAX);
        n->pub.goal = (uint8_t)goal;
        counts_add(&n->group->counts, &n->pub, 1);
}

void cluster_instance_set_health(struct cluster *c, struct inst_node *n, bool has_health, bool healthy) {
        (void)c;
        counts_add(&n->group->counts, &n->pub, SIZE_MAX);
        n->pub.has_health = has_health;
        n->pub.healthy = has_health && healthy;
        counts_add(&n->group->counts, &n->pub, 1);
}

bool cluster_instance_checks_equal(const struct inst_node *n, const struct health_result *r, size_t k) {
        const struct instance_health *h = n->pub.checks;
        if ((h ? h->n : 0) != k)
                return false;
        for (size_t j = 0; j < k; j++) {
                const struct instance_check *x = &h->checks[j];
                if (x->known != r[j].known || x->alive != r[j].alive ||
                    x->consecutive_failures != r[j].consecutive_failures ||
                    x->first_success != r[j].first_success_ms || x->last_success != r[j].last_success_ms ||
                    x->last_failure != r[j].last_failure_ms || !streq(x->cause ?: "", r[j].cause))
                        return false;
        }
        return true;
}

void cluster_instance_set_checks(struct cluster *c, struct inst_node *n, const struct health_result *r, size_t k) {
        (void)c;
        checks_free(n->pub.checks);
        n->pub.checks = NULL;
        if (k == 0)
                return;
        struct instance_health *h = xcalloc(1, sizeof *h + k * sizeof h->checks[0]);
        h->n = (uint8_t)k;
        for (size_t j = 0; j < k; j++)
                h->checks[j] = (struct instance_check){
                        .first_success = r[j].first_success_ms,
                        .last_success = r[j].last_success_ms,
                        .last_failure = r[j].last_failure_ms,
                        .cause = r[j].cause[0] ? xstrdup(r[j].cause) : NULL,
                        .consecutive_failures = r[j].consecutive_failures,
                        .known = r[j].known,
                        .alive = r[j].alive,
                };
        n->pub.checks = h;
}

size_t instance_health_results(const struct instance *i, struct health_result ret[static HEALTH_MAX_CHECKS]) {
        const struct instance_health *h = i->checks;
        size_t k = h ? MIN((size_t)h->n, (size_t)HEALTH_MAX_CHECKS) : 0;
        for (size_t j = 0; j < k; j++) {
                const struct instance_check *x = &h->checks[j];
                ret[j] = (struct health_result){
                        .known = x->known,
                        .alive = x->alive,
                        .consecutive_failures = x->consecutive_failures,
                        .first_success_ms = x->first_success,
                        .last_success_ms = x->last_success,
                        .last_failure_ms = x->last_failure,
                };
                snprintf(ret[j].cause, sizeof ret[j].cause, "%s", x->cause ?: "");
        }
        return k;
}

void cluster_instance_set_message(struct cluster *c, struct inst_node *n, const char *msg) {
        if (n->pub.message == msg || (n->pub.message && msg && streq(n->pub.message, msg)))
                return;
        const char *old = n->pub.message;
        n->pub.message = strtab_intern(&c->strings, msg);
        strtab_unref(&c->strings, old);
}

void cluster_instance_remove(struct cluster *c, struct inst_node *n) {
        struct app_group *g = n->group;
        struct agent_node *a = n->agent;
        release(n);
        counts_add(&g->counts, &n->pub, SIZE_MAX);
        if (n->app_prev)
                n->app_prev->app_next = n->app_next;
        else
                g->first = n->app_next;
        if (n->app_next)
                n->app_next->app_prev = n->app_prev;
        else
                g->last = n->app_prev;
        if (n->agent_prev)
                n->agent_prev->agent_next = n->agent_next;
        else
                a->first = n->agent_next;
        if (n->agent_next)
                n->agent_next->agent_prev = n->agent_prev;
        else
                a->last = n->agent_prev;
        table_remove(c, n);
        /* The observer gets the app id after the group may be gone: keep a reference. */
        n->pub.app_id = strtab_ref(g->app_id);
        n->group = NULL;
        n->agent = NULL;
        cluster_group_maybe_free(c, g);
        n->grave_next = c->graveyard;
        c->graveyard = n;
        if (c->has_obs && c->obs.instance_removed)
                push_change(c, (struct change){.kind = CHANGE_REMOVED, .node = n});
}

/* ---- change notes ---- */

void cluster_note_app(struct cluster *c, const char *app_id) {
        if (c->has_obs && c->obs.app_changed)
                push_change(c, (struct change){.kind = CHANGE_APP, .id = xstrdup(app_id)});
}

void cluster_note_deployment(struct cluster *c, const json_t *record, const char *what) {
        if (!c->has_obs || !c->obs.deployment_changed)
                return;
        /* One note per record and command: an app joining a deployment 1,000 times in a bulk
         * change is one "created" (or "updated"). The record is shared, not copied: the observer
         * sees it as it is once the command is applied (a removed one as it was). */
        bool removal = !streq(what, "created") && !streq(what, "updated");
        for (size_t i = 0; i < c->n_changes && !removal; i++)
                if (c->changes[i].kind == CHANGE_DEPLOYMENT && c->changes[i].record == record &&
                    (streq(c->changes[i].what, "created") || streq(c->changes[i].what, "updated")))
                        return;
        push_change(c, (struct change){ .kind = CHANGE_DEPLOYMENT, .record = json_incref((json_t *)record), .what = what });
}

void cluster_note_agent(struct cluster *c, const char *agent_id) {
        if (c->has_obs && c->obs.agent_changed)
                push_change(c, (struct change){.kind = CHANGE_AGENT, .id = xstrdup(agent_id)});
}

void cluster_note_instance(struct cluster *c, struct inst_node *n, enum task_state old) {
        if (n->noted || !c->has_obs || !c->obs.instance_changed)
                return;
        n->noted = true;
        push_change(c, (struct change){.kind = CHANGE_INSTANCE, .node = n, .old_state = (uint8_t)old});
}

static void grave_free(struct cluster *c) {
        for (struct inst_node *n = c->graveyard, *nn; n; n = nn) {
                nn = n->grave_next;
                strtab_unref(&c->strings, n->pub.app_id);
                strtab_unref(&c->strings, n->pub.version);
                strtab_unref(&c->strings, n->pub.message);
                node_free(n);
        }
        c->graveyard = NULL;
}

void cluster_notify(struct cluster *c, bool ok) {
        const struct state_observer *o = &c->obs;
        /* The list may grow if a callback misbehaves and mutates; index, do not cache the end. */
        for (size_t i = 0; i < c->n_changes; i++) {
                struct change *ch = &c->changes[i];
                switch (ch->kind) {
                case CHANGE_APP:
                        if (ok && c->has_obs && o->app_changed)
                                o->app_changed(ch->id, o->data);
                        break;
                case CHANGE_AGENT:
                        if (ok && c->has_obs && o->agent_changed)
                                o->agent_changed(ch->id, o->data);
                        break;
                case CHANGE_INSTANCE:
                        ch->node->noted = false;
                        if (ok && c->has_obs && o->instance_changed)
                                o->instance_changed(&ch->node->pub, (enum task_state)ch->old_state, o->data);
                        break;
                case CHANGE_REMOVED:
                        if (ok && c->has_obs && o->instance_removed)
                                o->instance_removed(ch->node->pub.id, ch->node->pub.app_id, o->data);
                        break;
                case CHANGE_DEPLOYMENT:
                        if (ok && c->has_obs && o->deployment_changed)
                                o->deployment_changed(ch->record, ch->what, o->data);
                        break;
                }
        }
        changes_clear(c);
        grave_free(c);
}

void state_set_observer(struct state *s, const struct state_observer *obs) {
        struct cluster *c = state_cluster(s);
        c->has_obs = obs != NULL;
        c->obs = obs ? *obs : (struct state_observer){0};
}

/* ---- read access ---- */

const struct agent *state_agent_get(const struct state *s, const char *id) {
        struct agent_node *a = cluster_agent(state_cluster(s), id);
        return a ? &a->pub : NULL;
}

size_t state_agent_count(const struct state *s) {
        return state_cluster(s)->n_agents;
}

int state_agents_foreach(const struct state *s, int (*cb)(const struct agent *a, void *data), void *data) {
        for (struct agent_node *a = state_cluster(s)->agents_first; a; a = a->next) {
                int r = cb(&a->pub, data);
                if (r != 0)
                        return r;
        }
        return 0;
}

const char *state_cluster_id(const struct state *s) {
        return state_cluster(s)->cluster_id;
}

const struct instance *state_instance_get(const struct state *s, const char *id) {
        struct inst_node *n = cluster_instance(state_cluster(s), id);
        return n ? &n->pub : NULL;
}

size_t state_instance_count(const struct state *s) {
        return state_cluster(s)->n_instances;
}

static int group_foreach(const struct app_group *g, int (*cb)(const struct instance *i, void *data),
                         void *data) {
        for (struct inst_node *n = g->first, *nn; n; n = nn) {
                nn = n->app_next;
                int r = cb(&n->pub, data);
                if (r != 0)
                        return r;
        }
        return 0;
}

int state_instances_foreach(const struct state *s, int (*cb)(const struct instance *i, void *data),
                            void *data) {
        for (struct app_group *g = state_cluster(s)->groups_first; g; g = g->next) {
                int r = group_foreach(g, cb, data);
                if (r != 0)
                        return r;
        }
        return 0;
}

int state_app_instances_foreach(const struct state *s, const char *app_id,
                                int (*cb)(const struct instance *i, void *data), void *data) {
        struct app_group *g = cluster_group(state_cluster(s), app_id);
        return g ? group_foreach(g, cb, data) : 0;
}

int state_agent_instances_foreach(const struct state *s, const char *agent_id,
                                  int (*cb)(const struct instance *i, void *data), void *data) {
        struct agent_node *a = cluster_agent(state_cluster(s), agent_id);
        if (!a)
                return 0;
        for (struct inst_node *n = a->first, *nn; n; n = nn) {
                nn = n->agent_next;
                int r = cb(&n->pub, data);
                if (r != 0)
                        return r;
        }
        return 0;
}

int state_orphan_apps_foreach(const struct state *s,
                              int (*cb)(const char *app_id, size_t n_instances, void *data), void *data) {
        for (struct app_group *g = state_cluster(s)->groups_first; g; g = g->next) {
                if (!g->first || state_app_get(s, g->app_id))
                        continue;
                int r = cb(g->app_id, g->counts.instances, data);
                if (r != 0)
                        return r;
        }
        return 0;
}

void state_app_counts(const struct state *s, const char *app_id, struct state_app_counts *ret) {
        struct app_group *g = cluster_group(state_cluster(s), app_id);
        *ret = g ? g->counts : (struct state_app_counts){0};
}

const json_t *state_app_last_failure(const struct state *s, const char *app_id) {
        struct app_group *g = cluster_group(state_cluster(s), app_id);
        return g ? g->last_failure : NULL;
}

/* ---- command helpers ---- */

int cluster_get_str(const json_t *v, size_t max, bool optional, const char **ret) {
        if (!v || json_is_null(v)) {
                if (!optional)
                        return -EINVAL;
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v) || json_string_length(v) > max || json_string_length(v) == 0)
                return -EINVAL;
        /* An embedded NUL would make two different JSON strings the same C string. */
        if (strlen(json_string_value(v)) != json_string_length(v))
                return -EINVAL;
        *ret = json_string_value(v);
        return 0;
}

int cluster_parse_ipv4(const char *s, uint32_t *ret) {
        struct in_addr a;
        if (!s || inet_pton(AF_INET, s, &a) != 1 || a.s_addr == 0)
                return -EINVAL;
        *ret = a.s_addr;
        return 0;
}

const char *instance_ip(const struct instance *i, char buf[static 16]) {
        if (!i->ip)
                return NULL;
        struct in_addr a = {.s_addr = i->ip};
        return inet_ntop(AF_INET, &a, buf, 16);
}

int cluster_cmd_ts(const json_t *cmd, int64_t *ret) {
        const char *ts = json_string_value(json_object_get(cmd, "ts"));
        int64_t ms;
        if (!ts || time_parse_iso(ts, &ms) < 0)
                return -EINVAL;
        *ret = ms;
        return 0;
}

json_t *cluster_place_item(const char *id, const char *app_id, const char *version, const char *agent_id,
                           const uint16_t *ports, size_t n_ports) {
        json_t *p = json_array();
        for (size_t i = 0; i < n_ports; i++)
                json_array_append_new(p, json_integer(ports[i]));
        return json_pack("[s,s,s,s,o]", id, app_id, version, agent_id, p);
}

json_t *cluster_status_item(const char *id, enum task_state state, int64_t ts_ms, const char *message,
                            int healthy) {
        return json_pack("[s,s,I,s?,o]", id, task_state_to_string(state), (json_int_t)ts_ms, message,
                         healthy < 0 ? json_null() : json_boolean(healthy));
}

json_t *cluster_status_item_health(const char *id, enum task_state state, int64_t ts_ms, const char *message,
                                   int healthy, bool ready, const struct health_result *checks, size_t n) {
        json_t *item = cluster_status_item(id, state, ts_ms, message, healthy);
        json_array_append_new(item, ready ? json_true() : json_null());
        if (checks) {
                json_t *arr = json_array();
                for (size_t k = 0; k < n; k++)
                        json_array_append_new(arr, health_result_to_json(&checks[k]));
                json_array_append_new(item, arr);
        }
        return item;
}
