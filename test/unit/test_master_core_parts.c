/* test_master_core_parts.c — each part of the master core through the integration tier
 * (test_master_core.h): the launcher's scale-down and explicit kills, the health monitor's kill
 * after maxConsecutiveFailures, the deployer's step gating and failure hook, placement's
 * reasons and retry on new capacity, and the agent link's reconciliation, errors and hooks. */
#include "test_master_core.h"

/* The placements of cmds, ids copied (they outlive cmds). */
static size_t placed_ids(const json_t *cmds, char ids[][128], const char **agents, size_t max) {
        const char *got[16];
        size_t n = ct_placed(cmds, got, agents, max < 16 ? max : 16);
        for (size_t i = 0; i < n; i++)
                snprintf(ids[i], 128, "%s", got[i]);
        return n;
}

static const json_t *find_cmd(const json_t *cmds, const char *type) {
        size_t i;
        json_t *c;
        json_array_foreach(cmds, i, c)
                if (streq(json_string_value(json_object_get(c, "type")), type))
                        return c;
        return NULL;
}

static size_t count_events(const json_t *events, const char *type) {
        size_t i, n = 0;
        json_t *e;
        json_array_foreach(events, i, e)
                n += streq(json_string_value(json_object_get(e, "type")), type);
        return n;
}

/* Runs every placed instance: the agents report TASK_RUNNING. */
static void run_all(struct core_test *t, char ids[][128], size_t n) {
        for (size_t i = 0; i < n; i++) {
                const struct instance *in = state_instance_get(t->st, ids[i]);
                assert_non_null(in);
                char agent[128];
                snprintf(agent, sizeof agent, "%s", in->agent_id);
                ct_status(t, agent, ids[i], "TASK_RUNNING");
        }
}

/* --- launcher -------------------------------------------------------------------------------- */

/* Scale-down through the launcher keeps the GROUP_BY spread: 6 over 3 racks, down to 3, leaves
 * one per rack, whatever killSelection alone would pick. */
static void launcher_scale_down_keeps_the_group_by_spread(void **state) {
        struct core_test *t = ct_new();
        const char *ag[3];
        ag[0] = ct_agent(t, "h1", "{\"rack\":\"r1\"}", 8, NULL);
        ag[1] = ct_agent(t, "h2", "{\"rack\":\"r2\"}", 8, NULL);
        ag[2] = ct_agent(t, "h3", "{\"rack\":\"r3\"}", 8, NULL);
        char a[3][128];
        for (int i = 0; i < 3; i++)
                snprintf(a[i], 128, "%s", ag[i]);
        ct_create_app(t, "{\"id\":\"/g\",\"cmd\":\"sleep 1\",\"instances\":6,\"cpus\":0.5,\"mem\":16,"
                         "\"constraints\":[[\"rack\",\"GROUP_BY\"]]}", "d-1");
        json_t *cmds = ct_take_cmds(t);
        char ids[8][128];
        const char *agents[8];
        assert_int_equal(placed_ids(cmds, ids, agents, 8), 6);
        int per[3] = { 0 };
        for (int i = 0; i < 6; i++)
                for (int k = 0; k < 3; k++)
                        per[k] += streq(agents[i], a[k]);
        assert_int_equal(per[0], 2);
        assert_int_equal(per[1], 2);
        assert_int_equal(per[2], 2);
        json_decref(cmds);
        run_all(t, ids, 6);
        json_decref(ct_take_cmds(t));
        for (int k = 0; k < 3; k++)
                json_decref(ct_take_frames(t, a[k]));
        ct_update_app(t, "/g", "{\"instances\": 3}", "d-2");
        cmds = ct_take_cmds(t);
        /* once: the deployment's wake-up pass in the same turn does not kill them again */
        assert_types(cmds, "app_update,instances_goal");
        const json_t *goal = find_cmd(cmds, "instances_goal");
        assert_int_equal(json_array_size(json_object_get(goal, "ids")), 3);
        json_decref(cmds);
        /* one KILL per agent, one task each */
        for (int k = 0; k < 3; k++) {
                json_t *f = ct_take_frames(t, a[k]);
                assert_types(f, "KILL");
                assert_int_equal(json_array_size(json_object_get(json_array_get(f, 0), "taskIds")), 1);
                json_decref(f);
                assert_int_equal(ct_live(t, "/g", a[k], NULL, 0), 1);
        }
        ct_free(t);
}

