/* api_jobs.c — the Metronome v1 jobs API (api.md §5.1): /v1/jobs CRUD, …/runs (start, list, get,
 * stop), …/schedules CRUD, embed=activeRuns|schedules|history|historySummary; also under
 * /service/metronome/. Plus Strata's own GET /v1/jobs/{id}/ticks (cursors and skipped ticks). */
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/job_launch.h"
#include "master/job_scheduler.h"
#include "master/master_internal.h"
#include "model/job.h"
#include "store/jobs.h"

enum {
        EMBED_ACTIVE_RUNS = 1 << 0,
        EMBED_SCHEDULES = 1 << 1,
        EMBED_HISTORY = 1 << 2,
        EMBED_HISTORY_SUMMARY = 1 << 3,
};

static void embed_one(const char *value, void *data) {
        unsigned *e = data;
        /* "embed=activeRuns,history" and repeated embed= both appear in scripts. */
        _cleanup_free_ char *copy = xstrdup(value);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (strcasecmp(t, "activeRuns") == 0)
                        *e |= EMBED_ACTIVE_RUNS;
                else if (strcasecmp(t, "schedules") == 0)
                        *e |= EMBED_SCHEDULES;
                else if (strcasecmp(t, "history") == 0)
                        *e |= EMBED_HISTORY;
                else if (strcasecmp(t, "historySummary") == 0)
                        *e |= EMBED_HISTORY_SUMMARY;
        }
}

static json_t *time_json(const json_t *ms) {
        if (!json_is_integer(ms))
                return json_null();
        char buf[29];
        job_format_time(json_integer_value(ms), buf);
        return json_string(buf);
}

static json_t *schedule_json(const json_t *s, int64_t now) {
        json_t *out = json_deep_copy(s);
        int64_t next = job_scheduler_next_run(s, now);
        if (next >= 0) {
                json_t *n = json_integer(next);
                json_object_set_new(out, "nextRunAt", time_json(n));
                json_decref(n);
        }
        return out;
}

static json_t *schedules_json(const json_t *rec) {
        json_t *out = json_array();
        int64_t now = time_now_ms();
        const char *sid;
        json_t *s;
        json_object_foreach(json_object_get(rec, "schedules"), sid, s) json_array_append_new(out, schedule_json(s, now));
        return out;
}

static json_t *finished_runs(const json_t *list) {
        json_t *out = json_array();
        size_t i, j;
        json_t *r, *t;
        json_array_foreach(list, i, r) {
                json_t *ids = json_array();
                json_array_foreach(json_object_get(r, "tasks"), j, t) json_array_append(ids, json_object_get(t, "id"));
                json_array_append_new(out, json_pack("{s:O,s:o,s:o,s:o}", "id", json_object_get(r, "id"), "createdAt",
                                                     time_json(json_object_get(r, "createdAt")), "finishedAt",
                                                     time_json(json_object_get(r, "completedAt")), "tasks", ids));
        }
        return out;
}

static json_t *history_json(const json_t *h, bool full) {
        json_t *out = json_pack("{s:O,s:O,s:o,s:o}", "successCount", json_object_get(h, "successCount"), "failureCount",
                                json_object_get(h, "failureCount"), "lastSuccessAt",
                                time_json(json_object_get(h, "lastSuccessAt")), "lastFailureAt",
                                time_json(json_object_get(h, "lastFailureAt")));
        if (full) {
                json_object_set_new(out, "successfulFinishedRuns", finished_runs(json_object_get(h, "successful")));
                json_object_set_new(out, "failedFinishedRuns", finished_runs(json_object_get(h, "failed")));
        }
        return out;
}

static json_t *active_runs_json(const json_t *rec) {
        json_t *out = json_array();
        const char *rid;
        json_t *r;
        json_object_foreach(json_object_get(rec, "active"), rid, r) json_array_append_new(out, job_run_to_api(r));
        return out;
}

