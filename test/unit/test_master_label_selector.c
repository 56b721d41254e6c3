/* test_master_label_selector.c — Marathon label selectors for GET /v2/apps?label=. */
#include <errno.h>
#include <setjmp.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "master/label_selector.h"

static bool matches(const char *sel_text, const char *labels_json) {
        struct label_selector *sel = NULL;
        struct err e = { 0 };
        assert_int_equal(label_selector_parse(sel_text, &sel, &e), 0);
        json_t *labels = json_loads(labels_json, 0, NULL);
        bool ok = label_selector_match(sel, labels);
        json_decref(labels);
        label_selector_free(sel);
        return ok;
}

static void existence_and_equality(void **state) {
        assert_true(matches("env", "{\"env\":\"prod\"}"));
        assert_false(matches("env", "{\"other\":\"x\"}"));
        assert_true(matches("env==prod", "{\"env\":\"prod\"}"));
        assert_false(matches("env==prod", "{\"env\":\"dev\"}"));
        assert_true(matches("env!=prod", "{\"env\":\"dev\"}"));
        assert_true(matches("env!=prod", "{}"));
        assert_false(matches("env!=prod", "{\"env\":\"prod\"}"));
}

static void set_membership(void **state) {
        assert_true(matches("env in (dev, prod)", "{\"env\":\"prod\"}"));
        assert_false(matches("env in (dev,test)", "{\"env\":\"prod\"}"));
        assert_true(matches("env notin (dev,test)", "{\"env\":\"prod\"}"));
        assert_true(matches("env notin (dev)", "{}"));
}

static void all_selectors_must_match(void **state) {
        assert_true(matches("a==1,b in (x,y), c", "{\"a\":\"1\",\"b\":\"y\",\"c\":\"\"}"));
        assert_false(matches("a==1,b in (x,y),c", "{\"a\":\"1\",\"b\":\"y\"}"));
}

static void backslash_escapes_other_characters(void **state) {
        assert_true(matches("HAPROXY_0_VHOST==a\\:b\\ c", "{\"HAPROXY_0_VHOST\":\"a:b c\"}"));
}

static void malformed_selectors_are_errors(void **state) {
        const char *bad[] = { "", "==x", "a in x", "a in (x", "a in ()", "a==b)", "a,,b", "a notin (x,", "a b" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct label_selector *sel = NULL;
                struct err e = { 0 };
                assert_int_equal(label_selector_parse(bad[i], &sel, &e), -EINVAL);
                assert_null(sel);
                assert_non_null(strstr(err_msg(&e), "Invalid label selector"));
                err_release(&e);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(existence_and_equality),
                cmocka_unit_test(set_membership),
                cmocka_unit_test(all_selectors_must_match),
                cmocka_unit_test(backslash_escapes_other_characters),
                cmocka_unit_test(malformed_selectors_are_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
