/* job_scheduler.c — schedule ticks and run lifecycles on the leader (job_scheduler.h). */
#include "master/job_scheduler.h"

#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/due_heap.h"
#include "master/job_launch.h"
#include "master/master_internal.h"
#include "model/cron.h"
#include "model/job.h"
#include "model/task_state.h"
#include "model/tick.h"
#include "store/jobs.h"

/* Every job is looked at this often anyway: a safety net under the incremental passes (one
 * 10,000-job pass costs tens of milliseconds). */
#define SWEEP_MS 10000
/* A run that cannot be placed tries again this often. */
#define RETRY_MS 1000
/* A task with no status yet gets its LAUNCH again this often while its agent is connected (a
 * LAUNCH lost with a leader or a stream; the agent launches a task id at most once)… */
#define RESEND_MS 5000
/* …and is lost when its agent stays away this long. */
#define STAGING_LOST_MS 60000

struct job_scheduler {
        struct master *m;
        uv_timer_t timer;
        bool leading;
        bool pass_due;        /* a zero-delay pass is armed */
        bool full;            /* the next pass looks at every job (leadership, reconciliation) */
        int64_t last_full_ms; /* when a pass last looked at every job */
        json_t *dirty;        /* job id → true: look at these on the next pass */
        struct due_heap due;  /* (wake time, job id): a job's next decision time */
        json_t *wakes;        /* job id → the wake time pushed for it (one heap entry per job and time) */
        json_t *dependents;   /* job id → true: jobs with dependencies (looked at when any run ends) */
        /* job id → [job doc, app]: the app shape of the job's run spec (job_launch_app),
         * made when the job is first looked at, not at its tick (10,000 jobs due at once). */
        json_t *apps;
        json_t *inflight;     /* "t:<job>/<schedule>" or "r:<run>" → true: a command is being committed */
        json_t *reservations; /* task id → placement reservation id */
        json_t *killing;      /* task id → true: KILL sent */
        json_t *sent;         /* task id → ms: when this leader last sent its LAUNCH (or first saw it staging) */
        /* "<job>/<schedule>" → [cursor, next tick, schedule doc address]: the tick after a cursor,
         * computed once per cursor (a pass over 10,000 schedules must not redo their cron math). */
        json_t *next_cache;
        /* Commands submitted and not answered yet: the object outlives its timer until the
         * store has answered them all (a stopping master's store fails them after we close). */
        unsigned pending;
        bool closed;
        unsigned ticks_started; /* by the current pass (one log line per pass, not per job) */
};

static void destroy(struct job_scheduler *js) {
        json_decref(js->inflight);
        json_decref(js->reservations);
        json_decref(js->killing);
        json_decref(js->sent);
        json_decref(js->next_cache);
        json_decref(js->dirty);
        json_decref(js->wakes);
        json_decref(js->dependents);
        json_decref(js->apps);
        due_heap_release(&js->due);
        free(js);
}

/* Counts one answered command; true when the scheduler is gone and the caller must stop. */
static bool answered(struct job_scheduler *js) {
        js->pending--;
        if (!js->closed)
                return false;
        if (js->pending == 0)
                destroy(js);
        return true;
}

static void arm(struct job_scheduler *js, int64_t delay_ms);

int64_t job_scheduler_next_run(const void *schedule_json, int64_t after_ms) {
        const json_t *s = schedule_json;
        int64_t next;
        if (!json_is_true(json_object_get(s, "enabled")) || job_schedule_next(s, after_ms, &next) < 0)
                return -1;
        return next;
}

struct cached_schedule {
        const json_t *schedule;
        json_t *entry; /* the cache's array for this schedule */
        int64_t cursor;
};

static int next_cb(const void *data, int64_t after_ms, int64_t *ret_ms) {
        const struct cached_schedule *cs = data;
        json_t *e = cs->entry;
        if (after_ms == cs->cursor && json_integer_value(json_array_get(e, 0)) == cs->cursor &&
            json_integer_value(json_array_get(e, 2)) == (json_int_t)(uintptr_t)cs->schedule) {
                json_int_t n = json_integer_value(json_array_get(e, 1));
                if (n < 0)
                        return -ENOENT;
                *ret_ms = n;
                return 0;
        }
        int64_t next = -1;
        int r = job_schedule_next(cs->schedule, after_ms, &next);
        if (after_ms == cs->cursor) {
                json_array_clear(e);
                json_array_append_new(e, json_integer(cs->cursor));
                json_array_append_new(e, json_integer(r < 0 ? -1 : next));
                json_array_append_new(e, json_integer((json_int_t)(uintptr_t)cs->schedule));
        }
        if (r < 0)
                return r;
        *ret_ms = next;
        return 0;
}

