/* test_model_group.c — group trees as pure functions: GroupUpdate bodies (relative ids, replace
 * semantics, kept parts, errors with Marathon's paths), scaleBy, diffs into app changes, their
 * dependency order (app and group dependencies, cycles), dryRun steps, version restore. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/util.h"
#include "model/app.h"
#include "model/group.h"

static json_t *parse(const char *text) {
        json_error_t je;
        json_t *j = json_loads(text, 0, &je);
        if (!j)
                fail_msg("bad test JSON: %s", je.text);
        return j;
}

/* Applies body to current at path; fails the test on error. */
static json_t *apply_ok(const json_t *current, const char *path, const char *body) {
        json_t *upd = parse(body), *out = NULL;
        struct err e = { 0 };
        int r = group_update_apply(current, path, upd, &out, &e);
        if (r < 0)
                fail_msg("group_update_apply: %s %s", err_msg(&e), e.details ? json_dumps(e.details, 0) : "");
        json_decref(upd);
        return out;
}

static int apply_err(const json_t *current, const char *path, const char *body, struct err *e) {
        json_t *upd = parse(body), *out = NULL;
        int r = group_update_apply(current, path, upd, &out, e);
        assert_null(out);
        json_decref(upd);
        return r;
}

static const char *detail_path(const struct err *e) {
        return json_string_value(json_object_get(json_array_get(e->details, 0), "path"));
}

static const char *detail_msg(const struct err *e) {
        return json_string_value(json_array_get(json_object_get(json_array_get(e->details, 0), "errors"), 0));
}

static json_t *app_at(const json_t *tree, size_t i) {
        return json_array_get(json_object_get(tree, "apps"), i);
}

static const char *id_of(const json_t *j) {
        return json_string_value(json_object_get(j, "id"));
}

/* Changes as "Action app" strings joined by spaces (stable to compare). */
static void assert_changes(const json_t *changes, const char *want) {
        char buf[1024] = "";
        size_t i;
        json_t *ch;
        json_array_foreach(changes, i, ch) {
                if (i)
                        strcat(buf, " ");
                strcat(buf, json_string_value(json_object_get(ch, "action")));
                strcat(buf, ":");
                strcat(buf, json_string_value(json_object_get(ch, "app")));
        }
        assert_string_equal(buf, want);
}

#define SHOP                                                                                                     \
        "{\"apps\":[{\"id\":\"front\",\"cmd\":\"sleep 1\"}],"                                                 \
        "\"groups\":[{\"id\":\"back\",\"apps\":[{\"id\":\"db\",\"cmd\":\"sleep 1\"},"                          \
        "{\"id\":\"/shop/back/api\",\"cmd\":\"sleep 1\",\"dependencies\":[\"/shop/back/db\"]}]},"             \
        "{\"id\":\"./edge\",\"dependencies\":[\"../back\"],\"apps\":[{\"id\":\"lb\",\"cmd\":\"sleep 1\"}]}]}"

static void relative_ids_resolve_against_their_group(void **unused) {
        json_t *t = apply_ok(NULL, "/shop", SHOP);
        assert_string_equal(id_of(t), "/shop");
        assert_string_equal(id_of(app_at(t, 0)), "/shop/front");
        json_t *back = json_array_get(json_object_get(t, "groups"), 0);
        json_t *edge = json_array_get(json_object_get(t, "groups"), 1);
        assert_string_equal(id_of(back), "/shop/back");
        assert_string_equal(id_of(app_at(back, 0)), "/shop/back/db");
        assert_string_equal(id_of(app_at(back, 1)), "/shop/back/api");
        assert_string_equal(id_of(edge), "/shop/edge");
        assert_string_equal(id_of(app_at(edge, 0)), "/shop/edge/lb");
        /* Group dependencies are stored absolute, relative to the group itself. */
        assert_string_equal(json_string_value(json_array_get(json_object_get(edge, "dependencies"), 0)), "/shop/back");
        /* Apps are full definitions: defaults applied. */
        assert_int_equal(json_integer_value(json_object_get(app_at(t, 0), "instances")), 1);
        json_decref(t);
}

