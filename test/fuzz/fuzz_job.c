/* fuzz_job.c — Metronome job and schedule bodies arrive in POST/PUT /v1/jobs and
 * /v1/jobs/{id}/schedules. Any JSON must be accepted into a canonical job that validates again
 * to itself, or rejected with "Object is not valid" and a non-empty details list. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/job.h"

static void check_error(int r, const struct err *e) {
        if (r != -ERR_INVALID || !e->msg || strcmp(e->msg, "Object is not valid") != 0 ||
            !json_is_array(e->details) || json_array_size(e->details) == 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *doc = json_loadb((const char *)data, size, 0, NULL);
        if (!doc)
                return 0;
        struct err e = { 0 };
        json_t *job = NULL, *scheds = NULL;
        int r = job_from_json(doc, NULL, &job, &scheds, &e);
        if (r == 0) {
                /* The canonical form is itself a valid body that canonicalizes to itself. */
                json_t *body = json_deep_copy(job), *again = NULL;
                json_object_set(body, "schedules", scheds);
                struct err e2 = { 0 };
                if (job_from_json(body, NULL, &again, NULL, &e2) < 0 || !json_equal(again, job))
                        abort();
                json_decref(again);
                json_decref(body);
        } else {
                check_error(r, &e);
        }
        err_release(&e);
        json_decref(job);
        json_decref(scheds);
        json_t *s = NULL;
        r = job_schedule_from_json(doc, &s, &e);
        if (r < 0)
                check_error(r, &e);
        json_decref(s);
        err_release(&e);
        json_decref(doc);
        return 0;
}
