/* state.c — the replicated state in memory: apps with their version history (hashed by id,
 * listed in creation order), the service-port index and the masters registry. */
#include "store/state.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/timeutil.h"
#include "model/app.h"
#include "store/cluster_internal.h"
#include "store/state_internal.h"
#include "store/deployments.h"
#include "store/groups.h"
#include "store/auth_store.h"
#include "store/jobs.h"
#include "store/vips.h"

struct state_app {
        char *id;
        uint64_t hash;
        json_t *versions[APP_MAX_VERSIONS]; /* oldest first; versions[n_versions - 1] is current */
        size_t n_versions;
        int64_t version_ms;            /* of the current document */
        struct state_app *prev, *next; /* creation order */
        struct state_app *chain;       /* hash bucket */
};

struct state {
        struct state_app **buckets;
        size_t n_buckets; /* a power of two */
        size_t n_apps;
        struct state_app *first, *last;
        /* Service-port index: how many current app documents hold each port (0..65535). */
        uint16_t port_refs[65536];
        struct state_master *masters;
        size_t n_masters;
        struct cluster cluster; /* agents and instances (cluster_state.c) */
        /* Groups implied by app ids: "/a/b" → how many apps live under it (owned keys). */
        struct hashmap groups;
        struct deployments deployments; /* deployments.c */
        struct group_records group_records; /* groups.c: explicit groups and root versions */
        struct auth_records auth;           /* auth_store.c: users, grants, token key */
        struct job_records jobs;            /* jobs.c: Metronome jobs, schedules, runs */
        struct vip_records vips;            /* vips.c: named VIP addresses */
};

struct auth_records *state_auth_records(struct state *s) {
        return &s->auth;
}

struct job_records *state_job_records(struct state *s) {
        return &s->jobs;
}

const struct job_records *state_job_records_const(const struct state *s) {
        return &s->jobs;
}

struct vip_records *state_vip_records(struct state *s) {
        return &s->vips;
}

const json_t *state_vip_names(const struct state *s) {
        return s->vips.names;
}

struct group_records *state_group_records(struct state *s) {
        return &s->group_records;
}

const struct group_records *state_group_records_const(const struct state *s) {
        return &s->group_records;
}

struct deployments *state_deployments(struct state *s) {
        return &s->deployments;
}

const struct deployments *state_deployments_const(const struct state *s) {
        return &s->deployments;
}

/* Adds delta to the count of every group that contains app id ("/a/b/c" → "/a", "/a/b"). */
static void groups_adjust(struct state *s, const char *id, int delta) {
        for (const char *p = strchr(id + 1, '/'); p; p = strchr(p + 1, '/')) {
                _cleanup_free_ char *g = xstrndup(id, (size_t)(p - id));
                uintptr_t n = (uintptr_t)hashmap_get(&s->groups, g);
                if (delta > 0) {
                        if (n == 0)
                                hashmap_put(&s->groups, TAKE_PTR(g), (void *)(uintptr_t)1);
                        else
                                hashmap_put(&s->groups, g, (void *)(n + 1));
                } else if (n == 1) {
                        const char *key = NULL;
                        size_t pos = 0;
                        void *v;
                        /* Free the owned key: find it (the map borrows keys). */
                        while (hashmap_next(&s->groups, &pos, &key, &v))
                                if (streq(key, g))
                                        break;
                        hashmap_remove(&s->groups, g);
                        free((char *)key);
                } else if (n > 1) {
                        hashmap_put(&s->groups, g, (void *)(n - 1));
                }
        }
}

static void groups_clear(struct state *s) {
        const char *key;
        size_t pos = 0;
        while (hashmap_next(&s->groups, &pos, &key, NULL))
                free((char *)key);
        hashmap_release(&s->groups);
        hashmap_init(&s->groups);
}

bool state_group_exists(const struct state *s, const char *path) {
        return hashmap_get(&s->groups, path) != NULL || json_object_get(s->group_records.records, path) != NULL;
}