/* DELETE /v2/apps/{id}/tasks: the goal is committed, the agent told, and with no scale the
 * launcher replaces the instance (no backoff: a kill is not a failure). */
static void launcher_kill_commits_the_goal_and_replaces(void **state) {
        struct core_test *t = ct_new();
        const char *a = ct_agent(t, "h1", NULL, 4, NULL);
        ct_create_app(t, "{\"id\":\"/k\",\"cmd\":\"sleep 1\",\"instances\":1,\"cpus\":1,\"mem\":16,"
                         "\"taskKillGracePeriodSeconds\":7}", "d-1");
        json_t *cmds = ct_take_cmds(t);
        char ids[4][128];
        assert_int_equal(placed_ids(cmds, ids, NULL, 4), 1);
        json_decref(cmds);
        run_all(t, ids, 1);
        json_decref(ct_take_cmds(t));
        json_decref(ct_take_frames(t, a));
        json_t *kill = json_pack("[s]", ids[0]);
        launcher_kill(&t->core.launcher, kill, true);
        json_decref(kill);
        ct_settle(t);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "instances_goal");
        assert_string_equal(json_string_value(json_object_get(json_array_get(cmds, 0), "goal")), "decommissioned");
        json_decref(cmds);
        ct_expect_frames(t, a, "KILL");
        ct_status(t, a, ids[0], "TASK_KILLED");
        ct_expect_cmds(t, "instances_status,instances_expunge,instances_place");
        ct_expect_frames(t, a, "LAUNCH");
        ct_free(t);
}

/* A deleted app: every instance is decommissioned with a 3 s grace, then the deployment ends. */
static void launcher_deleted_app_is_stopped(void **state) {
        struct core_test *t = ct_new();
        const char *a = ct_agent(t, "h1", NULL, 4, NULL);
        ct_create_app(t, "{\"id\":\"/d\",\"cmd\":\"sleep 1\",\"instances\":2,\"cpus\":1,\"mem\":16}", "d-1");
        json_t *cmds = ct_take_cmds(t);
        char ids[4][128];
        assert_int_equal(placed_ids(cmds, ids, NULL, 4), 2);
        json_decref(cmds);
        run_all(t, ids, 2);
        json_decref(ct_take_cmds(t));
        json_decref(ct_take_frames(t, a));
        assert_int_equal(ct_submit(t, json_pack("{s:s,s:s,s:s}", "type", "app_delete", "id", "/d", "deploymentId", "d-2")),
                         0);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "app_delete,instances_goal");
        assert_string_equal(json_string_value(json_object_get(json_array_get(cmds, 1), "goal")), "decommissioned");
        json_decref(cmds);
        json_t *f = ct_take_frames(t, a);
        assert_types(f, "KILL");
        assert_int_equal(json_array_size(json_object_get(json_array_get(f, 0), "taskIds")), 2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 0), "gracePeriodSeconds")), 3);
        json_decref(f);
        ct_status(t, a, ids[0], "TASK_KILLED");
        ct_status(t, a, ids[1], "TASK_KILLED");
        cmds = ct_take_cmds(t);
        assert_non_null(find_cmd(cmds, "deployment_finish"));
        json_decref(cmds);
        assert_int_equal(state_deployment_count(t->st), 0);
        ct_free(t);
}

/* --- health monitor -------------------------------------------------------------------------- */

