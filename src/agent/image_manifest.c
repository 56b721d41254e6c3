/* image_manifest.c — parsing manifests and indexes into struct manifest. */
#include "agent/image_manifest.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image_ref.h"
#include "common/alloc.h"

#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"

static const char *const layer_types[] = {
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
};

static void desc_release(struct blob_desc *d) {
        free(d->media_type);
        free(d->digest);
        *d = (struct blob_desc){0};
}

void manifest_release(struct manifest *m) {
        desc_release(&m->config);
        desc_release(&m->platform);
        for (size_t i = 0; i < m->n_layers; i++)
                desc_release(&m->layers[i]);
        free(m->layers);
        *m = (struct manifest){0};
}

static int desc_parse(json_t *j, const char *what, struct blob_desc *ret, struct err *err) {
        if (!json_is_object(j))
                return err_set(err, -EINVAL, "manifest: %s is not an object", what);
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        const char *dg = json_string_value(json_object_get(j, "digest"));
        json_t *sz = json_object_get(j, "size");
        if (!dg)
                return err_set(err, -EINVAL, "manifest: %s has no digest", what);
        if (!image_digest_valid(dg))
                return err_set(err, -EINVAL, "manifest: %s digest '%.80s' is not sha256:<64 hex>", what, dg);
        if (!json_is_integer(sz) || json_integer_value(sz) < 0)
                return err_set(err, -EINVAL, "manifest: %s has no valid size", what);
        ret->media_type = mt ? xstrdup(mt) : NULL;
        ret->digest = xstrdup(dg);
        ret->size = json_integer_value(sz);
        return 0;
}

static bool layer_type_ok(const char *mt) {
        for (size_t i = 0; i < sizeof layer_types / sizeof *layer_types; i++)
                if (streq(mt, layer_types[i]))
                        return true;
        return false;
}

static int parse_image(json_t *doc, struct manifest *m, struct err *err) {
        int r = desc_parse(json_object_get(doc, "config"), "config", &m->config, err);
        if (r < 0)
                return r;
        json_t *layers = json_object_get(doc, "layers");
        if (!json_is_array(layers))
                return err_set(err, -EINVAL, "manifest: \"layers\" is not an array");
        size_t n = json_array_size(layers);
        if (n > MANIFEST_MAX_LAYERS)
                return err_set(err, -EINVAL, "manifest: %zu layers (at most %d)", n, MANIFEST_MAX_LAYERS);
        m->layers = xcalloc(n ? n : 1, sizeof *m->layers);
        for (size_t i = 0; i < n; i++) {
                json_t *l = json_array_get(layers, i);
                char what[32];
                snprintf(what, sizeof what, "layer %zu", i + 1);
                r = desc_parse(l, what, &m->layers[i], err);
                if (r < 0)
                        return r;
                m->n_layers = i + 1;
                const char *mt = m->layers[i].media_type;
                if (!mt)
                        return err_set(err, -EINVAL, "manifest: layer %zu has no mediaType", i + 1);
                if (strstr(mt, "foreign") && json_object_get(l, "urls"))
                        return err_set(err, -EINVAL,
                                       "manifest: layer %zu is a foreign layer (%s), not supported", i + 1,
                                       mt);
                if (!layer_type_ok(mt))
                        return err_set(err, -EINVAL,
                                       "manifest: layer %zu has unsupported media type '%.100s'", i + 1, mt);
        }
        return 0;
}

static int parse_index(json_t *doc, const char *os, const char *arch, struct manifest *m, struct err *err) {
        json_t *list = json_object_get(doc, "manifests");
        if (!json_is_array(list))
                return err_set(err, -EINVAL, "image index: \"manifests\" is not an array");
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e) {
                json_t *plat = json_object_get(e, "platform");
                const char *o = json_string_value(json_object_get(plat, "os"));
                const char *a = json_string_value(json_object_get(plat, "architecture"));
                if (!o || !a || !streq(o, os) || !streq(a, arch))
                        continue;
                char what[48];
                snprintf(what, sizeof what, "index entry %zu", i + 1);
                return desc_parse(e, what, &m->platform, err);
        }
        return err_set(err, -ERR_NOT_FOUND, "image index has no manifest for %s/%s", os, arch);
}

int manifest_parse(const char *body, size_t len, const char *content_type, const char *os, const char *arch,
                   struct manifest *ret, struct err *err) {
        if (len > MANIFEST_MAX_BYTES)
                return err_set(err, -EINVAL, "manifest larger than %u bytes", MANIFEST_MAX_BYTES);
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(doc))
                return err_set(err, -EINVAL, "manifest is not a JSON object (%s)",
                               doc ? "wrong type" : jerr.text);
        json_t *sv = json_object_get(doc, "schemaVersion");
        if (json_is_integer(sv) && json_integer_value(sv) == 1)
                return err_set(err, -EINVAL,
                               "manifest schema version 1 is not supported (push the image again with a "
                               "current Docker or use an OCI manifest)");
        if (!json_is_integer(sv) || json_integer_value(sv) != 2)
                return err_set(err, -EINVAL, "manifest has no schemaVersion 2");
        const char *mt = json_string_value(json_object_get(doc, "mediaType"));
        _cleanup_free_ char *ct = NULL;
        if (content_type) {
                ct = xstrndup(content_type, strcspn(content_type, "; \t"));
                if (!mt && strcmp(ct, "application/json") != 0 && strcmp(ct, "application/octet-stream") != 0)
                        mt = ct;
        }
        struct manifest m = {0};
        int r;
        if (!mt) /* OCI allows mediaType to be absent: decide by shape */
                mt = json_object_get(doc, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
        if (streq(mt, MT_DOCKER_V2) || streq(mt, MT_OCI_MANIFEST)) {
                m.kind = MANIFEST_IMAGE;
                r = parse_image(doc, &m, err);
        } else if (streq(mt, MT_DOCKER_LIST) || streq(mt, MT_OCI_INDEX)) {
                m.kind = MANIFEST_INDEX;
                r = parse_index(doc, os, arch, &m, err);
        } else {
                r = err_set(err, -EINVAL, "unsupported manifest media type '%.100s'", mt);
        }
        if (r < 0) {
                manifest_release(&m);
                return r;
        }
        *ret = m;
        return 0;
}

int image_config_parse(const char *body, size_t len, json_t **ret, struct err *err) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *doc = json_loadb(body, len, 0, &jerr);
        if (!json_is_object(doc))
                return err_set(err, -EINVAL, "image config is not a JSON object");
        json_t *c = json_object_get(doc, "config");
        if (c && !json_is_object(c) && !json_is_null(c))
                return err_set(err, -EINVAL, "image config: \"config\" is not an object");
        *ret = json_is_object(c) ? json_incref(c) : json_object();
        return 0;
}
