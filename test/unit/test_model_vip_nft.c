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

static json_t *rules_of(const char *vips, size_t *bad) {
        json_t *j = json_loads(vips, 0, NULL);
        assert_non_null(j);
        json_t *rules = vip_nft_rules(j, bad);
        json_decref(j);
        return rules;
}

static char *ruleset(const char *vips, size_t *n, size_t *bad) {
        json_t *rules = rules_of(vips, bad);
        *n = json_object_size(rules);
        char *text = vip_nft_full(rules);
        json_decref(rules);
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
        assert_non_null(strstr(t, "11.0.0.1 . tcp . 80 : goto v_11_0_0_1_tcp_80"));
        assert_non_null(strstr(t, "11.0.0.1 . udp . 53 : goto v_11_0_0_1_udp_53"));
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
        char *t = ruleset("[]", &n, &n);
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

/* nft -c of the whole table followed by a delta, in one check (the delta needs the table). */
static void nft_accepts_after(const char *full, const char *delta) {
        size_t n = strlen(full) + strlen(delta) + 1;
        char *both = malloc(n);
        snprintf(both, n, "%s%s", full, delta);
        nft_accepts(both);
        free(both);
}

static void changes_touch_only_what_changed(void **state) {
        size_t bad;
        json_t *old = rules_of("[{\"ip\":\"11.0.0.1\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[{\"ip\":\"10.0.0.2\",\"port\":1}]},"
                               "{\"ip\":\"11.0.0.2\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[{\"ip\":\"10.0.0.2\",\"port\":2}]},"
                               "{\"ip\":\"11.0.0.3\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[{\"ip\":\"10.0.0.2\",\"port\":3}]}]",
                               &bad);
        json_t *now = rules_of("[{\"ip\":\"11.0.0.1\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[{\"ip\":\"10.0.0.2\",\"port\":1}]},"
                               "{\"ip\":\"11.0.0.2\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[{\"ip\":\"10.0.0.2\",\"port\":2},"
                               "{\"ip\":\"10.0.0.3\",\"port\":2}]},"
                               "{\"ip\":\"11.0.0.4\",\"port\":80,\"protocol\":\"tcp\",\"backends\":[{\"ip\":\"10.0.0.2\",\"port\":4}]}]",
                               &bad);
        assert_null(vip_nft_delta(old, old));
        char *d = vip_nft_delta(old, now);
        assert_non_null(d);
        assert_null(strstr(d, "11_0_0_1")); /* unchanged: untouched */
        assert_non_null(strstr(d, "flush chain ip strata v_11_0_0_2_tcp_80\nadd rule ip strata v_11_0_0_2_tcp_80 "
                                  "meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.0.0.2 . 2, 1 : 10.0.0.3 . 2 }\n"));
        assert_non_null(strstr(d, "delete element ip strata vips { 11.0.0.3 . tcp . 80 }\n"));
        assert_non_null(strstr(d, "delete chain ip strata v_11_0_0_3_tcp_80\n"));
        assert_non_null(strstr(d, "add chain ip strata v_11_0_0_4_tcp_80\n"));
        assert_non_null(strstr(d, "add element ip strata vips { 11.0.0.4 . tcp . 80 : goto v_11_0_0_4_tcp_80 }\n"));
        char *full = vip_nft_full(old);
        nft_accepts_after(full, d);
        free(full);
        free(d);
        json_decref(old);
        json_decref(now);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_vip_balances_over_its_backends),
                cmocka_unit_test(an_empty_table_is_still_a_valid_ruleset),
                cmocka_unit_test(malformed_entries_cannot_inject_rules),
                cmocka_unit_test(changes_touch_only_what_changed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
