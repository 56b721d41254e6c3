/* image_store.c — the content-addressed store: index of refs, live images, gc. */
#include "agent/image_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/image_internal.h"
#include "agent/image_manifest.h"
#include "agent/image_ref.h"
#include "common/alloc.h"
#include "common/util.h"

#define INDEX_MAX (16u * 1024 * 1024)
#define CONFIG_MAX (16u * 1024 * 1024)

void image_sha256(const void *data, size_t len, char out[static 72]) {
        unsigned char md[32];
        unsigned int n = 0;
        EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
        memcpy(out, "sha256:", 7);
        for (unsigned i = 0; i < 32; i++)
                snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

char *store_blob_path(struct image_store *s, const char *digest) {
        return xasprintf("%s/blobs/sha256/%s", s->dir, digest + 7);
}

char *store_layer_path(struct image_store *s, const char *digest) {
        return xasprintf("%s/layers/sha256/%s", s->dir, digest + 7);
}

char *store_tmp_path(struct image_store *s, const char *tag) {
        return xasprintf("%s/tmp/%s.%d.%llu", s->dir, tag, (int)getpid(), (unsigned long long)++s->tmp_seq);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 && errno != ENOENT ? -errno : 0;
}

int store_rm_rf(const char *path) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 ? -errno : 0;
        return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0 ? -EIO : 0;
}

static uint64_t tree_bytes;
static int count_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        if (type == FTW_F || type == FTW_SL)
                tree_bytes += (uint64_t)st->st_blocks * 512;
        return 0;
}
/* Disk usage of a tree (nftw has no user pointer: gc runs on the loop thread only). */
static uint64_t du(const char *path) {
        tree_bytes = 0;
        nftw(path, count_one, 32, FTW_PHYS);
        return tree_bytes;
}

int store_blob_put(struct image_store *s, const char *digest, const void *data, size_t len, struct err *err) {
        _cleanup_free_ char *path = store_blob_path(s, digest);
        int r = file_write_atomic(path, data, len, err);
        return r < 0 ? err_wrap(err, "cannot store blob %s", digest) : 0;
}

static int index_save(struct image_store *s, struct err *err) {
        _cleanup_free_ char *path = xasprintf("%s/index.json", s->dir);
        _cleanup_free_ char *text = json_dumps(s->index, JSON_INDENT(1) | JSON_SORT_KEYS);
        return file_write_atomic(path, text, strlen(text), err);
}

int store_index_set(struct image_store *s, const char *ref, const char *digest, struct err *err) {
        json_object_set_new(json_object_get(s->index, "refs"), ref,
                            json_pack("{s:s,s:I}", "digest", digest, "used", (json_int_t)time(NULL)));
        int r = index_save(s, err);
        return r < 0 ? err_wrap(err, "cannot save the image index") : 0;
}

static bool path_exists(const char *p) {
        struct stat st;
        return lstat(p, &st) == 0;
}

/* Reads a stored blob and checks it still has its digest (the disk is not trusted blindly). */
static int blob_read(struct image_store *s, const char *digest, size_t max, char **ret, size_t *ret_len,
                     struct err *err) {
        _cleanup_free_ char *path = store_blob_path(s, digest);
        _cleanup_free_ char *data = NULL;
        size_t n;
        int r = file_read_all(path, max, &data, &n, err);
        if (r < 0)
                return r;
        char got[72];
        image_sha256(data, n, got);
        if (!streq(got, digest))
                return err_set(err, -ENOENT, "stored blob %s is corrupt (got %s)", digest, got);
        *ret = TAKE_PTR(data);
        *ret_len = n;
        return 0;
}

static void image_obj_free(struct image_obj *o) {
        free(o->img.ref);
        free(o->img.digest);
        for (size_t i = 0; i < o->img.n_layers; i++)
                free(o->img.layers[i]);
        free(o->img.layers);
        json_decref(o->img.config);
        free(o);
}

