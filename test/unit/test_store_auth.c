/* test_store_auth.c — the replicated auth document: the "auth" command's ops and snapshots. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "store/auth_store.h"
#include "store/state.h"
#include "store/store_fsm.h"

static int apply(struct state *s, const char *json) {
        json_error_t jerr;
        json_t *cmd = json_loads(json, 0, &jerr);
        if (!cmd)
                fail_msg("bad test JSON: %s", jerr.text);
        struct err e = {0};
        int r = store_fsm_apply(s, cmd, NULL, &e);
        err_release(&e);
        json_decref(cmd);
        return r;
}

#define OK(s, j) assert_int_equal(apply(s, j), 0)

static void init_sets_the_key_once_and_the_admin_only_into_an_empty_state(void **state) {
        struct state *s = state_new();
        uint8_t *k;
        size_t n;
        assert_int_equal(state_auth_key(s, &k, &n), -ENOENT);
        OK(s, "{\"type\":\"auth\",\"op\":\"init\",\"key\":\"AAAA\",\"admin\":{\"uid\":\"admin\",\"user\":"
              "{\"kind\":\"user\",\"grants\":{\"dcos:superuser\":15}}}}");
        OK(s, "{\"type\":\"auth\",\"op\":\"init\",\"key\":\"BBBB\",\"admin\":{\"uid\":\"other\",\"user\":{}}}");
        assert_int_equal(state_auth_key(s, &k, &n), 0);
        assert_int_equal(n, 3);
        assert_memory_equal(k, "\0\0\0", 3); /* the first key stays */
        free(k);
        assert_non_null(state_auth_user(s, "admin"));
        assert_null(state_auth_user(s, "other"));
        state_free(s);
}

static void users_groups_grants_and_removal(void **state) {
        struct state *s = state_new();
        OK(s, "{\"type\":\"auth\",\"op\":\"user_put\",\"uid\":\"a\",\"user\":{\"kind\":\"user\",\"password\":{}}}");
        OK(s, "{\"type\":\"auth\",\"op\":\"grant\",\"kind\":\"users\",\"id\":\"a\",\"rid\":\"strata:x\",\"actions\":2,"
              "\"add\":true}");
        OK(s, "{\"type\":\"auth\",\"op\":\"grant\",\"kind\":\"users\",\"id\":\"a\",\"rid\":\"strata:x\",\"actions\":4,"
              "\"add\":true}");
        const json_t *u = state_auth_user(s, "a");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(u, "grants"), "strata:x")), 6);
        /* an update without grants or password keeps them */
        OK(s, "{\"type\":\"auth\",\"op\":\"user_put\",\"uid\":\"a\",\"user\":{\"kind\":\"user\",\"description\":\"d\"}}");
        u = state_auth_user(s, "a");
        assert_non_null(json_object_get(u, "password"));
        assert_int_equal(json_integer_value(json_object_get(json_object_get(u, "grants"), "strata:x")), 6);
        OK(s, "{\"type\":\"auth\",\"op\":\"grant\",\"kind\":\"users\",\"id\":\"a\",\"rid\":\"strata:x\",\"actions\":6,"
              "\"add\":false}");
        assert_null(json_object_get(json_object_get(state_auth_user(s, "a"), "grants"), "strata:x"));
        OK(s, "{\"type\":\"auth\",\"op\":\"group_put\",\"gid\":\"g\",\"group\":{}}");
        OK(s, "{\"type\":\"auth\",\"op\":\"member\",\"gid\":\"g\",\"uid\":\"a\",\"add\":true}");
        OK(s, "{\"type\":\"auth\",\"op\":\"member\",\"gid\":\"g\",\"uid\":\"a\",\"add\":true}"); /* once */
        assert_int_equal(json_array_size(json_object_get(json_object_get(state_auth_groups(s), "g"), "members")), 1);
        assert_int_equal(apply(s, "{\"type\":\"auth\",\"op\":\"member\",\"gid\":\"g\",\"uid\":\"zz\",\"add\":true}"),
                         -ERR_NOT_FOUND);
        OK(s, "{\"type\":\"auth\",\"op\":\"user_remove\",\"uid\":\"a\"}");
        assert_null(state_auth_user(s, "a"));
        assert_int_equal(json_array_size(json_object_get(json_object_get(state_auth_groups(s), "g"), "members")), 0);
        assert_int_equal(apply(s, "{\"type\":\"auth\",\"op\":\"user_remove\",\"uid\":\"a\"}"), -ERR_NOT_FOUND);
        assert_int_equal(apply(s, "{\"type\":\"auth\",\"op\":\"grant\",\"kind\":\"users\",\"id\":\"a\",\"rid\":\"x\","
                                  "\"actions\":99,\"add\":true}"),
                         -EINVAL);
        assert_int_equal(apply(s, "{\"type\":\"auth\",\"op\":\"nope\"}"), -ENOTSUP);
        state_free(s);
}

static void revoked_tokens_are_forgotten_once_expired(void **state) {
        struct state *s = state_new();
        OK(s, "{\"type\":\"auth\",\"op\":\"revoke_token\",\"jti\":\"old\",\"exp\":1000,\"ts\":\"1970-01-01T00:00:01.000Z\"}");
        assert_true(state_auth_revoked(s, "old"));
        /* a later command, past the first token's expiry, drops it */
        OK(s, "{\"type\":\"auth\",\"op\":\"revoke_token\",\"jti\":\"new\",\"exp\":5000,\"ts\":\"1970-01-01T01:00:00.000Z\"}");
        assert_false(state_auth_revoked(s, "old"));
        assert_true(state_auth_revoked(s, "new"));
        state_free(s);
}

static void the_auth_document_survives_a_snapshot(void **state) {
        struct state *s = state_new();
        OK(s, "{\"type\":\"auth\",\"op\":\"init\",\"key\":\"AAAA\",\"admin\":{\"uid\":\"admin\",\"user\":{}}}");
        OK(s, "{\"type\":\"auth\",\"op\":\"revoke_token\",\"jti\":\"t\",\"exp\":99999999999}");
        json_t *doc = state_to_json(s);
        struct state *t = state_new();
        struct err e = {0};
        assert_int_equal(state_from_json(t, doc, &e), 0);
        assert_non_null(state_auth_user(t, "admin"));
        assert_true(state_auth_revoked(t, "t"));
        assert_true(json_equal(state_auth(s), state_auth(t)));
        /* a snapshot from before auth existed restores to an empty document */
        json_object_del(doc, "auth");
        assert_int_equal(state_from_json(t, doc, &e), 0);
        assert_null(state_auth_user(t, "admin"));
        json_object_set_new(doc, "auth", json_string("bad"));
        assert_int_equal(state_from_json(t, doc, &e), -EINVAL);
        err_release(&e);
        json_decref(doc);
        state_free(s);
        state_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(init_sets_the_key_once_and_the_admin_only_into_an_empty_state),
                cmocka_unit_test(users_groups_grants_and_removal),
                cmocka_unit_test(revoked_tokens_are_forgotten_once_expired),
                cmocka_unit_test(the_auth_document_survives_a_snapshot),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
