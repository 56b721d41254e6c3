/* test_store_state.c — the state machine without Raft: every command, its errors, versions,
 * history bound, service ports, snapshot round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/timeutil.h"
#include "model/app.h"
#include "store/cluster_state.h"
#include "store/snapshot.h"
#include "store/state.h"
#include "store/state_internal.h"
#include "store/store_fsm.h"

#include <raft.h>

/* A canonical app, built the way the API builds it (app_normalize). */
static json_t *canonical(const char *id, int instances, const char *cmd, int n_ports) {
        json_t *in = json_pack("{s:s,s:i,s:s,s:f,s:i}", "id", id, "instances", instances, "cmd", cmd, "cpus",
                               0.1, "mem", 32);
        json_t *pds = json_array();
        for (int i = 0; i < n_ports; i++)
                json_array_append_new(pds, json_pack("{s:i,s:s}", "port", 0, "protocol", "tcp"));
        json_object_set_new(in, "portDefinitions", pds);
        json_t *out = NULL;
        struct err e = {0};
        int r = app_normalize(in, "/", &out, &e);
        if (r < 0)
                fail_msg("app_normalize: %s", err_msg(&e));
        json_decref(in);
        return out;
}

static void ts_at(int64_t ms, char buf[static 25]) {
        time_format_ms(ms, buf);
}

#define T0 INT64_C(1700000000000)

/* Applies cmd (ownership taken) as the submitting master would; returns the status. */
static int apply(struct state *s, json_t *cmd, json_t **result, struct err *e) {
        int r = store_fsm_apply(s, cmd, result, e);
        json_decref(cmd);
        return r;
}

static int create(struct state *s, const char *id, int n_ports, int64_t ms, json_t **result) {
        char ts[25];
        ts_at(ms, ts);
        struct err e = {0};
        int r = apply(s,
                      json_pack("{s:s,s:i,s:o,s:s}", "type", "app_create", "v", 1, "app",
                                canonical(id, 1, "sleep 100", n_ports), "ts", ts),
                      result, &e);
        err_release(&e);
        return r;
}

static int update(struct state *s, const char *id, json_t *upd, bool partial, bool create_, int64_t ms,
                  json_t **result, struct err *e) {
        char ts[25];
        ts_at(ms, ts);
        return apply(s,
                     json_pack("{s:s,s:i,s:s,s:o,s:b,s:b,s:s}", "type", "app_update", "v", 1, "id", id,
                               "update", upd, "partial", partial, "create", create_, "ts", ts),
                     result, e);
}

static const char *version_of(const json_t *app) {
        return json_string_value(json_object_get(app, "version"));
}

static const char *info_of(const json_t *app, const char *key) {
        return json_string_value(json_object_get(json_object_get(app, "versionInfo"), key));
}

static int first_port(const json_t *app) {
        return (int)json_integer_value(
                json_object_get(json_array_get(json_object_get(app, "portDefinitions"), 0), "port"));
}

static void create_stores_version_and_result(void **unused) {
        struct state *s = state_new();
        json_t *res = NULL;
        assert_int_equal(create(s, "/web", 1, T0, &res), 0);
        assert_non_null(res);
        char ts[25];
        ts_at(T0, ts);
        assert_string_equal(version_of(res), ts);
        assert_string_equal(info_of(res, "lastScalingAt"), ts);
        assert_string_equal(info_of(res, "lastConfigChangeAt"), ts);
        assert_in_range(first_port(res), STATE_SERVICE_PORT_MIN, STATE_SERVICE_PORT_MAX);
        assert_true(state_port_taken(s, first_port(res)));
        const json_t *stored = state_app_get(s, "/web");
        assert_non_null(stored);
        assert_true(json_equal(res, (json_t *)stored));
        /* The result is the caller's copy: changing it leaves the state alone. */
        json_object_set_new(res, "instances", json_integer(99));
        assert_int_equal(json_integer_value(json_object_get(state_app_get(s, "/web"), "instances")), 1);
        assert_int_equal(state_app_count(s), 1);
        json_decref(res);
        state_free(s);
}

