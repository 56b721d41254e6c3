/* api_apps.c — Marathon's /v2/apps resource: list, create, read, update, delete, versions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/app_text_cache.h"
#include "master/label_selector.h"
#include "master/api_tasks.h"
#include "master/master_internal.h"
#include "model/app.h"
#include "model/task_stats.h"
#include "store/cluster_state.h"
#include "store/deployments.h"

/* Which optional parts of AppInfo a GET embeds (api.md §1.2 `embed`). */
enum embed {
        EMBED_TASKS = 1 << 0,
        EMBED_COUNTS = 1 << 1,
        EMBED_DEPLOYMENTS = 1 << 2,
        EMBED_READINESS = 1 << 3,
        EMBED_LAST_FAILURE = 1 << 4,
        EMBED_TASK_STATS = 1 << 5,
};

static const struct {
        const char *name;
        unsigned bits;
} embed_names[] = {
        { "tasks", EMBED_TASKS | EMBED_DEPLOYMENTS },
        { "counts", EMBED_COUNTS },
        { "deployments", EMBED_DEPLOYMENTS },
        { "readiness", EMBED_READINESS },
        { "lastTaskFailure", EMBED_LAST_FAILURE },
        { "taskStats", EMBED_TASK_STATS },
        { "failures", EMBED_TASKS | EMBED_LAST_FAILURE | EMBED_DEPLOYMENTS },
};

static void embed_one(const char *value, void *data) {
        unsigned *bits = data;
        static const char *const prefixes[] = { "group.apps.", "apps.", "app." };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (strncmp(value, prefixes[i], strlen(prefixes[i])) == 0) {
                        value += strlen(prefixes[i]);
                        break;
                }
        for (size_t i = 0; i < ELEMENTSOF(embed_names); i++)
                if (streq(value, embed_names[i].name))
                        *bits |= embed_names[i].bits;
}

static unsigned parse_embed(struct api_call *call) {
        unsigned bits = 0;
        http_request_args_foreach(call->req, "embed", embed_one, &bits);
        return bits;
}

struct counts_ctx {
        const struct state *st;
        json_int_t staged, running, healthy, unhealthy;
        json_t *tasks; /* NULL unless embedded */
        json_t *readiness; /* readinessCheckResults; NULL unless embedded */
        const char *readiness_name;
        bool has_health;
        struct task_stat *stats; /* placed tasks for tasksStats; NULL unless embedded */
        size_t n_stats, cap_stats;
        int64_t now_ms;
};

/* One placed task as Marathon's TaskForStatistics counts it, with the counts' own rules. */
static void add_task_stat(struct counts_ctx *c, const struct instance *i) {
        if (!i->agent_id)
                return; /* Marathon: a scheduled instance without a task is no statistic */
        if (c->n_stats == c->cap_stats) {
                c->cap_stats = c->cap_stats ? 2 * c->cap_stats : 8;
                c->stats = xrealloc(c->stats, c->cap_stats * sizeof *c->stats);
        }
        c->stats[c->n_stats++] = (struct task_stat){
                .version = i->version,
                .staging = i->state == TASK_STAGING || i->state == TASK_STARTING,
                .running = i->state == TASK_RUNNING,
                .healthy = c->has_health && i->has_health && i->healthy,
                .unhealthy = c->has_health && i->has_health && !i->healthy,
                .life_s = i->started_at > 0 ? (double)(c->now_ms - i->started_at) / 1000.0 : -1,
        };
}

static int count_instance(const struct instance *i, void *data) {
        struct counts_ctx *c = data;
        if (task_state_is_terminal((enum task_state)i->state))
                return 0;
        if (i->state == TASK_STAGING || i->state == TASK_STARTING)
                c->staged++;
        else if (i->state == TASK_RUNNING)
                c->running++;
        if (c->has_health && i->has_health) {
                if (i->healthy)
                        c->healthy++;
                else
                        c->unhealthy++;
        }
        if (c->tasks)
                json_array_append_new(c->tasks, task_to_json(c->st, i, false));
        if (c->now_ms)
                add_task_stat(c, i);
        /* Strata lists the readiness of every running task of an app with a readiness check
         * (Marathon lists the tasks of deployments in progress; ours complete at once). No
         * lastResponse: Strata keeps none (preserveLastResponse), and Marathon omits it then. */
        if (c->readiness && c->readiness_name && i->state == TASK_RUNNING)
                json_array_append_new(c->readiness, json_pack("{s:s,s:s,s:b}", "name", c->readiness_name, "taskId",
                                                              i->id, "ready", i->ready));
        return 0;
}

