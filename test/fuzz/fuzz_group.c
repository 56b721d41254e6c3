/* fuzz_group.c — group bodies arrive in POST/PUT /v2/groups[/{id}]. Applying one to nothing
 * and to a stored tree, scaling, diffing and ordering the result must never crash, hang or
 * leak, and must keep their contracts: every app of a result sits directly under its group and
 * normalises to itself, errors carry Marathon's details, a tree diffed against itself changes
 * nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/util.h"
#include "model/app.h"
#include "model/app_id.h"
#include "model/group.h"

static const char current_src[] =
        "{\"apps\":[{\"id\":\"web\",\"cmd\":\"sleep 1\",\"instances\":2,\"portDefinitions\":[{\"port\":0}]}],"
        "\"groups\":[{\"id\":\"db\",\"dependencies\":[\"../cache\"],\"apps\":[{\"id\":\"pg\",\"cmd\":\"sleep 1\"}]},"
        "{\"id\":\"cache\",\"apps\":[{\"id\":\"redis\",\"cmd\":\"sleep 1\",\"dependencies\":[\"/shop/db\"]}]}]}";

static void fail(const char *what) {
        (void)what;
        abort();
}

static void check_error(int r, const struct err *e) {
        if (r != -ERR_INVALID && r != -ERR_BAD_JSON)
                fail("unexpected error code");
        if (!e->msg)
                fail("error without a message");
        if (!json_is_array(e->details) || json_array_size(e->details) == 0)
                fail("error without details");
}

static void check_tree(const json_t *tree) {
        const char *gid = json_string_value(json_object_get(tree, "id"));
        if (!gid || gid[0] != '/')
                fail("group without an absolute id");
        size_t i;
        json_t *el;
        json_array_foreach(json_object_get(tree, "apps"), i, el) {
                const char *id = json_string_value(json_object_get(el, "id"));
                if (!id)
                        fail("app without id");
                char *parent = app_id_parent(id);
                if (!streq(parent, gid))
                        fail("app not directly under its group");
                free(parent);
                json_t *again = NULL;
                struct err e = { 0 };
                if (app_normalize(el, "/", &again, &e) < 0 || !json_equal(el, again))
                        fail("app of a tree does not normalise to itself");
                json_decref(again);
                err_release(&e);
        }
        json_array_foreach(json_object_get(tree, "groups"), i, el) {
                char *parent = app_id_parent(json_string_value(json_object_get(el, "id")) ?: "/");
                if (!streq(parent, gid))
                        fail("subgroup not directly under its group");
                free(parent);
                check_tree(el);
        }
}

static void exercise(const json_t *current, const json_t *target) {
        json_t *same = group_diff(target, target);
        if (json_array_size(same) != 0)
                fail("a tree differs from itself");
        json_decref(same);
        json_t *ch = group_diff(current, target);
        struct err e = { 0 };
        if (group_order(ch, target, NULL, &e) == 0)
                json_decref(group_steps(ch));
        else if (e.code != -ERR_INVALID)
                fail("order failed with an unexpected code");
        err_release(&e);
        json_decref(ch);
        json_decref(group_records(target));
        json_t *scaled = NULL;
        if (group_scale(target, 1.5, &scaled, &e) == 0)
                json_decref(scaled);
        err_release(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_error_t je;
        json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
        if (!in)
                return 0;
        struct err e = { 0 };
        json_t *current = NULL, *src = json_loads(current_src, 0, NULL);
        if (group_update_apply(NULL, "/shop", src, &current, &e) < 0)
                fail("fixture group is invalid");
        json_decref(src);

        static const char *const paths[] = { "/", "/shop", "/shop/db" };
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
                const json_t *base = streq(paths[i], "/shop") ? current : NULL;
                json_t *out = NULL;
                int r = group_update_apply(base, paths[i], in, &out, &e);
                if (r == 0) {
                        if (!streq(json_string_value(json_object_get(out, "id")), paths[i]))
                                fail("tree at the wrong path");
                        check_tree(out);
                        exercise(base, out);
                        json_decref(out);
                } else {
                        check_error(r, &e);
                        if (out)
                                fail("output on failure");
                }
                err_release(&e);
        }
        json_decref(current);
        json_decref(in);
        return 0;
}