static void listed_parts_replace_and_absent_parts_stay(void **unused) {
        json_t *cur = apply_ok(NULL, "/shop", SHOP);
        /* "apps" replaces the direct apps; groups stay. */
        json_t *t = apply_ok(cur, "/shop", "{\"apps\":[{\"id\":\"other\",\"cmd\":\"sleep 2\"}]}");
        assert_int_equal(json_array_size(json_object_get(t, "apps")), 1);
        assert_string_equal(id_of(app_at(t, 0)), "/shop/other");
        assert_int_equal(json_array_size(json_object_get(t, "groups")), 2);
        json_t *ch = group_diff(cur, t);
        assert_changes(ch, "StopApplication:/shop/front ScaleApplication:/shop/other");
        json_decref(ch);
        json_decref(t);
        /* "groups" replaces the subgroups; a listed one is updated from its current tree. */
        t = apply_ok(cur, "/shop", "{\"groups\":[{\"id\":\"edge\",\"dependencies\":[]}]}");
        assert_int_equal(json_array_size(json_object_get(t, "groups")), 1);
        json_t *edge = json_array_get(json_object_get(t, "groups"), 0);
        assert_int_equal(json_array_size(json_object_get(edge, "apps")), 1); /* kept */
        assert_int_equal(json_array_size(json_object_get(edge, "dependencies")), 0);
        ch = group_diff(cur, t);
        assert_changes(ch, "StopApplication:/shop/back/db StopApplication:/shop/back/api");
        json_decref(ch);
        json_decref(t);
        /* The same body again changes nothing. */
        t = apply_ok(cur, "/shop", SHOP);
        ch = group_diff(cur, t);
        assert_int_equal(json_array_size(ch), 0);
        json_decref(ch);
        json_decref(t);
        /* A changed command is a restart, a changed instance count a scale. */
        t = apply_ok(cur, "/shop",
                     "{\"apps\":[{\"id\":\"front\",\"cmd\":\"sleep 1\",\"instances\":4}],"
                     "\"groups\":[{\"id\":\"back\",\"apps\":[{\"id\":\"db\",\"cmd\":\"sleep 9\"},"
                     "{\"id\":\"api\",\"cmd\":\"sleep 1\",\"dependencies\":[\"/shop/back/db\"]}]},{\"id\":\"edge\"}]}");
        ch = group_diff(cur, t);
        assert_changes(ch, "ScaleApplication:/shop/front RestartApplication:/shop/back/db");
        json_decref(ch);
        json_decref(t);
        json_decref(cur);
}

static void bad_bodies_name_the_path(void **unused) {
        struct err e = { 0 };
        assert_int_equal(apply_err(NULL, "/g", "{\"apps\":[{\"id\":\"/elsewhere/x\",\"cmd\":\"sleep 1\"}]}", &e), -ERR_INVALID);
        assert_string_equal(detail_path(&e), "/apps(0)/id");
        assert_string_equal(detail_msg(&e), "identifier /elsewhere/x is not child of /g. Hint: use relative paths.");
        err_release(&e);
        assert_int_equal(apply_err(NULL, "/g", "{\"groups\":[{\"id\":\"a\",\"apps\":[{\"id\":\"x\",\"cpus\":\"lots\"}]}]}", &e),
                         -ERR_BAD_JSON);
        assert_string_equal(detail_path(&e), "/groups(0)/apps(0)/cpus");
        err_release(&e);
        assert_int_equal(apply_err(NULL, "/g", "{\"groups\":[{\"apps\":[]}]}", &e), -ERR_BAD_JSON);
        assert_string_equal(detail_path(&e), "/groups(0)/id");
        err_release(&e);
        assert_int_equal(apply_err(NULL, "/g", "{\"groups\":[{\"id\":\"/h\"}]}", &e), -ERR_INVALID);
        err_release(&e);
        assert_int_equal(apply_err(NULL, "/g", "{\"apps\":{}}", &e), -ERR_BAD_JSON);
        assert_string_equal(detail_path(&e), "/apps");
        err_release(&e);
        assert_int_equal(apply_err(NULL, "/g", "{\"dependencies\":[1]}", &e), -ERR_BAD_JSON);
        assert_string_equal(detail_path(&e), "/dependencies(0)");
        err_release(&e);
        assert_int_equal(apply_err(NULL, "/g/h", "{\"enforceRole\":true}", &e), -ERR_INVALID);
        err_release(&e);
        /* An id cannot be both an app and a group. */
        assert_int_equal(apply_err(NULL, "/g", "{\"apps\":[{\"id\":\"x\",\"cmd\":\"sleep 1\"}],\"groups\":[{\"id\":\"x\"}]}", &e),
                         -ERR_INVALID);
        assert_string_equal(detail_msg(&e), "Groups and Applications may not have the same identifier.");
        err_release(&e);
        assert_int_equal(apply_err(NULL, "/g", "{\"apps\":[{\"id\":\"x\",\"cmd\":\"sleep 1\"},{\"id\":\"/g/x\",\"cmd\":\"sleep 2\"}]}", &e),
                         -ERR_INVALID);
        assert_string_equal(detail_path(&e), "/apps(1)/id");
        err_release(&e);
        /* Nesting is bounded. */
        char deep[4096] = "{";
        for (int i = 0; i < GROUP_MAX_DEPTH + 2; i++)
                strcat(deep, "\"groups\":[{\"id\":\"g\",");
        strcat(deep, "\"apps\":[]");
        for (int i = 0; i < GROUP_MAX_DEPTH + 2; i++)
                strcat(deep, "}]");
        strcat(deep, "}");
        assert_int_equal(apply_err(NULL, "/g", deep, &e), -ERR_INVALID);
        err_release(&e);
}