/* The status fields AppInfo adds to the canonical definition (counts, deployments, embeds). A
 * write's reply names the deployment it opened (deployment_id); otherwise the app's lock. */
static json_t *app_status(const struct state *st, const json_t *app, unsigned embed, const char *deployment_id) {
        json_t *info = json_object();
        const char *id = json_string_value(json_object_get(app, "id"));
        struct counts_ctx c = { .st = st, .tasks = (embed & EMBED_TASKS) ? json_array() : NULL,
                                .readiness = (embed & EMBED_READINESS) ? json_array() : NULL,
                                .readiness_name = json_string_value(json_object_get(
                                        json_array_get(json_object_get(app, "readinessChecks"), 0), "name")),
                                .has_health = json_array_size(json_object_get(app, "healthChecks")) > 0,
                                .now_ms = (embed & EMBED_TASK_STATS) ? time_now_ms() : 0 };
        state_app_instances_foreach(st, id, count_instance, &c);
        json_object_set_new(info, "tasksStaged", json_integer(c.staged));
        json_object_set_new(info, "tasksRunning", json_integer(c.running));
        json_object_set_new(info, "tasksHealthy", json_integer(c.healthy));
        json_object_set_new(info, "tasksUnhealthy", json_integer(c.unhealthy));
        json_t *deps = json_array();
        if (!deployment_id)
                deployment_id = state_app_deployment(st, id);
        if (deployment_id)
                json_array_append_new(deps, json_pack("{s:s}", "id", deployment_id));
        json_object_set_new(info, "deployments", deps);
        if (c.tasks)
                json_object_set_new(info, "tasks", c.tasks);
        if (c.readiness)
                json_object_set_new(info, "readinessCheckResults", c.readiness);
        if (embed & EMBED_TASK_STATS) {
                const json_t *vi = json_object_get(app, "versionInfo");
                json_object_set_new(info, "tasksStats",
                                    task_stats_json(c.stats, c.n_stats,
                                                    json_string_value(json_object_get(vi, "lastScalingAt")),
                                                    json_string_value(json_object_get(vi, "lastConfigChangeAt"))));
                free(c.stats);
        }
        if (embed & EMBED_LAST_FAILURE) {
                const json_t *f = state_app_last_failure(st, id);
                if (f)
                        json_object_set(info, "lastTaskFailure", (json_t *)f);
        }
        return info;
}

/* AppInfo: the canonical definition plus the status of its instances. */
static json_t *app_info(const struct state *st, const json_t *app, unsigned embed, const char *deployment_id) {
        json_t *info = json_deep_copy(app);
        json_t *status = app_status(st, app, embed, deployment_id);
        json_object_update(info, status);
        json_decref(status);
        return info;
}

unsigned api_apps_embed(struct api_call *call) {
        return parse_embed(call);
}

json_t *api_app_info_embedded(const struct state *st, const json_t *app, unsigned embed) {
        if (!embed)
                return json_deep_copy(app);
        json_t *info = app_info(st, app, embed, state_app_deployment(st, json_string_value(json_object_get(app, "id"))));
        if (!(embed & EMBED_COUNTS)) {
                static const char *const counts[] = { "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy" };
                for (size_t i = 0; i < ELEMENTSOF(counts); i++)
                        json_object_del(info, counts[i]);
        }
        if (!(embed & EMBED_DEPLOYMENTS))
                json_object_del(info, "deployments");
        return info;
}

