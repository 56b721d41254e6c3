/* deploy_failure.h — when a deployment has failed: a new version whose tasks keep failing.
 * (The minimum healthy time gates only restarts: master/deploy_watch.h.)
 *
 * Marathon retries a crashing version forever (with backoff) and its deployment never ends.
 * Strata gives up after N failures of the new version's tasks before one of them has proven
 * itself (run — and passed its health checks, if any — for minHealthySeconds): the deployment
 * fails with the reason, and either stays as it is (its record ends; the app keeps the new
 * definition, Marathon-style retries go on) or is rolled back (the original definitions return
 * and the old tasks, which the rolling rule kept, stay). Per app, from labels:
 *
 *   | label                              | default | meaning                                   |
 *   | STRATA_DEPLOY_MAX_FAILURES         | 3       | failures before a proven task; 0: never   |
 *   |                                    |         | fail (Marathon's behaviour)               |
 *   | STRATA_DEPLOY_MIN_HEALTHY_SECONDS  | 3       | how long a task must run (healthy) to     |
 *   |                                    |         | prove the version                         |
 *   | STRATA_DEPLOY_ON_FAILURE           | fail    | fail: end the deployment as failed;       |
 *   |                                    |         | rollback: roll it back (as DELETE         |
 *   |                                    |         | /v2/deployments/{id})                     |
 *
 * Pure functions of their inputs; the leader's master/deploy_watch.c feeds them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define DEPLOY_FAILURE_DEFAULT_MAX 3
#define DEPLOY_FAILURE_DEFAULT_MIN_HEALTHY_S 3

enum deploy_on_failure { DEPLOY_ON_FAILURE_FAIL, DEPLOY_ON_FAILURE_ROLLBACK };

struct deploy_failure_policy {
        unsigned max_failures; /* 0: never give up */
        unsigned min_healthy_s;
        enum deploy_on_failure on_failure;
};

/* The policy of an app from its labels (defaults above for absent labels). A label with a bad
 * value keeps its default and makes the return -EINVAL with *err naming it (the caller logs it
 * and goes on with *ret, which is always filled). */
int deploy_failure_policy_of(const json_t *app, struct deploy_failure_policy *ret, struct err *err);

/* The app's min_healthy_s in ms (a bad label keeps the default). */
int64_t deploy_failure_min_healthy_ms(const json_t *app);

/* One task of the new version, as far as the decision cares. */
struct deploy_task {
        bool running;       /* TASK_RUNNING now */
        bool healthy;       /* passes its health checks (true when the app has none) */
        int64_t started_ms; /* first TASK_RUNNING, 0 if never */
        int64_t ended_ms;   /* when it ended, 0 while alive */
};

/* Whether the task proves the version at now_ms: it ran for min_healthy_s, healthy throughout as
 * far as the master knows (running and healthy now, or ended after running that long). */
bool deploy_task_proves(const struct deploy_failure_policy *p, const struct deploy_task *t, int64_t now_ms);

/* What the deployment has seen of the app's new version so far. */
struct deploy_failure_count {
        unsigned failures; /* tasks of the new version that failed before a proof */
        bool proven;       /* some task proved the version: failures no longer count */
};

/* Counts one failed task (ended at now_ms) of the new version and returns true when the
 * deployment has failed: max_failures > 0, no proof yet, failures reached max_failures. A task
 * that proved the version before it failed ends the counting for good. */
bool deploy_failure_note(const struct deploy_failure_policy *p, struct deploy_failure_count *c,
                         const struct deploy_task *failed, int64_t now_ms);

/* The reason a person reads: "3 tasks of /web failed before one ran 10 s healthy; last: Command
 * exited with status 1" (message may be NULL). Caller frees. */
char *deploy_failure_reason(const struct deploy_failure_policy *p, const struct deploy_failure_count *c,
                            const char *app_id, const char *message);