static void create_duplicate_conflicts(void **unused) {
        struct state *s = state_new();
        assert_int_equal(create(s, "/web", 0, T0, NULL), 0);
        char ts[25];
        ts_at(T0 + 5, ts);
        struct err e = {0};
        json_t *res = NULL;
        int r = apply(s,
                      json_pack("{s:s,s:o,s:s}", "type", "app_create", "app",
                                canonical("/web", 3, "sleep 1", 0), "ts", ts),
                      &res, &e);
        assert_int_equal(r, -ERR_CONFLICT);
        assert_int_equal(e.code, -ERR_CONFLICT);
        assert_string_equal(e.msg, "An app with id [/web] already exists.");
        assert_null(res);
        assert_int_equal(json_integer_value(json_object_get(state_app_get(s, "/web"), "instances")), 1);
        json_t *versions = state_app_versions(s, "/web");
        assert_int_equal(json_array_size(versions), 1);
        json_decref(versions);
        err_release(&e);
        state_free(s);
}

static void update_missing_app(void **unused) {
        struct state *s = state_new();
        struct err e = {0};
        json_t *res = NULL;
        assert_int_equal(update(s, "/nope", json_pack("{s:i}", "instances", 2), true, false, T0, &res, &e),
                         -ERR_NOT_FOUND);
        assert_string_equal(e.msg, "App '/nope' does not exist");
        assert_null(res);
        err_release(&e);

        /* PUT with create: the update becomes a new app under the path's id. */
        assert_int_equal(update(s, "/nope",
                                json_pack("{s:s,s:s,s:i}", "id", "/other", "cmd", "sleep 1", "instances", 2),
                                false, true, T0, &res, &e),
                         0);
        assert_true(json_is_true(json_object_get(res, "created")));
        const json_t *app = json_object_get(res, "app");
        assert_string_equal(json_string_value(json_object_get(app, "id")), "/nope");
        assert_null(state_app_get(s, "/other"));
        assert_non_null(state_app_get(s, "/nope"));
        json_decref(res);
        state_free(s);
}

static void scale_keeps_last_config_change(void **unused) {
        struct state *s = state_new();
        assert_int_equal(create(s, "/web", 0, T0, NULL), 0);
        json_t *res = NULL;
        struct err e = {0};
        assert_int_equal(
                update(s, "/web", json_pack("{s:i}", "instances", 5), true, false, T0 + 1000, &res, &e), 0);
        assert_false(json_is_true(json_object_get(res, "created")));
        const json_t *app = state_app_get(s, "/web");
        char t0[25], t1[25], t2[25];
        ts_at(T0, t0);
        ts_at(T0 + 1000, t1);
        ts_at(T0 + 2000, t2);
        assert_string_equal(version_of(app), t1);
        assert_string_equal(info_of(app, "lastScalingAt"), t1);
        assert_string_equal(info_of(app, "lastConfigChangeAt"), t0);
        assert_int_equal(json_integer_value(json_object_get(app, "instances")), 5);
        json_decref(res);

        /* A changed command is a configuration change: both move. */
        assert_int_equal(
                update(s, "/web", json_pack("{s:s}", "cmd", "sleep 200"), true, false, T0 + 2000, NULL, &e),
                0);
        app = state_app_get(s, "/web");
        assert_string_equal(info_of(app, "lastScalingAt"), t2);
        assert_string_equal(info_of(app, "lastConfigChangeAt"), t2);
        assert_int_equal(json_integer_value(json_object_get(app, "instances")), 5);
        state_free(s);
}

static void full_update_replaces_definition(void **unused) {
        struct state *s = state_new();
        assert_int_equal(create(s, "/web", 0, T0, NULL), 0);
        struct err e = {0};
        json_t *res = NULL;
        assert_int_equal(
                update(s, "/web", json_pack("{s:s}", "cmd", "echo hi"), false, false, T0 + 10, &res, &e), 0);
        const json_t *app = state_app_get(s, "/web");
        /* Not partial: instances fell back to the default, not the stored 1… which is also 1; the
         * command is what changed. */
        assert_string_equal(json_string_value(json_object_get(app, "cmd")), "echo hi");
        assert_string_equal(json_string_value(json_object_get(app, "id")), "/web");
        json_decref(res);
        state_free(s);
}

static void invalid_update_changes_nothing(void **unused) {
        struct state *s = state_new();
        assert_int_equal(create(s, "/web", 0, T0, NULL), 0);
        json_t *before = json_deep_copy(state_app_get(s, "/web"));
        struct err e = {0};
        json_t *res = NULL;
        int r = update(s, "/web", json_pack("{s:i}", "instances", -3), true, false, T0 + 10, &res, &e);
        assert_true(r == -ERR_INVALID || r == -ERR_BAD_JSON);
        assert_int_equal(e.code, r);
        assert_non_null(e.msg);
        assert_null(res);
        assert_true(json_equal(before, (json_t *)state_app_get(s, "/web")));
        json_t *versions = state_app_versions(s, "/web");
        assert_int_equal(json_array_size(versions), 1);
        json_decref(versions);
        json_decref(before);
        err_release(&e);
        state_free(s);
}

