/* test_master_core_scenario.c — the core end to end, in process: an app is created and placed,
 * a task fails and is relaunched after its backoff, a configuration change rolls, an agent is
 * lost and its task replaced, and when it returns the surplus goes. Every step asserts the
 * commands the core committed, the frames agents got and the events it emitted. */
#include "test_master_core.h"

#define WEB "{\"id\":\"/web\",\"cmd\":\"sleep 1000\",\"instances\":2,\"cpus\":1,\"mem\":64," \
            "\"backoffSeconds\":1,\"backoffFactor\":2}"

/* The task ids of every frame of `type` in frames, appended to ids. */
static size_t frame_tasks(const json_t *frames, const char *type, const char **ids, size_t max) {
        size_t i, n = 0;
        json_t *f;
        json_array_foreach(frames, i, f) {
                if (!streq(json_string_value(json_object_get(f, "type")), type))
                        continue;
                assert_int_equal(json_integer_value(json_object_get(f, "term")), 1);
                json_t *list = streq(type, "LAUNCH") ? json_object_get(f, "tasks") : json_object_get(f, "taskIds");
                size_t k;
                json_t *x;
                json_array_foreach(list, k, x) {
                        assert_true(n < max);
                        ids[n++] = json_is_string(x) ? json_string_value(x)
                                                     : json_string_value(json_object_get(x, "taskId"));
                }
        }
        return n;
}

static bool has_event(const json_t *events, const char *type) {
        size_t i;
        json_t *e;
        json_array_foreach(events, i, e)
                if (streq(json_string_value(json_object_get(e, "type")), type))
                        return true;
        return false;
}