/* --- committing ------------------------------------------------------------------------------ */

struct submit_ctx {
        struct job_scheduler *js;
        char *key;    /* the inflight entry this command holds */
        char *job;    /* the job it is about: looked at again once answered */
        char *what;   /* for the log */
        /* After a committed task assignment: send its LAUNCH. */
        char *agent_id, *task_id, *reservation;
        json_t *app;
};

static void submit_done(void *data, int status, json_t *result, struct err *err) {
        struct submit_ctx *c = data;
        struct job_scheduler *js = c->js;
        if (answered(js)) {
                c->js = NULL;
                goto out;
        }
        json_object_del(js->inflight, c->key);
        if (status < 0) {
                /* A tick another leader handled is not an error worth more than a line. */
                log_info("jobs: %s not committed: %s", c->what, err_msg(err));
                if (c->reservation)
                        job_launch_release(js->m, c->reservation);
        } else if (c->task_id && js->leading) {
                json_object_set_new(js->reservations, c->task_id, json_string(c->reservation));
                json_object_set_new(js->sent, c->task_id, json_integer(time_now_ms()));
                /* An agent without a stream gets it again once it subscribes (run_step). */
                job_launch_send(js->m, c->agent_id, c->app, c->task_id);
        }
        if (!js->m->stopping)
                job_scheduler_poke_job(js, c->job);
out:
        json_decref(c->app);
        free(c->agent_id);
        free(c->task_id);
        free(c->reservation);
        free(c->key);
        free(c->job);
        free(c->what);
        free(c);
}

static struct submit_ctx *submit(struct job_scheduler *js, const char *key, json_t *cmd, const char *what) {
        struct submit_ctx *c = xcalloc(1, sizeof *c);
        c->js = js;
        c->key = xstrdup(key);
        c->job = xstrdup(json_string_value(json_object_get(cmd, "id")) ?: "");
        c->what = xstrdup(what);
        json_object_set_new(js->inflight, key, json_true());
        json_object_set_new(cmd, "v", json_integer(1));
        js->pending++;
        store_submit(js->m->store, cmd, submit_done, c);
        return c;
}

/* --- ticks ----------------------------------------------------------------------------------- */

static int run_app(struct job_scheduler *js, const char *job_id, const json_t *job, json_t **ret, struct err *err);

/* Places the first task of a new run right away, so "tick T started run R on agent A" is one
 * commit before the LAUNCH. Returns the submit's launch fields to fill, or leaves the run
 * without a task when nothing fits now (its run step places it later). */
static void place_first(struct job_scheduler *js, const char *job_id, const json_t *job, json_t *run,
                        struct submit_ctx *launch) {
        json_t *app = NULL;
        struct err e = { 0 };
        if (run_app(js, job_id, job, &app, &e) < 0) {
                err_release(&e);
                return;
        }
        char *task_id = job_run_task_id(job_id, json_string_value(json_object_get(run, "id")), 1);
        char *reservation = NULL;
        json_t *reasons = NULL;
        char *agent = job_launch_place(js->m, app, &reservation, &reasons);
        if (!agent) {
                json_decref(reasons);
                json_decref(app);
                free(task_id);
                return;
        }
        json_object_set_new(run, "status", json_string("STARTING"));
        json_object_set_new(run, "attempts", json_integer(1));
        json_array_append_new(json_object_get(run, "tasks"),
                              json_pack("{s:s,s:s,s:s,s:I}", "id", task_id, "agentId", agent, "status", "TASK_STAGING",
                                        "startedAt", (json_int_t)time_now_ms()));
        launch->agent_id = agent;
        launch->task_id = task_id;
        launch->reservation = reservation;
        launch->app = app;
}

