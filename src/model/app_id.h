/* app_id.h — Marathon path ids ("/group/app"): syntax, canonical form and parents. Shared by
 * apps, groups and dependencies. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct verrs;

/* The exact messages Marathon's PathId validators print. */
extern const char app_id_pattern_message[];
extern const char app_id_reserved_message[];

/* True if one segment (s, n bytes) is DNS-like labels ("a.b-c") or "." or "..". */
bool app_id_segment_valid(const char *s, size_t n);
/* True if every non-empty segment of id is valid. */
bool app_id_chars_valid(const char *id);
/* Resolves id (absolute, or relative to parent) and removes "." and ".." segments and empty
 * ones; returns a new absolute path, "/" for the root. Does not validate characters. */
char *app_id_canonical(const char *id, const char *parent);
/* "/a/b" → "/a"; "/a" → "/". New string. */
char *app_id_parent(const char *abs);
/* Validates id like Marathon (characters, non-root, reserved last segment, child of parent when
 * parent is not the root), adding messages under path to v. On success returns 0 and, if ret,
 * the canonical absolute id (new string); else -ERR_INVALID. */
int app_id_check(const char *id, const char *parent, const char *path, char **ret, struct verrs *v);
