/* cli_wait.h — "submit a change, then wait for its deployment": what `app add|update|restart|
 * scale|rollback|remove`, `group add|update|scale|remove` and `deployment rollback|watch` share.
 *
 * With --wait the CLI subscribes to the master's event stream (GET /v2/events, filtered to
 * deployment_success and deployment_failed) BEFORE it sends the change, so the end of a quick
 * deployment cannot slip by. It then polls GET /v2/deployments and each affected app about
 * twice a second to show progress, and ends on the event that names the deployment:
 *
 *   | seen                                                         | outcome   | exit |
 *   | deployment_success with our id                               | succeeded | 0    |
 *   | deployment_failed with our id (failed, cancelled, rolled back) | failed  | 3    |
 *   | --timeout SECONDS passed first                               | timed out | 4    |
 *   | no event stream (404/405, closed): deployment gone from the list and every affected app
 *   |   at its new version with running (and healthy) == instances | succeeded | 0    |
 *   | with a stream, the same for EVENT_GRACE_MS without an event  | succeeded | 0    |
 *
 * Without a stream a failed deployment is only seen as the timeout: the list forgets it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/cli_internal.h"

/* A deployment that failed (exit 3) and a wait that ran out of time (exit 4); see cli_exit_code. */
#define ERR_DEPLOYMENT_FAILED 10101
#define ERR_WAIT_TIMEOUT 10102

/* How often progress is polled, and how long a settled deployment waits for its event. */
#define CLI_WAIT_POLL_MS 500
#define CLI_WAIT_EVENT_GRACE_MS 5000

/* The flag rows of every verb that can wait (inside its NULL-terminated table). */
#define CLI_WAIT_FLAGS                                                                                       \
        { "wait", 'w', NULL, "wait for the deployment to end, showing its progress (exit 0, 3 failed)" },   \
        {                                                                                                    \
                "timeout", 0, "SECONDS", "with --wait: give up after SECONDS (exit 4; default: no limit)"    \
        }

/* One change to send. */
struct cli_change {
        const char *method, *path; /* path with query */
        const json_t *body;        /* NULL: none */
        const char *done;          /* what the line says happened: "Updated app /web" */
        const char *done_created;  /* the same for a 201 answer (PUT created it), or NULL */
        const char *app_id;        /* the app it changes, for progress before the deployment is listed */
        const char *group_id;      /* or the group whose apps it changes */
};

/* Sends the change and prints the answer: `-o json` the answer's JSON, else one line
 * "<done> (deployment D, version V)". With --wait (a's "wait"/"timeout" flags) waits for the
 * deployment as described above. Returns 0, or a negative code with err set (-ERR_USAGE for a
 * bad --timeout, -ERR_DEPLOYMENT_FAILED, -ERR_WAIT_TIMEOUT, the master's error). */
int cli_change_submit(struct cli *c, const struct cli_args *a, const struct cli_change *ch, struct err *err);

/* Reads --wait and --timeout: *ret_timeout_s is 0 for no limit. --timeout without --wait, or a
 * value that is not a positive number, is -ERR_USAGE. */
int cli_wait_options(const struct cli_args *a, bool *ret_wait, double *ret_timeout_s, struct err *err);

/* Parses a --timeout value: a number of seconds above 0 (fractions allowed). -ERR_USAGE else. */
int cli_parse_seconds(const char *text, double *ret, struct err *err);

/* `deployment watch`: waits for a running deployment (opening the stream first). Returns 0 on
 * success, -ERR_NOT_FOUND when it is not in GET /v2/deployments, else as cli_change_submit. */
int cli_wait_existing(struct cli *c, const char *deployment_id, double timeout_s, struct err *err);

/* The deployment a write started: the Marathon-Deployment-Id header, else the body's
 * "deploymentId" (PUT, DELETE, restart) or "deployments"[0].id (POST /v2/apps). Borrowed. */
const char *cli_deployment_of(const struct http_reply *reply);

/* --- the pure parts, exported for tests ------------------------------------------------------- */

/* One affected app as the last poll saw it. */
struct cli_app_progress {
        char *id; /* owned */
        bool exists;
        bool has_health; /* the app has health checks: healthy counts */
        json_int_t instances, running, healthy;
        json_int_t fresh, old; /* live tasks at the app's current configuration, and the others */
};

/* Fills p from a GET /v2/apps/{id} "app" object (tasks embedded). A task is new when its version
 * is not older than the app's versionInfo.lastConfigChangeAt (else its version): a scale changes
 * the version but not the tasks. */
void cli_app_progress_from_json(struct cli_app_progress *p, const char *id, const json_t *app);
/* The app is done: gone, or no old task and running (and healthy, with health checks) == instances. */
bool cli_app_progress_converged(const struct cli_app_progress *p);

/* What one poll saw. */
struct cli_progress {
        char *deployment; /* owned */
        bool listed;      /* in GET /v2/deployments */
        json_int_t step, steps;
        char *actions; /* "RestartApplication /web, ScaleApplication /db"; owned, may be NULL */
        struct cli_app_progress *apps;
        size_t n_apps;
};

void cli_progress_release(struct cli_progress *p);
/* Fills the deployment part of p from a GET /v2/deployments array (p->listed false when id is
 * not there) and returns the entry, or NULL. */
const json_t *cli_progress_find(struct cli_progress *p, const json_t *deployments, const char *id);
/* Every listed app converged (true for none). */
bool cli_progress_converged(const struct cli_progress *p);
/* One line for logs: "deployment D: step 1/2 RestartApplication /web; /web: 1/2 new, 1 old, 2 running, 1 healthy". */
char *cli_progress_line(const struct cli_progress *p);
/* {"type":"progress","deployment","listed","currentStep","totalSteps","currentActions","apps":[…]} */
json_t *cli_progress_json(const struct cli_progress *p);

enum cli_wait_outcome { CLI_WAIT_RUNNING, CLI_WAIT_SUCCEEDED, CLI_WAIT_FAILED, CLI_WAIT_TIMED_OUT };

struct cli_wait_state {
        int event;             /* 1 deployment_success seen, -1 deployment_failed, 0 neither */
        bool stream;           /* the event stream is open */
        bool listed;           /* the deployment is in GET /v2/deployments */
        bool converged;        /* cli_progress_converged() */
        int64_t now_ms;        /* monotonic */
        int64_t deadline_ms;   /* INT64_MAX: no limit */
        int64_t settled_since; /* since when !listed && converged has held, or -1 */
};

/* The table at the top of this file as a function. */
enum cli_wait_outcome cli_wait_decide(const struct cli_wait_state *s);
