/* strtab.c — interned strings: an open-addressing set of refcounted entries, deleted by
 * backward shift so lookups never wade through tombstones. */
#include "store/strtab.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"

struct strtab_entry {
        uint32_t refs;
        uint32_t hash;
        char s[];
};

static struct strtab_entry *entry_of(const char *s) {
        return (struct strtab_entry *)(void *)(s - offsetof(struct strtab_entry, s));
}

void strtab_init(struct strtab *t) {
        *t = (struct strtab){0};
}

void strtab_release(struct strtab *t) {
        for (size_t i = 0; i < t->cap; i++)
                free(t->slots[i]);
        free(t->slots);
        *t = (struct strtab){0};
}

static void grow(struct strtab *t) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct strtab_entry **slots = xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < t->cap; i++) {
                struct strtab_entry *e = t->slots[i];
                if (!e)
                        continue;
                size_t j = e->hash & (cap - 1);
                while (slots[j])
                        j = (j + 1) & (cap - 1);
                slots[j] = e;
        }
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
}

const char *strtab_intern(struct strtab *t, const char *s) {
        if (!s)
                return NULL;
        uint32_t h = (uint32_t)hash_string(s);
        if (t->cap) {
                for (size_t i = h & (t->cap - 1); t->slots[i]; i = (i + 1) & (t->cap - 1)) {
                        struct strtab_entry *e = t->slots[i];
                        if (e->hash == h && streq(e->s, s)) {
                                e->refs++;
                                return e->s;
                        }
                }
        }
        /* Load factor at most 1/2. */
        if ((t->n + 1) * 2 > t->cap)
                grow(t);
        size_t len = strlen(s);
        struct strtab_entry *e = xmalloc(sizeof *e + len + 1);
        e->refs = 1;
        e->hash = h;
        memcpy(e->s, s, len + 1);
        size_t i = h & (t->cap - 1);
        while (t->slots[i])
                i = (i + 1) & (t->cap - 1);
        t->slots[i] = e;
        t->n++;
        return e->s;
}

const char *strtab_ref(const char *s) {
        if (s) {
                struct strtab_entry *e = entry_of(s);
                assert(e->refs < UINT32_MAX);
                e->refs++;
        }
        return s;
}

void strtab_unref(struct strtab *t, const char *s) {
        if (!s)
                return;
        struct strtab_entry *e = entry_of(s);
        assert(e->refs > 0);
        if (--e->refs > 0)
                return;
        size_t mask = t->cap - 1, i = e->hash & mask;
        while (t->slots[i] != e)
                i = (i + 1) & mask;
        free(e);
        t->slots[i] = NULL;
        t->n--;
        /* Backward shift: move later entries of the probe run into the hole when their home slot
         * does not lie cyclically in (hole, j]. */
        for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
                size_t home = t->slots[j]->hash & mask;
                bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
                if (stays)
                        continue;
                t->slots[i] = t->slots[j];
                t->slots[j] = NULL;
                i = j;
        }
}

size_t strtab_size(const struct strtab *t) {
        return t->n;
}