static void schedule_step(struct job_scheduler *js, const char *job_id, const json_t *rec, const char *sid,
                          const json_t *sched, int64_t now, int64_t *wake) {
        _cleanup_free_ char *key = xasprintf("t:%s/%s", job_id, sid);
        if (json_object_get(js->inflight, key))
                return;
        json_t *entry = json_object_get(js->next_cache, key + 2);
        if (!entry) {
                entry = json_array();
                json_object_set_new(js->next_cache, key + 2, entry);
        }
        struct cached_schedule cs = {
                .schedule = sched,
                .entry = entry,
                .cursor = json_integer_value(json_object_get(json_object_get(rec, "cursors"), sid)),
        };
        struct tick_input in = {
                .next = next_cb,
                .schedule = &cs,
                .cursor_ms = cs.cursor,
                .now_ms = now,
                .deadline_ms = json_integer_value(json_object_get(sched, "startingDeadlineSeconds")) * 1000,
                .enabled = json_is_true(json_object_get(sched, "enabled")),
                .forbid = streq(json_string_value(json_object_get(sched, "concurrencyPolicy")) ?: "", "FORBID"),
                .active_runs = (unsigned)json_object_size(json_object_get(rec, "active")),
        };
        struct tick_decision d;
        tick_decide(&in, &d);
        if (d.action == TICK_NOTHING) {
                if (d.wake_ms < *wake)
                        *wake = d.wake_ms;
                return;
        }
        json_t *cmd = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "type", "job_tick", "id", job_id, "schedule", sid, "tick",
                                (json_int_t)d.tick_ms, "ts", (json_int_t)now, "action",
                                tick_action_to_string(d.action));
        char what[160];
        struct submit_ctx launch = { 0 };
        if (d.action == TICK_START) {
                json_t *run = job_run_new(job_id, now);
                place_first(js, job_id, json_object_get(rec, "job"), run, &launch);
                snprintf(what, sizeof what, "tick %lld of %s/%s (run %s)", (long long)d.tick_ms, job_id, sid,
                         json_string_value(json_object_get(run, "id")));
                log_debug("jobs: %s: starting, %lld ms after the tick", what, (long long)(now - d.tick_ms));
                js->ticks_started++;
                json_object_set_new(cmd, "run", run);
        } else {
                snprintf(what, sizeof what, "%u tick(s) of %s/%s up to %lld", d.count, job_id, sid, (long long)d.tick_ms);
                log_info("jobs: %s skipped (%s)", what, tick_skip_reason_to_string(d.reason));
                json_object_set_new(cmd, "first", json_integer(d.first_ms));
                json_object_set_new(cmd, "count", json_integer(d.count));
                json_object_set_new(cmd, "reason", json_string(tick_skip_reason_to_string(d.reason)));
        }
        struct submit_ctx *c = submit(js, key, cmd, what);
        c->agent_id = launch.agent_id;
        c->task_id = launch.task_id;
        c->reservation = launch.reservation;
        c->app = launch.app;
}

/* --- runs ------------------------------------------------------------------------------------ */

static json_t *run_update(const char *job_id, const char *run_id) {
        return json_pack("{s:s,s:s,s:s}", "type", "job_run_update", "id", job_id, "run", run_id);
}

static void finish_run(struct job_scheduler *js, const char *key, const char *job_id, const char *run_id,
                       const char *status, int64_t now) {
        json_t *cmd = run_update(job_id, run_id);
        json_object_set_new(cmd, "status", json_string(status));
        json_object_set_new(cmd, "completedAt", json_integer(now));
        char what[160];
        snprintf(what, sizeof what, "run %s of %s: %s", run_id, job_id, status);
        log_info("jobs: %s", what);
        submit(js, key, cmd, what);
}

static const json_t *schedule_of(const json_t *rec, const json_t *run) {
        const char *sid = json_string_value(json_object_get(run, "schedule"));
        return sid ? json_object_get(json_object_get(rec, "schedules"), sid) : NULL;
}

/* The app a run of job runs as (new reference). One per job definition, versioned when it was
 * made: the agents key apps by id@version and placement parses constraints once per version, so
 * a version per run would cost both of them per run. */
static int run_app(struct job_scheduler *js, const char *job_id, const json_t *job, json_t **ret, struct err *err) {
        json_t *e = json_object_get(js->apps, job_id);
        /* The entry holds a reference to the job document it was made from, so that address
         * cannot be reused by a newer definition while the entry lives. */
        if (!e || json_array_get(e, 0) != job) {
                json_t *app = NULL;
                int r = job_launch_app(job, time_now_ms(), &app, err);
                if (r < 0)
                        return r;
                e = json_pack("[O,o]", (json_t *)job, app);
                json_object_set_new(js->apps, job_id, e);
        }
        *ret = json_incref(json_array_get(e, 1));
        return 0;
}