static void scale_by_multiplies_every_app_rounding_up(void **unused) {
        json_t *cur = apply_ok(NULL, "/s",
                               "{\"apps\":[{\"id\":\"a\",\"cmd\":\"x y\",\"instances\":3}],"
                               "\"groups\":[{\"id\":\"b\",\"apps\":[{\"id\":\"c\",\"cmd\":\"x y\",\"instances\":0}]},"
                               "{\"id\":\"d\",\"apps\":[{\"id\":\"e\",\"cmd\":\"x y\",\"instances\":1}]}]}");
        json_t *t = NULL;
        struct err e = { 0 };
        assert_int_equal(group_scale(cur, 1.5, &t, &e), 0);
        assert_int_equal(json_integer_value(json_object_get(app_at(t, 0), "instances")), 5);
        json_t *ch = group_diff(cur, t);
        assert_changes(ch, "ScaleApplication:/s/a ScaleApplication:/s/d/e"); /* 0 stays 0 */
        json_decref(ch);
        /* The current tree is untouched. */
        assert_int_equal(json_integer_value(json_object_get(app_at(cur, 0), "instances")), 3);
        json_decref(t);
        assert_int_equal(group_scale(cur, -1, &t, &e), -ERR_INVALID);
        err_release(&e);
        assert_int_equal(group_scale(cur, 1e300, &t, &e), -ERR_INVALID);
        err_release(&e);
        json_decref(cur);
}

static void changes_follow_app_and_group_dependencies(void **unused) {
        json_t *t = apply_ok(NULL, "/shop", SHOP);
        json_t *ch = group_diff(NULL, t);
        struct err e = { 0 };
        assert_int_equal(group_order(ch, t, NULL, &e), 0);
        /* db and front first; api after db; lb after everything in /shop/back. */
        assert_changes(ch, "ScaleApplication:/shop/front ScaleApplication:/shop/back/db "
                           "ScaleApplication:/shop/back/api ScaleApplication:/shop/edge/lb");
        json_t *steps = group_steps(ch);
        /* Start (all new), then one step per layer. */
        assert_int_equal(json_array_size(steps), 4);
        json_t *first = json_object_get(json_array_get(steps, 0), "actions");
        assert_int_equal(json_array_size(first), 4);
        assert_string_equal(json_string_value(json_object_get(json_array_get(first, 0), "action")), "StartApplication");
        json_t *last = json_object_get(json_array_get(steps, 3), "actions");
        assert_string_equal(json_string_value(json_object_get(json_array_get(last, 0), "app")), "/shop/edge/lb");
        json_decref(steps);
        json_decref(ch);

        /* Removing everything: one stop step. */
        ch = group_diff(t, NULL);
        json_t *empty = group_tree_new("/shop");
        assert_int_equal(group_order(ch, empty, NULL, &e), 0);
        steps = group_steps(ch);
        assert_int_equal(json_array_size(steps), 1);
        assert_int_equal(json_array_size(json_object_get(json_array_get(steps, 0), "actions")), 4);
        json_decref(steps);
        json_decref(ch);
        json_decref(empty);

        /* A cycle closed by a group dependency alone is refused, though no app changes. */
        json_t *cyc = apply_ok(t, "/shop", "{\"groups\":[{\"id\":\"back\",\"dependencies\":[\"/shop/edge\"]},{\"id\":\"edge\"}]}");
        ch = group_diff(t, cyc);
        assert_int_equal(json_array_size(ch), 0);
        assert_int_equal(group_order(ch, cyc, NULL, &e), -ERR_INVALID);
        assert_string_equal(err_msg(&e), "Dependency graph has cyclic dependencies.");
        err_release(&e);
        json_decref(ch);
        json_decref(cyc);
        json_decref(t);
}