int store_image_open(struct image_store *s, const char *ref, const char *digest, struct image **ret,
                     struct err *err) {
        for (struct image_obj *o = s->images; o; o = o->next)
                if (streq(o->img.ref, ref) && streq(o->img.digest, digest)) {
                        o->refs++;
                        *ret = &o->img;
                        return 0;
                }
        _cleanup_free_ char *body = NULL;
        size_t len;
        int r = blob_read(s, digest, MANIFEST_MAX_BYTES, &body, &len, err);
        if (r < 0)
                return -ENOENT;
        struct manifest m = {0};
        r = manifest_parse(body, len, NULL, "linux", "amd64", &m, err);
        if (r < 0 || m.kind != MANIFEST_IMAGE) {
                manifest_release(&m);
                return err_set(err, -ENOENT, "stored manifest %s is unusable", digest);
        }
        struct image_obj *o = xcalloc(1, sizeof *o);
        o->img.layers = xcalloc(m.n_layers ? m.n_layers : 1, sizeof(char *));
        for (size_t i = 0; i < m.n_layers; i++) {
                o->img.layers[i] = store_layer_path(s, m.layers[i].digest);
                o->img.n_layers = i + 1;
                if (!path_exists(o->img.layers[i]))
                        r = err_set(err, -ENOENT, "layer %s is not unpacked", m.layers[i].digest);
        }
        _cleanup_free_ char *cfg = NULL;
        size_t cfg_len;
        if (r >= 0)
                r = blob_read(s, m.config.digest, CONFIG_MAX, &cfg, &cfg_len, err);
        if (r >= 0)
                r = image_config_parse(cfg, cfg_len, &o->img.config, err);
        manifest_release(&m);
        if (r < 0) {
                image_obj_free(o);
                return -ENOENT;
        }
        o->img.ref = xstrdup(ref);
        o->img.digest = xstrdup(digest);
        o->refs = 1;
        o->next = s->images;
        if (s->images)
                s->images->prev = o;
        s->images = o;
        *ret = &o->img;
        return 0;
}

void image_store_unref(struct image_store *s, struct image *img) {
        if (!img)
                return;
        struct image_obj *o = (struct image_obj *)img;
        if (--o->refs > 0)
                return;
        if (o->prev)
                o->prev->next = o->next;
        else
                s->images = o->next;
        if (o->next)
                o->next->prev = o->prev;
        image_obj_free(o);
}

bool store_host_insecure(struct image_store *s, const char *host) {
        if (image_ref_host_is_loopback(host))
                return true;
        for (size_t i = 0; i < s->n_insecure; i++)
                if (streq(s->insecure[i], host))
                        return true;
        return false;
}

void image_store_add_insecure_registry(struct image_store *s, const char *host) {
        s->insecure = xrealloc(s->insecure, (s->n_insecure + 1) * sizeof *s->insecure);
        s->insecure[s->n_insecure++] = xstrdup(host);
}

int image_store_load_registry_config(struct image_store *s, const char *path, struct err *err) {
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r = file_read_all(path, 1024 * 1024, &text, &n, err);
        if (r < 0)
                return err_wrap(err, "registry config '%s'", path);
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *doc = json_loads(text, 0, &jerr);
        if (!json_is_object(doc))
                return err_set(err, -ERR_BAD_JSON, "registry config '%s': not a JSON object (line %d: %s)",
                               path, jerr.line, jerr.text);
        json_t *auths = json_object_get(doc, "auths");
        if (!json_is_object(auths))
                return err_set(err, -ERR_BAD_JSON, "registry config '%s': no \"auths\" object", path);
        free(s->registry_config);
        s->registry_config = TAKE_PTR(text);
        return 0;
}