/* A task committed to an agent that has not reported it yet: send its LAUNCH again now and
 * then while the agent is connected; call it lost when the agent stays away. */
static void staging_step(struct job_scheduler *js, const char *job_id, const json_t *job, const json_t *run,
                         const json_t *task, int64_t now, int64_t *wake) {
        const char *tid = json_string_value(json_object_get(task, "id"));
        const char *agent = json_string_value(json_object_get(task, "agentId"));
        const json_t *sent = json_object_get(js->sent, tid);
        int64_t at = json_integer_value(sent);
        if (sent && now < at + RESEND_MS) {
                if (at + RESEND_MS < *wake)
                        *wake = at + RESEND_MS;
                return;
        }
        if (!agent_link_connected(&js->m->core.agents, agent)) {
                if (!sent) {
                        json_object_set_new(js->sent, tid, json_integer(now)); /* the clock starts now */
                } else if (now >= at + STAGING_LOST_MS) {
                        job_scheduler_task_status(js, agent, tid, "TASK_LOST", "Agent did not come back", now);
                        return;
                }
                if (now + RESEND_MS < *wake)
                        *wake = now + RESEND_MS;
                return;
        }
        json_t *app = NULL;
        struct err e = { 0 };
        if (run_app(js, job_id, job, &app, &e) == 0) {
                job_launch_send(js->m, agent, app, tid);
                json_decref(app);
        }
        err_release(&e);
        json_object_set_new(js->sent, tid, json_integer(now));
        if (now + RESEND_MS < *wake)
                *wake = now + RESEND_MS;
}

