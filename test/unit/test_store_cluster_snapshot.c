/* test_store_cluster_snapshot.c — the snapshot encoding of agents and instances: round trips,
 * old snapshots without them, the streamed text being the state's JSON, damaged snapshots. */
#include <signal.h>

#include "test_store_cluster.h"

/* ---- snapshots ---- */

static void snapshot_round_trip_keeps_agents_and_instances(void **unused) {
        struct state *s = state_new(), *t = state_new();
        char a[128], b[128];
        snprintf(a, sizeof a, "%s", reg(s, NULL, "h1", 4, 4096));
        snprintf(b, sizeof b, "%s", reg(s, NULL, "h2", 8, 8192));
        apply(s,
              json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", b, "state", "unreachable", "ts",
                        ts_iso(T0 + 3)),
              NULL);
        app(s, "/web", 0.25, 64);
        app(s, "/db", 1, 1024);
        place(s, "/web.i1", "/web", a, 31000);
        place(s, "/web.i2", "/web", a, 31001);
        place(s, "/db.i1", "/db", a, 0);
        status(s, "/web.i1", TASK_RUNNING, T0 + 40, "up", 1);
        status(s, "/web.i2", TASK_FAILED, T0 + 50, "exit 3", -1);
        /* A container's own IP, as the agent reports it (object form), and a bad one refused. */
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:[{s:s,s:s,s:s}],s:s}", "type", "instances_status", "updates", "id",
                                         "/web.i1", "state", "TASK_RUNNING", "ip", "10.200.3.7", "ts",
                                         ts_iso(T0 + 45)),
                               NULL),
                         0);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:[{s:s,s:s,s:s}],s:s}", "type", "instances_status", "updates", "id",
                                         "/web.i1", "state", "TASK_RUNNING", "ip", "10.200.3", "ts",
                                         ts_iso(T0 + 46)),
                               NULL),
                         -EINVAL);
        char ipbuf[16];
        assert_string_equal(instance_ip(state_instance_get(s, "/web.i1"), ipbuf), "10.200.3.7");
        assert_null(instance_ip(state_instance_get(s, "/web.i2"), ipbuf));
        apply(s, json_pack("{s:s,s:[s],s:s}", "type", "instances_goal", "ids", "/db.i1", "goal", "stopped"),
              NULL);

        void *buf;
        size_t len;
        assert_int_equal(snapshot_encode(s, &buf, &len), 0);
        struct err e = {0};
        assert_int_equal(snapshot_restore(t, buf, len, &e), 0);
        raft_free(buf);
        json_t *js = state_to_json(s), *jt = state_to_json(t);
        assert_true(json_equal(js, jt));
        json_decref(js);
        json_decref(jt);

        /* Derived data is rebuilt. */
        assert_string_equal(state_cluster_id(t), CLUSTER);
        assert_int_equal(state_agent_count(t), 2);
        const struct agent *ag = state_agent_get(t, a);
        assert_int_equal(ag->n_instances, 2);
        assert_true(ag->used_cpus == state_agent_get(s, a)->used_cpus);
        assert_true(ag->used_mem == state_agent_get(s, a)->used_mem);
        assert_int_equal(state_agent_get(t, b)->state, AGENT_UNREACHABLE);
        const struct instance *i = state_instance_get(t, "/web.i1");
        assert_int_equal(i->state, TASK_RUNNING);
        assert_true(i->has_health && i->healthy);
        assert_string_equal(i->message, "up");
        assert_string_equal(instance_ip(i, ipbuf), "10.200.3.7");
        assert_int_equal(i->started_at, T0 + 40);
        assert_int_equal(i->ports[0], 31000);
        assert_int_equal(state_instance_get(t, "/db.i1")->goal, GOAL_STOPPED);
        struct state_app_counts k1, k2;
        state_app_counts(s, "/web", &k1);
        state_app_counts(t, "/web", &k2);
        assert_memory_equal(&k1, &k2, sizeof k1);
        assert_true(json_equal(state_app_last_failure(s, "/web"), state_app_last_failure(t, "/web")));
        /* Ids keep counting where they were. */
        assert_string_equal(reg(t, NULL, "h3", 1, 1), CLUSTER "-S2");

        /* A snapshot from before agents existed still loads, with none. */
        static const char old[] = "{\"format\":1,\"state\":{\"apps\":[],\"masters\":[{\"raft_id\":7,"
                                  "\"raft_addr\":\"a:1\",\"http_addr\":\"a:2\"}]}}";
        assert_int_equal(snapshot_restore(t, old, strlen(old), &e), 0);
        assert_int_equal(state_agent_count(t), 0);
        assert_int_equal(state_instance_count(t), 0);
        assert_null(state_cluster_id(t));
        assert_int_equal(state_master_count(t), 1);

        /* A bad cluster part leaves the state as it was. */
        json_t *before = state_to_json(s);
        static const char *const bad[] = {
                "{\"format\":1,\"state\":{\"agents\":{}}}",
                "{\"format\":1,\"state\":{\"agents\":[{\"id\":\"x\"}]}}",
                "{\"format\":1,\"state\":{\"cluster\":{\"id\":\"c\"}}}",
                "{\"format\":1,\"state\":{\"instance_apps\":[{\"app_id\":\"/"
                "a\",\"instances\":[[\"i\",\"v\",\"nope\","
                "[],\"TASK_RUNNING\",\"running\",-1,[0,0,0,0],0,0,0,null]]}]}}",
                "{\"format\":1,\"state\":{\"instance_apps\":[{\"app_id\":\"/a\",\"instances\":[[\"i\"]]}]}}",
        };
        for (size_t k = 0; k < ELEMENTSOF(bad); k++)
                assert_true(snapshot_restore(s, bad[k], strlen(bad[k]), &e) < 0);
        json_t *after = state_to_json(s);
        assert_true(json_equal(before, after));
        json_decref(before);
        json_decref(after);
        err_release(&e);
        state_free(s);
        state_free(t);
}

