/* cli_wait.c — send a change, then follow its deployment to the end (see cli_wait.h). */
#include "cli/cli_wait.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_output.h"
#include "net/sse.h"
#include "common/alloc.h"
#include "common/strbuf.h"

/* Largest event (line or data) read from the stream. */
#define SSE_MAX (1u << 20)
/* The wait gives up when the master has not answered a poll for this long. */
#define POLL_FAILURE_LIMIT_MS 30000

static const char events_path[] = "/v2/events?event_type=deployment_success&event_type=deployment_failed";

const char *cli_deployment_of(const struct http_reply *reply) {
        if (reply->deployment_id && *reply->deployment_id)
                return reply->deployment_id;
        const char *d = str_field(reply->json, "deploymentId");
        if (d)
                return d;
        return str_field(json_array_get(json_object_get(reply->json, "deployments"), 0), "id");
}

/* --- progress: what one poll saw --------------------------------------------------------------- */

void cli_app_progress_from_json(struct cli_app_progress *p, const char *id, const json_t *app) {
        *p = (struct cli_app_progress){ .id = xstrdup(id), .exists = app != NULL };
        if (!app)
                return;
        p->has_health = json_array_size(json_object_get(app, "healthChecks")) > 0;
        p->instances = json_integer_value(json_object_get(app, "instances"));
        p->running = json_integer_value(json_object_get(app, "tasksRunning"));
        p->healthy = json_integer_value(json_object_get(app, "tasksHealthy"));

        /* Versions are Marathon timestamps of one fixed width: they compare as strings. */
        const char *current = str_field(json_object_get(app, "versionInfo"), "lastConfigChangeAt");
        if (!current)
                current = str_field(app, "version");
        size_t i;
        const json_t *task;
        json_array_foreach(json_object_get(app, "tasks"), i, task) {
                const char *version = str_field(task, "version");
                if (current && version && strcmp(version, current) >= 0)
                        p->fresh++;
                else
                        p->old++;
        }
}

bool cli_app_progress_converged(const struct cli_app_progress *p) {
        if (!p->exists)
                return true; /* removed: nothing of it is left to converge */
        if (p->old > 0 || p->running != p->instances)
                return false;
        return !p->has_health || p->healthy == p->instances;
}

void cli_progress_release(struct cli_progress *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_apps; i++)
                free(p->apps[i].id);
        free(p->apps);
        free(p->deployment);
        free(p->actions);
        *p = (struct cli_progress){ 0 };
}

const json_t *cli_progress_find(struct cli_progress *p, const json_t *deployments, const char *id) {
        size_t i;
        const json_t *d, *found = NULL;
        json_array_foreach(deployments, i, d)
                if (streq(str_field(d, "id") ? str_field(d, "id") : "", id))
                        found = d;
        p->listed = found != NULL;
        if (!found)
                return NULL;
        p->step = json_integer_value(json_object_get(found, "currentStep"));
        p->steps = json_integer_value(json_object_get(found, "totalSteps"));
        struct strbuf sb = { 0 };
        const json_t *action;
        json_array_foreach(json_object_get(found, "currentActions"), i, action) {
                const char *name = str_field(action, "action");
                const char *target = str_field(action, "app") ? str_field(action, "app") : str_field(action, "pod");
                strbuf_printf(&sb, "%s%s%s%s", sb.len ? ", " : "", name ? name : "?", target ? " " : "",
                              target ? target : "");
        }
        free(p->actions);
        p->actions = NULL;
        if (sb.len)
                p->actions = strbuf_steal(&sb);
        strbuf_release(&sb);
        return found;
}

bool cli_progress_converged(const struct cli_progress *p) {
        for (size_t i = 0; i < p->n_apps; i++)
                if (!cli_app_progress_converged(&p->apps[i]))
                        return false;
        return true;
}

