/* test_model_vip_nft.c — the agent's nftables ruleset for a VIP table (model/vip_nft.h). When
 * the nft tool is there (the agent's Makefile packages), the text is checked by nft itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model/vip_nft.h"

static char *ruleset(const char *vips, size_t *n, size_t *bad) {
        json_t *j = json_loads(vips, 0, NULL);
        assert_non_null(j);
        char *text = vip_nft_ruleset(j, n, bad);
        json_decref(j);
        return text;
}

/* nft -c (check only, nothing changes) where it can run. */
static void nft_accepts(const char *text) {
        if (access("/usr/sbin/nft", X_OK) != 0 || geteuid() != 0)
                return;
        char path[] = "/tmp/test_vip_nft_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "/usr/sbin/nft -c -f %s", path);
        int rc = system(cmd);
        unlink(path);
        assert_int_equal(rc, 0);
}

static void every_vip_balances_over_its_backends(void **state) {
        size_t n, bad;
        char *t = ruleset("[{\"ip\":\"11.0.0.1\",\"port\":80,\"protocol\":\"tcp\",\"backends\":["
                          "{\"ip\":\"10.0.0.2\",\"port\":31000},{\"ip\":\"10.0.0.3\",\"port\":31001}]},"
                          "{\"ip\":\"11.0.0.1\",\"port\":53,\"protocol\":\"udp\",\"backends\":[{\"ip\":\"10.0.0.4\",\"port\":5353}]},"
                          "{\"ip\":\"11.0.0.2\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[]}]",
                          &n, &bad);
        assert_int_equal(n, 2);
        assert_int_equal(bad, 0);
        assert_non_null(strstr(t, "add table ip strata\ndelete table ip strata\n"));
        assert_non_null(strstr(t, "11.0.0.1 . tcp . 80 : goto v0"));
        assert_non_null(strstr(t, "11.0.0.1 . udp . 53 : goto v1"));
        assert_non_null(strstr(t, "meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.0.0.2 . 31000, 1 : 10.0.0.3 . 31001 }"));
        assert_non_null(strstr(t, "meta l4proto udp dnat ip to numgen random mod 1 map { 0 : 10.0.0.4 . 5353 }"));
        assert_null(strstr(t, "11.0.0.2")); /* no backend: not programmed */
        assert_non_null(strstr(t, "type nat hook output"));
        assert_non_null(strstr(t, "type nat hook prerouting"));
        nft_accepts(t);
        free(t);
}

static void an_empty_table_is_still_a_valid_ruleset(void **state) {
        size_t n;
        char *t = ruleset("[]", &n, NULL);
        assert_int_equal(n, 0);
        assert_null(strstr(t, "elements"));
        nft_accepts(t);
        free(t);
}

static void malformed_entries_cannot_inject_rules(void **state) {
        size_t n, bad;
        char *t = ruleset("[{\"ip\":\"11.0.0.1; flush ruleset\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[{\"ip\":\"1.1.1.1\",\"port\":1}]},"
                          "{\"ip\":\"11.0.0.1\",\"port\":80,\"protocol\":\"tcp } ;\",\"backends\":[{\"ip\":\"1.1.1.1\",\"port\":1}]},"
                          "{\"ip\":\"11.0.0.1\",\"port\":70000,\"protocol\":\"tcp\",\"backends\":[]},"
                          "{\"ip\":\"11.0.0.1\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[{\"ip\":\"1.1.1.1 . 2\",\"port\":1},"
                          "{\"ip\":\"2.2.2.2\",\"port\":\"80\"},{\"ip\":\"3.3.3.3\",\"port\":8080}]},"
                          "{\"ip\":\"11.0.0.1\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[{\"ip\":\"4.4.4.4\",\"port\":1}]}]",
                          &n, &bad);
        assert_int_equal(n, 1);
        assert_int_equal(bad, 4); /* three malformed, one duplicate */
        assert_null(strstr(t, "flush"));
        assert_null(strstr(t, "1.1.1.1"));
        assert_null(strstr(t, "4.4.4.4"));
        assert_non_null(strstr(t, "mod 1 map { 0 : 3.3.3.3 . 8080 }"));
        nft_accepts(t);
        free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_vip_balances_over_its_backends),
                cmocka_unit_test(an_empty_table_is_still_a_valid_ruleset),
                cmocka_unit_test(malformed_entries_cannot_inject_rules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