struct state *state_new(void) {
        struct state *s = xcalloc(1, sizeof *s);
        hashmap_init(&s->groups);
        deployments_init(&s->deployments);
        s->n_buckets = 64;
        s->buckets = xcalloc(s->n_buckets, sizeof *s->buckets);
        cluster_init(&s->cluster);
        group_records_init(&s->group_records);
        auth_records_init(&s->auth);
        job_records_init(&s->jobs);
        vip_records_init(&s->vips);
        return s;
}

struct cluster *state_cluster(const struct state *s) {
        /* The cluster part is mutated through handlers that hold a non-const state; readers get
         * const access through the public functions. */
        return (struct cluster *)&s->cluster;
}

static void app_free(struct state_app *a) {
        for (size_t i = 0; i < a->n_versions; i++)
                json_decref(a->versions[i]);
        free(a->id);
        free(a);
}

static void masters_clear(struct state *s) {
        for (size_t i = 0; i < s->n_masters; i++) {
                free(s->masters[i].raft_addr);
                free(s->masters[i].http_addr);
        }
        free(s->masters);
        s->masters = NULL;
        s->n_masters = 0;
}

void state_clear(struct state *s) {
        struct state_app *a = s->first;
        while (a) {
                struct state_app *next = a->next;
                app_free(a);
                a = next;
        }
        memset(s->buckets, 0, s->n_buckets * sizeof *s->buckets);
        s->first = s->last = NULL;
        s->n_apps = 0;
        memset(s->port_refs, 0, sizeof s->port_refs);
        groups_clear(s);
        masters_clear(s);
        json_object_clear(s->deployments.records);
        json_object_clear(s->deployments.by_app);
        json_object_clear(s->group_records.records);
        json_array_clear(s->group_records.history);
        json_object_clear(s->jobs.records);
        json_object_clear(s->vips.names);
        json_object_clear(s->vips.ips);
        cluster_release(&s->cluster);
        auth_records_from_json(&s->auth, NULL, NULL);
}

void state_free(struct state *s) {
        if (!s)
                return;
        state_clear(s);
        deployments_release(&s->deployments);
        group_records_release(&s->group_records);
        auth_records_release(&s->auth);
        job_records_release(&s->jobs);
        vip_records_release(&s->vips);
        free(s->buckets);
        free(s);
}

static struct state_app *lookup(const struct state *s, const char *id) {
        if (!id)
                return NULL;
        uint64_t h = hash_string(id);
        for (struct state_app *a = s->buckets[h & (s->n_buckets - 1)]; a; a = a->chain)
                if (a->hash == h && streq(a->id, id))
                        return a;
        return NULL;
}

static void rehash(struct state *s) {
        size_t n = s->n_buckets * 2;
        struct state_app **b = xcalloc(n, sizeof *b);
        for (struct state_app *a = s->first; a; a = a->next) {
                size_t i = a->hash & (n - 1);
                a->chain = b[i];
                b[i] = a;
        }
        free(s->buckets);
        s->buckets = b;
        s->n_buckets = n;
}

static const json_t *current(const struct state_app *a) {
        return a->versions[a->n_versions - 1];
}

const json_t *state_app_get(const struct state *s, const char *id) {
        struct state_app *a = lookup(s, id);
        return a ? current(a) : NULL;
}

size_t state_app_count(const struct state *s) {
        return s->n_apps;
}

int state_apps_foreach(const struct state *s, int (*cb)(const json_t *app, void *data), void *data) {
        for (struct state_app *a = s->first; a; a = a->next) {
                int r = cb(current(a), data);
                if (r != 0)
                        return r;
        }
        return 0;
}

json_t *state_app_versions(const struct state *s, const char *id) {
        struct state_app *a = lookup(s, id);
        if (!a)
                return NULL;
        json_t *arr = json_array();
        for (size_t i = a->n_versions; i > 0; i--)
                json_array_append(arr, json_object_get(a->versions[i - 1], "version"));
        return arr;
}

