/* test_common_jregex.c — constraint regexes: Java's whole-value semantics and a bounded cost. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/jregex.h"

static int matches(const char *pattern, const char *value) {
        struct err err = {0};
        struct jregex *re = NULL;
        int r = jregex_get(pattern, &re, &err);
        if (r < 0)
                fail_msg("'%s' refused: %s", pattern, err_msg(&err));
        r = jregex_match(re, value);
        jregex_unref(re);
        err_release(&err);
        return r;
}

static int refused(const char *pattern, struct err *err) {
        struct jregex *re = NULL;
        int r = jregex_get(pattern, &re, err);
        if (r >= 0)
                jregex_unref(re);
        return r;
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void the_whole_value_must_match_like_java_string_matches(void **state) {
        assert_int_equal(matches("rack-1", "rack-1"), 1);
        assert_int_equal(matches("rack-1", "rack-10"), 0);  /* no substring match */
        assert_int_equal(matches("rack-1", "my-rack-1"), 0);
        assert_int_equal(matches("rack-1|rack-10", "rack-10"), 1); /* alternation backtracks to the end */
        assert_int_equal(matches("us-.*", "us-east-1"), 1);
        assert_int_equal(matches(".*", ""), 1);
}

static void java_syntax_works(void **state) {
        assert_int_equal(matches("\\d+", "123"), 1);
        assert_int_equal(matches("\\w+\\.example\\.com", "web1.example.com"), 1);
        assert_int_equal(matches("(?!prod).*", "prod-1"), 0); /* lookahead */
        assert_int_equal(matches("(?!prod).*", "dev-1"), 1);
        assert_int_equal(matches("(?i)RACK-[0-9]{2}", "rack-42"), 1);
        assert_int_equal(matches("[^a-c]+", "xyz"), 1);
}

static void syntax_errors_are_invalid(void **state) {
        struct err err = {0};
        assert_int_equal(refused("(a", &err), -ERR_INVALID);
        assert_non_null(strstr(err_msg(&err), "is not a valid regular expression"));
        assert_int_equal(refused("[z-a]", &err), -ERR_INVALID);
        assert_int_equal(refused("a{2,1}", &err), -ERR_INVALID);
        err_release(&err);
}

static void nested_quantifiers_are_refused_fast(void **state) {
        /* The pattern that held glibc regcomp for 8.5 s: "(a*)*" 23 times, then "b". */
        char p[200] = "";
        for (int i = 0; i < 23; i++)
                strcat(p, "(a*)*");
        strcat(p, "b");
        struct err err = {0};
        double t0 = now_ms();
        assert_int_equal(refused(p, &err), -E2BIG);
        double took = now_ms() - t0;
        assert_true(took < 100);
        assert_non_null(strstr(err_msg(&err), "exceeds the regular expression budget"));
        /* The classic ones too */
        assert_int_equal(refused("(a+)+b", &err), -E2BIG);
        assert_int_equal(refused("(x|xx)+y", &err), -E2BIG);
        assert_int_equal(refused("(.*a){12}", &err), -E2BIG);
        err_release(&err);
}

static void ordinary_patterns_are_admitted(void **state) {
        const char *ok[] = {"rack-[0-9]+", "us-(east|west)-[12]", ".*", ".*.*", "[a-z0-9.-]+",
                            "(prod|staging)-.*", "10\\.0\\.[0-9]{1,3}\\.[0-9]{1,3}", "a+b+c+", "(ab)+",
                            "^web$", "node-(0[1-9]|1[0-9])"};
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
                struct err err = {0};
                if (refused(ok[i], &err) < 0)
                        fail_msg("'%s' refused: %s", ok[i], err_msg(&err));
                err_release(&err);
        }
}

static void long_patterns_are_over_the_budget(void **state) {
        char p[JREGEX_MAX_PATTERN + 2];
        memset(p, 'a', sizeof p - 1);
        p[sizeof p - 1] = 0;
        struct err err = {0};
        assert_int_equal(refused(p, &err), -E2BIG);
        err_release(&err);
}

static void a_pattern_is_compiled_once_and_shared(void **state) {
        struct err err = {0};
        struct jregex *a = NULL, *b = NULL;
        assert_int_equal(jregex_get("zone-[a-c]", &a, &err), 0);
        assert_int_equal(jregex_get("zone-[a-c]", &b, &err), 0);
        assert_ptr_equal(a, b);
        assert_string_equal(jregex_pattern(a), "zone-[a-c]");
        jregex_unref(a);
        jregex_unref(b);
        jregex_cache_trim(); /* nobody holds it: freed (ASan checks nothing leaks or dangles) */
        assert_int_equal(jregex_get("zone-[a-c]", &a, &err), 0);
        assert_int_equal(jregex_match(a, "zone-b"), 1);
        jregex_unref(a);
        jregex_cache_trim();
        err_release(&err);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(the_whole_value_must_match_like_java_string_matches),
                cmocka_unit_test(java_syntax_works),
                cmocka_unit_test(syntax_errors_are_invalid),
                cmocka_unit_test(nested_quantifiers_are_refused_fast),
                cmocka_unit_test(ordinary_patterns_are_admitted),
                cmocka_unit_test(long_patterns_are_over_the_budget),
                cmocka_unit_test(a_pattern_is_compiled_once_and_shared),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