static json_t *job_json(const json_t *rec, unsigned embed) {
        json_t *out = json_deep_copy(json_object_get(rec, "job"));
        if (embed & EMBED_SCHEDULES)
                json_object_set_new(out, "schedules", schedules_json(rec));
        if (embed & EMBED_ACTIVE_RUNS)
                json_object_set_new(out, "activeRuns", active_runs_json(rec));
        if (embed & EMBED_HISTORY)
                json_object_set_new(out, "history", history_json(json_object_get(rec, "history"), true));
        if (embed & EMBED_HISTORY_SUMMARY)
                json_object_set_new(out, "historySummary", history_json(json_object_get(rec, "history"), false));
        return out;
}

static void reply_job_not_found(struct api_call *call, const char *id) {
        api_reply_json(call, 404, json_pack("{s:s,s:s}", "id", id, "message", "Job not found"));
}

/* Metronome's error bodies: 404s name what was not found, 422s carry details. */
static void reply_store_err(struct api_call *call, struct err *err) {
        json_t *body = json_pack("{s:s}", "message", err_msg(err));
        if (err->code == -ERR_NOT_FOUND && json_is_object(err->details))
                json_object_update(body, err->details);
        else if (err->code == -ERR_INVALID && err->details)
                json_object_set(body, "details", err->details);
        api_reply_json(call, err_http_status(err), body);
}

/* "/<job>[/<what>[/<sub>[/…]]]" from the router's id. */
struct job_path {
        char *job, *what, *sub, *rest;
};

static void job_path_release(struct job_path *p) {
        free(p->job);
        free(p->what);
        free(p->sub);
        free(p->rest);
}

static void job_path_parse(const char *id, struct job_path *p) {
        *p = (struct job_path){ 0 };
        _cleanup_free_ char *copy = xstrdup(id + (id[0] == '/'));
        char *save = NULL, *parts[4] = { 0 };
        int n = 0;
        char *t = strtok_r(copy, "/", &save);
        while (t && n < 3) {
                parts[n++] = t;
                if (n < 3)
                        t = strtok_r(NULL, "/", &save);
        }
        if (n == 3 && save && *save)
                parts[3] = save; /* the rest, unsplit: "actions/stop" */
        p->job = parts[0] ? xstrdup(parts[0]) : xstrdup("");
        p->what = parts[1] ? xstrdup(parts[1]) : NULL;
        p->sub = parts[2] ? xstrdup(parts[2]) : NULL;
        p->rest = parts[3] ? xstrdup(parts[3]) : NULL;
}

/* --- reads ----------------------------------------------------------------------------------- */

void api_jobs_list(struct api_call *call) {
        unsigned embed = 0;
        http_request_args_foreach(call->req, "embed", embed_one, &embed);
        json_t *out = json_array();
        const char *id;
        json_t *rec;
        json_object_foreach((json_t *)state_jobs(store_state(call->m->store)), id, rec)
                json_array_append_new(out, job_json(rec, embed));
        api_reply_json(call, 200, out);
}

