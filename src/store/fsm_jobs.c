/* fsm_jobs.c — the job commands of the state machine (formats in jobs.h). Deterministic: times
 * come from the command's "ts"; every handler checks before it changes anything. */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"
#include "model/job.h"
#include "model/tick.h"
#include "store/jobs.h"

static json_t *records(struct state *s) {
        return state_job_records(s)->records;
}

static int get_ts(const json_t *cmd, const char *what, int64_t *ret, struct err *err) {
        const json_t *ts = json_object_get(cmd, "ts");
        if (!json_is_integer(ts))
                return err_set(err, -EINVAL, "%s: expected \"ts\" (ms)", what);
        *ret = json_integer_value(ts);
        return 0;
}

static json_t *get_record(struct state *s, const json_t *cmd, struct err *err) {
        const char *id = json_string_value(json_object_get(cmd, "id"));
        json_t *rec = id ? json_object_get(records(s), id) : NULL;
        if (!rec) {
                err_set(err, -ERR_NOT_FOUND, "Job not found");
                err_set_details(err, json_pack("{s:s}", "id", id ? id : ""));
        }
        return rec;
}

static int check_schedule(const json_t *sched, const char *what, struct err *err) {
        if (!json_is_object(sched) || !job_schedule_id_valid(json_string_value(json_object_get(sched, "id"))) ||
            (!json_is_string(json_object_get(sched, "cron")) && !json_is_string(json_object_get(sched, "iso8601"))))
                return err_set(err, -EINVAL, "%s: malformed schedule", what);
        return 0;
}

int fsm_job_create(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const json_t *job = json_object_get(cmd, "job"), *scheds = json_object_get(cmd, "schedules");
        const char *id = json_string_value(json_object_get(job, "id"));
        int64_t ts = 0;
        int r = get_ts(cmd, "job_create", &ts, err);
        if (r < 0)
                return r;
        if (!job_id_valid(id) || (scheds && !json_is_array(scheds)) || json_array_size(scheds) > JOB_MAX_SCHEDULES)
                return err_set(err, -EINVAL, "job_create: malformed job");
        size_t i;
        json_t *sc;
        json_array_foreach(scheds, i, sc) {
                if ((r = check_schedule(sc, "job_create", err)) < 0)
                        return r;
        }
        const json_t *chronos = json_object_get(cmd, "chronos");
        json_t *old = json_object_get(records(s), id);
        if (old && json_is_true(json_object_get(cmd, "replace"))) {
                /* Chronos's POST of an existing name: a new definition and schedule; runs and
                 * history stay; an unchanged schedule keeps its cursor. */
                json_t *schedules = json_object(), *cursors = json_object();
                json_array_foreach(scheds, i, sc) {
                        const char *sid = json_string_value(json_object_get(sc, "id"));
                        const json_t *was = json_object_get(json_object_get(old, "schedules"), sid);
                        const json_t *cur = json_object_get(json_object_get(old, "cursors"), sid);
                        json_object_set_new(schedules, sid, json_deep_copy(sc));
                        json_object_set_new(cursors, sid, was && cur && json_equal(was, sc) ? json_incref((json_t *)cur)
                                                                                           : json_integer(ts));
                }
                json_object_set_new(old, "job", json_deep_copy(job));
                json_object_set_new(old, "schedules", schedules);
                json_object_set_new(old, "cursors", cursors);
                if (chronos)
                        json_object_set_new(old, "chronos", json_deep_copy(chronos));
                if (ret_result)
                        *ret_result = json_incref(old);
                return 0;
        }
        if (old)
                return err_set(err, -ERR_CONFLICT, "Job with this id already exists");
        if (json_object_size(records(s)) >= JOBS_MAX)
                return err_set(err, -ERR_INVALID, "At most %d jobs", JOBS_MAX);
        json_t *schedules = json_object(), *cursors = json_object();
        json_array_foreach(scheds, i, sc) {
                const char *sid = json_string_value(json_object_get(sc, "id"));
                json_object_set_new(schedules, sid, json_deep_copy(sc));
                json_object_set_new(cursors, sid, json_integer(ts));
        }
        json_t *rec = json_pack("{s:O,s:o,s:o,s:{},s:{s:i,s:i,s:n,s:n,s:[],s:[]},s:[]}", "job", job, "schedules", schedules,
                                "cursors", cursors, "active", "history", "successCount", 0, "failureCount", 0,
                                "lastSuccessAt", "lastFailureAt", "successful", "failed", "skipped");
        json_object_set_new(rec, "createdAt", json_integer(ts));
        if (chronos)
                json_object_set_new(rec, "chronos", json_deep_copy(chronos));
        json_object_set_new(records(s), id, rec);
        if (ret_result)
                *ret_result = json_incref(rec);
        return 0;
}

