/* due_heap.h — a min-heap of (due time, key): the launcher's apps waiting on a launch backoff,
 * so a pass looks only at the ones whose time has come instead of at every app's queue.
 *
 * Entries are not removed when their key stops waiting; the owner checks its own state for a
 * popped key (lazy deletion) and avoids pushing duplicates. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct due_heap {
        struct due_entry *v;
        size_t n, cap;
};

void due_heap_init(struct due_heap *h);
/* Frees every key still in the heap. */
void due_heap_release(struct due_heap *h);
/* Copies key. */
void due_heap_push(struct due_heap *h, int64_t due, const char *key);
/* The earliest due time; false when empty. */
bool due_heap_peek(const struct due_heap *h, int64_t *due);
/* Removes the earliest entry; returns its key (caller frees), NULL when empty. */
char *due_heap_pop(struct due_heap *h, int64_t *due);
size_t due_heap_size(const struct due_heap *h);