void api_jobs_get_sub(struct api_call *call) {
        _cleanup_(job_path_release) struct job_path p;
        job_path_parse(call->id, &p);
        const json_t *rec = state_job_get(store_state(call->m->store), p.job);
        if (!rec) {
                reply_job_not_found(call, p.job);
                return;
        }
        if (!p.what && !p.sub) {
                unsigned embed = 0;
                http_request_args_foreach(call->req, "embed", embed_one, &embed);
                api_reply_json(call, 200, job_json(rec, embed));
        } else if (streq(p.what, "runs") && !p.sub) {
                api_reply_json(call, 200, active_runs_json(rec));
        } else if (streq(p.what, "runs") && !p.rest) {
                const json_t *run = json_object_get(json_object_get(rec, "active"), p.sub);
                if (!run)
                        api_reply_json(call, 404, json_pack("{s:s,s:s,s:s}", "jobSpec", p.job, "id", p.sub, "message",
                                                            "Job Run not found"));
                else
                        api_reply_json(call, 200, job_run_to_api(run));
        } else if (streq(p.what, "schedules") && !p.sub) {
                api_reply_json(call, 200, schedules_json(rec));
        } else if (streq(p.what, "schedules") && !p.rest) {
                const json_t *s = json_object_get(json_object_get(rec, "schedules"), p.sub);
                if (!s)
                        api_reply_json(call, 404, json_pack("{s:s,s:s}", "id", p.sub, "message", "Schedule not found"));
                else
                        api_reply_json(call, 200, schedule_json(s, time_now_ms()));
        } else if (streq(p.what, "ticks") && !p.sub) {
                /* Strata's own: where each schedule stands and every tick it skipped. */
                json_t *next = json_object();
                const char *sid;
                json_t *s;
                int64_t now = time_now_ms();
                json_object_foreach(json_object_get(rec, "schedules"), sid, s) {
                        int64_t n = job_scheduler_next_run(s, now);
                        json_object_set_new(next, sid, n >= 0 ? json_integer(n) : json_null());
                }
                api_reply_json(call, 200, json_pack("{s:O,s:o,s:O}", "cursors", json_object_get(rec, "cursors"), "next",
                                                    next, "skipped", json_object_get(rec, "skipped")));
        } else {
                api_reply_error(call, 404, "URI not found: %s", http_request_path(call->req));
        }
}

/* --- writes ---------------------------------------------------------------------------------- */

enum write_kind { W_JOB_CREATE, W_JOB_UPDATE, W_JOB_DELETE, W_SCHEDULE_CREATE, W_SCHEDULE_PUT, W_SCHEDULE_DELETE,
                  W_RUN_START, W_RUN_STOP };

struct write_ctx {
        struct api_call *call;
        enum write_kind kind;
        json_t *reply; /* what a success answers (W_JOB_CREATE: the job with its schedules) */
        char *job, *run;
};

static void write_done(void *data, int status, json_t *result, struct err *err) {
        struct write_ctx *w = data;
        struct master *m = w->call->m;
        if (status < 0) {
                json_decref(w->reply);
                reply_store_err(w->call, err);
        } else {
                job_scheduler_poke_job(m->jobs, w->job);
                switch (w->kind) {
                case W_JOB_CREATE:
                        api_reply_json(w->call, 201, w->reply);
                        break;
                case W_SCHEDULE_CREATE:
                        api_reply_json(w->call, 201, schedule_json(w->reply, time_now_ms()));
                        json_decref(w->reply);
                        break;
                case W_SCHEDULE_PUT:
                        api_reply_json(w->call, 200, schedule_json(w->reply, time_now_ms()));
                        json_decref(w->reply);
                        break;
                case W_JOB_UPDATE:
                        api_reply_json(w->call, 200, json_deep_copy(json_object_get(result, "job")));
                        json_decref(w->reply);
                        break;
                case W_JOB_DELETE: {
                        /* stopCurrentJobRuns: the runs went with the job; their tasks go now. */
                        const char *rid;
                        json_t *run;
                        json_object_foreach(json_object_get(result, "active"), rid, run) {
                                size_t i;
                                json_t *t;
                                json_array_foreach(json_object_get(run, "tasks"), i, t) {
                                        if (!json_object_get(t, "completedAt"))
                                                job_launch_kill(m, json_string_value(json_object_get(t, "agentId")),
                                                                json_string_value(json_object_get(t, "id")), 3);
                                }
                        }
                        api_reply_json(w->call, 200, json_deep_copy(json_object_get(result, "job")));
                        json_decref(w->reply);
                        break;
                }
                case W_SCHEDULE_DELETE:
                        json_decref(w->reply);
                        api_reply_text(w->call, 200, "application/json", "");
                        break;
                case W_RUN_START:
                        json_decref(w->reply);
                        api_reply_json(w->call, 201, job_run_to_api(result));
                        break;
                case W_RUN_STOP:
                        json_decref(w->reply);
                        job_scheduler_stop_run(m->jobs, w->job, w->run);
                        api_reply_json(w->call, 200, job_run_to_api(result));
                        break;
                }
        }
        free(w->job);
        free(w->run);
        free(w);
}