/* A state with every kind of value the instance section holds, odd strings included. */
static struct state *rich_state(void) {
        struct state *s = state_new();
        char a[128];
        snprintf(a, sizeof a, "%s", reg(s, NULL, "h\"1", 4, 4096));
        app(s, "/web", 0.1, 33.3);
        app(s, "/db", 2, 1024);
        place(s, "/web.i1", "/web", a, 31000);
        place(s, "/web.i2", "/web", a, 0);
        place(s, "/db.i1", "/db", a, 65535);
        status(s, "/web.i1", TASK_RUNNING, T0 + 40,
               "quote \" backslash \\ newline \n tab \t ctl \x01 \xc3\xbc\xe2\x82\xac \xf0\x9f\x98\x80", 0);
        status(s, "/web.i2", TASK_FAILED, T0 + 50, "exit \"3\"", -1);
        status(s, "/db.i1", TASK_UNREACHABLE, T0 + 60, NULL, -1);
        return s;
}

static void snapshot_text_is_the_state_as_json(void **unused) {
        struct state *s = rich_state();
        void *buf;
        size_t len;
        assert_int_equal(snapshot_encode(s, &buf, &len), 0);
        assert_int_equal(len % 8, 0);
        json_error_t jerr;
        json_t *doc = json_loadb(buf, len, 0, &jerr);
        if (!doc)
                fail_msg("snapshot is not JSON: %s at %d", jerr.text, jerr.position);
        json_t *want = state_to_json(s);
        assert_true(json_equal(json_object_get(doc, "state"), want));
        assert_string_equal(
                json_string_value(json_array_get(
                        json_array_get(
                                json_object_get(json_array_get(json_object_get(json_object_get(doc, "state"),
                                                                               "instance_apps"),
                                                               0),
                                                "instances"),
                                0),
                        11)),
                state_instance_get(s, "/web.i1")->message);
        /* The tree form restores to the same state as the streamed form. */
        struct state *t = state_new(), *u = state_new();
        struct err e = {0};
        assert_int_equal(state_from_json(t, want, &e), 0);
        assert_int_equal(snapshot_restore(u, buf, len, &e), 0);
        json_t *jt = state_to_json(t), *ju = state_to_json(u);
        assert_true(json_equal(jt, want));
        assert_true(json_equal(ju, want));
        assert_string_equal(state_instance_get(u, "/web.i1")->message,
                            state_instance_get(s, "/web.i1")->message);
        assert_true(state_instance_get(u, "/web.i1")->mem == state_instance_get(s, "/web.i1")->mem);
        json_decref(jt);
        json_decref(ju);
        json_decref(want);
        json_decref(doc);
        raft_free(buf);
        state_free(s);
        state_free(t);
        state_free(u);
}