static void run_step(struct job_scheduler *js, const char *job_id, const json_t *rec, const char *run_id,
                     const json_t *run, int64_t now, int64_t *wake) {
        _cleanup_free_ char *key = xasprintf("r:%s", run_id);
        if (json_object_get(js->inflight, key))
                return;
        const json_t *job = json_object_get(rec, "job");
        const json_t *tasks = json_object_get(run, "tasks");
        const json_t *last = json_array_get(tasks, json_array_size(tasks) - 1);
        bool stopped = json_is_true(json_object_get(run, "stopped"));
        if (last) {
                const char *st = json_string_value(json_object_get(last, "status"));
                int s = task_state_from_string(st ?: "");
                if (s < 0 || !task_state_is_terminal((enum task_state)s)) {
                        const char *tid = json_string_value(json_object_get(last, "id"));
                        if (stopped && !json_object_get(js->killing, tid)) {
                                const json_t *grace = json_object_get(json_object_get(job, "run"), "taskKillGracePeriodSeconds");
                                job_launch_kill(js->m, json_string_value(json_object_get(last, "agentId")), tid,
                                                grace ? (unsigned)json_number_value(grace) : 3);
                                json_object_set_new(js->killing, tid, json_true());
                        }
                        if (s == TASK_STAGING && !stopped)
                                staging_step(js, job_id, job, run, last, now, wake);
                        return; /* running: its status updates drive what comes next */
                }
                const json_t *restart = json_object_get(json_object_get(job, "run"), "restart");
                struct tick_run_input in = {
                        .task_finished = s == TASK_FINISHED,
                        .on_failure = streq(json_string_value(json_object_get(restart, "policy")) ?: "", "ON_FAILURE"),
                        .stopped = stopped,
                        .created_ms = json_integer_value(json_object_get(run, "createdAt")),
                        .active_deadline_ms = json_integer_value(json_object_get(restart, "activeDeadlineSeconds")) * 1000,
                        .now_ms = now,
                        .attempts = (unsigned)json_integer_value(json_object_get(run, "attempts")),
                };
                const json_t *chronos = json_object_get(rec, "chronos");
                if (chronos)
                        in.max_attempts = (unsigned)json_integer_value(json_object_get(chronos, "retries")) + 1;
                enum tick_run_outcome o = tick_run_decide(&in);
                if (o != TICK_RUN_RELAUNCH) {
                        finish_run(js, key, job_id, run_id, o == TICK_RUN_SUCCESS ? "SUCCESS" : "FAILED", now);
                        return;
                }
                /* ON_FAILURE: a new task, after the launch delay's first step. */
                int64_t ended = json_integer_value(json_object_get(last, "completedAt"));
                if (now < ended + RETRY_MS) {
                        if (ended + RETRY_MS < *wake)
                                *wake = ended + RETRY_MS;
                        return;
                }
        } else if (stopped) {
                finish_run(js, key, job_id, run_id, "FAILED", now);
                return;
        }
        /* "A scheduled run that has not started a task within startingDeadlineSeconds is
         * aborted" (api.md §5.3); manual runs have no deadline. */
        const json_t *sched = schedule_of(rec, run);
        if (sched && !last) {
                int64_t deadline = json_integer_value(json_object_get(run, "tick")) +
                                   json_integer_value(json_object_get(sched, "startingDeadlineSeconds")) * 1000;
                if (now > deadline) {
                        finish_run(js, key, job_id, run_id, "FAILED", now);
                        return;
                }
        }
        struct err e = { 0 };
        json_t *app = NULL;
        if (run_app(js, job_id, job, &app, &e) < 0) {
                log_warn("jobs: %s", err_msg(&e));
                err_release(&e);
                finish_run(js, key, job_id, run_id, "FAILED", now);
                return;
        }
        unsigned attempt = (unsigned)json_integer_value(json_object_get(run, "attempts")) + 1;
        _cleanup_free_ char *task_id = job_run_task_id(job_id, run_id, attempt);
        char *reservation = NULL;
        json_t *reasons = NULL;
        char *agent = job_launch_place(js->m, app, &reservation, &reasons);
        if (!agent) {
                _cleanup_free_ char *r = json_compact(reasons);
                log_debug("jobs: run %s of %s waits for resources: %s", run_id, job_id, r);
                /* The scheduler's budget for this loop turn is spent: the next turn, not in a second. */
                int64_t again = json_object_get(reasons, "Deferred") ? now : now + RETRY_MS;
                json_decref(reasons);
                json_decref(app);
                if (again < *wake)
                        *wake = again;
                return;
        }
        json_t *cmd = run_update(job_id, run_id);
        if (streq(json_string_value(json_object_get(run, "status")) ?: "", "INITIAL"))
                json_object_set_new(cmd, "status", json_string("STARTING"));
        json_object_set_new(cmd, "attempts", json_integer(attempt));
        json_object_set_new(cmd, "task", json_pack("{s:s,s:s,s:s,s:I}", "id", task_id, "agentId", agent, "status",
                                                   "TASK_STAGING", "startedAt", (json_int_t)time_now_ms()));
        char what[200];
        snprintf(what, sizeof what, "task %s on agent %s", task_id, agent);
        struct submit_ctx *c = submit(js, key, cmd, what);
        c->agent_id = agent;
        c->task_id = xstrdup(task_id);
        c->reservation = reservation;
        c->app = app;
}

/* --- dependencies ---------------------------------------------------------------------------- */

/* Chronos's dependent jobs (and Metronome's "dependencies"): a job runs once every parent has
 * succeeded since the job's own last run (or its creation), and none of its runs is active. */
static void dependency_step(struct job_scheduler *js, const char *job_id, const json_t *rec, int64_t now) {
        const json_t *deps = json_object_get(json_object_get(rec, "job"), "dependencies");
        if (json_array_size(deps) == 0 || json_object_size(json_object_get(rec, "active")) > 0)
                return;
        _cleanup_free_ char *key = xasprintf("d:%s", job_id);
        if (json_object_get(js->inflight, key))
                return;
        const json_t *last = json_object_get(rec, "lastRunAt");
        int64_t since = json_integer_value(json_object_get(rec, "createdAt"));
        if (json_integer_value(last) > since)
                since = json_integer_value(last);
        const struct state *st = store_state(js->m->store);
        size_t i;
        json_t *d;
        json_array_foreach(deps, i, d) {
                const json_t *p = state_job_get(st, json_string_value(json_object_get(d, "id")));
                const json_t *ok = json_object_get(json_object_get(p, "history"), "lastSuccessAt");
                if (!json_is_integer(ok) || json_integer_value(ok) <= since)
                        return;
        }
        json_t *run = job_run_new(job_id, now);
        json_object_set_new(run, "trigger", json_string("dependency"));
        char what[160];
        snprintf(what, sizeof what, "run %s of %s (its parents succeeded)", json_string_value(json_object_get(run, "id")),
                 job_id);
        log_info("jobs: %s", what);
        submit(js, key,
               json_pack("{s:s,s:s,s:o,s:O,s:I}", "type", "job_run_start", "id", job_id, "run", run, "ifLastRunAt",
                         last ? last : json_null(), "ts", (json_int_t)now),
               what);
}

