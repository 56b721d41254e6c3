/* api_jobs_chronos.c — the parts of Chronos's API people scripted, over the same jobs as the
 * Metronome API: POST/PUT /v1/scheduler/iso8601 and /v1/scheduler/dependency (create or
 * replace), GET /v1/scheduler/jobs, PUT /v1/scheduler/job/{name} (run now), DELETE
 * /v1/scheduler/job/{name}. Chronos answers writes with 204 and bad input with 400. */
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "master/job_scheduler.h"
#include "master/master_internal.h"
#include "model/job.h"
#include "store/jobs.h"

void api_chronos_jobs(struct api_call *call) {
        json_t *out = json_array();
        const char *id;
        json_t *rec;
        json_object_foreach((json_t *)state_jobs(store_state(call->m->store)), id, rec)
                json_array_append_new(out, job_chronos_to_json(rec));
        api_reply_json(call, 200, out);
}

static void done_204(void *data, int status, json_t *result, struct err *err) {
        struct api_call *call = data;
        if (status < 0) {
                api_reply_json(call, err_http_status(err), json_pack("{s:s}", "message", err_msg(err)));
                return;
        }
        job_scheduler_poke(call->m->jobs); /* Chronos writes are rare: look at every job */
        api_reply_text(call, 204, "application/json", "");
}

static void submit_204(struct api_call *call, json_t *cmd) {
        json_object_set_new(cmd, "v", json_integer(1));
        json_object_set_new(cmd, "ts", json_integer(time_now_ms()));
        store_submit(call->m->store, cmd, done_204, call);
}

static void create(struct api_call *call, bool dependency) {
        json_t *job = NULL, *sched = NULL, *extras = NULL;
        struct err e = { 0 };
        if (job_chronos_from_json(call->body, dependency, &job, &sched, &extras, &e) < 0) {
                const char *detail = NULL;
                json_t *d = json_array_get(e.details, 0);
                if (d)
                        detail = json_string_value(json_array_get(json_object_get(d, "errors"), 0));
                api_reply_json(call, 400, json_pack("{s:s,s:s}", "message", err_msg(&e), "details", detail ?: ""));
                err_release(&e);
                return;
        }
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(job, "dependencies"), i, d) {
                const char *parent = json_string_value(json_object_get(d, "id"));
                if (!state_job_get(store_state(call->m->store), parent)) {
                        api_reply_error(call, 400, "parent job '%s' does not exist", parent);
                        json_decref(job);
                        json_decref(sched);
                        json_decref(extras);
                        return;
                }
        }
        json_t *schedules = sched ? json_pack("[o]", sched) : json_array();
        submit_204(call, json_pack("{s:s,s:o,s:o,s:o,s:b}", "type", "job_create", "job", job, "schedules", schedules,
                                   "chronos", extras, "replace", 1));
}

void api_chronos_iso8601(struct api_call *call) {
        create(call, false);
}

void api_chronos_dependency(struct api_call *call) {
        create(call, true);
}

void api_chronos_job_run(struct api_call *call) {
        const char *name = call->id + 1;
        if (!state_job_get(store_state(call->m->store), name)) {
                api_reply_error(call, 404, "Job '%s' not found", name);
                return;
        }
        json_t *run = job_run_new(name, time_now_ms());
        submit_204(call, json_pack("{s:s,s:s,s:o}", "type", "job_run_start", "id", name, "run", run));
}

void api_chronos_job_delete(struct api_call *call) {
        const char *name = call->id + 1;
        if (!state_job_get(store_state(call->m->store), name)) {
                api_reply_error(call, 404, "Job '%s' not found", name);
                return;
        }
        /* Chronos deletes a job whatever runs; its tasks are left to end (Chronos does not kill
         * them either). */
        submit_204(call, json_pack("{s:s,s:s,s:b}", "type", "job_delete", "id", name, "stop", 1));
}
