/* test_master_core_deploy_failure.c — a deployment whose new version crash-loops, through the
 * integration tier (test_master_core.h): the restart's new tasks count only after they have run
 * STRATA_DEPLOY_MIN_HEALTHY_SECONDS, so the old task is never killed for them; after
 * STRATA_DEPLOY_MAX_FAILURES failures the deployment fails with the reason (deployment_finish
 * result failed, deployment_failed's reason), or with STRATA_DEPLOY_ON_FAILURE=rollback it is
 * rolled back and the original definition's task, still running, converges the rollback. */
#include "test_master_core.h"

#define APP_V1 "{\"id\":\"/web\",\"cmd\":\"sleep 1000\",\"instances\":1,\"cpus\":1,\"mem\":64," \
               "\"backoffSeconds\":1,\"backoffFactor\":1%s}"

static const json_t *event_of(const json_t *events, const char *type) {
        size_t i;
        json_t *e;
        json_array_foreach(events, i, e)
                if (streq(json_string_value(json_object_get(e, "type")), type))
                        return json_object_get(e, "fields");
        return NULL;
}

/* The one placement of cmds (asserted), id copied into id. */
static void one_placement(const json_t *cmds, char id[128]) {
        const char *ids[4];
        assert_int_equal(ct_placed(cmds, ids, NULL, 4), 1);
        snprintf(id, 128, "%s", ids[0]);
}

/* /web at v1, running (a new app's deployment ends when its task runs); returns its task id in
 * old. */
static const char *start(struct core_test *t, const char *labels, char old[128]) {
        static char agent[128];
        snprintf(agent, sizeof agent, "%s", ct_agent(t, "h1", NULL, 8, NULL));
        char def[512];
        snprintf(def, sizeof def, APP_V1, labels);
        ct_create_app(t, def, "d-1");
        json_t *cmds = ct_take_cmds(t);
        assert_types(cmds, "agent_register,app_create,deployment_step,instances_place");
        one_placement(cmds, old);
        json_decref(cmds);
        ct_status(t, agent, old, "TASK_RUNNING");
        ct_expect_cmds(t, "instances_status,deployment_finish");
        ct_advance(t, 3000); /* the old task has run long enough to count in a later restart */
        ct_expect_cmds(t, "");
        json_decref(ct_take_events(t));
        json_decref(ct_take_frames(t, agent));
        return agent;
}

/* The new version's task id starts and dies after ran_ms with the agent's message. */
static void crash(struct core_test *t, const char *agent, const char *id, uint64_t ran_ms) {
        ct_status(t, agent, id, "TASK_RUNNING");
        ct_expect_cmds(t, "instances_status");
        ct_advance(t, ran_ms);
        ct_expect_cmds(t, ""); /* not proven yet: the old task stays */
        ct_post(t, agent, json_pack("[{s:s,s:s,s:I,s:s}]", "taskId", id, "state", "TASK_FAILED", "timestamp",
                                    (json_int_t)clock_now_ms(t->clock), "message", "Command exited with status 1"));
}

/* How many frames of type agent got since the last take. */
static size_t frames_of(struct core_test *t, const char *agent, const char *type) {
        json_t *f = ct_take_frames(t, agent);
        size_t i, n = 0;
        json_t *x;
        json_array_foreach(f, i, x)
                n += streq(json_string_value(json_object_get(x, "type")), type);
        json_decref(f);
        return n;
}

/* The app's update to a crashing command (d-2): one new task beside the old one
 * (maximumOverCapacity 1); returns its id in n. */
static void update_to_crash(struct core_test *t, char n[128]) {
        ct_update_app(t, "/web", "{\"cmd\": \"exit 1\"}", "d-2");
        json_t *cmds = ct_take_cmds(t);
        assert_types(cmds, "app_update,instances_place");
        one_placement(cmds, n);
        json_decref(cmds);
}

/* A failure that does not end the deployment: expunged, relaunched once backoffSeconds (1 s)
 * are over. */
static void counted_failure(struct core_test *t, const char *agent, char n[128]) {
        crash(t, agent, n, 2000);
        ct_expect_cmds(t, "instances_status,instances_expunge");
        ct_advance(t, 999);
        ct_expect_cmds(t, "");
        ct_advance(t, 2);
        json_t *cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_place");
        one_placement(cmds, n);
        json_decref(cmds);
}

static void old_task_untouched(struct core_test *t, const char *agent, const char *old) {
        const struct instance *i = state_instance_get(t->st, old);
        assert_non_null(i);
        assert_int_equal(i->state, TASK_RUNNING);
        assert_int_equal(i->goal, GOAL_RUNNING);
        assert_int_equal(frames_of(t, agent, "KILL"), 0);
}

