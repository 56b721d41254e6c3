/* job.h — Metronome job definitions and schedules: validation with Metronome's strict schema and
 * error bodies, and the canonical documents Strata stores and serves (api.md §5.2, §5.3).
 *
 * Validation runs in Metronome's order: the JSON schema (jobspec.schema.json's rules:
 * additionalProperties false on the job and on "run", required id/run and cpus/mem/disk,
 * patterns, minimums, enums), then the semantic rules. Any failure is -ERR_INVALID with the
 * message "Object is not valid" and details [{"path": JSON pointer, "errors": […]}] using the
 * JSON-schema validator's wording Metronome passes through.
 *
 * Canonical job: {id, description?, labels, dependencies?, run: {every field with its default:
 * cpus, mem, disk, gpus, cmd?, args?, user?, env, placement: {constraints}, artifacts (each with
 * extract/executable/cache), maxLaunchDelay, docker? (forcePullImage, privileged, parameters),
 * ucr? (image {id, kind, forcePull}, privileged), volumes, restart {policy,
 * activeDeadlineSeconds?}, taskKillGracePeriodSeconds?, secrets, networks}} — constraint
 * operator EQ is stored as IS. Schedules are separate documents (the API embeds them).
 *
 * Canonical schedule: {id, cron, timezone ("UTC"), startingDeadlineSeconds (900),
 * concurrencyPolicy ("ALLOW"), enabled (true)}. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/* Metronome keeps the last 1000 finished runs per outcome (metronome.history.count); Strata
 * keeps this many per job in the replicated state. */
#define JOB_HISTORY_MAX 100
#define JOB_MAX_SCHEDULES 1
#define JOB_ID_MAX 255

/* True for a Metronome job id: dot-separated names of [a-z0-9] with inner hyphens. */
bool job_id_valid(const char *id);
/* True for a schedule id: ^[a-z0-9][a-z0-9-]*[a-z0-9]+$. */
bool job_schedule_id_valid(const char *id);

/* Validates a job body and returns its canonical form (new reference) in *ret_job, and its
 * "schedules" (canonical, possibly empty array) in *ret_schedules when non-NULL. path_id (PUT
 * /v1/jobs/{id}: the id from the path wins) may be NULL. */
int job_from_json(const json_t *body, const char *path_id, json_t **ret_job, json_t **ret_schedules, struct err *err);

/* Validates one schedule body (POST/PUT /v1/jobs/{id}/schedules) into canonical form. */
int job_schedule_from_json(const json_t *body, json_t **ret, struct err *err);

/* Metronome's date format, "2016-07-15T13:02:59.735+0000" (UTC), into buf (>= 29). */
void job_format_time(int64_t ms, char buf[static 29]);

/* The schedule's next fire time strictly after after_ms: 0 and *ret_ms, -ENOENT if never. */
int job_schedule_next(const json_t *schedule, int64_t after_ms, int64_t *ret_ms);

/* --- runs ------------------------------------------------------------------------------------
 *
 * A run record, as the replicated state keeps it (times in ms since the epoch):
 * | id          | "20160715130259A34HX": yyyyMMddHHmmss of createdAt + 5 alphanumerics  |
 * | jobId       | the job                                                                 |
 * | status      | INITIAL, STARTING, ACTIVE, SUCCESS, FAILED                              |
 * | createdAt   | ms                                                                      |
 * | completedAt | ms, or absent while active                                              |
 * | tasks       | [{"id", "agentId", "startedAt": ms, "completedAt"?: ms, "status": TASK_*}] |
 * | tick        | ms of the schedule tick that started it (absent for manual runs)        |
 * | schedule    | its schedule id (with tick)                                             |
 * | stopped     | true once a user stopped it                                             |
 * | attempts    | tasks launched so far                                                   | */

#define JOB_RUN_STATUSES(X) X(INITIAL) X(STARTING) X(ACTIVE) X(SUCCESS) X(FAILED)

/* A run id for a run created at ms from 5 random bytes (each picks an alphanumeric). */
void job_run_id(int64_t ms, const uint8_t rnd[5], char buf[static 20]);
/* A new run record of job_id created at now_ms: a random id, status INITIAL, no tasks (new
 * reference). */
json_t *job_run_new(const char *job_id, int64_t now_ms);
/* True for SUCCESS and FAILED. */
bool job_run_status_final(const char *status);
/* Metronome's JobRun JSON for a record (new reference): {id, jobId, status, createdAt,
 * completedAt (null while active), tasks: [{id, startedAt, completedAt, status}]}. */
json_t *job_run_to_api(const json_t *run);
/* The run's task id for attempt n: "<jobId>_<runId>.<n>" (Metronome names tasks after the run). */
char *job_run_task_id(const char *job_id, const char *run_id, unsigned attempt);
/* Splits a task id made by job_run_task_id: the job and run ids (new strings). -EINVAL for any
 * other id. */
int job_run_task_parse(const char *task_id, char **ret_job, char **ret_run);

/* --- Chronos (job_chronos.c) ------------------------------------------------------------------
 *
 * A Chronos job body (POST /v1/scheduler/iso8601, or …/dependency when dependency) becomes a
 * canonical Metronome job (*ret_job; "parents" → "dependencies"), its schedule (*ret_schedule:
 * {"id": "chronos", "iso8601", "timezone" (scheduleTimeZone), "startingDeadlineSeconds"
 * (epsilon), "concurrencyPolicy": "ALLOW", "enabled": !disabled}; NULL for a dependent job) and
 * Chronos's own fields (*ret_extras: {"retries", "epsilon", "owner", "async", "disabled"}).
 * Errors are -ERR_INVALID with a one-line reason. Names must be Metronome ids. */
int job_chronos_from_json(const json_t *body, bool dependency, json_t **ret_job, json_t **ret_schedule,
                          json_t **ret_extras, struct err *err);
/* A job record (store/jobs.h) as GET /v1/scheduler/jobs lists it (new reference). */
json_t *job_chronos_to_json(const json_t *record);