static void stage_text(struct strbuf *sb, const struct cli_progress *p) {
        if (!p->listed) {
                strbuf_puts(sb, "not in /v2/deployments");
                return;
        }
        strbuf_printf(sb, "step %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT, p->step, p->steps);
        if (p->actions)
                strbuf_printf(sb, " %s", p->actions);
}

char *cli_progress_line(const struct cli_progress *p) {
        struct strbuf sb = { 0 };
        strbuf_printf(&sb, "deployment %s: ", p->deployment);
        stage_text(&sb, p);
        for (size_t i = 0; i < p->n_apps; i++) {
                const struct cli_app_progress *a = &p->apps[i];
                strbuf_printf(&sb, "; %s: ", a->id);
                if (!a->exists) {
                        strbuf_puts(&sb, "removed");
                        continue;
                }
                strbuf_printf(&sb,
                              "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " new, %" JSON_INTEGER_FORMAT
                              " old, %" JSON_INTEGER_FORMAT " running",
                              a->fresh, a->instances, a->old, a->running);
                if (a->has_health)
                        strbuf_printf(&sb, ", %" JSON_INTEGER_FORMAT " healthy", a->healthy);
        }
        return strbuf_steal(&sb);
}

json_t *cli_progress_json(const struct cli_progress *p) {
        json_t *apps = json_array();
        for (size_t i = 0; i < p->n_apps; i++) {
                const struct cli_app_progress *a = &p->apps[i];
                json_array_append_new(apps, json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:o}", "id", a->id, "exists",
                                                      a->exists, "instances", a->instances, "new", a->fresh,
                                                      "old", a->old, "running", a->running, "healthy",
                                                      a->has_health ? json_integer(a->healthy) : json_null()));
        }
        json_t *j = json_pack("{s:s,s:s,s:b}", "type", "progress", "deployment", p->deployment, "listed", p->listed);
        if (p->listed) {
                json_object_set_new(j, "currentStep", json_integer(p->step));
                json_object_set_new(j, "totalSteps", json_integer(p->steps));
                json_object_set_new(j, "currentActions", p->actions ? json_string(p->actions) : json_null());
        }
        json_object_set_new(j, "apps", apps);
        return j;
}

enum cli_wait_outcome cli_wait_decide(const struct cli_wait_state *s) {
        if (s->event > 0)
                return CLI_WAIT_SUCCEEDED;
        if (s->event < 0)
                return CLI_WAIT_FAILED;
        if (!s->listed && s->converged) {
                if (!s->stream)
                        return CLI_WAIT_SUCCEEDED;
                /* The event should have come: a master that sends none for a deployment without
                 * steps must not hold the pipeline until its timeout. */
                if (s->settled_since >= 0 && s->now_ms - s->settled_since >= CLI_WAIT_EVENT_GRACE_MS)
                        return CLI_WAIT_SUCCEEDED;
        }
        if (s->now_ms >= s->deadline_ms)
                return CLI_WAIT_TIMED_OUT;
        return CLI_WAIT_RUNNING;
}

/* --- the watch: event stream, polls, display -------------------------------------------------- */

struct watch {
        struct cli *c;
        const struct cli_stream_ops *ops;
        void *data;
        struct cli_stream *stream; /* NULL: judged from polls alone */
        struct sse_parser sse;
        const char *id;      /* the deployment waited for (borrowed) */
        int event;           /* as cli_wait_state.event */
        char *reason;        /* deployment_failed's reason, owned */
        char *stream_error;  /* why the stream's bytes could not be parsed, owned */
        json_t *apps;        /* ids of the affected apps known so far */
        char *last;          /* the last progress printed (line or JSON), to print changes only */
        size_t drawn;        /* lines of the block drawn last on a terminal */
        int64_t start_ms;
};

static void watch_free(struct watch *w) {
        if (!w)
                return;
        w->ops->close(w->stream);
        sse_parser_release(&w->sse);
        free(w->reason);
        free(w->stream_error);
        json_decref(w->apps);
        free(w->last);
        free(w);
}

DEFINE_POINTER_CLEANUP(struct watch, watch_free)