static void health_monitor_kills_after_max_consecutive_failures(void **state) {
        struct core_test *t = ct_new();
        const char *a = ct_agent(t, "h1", NULL, 4, NULL);
        ct_create_app(t, "{\"id\":\"/h\",\"cmd\":\"sleep 1\",\"instances\":1,\"cpus\":1,\"mem\":16,\"backoffSeconds\":5,"
                         "\"healthChecks\":[{\"protocol\":\"COMMAND\",\"command\":{\"value\":\"true\"},"
                         "\"maxConsecutiveFailures\":3}]}", "d-1");
        json_t *cmds = ct_take_cmds(t);
        char ids[4][128];
        assert_int_equal(placed_ids(cmds, ids, NULL, 4), 1);
        json_decref(cmds);
        json_t *ok = json_pack("[{s:s,s:s,s:b,s:[{s:b,s:i}]}]", "taskId", ids[0], "state", "TASK_RUNNING", "healthy", 1,
                               "health", "alive", 1, "consecutiveFailures", 0);
        ct_post(t, a, ok);
        json_t *ev = ct_take_events(t);
        assert_int_equal(count_events(ev, "health_status_changed_event"), 1);
        assert_int_equal(count_events(ev, "deployment_success"), 1); /* healthy: the deployment ends */
        json_decref(ev);
        json_decref(ct_take_cmds(t));
        json_decref(ct_take_frames(t, a));
        for (int failures = 1; failures <= 3; failures++) {
                ct_post(t, a, json_pack("[{s:s,s:s,s:b,s:[{s:b,s:i,s:s}]}]", "taskId", ids[0], "state", "TASK_RUNNING",
                                        "healthy", 0, "health", "alive", 0, "consecutiveFailures", failures,
                                        "lastFailureCause", "exit 1"));
                ev = ct_take_events(t);
                assert_int_equal(count_events(ev, "failed_health_check_event"), 1);
                assert_int_equal(count_events(ev, "unhealthy_instance_kill_event"), failures == 3);
                assert_int_equal(count_events(ev, "health_status_changed_event"), failures == 1);
                json_decref(ev);
                ct_expect_cmds(t, failures == 3 ? "instances_status,instances_goal" : "instances_status");
        }
        ct_expect_frames(t, a, "KILL");
        /* its end is not a failure by itself, but the kill counted one: backoff 5 s */
        ct_status(t, a, ids[0], "TASK_KILLED");
        ct_expect_cmds(t, "instances_status,instances_expunge");
        ct_advance(t, 4900);
        assert_null(find_cmd(t->cmds, "instances_place"));
        ct_advance(t, 200);
        assert_non_null(find_cmd(t->cmds, "instances_place"));
        ct_free(t);
}

/* --- deployer -------------------------------------------------------------------------------- */

struct failures {
        unsigned n, step;
        char app[64];
};

static void on_failure(const json_t *record, unsigned step, const struct instance *i, void *data) {
        struct failures *f = data;
        f->n++;
        f->step = step;
        snprintf(f->app, sizeof f->app, "%s", i->app_id);
}

/* Apps of a later dependency layer wait for the earlier step to converge; a task failure during
 * the deployment reaches the failure hook. */
