/* jobs.h — Metronome jobs in the replicated state (issue 15): definitions, schedules with their
 * tick cursors, active runs, skipped ticks and a bounded history.
 *
 * One record per job id:
 * | job       | canonical job (model/job.h)                                                  |
 * | schedules | {schedule id: canonical schedule}                                            |
 * | cursors   | {schedule id: ms}: every tick at or before it was handled (tick.h)           |
 * | active    | {run id: run record (model/job.h)}: runs not finished                        |
 * | history   | {"successCount", "failureCount", "lastSuccessAt": ms|null, "lastFailureAt",   |
 * |           |  "successful": [run…], "failed": [run…]} newest first, JOB_HISTORY_MAX each  |
 * | skipped   | [{"schedule", "first": ms, "last": ms, "count", "reason", "at": ms}] newest    |
 * |           | first, JOB_SKIPS_MAX                                                         |
 * | createdAt | ms of job_create; lastRunAt: ms of the newest run's creation (dependencies)  |
 * | chronos   | Chronos's own fields when created through its API (model/job.h)              |
 *
 * Schedules carry "cron" or (Chronos) "iso8601".
 *
 * Commands (fsm_jobs.c; "v": 1; "ts" is the leader's clock in ms; results are the new record's
 * parts the API answers with):
 * | job_create          | "job", "schedules": [...], "chronos"?, "replace"? | 409 "Job with this id already exists" (unless replace) |
 * | job_update          | "job"                               | 404 when missing; schedules untouched |
 * | job_delete          | "id", "stop": bool                  | 409 "There are active job runs. Override with stopCurrentJobRuns=true" |
 * | job_schedule_put    | "id", "schedule", "create": bool    | 409 "A schedule with id x already exists" / "Only one schedule supported at the moment"; 404 |
 * | job_schedule_delete | "id", "schedule": id                | 404 |
 * | job_tick            | "id", "schedule", "tick": ms, "action": "start" + "run": record, or "skip" + "first", "count", "reason" |
 * |                     | 409 "tick already handled" unless tick > cursor: a tick is handled once, whoever submits it |
 * | job_run_start       | "id", "run": record, "ifLastRunAt"? | 404; 409 when ifLastRunAt is not the record's lastRunAt |
 * | job_run_update      | "id", "run": run id, and any of "status", "completedAt", "stopped": true, "attempts", "task": {id, …} (merged by task id) |
 * |                     | a run whose status is final moves to the history; updates of a finished run are ignored |
 * Snapshot key "jobs": {job id: record}. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "store/state.h"

#define JOB_SKIPS_MAX 100
/* Most jobs in the state (each costs a record; the API answers 422 beyond). */
#define JOBS_MAX 100000

struct job_records {
        json_t *records; /* job id → record */
};

void job_records_init(struct job_records *j);
void job_records_release(struct job_records *j);
struct job_records *state_job_records(struct state *s);
const struct job_records *state_job_records_const(const struct state *s);
json_t *job_records_to_json(const struct job_records *j);
/* Replaces everything; checks the document first (NULL doc: nothing, an old snapshot). */
int job_records_from_json(struct job_records *j, const json_t *doc, struct err *err);

/* Reads (borrowed; valid until the next mutation). */
const json_t *state_job_get(const struct state *s, const char *id);           /* the record, or NULL */
const json_t *state_jobs(const struct state *s);                              /* id → record */
const json_t *state_job_active_run(const struct state *s, const char *id, const char *run_id);

int fsm_job_create(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_job_update(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_job_delete(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_job_schedule_put(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_job_schedule_delete(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_job_tick(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_job_run_start(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
int fsm_job_run_update(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