/* A line for people (table output) or an object (JSON output) outside the progress display. */
static void say(struct watch *w, const char *type, const char *text) {
        if (cli_structured(w->c)) {
                _cleanup_(json_decrefp) json_t *j = json_pack("{s:s,s:s}", "type", type, "message", text);
                _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
                fprintf(w->c->out, "%s\n", s);
        } else {
                fprintf(w->c->out, "%s: %s\n", type, text);
        }
        w->drawn = 0; /* a terminal's block is now above this line: draw the next one below */
        fflush(w->c->out);
}

static void drop_stream(struct watch *w, const char *why) {
        w->ops->close(w->stream);
        w->stream = NULL;
        _cleanup_free_ char *note =
                xasprintf("%s; judging the end from /v2/deployments and the apps' tasks", why);
        say(w, "note", note);
}

/* Subscribes before the change is sent. No stream is not an error: the wait polls instead. */
static struct watch *watch_open(struct cli *c) {
        struct watch *w = xcalloc(1, sizeof *w);
        w->c = c;
        w->ops = c->stream_ops ? c->stream_ops : &cli_stream_ops_curl;
        w->data = c->stream_data;
        w->apps = json_array();
        sse_parser_init(&w->sse, SSE_MAX);
        struct err e = { 0 };
        if (w->ops->open(w->data, &c->http, events_path, &w->stream, &e) < 0) {
                w->stream = NULL;
                _cleanup_free_ char *why = xasprintf("no event stream (%s)", err_msg(&e));
                drop_stream(w, why);
        }
        err_release(&e);
        return w;
}

static void remember_app(struct watch *w, const char *id) {
        size_t i;
        const json_t *known;
        json_array_foreach(w->apps, i, known)
                if (streq(json_string_value(known), id))
                        return;
        json_array_append_new(w->apps, json_string(id));
}

static int on_event(const char *event, const char *data, size_t len, void *userdata) {
        struct watch *w = userdata;
        bool success = streq(event, "deployment_success"), failed = streq(event, "deployment_failed");
        if (!success && !failed)
                return 0;
        _cleanup_(json_decrefp) json_t *j = json_loadb(data, len, 0, NULL);
        const char *id = str_field(j, "id");
        if (!id) /* Marathon always names it; a plan-only shape names it there */
                id = str_field(json_object_get(j, "plan"), "id");
        if (!id || !streq(id, w->id) || w->event)
                return 0;
        w->event = success ? 1 : -1;
        const char *reason = str_field(j, "reason");
        if (reason)
                w->reason = xstrdup(reason);
        return 0;
}

static int on_bytes(const char *data, size_t len, void *userdata) {
        struct watch *w = userdata;
        struct err e = { 0 };
        int r = sse_parser_feed(&w->sse, data, len, on_event, w, &e);
        if (r < 0) {
                free(w->stream_error);
                w->stream_error = xstrdup(err_msg(&e));
        }
        err_release(&e);
        return r;
}

/* Reads the stream until the next poll is due or the outcome is known; without a stream, sleeps. */
static void wait_until(struct watch *w, int64_t due) {
        while (w->stream && !w->event) {
                int64_t now = w->ops->now_ms(w->data);
                if (now >= due)
                        return;
                struct err e = { 0 };
                int r = w->ops->read(w->stream, (int)(due - now), on_bytes, w, &e);
                if (r == 1)
                        drop_stream(w, "the master closed the event stream");
                else if (r < 0) {
                        _cleanup_free_ char *why = xasprintf(
                                "event stream failed (%s)", w->stream_error ? w->stream_error : err_msg(&e));
                        drop_stream(w, why);
                }
                err_release(&e);
        }
        if (w->event)
                return;
        int64_t now = w->ops->now_ms(w->data);
        if (now < due)
                w->ops->sleep_ms(w->data, (int)(due - now));
}