static int make_dirs(const char *dir, struct err *err) {
        static const char *const subs[] = {"blobs/sha256", "layers/sha256", "tmp"};
        for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, subs[i]);
                int r = mkdir_p(p, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int image_store_new(uv_loop_t *loop, struct http_client *client, const char *dir, struct image_store **ret,
                    struct err *err) {
        int r = mkdir_p(dir, err);
        if (r < 0)
                return err_wrap(err, "image store");
        char real[PATH_MAX];
        if (!realpath(dir, real))
                return err_set(err, -errno, "image store '%s': %m", dir);
        r = make_dirs(real, err);
        if (r < 0)
                return err_wrap(err, "image store");
        _cleanup_free_ char *lock = xasprintf("%s/lock", real);
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return err_set(err, -errno, "image store '%s': cannot open its lock: %m", real);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                close(fd);
                return err_set(err, -EBUSY, "image store '%s' is in use by another process", real);
        }
        _cleanup_free_ char *ipath = xasprintf("%s/index.json", real);
        _cleanup_free_ char *text = NULL;
        size_t n;
        json_t *index = NULL;
        r = file_read_all(ipath, INDEX_MAX, &text, &n, err);
        if (r >= 0) {
                json_error_t jerr;
                index = json_loadb(text, n, 0, &jerr);
                if (!json_is_object(index) || !json_is_object(json_object_get(index, "refs"))) {
                        json_decref(index);
                        close(fd);
                        return err_set(err, -ERR_BAD_JSON, "image index '%s' is corrupt", ipath);
                }
        } else if (r != -ENOENT) {
                close(fd);
                return r;
        } else {
                err_release(err);
                index = json_pack("{s:{}}", "refs");
        }
        /* Every digest in the index becomes a path: an entry without a valid one is dropped here
         * (a hand-edited or damaged index), never used. */
        json_t *refs = json_object_get(index, "refs");
        const char *rk;
        json_t *rv, *tmpv;
        json_object_foreach_safe(refs, tmpv, rk, rv) {
                if (!image_digest_valid(json_string_value(json_object_get(rv, "digest")) ?: ""))
                        json_object_del(refs, rk);
        }
        /* Leftovers of a pull interrupted by a crash: nothing refers to them. */
        _cleanup_free_ char *tmp = xasprintf("%s/tmp", real);
        store_rm_rf(tmp);
        mkdir(tmp, 0700);

        struct image_store *s = xcalloc(1, sizeof *s);
        s->loop = loop;
        s->client = client;
        s->dir = xstrdup(real);
        s->lock_fd = fd;
        s->index = index;
        hashmap_init(&s->pulls);
        *ret = s;
        return 0;
}

int image_store_open_configured(uv_loop_t *loop, struct http_client *client, const char *data_dir,
                                const char *registry_config, char *const *insecure, struct image_store **ret,
                                struct err *err) {
        _cleanup_free_ char *dir = xasprintf("%s/images", data_dir);
        struct image_store *s = NULL;
        if (image_store_new(loop, client, dir, &s, err) < 0)
                return err_wrap(err, "cannot open the image store");
        if (registry_config && image_store_load_registry_config(s, registry_config, err) < 0) {
                image_store_free(s);
                return err_wrap(err, "--registry-config");
        }
        for (size_t i = 0; insecure && insecure[i]; i++)
                image_store_add_insecure_registry(s, insecure[i]);
        *ret = s;
        return 0;
}

void image_store_free(struct image_store *s) {
        if (!s)
                return;
        pull_abandon_all(s);
        while (s->images) {
                struct image_obj *o = s->images;
                s->images = o->next;
                image_obj_free(o);
        }
        hashmap_release(&s->pulls);
        json_decref(s->index);
        free(s->registry_config);
        for (size_t i = 0; i < s->n_insecure; i++)
                free(s->insecure[i]);
        free(s->insecure);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        free(s->dir);
        free(s);
}

int image_store_pull(struct image_store *s, const char *ref, const struct image_auth *auth, bool force,
                     image_progress_cb progress_cb, image_done_cb done_cb, void *data) {
        return pull_start(s, ref, auth, force, progress_cb, done_cb, data);
}

int image_store_get(struct image_store *s, const char *ref, struct image **ret, struct err *err) {
        struct image_ref r = {0};
        int rc = image_ref_parse(ref, &r, err);
        if (rc < 0)
                return rc;
        _cleanup_free_ char *key = image_ref_canonical(&r);
        image_ref_release(&r);
        const char *digest = json_string_value(
                json_object_get(json_object_get(json_object_get(s->index, "refs"), key), "digest"));
        if (!digest || store_image_open(s, key, digest, ret, err) < 0)
                return err_set(err, -ERR_NOT_FOUND, "image '%s' is not in the store", key);
        return 0;
}

int image_store_remove(struct image_store *s, const char *ref, struct err *err) {
        struct image_ref r = {0};
        int rc = image_ref_parse(ref, &r, err);
        if (rc < 0)
                return rc;
        _cleanup_free_ char *key = image_ref_canonical(&r);
        image_ref_release(&r);
        json_t *refs = json_object_get(s->index, "refs");
        if (!json_object_get(refs, key))
                return err_set(err, -ERR_NOT_FOUND, "image '%s' is not in the store", key);
        json_object_del(refs, key);
        return index_save(s, err);
}