/* --- the pass -------------------------------------------------------------------------------- */

/* Everything one job needs now; returns when to look at it again (INT64_MAX: on a change). */
static int64_t job_step(struct job_scheduler *js, const char *job_id, const json_t *rec, int64_t now) {
        int64_t wake = INT64_MAX;
        if (json_object_size(json_object_get(rec, "schedules")) > 0) {
                json_t *warm = NULL;
                struct err e = { 0 };
                if (run_app(js, job_id, json_object_get(rec, "job"), &warm, &e) < 0)
                        log_warn("jobs: %s", err_msg(&e)); /* its runs will fail with this */
                json_decref(warm);
                err_release(&e);
        }
        const char *sid;
        json_t *sched;
        json_object_foreach(json_object_get(rec, "schedules"), sid, sched)
                schedule_step(js, job_id, rec, sid, sched, now, &wake);
        const char *rid;
        json_t *run;
        json_object_foreach(json_object_get(rec, "active"), rid, run)
                run_step(js, job_id, rec, rid, run, now, &wake);
        if (json_array_size(json_object_get(json_object_get(rec, "job"), "dependencies")) > 0) {
                json_object_set_new(js->dependents, job_id, json_true());
                dependency_step(js, job_id, rec, now);
        }
        return wake;
}

static void schedule_wake(struct job_scheduler *js, const char *job_id, int64_t wake) {
        if (wake == INT64_MAX)
                return;
        const json_t *have = json_object_get(js->wakes, job_id);
        if (have && json_integer_value(have) <= wake)
                return; /* an earlier (or the same) entry is in the heap already */
        json_object_set_new(js->wakes, job_id, json_integer(wake));
        due_heap_push(&js->due, wake, job_id);
}

static void step_one(struct job_scheduler *js, const struct state *st, const char *job_id, int64_t now) {
        const json_t *rec = state_job_get(st, job_id);
        if (!rec) {
                json_object_del(js->dependents, job_id);
                json_object_del(js->apps, job_id);
                return;
        }
        schedule_wake(js, job_id, job_step(js, job_id, rec, now));
}

/* One pass: the dirty jobs and those whose wake time came (all of them when full). A job's
 * decision is cheap, but 10,000 jobs must not be looked at for every commit of one. */
static void pass(struct job_scheduler *js) {
        js->pass_due = false;
        if (!js->leading || js->m->stopping || !js->m->store)
                return;
        const struct state *st = store_state(js->m->store);
        int64_t now = time_now_ms();
        if (js->full || now - js->last_full_ms >= SWEEP_MS) {
                js->full = false;
                js->last_full_ms = now;
                json_object_clear(js->dirty);
                const char *job_id;
                json_t *rec;
                json_object_foreach((json_t *)state_jobs(st), job_id, rec)
                        schedule_wake(js, job_id, job_step(js, job_id, rec, now));
        } else {
                json_t *dirty = js->dirty;
                js->dirty = json_object();
                int64_t due;
                while (due_heap_peek(&js->due, &due) && due <= now) {
                        _cleanup_free_ char *id = due_heap_pop(&js->due, &due);
                        const json_t *have = json_object_get(js->wakes, id);
                        if (have && json_integer_value(have) == due)
                                json_object_del(js->wakes, id);
                        json_object_set_new(dirty, id, json_true());
                }
                const char *job_id;
                json_t *v;
                json_object_foreach(dirty, job_id, v) step_one(js, st, job_id, now);
                json_decref(dirty);
        }
        if (js->ticks_started > 0) {
                log_info("jobs: runs started for %u schedule tick(s) (a pass of %lld ms)", js->ticks_started,
                         (long long)(time_now_ms() - now));
                js->ticks_started = 0;
        }
        int64_t next;
        if (json_object_size(js->dirty) > 0 || js->full)
                arm(js, 0);
        else if (due_heap_peek(&js->due, &next) && next < js->last_full_ms + SWEEP_MS)
                arm(js, next > now ? next - now : 0);
        else
                arm(js, js->last_full_ms + SWEEP_MS > now ? js->last_full_ms + SWEEP_MS - now : 0);
}