static void versions_strictly_increase(void **unused) {
        struct state *s = state_new();
        assert_int_equal(create(s, "/web", 0, T0, NULL), 0);
        struct err e = {0};
        /* Same ts, then a ts from the past (a new leader whose clock is behind). */
        assert_int_equal(update(s, "/web", json_pack("{s:i}", "instances", 2), true, false, T0, NULL, &e), 0);
        assert_int_equal(
                update(s, "/web", json_pack("{s:i}", "instances", 3), true, false, T0 - 60000, NULL, &e), 0);
        json_t *versions = state_app_versions(s, "/web");
        assert_int_equal(json_array_size(versions), 3);
        char t[25];
        ts_at(T0 + 2, t);
        assert_string_equal(json_string_value(json_array_get(versions, 0)), t); /* newest first */
        ts_at(T0 + 1, t);
        assert_string_equal(json_string_value(json_array_get(versions, 1)), t);
        ts_at(T0, t);
        assert_string_equal(json_string_value(json_array_get(versions, 2)), t);
        json_decref(versions);
        state_free(s);
}

static void history_is_bounded(void **unused) {
        struct state *s = state_new();
        assert_int_equal(create(s, "/web", 1, T0, NULL), 0);
        struct err e = {0};
        for (int i = 1; i <= APP_MAX_VERSIONS + 10; i++)
                assert_int_equal(update(s, "/web", json_pack("{s:i}", "instances", i), true, false,
                                        T0 + i * 1000, NULL, &e),
                                 0);
        json_t *versions = state_app_versions(s, "/web");
        assert_int_equal(json_array_size(versions), APP_MAX_VERSIONS);
        char t[25];
        ts_at(T0 + (APP_MAX_VERSIONS + 10) * 1000, t);
        assert_string_equal(json_string_value(json_array_get(versions, 0)), t);
        ts_at(T0 + 11 * 1000, t); /* the oldest kept */
        assert_string_equal(json_string_value(json_array_get(versions, APP_MAX_VERSIONS - 1)), t);
        assert_non_null(state_app_at_version(s, "/web", t));
        ts_at(T0, t);
        assert_null(state_app_at_version(s, "/web", t));
        json_decref(versions);
        /* One app holds its port once however many versions it has. */
        int port = first_port(state_app_get(s, "/web"));
        assert_true(state_port_taken(s, port));
        assert_true(state_app_remove(s, "/web"));
        assert_false(state_port_taken(s, port));
        state_free(s);
}

static void rollback(void **unused) {
        struct state *s = state_new();
        assert_int_equal(create(s, "/web", 0, T0, NULL), 0);
        struct err e = {0};
        assert_int_equal(update(s, "/web", json_pack("{s:s}", "cmd", "v2"), true, false, T0 + 1000, NULL, &e),
                         0);
        char t0[25], t2[25];
        ts_at(T0, t0);
        ts_at(T0 + 2000, t2);
        json_t *res = NULL;
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "app_rollback", "id", "/web", "to", t0,
                                         "ts", t2),
                               &res, &e),
                         0);
        const json_t *app = state_app_get(s, "/web");
        assert_string_equal(json_string_value(json_object_get(app, "cmd")), "sleep 100");
        assert_string_equal(version_of(app), t2);
        assert_true(json_equal(json_object_get(res, "app"), (json_t *)app));
        json_decref(res);
        json_t *versions = state_app_versions(s, "/web");
        assert_int_equal(json_array_size(versions), 3);
        json_decref(versions);

        res = NULL;
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "app_rollback", "id", "/web", "to",
                                         "2001-01-01T00:00:00.000Z", "ts", t2),
                               &res, &e),
                         -ERR_NOT_FOUND);
        assert_string_equal(e.msg, "App '/web' does not exist in version 2001-01-01T00:00:00.000Z");
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "app_rollback", "id", "/gone", "to", t0,
                                         "ts", t2),
                               &res, &e),
                         -ERR_NOT_FOUND);
        assert_string_equal(e.msg, "App '/gone' does not exist");
        assert_null(res);
        err_release(&e);
        state_free(s);
}