static void submit_write(struct api_call *call, enum write_kind kind, json_t *cmd, json_t *reply, const char *job,
                  const char *run) {
        struct write_ctx *w = xcalloc(1, sizeof *w);
        w->call = call;
        w->kind = kind;
        w->reply = reply;
        w->job = job ? xstrdup(job) : NULL;
        w->run = run ? xstrdup(run) : NULL;
        json_object_set_new(cmd, "v", json_integer(1));
        json_object_set_new(cmd, "ts", json_integer(time_now_ms()));
        store_submit(call->m->store, cmd, write_done, w);
}

static bool dependencies_exist(struct api_call *call, const json_t *job) {
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(job, "dependencies"), i, d) {
                const char *dep = json_string_value(json_object_get(d, "id"));
                if (!state_job_get(store_state(call->m->store), dep)) {
                        _cleanup_free_ char *path = xasprintf("/dependencies/%zu", i);
                        _cleanup_free_ char *msg = xasprintf("Dependency '%s' does not exist", dep);
                        api_reply_json(call, 422, json_pack("{s:s,s:[{s:s,s:[s]}]}", "message", "Object is not valid",
                                                            "details", "path", path, "errors", msg));
                        return false;
                }
        }
        return true;
}

void api_jobs_create(struct api_call *call) {
        json_t *job = NULL, *schedules = NULL;
        struct err e = { 0 };
        if (job_from_json(call->body, NULL, &job, &schedules, &e) < 0) {
                reply_store_err(call, &e);
                err_release(&e);
                return;
        }
        if (!dependencies_exist(call, job)) {
                json_decref(job);
                json_decref(schedules);
                return;
        }
        json_t *reply = json_deep_copy(job);
        if (json_array_size(schedules) > 0) {
                json_t *out = json_array();
                size_t i;
                json_t *s;
                int64_t now = time_now_ms();
                json_array_foreach(schedules, i, s) json_array_append_new(out, schedule_json(s, now));
                json_object_set_new(reply, "schedules", out);
        }
        _cleanup_free_ char *id = xstrdup(json_string_value(json_object_get(job, "id")));
        submit_write(call, W_JOB_CREATE,
                     json_pack("{s:s,s:o,s:o}", "type", "job_create", "job", job, "schedules", schedules), reply, id, NULL);
}

static json_t *optional_body(struct api_call *call, bool *bad) {
        size_t len;
        const char *text = http_request_body(call->req, &len);
        *bad = false;
        if (len == 0)
                return NULL;
        json_error_t jerr;
        json_t *doc = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        if (!doc) {
                *bad = true;
                api_reply_json(call, 400, json_pack("{s:s,s:s}", "message", "Invalid JSON", "details", jerr.text));
        }
        return doc;
}

/* POST …/schedules (create) and PUT …/schedules/{id}: validates body (borrowed) as a Metronome
 * schedule, answering Metronome's error on failure, and commits it to job_id. */
static void submit_schedule(struct api_call *call, const char *job_id, const json_t *body, bool create) {
        json_t *s = NULL;
        struct err e = { 0 };
        if (job_schedule_from_json(body, &s, &e) < 0) {
                reply_store_err(call, &e);
                err_release(&e);
                return;
        }
        submit_write(call, create ? W_SCHEDULE_CREATE : W_SCHEDULE_PUT,
                     json_pack("{s:s,s:s,s:O,s:b}", "type", "job_schedule_put", "id", job_id, "schedule", s, "create",
                               create),
                     s, job_id, NULL);
}