int fsm_job_update(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const json_t *job = json_object_get(cmd, "job");
        json_t *id = json_object_get(job, "id");
        json_t *probe = json_pack("{s:O}", "id", id ? id : json_null());
        json_t *rec = get_record(s, probe, err);
        json_decref(probe);
        if (!rec)
                return -ERR_NOT_FOUND;
        json_object_set_new(rec, "job", json_deep_copy(job));
        if (ret_result)
                *ret_result = json_incref(rec);
        return 0;
}

static bool depends_on(const json_t *job, const char *id) {
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(job, "dependencies"), i, d) {
                if (streq(json_string_value(json_object_get(d, "id")), id))
                        return true;
        }
        return false;
}

int fsm_job_delete(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        json_t *rec = get_record(s, cmd, err);
        if (!rec)
                return -ERR_NOT_FOUND;
        const char *id = json_string_value(json_object_get(cmd, "id"));
        if (json_object_size(json_object_get(rec, "active")) > 0 && !json_is_true(json_object_get(cmd, "stop")))
                return err_set(err, -ERR_CONFLICT, "There are active job runs. Override with stopCurrentJobRuns=true");
        const char *other;
        json_t *orec;
        json_object_foreach(records(s), other, orec) {
                if (depends_on(json_object_get(orec, "job"), id))
                        return err_set(err, -ERR_CONFLICT, "There are jobs with a dependency on %s: %s", id, other);
        }
        if (ret_result)
                *ret_result = json_incref(rec);
        json_object_del(records(s), id);
        return 0;
}

int fsm_job_schedule_put(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        const json_t *sched = json_object_get(cmd, "schedule");
        int64_t ts = 0;
        int r = get_ts(cmd, "job_schedule_put", &ts, err);
        if (r < 0 || (r = check_schedule(sched, "job_schedule_put", err)) < 0)
                return r;
        json_t *rec = get_record(s, cmd, err);
        if (!rec)
                return -ERR_NOT_FOUND;
        const char *sid = json_string_value(json_object_get(sched, "id"));
        json_t *schedules = json_object_get(rec, "schedules");
        json_t *old = json_object_get(schedules, sid);
        if (json_is_true(json_object_get(cmd, "create"))) {
                if (old)
                        return err_set(err, -ERR_CONFLICT, "A schedule with id %s already exists", sid);
                if (json_object_size(schedules) >= JOB_MAX_SCHEDULES)
                        return err_set(err, -ERR_CONFLICT, "Only one schedule supported at the moment");
                if (json_array_size(json_object_get(json_object_get(rec, "job"), "dependencies")) > 0)
                        return err_set(err, -ERR_INVALID, "A job may not have both dependencies and schedules");
        } else if (!old) {
                err_set(err, -ERR_NOT_FOUND, "Schedule not found");
                err_set_details(err, json_pack("{s:s}", "id", sid));
                return -ERR_NOT_FOUND;
        }
        /* A new or changed schedule counts its ticks from now: the ticks of an earlier cron, or
         * of the time it was disabled, are neither run nor reported. */
        json_object_set_new(json_object_get(rec, "cursors"), sid, json_integer(ts));
        json_object_set_new(schedules, sid, json_deep_copy(sched));
        if (ret_result)
                *ret_result = json_deep_copy(sched);
        return 0;
}

