/* task_history.c — finished tasks' sandboxes kept by the retention policy (task_history.h). */
#include "agent/task_history.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/image_internal.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "model/task_id.h"
#include "model/task_state.h"

struct collection {
        uv_work_t work;
        struct task_history *h;
        /* in */
        char *data_dir;
        int keep;
        int64_t max_age_ms, now_ms;
        json_t *live; /* {task id: true}: tasks the runtime still has */
        /* out */
        json_t *kept; /* {task id: entry} */
        unsigned removed;
};

struct task_history {
        uv_loop_t *loop;
        char *data_dir;
        int keep;
        int64_t max_age_s;
        struct runtime *rt;
        uv_timer_t timer;
        json_t *index;        /* {task id: entry} of finished tasks */
        json_t *ended_since;  /* {task id: entry}: ends recorded while a collection runs */
        struct collection *running;
        bool freeing, timer_closed;
};

int task_history_flag(struct task_history_policy *p, const char *name, const char *value) {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v < 0 || v > (streq(name, "sandbox-keep") ? 100000 : 100LL * 365 * 86400)) {
                fprintf(stderr, "strata: --%s must be a whole number %s\n", name,
                        streq(name, "sandbox-keep") ? "of sandboxes from 0 to 100000" : "of seconds from 0");
                return -EINVAL;
        }
        if (streq(name, "sandbox-keep")) {
                p->keep_per_app = (int)v;
                p->keep_set = true;
        } else {
                p->max_age_s = v;
                p->max_age_set = true;
        }
        return 0;
}

static char *app_of(const char *task_id) {
        char *app = NULL;
        struct err e = { 0 };
        if (task_id_parse(task_id, &app, &e) < 0)
                app = NULL;
        err_release(&e);
        return app;
}

/* --- the collection, in the thread pool ------------------------------------------------------- */

static int64_t mtime_ms(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                return 0;
        return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

static int by_finished_desc(const void *a, const void *b) {
        json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "finishedAt"));
        json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "finishedAt"));
        return x < y ? 1 : x > y ? -1 : 0;
}

static void remove_task(const char *data_dir, const char *id) {
        _cleanup_free_ char *sandbox = xasprintf("%s/sandboxes/%s", data_dir, id);
        _cleanup_free_ char *record = xasprintf("%s/history/%s.json", data_dir, id);
        (void)store_rm_rf(sandbox);
        (void)unlink(record);
}

static void collect_work(uv_work_t *w) {
        struct collection *c = w->data;
        _cleanup_free_ char *root = xasprintf("%s/sandboxes", c->data_dir);
        json_t *by_app = json_object(); /* app id → [entry…] */
        DIR *d = opendir(root);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                const char *id = de->d_name;
                if (id[0] == '.' || json_object_get(c->live, id))
                        continue;
                /* The runtime's checkpoint still there: it has not let go of the task yet. */
                _cleanup_free_ char *meta = xasprintf("%s/meta/tasks/%s", c->data_dir, id);
                if (access(meta, F_OK) == 0)
                        continue;
                _cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
                _cleanup_free_ char *record = xasprintf("%s/history/%s.json", c->data_dir, id);
                json_t *entry = json_load_file(record, 0, NULL);
                if (!json_is_object(entry)) {
                        json_decref(entry);
                        _cleanup_free_ char *app = app_of(id);
                        entry = json_pack("{s:s,s:s?,s:s}", "taskId", id, "appId", app, "state", "TASK_UNKNOWN");
                }
                if (!json_is_integer(json_object_get(entry, "finishedAt"))) {
                        _cleanup_free_ char *out = xasprintf("%s/stdout", dir), *errf = xasprintf("%s/stderr", dir);
                        int64_t t = MAX(mtime_ms(dir), MAX(mtime_ms(out), mtime_ms(errf)));
                        json_object_set_new(entry, "finishedAt", json_integer(t));
                }
                const char *app = json_string_value(json_object_get(entry, "appId")) ?: "";
                json_t *list = json_object_get(by_app, app);
                if (!list) {
                        list = json_array();
                        json_object_set_new(by_app, app, list);
                }
                json_array_append_new(list, entry);
        }
        if (d)
                closedir(d);
        const char *app;
        json_t *list;
        json_object_foreach(by_app, app, list) {
                size_t n = json_array_size(list);
                _cleanup_free_ json_t **v = xcalloc(n ? n : 1, sizeof *v);
                for (size_t i = 0; i < n; i++)
                        v[i] = json_array_get(list, i);
                qsort(v, n, sizeof *v, by_finished_desc);
                for (size_t i = 0; i < n; i++) {
                        const char *id = json_string_value(json_object_get(v[i], "taskId"));
                        int64_t at = json_integer_value(json_object_get(v[i], "finishedAt"));
                        if ((int)i >= c->keep || c->now_ms - at > c->max_age_ms) {
                                remove_task(c->data_dir, id);
                                c->removed++;
                        } else {
                                json_object_set(c->kept, id, v[i]);
                        }
                }
        }
        json_decref(by_app);
        /* Records whose sandbox is gone (removed by hand, or a runtime with its own sandbox). */
        _cleanup_free_ char *hist = xasprintf("%s/history", c->data_dir);
        d = opendir(hist);
        while (d && (de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (de->d_name[0] == '.' || len < 6 || !streq(de->d_name + len - 5, ".json"))
                        continue;
                _cleanup_free_ char *id = xstrndup(de->d_name, len - 5);
                if (!json_object_get(c->kept, id) && !json_object_get(c->live, id)) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", hist, de->d_name);
                        (void)unlink(p);
                }
        }
        if (d)
                closedir(d);
}