const json_t *state_app_at_version(const struct state *s, const char *id, const char *ts) {
        struct state_app *a = lookup(s, id);
        if (!a || !ts)
                return NULL;
        /* Compare instants, so "…51.164Z" and "…51.164+00:00" name the same version. */
        int64_t want;
        bool parsed = time_parse_iso(ts, &want) == 0;
        for (size_t i = a->n_versions; i > 0; i--) {
                const char *v = json_string_value(json_object_get(a->versions[i - 1], "version"));
                int64_t ms;
                if (!v)
                        continue;
                if (streq(v, ts) || (parsed && time_parse_iso(v, &ms) == 0 && ms == want))
                        return a->versions[i - 1];
        }
        return NULL;
}

int64_t state_app_version_ms(const struct state *s, const char *id) {
        struct state_app *a = lookup(s, id);
        return a ? a->version_ms : -1;
}

bool state_port_taken(const struct state *s, int port) {
        return port > 0 && port < 65536 && s->port_refs[port] > 0;
}

static void port_take(int port, void *data) {
        struct state *s = data;
        if (port > 0 && port < 65536 && s->port_refs[port] < UINT16_MAX)
                s->port_refs[port]++;
}

static void port_release(int port, void *data) {
        struct state *s = data;
        if (port > 0 && port < 65536 && s->port_refs[port] > 0)
                s->port_refs[port]--;
}

void state_app_push(struct state *s, json_t *doc) {
        const char *id = json_string_value(json_object_get(doc, "id"));
        struct state_app *a = lookup(s, id);
        if (!a) {
                if (s->n_apps + 1 > s->n_buckets)
                        rehash(s);
                a = xcalloc(1, sizeof *a);
                a->id = xstrdup(id);
                a->hash = hash_string(a->id);
                size_t i = a->hash & (s->n_buckets - 1);
                a->chain = s->buckets[i];
                s->buckets[i] = a;
                a->prev = s->last;
                if (s->last)
                        s->last->next = a;
                else
                        s->first = a;
                s->last = a;
                s->n_apps++;
                groups_adjust(s, a->id, +1);
        } else {
                app_service_ports_foreach(current(a), port_release, s);
        }
        if (a->n_versions == APP_MAX_VERSIONS) {
                json_decref(a->versions[0]);
                memmove(a->versions, a->versions + 1, (APP_MAX_VERSIONS - 1) * sizeof a->versions[0]);
                a->n_versions--;
        }
        a->versions[a->n_versions++] = doc;
        app_service_ports_foreach(doc, port_take, s);
        int64_t ms;
        a->version_ms =
                time_parse_iso(json_string_value(json_object_get(doc, "version")) ?: "", &ms) == 0 ? ms : -1;
}

bool state_app_remove(struct state *s, const char *id) {
        struct state_app *a = lookup(s, id);
        if (!a)
                return false;
        app_service_ports_foreach(current(a), port_release, s);
        struct state_app **pp = &s->buckets[a->hash & (s->n_buckets - 1)];
        while (*pp != a)
                pp = &(*pp)->chain;
        *pp = a->chain;
        if (a->prev)
                a->prev->next = a->next;
        else
                s->first = a->next;
        if (a->next)
                a->next->prev = a->prev;
        else
                s->last = a->prev;
        s->n_apps--;
        groups_adjust(s, a->id, -1);
        app_free(a);
        return true;
}

const struct state_master *state_master_by_raft_addr(const struct state *s, const char *raft_addr) {
        if (!raft_addr)
                return NULL;
        for (size_t i = 0; i < s->n_masters; i++)
                if (s->masters[i].raft_addr && streq(s->masters[i].raft_addr, raft_addr))
                        return &s->masters[i];
        return NULL;
}

const struct state_master *state_master_by_id(const struct state *s, uint64_t raft_id) {
        for (size_t i = 0; i < s->n_masters; i++)
                if (s->masters[i].raft_id == raft_id)
                        return &s->masters[i];
        return NULL;
}

size_t state_master_count(const struct state *s) {
        return s->n_masters;
}

const struct state_master *state_master_at(const struct state *s, size_t i) {
        return i < s->n_masters ? &s->masters[i] : NULL;
}

