/* test_store_cluster.c — agents and instances in the state machine: registration, agent states,
 * placements and the resources they reserve, status transitions, expunge, counts,
 * lastTaskFailure, the change observer and bounds on commands (snapshots: test_store_cluster_snapshot.c). */
#include "test_store_cluster.h"

static void registration_assigns_sequential_ids_in_the_cluster(void **unused) {
        struct state *s = state_new();
        assert_null(state_cluster_id(s));
        const char *a = reg(s, NULL, "h1", 4, 4096);
        const char *b = reg(s, NULL, "h2", 8, 8192);
        assert_string_equal(a, CLUSTER "-S0");
        assert_string_equal(b, CLUSTER "-S1");
        assert_string_equal(state_cluster_id(s), CLUSTER);
        assert_int_equal(state_agent_count(s), 2);
        const struct agent *ag = state_agent_get(s, a);
        assert_non_null(ag);
        assert_string_equal(ag->hostname, "h1");
        assert_string_equal(ag->address, "10.0.0.1:5051");
        assert_true(ag->cpus == 4 && ag->mem == 4096 && ag->disk == 1000);
        assert_int_equal(ag->n_ports, 1);
        assert_int_equal(ag->ports[0].begin, 31000);
        assert_int_equal(ag->ports[0].end, 32000);
        assert_string_equal(json_string_value(json_object_get(ag->attributes, "rack")), "r1");
        assert_int_equal(ag->state, AGENT_ACTIVE);
        assert_int_equal(ag->registered_at, T0 + 5);
        /* An unknown id is not adopted: a new one is handed out. */
        const char *c = reg(s, "made-up-S99", "h3", 1, 1);
        assert_string_equal(c, CLUSTER "-S2");
        assert_null(state_agent_get(s, "made-up-S99"));
        state_free(s);
}

static void cluster_id_without_one_in_the_command_is_derived_deterministically(void **unused) {
        struct state *s[2] = {state_new(), state_new()};
        for (int k = 0; k < 2; k++) {
                json_t *res = NULL;
                assert_int_equal(apply(s[k],
                                       json_pack("{s:s,s:{s:s},s:s}", "type", "agent_register", "agent",
                                                 "hostname", "h", "ts", ts_iso(T0)),
                                       &res),
                                 0);
                json_decref(res);
        }
        assert_non_null(state_cluster_id(s[0]));
        assert_int_equal(strlen(state_cluster_id(s[0])), 36);
        assert_string_equal(state_cluster_id(s[0]), state_cluster_id(s[1]));
        /* A later clusterId does not change it. */
        const char *a = reg(s[0], NULL, "h2", 1, 1);
        assert_true(strncmp(a, state_cluster_id(s[0]), 36) == 0);
        state_free(s[0]);
        state_free(s[1]);
}

static void reregistration_updates_the_agent_and_reactivates_it(void **unused) {
        struct state *s = state_new();
        char id[128];
        snprintf(id, sizeof id, "%s", reg(s, NULL, "h1", 4, 4096));
        app(s, "/web", 1, 100);
        assert_int_equal(place(s, "/web.instance-1._app", "/web", id, 31001), 1);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", id, "state",
                                         "unreachable", "ts", ts_iso(T0 + 50)),
                               NULL),
                         0);
        assert_int_equal(state_agent_get(s, id)->state, AGENT_UNREACHABLE);
        assert_int_equal(state_agent_get(s, id)->state_since, T0 + 50);

        const char *again = reg(s, id, "h1-renamed", 16, 65536);
        assert_string_equal(again, id);
        const struct agent *ag = state_agent_get(s, id);
        assert_int_equal(state_agent_count(s), 1);
        assert_string_equal(ag->hostname, "h1-renamed");
        assert_true(ag->cpus == 16 && ag->mem == 65536);
        assert_int_equal(ag->state, AGENT_ACTIVE);
        assert_int_equal(ag->registered_at, T0 + 5);
        /* What is placed there stays reserved. */
        assert_int_equal(ag->n_instances, 1);
        assert_true(ag->used_cpus == 1 && ag->used_mem == 100);
        state_free(s);
}

static void agent_states_change_and_gone_is_final(void **unused) {
        struct state *s = state_new();
        char id[128];
        snprintf(id, sizeof id, "%s", reg(s, NULL, "h1", 4, 4096));
        static const char *const seq[] = {"draining", "active", "unreachable", "active", "gone"};
        for (size_t i = 0; i < ELEMENTSOF(seq); i++) {
                assert_int_equal(apply(s,
                                       json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", id,
                                                 "state", seq[i], "ts", ts_iso(T0 + 100 + (int64_t)i)),
                                       NULL),
                                 0);
                assert_string_equal(agent_state_to_string(state_agent_get(s, id)->state), seq[i]);
        }
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", id, "state",
                                         "active", "ts", ts_iso(T0 + 200)),
                               NULL),
                         -ERR_CONFLICT);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", "nope", "state",
                                         "active", "ts", ts_iso(T0 + 200)),
                               NULL),
                         -ERR_NOT_FOUND);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", id, "state",
                                         "sleeping", "ts", ts_iso(T0 + 200)),
                               NULL),
                         -EINVAL);
        /* A gone agent re-registering gets a new id. */
        const char *fresh = reg(s, id, "h1", 4, 4096);
        assert_string_not_equal(fresh, id);
        assert_int_equal(state_agent_get(s, id)->state, AGENT_GONE);
        /* And a gone agent without instances can be removed; an active one cannot. */
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "agent_remove", "id", fresh), NULL),
                         -ERR_CONFLICT);
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "agent_remove", "id", id), NULL), 0);
        assert_null(state_agent_get(s, id));
        assert_int_equal(state_agent_count(s), 1);
        state_free(s);
}

