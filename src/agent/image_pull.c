/* image_pull.c — the registry v2 client: resolves a ref to a manifest, fetches the config and
 * every layer blob with sha256 verification while streaming, unpacks layers on the thread pool,
 * and answers every caller waiting for the same ref (distribution spec "Pulling an image"). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/image_internal.h"
#include "agent/image_manifest.h"
#include "agent/image_ref.h"
#include "agent/layer_unpack.h"
#include "agent/registry_auth.h"
#include "common/alloc.h"
#include "common/strbuf.h"

#define REQUEST_TIMEOUT_MS 60000L
#define BLOB_STALL_S 60L
#define PROGRESS_EVERY_MS 1000
#define CONFIG_MAX (16u * 1024 * 1024)

enum step { STEP_MANIFEST, STEP_CONFIG, STEP_LAYER, STEP_TOKEN, STEP_DONE };

struct waiter {
        image_progress_cb progress;
        image_done_cb done;
        void *data;
};

struct pull {
        struct image_store *s; /* NULL once abandoned */
        char *key;             /* canonical ref, key in s->pulls */
        struct image_ref ref;
        char *user, *password;
        struct waiter *w;
        size_t n_w;

        char *base;      /* "https://host/v2/<name>" */
        char *token_url; /* the token request to make (STEP_TOKEN) */
        char *authz;     /* "Authorization: …" once we have one */
        bool auth_tried; /* the current request already answered a challenge */
        enum step step, after_token;
        struct transfer *xfer;

        char *want_digest; /* manifest digest to expect, if known */
        char *digest;      /* the platform manifest's digest */
        struct manifest m;

        /* layer download */
        size_t layer;
        int fd;
        char *tmp;
        EVP_MD_CTX *md;
        uint64_t got;
        uint64_t last_progress_ms;
        char *stream_err;

        /* unpack on the thread pool */
        uv_work_t work;
        bool unpacking; /* work is queued */
        char *blob_path, *layer_path, *unpack_tmp;
        struct err work_err;

        uv_timer_t timer; /* answers found-locally pulls on a later loop turn */
        struct image *result;
        struct err err;
};

static void request(struct pull *p);

static void progress(struct pull *p, const char *fmt, ...) _printf_(2, 3);
static void progress(struct pull *p, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        for (size_t i = 0; i < p->n_w; i++)
                if (p->w[i].progress)
                        p->w[i].progress(p->w[i].data, msg);
}

static void pull_free(struct pull *p) {
        free(p->key);
        image_ref_release(&p->ref);
        free(p->user);
        free(p->password);
        free(p->w);
        free(p->base);
        free(p->token_url);
        free(p->authz);
        free(p->want_digest);
        free(p->digest);
        manifest_release(&p->m);
        if (p->fd >= 0)
                close(p->fd);
        if (p->tmp) {
                unlink(p->tmp);
                free(p->tmp);
        }
        if (p->md)
                EVP_MD_CTX_free(p->md);
        free(p->stream_err);
        free(p->blob_path);
        free(p->layer_path);
        free(p->unpack_tmp);
        err_release(&p->work_err);
        err_release(&p->err);
        free(p);
}

static void timer_closed(uv_handle_t *h) {
        pull_free(h->data);
}

/* Answers every waiter (each gets its own reference) and frees the pull. */
static void finish(struct pull *p) {
        struct image_store *s = p->s;
        p->step = STEP_DONE;
        if (s) {
                hashmap_remove(&s->pulls, p->key);
                if (p->result) {
                        /* one reference per waiter: result holds the first */
                        for (size_t i = 1; i < p->n_w; i++)
                                ((struct image_obj *)p->result)->refs++;
                } else if (!p->err.msg) {
                        err_set(&p->err, -EIO, "pull failed");
                }
                if (!p->result)
                        err_wrap(&p->err, "pull '%s'", p->key);
                for (size_t i = 0; i < p->n_w; i++)
                        p->w[i].done(p->w[i].data, p->result, p->result ? NULL : &p->err);
        }
        uv_close((uv_handle_t *)&p->timer, timer_closed);
}

static void fail(struct pull *p, int code, const char *fmt, ...) _printf_(3, 4);
static void fail(struct pull *p, int code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        err_set(&p->err, code, "%s", msg);
        finish(p);
}

