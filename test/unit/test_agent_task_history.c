/* test_agent_task_history.c — finished tasks' sandboxes: kept per app newest first, aged out,
 * never taken from a task the runtime still has; how a task ended is recorded and listed. */
#include "test_agent_harness.h"

#include <sys/stat.h>

#include "agent/task_history.h"
#include "common/timeutil.h"
#include "common/util.h"

static void status_cb(struct runtime *rt, const struct task_status *st, void *data) {
}

static void make_finished(const char *dir, const char *id, int64_t finished_ms) {
        char path[512];
        snprintf(path, sizeof path, "%s/sandboxes/%s", dir, id);
        assert_int_equal(mkdir_p(path, NULL), 0);
        snprintf(path, sizeof path, "%s/sandboxes/%s/stdout", dir, id);
        FILE *f = fopen(path, "w");
        fputs("hello\n", f);
        fclose(f);
        snprintf(path, sizeof path, "%s/history/%s.json", dir, id);
        char text[512];
        snprintf(text, sizeof text, "{\"taskId\":\"%s\",\"state\":\"TASK_FAILED\",\"finishedAt\":%lld}", id,
                 (long long)finished_ms);
        assert_int_equal(file_write_atomic(path, text, strlen(text), NULL), 0);
}

static bool exists(const char *dir, const char *id) {
        char path[512];
        snprintf(path, sizeof path, "%s/sandboxes/%s", dir, id);
        return access(path, F_OK) == 0;
}

static size_t listed(struct task_history *h) {
        json_t *l = task_history_list(h);
        size_t n = json_array_size(json_object_get(l, "sandboxes"));
        json_decref(l);
        return n;
}

static void run_collection(uv_loop_t *loop, struct task_history *h) {
        while (!task_history_collect(h))
                uv_run(loop, UV_RUN_ONCE); /* the first one (at start) is still running */
        while (!task_history_collect(h)) /* false until the one just started has ended */
                uv_run(loop, UV_RUN_ONCE);
        while (!task_history_collect(h))
                uv_run(loop, UV_RUN_ONCE);
}

static void keeps_the_newest_per_app_and_ages_out_the_rest(void **state) {
        char dir[] = "/tmp/strata-history-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char hist[600];
        snprintf(hist, sizeof hist, "%s/history", dir);
        mkdir(hist, 0700);
        int64_t now = time_now_ms();
        make_finished(dir, "web.instance-00000000-0000-0000-0000-000000000001._app", now - 3000);
        make_finished(dir, "web.instance-00000000-0000-0000-0000-000000000002._app", now - 2000);
        make_finished(dir, "web.instance-00000000-0000-0000-0000-000000000003._app", now - 1000);
        /* a removed app's task, a day old: beyond max age */
        make_finished(dir, "old.instance-00000000-0000-0000-0000-000000000004._app", now - 86400 * 1000);

        uv_loop_t loop;
        uv_loop_init(&loop);
        struct runtime_config cfg = { .loop = &loop, .status_cb = status_cb };
        struct runtime *rt = NULL;
        assert_int_equal(runtime_fake_new(&cfg, &rt), 0);
        struct task_history_policy p = { 0 };
        assert_int_equal(task_history_flag(&p, "sandbox-keep", "2"), 0);
        assert_int_equal(task_history_flag(&p, "sandbox-max-age", "3600"), 0);
        assert_int_equal(task_history_flag(&p, "sandbox-keep", "-1"), -EINVAL);
        assert_int_equal(task_history_flag(&p, "sandbox-max-age", "soon"), -EINVAL);
        struct task_history *h = task_history_new(&loop, dir, &p, rt);
        run_collection(&loop, h);

        assert_false(exists(dir, "web.instance-00000000-0000-0000-0000-000000000001._app"));
        assert_true(exists(dir, "web.instance-00000000-0000-0000-0000-000000000002._app"));
        assert_true(exists(dir, "web.instance-00000000-0000-0000-0000-000000000003._app"));
        assert_false(exists(dir, "old.instance-00000000-0000-0000-0000-000000000004._app"));
        assert_int_equal(listed(h), 2);

        /* A task ends: recorded at once, listed newest first with its state and exit code. */
        struct task_status st = { .task_id = "web.instance-00000000-0000-0000-0000-000000000005._app",
                                  .state = TASK_FAILED, .message = "Command exited with status 3", .exit_code = 3,
                                  .timestamp_ms = now };
        task_history_status(h, &st);
        json_t *l = task_history_list(h);
        json_t *first = json_array_get(json_object_get(l, "sandboxes"), 0);
        assert_string_equal(json_string_value(json_object_get(first, "taskId")), st.task_id);
        assert_string_equal(json_string_value(json_object_get(first, "appId")), "/web");
        assert_string_equal(json_string_value(json_object_get(first, "state")), "TASK_FAILED");
        assert_int_equal(json_integer_value(json_object_get(first, "exitCode")), 3);
        assert_true(json_is_false(json_object_get(first, "live")));
        json_decref(l);

        task_history_free(h);
        runtime_close(rt, NULL, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&loop), 0);
        rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(keeps_the_newest_per_app_and_ages_out_the_rest),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