static void placement_reserves_resources_and_skips_what_cannot_be_placed(void **unused) {
        struct state *s = state_new();
        char a[128], b[128];
        snprintf(a, sizeof a, "%s", reg(s, NULL, "h1", 4, 4096));
        snprintf(b, sizeof b, "%s", reg(s, NULL, "h2", 4, 4096));
        app(s, "/web", 0.5, 128);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", b, "state",
                                         "draining", "ts", ts_iso(T0 + 1)),
                               NULL),
                         0);
        const char *v = version_of(s, "/web");
        json_t *res = NULL;
        json_t *cmd = json_pack("{s:s,s:[[s,s,s,s,[i,i]],{s:s,s:s,s:s,s:s,s:[i],s:f,s:f},[s,s,s,s,[]],[s,s,s,"
                                "s,[]],[s,s,s,s,[]],"
                                "[s,s,s,s,[]]],s:s}",
                                "type", "instances_place", "instances", "/web.i1", "/web", v, a, 31000,
                                31001, /* placed */
                                "id", "/web.i2", "appId", "/web", "version", v, "agentId", a, "ports", 31002,
                                "cpus", 2.0, "mem", 1.0,         /* placed, own resources */
                                "/web.i1", "/web", v, a,         /* duplicate id */
                                "/web.i3", "/nope", v, a,        /* unknown app */
                                "/web.i4", "/web", v, b,         /* draining agent */
                                "/web.i5", "/web", v, "nope-S7", /* unknown agent */
                                "ts", ts_iso(T0 + 10));
        assert_int_equal(apply(s, cmd, &res), 0);
        assert_int_equal(json_integer_value(json_object_get(res, "placed")), 2);
        assert_int_equal(json_array_size(json_object_get(res, "skipped")), 4);
        assert_string_equal(json_string_value(json_array_get(json_object_get(res, "skipped"), 0)), "/web.i1");
        json_decref(res);

        const struct agent *ag = state_agent_get(s, a);
        assert_int_equal(ag->n_instances, 2);
        assert_true(fabs(ag->used_cpus - 2.5) < 1e-9);
        assert_true(fabs(ag->used_mem - 129) < 1e-9);
        assert_int_equal(state_agent_get(s, b)->n_instances, 0);
        assert_int_equal(state_instance_count(s), 2);
        const struct instance *i = state_instance_get(s, "/web.i1");
        assert_non_null(i);
        assert_string_equal(i->app_id, "/web");
        assert_string_equal(i->agent_id, a);
        assert_string_equal(i->version, v);
        assert_int_equal(i->n_ports, 2);
        assert_int_equal(i->ports[0], 31000);
        assert_int_equal(i->ports[1], 31001);
        assert_int_equal(i->state, TASK_STAGING);
        assert_int_equal(i->goal, GOAL_RUNNING);
        assert_int_equal(i->staged_at, T0 + 10);
        assert_int_equal(i->started_at, 0);
        assert_true(i->cpus == 0.5f && i->mem == 128.0f);
        /* Interned: instances of one app share the strings. */
        assert_ptr_equal(i->app_id, state_instance_get(s, "/web.i2")->app_id);
        assert_ptr_equal(i->version, state_instance_get(s, "/web.i2")->version);
        assert_ptr_equal(i->agent_id, ag->id);
        state_free(s);
}

static int collect_ids(const struct instance *i, void *data) {
        json_array_append_new(data, json_string(i->id));
        return 0;
}

