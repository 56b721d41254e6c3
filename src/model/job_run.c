/* job_run.c — job run ids, task ids and Metronome's JobRun JSON (job.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/alloc.h"
#include "common/macro.h"
#include "model/job.h"

void job_run_id(int64_t ms, const uint8_t rnd[5], char buf[static 20]) {
        static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        time_t s = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        strftime(buf, 15, "%Y%m%d%H%M%S", &tm);
        for (int i = 0; i < 5; i++)
                buf[14 + i] = alnum[rnd[i] % (sizeof alnum - 1)];
        buf[19] = 0;
}

json_t *job_run_new(const char *job_id, int64_t now_ms) {
        uint8_t rnd[5];
        if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
                memset(rnd, 0, sizeof rnd); /* never after boot; the time part still differs */
        char id[20];
        job_run_id(now_ms, rnd, id);
        return json_pack("{s:s,s:s,s:s,s:I,s:[],s:i}", "id", id, "jobId", job_id, "status", "INITIAL", "createdAt",
                         (json_int_t)now_ms, "tasks", "attempts", 0);
}

bool job_run_status_final(const char *status) {
        return status && (streq(status, "SUCCESS") || streq(status, "FAILED"));
}

static json_t *time_or_null(const json_t *ms) {
        if (!json_is_integer(ms))
                return json_null();
        char buf[29];
        job_format_time(json_integer_value(ms), buf);
        return json_string(buf);
}

json_t *job_run_to_api(const json_t *run) {
        json_t *tasks = json_array();
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(run, "tasks"), i, t) {
                json_array_append_new(tasks, json_pack("{s:O,s:o,s:o,s:O}", "id", json_object_get(t, "id"), "startedAt",
                                                       time_or_null(json_object_get(t, "startedAt")), "completedAt",
                                                       time_or_null(json_object_get(t, "completedAt")), "status",
                                                       json_object_get(t, "status")));
        }
        return json_pack("{s:O,s:O,s:O,s:o,s:o,s:o}", "id", json_object_get(run, "id"), "jobId",
                         json_object_get(run, "jobId"), "status", json_object_get(run, "status"), "createdAt",
                         time_or_null(json_object_get(run, "createdAt")), "completedAt",
                         time_or_null(json_object_get(run, "completedAt")), "tasks", tasks);
}

char *job_run_task_id(const char *job_id, const char *run_id, unsigned attempt) {
        return xasprintf("%s_%s.%u", job_id, run_id, attempt);
}

int job_run_task_parse(const char *task_id, char **ret_job, char **ret_run) {
        const char *us = task_id ? strrchr(task_id, '_') : NULL;
        if (!us || us == task_id)
                return -EINVAL;
        const char *dot = strchr(us, '.');
        if (!dot || dot - us - 1 != 19 || !dot[1])
                return -EINVAL;
        for (const char *p = dot + 1; *p; p++)
                if (*p < '0' || *p > '9')
                        return -EINVAL;
        _cleanup_free_ char *job = xstrndup(task_id, (size_t)(us - task_id));
        if (!job_id_valid(job))
                return -EINVAL;
        *ret_job = TAKE_PTR(job);
        *ret_run = xstrndup(us + 1, 19);
        return 0;
}