int fsm_job_schedule_delete(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        json_t *rec = get_record(s, cmd, err);
        if (!rec)
                return -ERR_NOT_FOUND;
        const char *sid = json_string_value(json_object_get(cmd, "schedule"));
        if (!sid || !json_object_get(json_object_get(rec, "schedules"), sid)) {
                err_set(err, -ERR_NOT_FOUND, "Schedule not found");
                err_set_details(err, json_pack("{s:s}", "id", sid ? sid : ""));
                return -ERR_NOT_FOUND;
        }
        json_object_del(json_object_get(rec, "schedules"), sid);
        json_object_del(json_object_get(rec, "cursors"), sid);
        return 0;
}

static int check_run(const json_t *run, const char *job_id, const char *what, struct err *err) {
        if (!json_is_object(run) || !json_is_string(json_object_get(run, "id")) ||
            !json_is_string(json_object_get(run, "status")) || !json_is_integer(json_object_get(run, "createdAt")) ||
            !json_is_array(json_object_get(run, "tasks")) ||
            !streq(json_string_value(json_object_get(run, "jobId")) ?: "", job_id))
                return err_set(err, -EINVAL, "%s: malformed run", what);
        return 0;
}

int fsm_job_tick(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        json_t *rec = get_record(s, cmd, err);
        if (!rec)
                return -ERR_NOT_FOUND;
        const char *id = json_string_value(json_object_get(cmd, "id"));
        const char *sid = json_string_value(json_object_get(cmd, "schedule"));
        const char *action = json_string_value(json_object_get(cmd, "action"));
        const json_t *tick = json_object_get(cmd, "tick"), *run = json_object_get(cmd, "run");
        int64_t ts = 0;
        int r = get_ts(cmd, "job_tick", &ts, err);
        if (r < 0)
                return r;
        if (!sid || !json_is_integer(tick) || !action || (!streq(action, "start") && !streq(action, "skip")))
                return err_set(err, -EINVAL, "job_tick: expected schedule, tick and action start|skip");
        json_t *cursor = json_object_get(json_object_get(rec, "cursors"), sid);
        if (!cursor)
                return err_set(err, -ERR_NOT_FOUND, "Schedule not found");
        /* The guard that makes a tick run at most once across leaders: a tick at or before the
         * cursor was handled already, by this leader or an earlier one. */
        if (json_integer_value(tick) <= json_integer_value(cursor))
                return err_set(err, -ERR_CONFLICT, "tick already handled");
        if (streq(action, "start")) {
                if ((r = check_run(run, id, "job_tick", err)) < 0)
                        return r;
                const char *rid = json_string_value(json_object_get(run, "id"));
                if (json_object_get(json_object_get(rec, "active"), rid))
                        return err_set(err, -ERR_CONFLICT, "run %s exists", rid);
                json_t *copy = json_deep_copy(run);
                json_object_set(copy, "tick", (json_t *)tick);
                json_object_set_new(copy, "schedule", json_string(sid));
                json_object_set_new(json_object_get(rec, "active"), rid, copy);
                json_object_set(rec, "lastRunAt", json_object_get(run, "createdAt"));
                if (ret_result)
                        *ret_result = json_incref(copy);
        } else {
                const json_t *first = json_object_get(cmd, "first"), *count = json_object_get(cmd, "count");
                const char *reason = json_string_value(json_object_get(cmd, "reason"));
                if (!json_is_integer(first) || !json_is_integer(count) || tick_skip_reason_from_string(reason) < 0)
                        return err_set(err, -EINVAL, "job_tick: a skip needs first, count and reason");
                json_t *skipped = json_object_get(rec, "skipped");
                json_array_insert_new(skipped, 0,
                                      json_pack("{s:s,s:O,s:O,s:O,s:s,s:I}", "schedule", sid, "first", first, "last", tick,
                                                "count", count, "reason", reason, "at", (json_int_t)ts));
                while (json_array_size(skipped) > JOB_SKIPS_MAX)
                        json_array_remove(skipped, json_array_size(skipped) - 1);
        }
        json_object_set(json_object_get(rec, "cursors"), sid, (json_t *)tick);
        return 0;
}