static void indexes_list_instances_by_app_and_agent(void **unused) {
        struct state *s = state_new();
        char a[128], b[128];
        snprintf(a, sizeof a, "%s", reg(s, NULL, "h1", 64, 65536));
        snprintf(b, sizeof b, "%s", reg(s, NULL, "h2", 64, 65536));
        app(s, "/x", 0.1, 1);
        app(s, "/y", 0.1, 1);
        char id[64];
        for (int k = 0; k < 10; k++) {
                snprintf(id, sizeof id, "/%c.i%d", k % 2 ? 'y' : 'x', k);
                assert_int_equal(place(s, id, k % 2 ? "/y" : "/x", k < 6 ? a : b, 0), 1);
        }
        json_t *l = json_array();
        state_app_instances_foreach(s, "/x", collect_ids, l);
        assert_int_equal(json_array_size(l), 5);
        assert_string_equal(json_string_value(json_array_get(l, 0)), "/x.i0");
        assert_string_equal(json_string_value(json_array_get(l, 4)), "/x.i8");
        json_array_clear(l);
        state_agent_instances_foreach(s, b, collect_ids, l);
        assert_int_equal(json_array_size(l), 4);
        json_array_clear(l);
        state_instances_foreach(s, collect_ids, l);
        assert_int_equal(json_array_size(l), 10);
        /* Removing from the middle keeps the lists intact. */
        assert_int_equal(expunge(s, "/x.i4", true), 1);
        json_array_clear(l);
        state_app_instances_foreach(s, "/x", collect_ids, l);
        assert_int_equal(json_array_size(l), 4);
        assert_string_equal(json_string_value(json_array_get(l, 2)), "/x.i6");
        json_array_clear(l);
        state_agent_instances_foreach(s, a, collect_ids, l);
        assert_int_equal(json_array_size(l), 5);
        assert_null(state_instance_get(s, "/x.i4"));
        assert_int_equal(state_instance_count(s), 9);
        json_decref(l);
        state_free(s);
}

static void status_transitions_and_terminal_states_stick(void **unused) {
        struct state *s = state_new();
        const char *a = reg(s, NULL, "h1", 4, 4096);
        app(s, "/web", 1, 10);
        place(s, "/web.i1", "/web", a, 0);
        assert_int_equal(status(s, "/web.i1", TASK_STARTING, T0 + 30, NULL, -1), 0);
        assert_int_equal(state_of(s, "/web.i1"), TASK_STARTING);
        assert_int_equal(status(s, "/web.i1", TASK_RUNNING, T0 + 40, "up", 1), 0);
        const struct instance *i = state_instance_get(s, "/web.i1");
        assert_int_equal(i->state, TASK_RUNNING);
        assert_int_equal(i->started_at, T0 + 40);
        assert_int_equal(i->updated_at, T0 + 40);
        assert_true(i->has_health && i->healthy);
        assert_string_equal(i->message, "up");
        /* A stale STARTING after RUNNING is ignored. */
        assert_int_equal(status(s, "/web.i1", TASK_STARTING, T0 + 41, NULL, -1), 0);
        assert_int_equal(state_of(s, "/web.i1"), TASK_RUNNING);
        /* Unreachable and back: started_at stays the first one, health is cleared meanwhile. */
        assert_int_equal(status(s, "/web.i1", TASK_UNREACHABLE, T0 + 50, NULL, -1), 0);
        assert_int_equal(state_of(s, "/web.i1"), TASK_UNREACHABLE);
        assert_false(state_instance_get(s, "/web.i1")->has_health);
        assert_int_equal(status(s, "/web.i1", TASK_RUNNING, T0 + 60, NULL, -1), 0);
        assert_int_equal(state_of(s, "/web.i1"), TASK_RUNNING);
        assert_int_equal(state_instance_get(s, "/web.i1")->started_at, T0 + 40);
        /* Terminal is final: no later update changes it, RUNNING included. */
        assert_int_equal(status(s, "/web.i1", TASK_FINISHED, T0 + 70, "done", -1), 0);
        assert_int_equal(status(s, "/web.i1", TASK_RUNNING, T0 + 80, "again", 1), 0);
        assert_int_equal(status(s, "/web.i1", TASK_FAILED, T0 + 90, "late", -1), 0);
        i = state_instance_get(s, "/web.i1");
        assert_int_equal(i->state, TASK_FINISHED);
        assert_string_equal(i->message, "done");
        assert_int_equal(i->updated_at, T0 + 70);
        assert_false(i->has_health);
        /* TASK_UNKNOWN is ignored, and does not spoil the rest of its batch. */
        place(s, "/web.i2", "/web", a, 0);
        assert_int_equal(
                apply(s,
                      json_pack("{s:s,s:[[s,s],[s,s]],s:s}", "type", "instances_status", "updates", "/web.i2",
                                "TASK_UNKNOWN", "/web.i2", "TASK_STARTING", "ts", ts_iso(T0)),
                      NULL),
                0);
        assert_int_equal(state_of(s, "/web.i2"), TASK_STARTING);
        /* Unknown ids are ignored, not errors. */
        assert_int_equal(status(s, "/nope.i9", TASK_RUNNING, T0 + 90, NULL, -1), 0);
        assert_null(state_instance_get(s, "/nope.i9"));
        state_free(s);
}

