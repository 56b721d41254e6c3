/* test_store_jobs.c — the job commands of the state machine: create/update/delete, schedules,
 * the once-per-tick guard, runs into a bounded history, and snapshots. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/job.h"
#include "store/jobs.h"
#include "store/state.h"
#include "store/store_fsm.h"

static json_t *load(const char *text) {
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        if (!j)
                fail_msg("bad test JSON: %s (%s)", e.text, text);
        return j;
}

/* Applies a command given as JSON text; returns its status, with the result in *res if wanted. */
static int apply(struct state *s, const char *text, json_t **res, struct err *e) {
        json_t *cmd = load(text);
        int r = store_fsm_apply(s, cmd, res, e);
        json_decref(cmd);
        return r;
}

static void ok(struct state *s, const char *text) {
        struct err e = { 0 };
        json_t *res = NULL;
        if (apply(s, text, &res, &e) < 0)
                fail_msg("%s: %s", text, err_msg(&e));
        json_decref(res);
}

static void fails(struct state *s, const char *text, int code, const char *msg) {
        struct err e = { 0 };
        assert_int_equal(apply(s, text, NULL, &e), code);
        if (!strstr(err_msg(&e), msg))
                fail_msg("%s: '%s' lacks '%s'", text, err_msg(&e), msg);
        err_release(&e);
}

static struct state *with_job(void) {
        struct state *s = state_new();
        ok(s, "{\"type\":\"job_create\",\"ts\":1000,\"job\":{\"id\":\"nightly\",\"run\":{\"cmd\":\"true\"}},"
              "\"schedules\":[{\"id\":\"every-minute\",\"cron\":\"* * * * *\",\"timezone\":\"UTC\","
              "\"startingDeadlineSeconds\":900,\"concurrencyPolicy\":\"ALLOW\",\"enabled\":true}]}");
        return s;
}

#define RUN(id, status) "{\"id\":\"" id "\",\"jobId\":\"nightly\",\"status\":\"" status "\",\"createdAt\":60000,\"tasks\":[]}"

static void create_update_delete(void **state) {
        struct state *s = with_job();
        const json_t *rec = state_job_get(s, "nightly");
        assert_non_null(rec);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(rec, "cursors"), "every-minute")), 1000);
        fails(s, "{\"type\":\"job_create\",\"ts\":2000,\"job\":{\"id\":\"nightly\",\"run\":{}}}", -ERR_CONFLICT,
              "Job with this id already exists");
        fails(s, "{\"type\":\"job_create\",\"ts\":2000,\"job\":{\"id\":\"Bad\",\"run\":{}}}", -EINVAL, "malformed");
        ok(s, "{\"type\":\"job_update\",\"ts\":3000,\"job\":{\"id\":\"nightly\",\"run\":{\"cmd\":\"false\"}}}");
        rec = state_job_get(s, "nightly");
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(rec, "job"), "run"), "cmd")),
                            "false");
        assert_int_equal(json_object_size(json_object_get(rec, "schedules")), 1); /* untouched */
        fails(s, "{\"type\":\"job_update\",\"ts\":3000,\"job\":{\"id\":\"nope\",\"run\":{}}}", -ERR_NOT_FOUND, "Job not found");
        /* An active run blocks the delete unless stopCurrentJobRuns. */
        ok(s, "{\"type\":\"job_run_start\",\"ts\":4000,\"id\":\"nightly\",\"run\":" RUN("r1", "STARTING") "}");
        fails(s, "{\"type\":\"job_delete\",\"id\":\"nightly\"}", -ERR_CONFLICT, "There are active job runs");
        /* A dependent job blocks it too. */
        ok(s, "{\"type\":\"job_create\",\"ts\":5000,\"job\":{\"id\":\"child\",\"dependencies\":[{\"id\":\"nightly\"}],\"run\":{}}}");
        fails(s, "{\"type\":\"job_delete\",\"id\":\"nightly\",\"stop\":true}", -ERR_CONFLICT, "dependency on nightly");
        ok(s, "{\"type\":\"job_delete\",\"id\":\"child\"}");
        ok(s, "{\"type\":\"job_delete\",\"id\":\"nightly\",\"stop\":true}");
        assert_null(state_job_get(s, "nightly"));
        fails(s, "{\"type\":\"job_delete\",\"id\":\"nightly\"}", -ERR_NOT_FOUND, "Job not found");
        state_free(s);
}