static void fail_err(struct pull *p, struct err *e) {
        err_set(&p->err, e->code ? e->code : -EIO, "%s", err_msg(e));
        finish(p);
}

static bool layer_present(struct pull *p, size_t i) {
        _cleanup_free_ char *path = store_layer_path(p->s, p->m.layers[i].digest);
        struct stat st;
        return lstat(path, &st) == 0;
}

static void format_mib(char buf[static 32], uint64_t n) {
        snprintf(buf, 32, "%.1f MiB", (double)n / (1024.0 * 1024.0));
}

/* Registry errors come as {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "…"}]}. */
static char *registry_error(const struct http_client_response *resp) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *doc = json_loadb(resp->body, resp->len, 0, &jerr);
        json_t *e0 = json_array_get(json_object_get(doc, "errors"), 0);
        const char *code = json_string_value(json_object_get(e0, "code"));
        const char *msg = json_string_value(json_object_get(e0, "message"));
        if (msg)
                return xasprintf("%.200s%s%.60s%s", msg, code ? " (" : "", code ? code : "", code ? ")" : "");
        return xasprintf("HTTP %ld", resp->status);
}

static void start_layers(struct pull *p);

static char *url_escape(const char *s) {
        char *e = curl_easy_escape(NULL, s, 0);
        char *out = xstrdup(e ? e : "");
        curl_free(e);
        return out;
}

static void unpack_work(uv_work_t *w) {
        struct pull *p = w->data;
        int r = mkdir(p->unpack_tmp, 0755);
        if (r < 0) {
                err_set(&p->work_err, -errno, "cannot create '%s': %m", p->unpack_tmp);
                return;
        }
        r = layer_unpack(p->blob_path, p->unpack_tmp, &p->work_err);
        if (r >= 0) {
                int fd = open(p->unpack_tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0) {
                        syncfs(fd); /* the rename below publishes the layer: its content first */
                        close(fd);
                }
                /* another pull may have published the same layer meanwhile: it is identical */
                if (rename(p->unpack_tmp, p->layer_path) < 0 && errno != EEXIST && errno != ENOTEMPTY)
                        r = err_set(&p->work_err, -errno, "cannot publish layer: %m");
        }
        store_rm_rf(p->unpack_tmp);
        /* the unpacked layer is what tasks use; its compressed blob would only double the space */
        if (r >= 0)
                unlink(p->blob_path);
}

static void unpack_done(uv_work_t *w, int status) {
        struct pull *p = w->data;
        p->unpacking = false;
        if (p->s)
                p->s->pulls_working--;
        if (!p->s) {
                finish(p);
                return;
        }
        if (p->work_err.msg) {
                err_wrap(&p->work_err, "layer %s", p->m.layers[p->layer].digest);
                fail_err(p, &p->work_err);
                return;
        }
        p->layer++;
        start_layers(p);
}

static void start_unpack(struct pull *p) {
        const char *digest = p->m.layers[p->layer].digest;
        free(p->blob_path);
        free(p->layer_path);
        free(p->unpack_tmp);
        p->blob_path = store_blob_path(p->s, digest);
        p->layer_path = store_layer_path(p->s, digest);
        p->unpack_tmp = store_tmp_path(p->s, "unpack");
        progress(p, "unpacking layer %zu/%zu (%.19s)", p->layer + 1, p->m.n_layers, digest);
        p->work.data = p;
        p->unpacking = true;
        p->s->pulls_working++;
        uv_queue_work(p->s->loop, &p->work, unpack_work, unpack_done);
}

static void finish_image(struct pull *p) {
        struct err e = {0};
        if (store_index_set(p->s, p->key, p->digest, &e) < 0 ||
            store_image_open(p->s, p->key, p->digest, &p->result, &e) < 0) {
                fail_err(p, &e);
                err_release(&e);
                return;
        }
        progress(p, "pulled %s (%s, %zu layers)", p->key, p->digest, p->m.n_layers);
        finish(p);
}