static void terminal_states_release_resources_exactly_once(void **unused) {
        static const enum task_state terminal[] = {
                TASK_FINISHED, TASK_FAILED,  TASK_KILLED, TASK_ERROR,
                TASK_LOST,     TASK_DROPPED, TASK_GONE,   TASK_GONE_BY_OPERATOR};
        for (size_t t = 0; t < ELEMENTSOF(terminal); t++) {
                struct state *s = state_new();
                const char *a = reg(s, NULL, "h1", 4, 4096);
                app(s, "/web", 0.1, 33.3);
                place(s, "/web.i1", "/web", a, 0);
                place(s, "/web.i2", "/web", a, 0);
                const struct agent *ag = state_agent_get(s, a);
                assert_int_equal(ag->n_instances, 2);
                assert_true(fabs(ag->used_cpus - 0.2) < 1e-6);
                assert_int_equal(status(s, "/web.i1", TASK_RUNNING, T0 + 30, NULL, -1), 0);
                assert_int_equal(status(s, "/web.i1", terminal[t], T0 + 40, NULL, -1), 0);
                assert_int_equal(ag->n_instances, 1);
                assert_true(fabs(ag->used_cpus - 0.1) < 1e-6);
                assert_true(fabs(ag->used_mem - 33.3) < 1e-4);
                /* A second terminal update, a kill, then the expunge: nothing more is released. */
                assert_int_equal(status(s, "/web.i1", TASK_KILLED, T0 + 50, NULL, -1), 0);
                assert_int_equal(status(s, "/web.i1", terminal[t], T0 + 50, NULL, -1), 0);
                assert_int_equal(ag->n_instances, 1);
                assert_int_equal(expunge(s, "/web.i1", false), 1);
                assert_int_equal(ag->n_instances, 1);
                assert_true(fabs(ag->used_cpus - 0.1) < 1e-6);
                /* The other one goes by forced expunge while running: released once, back to
                 * exactly zero. */
                assert_int_equal(expunge(s, "/web.i2", true), 1);
                assert_int_equal(expunge(s, "/web.i2", true), 0);
                assert_int_equal(ag->n_instances, 0);
                assert_true(ag->used_cpus == 0 && ag->used_mem == 0 && ag->used_disk == 0 &&
                            ag->used_gpus == 0);
                state_free(s);
        }
}

static void expunge_removes_terminal_instances_only_unless_forced(void **unused) {
        struct state *s = state_new();
        const char *a = reg(s, NULL, "h1", 4, 4096);
        app(s, "/web", 1, 10);
        place(s, "/web.i1", "/web", a, 0);
        place(s, "/web.i2", "/web", a, 0);
        assert_int_equal(status(s, "/web.i1", TASK_KILLED, T0 + 30, NULL, -1), 0);
        json_t *res = NULL;
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:[s,s,s]}", "type", "instances_expunge", "ids", "/web.i1",
                                         "/web.i2", "/unknown"),
                               &res),
                         0);
        assert_int_equal(json_integer_value(json_object_get(res, "removed")), 1);
        json_decref(res);
        assert_null(state_instance_get(s, "/web.i1"));
        assert_non_null(state_instance_get(s, "/web.i2"));
        assert_int_equal(state_instance_count(s), 1);
        assert_int_equal(expunge(s, "/web.i2", true), 1);
        assert_int_equal(state_instance_count(s), 0);
        struct state_app_counts k;
        state_app_counts(s, "/web", &k);
        assert_int_equal(k.instances, 0);
        /* An id may be placed again once expunged. */
        assert_int_equal(place(s, "/web.i1", "/web", a, 0), 1);
        state_free(s);
}

static void goals_change_without_touching_state(void **unused) {
        struct state *s = state_new();
        const char *a = reg(s, NULL, "h1", 4, 4096);
        app(s, "/web", 1, 10);
        place(s, "/web.i1", "/web", a, 0);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:[s,s],s:s}", "type", "instances_goal", "ids", "/web.i1",
                                         "/x", "goal", "stopped"),
                               NULL),
                         0);
        assert_int_equal(state_instance_get(s, "/web.i1")->goal, GOAL_STOPPED);
        assert_int_equal(state_of(s, "/web.i1"), TASK_STAGING);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:[s],s:s}", "type", "instances_goal", "ids", "/web.i1",
                                         "goal", "paused"),
                               NULL),
                         -EINVAL);
        assert_int_equal(state_instance_get(s, "/web.i1")->goal, GOAL_STOPPED);
        state_free(s);
}