/* Semantic and type errors from the model are both 422 on the API (api.md §1.4). */
static void reply_invalid(struct api_call *call, struct err *err) {
        if (err->code == -ERR_BAD_JSON)
                err->code = -ERR_INVALID;
        api_reply_err(call, err);
}

static void now_ts(char buf[static 25]) {
        time_format_ms(time_now_ms(), buf);
}

/* One app of a list: its document (a reference), its cached encoding or the one the worker makes,
 * and its status members (text on the loop for the plain list, a JSON object with embeds). */
struct list_item {
        json_t *app;
        struct app_text *text; /* from the cache, or NULL: the worker encodes */
        bool fresh;            /* text was made by the worker: offer it to the cache */
        json_t *status;        /* with embeds: the status object; otherwise NULL */
        size_t st_off, st_len; /* without embeds: the members in list_work.status_sb */
};

/* GET /v2/apps can be tens of megabytes: the text is produced in the thread pool (DESIGN §3) so
 * the loop (and Raft's heartbeats) never waits for it. The worker only reads: stored app
 * documents are immutable and held by a reference here, cached texts are held by a reference and
 * never change; the status objects and texts are its own. */
struct list_work {
        uv_work_t req;
        struct api_call *call;
        struct list_item *items;
        size_t n, cap;
        struct strbuf status_sb;
        char *text;
};

struct list_ctx {
        const struct state *st;
        struct app_text_cache *cache;
        struct list_work *w;
        const char *id_filter, *cmd_filter;
        struct label_selector *labels;
        unsigned embed;
};

static bool icontains(const char *hay, const char *needle) {
        return hay && strcasestr(hay, needle) != NULL;
}

/* Embeds that need more than the incrementally kept counts take the JSON tree path. */
#define EMBED_TREE (EMBED_TASKS | EMBED_READINESS | EMBED_LAST_FAILURE | EMBED_TASK_STATS)

/* The status members of app_status() without embeds, written as text: the counts are kept
 * incrementally by the state (no scan of the app's instances) and no tree is built. */
static void status_text(struct strbuf *sb, const struct state *st, const json_t *app, const char *id) {
        struct state_app_counts k;
        state_app_counts(st, id, &k);
        bool has_health = json_array_size(json_object_get(app, "healthChecks")) > 0;
        strbuf_printf(sb, "\"tasksStaged\":%zu,\"tasksRunning\":%zu,\"tasksHealthy\":%zu,\"tasksUnhealthy\":%zu,"
                          "\"deployments\":[",
                      k.staged, k.running, has_health ? k.healthy : 0, has_health ? k.unhealthy : 0);
        const char *dep = state_app_deployment(st, id);
        if (dep) {
                _cleanup_(json_decrefp) json_t *d = json_pack("{s:s}", "id", dep);
                _cleanup_free_ char *t = json_compact(d);
                strbuf_puts(sb, t);
        }
        strbuf_puts(sb, "]");
}

static int list_one(const json_t *app, void *data) {
        struct list_ctx *c = data;
        struct list_work *w = c->w;
        const char *id = json_string_value(json_object_get(app, "id"));
        if (c->id_filter && !icontains(id, c->id_filter))
                return 0;
        if (c->cmd_filter && !icontains(json_string_value(json_object_get(app, "cmd")), c->cmd_filter))
                return 0;
        if (c->labels && !label_selector_match(c->labels, json_object_get(app, "labels")))
                return 0;
        if (!auth_may(w->call, RID_SERVICES, id, PERM_READ)) /* a tenant lists only its own apps */
                return 0;
        if (w->n == w->cap) {
                w->cap = w->cap ? 2 * w->cap : 256;
                w->items = xrealloc(w->items, w->cap * sizeof *w->items);
        }
        struct list_item *it = &w->items[w->n++];
        *it = (struct list_item){ .app = json_incref((json_t *)app) };
        it->text = id ? app_text_cache_lookup(c->cache, id, app) : NULL;
        if (c->embed & EMBED_TREE) {
                it->status = app_status(c->st, app, c->embed, NULL);
        } else {
                it->st_off = w->status_sb.len;
                status_text(&w->status_sb, c->st, app, id);
                it->st_len = w->status_sb.len - it->st_off;
        }
        return 0;
}

