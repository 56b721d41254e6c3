/* Health in the replicated state: the status item codec (compact and object forms, items of
 * older masters), per-check results and readiness on instances, lastTaskFailure of a task killed
 * while unhealthy, and snapshots that carry (or, when older, lack) them. */
#include "test_store_cluster.h"

#include "model/health_result.h"

static struct state *one_running(void) {
        struct state *s = state_new();
        app(s, "/web", 0.1, 32);
        const char *agent = reg(s, NULL, "h1", 4, 4096);
        assert_int_equal(place(s, "web.instance-1._app", "/web", agent, 31001), 1);
        assert_int_equal(status(s, "web.instance-1._app", TASK_RUNNING, T0 + 30, NULL, -1), 0);
        return s;
}

static int status_item(struct state *s, json_t *item) {
        return apply(s, json_pack("{s:s,s:[o],s:s}", "type", "instances_status", "updates", item, "ts", ts_iso(T0 + 40)),
                     NULL);
}

static void compact_item_carries_checks_and_readiness(void **state) {
        struct state *s = one_running();
        struct health_result r[2] = {
                { .known = true, .alive = false, .consecutive_failures = 2, .first_success_ms = T0 + 31,
                  .last_success_ms = T0 + 32, .last_failure_ms = T0 + 34, .cause = "HTTP 404" },
                { 0 },
        };
        assert_int_equal(status_item(s, cluster_status_item_health("web.instance-1._app", TASK_RUNNING, T0 + 34, NULL, 0,
                                                                   true, r, 2)),
                         0);
        const struct instance *i = state_instance_get(s, "web.instance-1._app");
        assert_true(i->has_health);
        assert_false(i->healthy);
        assert_true(i->ready);
        struct health_result got[HEALTH_MAX_CHECKS];
        assert_int_equal(instance_health_results(i, got), 2);
        assert_true(got[0].known);
        assert_int_equal(got[0].consecutive_failures, 2);
        assert_int_equal(got[0].last_failure_ms, T0 + 34);
        assert_string_equal(got[0].cause, "HTTP 404");
        assert_false(got[1].known);
        struct state_app_counts k;
        state_app_counts(s, "/web", &k);
        assert_int_equal(k.unhealthy, 1);
        /* an item without checks leaves them; a later one replaces them */
        assert_int_equal(status(s, "web.instance-1._app", TASK_RUNNING, T0 + 35, NULL, 0), 0);
        assert_int_equal(instance_health_results(state_instance_get(s, "web.instance-1._app"), got), 2);
        state_free(s);
}

static void object_item_and_older_items_apply(void **state) {
        struct state *s = one_running();
        /* a 5-element item (older master): healthy only */
        assert_int_equal(status_item(s, json_pack("[s,s,I,n,b]", "web.instance-1._app", "TASK_RUNNING",
                                                  (json_int_t)(T0 + 36), true)),
                         0);
        const struct instance *i = state_instance_get(s, "web.instance-1._app");
        assert_true(i->has_health && i->healthy);
        assert_null(i->checks);
        assert_false(i->ready);
        assert_int_equal(status_item(s, json_pack("{s:s,s:s,s:b,s:[{s:b,s:i}]}", "id", "web.instance-1._app", "state",
                                                  "TASK_RUNNING", "ready", 1, "checks", "alive", 1,
                                                  "consecutiveFailures", 0)),
                         0);
        i = state_instance_get(s, "web.instance-1._app");
        assert_true(i->ready);
        assert_non_null(i->checks);
        state_free(s);
}

