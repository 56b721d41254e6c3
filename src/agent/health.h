/* health.h — health and readiness checks of the agent's tasks, run on the agent beside each
 * task (DESIGN §7): HTTP/HTTPS through the curl client (no certificate verification), TCP by
 * connecting, COMMAND by `/bin/sh -c` in the task's sandbox with its environment, user and
 * (best effort) cgroup. MESOS_HTTP/MESOS_HTTPS/MESOS_TCP run like HTTP/HTTPS/TCP but wait
 * delaySeconds first. Ports: "port", else the task's host port at "portIndex"; checks connect to
 * 127.0.0.1. The first readiness check (readinessChecks[0]) is polled from TASK_RUNNING until
 * it first passes.
 *
 * The health state machine is health_state.h; this file schedules checks and reports through
 * the callback whenever a check's alive flips or its consecutive failures change, and once when
 * the task becomes ready — not on every success.
 *
 * Checkpoint (so checks resume after an agent restart): <dir>/<task id>.json =
 *   {"checks": app.healthChecks, "readiness": app.readinessChecks, "portNames": [name|null…],
 *    "ports": [host port…], "env": ["K=V"…], "user": str|null}
 * written at launch, removed when the task ends.
 *
 * Simulation (fake runtime): no checks run and nothing is written; a task with checks is
 * healthy, and ready, as soon as it runs — cheap enough for a million simulated tasks. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "common/err.h"
#include "model/health_result.h"

struct health;

/* A report: healthy 1/0/-1 (unknown) over all checks, ready (readiness passed, or no readiness
 * check), and each check's result. Pointers are valid during the call. */
typedef void (*health_report_cb)(void *data, const char *task_id, int healthy, bool ready,
                                 const struct health_result *results, size_t n);

struct health_config {
        uv_loop_t *loop;
        const char *dir; /* checkpoints; created if missing */
        bool simulate;   /* fake runtime: no checks run */
        health_report_cb cb;
        void *data;
};

/* Creates the checker; *ret is freed with health_free. */
int health_new(const struct health_config *cfg, struct health **ret, struct err *err);
/* Stops every check (tasks keep running; checkpoints stay for the next agent) and frees h once
 * its handles are closed. NULL is a no-op. */
void health_free(struct health *h);

/* Registers the checks of a task about to be launched: app is the app version it runs,
 * ports its host ports, env its environment (NULL-terminated), user its user (may be NULL).
 * Does nothing for an app without health or readiness checks. Returns 0 or < 0 (checkpoint
 * not written; the task then runs unchecked until the agent restarts). */
int health_task_add(struct health *h, const char *task_id, const json_t *app, const int *ports, size_t n_ports,
                    char *const *env, const char *user, struct err *err);

/* The task runs (pid: its process, 0 if unknown): checks start (after an agent restart they
 * are loaded from the checkpoint). What the RUNNING update should carry goes to *ret_healthy
 * (-1 unknown) and *ret_ready; with simulation both are known at once. Returns true if the
 * task has health or readiness checks. */
bool health_task_running(struct health *h, const char *task_id, const char *sandbox, pid_t pid,
                         int *ret_healthy, bool *ret_ready);

/* The task ended: its checks stop and its checkpoint goes. Returns true, with a reason in why
 * (cap bytes), when it had failed a check maxConsecutiveFailures times in a row. */
bool health_task_ended(struct health *h, const char *task_id, char *why, size_t cap);
