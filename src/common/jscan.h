/* jscan.h — a small pull scanner over JSON text, for reading large snapshots without building a
 * jansson tree of every value: the caller walks the structure it expects, decodes scalars into
 * its own buffers, and hands containers it does not care to walk to jansson (jscan_value).
 *
 * Every function returns 0 or -EINVAL (malformed or over a bound) and then leaves sc->p where
 * the problem is; input is untrusted: strings are checked to be UTF-8 without NUL. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jscan {
        const char *p, *end;
        const char *start; /* for error offsets */
};

void jscan_init(struct jscan *sc, const char *buf, size_t len);
/* Skips whitespace; returns the next byte or 0 at the end. */
char jscan_peek(struct jscan *sc);
/* Consumes c (after whitespace). */
int jscan_expect(struct jscan *sc, char c);
/* After an element of an array/object: consumes ',' (returns 1: another element follows) or
 * close (returns 0). */
int jscan_next(struct jscan *sc, char close);
/* A string into buf (cap bytes including the NUL): decoded, NUL-terminated, its length in *len. */
int jscan_string(struct jscan *sc, char *buf, size_t cap, size_t *len);
/* A number: *is_int tells whether it has neither fraction nor exponent (then *i holds it). */
int jscan_number(struct jscan *sc, double *d, int64_t *i, bool *is_int);
/* null: returns 1 and consumes it if the next value is null, else 0. */
int jscan_null(struct jscan *sc);
/* Any value as a new jansson value. */
int jscan_value(struct jscan *sc, json_t **ret);
/* Skips any value. */
int jscan_skip(struct jscan *sc);
/* Byte offset of the current position (for messages). */
size_t jscan_offset(const struct jscan *sc);
