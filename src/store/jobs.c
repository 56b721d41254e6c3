/* jobs.c — the jobs part of the replicated state: records, reads and snapshot form (jobs.h). */
#include "store/jobs.h"

#include <errno.h>
#include <string.h>

#include "model/job.h"

void job_records_init(struct job_records *j) {
        j->records = json_object();
}

void job_records_release(struct job_records *j) {
        json_decref(j->records);
        j->records = NULL;
}

json_t *job_records_to_json(const struct job_records *j) {
        return json_deep_copy(j->records);
}

int job_records_from_json(struct job_records *j, const json_t *doc, struct err *err) {
        if (!doc)
                return 0;
        if (!json_is_object(doc))
                return err_set(err, -EINVAL, "state: \"jobs\" is not an object");
        const char *id;
        json_t *rec;
        json_object_foreach((json_t *)doc, id, rec) {
                const json_t *job = json_object_get(rec, "job");
                if (!json_is_object(job) || !json_is_string(json_object_get(job, "id")) ||
                    !streq(json_string_value(json_object_get(job, "id")), id) ||
                    !json_is_object(json_object_get(rec, "schedules")) || !json_is_object(json_object_get(rec, "cursors")) ||
                    !json_is_object(json_object_get(rec, "active")) || !json_is_object(json_object_get(rec, "history")) ||
                    !json_is_array(json_object_get(rec, "skipped")))
                        return err_set(err, -EINVAL, "state: jobs['%s'] malformed", id);
        }
        json_decref(j->records);
        j->records = json_deep_copy(doc);
        return 0;
}

const json_t *state_jobs(const struct state *s) {
        return state_job_records_const(s)->records;
}

const json_t *state_job_get(const struct state *s, const char *id) {
        return id ? json_object_get(state_jobs(s), id) : NULL;
}

const json_t *state_job_active_run(const struct state *s, const char *id, const char *run_id) {
        return run_id ? json_object_get(json_object_get(state_job_get(s, id), "active"), run_id) : NULL;
}