/* Appends the members of a compact JSON object's text without its braces. */
static void append_members(struct strbuf *sb, const char *obj, size_t n) {
        if (n > 2)
                strbuf_append(sb, obj + 1, n - 2);
}

static void list_encode(uv_work_t *req) {
        struct list_work *w = req->data;
        struct strbuf sb = { 0 };
        strbuf_puts(&sb, "{\"apps\":[");
        for (size_t i = 0; i < w->n; i++) {
                struct list_item *it = &w->items[i];
                if (!it->text) {
                        it->text = app_text_encode(it->app);
                        it->fresh = true;
                }
                _cleanup_free_ char *owned = it->status ? json_compact(it->status) : NULL;
                const char *status = owned ? owned : w->status_sb.buf + it->st_off;
                size_t status_len = owned ? strlen(owned) : it->st_len;
                if (i)
                        strbuf_puts(&sb, ",");
                strbuf_puts(&sb, "{");
                append_members(&sb, it->text->text, it->text->len);
                /* The tree path's status is an object text ({…}); the plain path's is bare members. */
                if (owned) {
                        if (it->text->len > 2 && status_len > 2)
                                strbuf_puts(&sb, ",");
                        append_members(&sb, status, status_len);
                } else {
                        if (it->text->len > 2 && status_len > 0)
                                strbuf_puts(&sb, ",");
                        strbuf_append(&sb, status, status_len);
                }
                strbuf_puts(&sb, "}");
        }
        strbuf_puts(&sb, "]}");
        w->text = strbuf_steal(&sb);
}

static void list_encoded(uv_work_t *req, int status) {
        struct list_work *w = req->data;
        struct master *m = w->call->m;
        for (size_t i = 0; i < w->n; i++) {
                struct list_item *it = &w->items[i];
                const char *id = json_string_value(json_object_get(it->app, "id"));
                if (it->fresh && id && m->store && m->app_texts)
                        app_text_cache_store(m->app_texts, store_state(m->store), id, it->text);
                app_text_unref(it->text);
                json_decref(it->status);
                json_decref(it->app);
        }
        free(w->items);
        strbuf_release(&w->status_sb);
        api_reply_text(w->call, 200, "application/json", w->text);
        free(w->text);
        free(w);
}

void api_apps_list(struct api_call *call) {
        struct list_ctx c = {
                .st = store_state(call->m->store),
                .id_filter = http_request_arg(call->req, "id"),
                .cmd_filter = http_request_arg(call->req, "cmd"),
                .embed = parse_embed(call),
        };
        const char *label = http_request_arg(call->req, "label");
        if (label && *label) {
                struct err e = { 0 };
                if (label_selector_parse(label, &c.labels, &e) < 0) {
                        api_reply_error(call, 400, "%s", err_msg(&e));
                        err_release(&e);
                        return;
                }
        }
        if (!call->m->app_texts)
                call->m->app_texts = app_text_cache_new();
        c.cache = call->m->app_texts;
        struct list_work *w = xcalloc(1, sizeof *w);
        w->req.data = w;
        w->call = call;
        c.w = w;
        state_apps_foreach(c.st, list_one, &c);
        label_selector_free(c.labels);
        uv_queue_work(call->m->loop, &w->req, list_encode, list_encoded);
}

void api_app_get(struct api_call *call) {
        const json_t *app = state_app_get(store_state(call->m->store), call->id);
        if (!app) {
                api_reply_error(call, 404, "App '%s' does not exist", call->id);
                return;
        }
        /* Marathon always embeds counts, tasks, lastTaskFailure and deployments here. */
        unsigned embed = parse_embed(call) | EMBED_TASKS | EMBED_COUNTS | EMBED_DEPLOYMENTS | EMBED_LAST_FAILURE;
        api_reply_json(call, 200, json_pack("{s:o}", "app", app_info(store_state(call->m->store), app, embed, NULL)));
}

