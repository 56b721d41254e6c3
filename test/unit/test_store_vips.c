/* test_store_vips.c — named VIP allocation commands and their snapshot form (store/vips.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store/state.h"
#include "store/store_fsm.h"
#include "store/vips.h"

static int apply(struct state *s, const char *text, json_t **res) {
        json_t *cmd = json_loads(text, 0, NULL);
        assert_non_null(cmd);
        struct err e = { 0 };
        int r = store_fsm_apply(s, cmd, res, &e);
        err_release(&e);
        json_decref(cmd);
        return r;
}

static void names_get_the_lowest_free_address_once(void **state) {
        struct state *s = state_new();
        json_t *res = NULL;
        assert_int_equal(apply(s, "{\"type\":\"vip_alloc\",\"cidr\":\"11.0.0.0/8\",\"names\":[\"/a\",\"/b\"]}", &res), 0);
        assert_string_equal(json_string_value(json_object_get(res, "/b")), "11.0.0.2");
        json_decref(res);
        /* asking again keeps the address */
        assert_int_equal(apply(s, "{\"type\":\"vip_alloc\",\"cidr\":\"11.0.0.0/8\",\"names\":[\"/b\",\"/c\"]}", &res), 0);
        assert_string_equal(json_string_value(json_object_get(res, "/b")), "11.0.0.2");
        assert_string_equal(json_string_value(json_object_get(res, "/c")), "11.0.0.3");
        json_decref(res);
        /* a released address is reused */
        assert_int_equal(apply(s, "{\"type\":\"vip_release\",\"names\":[\"/a\",\"/zz\"]}", NULL), 0);
        assert_null(state_vip_address(s, "/a"));
        assert_int_equal(apply(s, "{\"type\":\"vip_alloc\",\"cidr\":\"11.0.0.0/8\",\"names\":[\"/d\"]}", NULL), 0);
        assert_string_equal(state_vip_address(s, "/d"), "11.0.0.1");
        state_free(s);
}

static void bad_commands_and_exhaustion_change_nothing(void **state) {
        struct state *s = state_new();
        assert_int_equal(apply(s, "{\"type\":\"vip_alloc\",\"cidr\":\"10.0.0.0/30\",\"names\":[\"/a\",\"/b\"]}", NULL), 0);
        assert_int_equal(apply(s, "{\"type\":\"vip_alloc\",\"cidr\":\"10.0.0.0/30\",\"names\":[\"/c\"]}", NULL), -ENOSPC);
        assert_int_equal(apply(s, "{\"type\":\"vip_alloc\",\"cidr\":\"bad\",\"names\":[\"/c\"]}", NULL), -EINVAL);
        assert_int_equal(apply(s, "{\"type\":\"vip_alloc\",\"cidr\":\"11.0.0.0/8\",\"names\":[\"/c\",\"nope\"]}", NULL),
                         -EINVAL);
        assert_int_equal(apply(s, "{\"type\":\"vip_release\",\"names\":\"/a\"}", NULL), -EINVAL);
        assert_null(state_vip_address(s, "/c"));
        assert_int_equal(json_object_size(state_vip_names(s)), 2);
        state_free(s);
}

static void allocations_survive_a_snapshot(void **state) {
        struct state *s = state_new();
        assert_int_equal(apply(s, "{\"type\":\"vip_alloc\",\"cidr\":\"11.0.0.0/8\",\"names\":[\"/a\",\"/b\"]}", NULL), 0);
        json_t *doc = state_to_json(s);
        struct state *t = state_new();
        struct err e = { 0 };
        assert_int_equal(state_from_json(t, doc, &e), 0);
        assert_string_equal(state_vip_address(t, "/b"), "11.0.0.2");
        /* the reverse index came back too: the next name does not reuse an address */
        assert_int_equal(apply(t, "{\"type\":\"vip_alloc\",\"cidr\":\"11.0.0.0/8\",\"names\":[\"/c\"]}", NULL), 0);
        assert_string_equal(state_vip_address(t, "/c"), "11.0.0.3");
        /* a malformed part is refused and leaves the state as it was */
        json_object_set_new(doc, "vips", json_pack("{s:{s:s,s:s}}", "names", "/x", "1.1.1.1", "/y", "1.1.1.1"));
        assert_int_equal(state_from_json(t, doc, &e), -EINVAL);
        err_release(&e);
        assert_string_equal(state_vip_address(t, "/c"), "11.0.0.3");
        json_decref(doc);
        state_free(s);
        state_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(names_get_the_lowest_free_address_once),
                cmocka_unit_test(bad_commands_and_exhaustion_change_nothing),
                cmocka_unit_test(allocations_survive_a_snapshot),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
