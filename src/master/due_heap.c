/* due_heap.c — binary min-heap by due time (see due_heap.h). */
#include "master/due_heap.h"

#include <stdlib.h>

#include "common/alloc.h"

struct due_entry {
        int64_t due;
        char *key;
};

void due_heap_init(struct due_heap *h) {
        *h = (struct due_heap){ 0 };
}

void due_heap_release(struct due_heap *h) {
        for (size_t i = 0; i < h->n; i++)
                free(h->v[i].key);
        free(h->v);
        due_heap_init(h);
}

static void swap(struct due_entry *a, struct due_entry *b) {
        struct due_entry t = *a;
        *a = *b;
        *b = t;
}

void due_heap_push(struct due_heap *h, int64_t due, const char *key) {
        if (h->n == h->cap) {
                h->cap = h->cap ? 2 * h->cap : 16;
                h->v = xrealloc(h->v, h->cap * sizeof *h->v);
        }
        size_t i = h->n++;
        h->v[i] = (struct due_entry){ due, xstrdup(key) };
        while (i > 0 && h->v[(i - 1) / 2].due > h->v[i].due) {
                swap(&h->v[(i - 1) / 2], &h->v[i]);
                i = (i - 1) / 2;
        }
}

bool due_heap_peek(const struct due_heap *h, int64_t *due) {
        if (h->n == 0)
                return false;
        *due = h->v[0].due;
        return true;
}

char *due_heap_pop(struct due_heap *h, int64_t *due) {
        if (h->n == 0)
                return NULL;
        char *key = h->v[0].key;
        if (due)
                *due = h->v[0].due;
        h->v[0] = h->v[--h->n];
        size_t i = 0;
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < h->n && h->v[l].due < h->v[m].due)
                        m = l;
                if (r < h->n && h->v[r].due < h->v[m].due)
                        m = r;
                if (m == i)
                        break;
                swap(&h->v[i], &h->v[m]);
                i = m;
        }
        return key;
}

size_t due_heap_size(const struct due_heap *h) {
        return h->n;
}