/* The apps of group id and its subgroups (GET /v2/groups/{id}); none when it is gone. */
static int group_apps(struct watch *w, const char *group_id, struct err *err) {
        _cleanup_free_ char *escaped = cli_url_escape(group_id, true);
        _cleanup_free_ char *path = xasprintf("/v2/groups%s", escaped);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&w->c->http, "GET", path, NULL, &reply, err);
        if (r == -ERR_NOT_FOUND)
                return 0;
        if (r < 0)
                return r;
        /* Depth-first over an explicit stack: the nesting is the master's to choose. */
        _cleanup_(json_decrefp) json_t *stack = json_pack("[O]", reply.json);
        while (json_array_size(stack) > 0) {
                json_t *g = json_incref(json_array_get(stack, json_array_size(stack) - 1));
                json_array_remove(stack, json_array_size(stack) - 1);
                size_t i;
                const json_t *x;
                json_array_foreach(json_object_get(g, "apps"), i, x)
                        if (str_field(x, "id"))
                                remember_app(w, str_field(x, "id"));
                json_array_foreach(json_object_get(g, "groups"), i, x)
                        json_array_append(stack, (json_t *)x);
                json_decref(g);
        }
        return 0;
}

/* One poll: the deployment's entry and every affected app. */
static int poll_progress(struct watch *w, struct cli_progress *p, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply list = { 0 };
        int r = cli_http_call(&w->c->http, "GET", "/v2/deployments", NULL, &list, err);
        if (r < 0)
                return r;
        if (!json_is_array(list.json))
                return err_set(err, -EBADMSG, "master sent no deployment array for GET /v2/deployments");

        p->deployment = xstrdup(w->id);
        const json_t *entry = cli_progress_find(p, list.json, w->id);
        size_t i;
        const json_t *app;
        json_array_foreach(json_object_get(entry, "affectedApps"), i, app)
                if (json_is_string(app))
                        remember_app(w, json_string_value(app));

        p->apps = xcalloc(json_array_size(w->apps) + 1, sizeof *p->apps);
        json_array_foreach(w->apps, i, app) {
                const char *id = json_string_value(app);
                _cleanup_free_ char *escaped = cli_url_escape(id, true);
                _cleanup_free_ char *path = xasprintf("/v2/apps%s", escaped);
                _cleanup_(http_reply_release) struct http_reply reply = { 0 };
                r = cli_http_call(&w->c->http, "GET", path, NULL, &reply, err);
                if (r < 0 && r != -ERR_NOT_FOUND)
                        return r;
                const json_t *info = json_object_get(reply.json, "app");
                if (r >= 0 && !json_is_object(info))
                        return err_set(err, -EBADMSG, "master sent no \"app\" object for GET %s", path);
                cli_app_progress_from_json(&p->apps[p->n_apps++], id, r < 0 ? NULL : info);
        }
        return 0;
}

/* A terminal gets the block redrawn in place: header line and one row per app. */
static void draw_block(struct watch *w, const struct cli_progress *p, int64_t now) {
        FILE *f = w->c->out;
        struct strbuf head = { 0 };
        strbuf_printf(&head, "Deployment %s  ", p->deployment);
        stage_text(&head, p);
        strbuf_printf(&head, "  (%" PRId64 " s)", (now - w->start_ms) / 1000);
        _cleanup_free_ char *head_text = strbuf_steal(&head);

        static const char *const headers[] = { "  APP", "NEW", "OLD", "RUNNING", "HEALTHY", "INSTANCES" };
        _cleanup_(cli_table_freep) struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        for (size_t i = 0; i < p->n_apps; i++) {
                const struct cli_app_progress *a = &p->apps[i];
                _cleanup_free_ char *id = xasprintf("  %s", a->id);
                if (!a->exists) {
                        cli_table_add(t, (const char *[]){ id, "removed", "", "", "", "" });
                        continue;
                }
                _cleanup_free_ char *fresh = xasprintf("%" JSON_INTEGER_FORMAT, a->fresh);
                _cleanup_free_ char *old = xasprintf("%" JSON_INTEGER_FORMAT, a->old);
                _cleanup_free_ char *running = xasprintf("%" JSON_INTEGER_FORMAT, a->running);
                _cleanup_free_ char *healthy = a->has_health ? xasprintf("%" JSON_INTEGER_FORMAT, a->healthy) : NULL;
                _cleanup_free_ char *instances = xasprintf("%" JSON_INTEGER_FORMAT, a->instances);
                cli_table_add(t, (const char *[]){ id, fresh, old, running, healthy, instances });
        }
        if (w->drawn > 0)
                fprintf(f, "\033[%zuA\033[J", w->drawn); /* up to the block's first line, clear below */
        fprintf(f, "%s\n", head_text);
        cli_table_print(t, f);
        w->drawn = 2 + p->n_apps; /* the head, the table's header, one row per app */
        fflush(f);
}