void api_app_versions(struct api_call *call) {
        struct state *st = store_state(call->m->store);
        if (streq(call->sub, "versions")) {
                json_t *versions = state_app_versions(st, call->id);
                if (!versions) {
                        api_reply_error(call, 404, "App '%s' does not exist", call->id);
                        return;
                }
                api_reply_json(call, 200, json_pack("{s:o}", "versions", versions));
                return;
        }
        const char *ts = call->sub + strlen("versions/");
        int64_t ms;
        char norm[25];
        if (time_parse_iso(ts, &ms) < 0) {
                api_reply_error(call, 400, "Invalid version '%s': expected an ISO-8601 timestamp", ts);
                return;
        }
        time_format_ms(ms, norm);
        const json_t *app = state_app_at_version(st, call->id, norm);
        if (!app) {
                if (!state_app_get(st, call->id))
                        api_reply_error(call, 404, "App '%s' does not exist", call->id);
                else
                        api_reply_error(call, 404, "App '%s' does not exist in version %s", call->id, ts);
                return;
        }
        api_reply_json(call, 200, json_deep_copy(app));
}

/* --- writes ------------------------------------------------------------------------------- */

/* A write in flight: the command's outcome decides the reply. */
struct write_ctx {
        struct api_call *call;
        char deployment[37];
        char ts[25];
        int kind; /* WRITE_CREATE, WRITE_UPDATE, WRITE_DELETE */
};

enum { WRITE_CREATE, WRITE_UPDATE, WRITE_DELETE };

static void set_deployment_headers(struct api_call *call, const char *deployment, const char *location_id,
                                   bool created) {
        http_request_add_header(call->req, "Marathon-Deployment-Id", deployment);
        if (created) {
                _cleanup_free_ char *loc = xasprintf("/v2/apps%s", location_id);
                http_request_add_header(call->req, "Location", loc);
        }
}

/* The group an app belongs to: "/prod/web" → "/prod", "/web" → "/". */
static char *parent_group(const char *app_id) {
        const char *slash = strrchr(app_id, '/');
        return slash && slash != app_id ? xstrndup(app_id, (size_t)(slash - app_id)) : xstrdup("/");
}

/* What Marathon publishes for a committed app create/update (api.md §4.2): api_post_event with
 * the app as stored, then group_change_success for its group. */
static void emit_app_written(struct api_call *call, json_t *app) {
        struct events *ev = call->m->events;
        const char *id = json_string_value(json_object_get(app, "id"));
        const char *version = json_string_value(json_object_get(app, "version"));
        if (!id || !version)
                return;
        if (events_wanted(ev, "api_post_event"))
                events_emit(ev, "api_post_event",
                            event_api_post(http_request_peer(call->req), http_request_path(call->req), app));
        if (events_wanted(ev, "group_change_success")) {
                _cleanup_free_ char *group = parent_group(id);
                events_emit(ev, "group_change_success", event_group_change_success(group, version));
        }
}

static void write_done(void *data, int status, json_t *result, struct err *err) {
        struct write_ctx *w = data;
        struct api_call *call = w->call;
        if (status < 0) {
                if (err->code == -ERR_NO_LEADER)
                        log_warn("write to %s failed: %s", call->id ? call->id : "/v2/apps", err_msg(err));
                reply_invalid(call, err);
                free(w);
                return;
        }
        if (w->kind == WRITE_CREATE) {
                emit_app_written(call, result);
                const char *id = json_string_value(json_object_get(result, "id"));
                set_deployment_headers(call, w->deployment, id, true);
                api_reply_json(call, 201, app_info(store_state(call->m->store), result, 0, w->deployment));
        } else if (w->kind == WRITE_DELETE) {
                struct events *ev = call->m->events;
                _cleanup_free_ char *group = parent_group(call->id);
                events_emit(ev, "app_terminated_event", event_app_terminated(call->id));
                if (events_wanted(ev, "group_change_success"))
                        events_emit(ev, "group_change_success", event_group_change_success(group, w->ts));
                set_deployment_headers(call, w->deployment, call->id, false);
                api_reply_json(call, 200, json_pack("{s:s,s:s}", "deploymentId", w->deployment, "version", w->ts));
        } else {
                bool created = json_is_true(json_object_get(result, "created"));
                json_t *app = json_object_get(result, "app");
                if (app)
                        emit_app_written(call, app);
                const char *version = app ? json_string_value(json_object_get(app, "version")) : NULL;
                set_deployment_headers(call, w->deployment, call->id, created);
                api_reply_json(call, created ? 201 : 200,
                               json_pack("{s:s,s:s}", "deploymentId", w->deployment, "version",
                                         version ? version : w->ts));
        }
        free(w);
}