static void malformed_health_fails_the_command(void **state) {
        struct state *s = one_running();
        assert_int_equal(status_item(s, json_pack("[s,s,I,n,b,s]", "web.instance-1._app", "TASK_RUNNING",
                                                  (json_int_t)T0, true, "yes")),
                         -EINVAL);
        assert_int_equal(status_item(s, json_pack("[s,s,I,n,b,b,[{s:s}]]", "web.instance-1._app", "TASK_RUNNING",
                                                  (json_int_t)T0, true, true, "alive", "no")),
                         -EINVAL);
        assert_int_equal(status_item(s, json_pack("[s,s,I,n,b,b,[{s:b,s:i}]]", "web.instance-1._app", "TASK_RUNNING",
                                                  (json_int_t)T0, true, true, "alive", 1, "consecutiveFailures", -1)),
                         -EINVAL);
        char cause[HEALTH_MAX_CAUSE_LEN + 2];
        memset(cause, 'x', sizeof cause - 1);
        cause[sizeof cause - 1] = 0;
        assert_int_equal(status_item(s, json_pack("[s,s,I,n,b,b,[{s:b,s:i,s:s}]]", "web.instance-1._app",
                                                  "TASK_RUNNING", (json_int_t)T0, true, true, "alive", 0,
                                                  "consecutiveFailures", 1, "lastFailureCause", cause)),
                         -EINVAL);
        assert_null(state_instance_get(s, "web.instance-1._app")->checks);
        state_free(s);
}

static void task_killed_while_unhealthy_is_the_last_failure(void **state) {
        struct state *s = one_running();
        assert_int_equal(status(s, "web.instance-1._app", TASK_RUNNING, T0 + 36, NULL, 0), 0);
        assert_int_equal(status(s, "web.instance-1._app", TASK_KILLED, T0 + 37, "killed: health check failed", -1), 0);
        const json_t *f = state_app_last_failure(s, "/web");
        assert_non_null(f);
        assert_string_equal(json_string_value(json_object_get(f, "state")), "TASK_KILLED");
        assert_string_equal(json_string_value(json_object_get(f, "message")), "killed: health check failed");
        /* a healthy task killed is no failure */
        state_free(s);
        s = one_running();
        assert_int_equal(status(s, "web.instance-1._app", TASK_RUNNING, T0 + 36, NULL, 1), 0);
        assert_int_equal(status(s, "web.instance-1._app", TASK_KILLED, T0 + 37, "scaled down", -1), 0);
        assert_null(state_app_last_failure(s, "/web"));
        assert_null(state_instance_get(s, "web.instance-1._app")->checks);
        state_free(s);
}

static void snapshot_keeps_checks_and_readiness(void **state) {
        struct state *s = one_running();
        struct health_result r[1] = { { .known = true, .alive = true, .first_success_ms = T0 + 31,
                                        .last_success_ms = T0 + 33 } };
        assert_int_equal(status_item(s, cluster_status_item_health("web.instance-1._app", TASK_RUNNING, T0 + 34, NULL, 1,
                                                                   true, r, 1)),
                         0);
        void *buf;
        size_t len;
        assert_int_equal(snapshot_encode(s, &buf, &len), 0);
        struct state *t = state_new();
        struct err e = { 0 };
        assert_int_equal(snapshot_restore(t, buf, len, &e), 0);
        const struct instance *i = state_instance_get(t, "web.instance-1._app");
        assert_true(i->ready && i->has_health && i->healthy);
        struct health_result got[HEALTH_MAX_CHECKS];
        assert_int_equal(instance_health_results(i, got), 1);
        assert_int_equal(got[0].last_success_ms, T0 + 33);
        /* the jansson form round-trips too, and an older 12-element row still loads */
        json_t *doc = state_to_json(t);
        struct state *u = state_new();
        assert_int_equal(state_from_json(u, doc, &e), 0);
        assert_true(state_instance_get(u, "web.instance-1._app")->ready);
        json_t *row = json_array_get(json_object_get(json_array_get(json_object_get(doc, "instance_apps"), 0), "instances"), 0);
        assert_int_equal(json_array_size(row), 14);
        json_array_remove(row, 13);
        json_array_remove(row, 12);
        struct state *v = state_new();
        assert_int_equal(state_from_json(v, doc, &e), 0);
        assert_false(state_instance_get(v, "web.instance-1._app")->ready);
        err_release(&e);
        json_decref(doc);
        free(buf);
        state_free(s);
        state_free(t);
        state_free(u);
        state_free(v);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(compact_item_carries_checks_and_readiness),
                cmocka_unit_test(object_item_and_older_items_apply),
                cmocka_unit_test(malformed_health_fails_the_command),
                cmocka_unit_test(task_killed_while_unhealthy_is_the_last_failure),
                cmocka_unit_test(snapshot_keeps_checks_and_readiness),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
