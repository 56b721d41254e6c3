/* test_master_due_heap.c — the launcher's backoff heap: earliest first, duplicates kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/due_heap.h"

static void empty(void **state) {
        struct due_heap h;
        due_heap_init(&h);
        int64_t due = 7;
        assert_false(due_heap_peek(&h, &due));
        assert_null(due_heap_pop(&h, &due));
        assert_int_equal(due, 7);
        due_heap_release(&h);
}

static void pops_in_due_order(void **state) {
        struct due_heap h;
        due_heap_init(&h);
        /* A fixed pseudo-random order, with equal times. */
        uint32_t x = 12345;
        for (int i = 0; i < 1000; i++) {
                x = x * 1103515245u + 12345u;
                char key[16];
                snprintf(key, sizeof key, "a%d", i);
                due_heap_push(&h, (int64_t)(x % 300), key);
        }
        assert_int_equal(due_heap_size(&h), 1000);
        int64_t last = -1, due, peeked;
        for (int i = 0; i < 1000; i++) {
                assert_true(due_heap_peek(&h, &peeked));
                char *key = due_heap_pop(&h, &due);
                assert_non_null(key);
                assert_int_equal(peeked, due);
                assert_true(due >= last);
                last = due;
                free(key);
        }
        assert_int_equal(due_heap_size(&h), 0);
        due_heap_release(&h);
}

static void release_frees_what_is_left(void **state) {
        struct due_heap h;
        due_heap_init(&h);
        due_heap_push(&h, 5, "/b");
        due_heap_push(&h, 1, "/a");
        due_heap_push(&h, 5, "/b");
        int64_t due;
        char *key = due_heap_pop(&h, &due);
        assert_string_equal(key, "/a");
        assert_int_equal(due, 1);
        free(key);
        due_heap_release(&h); /* two "/b" left: ASan would report a leak */
        assert_int_equal(due_heap_size(&h), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(empty),
                cmocka_unit_test(pops_in_due_order),
                cmocka_unit_test(release_frees_what_is_left),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