/* ?force=true: the change overrides (cancels) deployments that hold the app (api.md §1.3). */
static json_t *with_force(struct api_call *call, json_t *cmd) {
        if (api_arg_bool(call, "force", false))
                json_object_set_new(cmd, "force", json_true());
        return cmd;
}

static void submit(struct api_call *call, int kind, json_t *cmd, struct write_ctx *w) {
        w->call = call;
        w->kind = kind;
        store_submit(call->m->store, with_force(call, cmd), write_done, w);
}

static struct write_ctx *write_new(void) {
        struct write_ctx *w = xcalloc(1, sizeof *w);
        uuid_random(w->deployment);
        now_ts(w->ts);
        return w;
}

void api_apps_create(struct api_call *call) {
        app_json_drop_nulls(call->body);
        if (!json_is_object(call->body)) {
                api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Invalid JSON", "details",
                                                    "path", "/", "errors", "error.expected.jsobject"));
                return;
        }
        struct err e = { 0 };
        json_t *app = NULL;
        if (app_normalize(call->body, "/", &app, &e) < 0) {
                reply_invalid(call, &e);
                err_release(&e);
                return;
        }
        const char *id = json_string_value(json_object_get(app, "id"));
        if (state_app_get(store_state(call->m->store), id)) {
                api_reply_error(call, 409, "An app with id [%s] already exists.", id);
                json_decref(app);
                return;
        }
        struct write_ctx *w = write_new();
        submit(call, WRITE_CREATE, json_pack("{s:s,s:i,s:o,s:s,s:s}", "type", "app_create", "v", 1, "app", app, "ts",
                                             w->ts, "deploymentId", w->deployment),
               w);
}

/* True if body is a rollback request: only "version" (and optionally "id"). */
static bool is_rollback(const json_t *body) {
        if (!json_is_string(json_object_get(body, "version")))
                return false;
        size_t n = json_object_size(body);
        return n == 1 || (n == 2 && json_object_get(body, "id"));
}

/* Validates an update against the current state (fast 422), then submits it; the state machine
 * applies it again to the state it has at commit time. */