void state_master_set(struct state *s, uint64_t raft_id, const char *raft_addr, const char *http_addr) {
        struct state_master *m = (struct state_master *)state_master_by_id(s, raft_id);
        if (!m) {
                s->masters = xrealloc(s->masters, (s->n_masters + 1) * sizeof *s->masters);
                m = &s->masters[s->n_masters++];
                *m = (struct state_master){.raft_id = raft_id};
        }
        free(m->raft_addr);
        free(m->http_addr);
        m->raft_addr = raft_addr ? xstrdup(raft_addr) : NULL;
        m->http_addr = http_addr ? xstrdup(http_addr) : NULL;
}

/* Snapshot encoding (the "state" member of a snapshot):
 * | key     | value                                                                   |
 * | apps    | [{"id": "/x", "versions": [canonical doc, …]}] in creation order, oldest version first |
 * | masters | [{"raft_id": N, "raft_addr": "h:p", "http_addr": "h:p"}]                   |
 * | cluster, agents, instance_apps | agents and instances (cluster_json.c); absent in old snapshots |
 * | deployments | deployment records (deployments.c); absent in old snapshots                  |
 * | groups  | {"records", "history"} (groups.c); absent in old snapshots                   |
 * | auth    | users, groups, grants, token key (auth_store.h); absent in old snapshots      |
 * | jobs    | {job id: record} (jobs.c); absent in old snapshots                           |
 * | vips    | {"names": {name: ip}} (vips.c); absent in old snapshots                      |
 */
static json_t *to_json(const struct state *s, bool with_instances) {
        json_t *apps = json_array();
        for (struct state_app *a = s->first; a; a = a->next) {
                json_t *versions = json_array();
                for (size_t i = 0; i < a->n_versions; i++)
                        json_array_append(versions, a->versions[i]);
                json_array_append_new(apps, json_pack("{s:s,s:o}", "id", a->id, "versions", versions));
        }
        json_t *masters = json_array();
        for (size_t i = 0; i < s->n_masters; i++) {
                const struct state_master *m = &s->masters[i];
                json_t *o = json_pack("{s:I}", "raft_id", (json_int_t)m->raft_id);
                if (m->raft_addr)
                        json_object_set_new(o, "raft_addr", json_string(m->raft_addr));
                if (m->http_addr)
                        json_object_set_new(o, "http_addr", json_string(m->http_addr));
                json_array_append_new(masters, o);
        }
        json_t *doc = json_pack("{s:o,s:o,s:o}", "apps", apps, "masters", masters, "deployments",
                                deployments_to_json(&s->deployments));
        json_object_set_new(doc, "groups", group_records_to_json(&s->group_records));
        json_object_set_new(doc, "auth", auth_records_to_json(&s->auth));
        json_object_set_new(doc, "jobs", job_records_to_json(&s->jobs));
        json_object_set_new(doc, "vips", vip_records_to_json(&s->vips));
        cluster_to_json(&s->cluster, doc, with_instances);
        return doc;
}

json_t *state_to_json(const struct state *s) {
        return to_json(s, true);
}

json_t *state_to_json_head(const struct state *s) {
        return to_json(s, false);
}

/* Checks the whole document before touching s, so a bad snapshot leaves the state as it was. */
static int check_doc(const json_t *doc, struct err *err) {
        json_t *apps = json_object_get(doc, "apps"), *masters = json_object_get(doc, "masters");
        size_t i, j;
        json_t *a, *v, *m;
        if (!json_is_object(doc) || (apps && !json_is_array(apps)) || (masters && !json_is_array(masters)))
                return err_set(err, -EINVAL, "state: expected {\"apps\": [...], \"masters\": [...]}");
        json_array_foreach(apps, i, a) {
                const char *id = json_string_value(json_object_get(a, "id"));
                json_t *versions = json_object_get(a, "versions");
                if (!id || !json_is_array(versions) || json_array_size(versions) == 0)
                        return err_set(err, -EINVAL, "state: apps[%zu]: expected id and versions", i);
                json_array_foreach(versions, j, v) {
                        const char *vid = json_string_value(json_object_get(v, "id"));
                        if (!vid || !streq(vid, id) || !json_is_string(json_object_get(v, "version")))
                                return err_set(err, -EINVAL, "state: apps[%zu] ('%s'): version %zu malformed",
                                               i, id, j);
                }
        }
        json_array_foreach(masters, i, m) {
                if (!json_is_integer(json_object_get(m, "raft_id")))
                        return err_set(err, -EINVAL, "state: masters[%zu]: expected raft_id", i);
        }
        return 0;
}