static void deployer_holds_later_steps_and_reports_failures(void **state) {
        struct core_test *t = ct_new();
        const char *a = ct_agent(t, "h1", NULL, 8, NULL);
        struct failures fails = { 0 };
        deployer_set_failure_hook(t->core.deployer, on_failure, &fails);
        /* one deployment for both (a group change): /b depends on /a */
        json_t *ja = NULL, *jb = NULL;
        struct err e = { 0 };
        json_t *in = json_loads("{\"id\":\"/a\",\"cmd\":\"sleep 1\",\"instances\":1,\"cpus\":1,\"mem\":16}", 0, NULL);
        assert_int_equal(app_normalize(in, "/", &ja, &e), 0);
        json_decref(in);
        in = json_loads("{\"id\":\"/b\",\"cmd\":\"sleep 1\",\"instances\":1,\"cpus\":1,\"mem\":16,\"dependencies\":[\"/a\"]}",
                        0, NULL);
        assert_int_equal(app_normalize(in, "/", &jb, &e), 0);
        json_decref(in);
        char ts[25];
        time_format_ms(clock_now_ms(t->clock), ts);
        ct_log_submit(t, json_pack("{s:s,s:o,s:s,s:s}", "type", "app_create", "app", ja, "ts", ts, "deploymentId", "d-1"),
                      NULL, NULL);
        ct_log_submit(t, json_pack("{s:s,s:o,s:s,s:s}", "type", "app_create", "app", jb, "ts", ts, "deploymentId", "d-1"),
                      NULL, NULL);
        ct_settle(t);
        json_t *cmds = ct_take_cmds(t);
        char ids[4][128];
        const char *agents[4];
        /* only /a is placed: /b's step comes later */
        assert_int_equal(placed_ids(cmds, ids, agents, 4), 1);
        assert_true(strncmp(ids[0], "a.instance-", 11) == 0);
        json_decref(cmds);
        assert_int_equal(ct_live(t, "/b", NULL, NULL, 0), 0);
        /* /a's task fails once: the hook hears it, at /a's step */
        ct_status(t, a, ids[0], "TASK_FAILED");
        assert_int_equal(fails.n, 1);
        assert_string_equal(fails.app, "/a");
        unsigned step_a = fails.step;
        ct_advance(t, 1100); /* backoffSeconds 1 */
        cmds = ct_take_cmds(t);
        assert_int_equal(placed_ids(cmds, ids, NULL, 4), 1);
        json_decref(cmds);
        run_all(t, ids, 1);
        cmds = ct_take_cmds(t);
        /* /a converged: the step is committed and /b placed */
        const json_t *step = find_cmd(cmds, "deployment_step");
        assert_non_null(step);
        assert_int_equal(json_integer_value(json_object_get(step, "step")), step_a);
        assert_int_equal(placed_ids(cmds, ids, NULL, 4), 1);
        assert_true(strncmp(ids[0], "b.instance-", 11) == 0);
        json_decref(cmds);
        run_all(t, ids, 1);
        cmds = ct_take_cmds(t);
        assert_non_null(find_cmd(cmds, "deployment_finish"));
        json_decref(cmds);
        json_t *ev = ct_take_events(t);
        assert_int_equal(count_events(ev, "deployment_success"), 1);
        json_decref(ev);
        deployer_set_failure_hook(t->core.deployer, NULL, NULL);
        ct_free(t);
}

/* --- placement ------------------------------------------------------------------------------- */

/* Too big for the agent: the queue says why; a bigger agent subscribing unblocks it. */
static void placement_reasons_then_new_capacity(void **state) {
        struct core_test *t = ct_new();
        ct_agent(t, "small", NULL, 1, NULL);
        ct_create_app(t, "{\"id\":\"/big\",\"cmd\":\"sleep 1\",\"instances\":1,\"cpus\":2,\"mem\":16}", "d-1");
        json_t *cmds = ct_take_cmds(t);
        assert_null(find_cmd(cmds, "instances_place"));
        json_decref(cmds);
        json_t *queue = launcher_queue_json(&t->core.launcher);
        json_t *q0 = json_array_get(json_object_get(queue, "queue"), 0);
        assert_int_equal(json_integer_value(json_object_get(q0, "count")), 1);
        json_t *summary = json_object_get(json_object_get(q0, "processedOffersSummary"), "rejectSummaryLastOffers");
        assert_string_equal(json_string_value(json_object_get(json_array_get(summary, 0), "reason")),
                            "InsufficientCpus");
        json_decref(queue);
        const char *big = ct_agent(t, "big", NULL, 4, NULL);
        cmds = ct_take_cmds(t);
        assert_types(cmds, "agent_register,instances_place");
        const char *agents[2];
        char ids[2][128];
        assert_int_equal(placed_ids(cmds, ids, agents, 2), 1);
        assert_string_equal(agents[0], big);
        json_decref(cmds);
        ct_free(t);
}

/* --- agent link ------------------------------------------------------------------------------ */

/* At a resubscription: a task the cluster does not know is killed, a staging task the agent
 * did not report is launched again, a running one it did not report is TASK_LOST. */
