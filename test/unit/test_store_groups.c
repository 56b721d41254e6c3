/* test_store_groups.c — group records in the state machine: group_update/group_delete/
 * group_version, trees built from records and apps, versions and restore, group dependencies
 * in deployment layers, snapshot round trip, bad commands refused without change. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "model/app.h"
#include "model/group.h"
#include "store/deployments.h"
#include "store/groups.h"
#include "store/state.h"
#include "store/store_fsm.h"

static int apply(struct state *s, json_t *cmd) {
        struct err e = { 0 };
        int r = store_fsm_apply(s, cmd, NULL, &e);
        json_decref(cmd);
        err_release(&e);
        return r;
}

static void put_app(struct state *s, const char *id, const char *ts, const char *dep, json_t *deps) {
        json_t *in = json_pack("{s:s,s:s,s:i,s:o}", "id", id, "cmd", "sleep 1", "instances", 1, "dependencies",
                               deps ? deps : json_array());
        json_t *doc = NULL;
        struct err e = { 0 };
        assert_int_equal(app_normalize(in, "/", &doc, &e), 0);
        json_decref(in);
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:o,s:b,s:b,s:s,s:s}", "type", "app_update", "id", id, "update",
                                            doc, "partial", 0, "create", 1, "ts", ts, "deploymentId", dep)),
                         0);
}

static void group_update(struct state *s, const char *path, json_t *groups, const char *ts) {
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:o,s:s}", "type", "group_update", "path", path, "groups",
                                            groups, "ts", ts)),
                         0);
}

static void group_version(struct state *s, const char *path, const char *ts) {
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:s}", "type", "group_version", "path", path, "ts", ts)), 0);
}

static void empty_group_exists_with_its_parents(void **unused) {
        struct state *s = state_new();
        assert_false(state_group_known(s, "/a"));
        assert_true(state_group_known(s, "/"));
        group_update(s, "/a/b", json_pack("{s:{s:[s]}}", "/a/b", "dependencies", "/db"), "2024-01-01T00:00:00.000Z");
        assert_true(state_group_known(s, "/a/b"));
        assert_true(state_group_known(s, "/a"));
        json_t *tree = state_group_tree(s, "/a");
        assert_non_null(tree);
        json_t *sub = json_array_get(json_object_get(tree, "groups"), 0);
        assert_string_equal(json_string_value(json_object_get(sub, "id")), "/a/b");
        assert_string_equal(json_string_value(json_array_get(json_object_get(sub, "dependencies"), 0)), "/db");
        json_decref(tree);
        /* An app cannot take a group's path. */
        json_t *in = json_pack("{s:s,s:s}", "id", "/a/b", "cmd", "sleep 1"), *doc = NULL;
        assert_int_equal(app_normalize(in, "/", &doc, NULL), 0);
        assert_int_equal(apply(s, json_pack("{s:s,s:o,s:s}", "type", "app_create", "app", doc, "ts",
                                            "2024-01-01T00:00:01.000Z")),
                         -ERR_CONFLICT);
        json_decref(in);
        /* Delete removes the subtree's records. */
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:s}", "type", "group_delete", "path", "/a", "ts",
                                            "2024-01-01T00:00:02.000Z")),
                         0);
        assert_false(state_group_known(s, "/a/b"));
        assert_false(state_group_known(s, "/a"));
        state_free(s);
}

static void bad_commands_change_nothing(void **unused) {
        struct state *s = state_new();
        const char *ts = "2024-01-01T00:00:00.000Z";
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:{},s:s}", "type", "group_update", "path", "rel", "groups", "ts", ts)),
                         -EINVAL);
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:{s:{}},s:s}", "type", "group_update", "path", "/a", "groups",
                                            "/b", "ts", ts)),
                         -EINVAL);
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:{s:{s:[i]}},s:s}", "type", "group_update", "path", "/a",
                                            "groups", "/a", "dependencies", 3, "ts", ts)),
                         -EINVAL);
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:{},s:s}", "type", "group_update", "path", "/a/../b", "groups",
                                            "ts", ts)),
                         -EINVAL);
        assert_int_equal(apply(s, json_pack("{s:s,s:s}", "type", "group_version", "path", "/a")), -EINVAL);
        assert_false(state_group_known(s, "/a"));
        /* A group under an app. */
        put_app(s, "/app", ts, "d1", NULL);
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:{},s:s}", "type", "group_update", "path", "/app/x", "groups",
                                            "ts", ts)),
                         -ERR_CONFLICT);
        state_free(s);
}

