/* test_common_perm.c — permission strings (DC/OS shapes) and which grants cover which needs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/perm.h"

#define SERVICES "dcos:service:marathon:marathon:services"

static bool covers(const char *grant, const char *actions, const char *res, const char *path, unsigned act) {
        struct perm p;
        struct err e = {0};
        if (perm_parse(grant, &p, &e) < 0)
                fail_msg("%s", err_msg(&e));
        bool r = perm_covers(&p, perm_actions_parse(actions), res, path, act);
        perm_release(&p);
        return r;
}

static void dcos_and_strata_shapes_parse(void **state) {
        struct perm p;
        struct err e = {0};
        assert_int_equal(perm_parse("dcos:service:marathon:marathon:services:/prod", &p, &e), 0);
        assert_string_equal(p.resource, SERVICES);
        assert_string_equal(p.path, "/prod");
        perm_release(&p);
        assert_int_equal(perm_parse("strata:cluster:masters", &p, &e), 0);
        assert_null(p.path);
        perm_release(&p);
        assert_int_equal(perm_parse("dcos:superuser", &p, &e), 0);
        perm_release(&p);
        assert_int_equal(perm_parse("strata:x:/a/b/", &p, &e), 0);
        assert_string_equal(p.path, "/a/b");
        perm_release(&p);
        const char *bad[] = {"", "strata", "other:thing", "strata::x", "strata:x:", ":strata:x", "strata:x y",
                             "strata:x:/a:b", "strata:x:/a//b"};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_int_equal(perm_parse(bad[i], &p, &e), -EINVAL);
        err_release(&e);
}

static void actions_parse(void **state) {
        assert_int_equal(perm_actions_parse("read"), PERM_READ);
        assert_int_equal(perm_actions_parse("read,update"), PERM_READ | PERM_UPDATE);
        assert_int_equal(perm_actions_parse("full"), PERM_FULL);
        assert_int_equal(perm_actions_parse("reed"), 0);
        assert_int_equal(perm_actions_parse("read,"), 0);
        assert_int_equal(perm_actions_parse(""), 0);
        assert_string_equal(perm_action_name(PERM_DELETE), "delete");
}

static void a_group_path_covers_itself_and_below_only(void **state) {
        assert_true(covers(SERVICES ":/prod", "read", SERVICES, "/prod", PERM_READ));
        assert_true(covers(SERVICES ":/prod", "read", SERVICES, "/prod/web", PERM_READ));
        assert_false(covers(SERVICES ":/prod", "read", SERVICES, "/production", PERM_READ));
        assert_false(covers(SERVICES ":/prod", "read", SERVICES, "/", PERM_READ));
        assert_false(covers(SERVICES ":/prod", "read", SERVICES, "/prod/web", PERM_UPDATE));
        assert_true(covers(SERVICES ":/", "full", SERVICES, "/any/thing", PERM_DELETE));
        assert_true(covers(SERVICES, "create", SERVICES, "/x", PERM_CREATE));
        assert_false(covers(SERVICES ":/prod", "full", "strata:cluster", NULL, PERM_READ));
        assert_true(covers("dcos:superuser", "full", "strata:cluster", NULL, PERM_READ));
        assert_false(covers("dcos:superuser", "read", "strata:cluster", NULL, PERM_UPDATE));
}

static void some_path_is_enough_for_a_filtered_list(void **state) {
        struct perm p;
        struct err e = {0};
        assert_int_equal(perm_parse(SERVICES ":/tenant-a", &p, &e), 0);
        assert_true(perm_covers_some(&p, PERM_READ, SERVICES, PERM_READ));
        assert_false(perm_covers_some(&p, PERM_READ, "strata:cluster", PERM_READ));
        perm_release(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(dcos_and_strata_shapes_parse),
                cmocka_unit_test(actions_parse),
                cmocka_unit_test(a_group_path_covers_itself_and_below_only),
                cmocka_unit_test(some_path_is_enough_for_a_filtered_list),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