static void agent_link_reconciles_at_subscribe(void **state) {
        struct core_test *t = ct_new();
        const char *a0 = ct_agent(t, "h1", NULL, 4, NULL);
        char a[128];
        snprintf(a, sizeof a, "%s", a0);
        ct_create_app(t, "{\"id\":\"/r\",\"cmd\":\"sleep 1\",\"instances\":2,\"cpus\":1,\"mem\":16}", "d-1");
        json_t *cmds = ct_take_cmds(t);
        char ids[4][128];
        assert_int_equal(placed_ids(cmds, ids, NULL, 4), 2);
        json_decref(cmds);
        ct_status(t, a, ids[0], "TASK_RUNNING"); /* ids[1] stays staging */
        json_decref(ct_take_cmds(t));
        json_decref(ct_take_frames(t, a));
        /* the agent restarts and reports only a stranger */
        json_t *body = json_pack("{s:s,s:s,s:s,s:{s:f,s:f,s:f,s:f},s:{},s:[{s:s,s:s}]}", "agentId", a, "hostname", "h1",
                                 "address", "10.0.0.1:5051", "resources", "cpus", 4.0, "mem", 4096.0, "disk", 0.0, "gpus",
                                 0.0, "attributes", "tasks", "taskId", "stranger.instance-1._app", "state",
                                 "TASK_RUNNING");
        struct err err = { 0 };
        assert_int_equal(agent_link_subscribe(&t->core.agents, body, ct_open, t, &err), 0);
        json_decref(body);
        ct_settle(t);
        json_t *f = ct_take_frames(t, a);
        assert_types(f, "SUBSCRIBED,KILL,LAUNCH");
        assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(f, 1), "taskIds"), 0)),
                            "stranger.instance-1._app");
        json_t *relaunched = json_object_get(json_array_get(f, 2), "tasks");
        assert_int_equal(json_array_size(relaunched), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(relaunched, 0), "taskId")), ids[1]);
        json_decref(f);
        cmds = ct_take_cmds(t);
        const json_t *status = find_cmd(cmds, "instances_status");
        assert_non_null(status);
        json_t *u = json_array_get(json_object_get(status, "updates"), 0);
        assert_string_equal(json_string_value(json_object_get(u, "id")), ids[0]);
        assert_string_equal(json_string_value(json_object_get(u, "state")), "TASK_LOST");
        json_decref(cmds);
        ct_free(t);
}

static void agent_link_rejects_bad_input(void **state) {
        struct core_test *t = ct_new();
        struct err err = { 0 };
        json_t *body = json_pack("{s:s}", "hostname", "h1");
        assert_int_equal(agent_link_subscribe(&t->core.agents, body, ct_open, t, &err), -ERR_INVALID);
        assert_int_equal(err_http_status(&err), 422);
        err_release(&err);
        json_decref(body);
        body = json_pack("{s:s,s:s,s:{},s:{s:i}}", "hostname", "h1", "address", "x", "resources", "attributes", "rack", 1);
        assert_int_equal(agent_link_subscribe(&t->core.agents, body, ct_open, t, &err), -ERR_INVALID);
        assert_non_null(strstr(err_msg(&err), "attribute 'rack'"));
        err_release(&err);
        json_decref(body);
        size_t acked = 0;
        body = json_pack("{s:[]}", "updates");
        assert_int_equal(agent_link_updates(&t->core.agents, "nobody", body, ct_updates_cb, &acked, &err), -ERR_NOT_FOUND);
        assert_int_equal(err_http_status(&err), 404);
        err_release(&err);
        json_decref(body);
        const char *a = ct_agent(t, "h1", NULL, 4, NULL);
        body = json_pack("{s:[{s:s}]}", "updates", "uuid", "u");
        assert_int_equal(agent_link_updates(&t->core.agents, a, body, ct_updates_cb, &acked, &err), -ERR_INVALID);
        assert_string_equal(err_msg(&err), "Invalid status update #0");
        err_release(&err);
        json_decref(body);
        json_t *cmds = ct_take_cmds(t);
        assert_types(cmds, "agent_register"); /* nothing else was submitted */
        json_decref(cmds);
        ct_free(t);
}

struct hook_seen {
        unsigned n;
        char agent[128];
        struct agent_link *link;
};

static void on_subscribed(const char *agent_id, void *data) {
        struct hook_seen *h = data;
        h->n++;
        snprintf(h->agent, sizeof h->agent, "%s", agent_id);
        /* what a discovery view would do: its snapshot to the new subscriber */
        agent_link_send(h->link, agent_id, json_pack("{s:s}", "type", "DISCOVERY_SNAPSHOT"));
}

/* The hooks other parts build on: a callback when a stream opens, and extra events to one or
 * every agent (with the leader's term). */