static void schedules(void **state) {
        struct state *s = with_job();
        fails(s, "{\"type\":\"job_schedule_put\",\"ts\":2000,\"id\":\"nightly\",\"create\":true,"
                 "\"schedule\":{\"id\":\"every-minute\",\"cron\":\"* * * * *\"}}",
              -ERR_CONFLICT, "A schedule with id every-minute already exists");
        fails(s, "{\"type\":\"job_schedule_put\",\"ts\":2000,\"id\":\"nightly\",\"create\":true,"
                 "\"schedule\":{\"id\":\"other\",\"cron\":\"* * * * *\"}}",
              -ERR_CONFLICT, "Only one schedule supported at the moment");
        fails(s, "{\"type\":\"job_schedule_put\",\"ts\":2000,\"id\":\"nightly\",\"schedule\":{\"id\":\"other\",\"cron\":\"* * * * *\"}}",
              -ERR_NOT_FOUND, "Schedule not found");
        /* Replacing moves the cursor to now: old ticks are neither run nor reported. */
        ok(s, "{\"type\":\"job_schedule_put\",\"ts\":500000,\"id\":\"nightly\",\"schedule\":{\"id\":\"every-minute\",\"cron\":\"*/5 * * * *\"}}");
        const json_t *rec = state_job_get(s, "nightly");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(rec, "cursors"), "every-minute")), 500000);
        ok(s, "{\"type\":\"job_schedule_delete\",\"id\":\"nightly\",\"schedule\":\"every-minute\"}");
        fails(s, "{\"type\":\"job_schedule_delete\",\"id\":\"nightly\",\"schedule\":\"every-minute\"}", -ERR_NOT_FOUND,
              "Schedule not found");
        ok(s, "{\"type\":\"job_schedule_put\",\"ts\":2000,\"id\":\"nightly\",\"create\":true,"
              "\"schedule\":{\"id\":\"other\",\"cron\":\"* * * * *\"}}");
        state_free(s);
}

static void a_tick_is_handled_once(void **state) {
        struct state *s = with_job();
        ok(s, "{\"type\":\"job_tick\",\"ts\":60010,\"id\":\"nightly\",\"schedule\":\"every-minute\",\"tick\":60000,"
              "\"action\":\"start\",\"run\":" RUN("r1", "INITIAL") "}");
        /* A second leader (or a retry) submitting the same tick is refused, whatever the run id. */
        fails(s, "{\"type\":\"job_tick\",\"ts\":60020,\"id\":\"nightly\",\"schedule\":\"every-minute\",\"tick\":60000,"
                 "\"action\":\"start\",\"run\":" RUN("r2", "INITIAL") "}",
              -ERR_CONFLICT, "tick already handled");
        fails(s, "{\"type\":\"job_tick\",\"ts\":60020,\"id\":\"nightly\",\"schedule\":\"every-minute\",\"tick\":1,"
                 "\"action\":\"skip\",\"first\":1,\"count\":1,\"reason\":\"deadline\"}",
              -ERR_CONFLICT, "tick already handled");
        const json_t *rec = state_job_get(s, "nightly");
        assert_int_equal(json_object_size(json_object_get(rec, "active")), 1);
        const json_t *run = state_job_active_run(s, "nightly", "r1");
        assert_int_equal(json_integer_value(json_object_get(run, "tick")), 60000);
        assert_string_equal(json_string_value(json_object_get(run, "schedule")), "every-minute");
        /* Skips are recorded with their range and reason. */
        ok(s, "{\"type\":\"job_tick\",\"ts\":900000,\"id\":\"nightly\",\"schedule\":\"every-minute\",\"tick\":840000,"
              "\"action\":\"skip\",\"first\":120000,\"count\":13,\"reason\":\"deadline\"}");
        const json_t *sk = json_array_get(json_object_get(rec, "skipped"), 0);
        assert_int_equal(json_integer_value(json_object_get(sk, "count")), 13);
        assert_int_equal(json_integer_value(json_object_get(sk, "last")), 840000);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(rec, "cursors"), "every-minute")), 840000);
        fails(s, "{\"type\":\"job_tick\",\"ts\":900000,\"id\":\"nightly\",\"schedule\":\"every-minute\",\"tick\":900000,"
                 "\"action\":\"skip\",\"first\":900000,\"count\":1,\"reason\":\"bored\"}",
              -EINVAL, "reason");
        fails(s, "{\"type\":\"job_tick\",\"ts\":900000,\"id\":\"nightly\",\"schedule\":\"nope\",\"tick\":900000,\"action\":\"start\"}",
              -ERR_NOT_FOUND, "Schedule not found");
        state_free(s);
}