static void history_destroy(struct task_history *h) {
        json_decref(h->index);
        json_decref(h->ended_since);
        free(h->data_dir);
        free(h);
}

static void collection_free(struct collection *c) {
        free(c->data_dir);
        json_decref(c->live);
        json_decref(c->kept);
        free(c);
}

static void collect_done(uv_work_t *w, int status) {
        struct collection *c = w->data;
        struct task_history *h = c->h;
        h->running = NULL;
        if (h->freeing) {
                collection_free(c);
                if (h->timer_closed)
                        history_destroy(h);
                return; /* else the timer's close callback frees h */
        }
        if (status == 0) {
                json_decref(h->index);
                h->index = json_incref(c->kept);
                json_object_update(h->index, h->ended_since);
                if (c->removed)
                        log_info("sandbox retention: removed %u finished sandbox%s (keep %d per app, max age %llds)",
                                 c->removed, c->removed == 1 ? "" : "es", h->keep, (long long)h->max_age_s);
        }
        json_object_clear(h->ended_since);
        collection_free(c);
}

static void add_live(const struct runtime_task_info *info, void *data) {
        json_object_set_new(data, info->task_id, json_true());
}

bool task_history_collect(struct task_history *h) {
        if (h->running || h->freeing)
                return false;
        struct collection *c = xcalloc(1, sizeof *c);
        *c = (struct collection){ .h = h, .data_dir = xstrdup(h->data_dir), .keep = h->keep,
                                  .max_age_ms = h->max_age_s * 1000, .now_ms = time_now_ms(),
                                  .live = json_object(), .kept = json_object() };
        c->work.data = c;
        runtime_foreach(h->rt, add_live, c->live);
        if (uv_queue_work(h->loop, &c->work, collect_work, collect_done) < 0) {
                collection_free(c);
                return false;
        }
        h->running = c;
        return true;
}

static void timer_cb(uv_timer_t *t) {
        task_history_collect(t->data);
}

struct task_history *task_history_new(uv_loop_t *loop, const char *data_dir, const struct task_history_policy *p,
                                      struct runtime *rt) {
        struct task_history *h = xcalloc(1, sizeof *h);
        h->loop = loop;
        h->data_dir = xstrdup(data_dir);
        h->keep = p && p->keep_set ? p->keep_per_app : TASK_HISTORY_DEFAULT_KEEP;
        h->max_age_s = p && p->max_age_set ? p->max_age_s : TASK_HISTORY_DEFAULT_MAX_AGE_S;
        h->rt = rt;
        h->index = json_object();
        h->ended_since = json_object();
        _cleanup_free_ char *hist = xasprintf("%s/history", data_dir);
        (void)mkdir(hist, 0700);
        uv_timer_init(loop, &h->timer);
        h->timer.data = h;
        uv_timer_start(&h->timer, timer_cb, 0, TASK_HISTORY_INTERVAL_S * 1000);
        return h;
}

