/* job_internal.h — what job.c and job_schema.c share (model layer only). */
#pragma once

#include <jansson.h>

#include "model/app_internal.h" /* struct verrs: the Marathon/Metronome "details" list */
#include "model/job.h"

enum job_schema { JOB_SCHEMA_JOB, JOB_SCHEMA_SCHEDULE };

/* Applies Metronome's JSON schema for a job (jobspec.schema.json) or a schedule
 * (schedulespec.schema.json) and adds every violation to errs under its JSON pointer. */
void job_schema_validate(const json_t *doc, enum job_schema which, struct verrs *errs);