static void app_update(struct api_call *call, const char *id, json_t *body, bool partial, bool create,
                       struct err *e, struct write_ctx *w) {
        const json_t *current = state_app_get(store_state(call->m->store), id);
        if (is_rollback(body)) {
                const char *to = json_string_value(json_object_get(body, "version"));
                int64_t ms;
                char norm[25];
                if (!current) {
                        err_set(e, -ERR_NOT_FOUND, "App '%s' does not exist", id);
                        return;
                }
                if (time_parse_iso(to, &ms) < 0) {
                        err_set(e, -ERR_INVALID, "Invalid version '%s': expected an ISO-8601 timestamp", to);
                        return;
                }
                time_format_ms(ms, norm);
                if (!state_app_at_version(store_state(call->m->store), id, norm)) {
                        err_set(e, -ERR_NOT_FOUND, "App '%s' does not exist in version %s", id, to);
                        return;
                }
                store_submit(call->m->store,
                             with_force(call, json_pack("{s:s,s:i,s:s,s:s,s:s,s:s}", "type", "app_rollback", "v", 1,
                                                        "id", id, "to", norm, "ts", w->ts, "deploymentId",
                                                        w->deployment)),
                             write_done, w);
                return;
        }
        if (json_object_get(body, "version")) {
                /* Marathon: a version is a rollback, never part of an update. */
                err_set(e, -ERR_INVALID, "Object is not valid");
                err_set_details(e, json_pack("[{s:s,s:[s]}]", "path", "/version", "errors",
                                             "The 'version' field may only be combined with the 'id' field."));
                return;
        }
        if (!current && !create) {
                err_set(e, -ERR_NOT_FOUND, "App '%s' does not exist", id);
                return;
        }
        json_t *checked = NULL;
        int r;
        if (current && partial) {
                r = app_apply_update(current, body, &checked, e);
        } else {
                _cleanup_(json_decrefp) json_t *full = json_deep_copy(body);
                json_object_set_new(full, "id", json_string(id));
                r = app_normalize(full, "/", &checked, e);
        }
        if (r < 0)
                return;
        json_decref(checked);
        store_submit(call->m->store,
                     with_force(call, json_pack("{s:s,s:i,s:s,s:O,s:b,s:b,s:s,s:s}", "type", "app_update", "v", 1, "id",
                                                id, "update", body, "partial", partial, "create", create, "ts",
                                                w->ts, "deploymentId", w->deployment)),
                     write_done, w);
}

static void app_write(struct api_call *call, bool partial, bool create) {
        app_json_drop_nulls(call->body);
        if (!json_is_object(call->body)) {
                api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Invalid JSON", "details",
                                                    "path", "/", "errors", "error.expected.jsobject"));
                return;
        }
        struct err e = { 0 };
        _cleanup_free_ char *id = NULL;
        if (app_id_resolve(call->id, "/", &id, &e) < 0) {
                reply_invalid(call, &e);
                err_release(&e);
                return;
        }
        struct write_ctx *w = write_new();
        w->call = call;
        w->kind = WRITE_UPDATE;
        free(call->id);
        call->id = xstrdup(id);
        app_update(call, id, call->body, partial, create, &e, w);
        if (e.code < 0) {
                free(w);
                reply_invalid(call, &e);
                err_release(&e);
        }
}

void api_app_put(struct api_call *call) {
        app_write(call, api_arg_bool(call, "partialUpdate", true), true);
}

void api_app_patch(struct api_call *call) {
        app_write(call, true, false);
}

void api_app_delete(struct api_call *call) {
        if (!state_app_get(store_state(call->m->store), call->id)) {
                api_reply_error(call, 404, "App '%s' does not exist", call->id);
                return;
        }
        struct write_ctx *w = write_new();
        submit(call, WRITE_DELETE,
               json_pack("{s:s,s:i,s:s,s:s,s:s}", "type", "app_delete", "v", 1, "id", call->id, "deploymentId",
                         w->deployment, "ts", w->ts),
               w);
}

/* POST /v2/apps/{id}/restart: the same definition as a new version, rolled out like any change. */
void api_app_restart(struct api_call *call) {
        if (!state_app_get(store_state(call->m->store), call->id)) {
                api_reply_error(call, 404, "App '%s' does not exist", call->id);
                return;
        }
        struct write_ctx *w = write_new();
        submit(call, WRITE_UPDATE,
               json_pack("{s:s,s:i,s:s,s:s,s:s}", "type", "app_restart", "v", 1, "id", call->id, "deploymentId",
                         w->deployment, "ts", w->ts),
               w);
}

/* --- bulk PUT/PATCH /v2/apps --------------------------------------------------------------- */

/* Marathon applies a bulk update as one deployment; here every app is one command in the same
 * Raft entry (submitted in one loop turn). Each app is validated before anything is submitted,
 * so an invalid element changes nothing. */
struct bulk_ctx {
        struct api_call *call;
        size_t pending;
        struct err first;
        char deployment[37];
        char ts[25];
};

