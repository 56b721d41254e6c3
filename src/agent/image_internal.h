/* image_internal.h — what image_store.c (store, index, gc) and image_pull.c (the registry
 * client) share. Not for other modules: they use image_store.h. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/image_store.h"
#include "common/hashmap.h"

/* A live image handed out to callers; img first so struct image * converts back. */
struct image_obj {
        struct image img;
        unsigned refs;
        struct image_obj *prev, *next;
};

struct image_store {
        uv_loop_t *loop;
        struct http_client *client;
        char *dir;             /* absolute, symlinks resolved */
        int lock_fd;           /* flock'd DIR/lock: one process per store */
        json_t *index;         /* {"refs": {ref: {"digest", "used"}}} */
        char *registry_config; /* Docker config.json text, or NULL */
        char **insecure;       /* hosts spoken to over HTTP */
        size_t n_insecure;
        struct hashmap pulls; /* canonical ref → struct pull in flight */
        struct image_obj *images;
        unsigned pulls_working; /* unpacks on the thread pool */
        uint64_t tmp_seq;
};

/* "sha256:<hex>" of data into out. */
void image_sha256(const void *data, size_t len, char out[static 72]);
/* DIR/blobs/sha256/<hex>, DIR/layers/sha256/<hex>, DIR/tmp/<tag>.<pid>.<seq>: new strings. */
char *store_blob_path(struct image_store *s, const char *digest);
char *store_layer_path(struct image_store *s, const char *digest);
char *store_tmp_path(struct image_store *s, const char *tag);
/* Writes a verified blob (tmp file, fsync, rename). */
int store_blob_put(struct image_store *s, const char *digest, const void *data, size_t len, struct err *err);
/* Records ref → digest as used now and persists the index. */
int store_index_set(struct image_store *s, const char *ref, const char *digest, struct err *err);
/* Builds (or finds) the live image for ref at digest from the blobs and layers on disk and
 * returns a new reference; -ENOENT when something is missing (a pull is needed). */
int store_image_open(struct image_store *s, const char *ref, const char *digest, struct image **ret,
                     struct err *err);
/* rm -rf; errors ignored except the first, returned. */
int store_rm_rf(const char *path);
bool store_host_insecure(struct image_store *s, const char *host);

/* image_pull.c */
struct pull;
/* Starts (or joins) the pull of ref_text; see image_store_pull. */
int pull_start(struct image_store *s, const char *ref_text, const struct image_auth *auth, bool force,
               image_progress_cb progress_cb, image_done_cb done_cb, void *data);
/* Abandons every pull in flight (store being freed). */
void pull_abandon_all(struct image_store *s);