int fsm_job_run_start(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        json_t *rec = get_record(s, cmd, err);
        if (!rec)
                return -ERR_NOT_FOUND;
        const json_t *run = json_object_get(cmd, "run");
        int r = check_run(run, json_string_value(json_object_get(cmd, "id")), "job_run_start", err);
        if (r < 0)
                return r;
        const char *rid = json_string_value(json_object_get(run, "id"));
        if (json_object_get(json_object_get(rec, "active"), rid))
                return err_set(err, -ERR_CONFLICT, "run %s exists", rid);
        /* A dependency trigger says which last run it saw: a second leader's trigger for the
         * same parents' success finds a newer one and is refused. */
        const json_t *expect = json_object_get(cmd, "ifLastRunAt");
        if (expect && !json_equal((json_t *)expect, json_object_get(rec, "lastRunAt") ?: json_null()))
                return err_set(err, -ERR_CONFLICT, "job %s was triggered already", json_string_value(json_object_get(cmd, "id")));
        json_object_set_new(json_object_get(rec, "active"), rid, json_deep_copy(run));
        json_object_set(rec, "lastRunAt", json_object_get(run, "createdAt"));
        if (ret_result)
                *ret_result = json_deep_copy(run);
        return 0;
}

static void finish(json_t *rec, const char *rid, json_t *run) {
        json_t *h = json_object_get(rec, "history");
        bool ok = streq(json_string_value(json_object_get(run, "status")), "SUCCESS");
        const char *count = ok ? "successCount" : "failureCount";
        json_object_set_new(h, count, json_integer(json_integer_value(json_object_get(h, count)) + 1));
        json_object_set(h, ok ? "lastSuccessAt" : "lastFailureAt", json_object_get(run, "completedAt"));
        json_t *list = json_object_get(h, ok ? "successful" : "failed");
        json_array_insert(list, 0, run);
        while (json_array_size(list) > JOB_HISTORY_MAX)
                json_array_remove(list, json_array_size(list) - 1);
        json_object_del(json_object_get(rec, "active"), rid);
}

int fsm_job_run_update(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        json_t *rec = get_record(s, cmd, err);
        if (!rec)
                return -ERR_NOT_FOUND;
        const char *rid = json_string_value(json_object_get(cmd, "run"));
        json_t *run = rid ? json_object_get(json_object_get(rec, "active"), rid) : NULL;
        if (!run)
                return 0; /* finished (or never known): updates are idempotent */
        const json_t *status = json_object_get(cmd, "status"), *completed = json_object_get(cmd, "completedAt"),
                     *task = json_object_get(cmd, "task"), *attempts = json_object_get(cmd, "attempts");
        if ((status && !json_is_string(status)) || (completed && !json_is_integer(completed)) ||
            (task && (!json_is_object(task) || !json_is_string(json_object_get(task, "id")))) ||
            (attempts && !json_is_integer(attempts)))
                return err_set(err, -EINVAL, "job_run_update: malformed update");
        json_incref(run);
        if (task) {
                json_t *tasks = json_object_get(run, "tasks"), *t, *found = NULL;
                size_t i;
                json_array_foreach(tasks, i, t) {
                        if (streq(json_string_value(json_object_get(t, "id")), json_string_value(json_object_get(task, "id"))))
                                found = t;
                }
                if (!found) {
                        found = json_object();
                        json_array_append_new(tasks, found);
                }
                /* A task that ended stays ended (a late status of an earlier state changes nothing). */
                const char *cur = json_string_value(json_object_get(found, "status"));
                if (!json_object_get(found, "completedAt") || !cur)
                        json_object_update(found, (json_t *)task);
        }
        if (attempts)
                json_object_set(run, "attempts", (json_t *)attempts);
        if (json_is_true(json_object_get(cmd, "stopped")))
                json_object_set_new(run, "stopped", json_true());
        if (completed)
                json_object_set(run, "completedAt", (json_t *)completed);
        if (status)
                json_object_set(run, "status", (json_t *)status);
        if (ret_result)
                *ret_result = json_deep_copy(run);
        if (job_run_status_final(json_string_value(json_object_get(run, "status"))))
                finish(rec, rid, run);
        json_decref(run);
        return 0;
}
