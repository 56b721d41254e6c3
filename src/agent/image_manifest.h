/* image_manifest.h — registry manifests: Docker schema 2 and OCI image manifests, Docker
 * manifest lists and OCI image indexes (from which linux/amd64 is chosen), and image configs.
 *
 * | media type                                                    | kind          |
 * | ------------------------------------------------------------- | ------------- |
 * | application/vnd.docker.distribution.manifest.v2+json          | image         |
 * | application/vnd.oci.image.manifest.v1+json                    | image         |
 * | application/vnd.docker.distribution.manifest.list.v2+json     | index         |
 * | application/vnd.oci.image.index.v1+json                       | index         |
 *
 * Layer media types accepted: docker …image.rootfs.diff.tar.gzip, OCI …layer.v1.tar,
 * …layer.v1.tar+gzip, …layer.v1.tar+zstd (and the nondistributable variants, when the
 * registry serves the blob). Schema 1 and foreign layers with URLs only are refused. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define MANIFEST_ACCEPT                                                                                      \
        "Accept: application/vnd.docker.distribution.manifest.v2+json, "                                     \
        "application/vnd.docker.distribution.manifest.list.v2+json, "                                        \
        "application/vnd.oci.image.manifest.v1+json, "                                                       \
        "application/vnd.oci.image.index.v1+json"
#define MANIFEST_MAX_BYTES (4u * 1024 * 1024)
#define MANIFEST_MAX_LAYERS 256

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };

struct blob_desc {
        char *media_type;
        char *digest; /* validated "sha256:<hex>" */
        int64_t size; /* >= 0 */
};

struct manifest {
        enum manifest_kind kind;
        /* MANIFEST_IMAGE */
        struct blob_desc config;
        struct blob_desc *layers;
        size_t n_layers;
        /* MANIFEST_INDEX: the manifest chosen for the platform */
        struct blob_desc platform;
};

/* Parses a manifest or index. content_type is the response's Content-Type (may be NULL: the
 * body's mediaType decides). For an index, the entry for os/arch is chosen (first match);
 * -ERR_NOT_FOUND when there is none. -EINVAL with a reason for anything malformed. */
int manifest_parse(const char *body, size_t len, const char *content_type, const char *os, const char *arch,
                   struct manifest *ret, struct err *err);
void manifest_release(struct manifest *m);

/* Parses an image config blob and returns (a new reference to) its "config" object, or an empty
 * object when absent. -EINVAL when the blob is not a JSON object or "config" is not one. */
int image_config_parse(const char *body, size_t len, json_t **ret, struct err *err);
