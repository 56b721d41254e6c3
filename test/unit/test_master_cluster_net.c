/* test_master_cluster_net.c — named cluster networks: --network parsing and per-agent subnets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/cluster_net.h"

static void parses_name_and_cidr(void **state) {
        struct cluster_net n;
        struct err e = {0};
        assert_int_equal(cluster_net_parse("dcos=10.200.0.0/16", &n, &e), 0);
        assert_string_equal(n.name, "dcos");
        assert_int_equal(n.base, 0x0ac80000u);
        assert_int_equal(n.prefix, 16);
        static const char *const bad[] = {"dcos", "=10.0.0.0/8", "DC=10.0.0.0/8", "dcos=10.200.0.0",
                                          "dcos=10.200.0.0/25", "dcos=10.200.0.0/7", "dcos=10.200.1.0/16",
                                          "dcos=10.200.0/16", "dcos=10.200.0.0/16x", "a b=10.0.0.0/8"};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                assert_int_equal(cluster_net_parse(bad[i], &n, &e), -EINVAL);
                assert_non_null(err_msg(&e));
                err_release(&e);
        }
}

static void agent_n_gets_the_nth_slash_24(void **state) {
        struct cluster_net n;
        assert_int_equal(cluster_net_parse("dcos=10.200.0.0/16", &n, NULL), 0);
        char *s = cluster_net_agent_subnet(&n, "0c6f9f5e-1b2a-4c3d-8e4f-5a6b7c8d9e0f-S0");
        assert_string_equal(s, "10.200.0.0/24");
        free(s);
        s = cluster_net_agent_subnet(&n, "0c6f9f5e-1b2a-4c3d-8e4f-5a6b7c8d9e0f-S255");
        assert_string_equal(s, "10.200.255.0/24");
        free(s);
        /* beyond the network's /24s, or an id without a sequence number: none */
        assert_null(cluster_net_agent_subnet(&n, "c-S256"));
        assert_null(cluster_net_agent_subnet(&n, "c-Sx"));
        assert_null(cluster_net_agent_subnet(&n, "agent"));
        assert_null(cluster_net_agent_subnet(&n, "c-S"));
        assert_int_equal(cluster_net_parse("small=192.168.4.0/24", &n, NULL), 0);
        s = cluster_net_agent_subnet(&n, "c-S0");
        assert_string_equal(s, "192.168.4.0/24");
        free(s);
        assert_null(cluster_net_agent_subnet(&n, "c-S1"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_name_and_cidr),
                cmocka_unit_test(agent_n_gets_the_nth_slash_24),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