int state_from_json(struct state *s, const json_t *doc, struct err *err) {
        return state_from_json_ext(s, doc, NULL, NULL, err);
}

int state_from_json_ext(struct state *s, const json_t *doc,
                        int (*load_more)(struct cluster *c, void *data, struct err *err), void *data,
                        struct err *err) {
        int r = check_doc(doc, err);
        if (r < 0)
                return r;
        struct cluster cl;
        cluster_init(&cl);
        r = cluster_from_json(&cl, doc, err);
        if (r < 0)
                return r;
        if (load_more) {
                r = load_more(&cl, data, err);
                if (r < 0) {
                        cluster_release(&cl);
                        return r;
                }
        }
        struct deployments deps;
        deployments_init(&deps);
        r = deployments_from_json(&deps, json_object_get(doc, "deployments"), err);
        if (r < 0) {
                deployments_release(&deps);
                cluster_release(&cl);
                return r;
        }
        struct group_records grp;
        group_records_init(&grp);
        r = group_records_from_json(&grp, json_object_get(doc, "groups"), err);
        struct job_records jobs;
        job_records_init(&jobs);
        if (r >= 0)
                r = job_records_from_json(&jobs, json_object_get(doc, "jobs"), err);
        if (r < 0) {
                job_records_release(&jobs);
                group_records_release(&grp);
                deployments_release(&deps);
                cluster_release(&cl);
                return r;
        }
        struct vip_records vips;
        vip_records_init(&vips);
        if (r >= 0 && (r = vip_records_from_json(&vips, json_object_get(doc, "vips"), err)) < 0) {
                vip_records_release(&vips);
                job_records_release(&jobs);
                group_records_release(&grp);
                deployments_release(&deps);
                cluster_release(&cl);
                return r;
        }
        struct auth_records auth;
        auth_records_init(&auth);
        r = auth_records_from_json(&auth, json_object_get(doc, "auth"), err);
        if (r < 0) {
                vip_records_release(&vips);
                auth_records_release(&auth);
                job_records_release(&jobs);
                group_records_release(&grp);
                deployments_release(&deps);
                cluster_release(&cl);
                return r;
        }
        state_clear(s);
        auth_records_release(&s->auth);
        s->auth = auth;
        deployments_release(&s->deployments);
        s->deployments = deps;
        group_records_release(&s->group_records);
        s->group_records = grp;
        job_records_release(&s->jobs);
        s->jobs = jobs;
        vip_records_release(&s->vips);
        s->vips = vips;
        cluster_move(&s->cluster, &cl);
        size_t i, j;
        json_t *a, *v, *m;
        json_array_foreach(json_object_get(doc, "apps"), i, a) {
                json_t *versions = json_object_get(a, "versions");
                /* A snapshot never holds more than APP_MAX_VERSIONS; keep the newest if one does. */
                size_t n = json_array_size(versions), skip = n > APP_MAX_VERSIONS ? n - APP_MAX_VERSIONS : 0;
                json_array_foreach(versions, j, v) {
                        if (j >= skip)
                                state_app_push(s, json_incref(v));
                }
        }
        json_array_foreach(json_object_get(doc, "masters"), i, m) {
                state_master_set(s, (uint64_t)json_integer_value(json_object_get(m, "raft_id")),
                                 json_string_value(json_object_get(m, "raft_addr")),
                                 json_string_value(json_object_get(m, "http_addr")));
        }
        /* Everything may have changed: the observer hears it once, not per object. */
        if (s->cluster.has_obs && s->cluster.obs.restored)
                s->cluster.obs.restored(s->cluster.obs.data);
        return 0;
}