static void damaged_snapshots_fail_and_leave_the_state_alone(void **unused) {
        struct state *s = rich_state(), *t = state_new();
        reg(t, NULL, "other", 1, 1);
        json_t *before = state_to_json(t);
        void *buf;
        size_t len;
        assert_int_equal(snapshot_encode(s, &buf, &len), 0);
        size_t text = len;
        while (text > 0 && ((char *)buf)[text - 1] == ' ')
                text--;
        struct err e = {0};
        /* Every truncation fails. */
        for (size_t n = 0; n < text; n++) {
                if (snapshot_restore(t, buf, n, &e) >= 0)
                        fail_msg("a snapshot cut at %zu of %zu bytes was accepted", n, text);
                err_release(&e);
        }
        json_t *after = state_to_json(t);
        assert_true(json_equal(before, after));
        json_decref(after);
        /* Corrupted bytes: no crash, and a rejected snapshot changes nothing. */
        char *copy = xmalloc(len);
        static const char junk[] = {'"', ',', ']', '}', '[', '{', '\\', 'x', '0', '-', ' ', '\x01', '\xff'};
        for (size_t pos = 0; pos < text; pos++) {
                memcpy(copy, buf, len);
                copy[pos] = junk[pos % ELEMENTSOF(junk)];
                struct state *v = state_new();
                reg(v, NULL, "other", 1, 1);
                json_t *b = state_to_json(v);
                if (snapshot_restore(v, copy, len, &e) < 0) {
                        json_t *a = state_to_json(v);
                        assert_true(json_equal(a, b));
                        json_decref(a);
                }
                err_release(&e);
                json_decref(b);
                state_free(v);
        }
        free(copy);
        json_decref(before);
        raft_free(buf);
        state_free(s);
        state_free(t);
}
/* The snapshot taken off the loop is the state at the fork, byte for byte, however the state
 * changes while the child encodes it. */
static void forked_snapshot_is_the_state_at_the_fork(void **unused) {
        struct state *s = rich_state();
        void *want;
        size_t want_len;
        assert_int_equal(snapshot_encode(s, &want, &want_len), 0);
        struct snapshot_job job;
        assert_int_equal(snapshot_fork(s, &job), 0);
        assert_true(job.pid > 0);
        /* Mutations after the fork do not reach the child's copy. */
        status(s, "/web.i1", TASK_FINISHED, T0 + 70, "done", -1);
        app(s, "/later", 1, 1);
        void *got;
        size_t got_len;
        assert_int_equal(snapshot_collect(&job, &got, &got_len), 0);
        assert_int_equal(job.pid, 0);
        assert_int_equal(job.fd, -1);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
        struct state *t = state_new();
        struct err e = {0};
        assert_int_equal(snapshot_restore(t, got, got_len, &e), 0);
        assert_null(state_app_get(t, "/later"));
        assert_int_equal(state_instance_get(t, "/web.i1")->state, TASK_RUNNING);
        raft_free(got);
        raft_free(want);
        state_free(t);
        state_free(s);
}

/* A child that dies before finishing yields an error, never a truncated snapshot. */
static void killed_snapshot_child_is_an_error(void **unused) {
        struct state *s = rich_state();
        struct snapshot_job job;
        assert_int_equal(snapshot_fork(s, &job), 0);
        kill(job.pid, SIGKILL);
        void *got = (void *)0x1;
        size_t got_len = 7;
        assert_int_equal(snapshot_collect(&job, &got, &got_len), -EIO);
        assert_ptr_equal(got, (void *)0x1);
        assert_int_equal(got_len, 7);
        assert_int_equal(job.pid, 0);
        state_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(snapshot_round_trip_keeps_agents_and_instances),
                cmocka_unit_test(snapshot_text_is_the_state_as_json),
                cmocka_unit_test(damaged_snapshots_fail_and_leave_the_state_alone),
                cmocka_unit_test(forked_snapshot_is_the_state_at_the_fork),
                cmocka_unit_test(killed_snapshot_child_is_an_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