static void runs_finish_into_a_bounded_history(void **state) {
        struct state *s = with_job();
        ok(s, "{\"type\":\"job_run_start\",\"ts\":1,\"id\":\"nightly\",\"run\":" RUN("r1", "STARTING") "}");
        ok(s, "{\"type\":\"job_run_update\",\"id\":\"nightly\",\"run\":\"r1\",\"status\":\"ACTIVE\","
              "\"task\":{\"id\":\"t1\",\"agentId\":\"a\",\"status\":\"TASK_RUNNING\",\"startedAt\":61000}}");
        ok(s, "{\"type\":\"job_run_update\",\"id\":\"nightly\",\"run\":\"r1\",\"task\":{\"id\":\"t1\",\"status\":\"TASK_FINISHED\",\"completedAt\":62000}}");
        /* A late, older status of an ended task changes nothing. */
        ok(s, "{\"type\":\"job_run_update\",\"id\":\"nightly\",\"run\":\"r1\",\"task\":{\"id\":\"t1\",\"status\":\"TASK_RUNNING\"}}");
        const json_t *run = state_job_active_run(s, "nightly", "r1");
        const json_t *t = json_array_get(json_object_get(run, "tasks"), 0);
        assert_string_equal(json_string_value(json_object_get(t, "status")), "TASK_FINISHED");
        assert_string_equal(json_string_value(json_object_get(t, "agentId")), "a");
        ok(s, "{\"type\":\"job_run_update\",\"id\":\"nightly\",\"run\":\"r1\",\"status\":\"SUCCESS\",\"completedAt\":62000}");
        assert_null(state_job_active_run(s, "nightly", "r1"));
        const json_t *h = json_object_get(state_job_get(s, "nightly"), "history");
        assert_int_equal(json_integer_value(json_object_get(h, "successCount")), 1);
        assert_int_equal(json_integer_value(json_object_get(h, "lastSuccessAt")), 62000);
        /* Updates after the end are ignored. */
        ok(s, "{\"type\":\"job_run_update\",\"id\":\"nightly\",\"run\":\"r1\",\"status\":\"FAILED\"}");
        assert_int_equal(json_integer_value(json_object_get(h, "failureCount")), 0);
        for (int i = 0; i < JOB_HISTORY_MAX + 20; i++) {
                char cmd[512];
                snprintf(cmd, sizeof cmd,
                         "{\"type\":\"job_run_start\",\"ts\":1,\"id\":\"nightly\",\"run\":{\"id\":\"f%d\",\"jobId\":\"nightly\","
                         "\"status\":\"STARTING\",\"createdAt\":1,\"tasks\":[]}}",
                         i);
                ok(s, cmd);
                snprintf(cmd, sizeof cmd,
                         "{\"type\":\"job_run_update\",\"id\":\"nightly\",\"run\":\"f%d\",\"status\":\"FAILED\",\"completedAt\":%d}", i,
                         i);
                ok(s, cmd);
        }
        assert_int_equal(json_integer_value(json_object_get(h, "failureCount")), JOB_HISTORY_MAX + 20);
        assert_int_equal(json_array_size(json_object_get(h, "failed")), JOB_HISTORY_MAX);
        char newest[16];
        snprintf(newest, sizeof newest, "f%d", JOB_HISTORY_MAX + 19);
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(h, "failed"), 0), "id")), newest);
        ok(s, "{\"type\":\"job_run_update\",\"id\":\"nightly\",\"run\":\"f0\",\"task\":{}}"); /* finished: ignored */
        state_free(s);
}

static void snapshots_keep_everything(void **state) {
        struct state *s = with_job();
        ok(s, "{\"type\":\"job_tick\",\"ts\":60010,\"id\":\"nightly\",\"schedule\":\"every-minute\",\"tick\":60000,"
              "\"action\":\"start\",\"run\":" RUN("r1", "INITIAL") "}");
        json_t *snap = state_to_json(s);
        struct state *t = state_new();
        struct err e = { 0 };
        assert_int_equal(state_from_json(t, snap, &e), 0);
        assert_true(json_equal((json_t *)state_jobs(s), (json_t *)state_jobs(t)));
        /* The tick guard survives the snapshot: a new leader restored from it refuses the tick. */
        fails(t, "{\"type\":\"job_tick\",\"ts\":60020,\"id\":\"nightly\",\"schedule\":\"every-minute\",\"tick\":60000,"
                 "\"action\":\"start\",\"run\":" RUN("r9", "INITIAL") "}",
              -ERR_CONFLICT, "tick already handled");
        /* A malformed jobs part leaves the state as it was. */
        json_object_set_new(json_object_get(snap, "jobs"), "x", json_pack("{s:{s:s}}", "job", "id", "y"));
        assert_int_equal(state_from_json(t, snap, &e), -EINVAL);
        err_release(&e);
        assert_non_null(state_job_get(t, "nightly"));
        /* Old snapshots have no jobs. */
        json_object_del(snap, "jobs");
        assert_int_equal(state_from_json(t, snap, &e), 0);
        assert_null(state_job_get(t, "nightly"));
        json_decref(snap);
        state_free(t);
        state_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(create_update_delete),
                cmocka_unit_test(schedules),
                cmocka_unit_test(a_tick_is_handled_once),
                cmocka_unit_test(runs_finish_into_a_bounded_history),
                cmocka_unit_test(snapshots_keep_everything),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