static void timer_cb(uv_timer_t *t) {
        pass(t->data);
}

static void arm(struct job_scheduler *js, int64_t delay_ms) {
        /* libuv's clock is cached per loop iteration: measure the delay from the real clock. */
        uv_update_time(js->m->loop);
        uv_timer_start(&js->timer, timer_cb, (uint64_t)delay_ms, 0);
}

static void pass_soon(struct job_scheduler *js) {
        if (js->pass_due)
                return;
        js->pass_due = true;
        uv_timer_start(&js->timer, timer_cb, 0, 0);
}

void job_scheduler_poke(struct job_scheduler *js) {
        if (!js || !js->leading)
                return;
        js->full = true;
        pass_soon(js);
}

void job_scheduler_poke_job(struct job_scheduler *js, const char *job_id) {
        if (!js || !js->leading || !job_id)
                return;
        json_object_set_new(js->dirty, job_id, json_true());
        /* A run that ends may be what a dependent job waits for. */
        const char *dep;
        json_t *v;
        json_object_foreach(js->dependents, dep, v) json_object_set_new(js->dirty, dep, json_true());
        pass_soon(js);
}

struct job_scheduler *job_scheduler_new(struct master *m) {
        /* Defines TZ now, on the main thread, so that later zone switches (cron.h) only replace
         * an existing environment entry. */
        cron_tz_offset(NULL, 0);
        struct job_scheduler *js = xcalloc(1, sizeof *js);
        js->m = m;
        js->inflight = json_object();
        js->reservations = json_object();
        js->killing = json_object();
        js->sent = json_object();
        js->next_cache = json_object();
        js->dirty = json_object();
        js->wakes = json_object();
        js->dependents = json_object();
        js->apps = json_object();
        due_heap_init(&js->due);
        uv_timer_init(m->loop, &js->timer);
        js->timer.data = js;
        return js;
}

static void closed_cb(uv_handle_t *h) {
        struct job_scheduler *js = h->data;
        js->closed = true;
        if (js->pending == 0)
                destroy(js);
}

void job_scheduler_free(struct job_scheduler *js) {
        if (!js)
                return;
        js->leading = false;
        uv_close((uv_handle_t *)&js->timer, closed_cb);
}

void job_scheduler_leadership(struct job_scheduler *js, bool leading) {
        if (!js || js->leading == leading)
                return;
        js->leading = leading;
        if (leading) {
                log_info("jobs: leading: %zu job(s)", json_object_size((json_t *)state_jobs(store_state(js->m->store))));
                js->pass_due = false;
                job_scheduler_poke(js);
        } else {
                uv_timer_stop(&js->timer);
                js->pass_due = false;
                json_object_clear(js->reservations); /* the placement view goes with leadership */
                json_object_clear(js->killing);
                json_object_clear(js->sent);
                json_object_clear(js->next_cache);
                json_object_clear(js->dirty);
                json_object_clear(js->wakes);
                due_heap_release(&js->due);
                due_heap_init(&js->due);
        }
}

void job_scheduler_stop_run(struct job_scheduler *js, const char *job_id, const char *run_id) {
        job_scheduler_poke_job(js, job_id); /* its step kills the stopped run's live task */
}

/* The run's task with this id, if the run is active. */
static const json_t *find_task(struct job_scheduler *js, const char *task_id, char **ret_job, char **ret_run) {
        char *job = NULL, *run = NULL;
        if (!js || !js->m->store || job_run_task_parse(task_id, &job, &run) < 0)
                return NULL;
        const json_t *r = state_job_active_run(store_state(js->m->store), job, run);
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(r, "tasks"), i, t) {
                if (streq(json_string_value(json_object_get(t, "id")), task_id)) {
                        *ret_job = job;
                        *ret_run = run;
                        return t;
                }
        }
        free(job);
        free(run);
        return NULL;
}

static bool terminal(const json_t *task) {
        int s = task_state_from_string(json_string_value(json_object_get(task, "status")) ?: "");
        return s >= 0 && task_state_is_terminal((enum task_state)s);
}