static void agent_link_send_and_subscribed_hook(void **state) {
        struct core_test *t = ct_new();
        struct hook_seen h = { .link = &t->core.agents };
        agent_link_set_subscribed_hook(&t->core.agents, on_subscribed, &h);
        const char *a1 = ct_agent(t, "h1", NULL, 4, NULL);
        assert_int_equal(h.n, 1);
        assert_string_equal(h.agent, a1);
        const char *a2 = ct_agent(t, "h2", NULL, 4, NULL);
        assert_int_equal(h.n, 2);
        t->term = 7;
        assert_int_equal(agent_link_send(&t->core.agents, NULL, json_pack("{s:s}", "type", "DISCOVERY_CHANGES")), 2);
        assert_int_equal(agent_link_send(&t->core.agents, "nobody", json_pack("{s:s}", "type", "X")), 0);
        const char *both[2] = { a1, a2 };
        for (int i = 0; i < 2; i++) {
                json_t *f = ct_take_frames(t, both[i]);
                assert_types(f, "SUBSCRIBED,DISCOVERY_SNAPSHOT,DISCOVERY_CHANGES");
                assert_int_equal(json_integer_value(json_object_get(json_array_get(f, 2), "term")), 7);
                json_decref(f);
        }
        agent_link_set_subscribed_hook(&t->core.agents, NULL, NULL);
        ct_free(t);
}

/* A loop stalled past agent_timeout (timers run before it reads what waited): nobody is marked
 * unreachable for the master's own silence; a really silent agent still is, 15 s later. */
static void agent_link_credits_a_stalled_loop(void **state) {
        struct core_test *t = ct_new();
        const char *a0 = ct_agent(t, "h1", NULL, 4, NULL);
        char a[128];
        snprintf(a, sizeof a, "%s", a0);
        ct_advance(t, 1500);
        clock_fake_stall(t->clock, 20000);
        ct_settle(t);
        ct_post(t, a, json_array()); /* what it sent during the stall is read now */
        ct_expect_cmds(t, "agent_register");
        assert_true(agent_link_connected(&t->core.agents, a));
        ct_advance(t, 15000);
        ct_expect_cmds(t, "");
        ct_advance(t, 1100);
        ct_expect_cmds(t, "agent_state");
        assert_false(agent_link_connected(&t->core.agents, a));
        ct_free(t);
}

/* Losing leadership ends every stream; the parts stop acting. */
static void losing_leadership_ends_streams(void **state) {
        struct core_test *t = ct_new();
        const char *a = ct_agent(t, "h1", NULL, 4, NULL);
        assert_true(agent_link_connected(&t->core.agents, a));
        master_core_leadership(&t->core, false);
        assert_false(agent_link_connected(&t->core.agents, a));
        assert_false(t->streams[0].open);
        ct_create_app(t, "{\"id\":\"/f\",\"cmd\":\"sleep 1\",\"instances\":1,\"cpus\":1,\"mem\":16}", "d-1");
        json_t *cmds = ct_take_cmds(t);
        assert_types(cmds, "agent_register,app_create");
        json_decref(cmds);
        /* leading again: the pending app gets its pass */
        master_core_leadership(&t->core, true);
        ct_settle(t);
        cmds = ct_take_cmds(t);
        assert_non_null(find_cmd(cmds, "instances_place"));
        json_decref(cmds);
        ct_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(launcher_scale_down_keeps_the_group_by_spread),
                cmocka_unit_test(launcher_kill_commits_the_goal_and_replaces),
                cmocka_unit_test(launcher_deleted_app_is_stopped),
                cmocka_unit_test(health_monitor_kills_after_max_consecutive_failures),
                cmocka_unit_test(deployer_holds_later_steps_and_reports_failures),
                cmocka_unit_test(placement_reasons_then_new_capacity),
                cmocka_unit_test(agent_link_reconciles_at_subscribe),
                cmocka_unit_test(agent_link_rejects_bad_input),
                cmocka_unit_test(agent_link_send_and_subscribed_hook),
                cmocka_unit_test(agent_link_credits_a_stalled_loop),
                cmocka_unit_test(losing_leadership_ends_streams),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