static void delete_removes_history_and_ports(void **unused) {
        struct state *s = state_new();
        json_t *a = NULL, *b = NULL;
        assert_int_equal(create(s, "/a", 2, T0, &a), 0);
        assert_int_equal(create(s, "/b", 1, T0, &b), 0);
        int pa = first_port(a);
        struct err e = {0};
        assert_int_equal(
                apply(s, json_pack("{s:s,s:i,s:s}", "type", "app_delete", "v", 1, "id", "/a"), NULL, &e), 0);
        assert_null(state_app_get(s, "/a"));
        assert_null(state_app_versions(s, "/a"));
        assert_false(state_port_taken(s, pa));
        assert_true(state_port_taken(s, first_port(b)));
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/a"), NULL, &e),
                         -ERR_NOT_FOUND);
        assert_string_equal(e.msg, "App '/a' does not exist");
        /* A new app never gets a port another app holds. */
        json_t *c = NULL;
        assert_int_equal(create(s, "/c", 1, T0 + 5, &c), 0);
        assert_int_not_equal(first_port(c), first_port(b));
        assert_true(state_port_taken(s, first_port(c)));
        json_decref(a);
        json_decref(b);
        json_decref(c);
        err_release(&e);
        state_free(s);
}

static void service_ports_unique(void **unused) {
        struct state *s = state_new();
        bool seen[65536] = {false};
        char id[16];
        for (int i = 0; i < 20; i++) {
                json_t *res = NULL;
                snprintf(id, sizeof id, "/app%d", i);
                assert_int_equal(create(s, id, 3, T0 + i, &res), 0);
                size_t j;
                json_t *pd;
                json_array_foreach(json_object_get(res, "portDefinitions"), j, pd) {
                        int p = (int)json_integer_value(json_object_get(pd, "port"));
                        assert_in_range(p, STATE_SERVICE_PORT_MIN, STATE_SERVICE_PORT_MAX);
                        assert_false(seen[p]);
                        seen[p] = true;
                        assert_true(state_port_taken(s, p));
                }
                json_decref(res);
        }
        /* Creation order is kept, also across a delete in the middle. */
        struct err e = {0};
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/app7"), NULL, &e), 0);
        assert_int_equal(state_app_count(s), 19);
        state_free(s);
}

static void service_ports_follow_updates(void **unused) {
        struct state *s = state_new();
        json_t *res = NULL;
        assert_int_equal(create(s, "/a", 1, T0, &res), 0);
        int p1 = first_port(res);
        json_decref(res);
        struct err e = {0};
        /* A full update asking for two ports: the first keeps the app's service port (Marathon
         * hands a replaced definition its ports back), the second is fresh. */
        json_t *upd =
                json_pack("{s:s,s:[{s:i},{s:i}]}", "cmd", "sleep 5", "portDefinitions", "port", 0, "port", 0);
        assert_int_equal(update(s, "/a", upd, false, false, T0 + 1, &res, &e), 0);
        json_t *pds = json_object_get(json_object_get(res, "app"), "portDefinitions");
        assert_int_equal(json_array_size(pds), 2);
        int p2 = (int)json_integer_value(json_object_get(json_array_get(pds, 0), "port"));
        int p3 = (int)json_integer_value(json_object_get(json_array_get(pds, 1), "port"));
        assert_int_not_equal(p2, p3);
        assert_int_equal(p2, p1);
        assert_int_not_equal(p3, p1);
        assert_true(state_port_taken(s, p2));
        assert_true(state_port_taken(s, p3));
        json_decref(res);
        /* A scale keeps them. */
        assert_int_equal(update(s, "/a", json_pack("{s:i}", "instances", 4), true, false, T0 + 2, &res, &e),
                         0);
        pds = json_object_get(json_object_get(res, "app"), "portDefinitions");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(pds, 0), "port")), p2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(pds, 1), "port")), p3);
        json_decref(res);
        /* Rolling back to the first version takes its port back. */
        char t0[25];
        ts_at(T0, t0);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:s,s:s,s:s}", "type", "app_rollback", "id", "/a", "to", t0,
                                         "ts", "2030-01-01T00:00:00.000Z"),
                               NULL, &e),
                         0);
        assert_true(state_port_taken(s, p1)); /* p1 == p2: the first version's port */
        assert_false(state_port_taken(s, p3));
        err_release(&e);
        state_free(s);
}

static int collect_ids(const json_t *app, void *data) {
        json_array_append(data, json_object_get(app, "id"));
        return 0;
}

