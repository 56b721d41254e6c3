/* app_text_cache.h — the compact JSON text of each stored app document, for GET /v2/apps.
 *
 * A stored app document is immutable (an update stores a new one), so its encoding can be kept
 * for as long as it is the app's current version: listing 10,000 apps becomes concatenation
 * instead of ~130 ms of jansson encoding per call. An entry holds a reference to the document it
 * was made from, so a later document can never be mistaken for it (no pointer reuse).
 *
 * Threads: the cache and every reference count live on the loop. A worker may read the text of
 * an entry it was handed (app_text_cache_lookup) until that reference is dropped on the loop. */
#pragma once

#include <jansson.h>
#include <stddef.h>

struct state;
struct app_text_cache;

/* One encoded document: immutable text, reference-counted on the loop. */
struct app_text {
        unsigned refs;
        json_t *app; /* the document it encodes (a reference) */
        size_t len;
        char text[]; /* compact JSON, NUL-terminated */
};

struct app_text_cache *app_text_cache_new(void);
void app_text_cache_free(struct app_text_cache *c);

/* The encoding of app if the cache has one for exactly this document, with a new reference;
 * NULL on a miss. Loop only. */
struct app_text *app_text_cache_lookup(struct app_text_cache *c, const char *id, const json_t *app);

/* Encodes app (any thread): a new text with one reference and a reference to app. */
struct app_text *app_text_encode(const json_t *app);

/* Keeps t for id if app is still the current document of id in st (a slower list may finish
 * after the app changed again); drops entries of apps no longer current when the cache has
 * grown past the number of apps. Loop only; does not take the caller's reference. */
void app_text_cache_store(struct app_text_cache *c, const struct state *st, const char *id, struct app_text *t);

struct app_text *app_text_ref(struct app_text *t);
/* Loop only. NULL is fine. */
void app_text_unref(struct app_text *t);

