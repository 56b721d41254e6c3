/* job_scheduler.c — schedule ticks and run lifecycles on the leader (job_scheduler.h). */
#include "master/job_scheduler.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "master/job_launch.h"
#include "master/master_internal.h"
#include "model/job.h"
#include "model/task_state.h"
#include "model/tick.h"
#include "store/jobs.h"

/* A run that cannot be placed tries again this often. */
#define RETRY_MS 1000

struct job_scheduler {
        struct master *m;
        uv_timer_t timer;
        bool leading;
        bool pass_due;        /* a zero-delay pass is armed */
        json_t *inflight;     /* "t:<job>/<schedule>" or "r:<run>" → true: a command is being committed */
        json_t *reservations; /* task id → placement reservation id */
        json_t *killing;      /* task id → true: KILL sent */
};

static void arm(struct job_scheduler *js, int64_t delay_ms);

int64_t job_scheduler_next_run(const void *schedule_json, int64_t after_ms) {
        const json_t *s = schedule_json;
        int64_t next;
        if (!json_is_true(json_object_get(s, "enabled")) || job_schedule_next(s, after_ms, &next) < 0)
                return -1;
        return next;
}

static int next_cb(const void *schedule, int64_t after_ms, int64_t *ret_ms) {
        return job_schedule_next(schedule, after_ms, ret_ms);
}

/* --- committing ------------------------------------------------------------------------------ */

struct submit_ctx {
        struct job_scheduler *js;
        char *key;    /* the inflight entry this command holds */
        char *what;   /* for the log */
        /* After a committed task assignment: send its LAUNCH. */
        char *agent_id, *task_id, *reservation;
        json_t *app;
};

static void submit_done(void *data, int status, json_t *result, struct err *err) {
        struct submit_ctx *c = data;
        struct job_scheduler *js = c->js;
        json_object_del(js->inflight, c->key);
        if (status < 0) {
                /* A tick another leader handled is not an error worth more than a line. */
                log_info("jobs: %s not committed: %s", c->what, err_msg(err));
                if (c->reservation)
                        job_launch_release(js->m, c->reservation);
        } else if (c->task_id && js->leading) {
                json_object_set_new(js->reservations, c->task_id, json_string(c->reservation));
                if (!job_launch_send(js->m, c->agent_id, c->app, c->task_id)) {
                        /* The agent has no stream: the task will never start. */
                        job_scheduler_task_status(js, c->agent_id, c->task_id, "TASK_LOST", "Agent not connected",
                                                  time_now_ms());
                }
        }
        if (!js->m->stopping)
                job_scheduler_poke(js);
        json_decref(c->app);
        free(c->agent_id);
        free(c->task_id);
        free(c->reservation);
        free(c->key);
        free(c->what);
        free(c);
}

static struct submit_ctx *submit(struct job_scheduler *js, const char *key, json_t *cmd, const char *what) {
        struct submit_ctx *c = xcalloc(1, sizeof *c);
        c->js = js;
        c->key = xstrdup(key);
        c->what = xstrdup(what);
        json_object_set_new(js->inflight, key, json_true());
        json_object_set_new(cmd, "v", json_integer(1));
        store_submit(js->m->store, cmd, submit_done, c);
        return c;
}

/* --- ticks ----------------------------------------------------------------------------------- */

static void new_run(const char *job_id, int64_t now, json_t **ret) {
        uint8_t rnd[5];
        if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
                memset(rnd, 0, sizeof rnd); /* never happens after boot; ids stay unique by time */
        char id[20];
        job_run_id(now, rnd, id);
        *ret = json_pack("{s:s,s:s,s:s,s:I,s:[],s:i}", "id", id, "jobId", job_id, "status", "INITIAL", "createdAt",
                         (json_int_t)now, "tasks", "attempts", 0);
}