static void versions_list_and_restore_the_subtree(void **unused) {
        struct state *s = state_new();
        const char *v1 = "2024-01-01T00:00:01.000Z", *v2 = "2024-01-01T00:00:02.000Z";
        group_update(s, "/g", json_pack("{s:{s:[]}}", "/g", "dependencies"), v1);
        put_app(s, "/g/a", v1, "d1", NULL);
        group_version(s, "/g", v1);
        group_update(s, "/g", json_pack("{s:{s:[s]}}", "/g", "dependencies", "/x"), v2);
        put_app(s, "/g/b", v2, "d2", NULL);
        group_version(s, "/g", v2);

        json_t *versions = state_group_versions(s, "/g");
        assert_int_equal(json_array_size(versions), 2);
        assert_string_equal(json_string_value(json_array_get(versions, 0)), v2);
        json_decref(versions);
        versions = state_group_versions(s, "/");
        assert_int_equal(json_array_size(versions), 0); /* no change wrote the whole root */
        json_decref(versions);

        json_t *old = NULL;
        struct err e = { 0 };
        assert_int_equal(state_group_tree_at(s, "/g", v1, &old, &e), 0);
        assert_int_equal(json_array_size(json_object_get(old, "apps")), 1);
        assert_int_equal(json_array_size(json_object_get(old, "dependencies")), 0);
        assert_string_equal(json_string_value(json_object_get(old, "version")), v1);
        /* Restoring = diffing the current tree into the old one. */
        json_t *cur = state_group_tree(s, "/g");
        json_t *changes = group_diff(cur, old);
        assert_int_equal(json_array_size(changes), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(changes, 0), "app")), "/g/b");
        assert_string_equal(json_string_value(json_object_get(json_array_get(changes, 0), "action")), "StopApplication");
        json_decref(changes);
        json_decref(cur);
        json_decref(old);
        assert_int_equal(state_group_tree_at(s, "/g", "2020-01-01T00:00:00.000Z", &old, &e), -ERR_NOT_FOUND);
        assert_non_null(strstr(err_msg(&e), "not available in version"));
        err_release(&e);

        /* The history is bounded. */
        for (int i = 0; i < GROUP_MAX_VERSIONS + 5; i++) {
                char ts[32];
                snprintf(ts, sizeof ts, "2024-02-01T00:%02d:%02d.000Z", i / 60, i % 60);
                group_version(s, "/g", ts);
        }
        versions = state_group_versions(s, "/g");
        assert_int_equal(json_array_size(versions), GROUP_MAX_VERSIONS);
        json_decref(versions);
        state_free(s);
}

static void group_dependencies_order_the_deployment(void **unused) {
        struct state *s = state_new();
        const char *ts = "2024-01-01T00:00:01.000Z";
        /* /front depends on group /back: its app lands in a later step than /back's. */
        group_update(s, "/", json_pack("{s:{s:[]},s:{s:[]},s:{s:[s]}}", "/", "dependencies", "/back", "dependencies",
                                       "/front", "dependencies", "/back"),
                     ts);
        put_app(s, "/back/db", ts, "dep", NULL);
        put_app(s, "/front/web", ts, "dep", NULL);
        const json_t *rec = state_deployment_get(s, "dep");
        assert_non_null(rec);
        enum deploy_action a;
        unsigned db = deployment_app_step(rec, "/back/db", &a), web = deployment_app_step(rec, "/front/web", &a);
        assert_true(db > 0 && web > db);
        /* A second deployment touching a locked app is refused unless forced. */
        json_t *in = json_pack("{s:s,s:s,s:i}", "id", "/back/db", "cmd", "sleep 1", "instances", 3), *doc = NULL;
        assert_int_equal(app_normalize(in, "/", &doc, NULL), 0);
        json_decref(in);
        assert_int_equal(apply(s, json_pack("{s:s,s:s,s:O,s:b,s:b,s:s,s:s}", "type", "app_update", "id", "/back/db",
                                            "update", doc, "partial", 0, "create", 1, "ts", ts, "deploymentId", "other")),
                         -ERR_CONFLICT);
        json_decref(doc);
        state_free(s);
}

static void snapshot_keeps_records_and_history(void **unused) {
        struct state *s = state_new();
        group_update(s, "/a", json_pack("{s:{s:[s],s:b}}", "/a", "dependencies", "/z", "enforceRole", 1),
                     "2024-01-01T00:00:01.000Z");
        group_version(s, "/a", "2024-01-01T00:00:01.000Z");
        json_t *doc = state_to_json(s);
        struct state *t = state_new();
        assert_int_equal(state_from_json(t, doc, NULL), 0);
        assert_true(state_group_known(t, "/a"));
        assert_true(json_is_true(json_object_get(state_group_get(t, "/a"), "enforceRole")));
        json_t *v = state_group_versions(t, "/a");
        assert_int_equal(json_array_size(v), 1);
        json_decref(v);
        /* A malformed part is refused and the state stays as it was. */
        json_object_set_new(doc, "groups", json_pack("{s:[],s:[]}", "records", "history"));
        assert_int_equal(state_from_json(t, doc, NULL), -EINVAL);
        assert_true(state_group_known(t, "/a"));
        json_decref(doc);
        state_free(t);
        state_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(empty_group_exists_with_its_parents),
                cmocka_unit_test(bad_commands_change_nothing),
                cmocka_unit_test(versions_list_and_restore_the_subtree),
                cmocka_unit_test(group_dependencies_order_the_deployment),
                cmocka_unit_test(snapshot_keeps_records_and_history),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