static void counts_follow_every_transition(void **unused) {
        struct state *s = state_new();
        const char *a = reg(s, NULL, "h1", 64, 65536);
        app(s, "/web", 0.1, 1);
        char id[32];
        for (int k = 0; k < 6; k++) {
                snprintf(id, sizeof id, "/web.i%d", k);
                place(s, id, "/web", a, 0);
        }
        struct state_app_counts k;
        state_app_counts(s, "/web", &k);
        assert_int_equal(k.instances, 6);
        assert_int_equal(k.staged, 6);
        status(s, "/web.i0", TASK_RUNNING, T0, NULL, 1);
        status(s, "/web.i1", TASK_RUNNING, T0, NULL, 0);
        status(s, "/web.i2", TASK_RUNNING, T0, NULL, -1);
        status(s, "/web.i3", TASK_KILLING, T0, NULL, -1);
        status(s, "/web.i4", TASK_UNREACHABLE, T0, NULL, -1);
        status(s, "/web.i5", TASK_FAILED, T0, NULL, -1);
        state_app_counts(s, "/web", &k);
        assert_int_equal(k.instances, 6);
        assert_int_equal(k.staged, 0);
        assert_int_equal(k.running, 3);
        assert_int_equal(k.healthy, 1);
        assert_int_equal(k.unhealthy, 1);
        assert_int_equal(k.killing, 1);
        assert_int_equal(k.unreachable, 1);
        assert_int_equal(k.terminal, 1);
        /* Health flips, then running → terminal takes the health with it. */
        status(s, "/web.i1", TASK_RUNNING, T0, NULL, 1);
        state_app_counts(s, "/web", &k);
        assert_int_equal(k.healthy, 2);
        assert_int_equal(k.unhealthy, 0);
        status(s, "/web.i0", TASK_KILLED, T0, NULL, -1);
        state_app_counts(s, "/web", &k);
        assert_int_equal(k.running, 2);
        assert_int_equal(k.healthy, 1);
        assert_int_equal(k.terminal, 2);
        expunge(s, "/web.i0", false);
        expunge(s, "/web.i5", false);
        state_app_counts(s, "/web", &k);
        assert_int_equal(k.instances, 4);
        assert_int_equal(k.terminal, 0);
        state_app_counts(s, "/none", &k);
        assert_int_equal(k.instances, 0);
        state_free(s);
}

static void last_task_failure_is_recorded_per_app(void **unused) {
        struct state *s = state_new();
        const char *a = reg(s, NULL, "h1", 64, 65536);
        app(s, "/web", 0.1, 1);
        place(s, "/web.i1", "/web", a, 0);
        place(s, "/web.i2", "/web", a, 0);
        place(s, "/web.i3", "/web", a, 0);
        assert_null(state_app_last_failure(s, "/web"));
        status(s, "/web.i1", TASK_KILLED, T0 + 100, "killed", -1);
        status(s, "/web.i2", TASK_FINISHED, T0 + 100, "ok", -1);
        assert_null(state_app_last_failure(s, "/web"));
        status(s, "/web.i1", TASK_FAILED, T0 + 200, "too late", -1);
        assert_null(state_app_last_failure(s, "/web"));
        status(s, "/web.i3", TASK_FAILED, T0 + 300, "exit 1", -1);
        const json_t *f = state_app_last_failure(s, "/web");
        assert_non_null(f);
        assert_string_equal(json_string_value(json_object_get(f, "appId")), "/web");
        assert_string_equal(json_string_value(json_object_get(f, "host")), "h1");
        assert_string_equal(json_string_value(json_object_get(f, "message")), "exit 1");
        assert_string_equal(json_string_value(json_object_get(f, "state")), "TASK_FAILED");
        assert_string_equal(json_string_value(json_object_get(f, "taskId")), "/web.i3");
        assert_string_equal(json_string_value(json_object_get(f, "timestamp")), ts_iso(T0 + 300));
        assert_string_equal(json_string_value(json_object_get(f, "version")), version_of(s, "/web"));
        assert_string_equal(json_string_value(json_object_get(f, "slaveId")), a);
        /* Survives expunging the failed instance. */
        expunge(s, "/web.i3", false);
        expunge(s, "/web.i1", false);
        expunge(s, "/web.i2", false);
        assert_non_null(state_app_last_failure(s, "/web"));
        /* LOST and ERROR count too. */
        place(s, "/web.i4", "/web", a, 0);
        status(s, "/web.i4", TASK_LOST, T0 + 400, NULL, -1);
        assert_string_equal(json_string_value(json_object_get(state_app_last_failure(s, "/web"), "state")),
                            "TASK_LOST");
        /* Deleting the app forgets it. */
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/web"), NULL), 0);
        assert_null(state_app_last_failure(s, "/web"));
        state_free(s);
}

static int collect_orphans(const char *app_id, size_t n, void *data) {
        json_object_set_new(data, app_id, json_integer((json_int_t)n));
        return 0;
}

static void deleting_an_app_keeps_its_instances_for_the_master(void **unused) {
        struct state *s = state_new();
        const char *a = reg(s, NULL, "h1", 64, 65536);
        app(s, "/web", 0.1, 1);
        app(s, "/db", 0.1, 1);
        place(s, "/web.i1", "/web", a, 0);
        place(s, "/web.i2", "/web", a, 0);
        place(s, "/db.i1", "/db", a, 0);
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/web"), NULL), 0);
        assert_null(state_app_get(s, "/web"));
        assert_int_equal(state_instance_count(s), 3);
        json_t *o = json_object();
        state_orphan_apps_foreach(s, collect_orphans, o);
        assert_int_equal(json_object_size(o), 1);
        assert_int_equal(json_integer_value(json_object_get(o, "/web")), 2);
        json_t *l = json_array();
        state_app_instances_foreach(s, "/web", collect_ids, l);
        assert_int_equal(json_array_size(l), 2);
        /* No new placements for a deleted app; status updates still apply; the master kills and
         * expunges, and the orphan goes away. */
        assert_int_equal(place(s, "/web.i3", "/web", a, 0), 0);
        status(s, "/web.i1", TASK_KILLED, T0, NULL, -1);
        status(s, "/web.i2", TASK_FAILED, T0, NULL, -1);
        assert_null(state_app_last_failure(s, "/web"));
        assert_int_equal(state_agent_get(s, a)->n_instances, 1);
        expunge(s, "/web.i1", false);
        expunge(s, "/web.i2", false);
        json_object_clear(o);
        state_orphan_apps_foreach(s, collect_orphans, o);
        assert_int_equal(json_object_size(o), 0);
        json_decref(o);
        json_decref(l);
        state_free(s);
}