static void foreach_in_creation_order(void **unused) {
        struct state *s = state_new();
        /* Enough apps to grow the hash table a few times. */
        char id[16];
        for (int i = 0; i < 300; i++) {
                snprintf(id, sizeof id, "/a%d", i);
                assert_int_equal(create(s, id, 0, T0, NULL), 0);
        }
        struct err e = {0};
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/a0"), NULL, &e), 0);
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/a150"), NULL, &e), 0);
        json_t *ids = json_array();
        assert_int_equal(state_apps_foreach(s, collect_ids, ids), 0);
        assert_int_equal(json_array_size(ids), 298);
        assert_string_equal(json_string_value(json_array_get(ids, 0)), "/a1");
        assert_string_equal(json_string_value(json_array_get(ids, 149)), "/a151");
        assert_string_equal(json_string_value(json_array_get(ids, 297)), "/a299");
        for (int i = 1; i < 300; i++) {
                snprintf(id, sizeof id, "/a%d", i);
                assert_true((state_app_get(s, id) != NULL) == (i != 150));
        }
        json_decref(ids);
        state_free(s);
}

static void unknown_commands(void **unused) {
        struct state *s = state_new();
        struct err e = {0};
        json_t *res = NULL;
        /* From a newer master: skipped when flagged ignorable… */
        assert_int_equal(
                apply(s, json_pack("{s:s,s:i,s:b}", "type", "agent_hint", "v", 1, "ignorable", 1), &res, &e),
                0);
        assert_null(res);
        assert_null(e.msg);
        /* …an error otherwise. */
        assert_int_equal(apply(s, json_pack("{s:s,s:i}", "type", "agent_hint", "v", 1), &res, &e), -ENOTSUP);
        assert_non_null(strstr(e.msg, "agent_hint"));
        /* A known type in a version this master does not implement. */
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:i,s:o,s:s}", "type", "app_create", "v", 2, "app",
                                         canonical("/v2", 1, "sleep 1", 0), "ts", "2024-01-01T00:00:00.000Z"),
                               NULL, &e),
                         -ENOTSUP);
        assert_int_equal(
                apply(s,
                      json_pack("{s:s,s:i,s:b,s:o,s:s}", "type", "app_create", "v", 2, "ignorable", 1, "app",
                                canonical("/v2", 1, "sleep 1", 0), "ts", "2024-01-01T00:00:00.000Z"),
                      NULL, &e),
                0);
        assert_int_equal(state_app_count(s), 0);
        /* Garbage. */
        assert_int_equal(apply(s, json_pack("{s:i}", "v", 1), NULL, &e), -EINVAL);
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_create", "v", "1"), NULL, &e), -EINVAL);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:o}", "type", "app_create", "app",
                                         canonical("/nots", 1, "sleep 1", 0)),
                               NULL, &e),
                         -EINVAL);
        assert_int_equal(state_app_count(s), 0);
        err_release(&e);
        state_free(s);
}

static void follower_builds_no_result(void **unused) {
        struct state *s = state_new();
        char ts[25];
        ts_at(T0, ts);
        /* No result pointer, no err: nothing leaks, the state still changes. */
        assert_int_equal(store_fsm_apply(s, NULL, NULL, NULL) < 0, true);
        json_t *cmd = json_pack("{s:s,s:o,s:s}", "type", "app_create", "app",
                                canonical("/f", 1, "sleep 1", 1), "ts", ts);
        assert_int_equal(store_fsm_apply(s, cmd, NULL, NULL), 0);
        assert_int_equal(store_fsm_apply(s, cmd, NULL, NULL), -ERR_CONFLICT);
        json_decref(cmd);
        assert_non_null(state_app_get(s, "/f"));
        state_free(s);
}

static void master_registry(void **unused) {
        struct state *s = state_new();
        struct err e = {0};
        assert_int_equal(
                apply(s,
                      json_pack("{s:s,s:i,s:I,s:s,s:s}", "type", "master_set", "v", 1, "raft_id",
                                (json_int_t)42, "raft_addr", "10.0.0.1:8090", "http_addr", "10.0.0.1:8080"),
                      NULL, &e),
                0);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:I,s:s,s:s}", "type", "master_set", "raft_id", (json_int_t)42,
                                         "raft_addr", "10.0.0.1:8090", "http_addr", "10.0.0.1:9090"),
                               NULL, &e),
                         0);
        assert_int_equal(apply(s,
                               json_pack("{s:s,s:I,s:s,s:s}", "type", "master_set", "raft_id", (json_int_t)7,
                                         "raft_addr", "10.0.0.2:8090", "http_addr", "10.0.0.2:8080"),
                               NULL, &e),
                         0);
        assert_int_equal(state_master_count(s), 2);
        const struct state_master *m = state_master_by_raft_addr(s, "10.0.0.1:8090");
        assert_non_null(m);
        assert_string_equal(m->http_addr, "10.0.0.1:9090");
        assert_ptr_equal(state_master_by_id(s, 7), state_master_by_raft_addr(s, "10.0.0.2:8090"));
        assert_null(state_master_by_id(s, 8));
        assert_int_equal(
                apply(s, json_pack("{s:s,s:i,s:s}", "type", "master_set", "raft_id", 0, "raft_addr", "x:1"),
                      NULL, &e),
                -EINVAL);
        err_release(&e);
        state_free(s);
}

