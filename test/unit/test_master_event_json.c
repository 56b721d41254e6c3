/* test_master_event_json.c — SSE framing, the event_type filter, the Accept check and the
 * event bodies built from the replicated state. */
#include "test_store_cluster.h"

#include <stdlib.h>

#include "master/event_json.h"

static void frame_is_crlf_event_data_blank(void **st) {
        json_t *f = json_pack("{s:s}", "appId", "/a\nb");
        size_t len;
        char *frame = event_frame("app_terminated_event", f, T0, &len);
        const char *want = "event: app_terminated_event\r\n"
                           "data: {\"appId\":\"/a\\nb\",\"eventType\":\"app_terminated_event\","
                           "\"timestamp\":\"2023-11-14T22:13:20.000Z\"}\r\n\r\n";
        assert_string_equal(frame, want);
        assert_int_equal(len, strlen(want));
        free(frame);
        json_decref(f);
}

static void frame_keeps_a_given_timestamp(void **st) {
        json_t *f = json_pack("{s:s}", "timestamp", "2015-09-30T12:44:30.061Z");
        size_t len;
        char *frame = event_frame("x", f, T0, &len);
        assert_non_null(strstr(frame, "\"timestamp\":\"2015-09-30T12:44:30.061Z\""));
        assert_null(strstr(frame, "2023-"));
        free(frame);
        json_decref(f);
}

static void accept_header(void **st) {
        assert_true(event_accept_ok("text/event-stream"));
        assert_true(event_accept_ok("Text/Event-Stream"));
        assert_true(event_accept_ok("text/event-stream;charset=UTF-8"));
        assert_true(event_accept_ok("application/json;q=0.9, text/event-stream"));
        assert_true(event_accept_ok(" ,text/event-stream ; q=1"));
        assert_false(event_accept_ok(NULL));
        assert_false(event_accept_ok(""));
        assert_false(event_accept_ok("*/*"));
        assert_false(event_accept_ok("text/*"));
        assert_false(event_accept_ok("text/event-streams"));
        assert_false(event_accept_ok("text/event-strea"));
        assert_false(event_accept_ok("application/json; x=text/event-stream"));
}

static void filter_is_an_or_and_empty_means_all(void **st) {
        struct event_filter f = { 0 };
        assert_true(event_filter_accepts(&f, "anything"));
        assert_int_equal(event_filter_add(&f, "status_update_event"), 0);
        assert_int_equal(event_filter_add(&f, "api_post_event"), 0);
        assert_int_equal(event_filter_add(&f, "api_post_event"), 0);
        assert_int_equal(f.n, 2);
        assert_true(event_filter_accepts(&f, "status_update_event"));
        assert_true(event_filter_accepts(&f, "api_post_event"));
        assert_false(event_filter_accepts(&f, "event_stream_attached"));
        assert_false(event_filter_accepts(&f, "api_post"));
        event_filter_release(&f);
        assert_int_equal(f.n, 0);
}

static void filter_rejects_bad_types_and_too_many(void **st) {
        struct event_filter f = { 0 };
        char name[80];
        assert_int_equal(event_filter_add(&f, ""), -EINVAL);
        assert_int_equal(event_filter_add(&f, "a b"), -EINVAL);
        assert_int_equal(event_filter_add(&f, "a\r\nb"), -EINVAL);
        memset(name, 'x', 65);
        name[65] = 0;
        assert_int_equal(event_filter_add(&f, name), -EINVAL);
        name[64] = 0;
        assert_int_equal(event_filter_add(&f, name), 0);
        for (int i = 1; i < EVENT_FILTER_MAX_TYPES; i++) {
                snprintf(name, sizeof name, "t%d", i);
                assert_int_equal(event_filter_add(&f, name), 0);
        }
        assert_int_equal(event_filter_add(&f, "one_more"), -E2BIG);
        assert_int_equal(event_filter_add(&f, "t1"), 0); /* a repeat still fits */
        event_filter_release(&f);
}