static void bulk_done(void *data, int status, json_t *result, struct err *err) {
        struct bulk_ctx *b = data;
        if (status < 0 && b->first.code == 0) {
                b->first.code = err->code;
                b->first.msg = xstrdup(err_msg(err));
                if (err->details)
                        b->first.details = json_incref(err->details);
        }
        json_t *app = status >= 0 ? json_object_get(result, "app") : NULL;
        if (app)
                emit_app_written(b->call, app);
        if (--b->pending > 0)
                return;
        struct api_call *call = b->call;
        if (b->first.code < 0) {
                reply_invalid(call, &b->first);
        } else {
                http_request_add_header(call->req, "Marathon-Deployment-Id", b->deployment);
                api_reply_json(call, 200, json_pack("{s:s,s:s}", "deploymentId", b->deployment, "version", b->ts));
        }
        err_release(&b->first);
        free(b);
}

static void prefix_details(struct err *e, size_t index) {
        json_t *d;
        size_t i;
        if (!json_is_array(e->details))
                return;
        json_array_foreach(e->details, i, d) {
                const char *p = json_string_value(json_object_get(d, "path"));
                _cleanup_free_ char *np = xasprintf("/(%zu)%s", index, p && !streq(p, "/") ? p : "");
                json_object_set_new(d, "path", json_string(np));
        }
}

void api_apps_bulk_update(struct api_call *call) {
        bool patch = streq(http_request_method(call->req), "PATCH");
        bool partial = patch || api_arg_bool(call, "partialUpdate", true);
        app_json_drop_nulls(call->body);
        if (!json_is_array(call->body)) {
                api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Invalid JSON", "details",
                                                    "path", "/", "errors", "error.expected.jsarray"));
                return;
        }
        if (json_array_size(call->body) > 1000) {
                api_reply_error(call, 413, "A bulk update may change at most 1000 apps");
                return;
        }
        struct state *st = store_state(call->m->store);
        json_t *cmds = json_array();
        struct bulk_ctx *b = xcalloc(1, sizeof *b);
        b->call = call;
        uuid_random(b->deployment);
        now_ts(b->ts);
        size_t i;
        json_t *el;
        struct err e = { 0 };
        json_array_foreach(call->body, i, el) {
                const char *raw = json_string_value(json_object_get(el, "id"));
                _cleanup_free_ char *id = NULL;
                if (!json_is_object(el) || !raw) {
                        err_set(&e, -ERR_INVALID, "Object is not valid");
                        err_set_details(&e, json_pack("[{s:s,s:[s]}]", "path", "/id", "errors",
                                                      "error.path.missing"));
                        prefix_details(&e, i);
                        break;
                }
                if (app_id_resolve(raw, "/", &id, &e) < 0) {
                        prefix_details(&e, i);
                        break;
                }
                const json_t *current = state_app_get(st, id);
                if (!current && patch) {
                        err_set(&e, -ERR_NOT_FOUND, "App '%s' does not exist", id);
                        break;
                }
                json_t *checked = NULL;
                int r = current && partial ? app_apply_update(current, el, &checked, &e)
                                           : app_normalize(el, "/", &checked, &e);
                if (r < 0) {
                        prefix_details(&e, i);
                        break;
                }
                json_decref(checked);
                json_array_append_new(cmds, json_pack("{s:s,s:i,s:s,s:O,s:b,s:b,s:s,s:s}", "type", "app_update", "v",
                                                      1, "id", id, "update", el, "partial", partial, "create", !patch,
                                                      "ts", b->ts, "deploymentId", b->deployment));
        }
        if (e.code < 0) {
                json_decref(cmds);
                free(b);
                reply_invalid(call, &e);
                err_release(&e);
                return;
        }
        b->pending = json_array_size(cmds);
        if (b->pending == 0) {
                json_decref(cmds);
                http_request_add_header(call->req, "Marathon-Deployment-Id", b->deployment);
                api_reply_json(call, 200, json_pack("{s:s,s:s}", "deploymentId", b->deployment, "version", b->ts));
                free(b);
                return;
        }
        json_array_foreach(cmds, i, el)
                store_submit(call->m->store, with_force(call, json_incref(el)), bulk_done, b);
        json_decref(cmds);
}
