/* hashmap.h — string-keyed hash map (open addressing, linear probing) for indexes on the loop.
 *
 * Keys are borrowed: the caller keeps each key alive while it is in the map (usually the key
 * is a field of the value). Values are opaque pointers, never NULL. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashmap {
        struct hashmap_slot *slots;
        size_t cap, n, tombs;
};

/* FNV-1a (64 bit) of a NUL-terminated string: the one string hash of the code base (indexes
 * that store 32-bit hashes keep the low bits). */
uint64_t hash_string(const char *s);

void hashmap_init(struct hashmap *m);
void hashmap_release(struct hashmap *m);
/* Inserts, or replaces the value of an equal key (keeping the stored key pointer); returns the
 * previous value or NULL. */
void *hashmap_put(struct hashmap *m, const char *key, void *value);
void *hashmap_get(const struct hashmap *m, const char *key);
/* Removes and returns the value, or NULL if absent. */
void *hashmap_remove(struct hashmap *m, const char *key);
size_t hashmap_size(const struct hashmap *m);
/* Iteration: start with *pos = 0; returns false at the end. The map must not change meanwhile,
 * except hashmap_remove of the entry just returned. */
bool hashmap_next(const struct hashmap *m, size_t *pos, const char **key, void **value);