static void snapshot_round_trip(void **unused) {
        struct state *s = state_new();
        struct err e = {0};
        char id[16];
        for (int i = 0; i < 10; i++) {
                snprintf(id, sizeof id, "/s%d", i);
                assert_int_equal(create(s, id, i % 3, T0 + i, NULL), 0);
                for (int j = 0; j < i; j++)
                        assert_int_equal(update(s, id, json_pack("{s:i}", "instances", j + 2), true, false,
                                                T0 + 1000 * (j + 1), NULL, &e),
                                         0);
        }
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "app_delete", "id", "/s4"), NULL, &e), 0);
        assert_int_equal(
                apply(s,
                      json_pack("{s:s,s:I,s:s,s:s}", "type", "master_set", "raft_id",
                                (json_int_t)((INT64_C(1) << 53) - 1), "raft_addr", "a:1", "http_addr", "a:2"),
                      NULL, &e),
                0);

        void *buf = NULL;
        size_t len = 0;
        assert_int_equal(snapshot_encode(s, &buf, &len), 0);
        struct state *t = state_new();
        assert_int_equal(snapshot_restore(t, buf, len, &e), 0);
        json_t *a = state_to_json(s), *b = state_to_json(t);
        assert_true(json_equal(a, b));
        json_decref(a);
        json_decref(b);
        assert_int_equal(state_app_count(t), 9);
        assert_int_equal(state_master_by_id(t, (UINT64_C(1) << 53) - 1)->raft_id, (UINT64_C(1) << 53) - 1);
        for (int p = 0; p < 65536; p++)
                assert_int_equal(state_port_taken(s, p), state_port_taken(t, p));
        /* Restored versions keep increasing from where they were. */
        snprintf(id, sizeof id, "/s9");
        assert_int_equal(state_app_version_ms(s, id), state_app_version_ms(t, id));

        /* A bad snapshot leaves the state untouched. */
        json_t *before = state_to_json(t);
        static const char *const bad[] = {
                "{\"format\":1,\"state\":{\"apps\":[{\"id\":\"/x\"}]}}",
                "{\"format\":1,\"state\":{\"apps\":[{\"id\":\"/x\",\"versions\":[{\"id\":\"/"
                "y\",\"version\":\"v\"}]}]}}",
                "{\"format\":1,\"state\":{\"masters\":[{\"raft_addr\":\"a:1\"}]}}",
                "{\"format\":1,\"state\":[]}",
                "{\"format\":2,\"state\":{}}",
                "not json",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_true(snapshot_restore(t, bad[i], strlen(bad[i]), &e) < 0);
        json_t *after = state_to_json(t);
        assert_true(json_equal(before, after));
        json_decref(before);
        json_decref(after);

        /* An empty state round-trips to an empty state. */
        struct state *empty = state_new();
        raft_free(buf);
        assert_int_equal(snapshot_encode(empty, &buf, &len), 0);
        assert_int_equal(snapshot_restore(t, buf, len, &e), 0);
        assert_int_equal(state_app_count(t), 0);
        assert_int_equal(state_master_count(t), 0);
        for (int p = STATE_SERVICE_PORT_MIN; p <= STATE_SERVICE_PORT_MAX; p++)
                assert_false(state_port_taken(t, p));
        raft_free(buf);
        err_release(&e);
        state_free(empty);
        state_free(t);
        state_free(s);
}

#define STREAM_CLUSTER "11111111-2222-4333-8444-555555555555"

