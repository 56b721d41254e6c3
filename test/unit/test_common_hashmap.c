/* test_common_hashmap.c — the string hash map behind the daemons' indexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/hashmap.h"

static void put_get_replace_remove(void **state) {
        struct hashmap m;
        hashmap_init(&m);
        int a = 1, b = 2;
        assert_null(hashmap_get(&m, "x"));
        assert_null(hashmap_put(&m, "x", &a));
        assert_ptr_equal(hashmap_get(&m, "x"), &a);
        assert_ptr_equal(hashmap_put(&m, "x", &b), &a);
        assert_int_equal(hashmap_size(&m), 1);
        assert_ptr_equal(hashmap_remove(&m, "x"), &b);
        assert_null(hashmap_remove(&m, "x"));
        assert_int_equal(hashmap_size(&m), 0);
        hashmap_release(&m);
}

static void survives_growth_and_tombstones(void **state) {
        struct hashmap m;
        hashmap_init(&m);
        enum { N = 20000 };
        char **keys = xcalloc(N, sizeof *keys);
        for (int i = 0; i < N; i++) {
                keys[i] = xasprintf("key-%d", i);
                hashmap_put(&m, keys[i], keys[i]);
        }
        for (int i = 0; i < N; i += 2)
                assert_ptr_equal(hashmap_remove(&m, keys[i]), keys[i]);
        for (int round = 0; round < 3; round++)
                for (int i = 0; i < N; i += 2) {
                        hashmap_put(&m, keys[i], keys[i]);
                        hashmap_remove(&m, keys[i]);
                }
        assert_int_equal(hashmap_size(&m), N / 2);
        for (int i = 0; i < N; i++)
                assert_ptr_equal(hashmap_get(&m, keys[i]), i % 2 ? keys[i] : NULL);
        size_t pos = 0, seen = 0;
        const char *k;
        void *v;
        while (hashmap_next(&m, &pos, &k, &v)) {
                assert_ptr_equal(k, v);
                seen++;
        }
        assert_int_equal(seen, N / 2);
        for (int i = 0; i < N; i++)
                free(keys[i]);
        free(keys);
        hashmap_release(&m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(put_get_replace_remove),
                cmocka_unit_test(survives_growth_and_tombstones),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