static void show(struct watch *w, const struct cli_progress *p, int64_t now) {
        if (w->c->output == CLI_OUTPUT_TABLE && w->c->tty) {
                draw_block(w, p, now);
                return;
        }
        _cleanup_free_ char *text = NULL;
        if (cli_structured(w->c)) {
                _cleanup_(json_decrefp) json_t *j = cli_progress_json(p);
                text = json_dumps(j, JSON_COMPACT);
        } else {
                text = cli_progress_line(p);
        }
        /* Logs get a line when something changed, not twice a second. */
        if (w->last && streq(w->last, text))
                return;
        fprintf(w->c->out, "%s\n", text);
        fflush(w->c->out);
        free(w->last);
        w->last = TAKE_PTR(text);
}

static void show_result(struct watch *w, const char *result, const char *reason, int64_t now) {
        if (cli_structured(w->c)) {
                _cleanup_(json_decrefp) json_t *j =
                        json_pack("{s:s,s:s,s:s,s:f}", "type", "result", "deployment", w->id, "result", result,
                                  "seconds", (double)(now - w->start_ms) / 1000.0);
                if (reason)
                        json_object_set_new(j, "reason", json_string(reason));
                _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
                fprintf(w->c->out, "%s\n", s);
        } else if (streq(result, "success")) {
                fprintf(w->c->out, "Deployment %s succeeded (%.1f s)\n", w->id, (double)(now - w->start_ms) / 1000.0);
        }
        fflush(w->c->out);
}