/* ---- observer ---- */

struct seen {
        json_t *log; /* ["app /x", "agent id", "inst id OLD->NEW", "removed id app", "restored"] */
        struct state *s;
};

static void obs_app(const char *id, void *data) {
        struct seen *w = data;
        json_array_append_new(w->log, json_sprintf("app %s", id));
}
static void obs_agent(const char *id, void *data) {
        struct seen *w = data;
        json_array_append_new(w->log, json_sprintf("agent %s", id));
}
static void obs_instance(const struct instance *i, enum task_state old, void *data) {
        struct seen *w = data;
        /* The whole command is applied by now: the instance is what the state says it is. */
        assert_ptr_equal(state_instance_get(w->s, i->id), i);
        json_array_append_new(w->log, json_sprintf("inst %s %s->%s", i->id, task_state_to_string(old),
                                                   task_state_to_string(i->state)));
}
static void obs_removed(const char *id, const char *app_id, void *data) {
        struct seen *w = data;
        assert_null(state_instance_get(w->s, id));
        json_array_append_new(w->log, json_sprintf("removed %s %s", id, app_id));
}
static void obs_restored(void *data) {
        struct seen *w = data;
        json_array_append_new(w->log, json_string("restored"));
}

static void expect_log(struct seen *w, const char *const *want, size_t n) {
        for (size_t i = 0; i < json_array_size(w->log) || i < n; i++) {
                const char *got = json_string_value(json_array_get(w->log, i));
                if (i >= n || !got || !streq(got, want[i]))
                        fail_msg("observer call %zu: got '%s', want '%s'", i, got ?: "(none)",
                                 i < n ? want[i] : "(none)");
        }
        json_array_clear(w->log);
}

static void observer_hears_each_change_once_after_the_command(void **unused) {
        struct state *s = state_new();
        struct seen w = {.log = json_array(), .s = s};
        struct state_observer obs = { .app_changed = obs_app, .agent_changed = obs_agent, .instance_changed = obs_instance, .instance_removed = obs_removed, .restored = obs_restored, .data = &w };
        state_set_observer(s, &obs);

        char a[128];
        snprintf(a, sizeof a, "%s", reg(s, NULL, "h1", 4, 4096));
        app(s, "/web", 0.1, 1);
        {
                const char *want[] = {"agent " CLUSTER "-S0", "app /web"};
                expect_log(&w, want, 2);
        }
        place(s, "/web.i1", "/web", a, 0);
        place(s, "/web.i2", "/web", a, 0);
        {
                const char *want[] = {"inst /web.i1 TASK_UNKNOWN->TASK_STAGING",
                                      "inst /web.i2 TASK_UNKNOWN->TASK_STAGING"};
                expect_log(&w, want, 2);
        }
        /* Two updates of one instance in one command: one call, from the state before. Nothing for
         * an unknown id, nothing for a no-op. */
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:[[s,s],[s,s],[s,s],[s,s]],s:s}", "type", "instances_status",
                                         "updates", "/web.i1", "TASK_STARTING", "/web.i1", "TASK_RUNNING",
                                         "/x", "TASK_RUNNING", "/web.i2", "TASK_STAGING", "ts", ts_iso(T0)),
                               NULL),
                         0);
        {
                const char *want[] = {"inst /web.i1 TASK_STAGING->TASK_RUNNING"};
                expect_log(&w, want, 1);
        }
        /* A health change alone is a change. */
        status(s, "/web.i1", TASK_RUNNING, T0, NULL, 0);
        status(s, "/web.i1", TASK_RUNNING, T0, NULL, 0);
        {
                const char *want[] = {"inst /web.i1 TASK_RUNNING->TASK_RUNNING"};
                expect_log(&w, want, 1);
        }
        /* A failing command calls nothing. */
        assert_true(apply(s,
                          json_pack("{s:s,s:[[s,s],[s,s]],s:s}", "type", "instances_status", "updates",
                                    "/web.i2", "TASK_RUNNING", "/web.i2", "TASK_BOGUS", "ts", ts_iso(T0)),
                          NULL) < 0);
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/nope"), NULL),
                         -ERR_NOT_FOUND);
        expect_log(&w, NULL, 0);
        /* Goals, agent state, expunge, app delete. */
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:[s],s:s}", "type", "instances_goal", "ids", "/web.i2",
                                         "goal", "decommissioned"),
                               NULL),
                         0);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", a, "state",
                                         "draining", "ts", ts_iso(T0)),
                               NULL),
                         0);
        status(s, "/web.i2", TASK_KILLED, T0, NULL, -1);
        expunge(s, "/web.i2", false);
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/web"), NULL), 0);
        {
                char ag[200];
                snprintf(ag, sizeof ag, "agent %s", a);
                const char *want[] = {"inst /web.i2 TASK_STAGING->TASK_STAGING", ag,
                                      "inst /web.i2 TASK_STAGING->TASK_KILLED", "removed /web.i2 /web",
                                      "app /web"};
                expect_log(&w, want, 5);
        }
        /* The last instance of a deleted app goes: its app id is still valid in the callback. */
        expunge(s, "/web.i1", true);
        {
                const char *want[] = {"removed /web.i1 /web"};
                expect_log(&w, want, 1);
        }

        /* Snapshot restore: only `restored`, and the observer survives it. */
        place(s, "/x.i1", "/x", a, 0);
        void *buf;
        size_t len;
        assert_int_equal(snapshot_encode(s, &buf, &len), 0);
        struct err e = {0};
        assert_int_equal(snapshot_restore(s, buf, len, &e), 0);
        raft_free(buf);
        {
                const char *want[] = {"restored"};
                expect_log(&w, want, 1);
        }
        reg(s, a, "h1", 4, 4096);
        {
                char ag[200];
                snprintf(ag, sizeof ag, "agent %s", a);
                const char *want[] = {ag};
                expect_log(&w, want, 1);
        }
        state_set_observer(s, NULL);
        reg(s, a, "h1", 4, 4096);
        expect_log(&w, NULL, 0);
        json_decref(w.log);
        state_free(s);
}