static void start_layers(struct pull *p) {
        while (p->layer < p->m.n_layers && layer_present(p, p->layer))
                p->layer++;
        if (p->layer == p->m.n_layers) {
                finish_image(p);
                return;
        }
        /* a blob verified earlier (a pull whose unpack failed or was interrupted) is reused */
        _cleanup_free_ char *blob = store_blob_path(p->s, p->m.layers[p->layer].digest);
        struct stat st;
        if (lstat(blob, &st) == 0 && S_ISREG(st.st_mode) &&
            (int64_t)st.st_size == p->m.layers[p->layer].size) {
                start_unpack(p);
                return;
        }
        p->step = STEP_LAYER;
        request(p);
}

static int layer_data(void *data, const char *chunk, size_t len) {
        struct pull *p = data;
        const struct blob_desc *d = &p->m.layers[p->layer];
        if (p->fd < 0) {
                p->tmp = store_tmp_path(p->s, "blob");
                p->fd = open(p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (p->fd < 0) {
                        p->stream_err = xasprintf("cannot create '%s': %s", p->tmp, strerror(errno));
                        return 1;
                }
                p->md = EVP_MD_CTX_new();
                EVP_DigestInit_ex(p->md, EVP_sha256(), NULL);
                p->got = 0;
        }
        if (p->got + len > (uint64_t)d->size) {
                p->stream_err = xasprintf("blob %s is larger than the %lld bytes the manifest says",
                                          d->digest, (long long)d->size);
                return 1;
        }
        EVP_DigestUpdate(p->md, chunk, len);
        /* page-cache writes of at most curl's buffer size: short enough for the loop thread */
        for (size_t off = 0; off < len;) {
                ssize_t n = write(p->fd, chunk + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        p->stream_err = xasprintf("cannot write '%s': %s", p->tmp, strerror(errno));
                        return 1;
                }
                off += (size_t)n;
        }
        p->got += len;
        uint64_t now = uv_now(p->s->loop);
        if (now - p->last_progress_ms >= PROGRESS_EVERY_MS) {
                p->last_progress_ms = now;
                char a[32], b[32];
                format_mib(a, p->got);
                format_mib(b, (uint64_t)d->size);
                progress(p, "pulling layer %zu/%zu: %s of %s", p->layer + 1, p->m.n_layers, a, b);
        }
        return 0;
}

static void layer_downloaded(struct pull *p) {
        const struct blob_desc *d = &p->m.layers[p->layer];
        if (p->fd < 0) { /* an empty body: still a blob to check */
                if (layer_data(p, "", 0) != 0) {
                        fail(p, -EIO, "%s", p->stream_err);
                        return;
                }
        }
        unsigned char md[32];
        unsigned int n = 0;
        EVP_DigestFinal_ex(p->md, md, &n);
        EVP_MD_CTX_free(p->md);
        p->md = NULL;
        char got[72] = "sha256:";
        for (unsigned i = 0; i < 32; i++)
                snprintf(got + 7 + 2 * i, 3, "%02x", md[i]);
        int fd = p->fd;
        p->fd = -1;
        if (!streq(got, d->digest)) {
                close(fd);
                fail(p, -EBADMSG, "blob %s digest mismatch (got %s)", d->digest, got);
                return;
        }
        if (p->got != (uint64_t)d->size) {
                close(fd);
                fail(p, -EBADMSG, "blob %s is %llu bytes, the manifest says %lld", d->digest,
                     (unsigned long long)p->got, (long long)d->size);
                return;
        }
        int r = fsync(fd);
        close(fd);
        _cleanup_free_ char *blob = store_blob_path(p->s, d->digest);
        if (r < 0 || rename(p->tmp, blob) < 0) {
                fail(p, -errno, "cannot store blob %s: %s", d->digest, strerror(errno));
                return;
        }
        free(p->tmp);
        p->tmp = NULL;
        start_unpack(p);
}

static void got_config(struct pull *p, const struct http_client_response *resp) {
        char got[72];
        image_sha256(resp->body, resp->len, got);
        if (!streq(got, p->m.config.digest)) {
                fail(p, -EBADMSG, "blob %s digest mismatch (got %s)", p->m.config.digest, got);
                return;
        }
        struct err e = {0};
        json_t *cfg = NULL;
        if (image_config_parse(resp->body, resp->len, &cfg, &e) < 0 ||
            store_blob_put(p->s, p->m.config.digest, resp->body, resp->len, &e) < 0) {
                fail_err(p, &e);
                err_release(&e);
                return;
        }
        json_decref(cfg);
        p->layer = 0;
        start_layers(p);
}

static void got_manifest(struct pull *p, const struct http_client_response *resp) {
        char got[72];
        image_sha256(resp->body, resp->len, got);
        if (p->want_digest && !streq(got, p->want_digest)) {
                fail(p, -EBADMSG, "manifest %s digest mismatch (got %s)", p->want_digest, got);
                return;
        }
        _cleanup_free_ char *header = http_client_response_header(resp, "Docker-Content-Digest");
        if (header && image_digest_valid(header) && !streq(header, got)) {
                fail(p, -EBADMSG, "manifest %s digest mismatch (got %s)", header, got);
                return;
        }
        _cleanup_free_ char *ct = http_client_response_header(resp, "Content-Type");
        struct manifest m = {0};
        struct err e = {0};
        if (manifest_parse(resp->body, resp->len, ct, "linux", "amd64", &m, &e) < 0) {
                fail_err(p, &e);
                err_release(&e);
                return;
        }
        if (m.kind == MANIFEST_INDEX) {
                if (p->want_digest && p->digest) { /* an index pointing at an index */
                        manifest_release(&m);
                        fail(p, -EINVAL, "image index %s points at another index", got);
                        return;
                }
                free(p->want_digest);
                p->want_digest = xstrdup(m.platform.digest);
                p->digest = xstrdup(got); /* marks "came from an index" */
                progress(p, "image index %s: using linux/amd64 manifest %s", got, m.platform.digest);
                manifest_release(&m);
                request(p);
                return;
        }
        free(p->digest);
        p->digest = xstrdup(got);
        manifest_release(&p->m);
        p->m = m;
        /* forcePull of a tag that did not move, or another ref of an image we have: no blob traffic */
        if (store_image_open(p->s, p->key, p->digest, &p->result, &e) == 0) {
                struct err e2 = {0};
                if (store_index_set(p->s, p->key, p->digest, &e2) < 0) {
                        image_store_unref(p->s, p->result);
                        p->result = NULL;
                        fail_err(p, &e2);
                        err_release(&e2);
                        return;
                }
                progress(p, "%s is up to date (%s)", p->key, p->digest);
                finish(p);
                return;
        }
        err_release(&e);
        if (store_blob_put(p->s, p->digest, resp->body, resp->len, &e) < 0) {
                fail_err(p, &e);
                err_release(&e);
                return;
        }
        if (p->m.config.size > (int64_t)CONFIG_MAX) {
                fail(p, -EFBIG, "image config of %lld bytes is too large", (long long)p->m.config.size);
                return;
        }
        p->step = STEP_CONFIG;
        request(p);
}

static void got_token(struct pull *p, const struct http_client_response *resp) {
        _cleanup_free_ char *token = NULL;
        struct err e = {0};
        if (auth_token_from_json(resp->body, resp->len, &token, &e) < 0) {
                fail_err(p, &e);
                err_release(&e);
                return;
        }
        free(p->authz);
        p->authz = xasprintf("Authorization: Bearer %s", token);
        p->step = p->after_token;
        request(p);
}

/* A 401: answer the challenge once per request (basic credentials or a bearer token). */
static void challenge(struct pull *p, const struct http_client_response *resp) {
        if (p->auth_tried) {
                _cleanup_free_ char *why = registry_error(resp);
                if (p->user)
                        fail(p, -EACCES, "registry %s refused the credentials for user '%s' (%s)",
                             p->ref.host, p->user, why);
                else
                        fail(p, -EACCES, "registry %s requires credentials (unauthorized)", p->ref.host);
                return;
        }
        p->auth_tried = true;
        _cleanup_free_ char *h = http_client_response_header(resp, "WWW-Authenticate");
        struct auth_challenge c = {0};
        struct err e = {0};
        if (!h || auth_challenge_parse(h, &c, &e) < 0) {
                err_release(&e);
                fail(p, -EACCES, "registry %s answered 401 without a usable WWW-Authenticate challenge",
                     p->ref.host);
                return;
        }
        if (!strcasecmp(c.scheme, "Basic")) {
                auth_challenge_release(&c);
                if (!p->user) {
                        fail(p, -EACCES,
                             "registry %s requires credentials (basic auth) and none are configured",
                             p->ref.host);
                        return;
                }
                free(p->authz);
                p->authz = auth_basic_header(p->user, p->password);
                request(p);
                return;
        }
        if (strcasecmp(c.scheme, "Bearer") != 0 || !c.realm ||
            (strncmp(c.realm, "https://", 8) != 0 && strncmp(c.realm, "http://", 7) != 0)) {
                fail(p, -EACCES, "registry %s asks for unsupported authentication '%.40s'", p->ref.host,
                     c.scheme);
                auth_challenge_release(&c);
                return;
        }
        /* GET realm?service=…&scope=repository:<name>:pull, with basic credentials if we have some */
        struct strbuf url = {0};
        strbuf_puts(&url, c.realm);
        char sep = strchr(c.realm, '?') ? '&' : '?';
        _cleanup_free_ char *scope =
                c.scope ? xstrdup(c.scope) : xasprintf("repository:%s:pull", p->ref.name);
        if (c.service) {
                _cleanup_free_ char *svc = url_escape(c.service);
                strbuf_printf(&url, "%cservice=%s", sep, svc);
                sep = '&';
        }
        _cleanup_free_ char *sc = url_escape(scope);
        strbuf_printf(&url, "%cscope=%s", sep, sc);
        auth_challenge_release(&c);
        p->after_token = p->step;
        p->step = STEP_TOKEN;
        free(p->token_url);
        p->token_url = strbuf_steal(&url);
        request(p);
}

static void on_response(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct pull *p = data;
        p->xfer = NULL;
        if (p->stream_err) {
                _cleanup_free_ char *why = TAKE_PTR(p->stream_err);
                fail(p, -EIO, "%s", why);
                return;
        }
        if (status < 0) {
                fail(p, status, "registry %s: %s", p->ref.host, err_msg(err));
                return;
        }
        if (resp->status == 401 && p->step != STEP_TOKEN) {
                challenge(p, resp);
                return;
        }
        if (p->step == STEP_TOKEN) {
                if (resp->status == 200) {
                        got_token(p, resp);
                        return;
                }
                if (resp->status == 401 || resp->status == 403)
                        fail(p, -EACCES, "token server for %s refused %s (HTTP %ld)", p->ref.host,
                             p->user ? "the credentials" : "anonymous access", resp->status);
                else
                        fail(p, -EIO, "token server for %s answered HTTP %ld", p->ref.host, resp->status);
                return;
        }
        if (resp->status < 200 || resp->status >= 300) {
                _cleanup_free_ char *why = registry_error(resp);
                const char *what = p->step == STEP_MANIFEST ? "manifest" : "blob";
                const char *id = p->step == STEP_MANIFEST ? (p->want_digest ? p->want_digest : p->ref.tag)
                                 : p->step == STEP_CONFIG ? p->m.config.digest
                                                          : p->m.layers[p->layer].digest;
                if (resp->status == 403)
                        fail(p, -EACCES, "registry %s denied access to %s %s: %s", p->ref.host, what, id,
                             why);
                else
                        fail(p, resp->status == 404 ? -ERR_NOT_FOUND : -EIO, "registry %s: %s %s: %s",
                             p->ref.host, what, id, why);
                return;
        }
        p->auth_tried = false; /* the next request may answer a challenge again (expired token) */
        switch (p->step) {
        case STEP_MANIFEST:
                if (resp->len > MANIFEST_MAX_BYTES) {
                        fail(p, -EFBIG, "manifest larger than %u bytes", MANIFEST_MAX_BYTES);
                        return;
                }
                got_manifest(p, resp);
                return;
        case STEP_CONFIG:
                got_config(p, resp);
                return;
        case STEP_LAYER:
                layer_downloaded(p);
                return;
        default:
                fail(p, -EIO, "internal error: response in step %d", (int)p->step);
        }
}

static void request(struct pull *p) {
        _cleanup_free_ char *url = NULL;
        const char *headers[3] = {0};
        size_t nh = 0;
        bool stream = false;
        switch (p->step) {
        case STEP_MANIFEST:
                url = xasprintf("%s/manifests/%s", p->base, p->want_digest ? p->want_digest : p->ref.tag);
                headers[nh++] = MANIFEST_ACCEPT;
                break;
        case STEP_CONFIG:
                url = xasprintf("%s/blobs/%s", p->base, p->m.config.digest);
                break;
        case STEP_LAYER: {
                const struct blob_desc *d = &p->m.layers[p->layer];
                char b[32];
                format_mib(b, (uint64_t)d->size);
                progress(p, "pulling layer %zu/%zu (%.19s): %s", p->layer + 1, p->m.n_layers, d->digest, b);
                url = xasprintf("%s/blobs/%s", p->base, d->digest);
                stream = true;
                break;
        }
        case STEP_TOKEN:
                url = xstrdup(p->token_url);
                break;
        default:
                return;
        }
        _cleanup_free_ char *basic = NULL;
        if (p->step == STEP_TOKEN) {
                if (p->user)
                        headers[nh++] = basic = auth_basic_header(p->user, p->password);
        } else if (p->authz) {
                headers[nh++] = p->authz;
        }
        p->xfer = http_client_stream(p->s->client, "GET", url, headers, NULL, 0,
                                     stream ? -1 : REQUEST_TIMEOUT_MS, stream ? layer_data : NULL,
                                     on_response, p);
        http_client_transfer_tune(p->xfer, true, BLOB_STALL_S);
}

static void found_cb(uv_timer_t *t) {
        finish(t->data);
}

int pull_start(struct image_store *s, const char *ref_text, const struct image_auth *auth, bool force,
               image_progress_cb progress_cb, image_done_cb done_cb, void *data) {
        struct image_ref ref = {0};
        struct err e = {0};
        int r = image_ref_parse(ref_text, &ref, &e);
        if (r < 0) {
                err_release(&e);
                return r;
        }
        _cleanup_free_ char *key = image_ref_canonical(&ref);
        struct pull *p = hashmap_get(&s->pulls, key);
        if (p) { /* join the download in flight */
                image_ref_release(&ref);
                p->w = xrealloc(p->w, (p->n_w + 1) * sizeof *p->w);
                p->w[p->n_w++] = (struct waiter){progress_cb, done_cb, data};
                return 0;
        }
        p = xcalloc(1, sizeof *p);
        p->s = s;
        p->fd = -1;
        p->key = TAKE_PTR(key);
        p->ref = ref;
        p->w = xcalloc(1, sizeof *p->w);
        p->w[0] = (struct waiter){progress_cb, done_cb, data};
        p->n_w = 1;
        uv_timer_init(s->loop, &p->timer);
        p->timer.data = p;
        hashmap_put(&s->pulls, p->key, p);

        const char *known = json_string_value(
                json_object_get(json_object_get(json_object_get(s->index, "refs"), p->key), "digest"));
        if (!force && known && store_image_open(s, p->key, known, &p->result, &e) == 0) {
                store_index_set(s, p->key, known, &e); /* records the use for gc; a failure only ages it */
                err_release(&e);
                uv_timer_start(&p->timer, found_cb, 0, 0);
                return 0;
        }
        err_release(&e);

        if (auth && auth->username) {
                p->user = xstrdup(auth->username);
                p->password = xstrdup(auth->password ? auth->password : "");
        } else if (s->registry_config) {
                r = image_auth_from_docker_config(s->registry_config, p->ref.host, &p->user, &p->password,
                                                  &e);
                err_release(&e);
        }
        const char *host = image_ref_api_host(&p->ref);
        p->base = xasprintf("%s://%s/v2/%s", store_host_insecure(s, p->ref.host) ? "http" : "https", host,
                            p->ref.name);
        if (p->ref.digest)
                p->want_digest = xstrdup(p->ref.digest);
        p->step = STEP_MANIFEST;
        request(p);
        return 0;
}

void pull_abandon_all(struct image_store *s) {
        size_t pos = 0;
        const char *key;
        void *v;
        while (hashmap_next(&s->pulls, &pos, &key, &v)) {
                struct pull *p = v;
                hashmap_remove(&s->pulls, key);
                if (p->xfer)
                        http_client_cancel(s->client, p->xfer);
                p->xfer = NULL;
                if (p->result)
                        image_store_unref(s, p->result);
                p->result = NULL;
                bool working = p->unpacking;
                p->s = NULL;
                if (!working) /* an unpack in flight finishes (and frees) it from unpack_done */
                        finish(p);
        }
}
