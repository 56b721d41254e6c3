/* test_master_auth_routes.c — every route of the master's table declares the permission it needs
 * (a row added without one fails here, before any process starts), and the declarations are
 * sound: only /ping, login and (configurably) /metrics are open, writes never only "read". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/macro.h"
#include "common/perm.h"
#include "master/master_internal.h"

static void every_route_declares_a_permission(void **state) {
        json_t *routes = api_routes_json();
        size_t i;
        json_t *r;
        assert_true(json_array_size(routes) > 40);
        json_array_foreach(routes, i, r) {
                json_t *p = json_object_get(r, "permission");
                if (json_is_null(p))
                        fail_msg("route %s %s declares no permission (add PERM(...) to its row in master/api.c)",
                                 json_string_value(json_object_get(r, "method")),
                                 json_string_value(json_object_get(r, "pattern")));
        }
        json_decref(routes);
}

static void only_ping_and_login_are_open_and_writes_need_more_than_read(void **state) {
        json_t *routes = api_routes_json();
        size_t i;
        json_t *r;
        json_array_foreach(routes, i, r) {
                const char *method = json_string_value(json_object_get(r, "method"));
                const char *pattern = json_string_value(json_object_get(r, "pattern"));
                json_t *p = json_object_get(r, "permission");
                if (json_is_string(p) && streq(json_string_value(p), "open"))
                        assert_true(streq(pattern, "/ping") || streq(pattern, "/acs/api/v1/auth/login"));
                if (!json_is_object(p))
                        continue;
                struct perm parsed;
                struct err e = {0};
                if (perm_parse(json_string_value(json_object_get(p, "rid")), &parsed, &e) < 0)
                        fail_msg("%s %s: %s", method, pattern, err_msg(&e));
                assert_null(parsed.path); /* paths come from the request, not the table */
                perm_release(&parsed);
                if (!streq(method, "GET"))
                        assert_string_not_equal(json_string_value(json_object_get(p, "action")), "read");
        }
        json_decref(routes);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_route_declares_a_permission),
                cmocka_unit_test(only_ping_and_login_are_open_and_writes_need_more_than_read),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