/* ---- bounds ---- */

static void bad_commands_fail_and_change_nothing(void **unused) {
        struct state *s = state_new();
        const char *a = reg(s, NULL, "h1", 4, 4096);
        app(s, "/web", 0.1, 1);
        place(s, "/web.i1", "/web", a, 0);
        json_t *before = state_to_json(s);
        char big[CLUSTER_MAX_MESSAGE_LEN + 2];
        memset(big, 'm', sizeof big - 1);
        big[sizeof big - 1] = 0;
        json_t *many_ports = json_array();
        for (int k = 0; k < CLUSTER_MAX_INSTANCE_PORTS + 1; k++)
                json_array_append_new(many_ports, json_integer(31000 + k));
        json_t *many_items = json_array();
        for (int k = 0; k < CLUSTER_MAX_ITEMS + 1; k++)
                json_array_append_new(many_items, json_string("x"));
        const char *v = version_of(s, "/web");
        json_t *bad[] = {
                /* the good item first: nothing of a failed command applies */
                json_pack("{s:s,s:[[s,s],[s,s,n,s]],s:s}", "type", "instances_status", "updates", "/web.i1",
                          "TASK_RUNNING", "/web.i1", "TASK_RUNNING", big, "ts", ts_iso(T0)),
                json_pack("{s:s,s:[[s,s],[s,s]],s:s}", "type", "instances_status", "updates", "/web.i1",
                          "TASK_RUNNING", "/web.i1", "TASK_BOGUS", "ts", ts_iso(T0)),
                json_pack("{s:s,s:[[s,s,s]],s:s}", "type", "instances_status", "updates", "/web.i1",
                          "TASK_RUNNING", "yesterday", "ts", ts_iso(T0)),
                json_pack("{s:s,s:[[s,s,i,n,i]],s:s}", "type", "instances_status", "updates", "/web.i1",
                          "TASK_RUNNING", 5, 1, "ts", ts_iso(T0)),
                json_pack("{s:s,s:[[s,s]]}", "type", "instances_status", "updates", "/web.i1",
                          "TASK_RUNNING"),
                json_pack("{s:s,s:{},s:s}", "type", "instances_status", "updates", "ts", ts_iso(T0)),
                json_pack("{s:s,s:[[s,s,s,s,[]],[s,s,s,s,O]],s:s}", "type", "instances_place", "instances",
                          "/web.i2", "/web", v, a, "/web.i3", "/web", v, a, many_ports, "ts", ts_iso(T0)),
                json_pack("{s:s,s:[[s,s,s,s,[i]]],s:s}", "type", "instances_place", "instances", "/web.i2",
                          "/web", v, a, 70000, "ts", ts_iso(T0)),
                json_pack("{s:s,s:[[s,s,s,s,[]]],s:s}", "type", "instances_place", "instances", "", "/web", v,
                          a, "ts", ts_iso(T0)),
                json_pack("{s:s,s:[[s,s,i,s,[]]],s:s}", "type", "instances_place", "instances", "/web.i2",
                          "/web", 1, a, "ts", ts_iso(T0)),
                json_pack("{s:s,s:[[s,s,s,s]]}", "type", "instances_place", "instances", "/web.i2", "/web", v,
                          a),
                json_pack("{s:s,s:[{s:s,s:s,s:s,s:s,s:f}],s:s}", "type", "instances_place", "instances", "id",
                          "/web.i2", "appId", "/web", "version", v, "agentId", a, "cpus", -1.0, "ts",
                          ts_iso(T0)),
                json_pack("{s:s,s:O,s:s}", "type", "instances_expunge", "ids", many_items, "ts", ts_iso(T0)),
                json_pack("{s:s,s:[s,i]}", "type", "instances_expunge", "ids", "/web.i1", 3),
                json_pack("{s:s,s:{s:s,s:{s:f}},s:s}", "type", "agent_register", "agent", "hostname", "h",
                          "resources", "cpus", -4.0, "ts", ts_iso(T0)),
                json_pack("{s:s,s:{s:s,s:{s:[[i,i]]}},s:s}", "type", "agent_register", "agent", "hostname",
                          "h", "resources", "ports", 2000, 1000, "ts", ts_iso(T0)),
                json_pack("{s:s,s:{s:s,s:{s:i}},s:s}", "type", "agent_register", "agent", "hostname", "h",
                          "attributes", "rack", 1, "ts", ts_iso(T0)),
                json_pack("{s:s,s:{s:s},s:s}", "type", "agent_register", "agent", "hostname", big, "ts",
                          ts_iso(T0)),
                json_pack("{s:s,s:{s:s}}", "type", "agent_register", "agent", "hostname", "h"),
                json_pack("{s:s,s:s}", "type", "agent_register", "agent", "h"),
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_t *res = NULL;
                int r = apply(s, bad[i], &res);
                if (r >= 0)
                        fail_msg("bad command %zu was accepted", i);
                assert_null(res);
        }
        json_t *after = state_to_json(s);
        assert_true(json_equal(before, after));
        json_decref(before);
        json_decref(after);
        json_decref(many_ports);
        json_decref(many_items);
        state_free(s);
}