/* The state outside the subtree: one app /db that the subtree's app depends on, which itself
 * depends on nothing. */
static const json_t *outside_app(const char *id, void *data) {
        return streq(id, "/db") ? data : NULL;
}

static void dependencies_outside_the_subtree_count(void **unused) {
        json_t *db = parse("{\"id\":\"/db\",\"dependencies\":[]}");
        struct deploy_graph_ops outside = { .app_get = outside_app, .data = db };
        json_t *t = apply_ok(NULL, "/g", "{\"apps\":[{\"id\":\"a\",\"cmd\":\"x y\",\"dependencies\":[\"/db\"]},"
                                          "{\"id\":\"b\",\"cmd\":\"x y\"}]}");
        json_t *ch = group_diff(NULL, t);
        struct err e = { 0 };
        assert_int_equal(group_order(ch, t, &outside, &e), 0);
        assert_changes(ch, "ScaleApplication:/g/b ScaleApplication:/g/a");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(ch, 1), "layer")), 1);
        json_decref(ch);
        json_decref(t);
        json_decref(db);
}

static void version_restore_is_a_diff_to_the_old_tree(void **unused) {
        json_t *v1 = apply_ok(NULL, "/r", "{\"apps\":[{\"id\":\"a\",\"cmd\":\"sleep 1\"}]}");
        json_t *v2 = apply_ok(v1, "/r", "{\"apps\":[{\"id\":\"a\",\"cmd\":\"sleep 2\"},{\"id\":\"b\",\"cmd\":\"sleep 1\"}]}");
        json_t *ch = group_diff(v2, v1);
        assert_changes(ch, "StopApplication:/r/b RestartApplication:/r/a");
        json_t *want = json_object_get(json_array_get(ch, 1), "new");
        assert_string_equal(json_string_value(json_object_get(want, "cmd")), "sleep 1");
        json_decref(ch);
        json_decref(v1);
        json_decref(v2);
}

static void service_ports_are_kept_across_a_replace(void **unused) {
        json_t *cur = apply_ok(NULL, "/p", "{\"apps\":[{\"id\":\"a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":0}]}]}");
        /* The store assigned port 10005 to the stored app. */
        json_t *stored = app_at(cur, 0);
        json_object_set_new(json_array_get(json_object_get(stored, "portDefinitions"), 0), "port", json_integer(10005));
        json_t *t = apply_ok(cur, "/p", "{\"apps\":[{\"id\":\"a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":0}]}]}");
        json_t *ch = group_diff(cur, t);
        assert_int_equal(json_array_size(ch), 0); /* same definition: port 0 means "keep mine" */
        json_decref(ch);
        json_decref(t);
        json_decref(cur);
}

static void records_cover_every_group(void **unused) {
        json_t *t = apply_ok(NULL, "/shop", SHOP);
        json_t *rec = group_records(t);
        assert_int_equal(json_object_size(rec), 3);
        assert_non_null(json_object_get(rec, "/shop"));
        assert_string_equal(json_string_value(json_array_get(
                                    json_object_get(json_object_get(rec, "/shop/edge"), "dependencies"), 0)),
                            "/shop/back");
        json_decref(rec);
        json_decref(t);
        assert_true(group_path_under("/a/b", "/a"));
        assert_false(group_path_under("/ab", "/a"));
        assert_false(group_path_under("/a", "/a"));
        assert_true(group_path_under("/a", "/"));
        assert_false(group_path_under("/", "/"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(relative_ids_resolve_against_their_group),
                cmocka_unit_test(listed_parts_replace_and_absent_parts_stay),
                cmocka_unit_test(bad_bodies_name_the_path),
                cmocka_unit_test(scale_by_multiplies_every_app_rounding_up),
                cmocka_unit_test(changes_follow_app_and_group_dependencies),
                cmocka_unit_test(dependencies_outside_the_subtree_count),
                cmocka_unit_test(version_restore_is_a_diff_to_the_old_tree),
                cmocka_unit_test(service_ports_are_kept_across_a_replace),
                cmocka_unit_test(records_cover_every_group),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
