/* agent_updates.c — status updates at least once: checkpoint, batch, send, resend until the
 * master acknowledges, then forget (and let the runtime forget terminal tasks). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"

#define MAX_BATCH 1000

static char *update_path(struct agent *a, const char *name) {
        return xasprintf("%s/updates/%s", a->cfg.data_dir, name);
}

void agent_updates_init(struct agent *a) {
        a->pending = json_array();
        _cleanup_free_ char *dir = xasprintf("%s/updates", a->cfg.data_dir);
        struct err e = { 0 };
        if (mkdir_p(dir, &e) < 0)
                log_error("%s", err_msg(&e));
        err_release(&e);
}

static int by_name(const struct dirent **x, const struct dirent **y) {
        return strcmp((*x)->d_name, (*y)->d_name);
}

void agent_updates_load(struct agent *a) {
        _cleanup_free_ char *dir = xasprintf("%s/updates", a->cfg.data_dir);
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, by_name);
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                if (name[0] != '.' && !strstr(name, ".tmp")) {
                        _cleanup_free_ char *path = update_path(a, name);
                        json_t *u = json_load_file(path, 0, NULL);
                        if (json_is_object(u) && json_is_string(json_object_get(u, "uuid"))) {
                                json_object_set_new(u, "file", json_string(name));
                                json_array_append_new(a->pending, u);
                                uint64_t seq = strtoull(name, NULL, 10);
                                if (seq >= a->update_seq)
                                        a->update_seq = seq + 1;
                        } else {
                                json_decref(u);
                                unlink(path);
                        }
                }
                free(names[i]);
        }
        free(names);
        if (json_array_size(a->pending))
                log_info("%zu unacknowledged status update(s) to resend", json_array_size(a->pending));
}

static void flush_cb(uv_timer_t *t) {
        agent_updates_flush(t->data);
}

void agent_updates_push(struct agent *a, const char *task_id, enum task_state state, const char *message,
                        const char *reason, int exit_code) {
        agent_updates_push_health(a, task_id, state, message, reason, exit_code, -1, false, NULL, 0, NULL);
}

void agent_updates_push_health(struct agent *a, const char *task_id, enum task_state state, const char *message,
                               const char *reason, int exit_code, int healthy, bool ready,
                               const struct health_result *checks, size_t n, const char *ip_address) {
        char uuid[37];
        uuid_random(uuid);
        char name[64];
        snprintf(name, sizeof name, "%016" PRIu64 "-%s.json", a->update_seq++, uuid);
        json_t *u = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "uuid", uuid, "taskId", task_id, "state",
                              task_state_to_string(state), "message", message ? message : "", "reason",
                              reason ? reason : "", "timestamp", (json_int_t)time_now_ms());
        if (exit_code >= 0)
                json_object_set_new(u, "exitCode", json_integer(exit_code));
        if (healthy >= 0)
                json_object_set_new(u, "healthy", json_boolean(healthy));
        if (ready)
                json_object_set_new(u, "ready", json_true());
        if (checks) {
                json_t *arr = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(arr, health_result_to_json(&checks[i]));
                json_object_set_new(u, "health", arr);
        }
        if (ip_address)
                json_object_set_new(u, "ipAddress", json_string(ip_address));
        _cleanup_free_ char *text = json_compact(u);
        _cleanup_free_ char *path = update_path(a, name);
        struct err e = { 0 };
        if (file_write_atomic(path, text, strlen(text), &e) < 0) {
                log_error("cannot checkpoint status update of %s: %s", task_id, err_msg(&e));
                err_release(&e);
        }
        json_object_set_new(u, "file", json_string(name));
        json_array_append_new(a->pending, u);
        /* Batch everything reported in this loop turn into one POST. */
        if (!a->sending)
                uv_timer_start(&a->flush_timer, flush_cb, 0, 0);
}

static void forget_task_if_done(struct agent *a, const char *task_id) {
        struct runtime_task_info info;
        if (runtime_get(a->rt, task_id, &info) < 0 || !task_state_is_terminal(info.state))
                return;
        /* Another unacknowledged update for the same task keeps it. */
        size_t i;
        json_t *u;
        json_array_foreach(a->pending, i, u)
                if (streq(json_string_value(json_object_get(u, "taskId")), task_id))
                        return;
        struct err e = { 0 };
        runtime_remove(a->rt, task_id, &e);
        err_release(&e);
}

static void sent_cb(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct agent *a = data;
        a->sending = false;
        if (a->stopping)
                return;
        if (status < 0 || resp->status != 200) {
                if (status >= 0 && resp->status == 401)
                        auth_client_refused(&a->auth);
                if (status >= 0 && resp->status == 404) {
                        log_warn("master does not know this agent: resubscribing");
                        agent_resubscribe_later(a);
                } else {
                        log_debug("status updates not delivered: %s",
                                  status < 0 ? err_msg(err) : resp->body);
                }
                uv_timer_start(&a->flush_timer, flush_cb, 500, 0);
                return;
        }
        json_t *body = json_loads(resp->body, 0, NULL);
        json_t *acked = json_object_get(body, "acknowledged");
        struct hashmap ack;
        hashmap_init(&ack);
        size_t i;
        json_t *v;
        json_array_foreach(acked, i, v)
                if (json_is_string(v))
                        hashmap_put(&ack, json_string_value(v), (void *)1);
        json_t *keep = json_array();
        json_t *done_tasks = json_array();
        json_array_foreach(a->pending, i, v) {
                const char *uuid = json_string_value(json_object_get(v, "uuid"));
                if (hashmap_get(&ack, uuid)) {
                        _cleanup_free_ char *path = update_path(a, json_string_value(json_object_get(v, "file")));
                        unlink(path);
                        json_array_append(done_tasks, json_object_get(v, "taskId"));
                } else {
                        json_array_append(keep, v);
                }
        }
        hashmap_release(&ack);
        json_decref(body);
        json_decref(a->pending);
        a->pending = keep;
        json_array_foreach(done_tasks, i, v) forget_task_if_done(a, json_string_value(v));
        json_decref(done_tasks);
        if (json_array_size(a->pending) > 0)
                uv_timer_start(&a->flush_timer, flush_cb, 0, 0);
}

void agent_updates_flush(struct agent *a) {
        if (a->sending || !a->subscribed || !a->agent_id || a->stopping)
                return;
        const char *base = a->leader_url ? a->leader_url : a->cfg.masters[a->master_idx];
        _cleanup_free_ char *url = xasprintf("%s/internal/v1/agents/%s/updates", base, a->agent_id);
        json_t *batch = json_array();
        size_t i;
        json_t *u;
        json_array_foreach(a->pending, i, u) {
                if (i >= MAX_BATCH)
                        break;
                json_t *c = json_copy(u);
                json_object_del(c, "file");
                json_array_append_new(batch, c);
        }
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:I,s:o}", "term", (json_int_t)a->max_term, "updates", batch);
        _cleanup_free_ char *text = json_compact(body);
        const char *const headers[] = { "Content-Type: application/json", auth_client_header(&a->auth, base), NULL };
        a->sending = true;
        http_client_request(a->client, "POST", url, headers, text, strlen(text), 10000, sent_cb, a);
}
