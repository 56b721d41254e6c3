/* hashmap.c — open addressing with linear probing and tombstones; FNV-1a hashes. */
#include "common/hashmap.h"

#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/macro.h"

struct hashmap_slot {
        const char *key; /* NULL = empty */
        void *value;     /* NULL with key set = tombstone */
        uint64_t hash;
};

uint64_t hash_string(const char *p) {
        uint64_t h = 1469598103934665603ull;
        for (; *p; p++) {
                h ^= (unsigned char)*p;
                h *= 1099511628211ull;
        }
        return h;
}

void hashmap_init(struct hashmap *m) {
        *m = (struct hashmap){ 0 };
}

void hashmap_release(struct hashmap *m) {
        free(m->slots);
        *m = (struct hashmap){ 0 };
}

static struct hashmap_slot *find(const struct hashmap *m, const char *key, uint64_t h) {
        if (!m->cap)
                return NULL;
        for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
                struct hashmap_slot *s = &m->slots[i];
                if (!s->key)
                        return NULL;
                if (s->value && s->hash == h && streq(s->key, key))
                        return s;
        }
}

static void grow(struct hashmap *m) {
        size_t old_cap = m->cap;
        struct hashmap_slot *old = m->slots;
        size_t cap = old_cap ? old_cap : 16;
        while ((m->n + 1) * 4 >= cap * 3)
                cap *= 2;
        m->slots = xcalloc(cap, sizeof *m->slots);
        m->cap = cap;
        m->tombs = 0;
        for (size_t i = 0; i < old_cap; i++) {
                if (!old[i].key || !old[i].value)
                        continue;
                size_t j = old[i].hash & (cap - 1);
                while (m->slots[j].key)
                        j = (j + 1) & (cap - 1);
                m->slots[j] = old[i];
        }
        free(old);
}

void *hashmap_put(struct hashmap *m, const char *key, void *value) {
        uint64_t h = hash_string(key);
        struct hashmap_slot *s = find(m, key, h);
        if (s) {
                /* The stored key stays: it is equal, and may be the one the caller owns. */
                void *prev = s->value;
                s->value = value;
                return prev;
        }
        if ((m->n + m->tombs + 1) * 4 >= m->cap * 3)
                grow(m);
        size_t i = h & (m->cap - 1);
        while (m->slots[i].key && m->slots[i].value)
                i = (i + 1) & (m->cap - 1);
        if (m->slots[i].key)
                m->tombs--;
        m->slots[i] = (struct hashmap_slot){ key, value, h };
        m->n++;
        return NULL;
}

void *hashmap_get(const struct hashmap *m, const char *key) {
        struct hashmap_slot *s = find(m, key, hash_string(key));
        return s ? s->value : NULL;
}

void *hashmap_remove(struct hashmap *m, const char *key) {
        struct hashmap_slot *s = find(m, key, hash_string(key));
        if (!s)
                return NULL;
        void *v = s->value;
        s->value = NULL; /* tombstone: keeps probe chains intact */
        m->n--;
        m->tombs++;
        return v;
}

size_t hashmap_size(const struct hashmap *m) {
        return m->n;
}

bool hashmap_next(const struct hashmap *m, size_t *pos, const char **key, void **value) {
        for (; *pos < m->cap; (*pos)++) {
                struct hashmap_slot *s = &m->slots[*pos];
                if (s->key && s->value) {
                        if (key)
                                *key = s->key;
                        if (value)
                                *value = s->value;
                        (*pos)++;
                        return true;
                }
        }
        return false;
}