/* A deterministic mix of every command, errors included. */
static json_t *command_stream(size_t n) {
        json_t *cmds = json_array();
        uint32_t x = 12345;
        char id[16], ts[25];
        for (size_t i = 0; i < n; i++) {
                x = x * 1103515245 + 12345;
                snprintf(id, sizeof id, "/m%u", (x >> 8) % 12);
                /* Some clocks go backwards: versions must still increase. */
                ts_at(T0 + (int64_t)i * 10 - (int64_t)((x >> 4) % 3) * 25, ts);
                json_t *c;
                char agent[64], inst[32];
                snprintf(agent, sizeof agent, "%s-S%u", STREAM_CLUSTER, (x >> 5) % 5);
                snprintf(inst, sizeof inst, "%s.i%u", id, (x >> 11) % 6);
                static const char *const states[] = {"TASK_STARTING", "TASK_RUNNING",     "TASK_KILLED",
                                                     "TASK_FAILED",   "TASK_UNREACHABLE", "TASK_STAGING"};
                switch ((x >> 16) % 12) {
                case 0:
                        c = json_pack("{s:s,s:o,s:s}", "type", "app_create", "app",
                                      canonical(id, 1, "sleep 1", (int)((x >> 3) % 3)), "ts", ts);
                        break;
                case 1:
                        c = json_pack("{s:s,s:s,s:{s:i},s:b,s:b,s:s}", "type", "app_update", "id", id,
                                      "update", "instances", (int)(x % 7), "partial", 1, "create", 0, "ts",
                                      ts);
                        break;
                case 2:
                        c = json_pack("{s:s,s:s,s:{s:s,s:[{s:i}]},s:b,s:b,s:s}", "type", "app_update", "id",
                                      id, "update", "cmd", "sleep 2", "portDefinitions", "port", 0, "partial",
                                      0, "create", 1, "ts", ts);
                        break;
                case 3:
                        c = json_pack("{s:s,s:s}", "type", "app_delete", "id", id);
                        break;
                case 4:
                        c = json_pack("{s:s,s:s,s:s,s:s}", "type", "app_rollback", "id", id, "to",
                                      "2023-11-14T22:13:20.000Z", "ts", ts);
                        break;
                case 5:
                        c = json_pack("{s:s,s:I,s:s,s:s}", "type", "master_set", "raft_id",
                                      (json_int_t)(x % 3 + 1), "raft_addr", "h:1", "http_addr", ts);
                        break;
                case 6:
                        /* New agents and re-registrations (of known, unknown and gone ids). */
                        c = json_pack("{s:s,s:{s:s?,s:s,s:{s:f,s:f,s:[[i,i]]},s:{s:s}},s:s,s:s}", "type",
                                      "agent_register", "agent", "id", (x & 1) ? agent : NULL, "hostname", ts,
                                      "resources", "cpus", (double)(x % 16), "mem", 1024.0, "ports", 31000,
                                      32000, "attributes", "rack", id, "clusterId", STREAM_CLUSTER, "ts", ts);
                        break;
                case 7: {
                        static const char *const as[] = {"active", "unreachable", "draining", "active",
                                                         "gone"};
                        c = json_pack("{s:s,s:s,s:s,s:s}", "type", "agent_state", "id", agent, "state",
                                      as[(x >> 20) % 5], "ts", ts);
                        break;
                }
                case 8:
                case 9:
                        c = json_pack("{s:s,s:[[s,s,s,s,[i]],{s:s,s:s,s:s,s:s,s:f}],s:s}", "type",
                                      "instances_place", "instances", inst, id, ts, agent,
                                      31000 + (int)(x % 100), "id", ts, "appId", id, "version",
                                      "2023-11-14T22:13:20.000Z", "agentId", agent, "cpus",
                                      0.1 * (double)(x % 5), "ts", ts);
                        break;
                case 10:
                        c = json_pack("{s:s,s:[[s,s,I,s,b],{s:s,s:s}],s:s}", "type", "instances_status",
                                      "updates", inst, states[(x >> 20) % 6], (json_int_t)i, ts, (int)(x & 1),
                                      "id", inst, "state", states[(x >> 23) % 6], "ts", ts);
                        break;
                default:
                        if (x & 2)
                                c = json_pack("{s:s,s:[s,s],s:b}", "type", "instances_expunge", "ids", inst,
                                              ts, "force", (int)((x >> 3) & 1));
                        else
                                c = json_pack("{s:s,s:[s],s:s}", "type", "instances_goal", "ids", inst,
                                              "goal", (x & 4) ? "stopped" : "running");
                        break;
                }
                json_array_append_new(cmds, c);
        }
        return cmds;
}

static void apply_all(struct state *s, const json_t *cmds, size_t from, size_t to) {
        for (size_t i = from; i < to; i++) {
                struct err e = {0};
                json_t *res = NULL;
                (void)store_fsm_apply(s, json_array_get(cmds, i), (i % 2) ? &res : NULL, &e);
                json_decref(res);
                err_release(&e);
        }
}

