/* test_agent_sim.c — the simulator's templates and the master → agent event decoder it shares. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_proto.h"
#include "agent/sim.h"
#include "common/alloc.h"

static void expect_expand(const char *tmpl, unsigned i, unsigned classes, const char *want) {
        struct err e = { 0 };
        char *got = sim_expand(tmpl, i, classes, &e);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
}

static void expect_expand_fails(const char *tmpl) {
        struct err e = { 0 };
        assert_null(sim_expand(tmpl, 7, 5, &e));
        assert_non_null(e.msg);
        err_release(&e);
}

static void templates_expand_per_agent(void **state) {
        expect_expand("sim-{i}", 42, 0, "sim-42");
        expect_expand("rack:r{i%10};zone:z{i/1000}", 4321, 0, "rack:r1;zone:z4");
        expect_expand("{class}-{i}", 7, 5, "2-7");
        expect_expand("{class}", 7, 0, "0");
        expect_expand("plain", 3, 0, "plain");
        expect_expand("", 3, 0, "");
}

static void bad_templates_are_errors(void **state) {
        expect_expand_fails("sim-{j}");
        expect_expand_fails("sim-{i");
        expect_expand_fails("{i%0}");
        expect_expand_fails("{i/x}");
        expect_expand_fails("{i%}");
}

static void classes_become_an_attribute(void **state) {
        struct sim_config c = { .classes = 5, .attributes = "rack:r{i%3}" };
        json_t *attrs = NULL;
        struct err e = { 0 };
        assert_int_equal(sim_agent_attributes(&c, 13, &attrs, &e), 0);
        assert_string_equal(json_string_value(json_object_get(attrs, "class")), "c3");
        assert_string_equal(json_string_value(json_object_get(attrs, "rack")), "r1");
        json_decref(attrs);
        c.attributes = "rack";
        assert_true(sim_agent_attributes(&c, 13, &attrs, &e) < 0);
        err_release(&e);
}

static int decode(struct agent_event *ev, const char *text) {
        struct err e = { 0 };
        int r = agent_event_decode(ev, text, strlen(text), &e);
        err_release(&e);
        return r;
}

static void events_decode_whatever_the_field_order(void **state) {
        struct agent_event ev;
        agent_event_init(&ev);
        assert_int_equal(decode(&ev, "{\"type\":\"SUBSCRIBED\",\"agentId\":\"c-S3\",\"heartbeatIntervalSeconds\":2,"
                                     "\"term\":7}"), 0);
        assert_int_equal(ev.type, AGENT_EVENT_SUBSCRIBED);
        assert_int_equal(ev.term, 7);
        assert_string_equal(ev.agent_id, "c-S3");
        assert_int_equal(ev.heartbeat_s, 2);

        /* The master puts "term" last and LAUNCH carries whole apps the simulator skips. */
        assert_int_equal(decode(&ev, "{\"type\":\"LAUNCH\",\"apps\":{\"/a@1\":{\"id\":\"/a\",\"cmd\":\"x\","
                                     "\"labels\":{\"k\":[1,{\"n\":null}]}}},\"tasks\":[{\"taskId\":\"a.1\",\"app\":"
                                     "\"/a@1\",\"ports\":[31000]},{\"ports\":[],\"taskId\":\"a.\\u0032\"}],\"term\":8}"),
                         0);
        assert_int_equal(ev.type, AGENT_EVENT_LAUNCH);
        assert_int_equal(ev.term, 8);
        assert_int_equal(ev.n_ids, 2);
        size_t pos = 0;
        assert_string_equal(agent_event_next_id(&ev, &pos), "a.1");
        assert_string_equal(agent_event_next_id(&ev, &pos), "a.2");
        assert_null(agent_event_next_id(&ev, &pos));

        assert_int_equal(decode(&ev, "{\"term\":9,\"taskIds\":[\"x\",\"y\",\"z\"],\"type\":\"KILL\","
                                     "\"gracePeriodSeconds\":3}"), 0);
        assert_int_equal(ev.type, AGENT_EVENT_KILL);
        assert_int_equal(ev.n_ids, 3);
        assert_int_equal(ev.grace_s, 3);

        assert_int_equal(decode(&ev, "{\"type\":\"HEARTBEAT\",\"term\":9}"), 0);
        assert_int_equal(ev.type, AGENT_EVENT_HEARTBEAT);
        assert_int_equal(ev.n_ids, 0);
        /* A type from a newer master is not an error: it is ignored. */
        assert_int_equal(decode(&ev, "{\"type\":\"RECONCILE\",\"term\":9,\"extra\":[1,2]}"), 0);
        assert_int_equal(ev.type, AGENT_EVENT_OTHER);
        agent_event_release(&ev);
}

static void malformed_events_are_errors(void **state) {
        static const char *const bad[] = {
                "",
                "[]",
                "{}",
                "{\"type\":\"HEARTBEAT\"}",                     /* no term */
                "{\"type\":\"HEARTBEAT\",\"term\":-1}",         /* negative term */
                "{\"type\":\"HEARTBEAT\",\"term\":1.5}",        /* not an integer */
                "{\"type\":\"HEARTBEAT\",\"term\":\"1\"}",      /* a string */
                "{\"type\":7,\"term\":1}",                      /* type not a string */
                "{\"type\":\"SUBSCRIBED\",\"term\":1}",         /* no agent id */
                "{\"type\":\"KILL\",\"term\":1,\"taskIds\":[1]}", /* an id that is not a string */
                "{\"type\":\"KILL\",\"term\":1,\"taskIds\":[\"\"]}",
                "{\"type\":\"LAUNCH\",\"term\":1,\"tasks\":[{\"app\":\"a\"}]}", /* task without id */
                "{\"type\":\"LAUNCH\",\"term\":1,\"tasks\":[{\"taskId\":\"a\"}]",  /* truncated */
                "{\"type\":\"HEARTBEAT\",\"term\":1} x",        /* trailing bytes */
                "{\"type\":\"HEARTBEAT\" \"term\":1}",
        };
        struct agent_event ev;
        agent_event_init(&ev);
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                struct err e = { 0 };
                int r = agent_event_decode(&ev, bad[i], strlen(bad[i]), &e);
                if (r != -EBADMSG)
                        fail_msg("accepted: %s", bad[i]);
                assert_non_null(e.msg);
                err_release(&e);
        }
        /* An id longer than the protocol allows. */
        char *long_id = xmalloc(400);
        memset(long_id, 'a', 399);
        long_id[399] = 0;
        char *text = xasprintf("{\"type\":\"KILL\",\"term\":1,\"taskIds\":[\"%s\"]}", long_id);
        assert_int_equal(decode(&ev, text), -EBADMSG);
        free(text);
        free(long_id);
        agent_event_release(&ev);
}

static void json_strings_are_escaped(void **state) {
        struct strbuf sb = { 0 };
        agent_proto_json_string(&sb, "a\"b\\c\nd\x01");
        assert_string_equal(sb.buf, "\"a\\\"b\\\\c\\u000ad\\u0001\"");
        json_t *j = json_loads(sb.buf, JSON_DECODE_ANY, NULL);
        assert_string_equal(json_string_value(j), "a\"b\\c\nd\x01");
        json_decref(j);
        strbuf_release(&sb);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(templates_expand_per_agent),
                cmocka_unit_test(bad_templates_are_errors),
                cmocka_unit_test(classes_become_an_attribute),
                cmocka_unit_test(events_decode_whatever_the_field_order),
                cmocka_unit_test(malformed_events_are_errors),
                cmocka_unit_test(json_strings_are_escaped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
