/* task_state.h — Mesos task states (Marathon shows them verbatim), shared by the master's state
 * machine and the agent's runtimes. */
#pragma once

#include <stdbool.h>

#define TASK_STATES(X)                                                                             \
        X(TASK_STAGING) X(TASK_STARTING) X(TASK_RUNNING) X(TASK_KILLING) X(TASK_FINISHED)       \
        X(TASK_FAILED) X(TASK_KILLED) X(TASK_ERROR) X(TASK_LOST) X(TASK_DROPPED)                 \
        X(TASK_UNREACHABLE) X(TASK_GONE) X(TASK_GONE_BY_OPERATOR) X(TASK_UNKNOWN)

enum task_state {
#define TASK_STATE_ENUM(n) n,
        TASK_STATES(TASK_STATE_ENUM)
#undef TASK_STATE_ENUM
        _TASK_STATE_MAX,
};

/* "TASK_RUNNING" etc.; "TASK_UNKNOWN" for an out-of-range value. */
const char *task_state_to_string(enum task_state s);
/* Returns the state (>= 0) or -EINVAL. */
int task_state_from_string(const char *s);
/* FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE, GONE_BY_OPERATOR: the task will never run again. */
bool task_state_is_terminal(enum task_state s);
/* FAILED, ERROR, LOST, DROPPED, FINISHED: counts against the app's launch backoff (not KILLED, not GONE*). */
bool task_state_is_failure(enum task_state s);
