/* test_model_task_id.c — Marathon task ids in every form map back to their app. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "model/task_id.h"

static void parses(const char *id, const char *app) {
        char *got = NULL;
        struct err e = { 0 };
        assert_int_equal(task_id_parse(id, &got, &e), 0);
        assert_string_equal(got, app);
        free(got);
}

static void current_and_legacy_forms_map_to_the_app(void **state) {
        parses("prod_web.instance-6c1d2f0e-1234-4abc-9def-0123456789ab._app", "/prod/web");
        parses("prod_web.instance-6c1d2f0e-1234-4abc-9def-0123456789ab._app.3", "/prod/web");
        parses("web.marathon-6c1d2f0e-1234-4abc-9def-0123456789ab", "/web");
        parses("a.b_c.6c1d2f0e-1234-4abc-9def-0123456789ab", "/a.b/c");
}

static void anything_else_is_invalid(void **state) {
        const char *bad[] = { "", "web", "web.instance-xyz._app", ".6c1d2f0e-1234-4abc-9def-0123456789ab",
                              "web.instance-6c1d2f0e-1234-4abc-9def-0123456789ab._app.x", "web.1234" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char *got = NULL;
                struct err e = { 0 };
                assert_int_equal(task_id_parse(bad[i], &got, &e), -EINVAL);
                assert_null(got);
                err_release(&e);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(current_and_legacy_forms_map_to_the_app),
                cmocka_unit_test(anything_else_is_invalid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