bool job_scheduler_owns_task(struct job_scheduler *js, const char *agent_id, const char *task_id) {
        _cleanup_free_ char *job = NULL, *run = NULL;
        const json_t *t = find_task(js, task_id, &job, &run);
        return t && !terminal(t) && streq(json_string_value(json_object_get(t, "agentId")) ?: "", agent_id);
}

struct status_ctx {
        struct job_scheduler *js;
        char *job;
};

static void status_done(void *data, int status, json_t *result, struct err *err) {
        struct status_ctx *c = data;
        struct job_scheduler *js = c->js;
        if (!answered(js)) {
                if (status < 0)
                        log_warn("jobs: task status not committed: %s", err_msg(err));
                else if (!js->m->stopping)
                        job_scheduler_poke_job(js, c->job);
        }
        free(c->job);
        free(c);
}

bool job_scheduler_task_status(struct job_scheduler *js, const char *agent_id, const char *task_id,
                               const char *state, const char *message, int64_t ts_ms) {
        _cleanup_free_ char *job = NULL, *run_id = NULL;
        const json_t *t = find_task(js, task_id, &job, &run_id);
        if (!t)
                return false;
        int s = task_state_from_string(state);
        if (s < 0 || terminal(t) || !streq(json_string_value(json_object_get(t, "agentId")) ?: "", agent_id) ||
            streq(json_string_value(json_object_get(t, "status")) ?: "", state))
                return true; /* ours, nothing new */
        const json_t *run = state_job_active_run(store_state(js->m->store), job, run_id);
        json_t *cmd = run_update(job, run_id);
        json_t *task = json_pack("{s:s,s:s}", "id", task_id, "status", state);
        if (task_state_is_terminal((enum task_state)s)) {
                json_object_set_new(task, "completedAt", json_integer(ts_ms));
                const char *res = json_string_value(json_object_get(js->reservations, task_id));
                job_launch_release(js->m, res);
                json_object_del(js->reservations, task_id);
                json_object_del(js->killing, task_id);
                json_object_del(js->sent, task_id);
                log_info("jobs: task %s: %s%s%s", task_id, state, message ? ": " : "", message ?: "");
        } else if (s == TASK_RUNNING && !streq(json_string_value(json_object_get(run, "status")) ?: "", "ACTIVE")) {
                json_object_set_new(cmd, "status", json_string("ACTIVE"));
        }
        json_object_set_new(cmd, "task", task);
        json_object_set_new(cmd, "v", json_integer(1));
        js->pending++;
        struct status_ctx *c = xcalloc(1, sizeof *c);
        c->js = js;
        c->job = xstrdup(job);
        store_submit(js->m->store, cmd, status_done, c);
        return true;
}

void job_scheduler_agent_reconciled(struct job_scheduler *js, const char *agent_id, const void *reported_json) {
        if (!js || !js->leading)
                return;
        const json_t *reported = reported_json;
        json_t *seen = json_object();
        size_t i;
        json_t *t;
        json_array_foreach(reported, i, t) {
                const char *id = json_string_value(json_object_get(t, "taskId"));
                if (id)
                        json_object_set_new(seen, id, json_true());
        }
        int64_t now = time_now_ms();
        json_t *lost = json_array();
        const char *job_id;
        json_t *rec;
        json_object_foreach((json_t *)state_jobs(store_state(js->m->store)), job_id, rec) {
                const char *rid;
                json_t *run;
                json_object_foreach(json_object_get(rec, "active"), rid, run) {
                        json_array_foreach(json_object_get(run, "tasks"), i, t) {
                                const char *tid = json_string_value(json_object_get(t, "id"));
                                if (terminal(t) || !streq(json_string_value(json_object_get(t, "agentId")) ?: "", agent_id) ||
                                    json_object_get(seen, tid))
                                        continue;
                                if (streq(json_string_value(json_object_get(t, "status")) ?: "", "TASK_STAGING"))
                                        json_object_del(js->sent, tid); /* resend on this pass */
                                else
                                        json_array_append_new(lost, json_string(tid));
                        }
                }
        }
        json_array_foreach(lost, i, t)
                job_scheduler_task_status(js, agent_id, json_string_value(t), "TASK_LOST",
                                          "Task was not reported by its agent on resubscription", now);
        json_decref(lost);
        json_decref(seen);
        job_scheduler_poke(js);
}