json_t *image_store_list(struct image_store *s) {
        json_t *out = json_array();
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(s->index, "refs"), key, v) {
                unsigned in_use = 0;
                for (struct image_obj *o = s->images; o; o = o->next)
                        if (streq(o->img.ref, key))
                                in_use += o->refs;
                json_t *line =
                        json_pack("{s:s,s:O,s:O,s:i}", "ref", key, "digest", json_object_get(v, "digest"),
                                  "used", json_object_get(v, "used"), "in_use", (int)in_use);
                struct image *img = NULL;
                struct err e = {0};
                const char *digest = json_string_value(json_object_get(v, "digest"));
                if (digest && store_image_open(s, key, digest, &img, &e) == 0) {
                        json_object_set_new(line, "layers", json_integer((json_int_t)img->n_layers));
                        image_store_unref(s, img);
                } else {
                        json_object_set_new(line, "layers", json_null());
                        json_object_set_new(line, "problem", json_string(err_msg(&e)));
                }
                err_release(&e);
                json_array_append_new(out, line);
        }
        return out;
}

/* Adds the blobs and layers that manifest digest needs to keep (a JSON object used as a set). */
static void mark_needed(struct image_store *s, const char *digest, json_t *keep) {
        json_object_set_new(keep, digest + 7, json_true());
        _cleanup_free_ char *body = NULL;
        size_t len;
        struct err e = {0};
        struct manifest m = {0};
        if (blob_read(s, digest, MANIFEST_MAX_BYTES, &body, &len, &e) == 0 &&
            manifest_parse(body, len, NULL, "linux", "amd64", &m, &e) == 0 && m.kind == MANIFEST_IMAGE) {
                json_object_set_new(keep, m.config.digest + 7, json_true());
                for (size_t i = 0; i < m.n_layers; i++)
                        json_object_set_new(keep, m.layers[i].digest + 7, json_true());
        }
        manifest_release(&m);
        err_release(&e);
}

static void sweep(const char *dir, json_t *keep, size_t *count, uint64_t *bytes) {
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || json_object_get(keep, de->d_name))
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
                uint64_t b = du(p);
                if (store_rm_rf(p) == 0) {
                        (*count)++;
                        *bytes += b;
                }
        }
        closedir(d);
}

int image_store_gc(struct image_store *s, unsigned max_age_s, struct image_gc_stats *stats, struct err *err) {
        struct image_gc_stats st = {0};
        if (hashmap_size(&s->pulls) > 0 || s->pulls_working > 0)
                return err_set(err, -EBUSY, "image gc: pulls are in progress, try again later");
        json_t *refs = json_object_get(s->index, "refs");
        time_t now = time(NULL);
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(refs, tmp, key, v) {
                bool in_use = false;
                for (struct image_obj *o = s->images; o; o = o->next)
                        in_use |= streq(o->img.ref, key);
                json_int_t used = json_integer_value(json_object_get(v, "used"));
                if (!in_use && (max_age_s == 0 || now - (time_t)used >= (time_t)max_age_s)) {
                        json_object_del(refs, key);
                        st.refs_removed++;
                }
        }
        if (st.refs_removed) {
                int r = index_save(s, err);
                if (r < 0)
                        return err_wrap(err, "image gc");
        }
        _cleanup_(json_decrefp) json_t *keep = json_object();
        json_object_foreach(refs, key, v) {
                const char *d = json_string_value(json_object_get(v, "digest"));
                if (d && image_digest_valid(d))
                        mark_needed(s, d, keep);
        }
        for (struct image_obj *o = s->images; o; o = o->next)
                mark_needed(s, o->img.digest, keep);
        _cleanup_free_ char *layers = xasprintf("%s/layers/sha256", s->dir);
        _cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", s->dir);
        _cleanup_free_ char *tmpdir = xasprintf("%s/tmp", s->dir);
        _cleanup_(json_decrefp) json_t *none = json_object();
        size_t tmp_count = 0;
        sweep(layers, keep, &st.layers_removed, &st.bytes_freed);
        sweep(blobs, keep, &st.blobs_removed, &st.bytes_freed);
        sweep(tmpdir, none, &tmp_count, &st.bytes_freed);
        if (stats)
                *stats = st;
        return 0;
}