static int same_agent(const struct agent *x, void *data) {
        const struct agent *y = state_agent_get(data, x->id);
        assert_non_null(y);
        assert_int_equal(x->n_instances, y->n_instances);
        assert_true(x->used_cpus == y->used_cpus && x->used_mem == y->used_mem);
        assert_true(x->used_cpus >= 0 && x->used_mem >= 0);
        return 0;
}

/* Same commands in, same state out; and a snapshot plus the rest of the log is the same too. */
static void replay_is_deterministic(void **unused) {
        enum { N = 600, CUT = 257 };
        json_t *cmds = command_stream(N);
        struct state *a = state_new(), *b = state_new(), *c = state_new();
        apply_all(a, cmds, 0, N);
        apply_all(b, cmds, 0, CUT);
        void *buf = NULL;
        size_t len = 0;
        assert_int_equal(snapshot_encode(b, &buf, &len), 0);
        struct err e = {0};
        assert_int_equal(snapshot_restore(c, buf, len, &e), 0);
        raft_free(buf);
        apply_all(b, cmds, CUT, N);
        apply_all(c, cmds, CUT, N);
        json_t *ja = state_to_json(a), *jb = state_to_json(b), *jc = state_to_json(c);
        assert_true(json_equal(ja, jb));
        assert_true(json_equal(ja, jc));
        assert_true(state_app_count(a) > 0);
        /* Versions strictly increase within every app's history. */
        size_t i, j;
        json_t *app, *v;
        json_array_foreach(json_object_get(ja, "apps"), i, app) {
                int64_t prev = -1, ms;
                json_array_foreach(json_object_get(app, "versions"), j, v) {
                        assert_int_equal(
                                time_parse_iso(json_string_value(json_object_get(v, "version")), &ms), 0);
                        assert_true(ms > prev);
                        prev = ms;
                }
        }
        for (int p = 0; p < 65536; p++)
                assert_int_equal(state_port_taken(a, p), state_port_taken(c, p));
        /* Derived data (used resources, counts) agrees too, whether replayed or restored. */
        assert_true(state_agent_count(a) > 0);
        assert_true(state_instance_count(a) > 0);
        state_agents_foreach(a, same_agent, c);
        state_agents_foreach(c, same_agent, b);
        for (int k = 0; k < 12; k++) {
                char app_id[16];
                struct state_app_counts ka, kc;
                snprintf(app_id, sizeof app_id, "/m%d", k);
                state_app_counts(a, app_id, &ka);
                state_app_counts(c, app_id, &kc);
                assert_memory_equal(&ka, &kc, sizeof ka);
                const json_t *fa = state_app_last_failure(a, app_id), *fc = state_app_last_failure(c, app_id);
                assert_true((!fa && !fc) || json_equal(fa, fc));
        }
        json_decref(ja);
        json_decref(jb);
        json_decref(jc);
        json_decref(cmds);
        state_free(a);
        state_free(b);
        state_free(c);
}

static void version_lookup_by_instant(void **unused) {
        struct state *s = state_new();
        assert_int_equal(create(s, "/web", 0, T0, NULL), 0);
        char t[25];
        ts_at(T0, t);
        const json_t *v = state_app_at_version(s, "/web", t);
        assert_non_null(v);
        /* The same instant with an explicit offset. */
        char alt[40];
        snprintf(alt, sizeof alt, "%.23s+00:00", t);
        assert_ptr_equal(state_app_at_version(s, "/web", alt), v);
        assert_null(state_app_at_version(s, "/web", "garbage"));
        assert_null(state_app_at_version(s, "/nope", t));
        state_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(create_stores_version_and_result),
                cmocka_unit_test(create_duplicate_conflicts),
                cmocka_unit_test(update_missing_app),
                cmocka_unit_test(scale_keeps_last_config_change),
                cmocka_unit_test(full_update_replaces_definition),
                cmocka_unit_test(invalid_update_changes_nothing),
                cmocka_unit_test(versions_strictly_increase),
                cmocka_unit_test(history_is_bounded),
                cmocka_unit_test(rollback),
                cmocka_unit_test(delete_removes_history_and_ports),
                cmocka_unit_test(service_ports_unique),
                cmocka_unit_test(service_ports_follow_updates),
                cmocka_unit_test(foreach_in_creation_order),
                cmocka_unit_test(unknown_commands),
                cmocka_unit_test(follower_builds_no_result),
                cmocka_unit_test(master_registry),
                cmocka_unit_test(snapshot_round_trip),
                cmocka_unit_test(version_lookup_by_instant),
                cmocka_unit_test(replay_is_deterministic),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
