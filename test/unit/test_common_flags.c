/* test_common_flags.c — flag values shared by the strata commands (lists, addresses, numbers). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/flags.h"
#include "common/log.h"

static void comma_lists_append_trimmed_items_and_skip_empty_ones(void **state) {
        char **l = NULL;
        size_t n = 0;
        flags_list_add(&l, &n, "a:1, b:2,,");
        flags_list_add(&l, &n, "c:3");
        assert_int_equal(n, 3);
        assert_string_equal(l[0], "a:1");
        assert_string_equal(l[1], "b:2");
        assert_string_equal(l[2], "c:3");
        assert_null(l[3]);
        flags_list_free(l);

        _cleanup_(flags_list_freep) char **counted = NULL;
        flags_list_add(&counted, NULL, "x");
        flags_list_add(&counted, NULL, "y,z");
        assert_string_equal(counted[2], "z");
        assert_null(counted[3]);
        flags_list_free(NULL);
}

static void master_urls_get_a_scheme_and_lose_trailing_slashes(void **state) {
        char **l = NULL;
        size_t n = 0;
        flags_list_add_urls(&l, &n, "m1:8080/,https://m2:8443//");
        assert_int_equal(n, 2);
        assert_string_equal(l[0], "http://m1:8080");
        assert_string_equal(l[1], "https://m2:8443");
        flags_list_free(l);
}

static void a_bare_port_listens_on_the_default_host(void **state) {
        char *a = flags_listen_addr("5051", "0.0.0.0");
        assert_string_equal(a, "0.0.0.0:5051");
        free(a);
        a = flags_listen_addr("127.0.0.1:80", "0.0.0.0");
        assert_string_equal(a, "127.0.0.1:80");
        free(a);
}

static void numbers_must_be_whole_unsigned_and_in_range(void **state) {
        unsigned v = 7;
        assert_int_equal(flags_uint("16", 16, 100, &v), 0);
        assert_int_equal(v, 16);
        assert_int_equal(flags_uint("15", 16, 100, &v), -EINVAL);
        assert_int_equal(flags_uint("101", 16, 100, &v), -EINVAL);
        assert_int_equal(flags_uint("", 0, 100, &v), -EINVAL);
        assert_int_equal(flags_uint("-1", 0, 100, &v), -EINVAL);
        assert_int_equal(flags_uint("12x", 0, 100, &v), -EINVAL);
        assert_int_equal(flags_uint("99999999999999999999999", 0, 100, &v), -EINVAL);
        assert_int_equal(v, 16);
        assert_int_equal(flags_uint("4294967295", 0, 0xffffffffUL, &v), 0);
        assert_int_equal(v, 4294967295u);
}

static void unknown_log_levels_are_refused(void **state) {
        assert_int_equal(flags_log_level("test", "loud"), -EINVAL);
        assert_int_equal(flags_log_level("test", "warn"), 0);
        assert_int_equal(flags_log_level("test", "info"), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(comma_lists_append_trimmed_items_and_skip_empty_ones),
                cmocka_unit_test(master_urls_get_a_scheme_and_lose_trailing_slashes),
                cmocka_unit_test(a_bare_port_listens_on_the_default_host),
                cmocka_unit_test(numbers_must_be_whole_unsigned_and_in_range),
                cmocka_unit_test(unknown_log_levels_are_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