/* Follows deployment id until it ends. must_be_listed: the first poll must find it running. */
static int watch_run(struct watch *w, const char *id, const char *app_id, const char *group_id,
                     double timeout_s, bool must_be_listed, struct err *err) {
        w->id = id;
        w->start_ms = w->ops->now_ms(w->data);
        int64_t deadline = timeout_s > 0 ? w->start_ms + (int64_t)llround(timeout_s * 1000.0) : INT64_MAX;
        int64_t settled_since = -1, failing_since = -1;
        _cleanup_free_ char *last_line = NULL;
        int r;

        if (app_id)
                remember_app(w, app_id);
        if (group_id) {
                r = group_apps(w, group_id, err);
                if (r < 0)
                        return err_wrap(err, "cannot list the apps of group %s", group_id);
        }

        for (bool first = true;; first = false) {
                int64_t now = w->ops->now_ms(w->data);
                _cleanup_(cli_progress_release) struct cli_progress p = { 0 };
                struct err poll_err = { 0 };
                r = poll_progress(w, &p, &poll_err);
                if (r < 0) {
                        /* A leader election or a restart is not the deployment's end: keep trying. */
                        if (failing_since < 0)
                                failing_since = now;
                        if (first || now - failing_since >= POLL_FAILURE_LIMIT_MS) {
                                r = err_set(err, poll_err.code, "%s", err_msg(&poll_err));
                                err_release(&poll_err);
                                return err_wrap(err, "cannot follow deployment %s", id);
                        }
                        _cleanup_free_ char *why = xasprintf("poll failed: %s (retrying)", err_msg(&poll_err));
                        say(w, "note", why);
                } else {
                        failing_since = -1;
                        if (first && must_be_listed && !p.listed) {
                                err_release(&poll_err);
                                return err_set(err, -ERR_NOT_FOUND,
                                               "Deployment '%s' is not running (a deployment leaves "
                                               "/v2/deployments when it ends)",
                                               id);
                        }
                        show(w, &p, now);
                        free(last_line);
                        last_line = cli_progress_line(&p);
                }
                err_release(&poll_err);

                bool converged = r >= 0 && cli_progress_converged(&p);
                bool settled = r >= 0 && !p.listed && converged;
                if (!settled)
                        settled_since = -1;
                else if (settled_since < 0)
                        settled_since = now;
                struct cli_wait_state s = {
                        .event = w->event,
                        .stream = w->stream != NULL,
                        .listed = r < 0 || p.listed,
                        .converged = converged,
                        .now_ms = now,
                        .deadline_ms = deadline,
                        .settled_since = settled_since,
                };
                switch (cli_wait_decide(&s)) {
                case CLI_WAIT_SUCCEEDED:
                        show_result(w, "success", NULL, now);
                        return 0;
                case CLI_WAIT_FAILED:
                        show_result(w, "failed", w->reason, now);
                        return err_set(err, -ERR_DEPLOYMENT_FAILED, "deployment %s failed%s%s", id,
                                       w->reason ? ": " : "", w->reason ? w->reason : "");
                case CLI_WAIT_TIMED_OUT:
                        show_result(w, "timeout", NULL, now);
                        return err_set(err, -ERR_WAIT_TIMEOUT, "deployment %s did not end within %g s (last seen: %s)",
                                       id, timeout_s, last_line ? last_line : "no answer");
                case CLI_WAIT_RUNNING:
                        break;
                }
                wait_until(w, now + CLI_WAIT_POLL_MS);
        }
}

/* --- the shared verbs' halves ------------------------------------------------------------------ */

int cli_parse_seconds(const char *text, double *ret, struct err *err) {
        char *end;
        errno = 0;
        double t = strtod(text, &end);
        if (errno || end == text || *end || !(t > 0) || !isfinite(t) || t > 1e7)
                return err_set(err, -ERR_USAGE, "--timeout needs a number of seconds above 0, not '%s'", text);
        *ret = t;
        return 0;
}

int cli_wait_options(const struct cli_args *a, bool *ret_wait, double *ret_timeout_s, struct err *err) {
        bool wait = cli_args_get(a, "wait") != NULL;
        const char *timeout = cli_args_get(a, "timeout");
        double t = 0;
        if (timeout) {
                int r = cli_parse_seconds(timeout, &t, err);
                if (r < 0)
                        return r;
                if (!wait)
                        return err_set(err, -ERR_USAGE, "--timeout goes with --wait");
        }
        *ret_wait = wait;
        *ret_timeout_s = t;
        return 0;
}

/* The app's version now (what --rollback-on-failure restores), or NULL for an app that does not
 * exist yet (nothing to restore). */
static int current_version(struct cli *c, const char *app_id, char **ret, struct err *err) {
        _cleanup_free_ char *escaped = cli_url_escape(app_id, true);
        _cleanup_free_ char *path = xasprintf("/v2/apps%s", escaped);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "GET", path, NULL, &reply, err);
        if (r == -ERR_NOT_FOUND) {
                err_release(err);
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        const char *v = str_field(json_object_get(reply.json, "app"), "version");
        *ret = v ? xstrdup(v) : NULL;
        return 0;
}

/* After a failed deployment (err says why): puts the app back at version and waits for that
 * deployment. Returns -ERR_DEPLOYMENT_FAILED with the failure and what the rollback did. */
