/* util.h — random ids, file helpers and JSON helpers shared by every layer. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/macro.h"

/* jansson provides json_decrefp for _cleanup_(json_decrefp). */

/* Writes a random RFC 4122 version-4 UUID (36 chars + NUL) into buf. */
void uuid_random(char buf[static 37]);
/* Writes data to path atomically: path.tmp, fsync, rename, fsync of the directory. */
int file_write_atomic(const char *path, const void *data, size_t n, struct err *err);
/* Reads a whole file (at most max bytes) into a NUL-terminated buffer. -ENOENT if absent. */
int file_read_all(const char *path, size_t max, char **ret, size_t *ret_len, struct err *err);
/* mkdir -p with mode 0755. */
int mkdir_p(const char *path, struct err *err);
/* Compact JSON encoding (sorted keys off, preserving order); never NULL. */
char *json_compact(const json_t *j);

/* NULL-terminated string vectors (argv, env). strv_from_json: a JSON array of strings into a new
 * vector in *ret (NULL for NULL input); -EINVAL, *ret untouched, if arr is not an array of
 * strings. strv_free(NULL) is a no-op. */
int strv_from_json(const json_t *arr, char ***ret);
void strv_free(char **v);