static void object_and_compact_items_mean_the_same(void **unused) {
        struct state *s[2] = {state_new(), state_new()};
        for (int k = 0; k < 2; k++) {
                const char *a = reg(s[k], NULL, "h1", 4, 4096);
                app(s[k], "/web", 0.1, 1);
                const char *v = version_of(s[k], "/web");
                json_t *item = k ? cluster_place_item("/web.i1", "/web", v, a, (uint16_t[]){31005}, 1)
                                 : json_pack("{s:s,s:s,s:s,s:s,s:[i]}", "id", "/web.i1", "appId", "/web",
                                             "version", v, "agentId", a, "ports", 31005);
                assert_int_equal(apply(s[k],
                                       json_pack("{s:s,s:[o],s:s}", "type", "instances_place", "instances",
                                                 item, "ts", ts_iso(T0)),
                                       NULL),
                                 0);
                json_t *upd = k ? cluster_status_item("/web.i1", TASK_RUNNING, T0 + 7, "hi", 1)
                                : json_pack("{s:s,s:s,s:I,s:s,s:b}", "id", "/web.i1", "state", "TASK_RUNNING",
                                            "ts", (json_int_t)(T0 + 7), "message", "hi", "healthy", 1);
                assert_int_equal(apply(s[k],
                                       json_pack("{s:s,s:[o],s:s}", "type", "instances_status", "updates",
                                                 upd, "ts", ts_iso(T0)),
                                       NULL),
                                 0);
        }
        json_t *j0 = state_to_json(s[0]), *j1 = state_to_json(s[1]);
        assert_true(json_equal(j0, j1));
        assert_int_equal(state_instance_get(s[0], "/web.i1")->ports[0], 31005);
        assert_int_equal(state_instance_get(s[0], "/web.i1")->started_at, T0 + 7);
        json_decref(j0);
        json_decref(j1);
        state_free(s[0]);
        state_free(s[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(registration_assigns_sequential_ids_in_the_cluster),
                cmocka_unit_test(cluster_id_without_one_in_the_command_is_derived_deterministically),
                cmocka_unit_test(reregistration_updates_the_agent_and_reactivates_it),
                cmocka_unit_test(agent_states_change_and_gone_is_final),
                cmocka_unit_test(placement_reserves_resources_and_skips_what_cannot_be_placed),
                cmocka_unit_test(indexes_list_instances_by_app_and_agent),
                cmocka_unit_test(status_transitions_and_terminal_states_stick),
                cmocka_unit_test(terminal_states_release_resources_exactly_once),
                cmocka_unit_test(expunge_removes_terminal_instances_only_unless_forced),
                cmocka_unit_test(goals_change_without_touching_state),
                cmocka_unit_test(counts_follow_every_transition),
                cmocka_unit_test(last_task_failure_is_recorded_per_app),
                cmocka_unit_test(deleting_an_app_keeps_its_instances_for_the_master),
                cmocka_unit_test(observer_hears_each_change_once_after_the_command),
                cmocka_unit_test(bad_commands_fail_and_change_nothing),
                cmocka_unit_test(object_and_compact_items_mean_the_same),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
