/* cli_why.h — why an app is in the state it is: its one-word status for `app list`, and the
 * explanation `app show` and `app why` print (queue reasons per agent, last failure, health,
 * deployment step). Everything here is a pure function of the master's JSON; unit-tested. */
#pragma once

#include <jansson.h>
#include <stdio.h>

/* The entry of a GET /v2/queue body ({"queue": […]}) for app_id, or NULL (borrowed). */
const json_t *cli_queue_entry(const json_t *queue, const char *app_id);

/* The reasons the queue entry's last placement pass declined for ("InsufficientMemory,
 * UnfulfilledConstraint"), most declined first; NULL when there are none. Caller frees. */
char *cli_queue_reasons(const json_t *entry);

/* The STATUS cell of `app list` for an AppInfo (counts, deployments and lastTaskFailure as the
 * master embeds them) and its queue entry (NULL when not queued), first match wins:
 *
 *   | status              | when                                                              |
 *   | Waiting: REASONS    | queued and the last pass declined (cli_queue_reasons)               |
 *   | -                   | the app carries no counts (tasksRunning)                           |
 *   | Crash-looping       | fewer running than wanted and the last failure is of this version    |
 *   | Deploying           | a deployment holds the app                                         |
 *   | Waiting             | queued without reasons (backoff, or its turn has not come)           |
 *   | Unhealthy           | some running task fails its health checks                           |
 *   | Suspended           | instances is 0 and nothing runs                                     |
 *   | Running             | as many running as wanted                                          |
 *   | Starting            | otherwise (tasks staged, not yet running)                           |
 *
 * Caller frees. */
char *cli_app_status(const json_t *app, const json_t *queue_entry);

/* Prints the explanation for one app: status, queue (count, since, delay, reasons and, per agent,
 * the reasons of lastUnusedOffers), the last task failure (state, time, host, exit code or
 * signal when the message names one, message), per task health check results, and the
 * deployment (id, current step of total, its actions) from GET /v2/deployments' entries that
 * name the app. app is GET /v2/apps/ID's "app"; queue_entry and deployments may be NULL. */
void cli_why_print(FILE *f, const json_t *app, const json_t *queue_entry, const json_t *deployments);
