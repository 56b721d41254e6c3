/* task_history.h — what an agent remembers of finished tasks: their sandboxes (stdout, stderr)
 * kept by a retention policy, and how each ended, so `strata task log` works after a task died.
 *
 * Retention (flags of `strata agent`, documented in docs/operations.md):
 *
 *   | flag                    | default | meaning                                               |
 *   | --sandbox-keep N        | 5       | finished sandboxes kept per app (newest first); 0: none  |
 *   | --sandbox-max-age SECS  | 604800  | finished sandboxes older than this are removed (7 days) |
 *
 * A sandbox is finished when the runtime no longer runs its task. Removed apps are collected the
 * same way (their sandboxes age out; at most N are kept). Collection runs at start and every
 * TASK_HISTORY_INTERVAL_S seconds in the thread pool (directory scans and rm -r never run on
 * the loop); its result replaces the in-memory index.
 *
 * On disk: <data_dir>/sandboxes/<task_id>/ (the runtime's) and <data_dir>/history/<task_id>.json,
 * written when the task ends (atomically):
 *
 *   | key        | value                                                 |
 *   | taskId     | the task id                                           |
 *   | appId      | "/prod/web" (from the task id), or null               |
 *   | state      | the terminal state ("TASK_FAILED")                    |
 *   | message    | the runtime's message ("Command exited with status 3") |
 *   | exitCode   | exit status, or -1 (signal, never ran)                |
 *   | signal     | terminating signal, or 0                              |
 *   | finishedAt | ms since the epoch                                    | */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "agent/runtime.h"

#define TASK_HISTORY_INTERVAL_S 60
#define TASK_HISTORY_DEFAULT_KEEP 5
#define TASK_HISTORY_DEFAULT_MAX_AGE_S (7 * 24 * 3600)

/* Zeroed: the defaults. */
struct task_history_policy {
        int keep_per_app;
        int64_t max_age_s;
        bool keep_set, max_age_set; /* given on the command line */
};

/* Parses the value of --sandbox-keep (name "sandbox-keep") or --sandbox-max-age into *p. Returns
 * 0, or -EINVAL after printing "strata: --NAME must be …" to stderr. */
int task_history_flag(struct task_history_policy *p, const char *name, const char *value);

struct task_history;

/* Starts the history of the agent whose data is in data_dir; rt (borrowed) says which tasks
 * still run. The first collection starts at once. */
struct task_history *task_history_new(uv_loop_t *loop, const char *data_dir, const struct task_history_policy *p,
                                      struct runtime *rt);
/* Stops the timer; frees once a collection in flight has ended. NULL is a no-op. */
void task_history_free(struct task_history *h);

/* Every status the runtime reports: logs one line (task, state, reason, message) and, for a
 * terminal state, records how the task ended. */
void task_history_status(struct task_history *h, const struct task_status *st);

/* GET /v1/sandboxes: {"sandboxes": [{"taskId", "appId", "state", "message"?, "exitCode"?,
 * "signal"?, "finishedAt"?, "live": bool}]}, the live tasks first, then finished ones newest
 * first. New reference. */
json_t *task_history_list(struct task_history *h);
/* Runs a collection now (tests, `POST /v1/sandboxes/gc`); false if one is already running. */
bool task_history_collect(struct task_history *h);
