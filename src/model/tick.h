/* tick.h — what a job schedule should do now, and what a failed run should do next: pure
 * functions of the recorded state and the clock, so every case can be tested (STYLE.md's
 * rolling_decide pattern).
 *
 * A schedule's ticks are the instants its cron (or ISO 8601) expression fires. The replicated
 * state keeps, per schedule, a cursor: every tick at or before it has been handled, either
 * started ("tick T started run R") or recorded as skipped. The leader asks tick_decide after
 * every change and at the wake time it returns; it commits the decision before acting on it, so
 * a new leader, reading the same cursor, never handles a tick twice.
 *
 * Rules (Metronome's schedule semantics, api.md §5.3, plus Strata's "every missed tick visible"):
 *   - disabled: nothing, ever (the cursor moves to "now" when the schedule is enabled again, so
 *     the ticks while disabled are neither run nor reported);
 *   - the next tick T after the cursor is in the future: nothing until T;
 *   - now > T + startingDeadlineSeconds: T is skipped ("deadline"), with every later tick whose
 *     deadline passed too, in one record (first, last, count);
 *   - FORBID and a run of the job is active at T: T is skipped ("concurrency"; Metronome: "FORBID
 *     skips the scheduled run if any run of the job is active");
 *   - otherwise T starts a run. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Most ticks one skip record covers (a schedule down for longer writes several). */
#define TICK_MAX_SKIP 10000

#define TICK_ACTIONS(X) X(TICK_NOTHING, "nothing") X(TICK_START, "start") X(TICK_SKIP, "skip")
#define TICK_SKIP_REASONS(X) X(TICK_SKIP_DEADLINE, "deadline") X(TICK_SKIP_CONCURRENCY, "concurrency")

enum tick_action {
#define TICK_ENUM(n, s) n,
        TICK_ACTIONS(TICK_ENUM)
};
enum tick_skip_reason { TICK_SKIP_REASONS(TICK_ENUM) };
#undef TICK_ENUM

const char *tick_action_to_string(enum tick_action a);
const char *tick_skip_reason_to_string(enum tick_skip_reason r);
/* Returns the reason (>= 0) or -1. */
int tick_skip_reason_from_string(const char *s);

/* The schedule's next tick strictly after after_ms: 0 and *ret_ms, or < 0 when there is none. */
typedef int (*tick_next_cb)(const void *schedule, int64_t after_ms, int64_t *ret_ms);

struct tick_input {
        tick_next_cb next;
        const void *schedule;
        int64_t cursor_ms;   /* ticks <= cursor are handled */
        int64_t now_ms;
        int64_t deadline_ms; /* startingDeadlineSeconds, in ms */
        bool enabled;
        bool forbid;          /* concurrencyPolicy FORBID */
        unsigned active_runs; /* of the job, any origin */
};

struct tick_decision {
        enum tick_action action;
        int64_t tick_ms;  /* START: the tick; SKIP: the last tick skipped (the new cursor) */
        int64_t first_ms; /* SKIP: the first tick skipped */
        uint32_t count;   /* SKIP: how many */
        enum tick_skip_reason reason;
        int64_t wake_ms;  /* NOTHING: when to ask again (INT64_MAX: only after a change) */
};

void tick_decide(const struct tick_input *in, struct tick_decision *out);

/* A run's task ended. Metronome's restart policy (api.md §5.2): a task that finished makes the
 * run succeed; with ON_FAILURE a failed task is relaunched while now < createdAt +
 * activeDeadlineSeconds (forever without a deadline) and, for a Chronos job, while fewer than
 * retries + 1 tasks were launched; otherwise the run fails. A run that was stopped fails
 * whatever its policy. */
enum tick_run_outcome { TICK_RUN_SUCCESS, TICK_RUN_RELAUNCH, TICK_RUN_FAILED };

struct tick_run_input {
        bool task_finished;     /* TASK_FINISHED (else FAILED, KILLED, LOST…) */
        bool on_failure;        /* restart.policy ON_FAILURE */
        bool stopped;           /* the run was stopped by a user */
        int64_t created_ms;
        int64_t active_deadline_ms; /* 0: none */
        int64_t now_ms;
        unsigned attempts;     /* tasks launched so far */
        unsigned max_attempts; /* 0: no limit (Metronome); Chronos: retries + 1 */
};

enum tick_run_outcome tick_run_decide(const struct tick_run_input *in);
