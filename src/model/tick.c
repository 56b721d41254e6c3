/* tick.c — the schedule tick and run restart decisions (rules in tick.h). */
#include "model/tick.h"

#include <string.h>

const char *tick_action_to_string(enum tick_action a) {
        switch (a) {
#define TICK_CASE(n, s) \
        case n:         \
                return s;
                TICK_ACTIONS(TICK_CASE)
        }
        return "nothing";
}

const char *tick_skip_reason_to_string(enum tick_skip_reason r) {
        switch (r) {
                TICK_SKIP_REASONS(TICK_CASE)
#undef TICK_CASE
        }
        return "deadline";
}

int tick_skip_reason_from_string(const char *s) {
#define TICK_FROM(n, str)              \
        if (s && strcmp(s, str) == 0) \
                return n;
        TICK_SKIP_REASONS(TICK_FROM)
#undef TICK_FROM
        return -1;
}

void tick_decide(const struct tick_input *in, struct tick_decision *out) {
        *out = (struct tick_decision){ .action = TICK_NOTHING, .wake_ms = INT64_MAX };
        if (!in->enabled)
                return;
        int64_t t;
        if (in->next(in->schedule, in->cursor_ms, &t) < 0)
                return; /* no tick ever again */
        if (t > in->now_ms) {
                out->wake_ms = t;
                return;
        }
        if (in->now_ms > t + in->deadline_ms) {
                /* Too late for T: record it, and every later tick that is too late as well. */
                out->action = TICK_SKIP;
                out->reason = in->forbid && in->active_runs > 0 ? TICK_SKIP_CONCURRENCY : TICK_SKIP_DEADLINE;
                out->first_ms = out->tick_ms = t;
                out->count = 1;
                int64_t n;
                while (out->count < TICK_MAX_SKIP && in->next(in->schedule, out->tick_ms, &n) >= 0 &&
                       in->now_ms > n + in->deadline_ms) {
                        out->tick_ms = n;
                        out->count++;
                }
                return;
        }
        out->tick_ms = t;
        if (in->forbid && in->active_runs > 0) {
                out->action = TICK_SKIP;
                out->reason = TICK_SKIP_CONCURRENCY;
                out->first_ms = t;
                out->count = 1;
                return;
        }
        out->action = TICK_START;
}

enum tick_run_outcome tick_run_decide(const struct tick_run_input *in) {
        if (in->task_finished && !in->stopped)
                return TICK_RUN_SUCCESS;
        if (in->stopped || !in->on_failure)
                return TICK_RUN_FAILED;
        if (in->active_deadline_ms > 0 && in->now_ms >= in->created_ms + in->active_deadline_ms)
                return TICK_RUN_FAILED;
        if (in->max_attempts > 0 && in->attempts >= in->max_attempts)
                return TICK_RUN_FAILED;
        return TICK_RUN_RELAUNCH;
}