static int roll_back(struct cli *c, const char *app_id, const char *version, double timeout_s, struct err *err) {
        _cleanup_free_ char *failure = xstrdup(err_msg(err));
        err_release(err);
        _cleanup_free_ char *escaped = cli_url_escape(app_id, true);
        /* force: the failed deployment may still hold the app for a moment */
        _cleanup_free_ char *path = xasprintf("/v2/apps%s?force=true", escaped);
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:s}", "version", version);
        _cleanup_(watch_freep) struct watch *w = watch_open(c);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        fprintf(c->out, "Rolling back app %s to version %s\n", app_id, version);
        fflush(c->out);
        struct err e = { 0 };
        int r = cli_http_call(&c->http, "PUT", path, body, &reply, &e);
        const char *deployment = r >= 0 ? cli_deployment_of(&reply) : NULL;
        if (r >= 0 && deployment) {
                _cleanup_free_ char *id = xstrdup(deployment);
                r = watch_run(w, id, app_id, NULL, timeout_s, false, &e);
        }
        if (r < 0) {
                err_set(err, -ERR_DEPLOYMENT_FAILED, "%s; the rollback to version %s failed too: %s", failure, version,
                        err_msg(&e));
                err_release(&e);
                return -ERR_DEPLOYMENT_FAILED;
        }
        err_release(&e);
        return err_set(err, -ERR_DEPLOYMENT_FAILED, "%s; rolled back to version %s", failure, version);
}

int cli_change_submit(struct cli *c, const struct cli_args *a, const struct cli_change *ch, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        _cleanup_(watch_freep) struct watch *w = NULL;
        bool wait;
        double timeout_s;
        int r;

        r = cli_wait_options(a, &wait, &timeout_s, err);
        if (r < 0)
                return r;
        bool rollback = cli_args_get(a, "rollback-on-failure") != NULL;
        if (rollback && !wait)
                return err_set(err, -ERR_USAGE, "--rollback-on-failure goes with --wait");
        _cleanup_free_ char *restore = NULL;
        if (rollback && ch->app_id) {
                r = current_version(c, ch->app_id, &restore, err);
                if (r < 0)
                        return r;
        }
        if (wait)
                w = watch_open(c); /* before the change: its end must not come before we listen */

        r = cli_http_call(&c->http, ch->method, ch->path, ch->body, &reply, err);
        if (r < 0)
                return r;
        const char *deployment = cli_deployment_of(&reply);
        if (cli_structured(c)) {
                _cleanup_free_ char *s = reply.json ? json_dumps(reply.json, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
                /* With --wait the answer is the first of several JSON lines: keep it on one line. */
                if (wait)
                        fprintf(c->out, "%s\n", s ? s : "null");
                else
                        cli_print_data(c, reply.json ? reply.json : json_null());
        } else {
                const char *version = str_field(reply.json, "version");
                fprintf(c->out, "%s", r == 201 && ch->done_created ? ch->done_created : ch->done);
                if (deployment)
                        fprintf(c->out, " (deployment %s%s%s)", deployment, version ? ", version " : "",
                                version ? version : "");
                fputc('\n', c->out);
        }
        fflush(c->out);
        if (!wait)
                return 0;
        if (!deployment)
                return err_set(err, -EBADMSG, "the master named no deployment for %s %s: nothing to wait for",
                               ch->method, ch->path);
        _cleanup_free_ char *id = xstrdup(deployment);
        r = watch_run(w, id, ch->app_id, ch->group_id, timeout_s, false, err);
        /* The master rolls back by itself when the app's STRATA_DEPLOY_ON_FAILURE says so. */
        if (r != -ERR_DEPLOYMENT_FAILED || !restore || (w->reason && strstr(w->reason, "; rolled back by deployment ")))
                return r;
        return roll_back(c, ch->app_id, restore, timeout_s, err);
}

int cli_wait_existing(struct cli *c, const char *deployment_id, double timeout_s, struct err *err) {
        _cleanup_(watch_freep) struct watch *w = watch_open(c);
        return watch_run(w, deployment_id, NULL, NULL, timeout_s, true, err);
}
