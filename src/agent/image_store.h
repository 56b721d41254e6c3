/* image_store.h — the agent's content-addressed image store: pulls images from any Docker/OCI
 * registry v2 (registry_pull.c), verifies every manifest and blob by sha256, unpacks layers once
 * and shares them between all tasks of the agent; garbage-collects what no image in use needs.
 *
 * On-disk layout under DIR (normally DATA/images):
 *
 * | path                          | what                                                       |
 * | ----------------------------- | ---------------------------------------------------------- |
 * | blobs/sha256/<hex>            | manifests, image configs and compressed layers, verified  |
 * | layers/sha256/<hex>/          | the layer blob <hex> unpacked (overlayfs whiteouts), ready  |
 * |                               | to be an overlay lowerdir; created as tmp/ + rename        |
 * | tmp/                          | downloads and unpacks in progress (emptied at start, gc)   |
 * | index.json                    | refs → manifest digest, last use; written atomically      |
 *
 * index.json: {"refs": {"<canonical ref>": {"digest": "sha256:…", "used": <unix seconds>}}}.
 * A canonical ref is "host[:port]/name:tag" or "host[:port]/name@sha256:…" (image_ref.h).
 *
 * Everything runs on the loop thread except unpacking (uv_queue_work). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/err.h"
#include "net/http_client.h"

struct image_store;

/* A pulled image. Owned by the store and refcounted: every image_store_pull success hands the
 * caller one reference, released with image_store_unref. Fields are read-only for callers. */
struct image {
        char *ref;     /* canonical ref as asked ("localhost:5000/web:1") */
        char *digest;  /* manifest digest "sha256:…" (of the platform manifest) */
        char **layers; /* absolute paths of unpacked layer dirs, bottom first */
        size_t n_layers;
        json_t *config; /* the image config's "config" object (Entrypoint, Cmd, Env, User,
                           WorkingDir, ExposedPorts…); an empty object when the image has none */
};

/* Registry credentials for one pull (basic auth; also used to get a bearer token). NULL fields
 * mean none. The agent's --registry-config entries are used when a pull passes auth == NULL. */
struct image_auth {
        const char *username;
        const char *password;
};

/* progress_cb: human messages during a long pull ("pulling layer 2/5: 12.3 MiB of 40.0 MiB"),
 * at most about one a second per pull. done_cb: exactly once, with img (one reference the
 * caller must image_store_unref) or img == NULL and err saying why ("pull
 * 'localhost:5000/web:1': blob sha256:… digest mismatch (got sha256:…)"). */
typedef void (*image_progress_cb)(void *data, const char *message);
typedef void (*image_done_cb)(void *data, struct image *img, const struct err *err);

/* Opens (creating) the store in dir and loads its index; leftovers in tmp/ are removed.
 * client is borrowed and must outlive the store. */
int image_store_new(uv_loop_t *loop, struct http_client *client, const char *dir, struct image_store **ret,
                    struct err *err);
/* The store of an agent's data directory, DATA_DIR/images, set up from the registry flags that
 * `strata agent` and `strata image` share: credentials from registry_config (a Docker
 * config.json, or NULL) and the NULL-terminated insecure registries (or NULL). On failure err
 * says which step failed ("cannot open the image store: …", "--registry-config: …"). */
int image_store_open_configured(uv_loop_t *loop, struct http_client *client, const char *data_dir,
                                const char *registry_config, char *const *insecure, struct image_store **ret,
                                struct err *err);
/* Frees the store. Pulls in flight are abandoned (their callbacks are not called); images
 * still referenced by callers become invalid. */
void image_store_free(struct image_store *s);

/* Loads registry credentials from a Docker config.json ({"auths": {"host": {"auth":
 * base64(user:pass)} | {"username", "password"}}}). Used for pulls without explicit auth. */
int image_store_load_registry_config(struct image_store *s, const char *path, struct err *err);
/* Registries (host[:port]) spoken to over plain HTTP. Loopback registries (localhost,
 * 127.0.0.0/8, [::1]) always are, like Docker's default insecure range. */
void image_store_add_insecure_registry(struct image_store *s, const char *host);

/* Pulls (or finds) ref. A ref already in the index whose layers are all present is answered
 * without any network traffic unless force (forcePullImage), which re-resolves the tag.
 * Concurrent pulls of one ref share one download. Callbacks run on the loop, never from inside
 * this call. Returns 0, or < 0 (invalid ref) with no callback called; the reason goes to
 * done_cb's err in all other cases. */
int image_store_pull(struct image_store *s, const char *ref, const struct image_auth *auth, bool force,
                     image_progress_cb progress_cb, image_done_cb done_cb, void *data);
/* Finds a pulled image without network traffic: 0 with a new reference in *ret, or
 * -ERR_NOT_FOUND. */
int image_store_get(struct image_store *s, const char *ref, struct image **ret, struct err *err);
/* Releases one reference; the layers stay on disk until gc. img may be NULL. */
void image_store_unref(struct image_store *s, struct image *img);

/* Forgets ref (and its index entry); its content goes at the next gc. -ERR_NOT_FOUND if unknown. */
int image_store_remove(struct image_store *s, const char *ref, struct err *err);

struct image_gc_stats {
        size_t refs_removed, layers_removed, blobs_removed;
        uint64_t bytes_freed;
};
/* Forgets refs not used for max_age_s seconds and not in use (max_age_s 0: every ref not in
 * use), then removes every layer and blob that neither an image in use nor a remaining ref
 * needs, and tmp/ leftovers of no pull in flight. Blocking (directory removal); an operator
 * command or an idle timer calls it. */
int image_store_gc(struct image_store *s, unsigned max_age_s, struct image_gc_stats *stats, struct err *err);

/* One line per known ref: {"ref", "digest", "used", "layers": n, "in_use": refs}. New array. */
json_t *image_store_list(struct image_store *s);

/* Turns a Docker config.json text (the value of an app's pullConfig secret) into credentials
 * for registry host: 0 with malloc'd *user and *password, -ERR_NOT_FOUND when it has none for
 * host, -ERR_BAD_JSON when malformed. */
int image_auth_from_docker_config(const char *json_text, const char *host, char **user, char **password,
                                  struct err *err);