static void app_created_placed_fails_backs_off_rolls_loses_an_agent_and_is_replaced(void **state) {
        struct core_test *t = ct_new();
        const char *a1 = ct_agent(t, "h1", "{\"rack\":\"r1\"}", 4, NULL);
        const char *a2 = ct_agent(t, "h2", "{\"rack\":\"r2\"}", 4, NULL);
        json_t *cmds = ct_take_cmds(t);
        assert_types(cmds, "agent_register,agent_register");
        json_decref(cmds);
        json_t *f1 = ct_take_frames(t, a1), *f2 = ct_take_frames(t, a2);
        assert_types(f1, "SUBSCRIBED");
        assert_string_equal(json_string_value(json_object_get(json_array_get(f1, 0), "agentId")), a1);
        assert_types(f2, "SUBSCRIBED");
        json_decref(f1);
        json_decref(f2);

        /* --- created → placed: one step commits the StartApplication, one placement per agent */
        ct_create_app(t, WEB, "d-1");
        cmds = ct_take_cmds(t);
        assert_types(cmds, "app_create,deployment_step,instances_place");
        const char *ids[8], *agents[8];
        assert_int_equal(ct_placed(cmds, ids, agents, 8), 2);
        assert_string_not_equal(agents[0], agents[1]); /* spread over both agents */
        char t1[128], t2[128], t1_agent[128], t2_agent[128];
        snprintf(t1, sizeof t1, "%s", ids[0]);
        snprintf(t2, sizeof t2, "%s", ids[1]);
        snprintf(t1_agent, sizeof t1_agent, "%s", agents[0]);
        snprintf(t2_agent, sizeof t2_agent, "%s", agents[1]);
        json_decref(cmds);
        f1 = ct_take_frames(t, t1_agent);
        assert_types(f1, "LAUNCH");
        const char *tasks[8];
        assert_int_equal(frame_tasks(f1, "LAUNCH", tasks, 8), 1);
        assert_string_equal(tasks[0], t1);
        /* the definition travels with the launch, keyed by id@version */
        const json_t *apps = json_object_get(json_array_get(f1, 0), "apps");
        assert_int_equal(json_object_size(apps), 1);
        const char *key = json_object_iter_key(json_object_iter((json_t *)apps));
        assert_true(strncmp(key, "/web@", 5) == 0);
        json_decref(f1);
        json_decref(ct_take_frames(t, t2_agent));
        json_t *ev = ct_take_events(t);
        assert_types(ev, "deployment_info,deployment_step_success,deployment_info,status_update_event,"
                         "instance_changed_event,status_update_event,instance_changed_event");
        json_decref(ev);

        /* --- running: the deployment ends */
        ct_status(t, t1_agent, t1, "TASK_RUNNING");
        ct_expect_cmds(t, "instances_status");
        ct_status(t, t2_agent, t2, "TASK_RUNNING");
        cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_status,deployment_finish");
        assert_string_equal(json_string_value(json_object_get(json_array_get(cmds, 1), "result")), "success");
        json_decref(cmds);
        ev = ct_take_events(t);
        assert_true(has_event(ev, "deployment_success"));
        json_decref(ev);
        assert_int_equal(state_deployment_count(t->st), 0);

        /* --- a task fails: expunged at once, relaunched only after backoffSeconds (1 s) */
        ct_status(t, t1_agent, t1, "TASK_FAILED");
        ct_expect_cmds(t, "instances_status,instances_expunge");
        json_t *queue = launcher_queue_json(&t->core.launcher);
        json_t *q0 = json_array_get(json_object_get(queue, "queue"), 0);
        assert_int_equal(json_integer_value(json_object_get(q0, "count")), 1);
        assert_true(json_real_value(json_object_get(json_object_get(q0, "delay"), "timeLeftSeconds")) > 0.99);
        json_decref(queue);
        ct_advance(t, 999);
        ct_expect_cmds(t, "");
        ct_advance(t, 2);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_place");
        assert_int_equal(ct_placed(cmds, ids, agents, 8), 1);
        char t3[128], t3_agent[128];
        snprintf(t3, sizeof t3, "%s", ids[0]);
        snprintf(t3_agent, sizeof t3_agent, "%s", agents[0]);
        json_decref(cmds);
        f1 = ct_take_frames(t, t3_agent);
        assert_int_equal(frame_tasks(f1, "LAUNCH", tasks, 8), 1);
        assert_string_equal(tasks[0], t3);
        json_decref(f1);
        ct_status(t, t3_agent, t3, "TASK_RUNNING");
        json_decref(ct_take_cmds(t));
        json_decref(ct_take_events(t));

        /* --- a new configuration rolls: two new instances first (maximumOverCapacity 1), the old
         * ones go once the new ones run (minimumHealthCapacity 1) */
        ct_update_app(t, "/web", "{\"cmd\": \"sleep 2000\"}", "d-2");
        cmds = ct_take_cmds(t);
        assert_types(cmds, "app_update,instances_place");
        assert_int_equal(ct_placed(cmds, ids, agents, 8), 2);
        char n1[128], n2[128], n1_agent[128], n2_agent[128];
        snprintf(n1, sizeof n1, "%s", ids[0]);
        snprintf(n2, sizeof n2, "%s", ids[1]);
        snprintf(n1_agent, sizeof n1_agent, "%s", agents[0]);
        snprintf(n2_agent, sizeof n2_agent, "%s", agents[1]);
        json_decref(cmds);
        json_decref(ct_take_frames(t, a1));
        json_decref(ct_take_frames(t, a2));
        ct_status(t, n1_agent, n1, "TASK_RUNNING");
        ct_expect_cmds(t, "instances_status");
        /* a restart: one new healthy once it has run STRATA_DEPLOY_MIN_HEALTHY_SECONDS (3 s), then
         * one old may go (H 3 − minHealthy 2) */
        ct_advance(t, 3100);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_goal");
        json_t *goal = json_array_get(cmds, 0);
        assert_string_equal(json_string_value(json_object_get(goal, "goal")), "stopped");
        assert_int_equal(json_array_size(json_object_get(goal, "ids")), 1);
        /* killed oldest first: t2 started before t3 */
        assert_string_equal(json_string_value(json_array_get(json_object_get(goal, "ids"), 0)), t2);
        json_decref(cmds);
        f2 = ct_take_frames(t, t2_agent);
        /* heartbeats went out while the new task proved itself */
        for (size_t k = json_array_size(f2); k-- > 0;)
                if (streq(json_string_value(json_object_get(json_array_get(f2, k), "type")) ?: "", "HEARTBEAT"))
                        json_array_remove(f2, k);
        assert_types(f2, "KILL");
        assert_int_equal(frame_tasks(f2, "KILL", tasks, 8), 1);
        assert_string_equal(tasks[0], t2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(f2, 0), "gracePeriodSeconds")), 3);
        json_decref(f2);
        ct_status(t, n2_agent, n2, "TASK_RUNNING");
        ct_expect_cmds(t, "instances_status");
        ct_advance(t, 3100);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_goal");
        assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(cmds, 0), "ids"), 0)), t3);
        json_decref(cmds);
        ct_status(t, t2_agent, t2, "TASK_KILLED");
        ct_status(t, t3_agent, t3, "TASK_KILLED");
        ct_expect_cmds(t, "instances_status,instances_expunge,instances_status,instances_expunge,deployment_finish");
        json_decref(ct_take_frames(t, a1));
        json_decref(ct_take_frames(t, a2));
        json_decref(ct_take_events(t));

        /* --- an agent goes silent: after agent_timeout (15 s) it is unreachable, its tasks
         * TASK_UNREACHABLE, and (inactiveAfterSeconds 0) replaced on the other agent */
        const char *lost = n1_agent, *kept = streq(n1_agent, a1) ? a2 : a1;
        const char *on_lost[4];
        size_t k = ct_live(t, "/web", lost, on_lost, 4);
        assert_true(k >= 1 && k <= 2);
        char lost_tasks[2][128];
        for (size_t i = 0; i < k; i++)
                snprintf(lost_tasks[i], 128, "%s", on_lost[i]);
        for (int s = 0; s < 8; s++) {
                ct_advance(t, 2000);
                ct_post(t, kept, json_array()); /* the other agent keeps reporting */
        }
        cmds = ct_take_cmds(t);
        assert_types(cmds, "agent_state,instances_status,instances_place");
        assert_string_equal(json_string_value(json_object_get(json_array_get(cmds, 0), "state")), "unreachable");
        assert_string_equal(json_string_value(json_object_get(json_array_get(cmds, 0), "id")), lost);
        assert_int_equal(json_array_size(json_object_get(json_array_get(cmds, 1), "updates")), k);
        assert_int_equal(ct_placed(cmds, ids, agents, 8), k);
        char repl[2][128];
        for (size_t i = 0; i < k; i++) {
                assert_string_equal(agents[i], kept);
                snprintf(repl[i], 128, "%s", ids[i]);
        }
        json_decref(cmds);
        for (size_t i = 0; i < k; i++)
                assert_int_equal(state_instance_get(t->st, lost_tasks[i])->state, TASK_UNREACHABLE);
        f2 = ct_take_frames(t, kept);
        assert_int_equal(frame_tasks(f2, "LAUNCH", tasks, 8), k);
        assert_true(json_array_size(f2) >= 2); /* heartbeats went out meanwhile */
        json_decref(f2);
        assert_false(agent_link_connected(&t->core.agents, lost));
        /* the silent agent's stream got heartbeats every 2 s until it was ended */
        f1 = ct_take_frames(t, lost);
        assert_int_equal(json_array_size(f1), 8);
        assert_types(f1, "HEARTBEAT,HEARTBEAT,HEARTBEAT,HEARTBEAT,HEARTBEAT,HEARTBEAT,HEARTBEAT,HEARTBEAT");
        json_decref(f1);
        for (size_t i = 0; i < k; i++)
                ct_status(t, kept, repl[i], "TASK_RUNNING");
        json_decref(ct_take_cmds(t));

        /* --- it returns, still running its tasks: the surplus goes (youngest first: the
         * replacements) */
        json_t *reported = json_array();
        for (size_t i = 0; i < k; i++)
                json_array_append_new(reported, json_pack("{s:s,s:s}", "taskId", lost_tasks[i], "state", "TASK_RUNNING"));
        /* an agent that knows its id resubscribes with it */
        json_t *body = json_pack("{s:s,s:s,s:s,s:{s:f,s:f,s:f,s:f,s:[[i,i]]},s:{},s:o}", "agentId", lost, "hostname",
                                 streq(lost, a1) ? "h1" : "h2", "address", "10.0.0.1:5051", "resources", "cpus", 4.0,
                                 "mem", 4096.0, "disk", 10000.0, "gpus", 0.0, "ports", 31000, 32000, "attributes",
                                 "tasks", reported);
        struct err err = { 0 };
        assert_int_equal(agent_link_subscribe(&t->core.agents, body, ct_open, t, &err), 0);
        json_decref(body);
        ct_settle(t);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "agent_register,instances_status,instances_goal");
        json_t *ids_killed = json_object_get(json_array_get(cmds, 2), "ids");
        assert_int_equal(json_array_size(ids_killed), k);
        for (size_t i = 0; i < k; i++) {
                const char *victim = json_string_value(json_array_get(ids_killed, i));
                assert_true(streq(victim, repl[0]) || (k == 2 && streq(victim, repl[1])));
        }
        json_decref(cmds);
        f2 = ct_take_frames(t, kept);
        assert_int_equal(frame_tasks(f2, "KILL", tasks, 8), k);
        json_decref(f2);
        ct_expect_frames(t, lost, "SUBSCRIBED");
        for (size_t i = 0; i < k; i++)
                assert_int_equal(state_instance_get(t->st, lost_tasks[i])->state, TASK_RUNNING);
        ct_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(app_created_placed_fails_backs_off_rolls_loses_an_agent_and_is_replaced),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