static void schedule_step(struct job_scheduler *js, const char *job_id, const json_t *rec, const char *sid,
                          const json_t *sched, int64_t now, int64_t *wake) {
        _cleanup_free_ char *key = xasprintf("t:%s/%s", job_id, sid);
        if (json_object_get(js->inflight, key))
                return;
        struct tick_input in = {
                .next = next_cb,
                .schedule = sched,
                .cursor_ms = json_integer_value(json_object_get(json_object_get(rec, "cursors"), sid)),
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
        if (d.action == TICK_START) {
                json_t *run;
                new_run(job_id, now, &run);
                snprintf(what, sizeof what, "tick %lld of %s/%s (run %s)", (long long)d.tick_ms, job_id, sid,
                         json_string_value(json_object_get(run, "id")));
                log_info("jobs: %s: starting, %lld ms after the tick", what, (long long)(now - d.tick_ms));
                json_object_set_new(cmd, "run", run);
        } else {
                snprintf(what, sizeof what, "%u tick(s) of %s/%s up to %lld", d.count, job_id, sid, (long long)d.tick_ms);
                log_info("jobs: %s skipped (%s)", what, tick_skip_reason_to_string(d.reason));
                json_object_set_new(cmd, "first", json_integer(d.first_ms));
                json_object_set_new(cmd, "count", json_integer(d.count));
                json_object_set_new(cmd, "reason", json_string(tick_skip_reason_to_string(d.reason)));
        }
        submit(js, key, cmd, what);
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
                };
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
        if (job_launch_app(job, json_integer_value(json_object_get(run, "createdAt")), &app, &e) < 0) {
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
                json_decref(reasons);
                json_decref(app);
                if (now + RETRY_MS < *wake)
                        *wake = now + RETRY_MS;
                return;
        }
        json_t *cmd = run_update(job_id, run_id);
        if (streq(json_string_value(json_object_get(run, "status")) ?: "", "INITIAL"))
                json_object_set_new(cmd, "status", json_string("STARTING"));
        json_object_set_new(cmd, "attempts", json_integer(attempt));
        json_object_set_new(cmd, "task", json_pack("{s:s,s:s,s:s,s:I}", "id", task_id, "agentId", agent, "status",
                                                   "TASK_STAGING", "startedAt", (json_int_t)now));
        char what[200];
        snprintf(what, sizeof what, "task %s on agent %s", task_id, agent);
        struct submit_ctx *c = submit(js, key, cmd, what);
        c->agent_id = agent;
        c->task_id = xstrdup(task_id);
        c->reservation = reservation;
        c->app = app;
}

/* --- the pass -------------------------------------------------------------------------------- */

static void pass(struct job_scheduler *js) {
        js->pass_due = false;
        if (!js->leading || js->m->stopping || !js->m->store)
                return;
        int64_t now = time_now_ms(), wake = INT64_MAX;
        const char *job_id;
        json_t *rec;
        json_object_foreach((json_t *)state_jobs(store_state(js->m->store)), job_id, rec) {
                const char *sid;
                json_t *sched;
                json_object_foreach(json_object_get(rec, "schedules"), sid, sched)
                        schedule_step(js, job_id, rec, sid, sched, now, &wake);
                const char *rid;
                json_t *run;
                json_object_foreach(json_object_get(rec, "active"), rid, run)
                        run_step(js, job_id, rec, rid, run, now, &wake);
        }
        if (wake != INT64_MAX)
                arm(js, wake > now ? wake - now : 0);
}

static void timer_cb(uv_timer_t *t) {
        pass(t->data);
}

static void arm(struct job_scheduler *js, int64_t delay_ms) {
        /* libuv's clock is cached per loop iteration: measure the delay from the real clock. */
        uv_update_time(js->m->loop);
        uv_timer_start(&js->timer, timer_cb, (uint64_t)delay_ms, 0);
}

void job_scheduler_poke(struct job_scheduler *js) {
        if (!js || !js->leading || js->pass_due)
                return;
        js->pass_due = true;
        uv_timer_start(&js->timer, timer_cb, 0, 0);
}

struct job_scheduler *job_scheduler_new(struct master *m) {
        struct job_scheduler *js = xcalloc(1, sizeof *js);
        js->m = m;
        js->inflight = json_object();
        js->reservations = json_object();
        js->killing = json_object();
        uv_timer_init(m->loop, &js->timer);
        js->timer.data = js;
        return js;
}

static void closed_cb(uv_handle_t *h) {
        struct job_scheduler *js = h->data;
        json_decref(js->inflight);
        json_decref(js->reservations);
        json_decref(js->killing);
        free(js);
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
        }
}

void job_scheduler_stop_run(struct job_scheduler *js, const char *job_id, const char *run_id) {
        job_scheduler_poke(js); /* the pass kills the stopped run's live task */
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

static void status_done(void *data, int status, json_t *result, struct err *err) {
        struct job_scheduler *js = data;
        if (status < 0)
                log_warn("jobs: task status not committed: %s", err_msg(err));
        else if (!js->m->stopping)
                job_scheduler_poke(js);
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
                log_info("jobs: task %s: %s%s%s", task_id, state, message ? ": " : "", message ?: "");
        } else if (s == TASK_RUNNING && !streq(json_string_value(json_object_get(run, "status")) ?: "", "ACTIVE")) {
                json_object_set_new(cmd, "status", json_string("ACTIVE"));
        }
        json_object_set_new(cmd, "task", task);
        json_object_set_new(cmd, "v", json_integer(1));
        store_submit(js->m->store, cmd, status_done, js);
        return true;
}