#define WHY "3 tasks of /web failed before one ran 3 s healthy; last: Command exited with status 1"

/* Default policy: three failures before a new task ran 3 s fail the deployment with the last
 * task's message; the app keeps its new definition and Marathon's retries go on. */
static void crash_looping_version_fails_the_deployment_with_its_reason(void **state) {
        struct core_test *t = ct_new();
        char old[128], n[128];
        const char *agent = start(t, "", old);
        update_to_crash(t, n);
        counted_failure(t, agent, n);
        counted_failure(t, agent, n);
        crash(t, agent, n, 2000);
        json_t *cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_status,deployment_finish,instances_expunge");
        const json_t *fin = json_array_get(cmds, 1);
        assert_string_equal(json_string_value(json_object_get(fin, "id")), "d-2");
        assert_string_equal(json_string_value(json_object_get(fin, "result")), "failed");
        assert_string_equal(json_string_value(json_object_get(fin, "reason")), WHY);
        json_decref(cmds);
        assert_int_equal(state_deployment_count(t->st), 0);
        json_t *ev = ct_take_events(t);
        const json_t *failed = event_of(ev, "deployment_failed");
        assert_non_null(failed);
        assert_string_equal(json_string_value(json_object_get(failed, "id")), "d-2");
        assert_string_equal(json_string_value(json_object_get(failed, "reason")), WHY);
        assert_null(event_of(ev, "deployment_success"));
        json_decref(ev);
        /* the rolling rule never killed the old task for a new one that had not proven itself */
        old_task_untouched(t, agent, old);
        /* no deployment any more: the new definition stays and is retried after its backoff; the
         * rolling rule still waits for a new task to run 3 s before the old one goes */
        assert_string_equal(json_string_value(json_object_get(state_app_get(t->st, "/web"), "cmd")), "exit 1");
        ct_advance(t, 1001);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_place");
        one_placement(cmds, n);
        json_decref(cmds);
        ct_status(t, agent, n, "TASK_RUNNING");
        ct_expect_cmds(t, "instances_status");
        ct_advance(t, 2999);
        ct_expect_cmds(t, "");
        old_task_untouched(t, agent, old);
        ct_advance(t, 1);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_goal");
        assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(cmds, 0), "ids"), 0)), old);
        json_decref(cmds);
        ct_free(t);
}

#define WHY2 "2 tasks of /web failed before one ran 3 s healthy; last: Command exited with status 1"

/* STRATA_DEPLOY_ON_FAILURE=rollback, STRATA_DEPLOY_MAX_FAILURES=2: the second failure rolls the
 * deployment back; the original definition returns, its task (still running, long proven)
 * converges the rollback at once, and deployment_failed names the rollback. */
static void crash_looping_version_is_rolled_back(void **state) {
        struct core_test *t = ct_new();
        char old[128], n[128];
        const char *agent = start(t, ",\"labels\":{\"STRATA_DEPLOY_ON_FAILURE\":\"rollback\","
                                     "\"STRATA_DEPLOY_MAX_FAILURES\":\"2\"}", old);
        update_to_crash(t, n);
        counted_failure(t, agent, n);
        crash(t, agent, n, 2000);
        json_t *cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_status,deployment_rollback,instances_expunge,deployment_finish");
        const json_t *rb = json_array_get(cmds, 1);
        assert_string_equal(json_string_value(json_object_get(rb, "id")), "d-2");
        char new_id[64];
        snprintf(new_id, sizeof new_id, "%s", json_string_value(json_object_get(rb, "newId")));
        assert_int_equal(strlen(new_id), 36);
        const json_t *fin = json_array_get(cmds, 3);
        assert_string_equal(json_string_value(json_object_get(fin, "id")), new_id);
        assert_string_equal(json_string_value(json_object_get(fin, "result")), "success");
        json_decref(cmds);
        assert_int_equal(state_deployment_count(t->st), 0);
        assert_string_equal(json_string_value(json_object_get(state_app_get(t->st, "/web"), "cmd")), "sleep 1000");
        json_t *ev = ct_take_events(t);
        const json_t *failed = event_of(ev, "deployment_failed");
        assert_non_null(failed);
        assert_string_equal(json_string_value(json_object_get(failed, "id")), "d-2");
        char why[256];
        snprintf(why, sizeof why, WHY2 "; rolled back by deployment %s", new_id);
        assert_string_equal(json_string_value(json_object_get(failed, "reason")), why);
        const json_t *ok = event_of(ev, "deployment_success");
        assert_non_null(ok);
        assert_string_equal(json_string_value(json_object_get(ok, "id")), new_id);
        json_decref(ev);
        old_task_untouched(t, agent, old);
        /* nothing more to do: the old task is the current configuration again */
        ct_advance(t, 5000);
        ct_expect_cmds(t, "");
        ct_free(t);
}

