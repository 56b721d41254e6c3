/* app_text_cache.c — encoded app documents kept per version (see app_text_cache.h). */
#include <string.h>

#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/util.h"
#include "master/app_text_cache.h"
#include "store/state.h"

struct entry {
        char *id; /* the key */
        struct app_text *text;
};

struct app_text_cache {
        struct hashmap map; /* app id → struct entry */
};

struct app_text_cache *app_text_cache_new(void) {
        struct app_text_cache *c = xcalloc(1, sizeof *c);
        hashmap_init(&c->map);
        return c;
}

static void entry_free(struct entry *e) {
        app_text_unref(e->text);
        free(e->id);
        free(e);
}

void app_text_cache_free(struct app_text_cache *c) {
        if (!c)
                return;
        size_t pos = 0;
        const char *key;
        void *v;
        while (hashmap_next(&c->map, &pos, &key, &v))
                entry_free(v);
        hashmap_release(&c->map);
        free(c);
}

struct app_text *app_text_ref(struct app_text *t) {
        t->refs++;
        return t;
}

void app_text_unref(struct app_text *t) {
        if (!t || --t->refs > 0)
                return;
        json_decref(t->app);
        free(t);
}

struct app_text *app_text_encode(const json_t *app) {
        _cleanup_free_ char *s = json_compact(app);
        size_t n = strlen(s);
        struct app_text *t = xmalloc(sizeof *t + n + 1);
        t->refs = 1;
        t->app = json_incref((json_t *)app);
        t->len = n;
        memcpy(t->text, s, n + 1);
        return t;
}

struct app_text *app_text_cache_lookup(struct app_text_cache *c, const char *id, const json_t *app) {
        struct entry *e = hashmap_get(&c->map, id);
        if (!e || e->text->app != app)
                return NULL;
        return app_text_ref(e->text);
}

/* Entries of deleted or changed apps would otherwise stay until the same id is listed again. */
static void sweep(struct app_text_cache *c, const struct state *st) {
        size_t pos = 0;
        const char *key;
        void *v;
        while (hashmap_next(&c->map, &pos, &key, &v)) {
                struct entry *e = v;
                if (state_app_get(st, e->id) != e->text->app) {
                        hashmap_remove(&c->map, key);
                        entry_free(e);
                }
        }
}

void app_text_cache_store(struct app_text_cache *c, const struct state *st, const char *id, struct app_text *t) {
        if (state_app_get(st, id) != t->app)
                return;
        struct entry *e = hashmap_get(&c->map, id);
        if (e) {
                app_text_unref(e->text);
                e->text = app_text_ref(t);
        } else {
                e = xcalloc(1, sizeof *e);
                e->id = xstrdup(id);
                e->text = app_text_ref(t);
                hashmap_put(&c->map, e->id, e);
        }
        /* Slack so that a sweep (a walk of the whole cache) happens at most once per ~1,000 apps
         * deleted, not on every store. */
        if (hashmap_size(&c->map) > state_app_count(st) + 1024)
                sweep(c, st);
}