static void timer_closed(uv_handle_t *handle) {
        struct task_history *h = handle->data;
        h->timer_closed = true;
        if (!h->running)
                history_destroy(h);
        /* else collect_done frees it */
}

void task_history_free(struct task_history *h) {
        if (!h || h->freeing)
                return;
        h->freeing = true;
        uv_close((uv_handle_t *)&h->timer, timer_closed);
}

void task_history_status(struct task_history *h, const struct task_status *st) {
        bool terminal = task_state_is_terminal(st->state);
        if (st->exit_code >= 0 && terminal)
                log_info("task %s: %s (exit code %d)%s%s%s%s", st->task_id, task_state_to_string(st->state),
                         st->exit_code, st->reason ? " reason " : "", st->reason ? st->reason : "",
                         st->message ? ": " : "", st->message ? st->message : "");
        else
                log_info("task %s: %s%s%s%s%s", st->task_id, task_state_to_string(st->state),
                         st->reason ? " reason " : "", st->reason ? st->reason : "", st->message ? ": " : "",
                         st->message ? st->message : "");
        if (!h || !terminal)
                return;
        _cleanup_free_ char *app = app_of(st->task_id);
        json_t *entry = json_pack("{s:s,s:s?,s:s,s:s?,s:i,s:i,s:I}", "taskId", st->task_id, "appId", app, "state",
                                  task_state_to_string(st->state), "message", st->message, "exitCode", st->exit_code,
                                  "signal", st->signal,
                                  "finishedAt", (json_int_t)(st->timestamp_ms > 0 ? st->timestamp_ms : time_now_ms()));
        _cleanup_free_ char *text = json_compact(entry);
        _cleanup_free_ char *path = xasprintf("%s/history/%s.json", h->data_dir, st->task_id);
        struct err e = { 0 };
        if (strchr(st->task_id, '/') || file_write_atomic(path, text, strlen(text), &e) < 0)
                log_warn("task %s: cannot record how it ended: %s", st->task_id, err_msg(&e));
        err_release(&e);
        json_object_set(h->index, st->task_id, entry);
        if (h->running)
                json_object_set(h->ended_since, st->task_id, entry);
        json_decref(entry);
}

static void add_live_entry(const struct runtime_task_info *info, void *data) {
        json_t *out = data;
        _cleanup_free_ char *app = app_of(info->task_id);
        json_array_append_new(out, json_pack("{s:s,s:s?,s:s,s:b}", "taskId", info->task_id, "appId", app, "state",
                                             task_state_to_string(info->state), "live", true));
}

json_t *task_history_list(struct task_history *h) {
        json_t *out = json_array();
        runtime_foreach(h->rt, add_live_entry, out);
        size_t n_live = json_array_size(out), n = json_object_size(h->index), k = 0;
        _cleanup_free_ json_t **v = xcalloc(n ? n : 1, sizeof *v);
        const char *id;
        json_t *entry;
        json_object_foreach(h->index, id, entry) {
                /* A task the runtime still lists (not yet acknowledged) shows once, as live. */
                bool dup = false;
                for (size_t i = 0; i < n_live && !dup; i++)
                        dup = streq(json_string_value(json_object_get(json_array_get(out, i), "taskId")), id);
                if (!dup)
                        v[k++] = entry;
        }
        qsort(v, k, sizeof *v, by_finished_desc);
        for (size_t i = 0; i < k; i++) {
                json_t *e = json_deep_copy(v[i]);
                json_object_set_new(e, "live", json_false());
                json_array_append_new(out, e);
        }
        return json_pack("{s:o}", "sandboxes", out);
}