void api_jobs_post_sub(struct api_call *call) {
        _cleanup_(job_path_release) struct job_path p;
        job_path_parse(call->id, &p);
        const json_t *rec = state_job_get(store_state(call->m->store), p.job);
        if (!rec) {
                reply_job_not_found(call, p.job);
                return;
        }
        if (streq(p.what ?: "", "runs") && !p.sub) {
                json_t *run = job_run_new(p.job, time_now_ms());
                const char *id = json_string_value(json_object_get(run, "id"));
                submit_write(call, W_RUN_START, json_pack("{s:s,s:s,s:O}", "type", "job_run_start", "id", p.job, "run", run),
                             NULL, p.job, id);
                json_decref(run);
                return;
        }
        if (streq(p.what ?: "", "runs") && p.sub && p.rest && streq(p.rest, "actions/stop")) {
                if (!json_object_get(json_object_get(rec, "active"), p.sub)) {
                        api_reply_json(call, 404, json_pack("{s:s,s:s,s:s}", "jobSpec", p.job, "id", p.sub, "message",
                                                            "Job Run not found"));
                        return;
                }
                submit_write(call, W_RUN_STOP,
                      json_pack("{s:s,s:s,s:s,s:b}", "type", "job_run_update", "id", p.job, "run", p.sub, "stopped", 1), NULL,
                      p.job, p.sub);
                return;
        }
        if (streq(p.what ?: "", "schedules") && !p.sub) {
                bool bad;
                _cleanup_(json_decrefp) json_t *body = optional_body(call, &bad);
                if (bad)
                        return;
                submit_schedule(call, p.job, body ? body : json_null(), true);
                return;
        }
        api_reply_error(call, 404, "URI not found: %s", http_request_path(call->req));
}

void api_jobs_put_sub(struct api_call *call) {
        _cleanup_(job_path_release) struct job_path p;
        job_path_parse(call->id, &p);
        const json_t *rec = state_job_get(store_state(call->m->store), p.job);
        if (!rec) {
                reply_job_not_found(call, p.job);
                return;
        }
        struct err e = { 0 };
        if (!p.what) {
                json_t *job = NULL;
                /* "schedules in the body are ignored, existing schedules kept; id from the path wins" */
                if (job_from_json(call->body, p.job, &job, NULL, &e) < 0) {
                        reply_store_err(call, &e);
                        err_release(&e);
                        return;
                }
                if (!dependencies_exist(call, job)) {
                        json_decref(job);
                        return;
                }
                submit_write(call, W_JOB_UPDATE, json_pack("{s:s,s:o}", "type", "job_update", "job", job), NULL, p.job, NULL);
                return;
        }
        if (streq(p.what, "schedules") && p.sub && !p.rest) {
                /* the id from the path wins */
                _cleanup_(json_decrefp) json_t *body = json_deep_copy(call->body);
                if (json_is_object(body))
                        json_object_set_new(body, "id", json_string(p.sub));
                submit_schedule(call, p.job, body, false);
                return;
        }
        api_reply_error(call, 404, "URI not found: %s", http_request_path(call->req));
}

void api_jobs_delete_sub(struct api_call *call) {
        _cleanup_(job_path_release) struct job_path p;
        job_path_parse(call->id, &p);
        if (!state_job_get(store_state(call->m->store), p.job)) {
                reply_job_not_found(call, p.job);
                return;
        }
        if (!p.what) {
                submit_write(call, W_JOB_DELETE,
                      json_pack("{s:s,s:s,s:b}", "type", "job_delete", "id", p.job, "stop",
                                api_arg_bool(call, "stopCurrentJobRuns", false)),
                      NULL, p.job, NULL);
                return;
        }
        if (streq(p.what, "schedules") && p.sub && !p.rest) {
                submit_write(call, W_SCHEDULE_DELETE,
                      json_pack("{s:s,s:s,s:s}", "type", "job_schedule_delete", "id", p.job, "schedule", p.sub), NULL, p.job,
                      NULL);
                return;
        }
        api_reply_error(call, 404, "URI not found: %s", http_request_path(call->req));
}
