/* strtab.h — refcounted string interning for strings many instances share (app ids, versions,
 * agent ids, status messages): one copy each, however many instances hold it.
 *
 * An interned string is a plain NUL-terminated `const char *`; equal strings interned in one
 * table are the same pointer. Each strtab_intern/strtab_ref takes a reference that strtab_unref
 * gives back; the string is freed with its last reference. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct strtab {
        struct strtab_entry **slots; /* open addressing, linear probing, no tombstones */
        size_t cap, n;               /* cap is 0 or a power of two */
};

void strtab_init(struct strtab *t);
/* Frees every string, whatever its references. */
void strtab_release(struct strtab *t);
/* Returns the interned copy of s (a new reference); s == NULL gives NULL. */
const char *strtab_intern(struct strtab *t, const char *s);
/* Takes another reference to an interned string (NULL passes through). */
const char *strtab_ref(const char *s);
/* Gives back a reference to an interned string (NULL is a no-op). */
void strtab_unref(struct strtab *t, const char *s);
/* Number of distinct strings. */
size_t strtab_size(const struct strtab *t);