static void instance_ids_and_conditions(void **st) {
        char *id = event_instance_id("prod_web.instance-6c1d0b4e-1b2a-4c3d-8e4f-5a6b7c8d9e0f._app");
        assert_string_equal(id, "prod_web.instance-6c1d0b4e-1b2a-4c3d-8e4f-5a6b7c8d9e0f");
        free(id);
        id = event_instance_id("web.instance-u._app.3");
        assert_string_equal(id, "web.instance-u");
        free(id);
        id = event_instance_id("web.marathon-6c1d");
        assert_string_equal(id, "web.marathon-6c1d");
        free(id);
        assert_string_equal(event_condition(TASK_RUNNING), "Running");
        assert_string_equal(event_condition(TASK_STAGING), "Staging");
        assert_string_equal(event_condition(TASK_KILLED), "Killed");
        assert_string_equal(event_condition(TASK_UNREACHABLE), "Unreachable");
        assert_string_equal(event_condition(TASK_GONE_BY_OPERATOR), "Gone");
        assert_string_equal(event_condition(TASK_UNKNOWN), "Unknown");
        assert_string_equal(event_condition((enum task_state)200), "Unknown");
}

static void status_update_and_instance_changed_bodies(void **st) {
        struct state *s = state_new();
        app(s, "/prod/web", 0.1, 32);
        const char *agent = reg(s, NULL, "node-1", 4, 4096);
        const char *tid = "prod_web.instance-00000000-0000-4000-8000-000000000001._app";
        assert_int_equal(place(s, tid, "/prod/web", agent, 31005), 1);
        assert_int_equal(status(s, tid, TASK_RUNNING, T0 + 30, "started", -1), 0);
        const struct instance *i = state_instance_get(s, tid);

        json_t *ev = event_status_update(s, i);
        json_t *want = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s}],s:[i],s:s}", "slaveId", agent, "taskId", tid,
                                 "taskStatus", "TASK_RUNNING", "message", "started", "appId", "/prod/web", "host",
                                 "node-1", "ipAddresses", "ipAddress", "10.0.0.1", "protocol", "IPv4", "ports",
                                 31005, "version", version_of(s, "/prod/web"));
        assert_true(json_equal(ev, want));
        json_decref(ev);
        json_decref(want);

        ev = event_instance_changed(s, i);
        want = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "instanceId",
                         "prod_web.instance-00000000-0000-4000-8000-000000000001", "condition", "Running",
                         "runSpecId", "/prod/web", "agentId", agent, "host", "node-1", "runSpecVersion",
                         version_of(s, "/prod/web"));
        assert_true(json_equal(ev, want));
        json_decref(ev);
        json_decref(want);
        state_free(s);
}

static void small_bodies_have_marathon_field_names(void **st) {
        json_t *app = json_pack("{s:s}", "id", "/a");
        json_t *ev = event_api_post("10.1.1.1", "/v2/apps", app);
        assert_string_equal(json_string_value(json_object_get(ev, "clientIp")), "10.1.1.1");
        assert_string_equal(json_string_value(json_object_get(ev, "uri")), "/v2/apps");
        assert_ptr_equal(json_object_get(ev, "appDefinition"), app);
        json_decref(ev);
        json_decref(app);

        ev = event_instance_health_changed("a.instance-1", "/a", "v1", -1);
        assert_true(json_is_null(json_object_get(ev, "healthy")));
        json_decref(ev);
        ev = event_unhealthy_instance_kill("/a", "a.instance-1._app", "v1", "3 failures", "h", NULL);
        assert_string_equal(json_string_value(json_object_get(ev, "instanceId")), "a.instance-1");
        assert_null(json_object_get(ev, "slaveId"));
        json_decref(ev);
        json_t *plan = json_object();
        ev = event_deployment_result("d1", plan, NULL);
        assert_null(json_object_get(ev, "reason"));
        assert_ptr_equal(json_object_get(ev, "plan"), plan);
        json_decref(ev);
        json_decref(plan);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(frame_is_crlf_event_data_blank),
                cmocka_unit_test(frame_keeps_a_given_timestamp),
                cmocka_unit_test(accept_header),
                cmocka_unit_test(filter_is_an_or_and_empty_means_all),
                cmocka_unit_test(filter_rejects_bad_types_and_too_many),
                cmocka_unit_test(instance_ids_and_conditions),
                cmocka_unit_test(status_update_and_instance_changed_bodies),
                cmocka_unit_test(small_bodies_have_marathon_field_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
