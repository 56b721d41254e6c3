/* test_agent_fake.c — the fake runtime the daemon's tests use: scripted transitions, kills,
 * injected launch failures, recovery, and statuses delivered on the loop, never inside a call. */
#include "test_agent_harness.h"

static struct harness *fake_harness(void) {
        struct harness *h = xcalloc(1, sizeof *h);
        uv_loop_init(&h->loop);
        struct runtime_config cfg = {.loop = &h->loop, .status_cb = harness_status_cb, .userdata = h};
        assert_int_equal(runtime_fake_new(&cfg, &h->rt), 0);
        return h;
}

static void fake_free(struct harness *h) {
        harness_close_runtime(h);
        assert_int_equal(uv_loop_close(&h->loop), 0);
        free(h);
}

static void default_script_reports_starting_then_running_on_the_loop(void **state) {
        struct harness *h = fake_harness();
        char *env[] = {"A=1", NULL};
        struct task_spec spec = {.task_id = "t1", .cmd = "serve", .env = env, .cpus = 0.5};
        struct err err = {0};
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        assert_int_equal(h->n_seen, 0); /* not from inside the call */
        harness_wait(h, "t1", TASK_RUNNING, 1000);
        assert_int_equal(h->seen[0].state, TASK_STARTING);
        const struct task_spec *kept = runtime_fake_spec(h->rt, "t1");
        assert_non_null(kept);
        assert_string_equal(kept->cmd, "serve");
        assert_string_equal(kept->env[0], "A=1");
        assert_int_equal(runtime_fake_launches(h->rt), 1);
        assert_int_equal(runtime_launch(h->rt, &spec, &err), -EEXIST);

        assert_int_equal(runtime_kill(h->rt, "t1", -1, &err), 0);
        assert_int_equal(harness_wait(h, "t1", _TASK_STATE_MAX, 1000)->state, TASK_KILLED);
        assert_int_equal(runtime_kill(h->rt, "t1", -1, &err), 0);
        assert_int_equal(runtime_fake_kills(h->rt), 2);
        assert_int_equal(runtime_kill(h->rt, "nope", -1, &err), -ENOENT);
        assert_int_equal(runtime_remove(h->rt, "t1", &err), 0);
        assert_null(runtime_fake_spec(h->rt, "t1"));
        err_release(&err);
        fake_free(h);
}

static void scripts_failures_and_finishing_on_demand(void **state) {
        struct harness *h = fake_harness();
        struct err err = {0};
        enum task_state script[] = {TASK_STARTING, TASK_FAILED};
        runtime_fake_set_script(h->rt, script, 2);
        struct task_spec spec = {.task_id = "crashy", .cmd = "x"};
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        const struct seen *fin = harness_wait(h, "crashy", _TASK_STATE_MAX, 1000);
        assert_int_equal(fin->state, TASK_FAILED);
        assert_int_equal(fin->exit_code, 1);

        runtime_fake_fail_next_launch(h->rt, -ENOSPC, "disk full");
        spec.task_id = "unlucky";
        assert_int_equal(runtime_launch(h->rt, &spec, &err), -ENOSPC);
        assert_string_equal(err_msg(&err), "disk full");
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0); /* only the next one */

        enum task_state run[] = {TASK_RUNNING};
        runtime_fake_set_script(h->rt, run, 1);
        spec.task_id = "svc";
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        harness_wait(h, "svc", TASK_RUNNING, 1000);
        assert_int_equal(runtime_remove(h->rt, "svc", &err), -EBUSY);
        assert_int_equal(runtime_fake_finish(h->rt, "svc", TASK_FINISHED, 0, "done"), 0);
        fin = harness_wait(h, "svc", _TASK_STATE_MAX, 1000);
        assert_int_equal(fin->state, TASK_FINISHED);
        assert_string_equal(fin->message, "done");
        assert_int_equal(runtime_fake_finish(h->rt, "svc", TASK_FAILED, 1, NULL), -EALREADY);
        assert_int_equal(runtime_fake_finish(h->rt, "ghost", TASK_FAILED, 1, NULL), -ENOENT);
        err_release(&err);
        fake_free(h);
}

static void count_cb(const struct runtime_task_info *info, void *userdata) {
        (*(int *)userdata)++;
}

static void recovery_reports_what_was_checkpointed(void **state) {
        struct harness *h = fake_harness();
        runtime_fake_add_recoverable(h->rt, "old-1", TASK_RUNNING);
        runtime_fake_add_recoverable(h->rt, "old-2", TASK_FINISHED);
        struct err err = {0};
        assert_int_equal(runtime_recover(h->rt, &err), 2);
        harness_wait(h, "old-1", TASK_RUNNING, 1000);
        harness_wait(h, "old-2", TASK_FINISHED, 1000);
        struct runtime_task_info info;
        assert_int_equal(runtime_get(h->rt, "old-1", &info), 0);
        assert_int_equal(info.state, TASK_RUNNING);
        assert_true(info.pid > 0);
        int n = 0;
        runtime_foreach(h->rt, count_cb, &n);
        assert_int_equal(n, 2);
        assert_int_equal(runtime_recover(h->rt, &err), 0);
        fake_free(h);
}

static void state_names_round_trip(void **state) {
        for (int s = 0; s < _TASK_STATE_MAX; s++)
                assert_int_equal(task_state_from_string(task_state_to_string(s)), s);
        assert_string_equal(task_state_to_string(TASK_RUNNING), "TASK_RUNNING");
        assert_int_equal(task_state_from_string("TASK_BOGUS"), -EINVAL);
        assert_string_equal(task_state_to_string(_TASK_STATE_MAX), "TASK_UNKNOWN");
        assert_true(task_state_is_terminal(TASK_LOST));
        assert_false(task_state_is_terminal(TASK_KILLING));
}

static void specs_are_validated_before_any_runtime_sees_them(void **state) {
        struct harness *h = fake_harness();
        struct err err = {0};
        const char *bad_ids[] = {"", ".", "..", "a/b", "a b", "ä"};
        for (size_t i = 0; i < ELEMENTSOF(bad_ids); i++) {
                struct task_spec spec = {.task_id = (char *)bad_ids[i], .cmd = "x"};
                assert_int_equal(runtime_launch(h->rt, &spec, &err), -EINVAL);
        }
        struct task_spec nothing = {.task_id = "ok"};
        assert_int_equal(runtime_launch(h->rt, &nothing, &err), -EINVAL);
        char *env[] = {"NOEQUALS", NULL};
        struct task_spec bad_env = {.task_id = "ok", .cmd = "x", .env = env};
        assert_int_equal(runtime_launch(h->rt, &bad_env, &err), -EINVAL);
        struct task_spec rel = {.task_id = "ok", .cmd = "x", .sandbox = "relative/dir"};
        assert_int_equal(runtime_launch(h->rt, &rel, &err), -EINVAL);
        struct task_spec neg = {.task_id = "ok", .cmd = "x", .mem_mib = -1};
        assert_int_equal(runtime_launch(h->rt, &neg, &err), -EINVAL);
        assert_int_equal(runtime_fake_launches(h->rt), 0);
        err_release(&err);
        fake_free(h);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_script_reports_starting_then_running_on_the_loop),
        cmocka_unit_test(scripts_failures_and_finishing_on_demand),
        cmocka_unit_test(recovery_reports_what_was_checkpointed),
        cmocka_unit_test(state_names_round_trip),
        cmocka_unit_test(specs_are_validated_before_any_runtime_sees_them),
};

AGENT_TEST_MAIN(tests)