/* DELETE /v2/deployments/{id} right after the app started: the rollback is a restart back to the
 * original configuration, whose tasks have run less than the minimum healthy time; it ends once
 * they have (the launcher's next pass comes from the plan's settle_at_ms, nothing else happens
 * meanwhile). */
static void a_rollback_of_young_tasks_ends_once_they_ran_long_enough(void **state) {
        struct core_test *t = ct_new();
        char agent[128];
        snprintf(agent, sizeof agent, "%s", ct_agent(t, "h1", NULL, 8, NULL));
        ct_create_app(t, "{\"id\":\"/rb\",\"cmd\":\"sleep 1003\",\"instances\":2,\"cpus\":0.1,\"mem\":16}", "d-1");
        json_t *cmds = ct_take_cmds(t);
        const char *ids[4];
        assert_int_equal(ct_placed(cmds, ids, NULL, 4), 2);
        char o[2][128];
        for (int i = 0; i < 2; i++)
                snprintf(o[i], 128, "%s", ids[i]);
        json_decref(cmds);
        ct_status(t, agent, o[0], "TASK_RUNNING");
        ct_status(t, agent, o[1], "TASK_RUNNING");
        ct_expect_cmds(t, "instances_status,instances_status,deployment_finish");
        ct_update_app(t, "/rb", "{\"user\":\"no-such-user\",\"backoffSeconds\":60}", "d-2");
        cmds = ct_take_cmds(t);
        assert_types(cmds, "app_update,instances_place");
        char nn[2][128];
        assert_int_equal(ct_placed(cmds, ids, NULL, 4), 2);
        for (int i = 0; i < 2; i++)
                snprintf(nn[i], 128, "%s", ids[i]);
        json_decref(cmds);
        for (int i = 0; i < 2; i++)
                ct_status(t, agent, nn[i], "TASK_FAILED");
        ct_expect_cmds(t, "instances_status,instances_expunge,instances_status,instances_expunge");
        ct_advance(t, 1000);
        char ts[25];
        time_format_ms(clock_now_ms(t->clock), ts);
        assert_int_equal(ct_submit(t, json_pack("{s:s,s:i,s:s,s:s,s:s}", "type", "deployment_rollback", "v", 1, "id",
                                                "d-2", "newId", "d-3", "ts", ts)),
                         0);
        ct_expect_cmds(t, "deployment_rollback");
        ct_advance(t, 1999);
        ct_expect_cmds(t, "");
        ct_advance(t, 1);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "deployment_finish");
        assert_string_equal(json_string_value(json_object_get(json_array_get(cmds, 0), "id")), "d-3");
        assert_string_equal(json_string_value(json_object_get(json_array_get(cmds, 0), "result")), "success");
        json_decref(cmds);
        for (int i = 0; i < 2; i++)
                old_task_untouched(t, agent, o[i]);
        ct_free(t);
}

/* minimumHealthCapacity 0: the old task goes at once, and once it has ended the app is at its
 * target with nothing older (the launcher's count-only pass); the restart still ends only when the
 * new task has run the minimum healthy time, not at its first status. */
static void a_restart_without_old_tasks_left_still_waits_the_minimum_healthy_time(void **state) {
        struct core_test *t = ct_new();
        char old[128], n[128];
        const char *agent = start(t, ",\"upgradeStrategy\":{\"minimumHealthCapacity\":0,\"maximumOverCapacity\":0}", old);
        ct_update_app(t, "/web", "{\"cmd\": \"sleep 2000\"}", "d-2");
        json_t *cmds = ct_take_cmds(t);
        assert_types(cmds, "app_update,instances_goal");
        json_decref(cmds);
        ct_status(t, agent, old, "TASK_KILLED");
        cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_status,instances_expunge,instances_place");
        one_placement(cmds, n);
        json_decref(cmds);
        ct_status(t, agent, n, "TASK_RUNNING");
        ct_expect_cmds(t, "instances_status");
        ct_advance(t, 1000);
        ct_status(t, agent, n, "TASK_RUNNING"); /* a repeated status: a pass of a settled-looking app */
        ct_expect_cmds(t, "instances_status");
        ct_advance(t, 1999);
        ct_expect_cmds(t, "");
        ct_advance(t, 1);
        ct_expect_cmds(t, "deployment_finish");
        ct_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(crash_looping_version_fails_the_deployment_with_its_reason),
                cmocka_unit_test(crash_looping_version_is_rolled_back),
                cmocka_unit_test(a_rollback_of_young_tasks_ends_once_they_ran_long_enough),
                cmocka_unit_test(a_restart_without_old_tasks_left_still_waits_the_minimum_healthy_time),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
