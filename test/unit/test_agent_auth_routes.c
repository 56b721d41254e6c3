/* test_agent_auth_routes.c — every route of the agent's API declares its permission (only health
 * and the Mesos-DNS API are open): a row added without one fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent.h"
#include "common/macro.h"
#include "common/perm.h"

static void every_agent_route_declares_a_permission(void **state) {
        json_t *routes = agent_api_routes_json();
        size_t i;
        json_t *r;
        assert_true(json_array_size(routes) >= 10);
        json_array_foreach(routes, i, r) {
                const char *pattern = json_string_value(json_object_get(r, "pattern"));
                json_t *p = json_object_get(r, "permission");
                if (json_is_null(p))
                        fail_msg("agent route %s declares no permission", pattern);
                if (json_is_string(p)) {
                        /* health, and Mesos-DNS's API: what the DNS port tells anyone */
                        assert_true(streq(pattern, "/health") || streq(pattern, "/ping") || streq(pattern, "/v1/"));
                        continue;
                }
                struct perm parsed;
                struct err e = {0};
                assert_int_equal(perm_parse(json_string_value(json_object_get(p, "rid")), &parsed, &e), 0);
                perm_release(&parsed);
        }
        json_decref(routes);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_agent_route_declares_a_permission),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
