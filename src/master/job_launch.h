/* job_launch.h — the narrow adapter between job runs and the app launch path: a job's run spec
 * becomes the Marathon app shape the agents run; placement and LAUNCH/KILL go through the
 * launcher's placement (placement_plan / placement_forget) and the agent link
 * (agent_link_launch_text / agent_link_kill). Nothing here commits state: the scheduler commits
 * the task's agent before it calls job_launch_send. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct master;

/* The canonical app (model/app.h) that runs one task of job's run spec: id "/metronome/<job>",
 * version from created_ms, no ports, one instance. New reference in *ret. */
int job_launch_app(const json_t *job, int64_t created_ms, json_t **ret, struct err *err);

/* Places one task of app through the scheduler, which keeps its resources reserved until
 * job_launch_release(reservation). Returns the agent id (new string) and the reservation (new
 * string) in *ret_reservation, or NULL with Marathon's reasons ({"InsufficientMemory": 1, …},
 * new reference) in *ret_reasons. */
char *job_launch_place(struct master *m, const json_t *app, char **ret_reservation, json_t **ret_reasons);
/* Drops a reservation (the task ended, or its placement was not committed). Unknown ones (the
 * placement view was rebuilt since) are ignored. */
void job_launch_release(struct master *m, const char *reservation);

/* Sends LAUNCH of task_id running app to agent_id. Returns false if the agent has no stream (it
 * gets no second chance: the scheduler fails the task as lost). */
bool job_launch_send(struct master *m, const char *agent_id, const json_t *app, const char *task_id);
/* Sends KILL. */
bool job_launch_kill(struct master *m, const char *agent_id, const char *task_id, unsigned grace_s);
