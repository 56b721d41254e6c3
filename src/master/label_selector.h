/* label_selector.h — Marathon's label selectors for GET /v2/apps?label=…
 *
 * Comma-separated selectors that must all match: `key` (exists), `key==v`, `key!=v`,
 * `key in (a,b)`, `key notin (a,b)`. Names and values are [-A-Za-z0-9_.]; any other character
 * is escaped with a backslash. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

struct label_selector;

/* Parses text (at most 64 KiB, 256 selectors). Returns 0, or -EINVAL with a message. */
int label_selector_parse(const char *text, struct label_selector **ret, struct err *err);
void label_selector_free(struct label_selector *sel);
/* True if labels (a JSON object of strings, may be NULL) satisfy every selector. */
bool label_selector_match(const struct label_selector *sel, const json_t *labels);
