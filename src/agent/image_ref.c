/* image_ref.c — parsing Docker image references (distribution/reference grammar, simplified). */
#include "agent/image_ref.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

void image_ref_release(struct image_ref *r) {
        free(r->host);
        free(r->name);
        free(r->tag);
        free(r->digest);
        *r = (struct image_ref){0};
}

bool image_digest_valid(const char *d) {
        if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
                return false;
        for (const char *p = d + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* "path-component: alpha-numeric (separator alpha-numeric)*", separator: [_.] | __ | [-]* */
static bool name_valid(const char *n) {
        size_t len = strlen(n);
        if (len == 0 || len > NAME_MAX_LEN)
                return false;
        const char *p = n;
        for (;;) {
                if (!is_lower_alnum(*p))
                        return false;
                while (*p && *p != '/') {
                        if (is_lower_alnum(*p)) {
                                p++;
                                continue;
                        }
                        /* a separator run must be followed by an alnum */
                        const char *s = p;
                        if (*p == '.' || *p == '_') {
                                p++;
                                if (*s == '_' && *p == '_')
                                        p++;
                        } else if (*p == '-') {
                                while (*p == '-')
                                        p++;
                        } else {
                                return false;
                        }
                        if (!is_lower_alnum(*p))
                                return false;
                }
                if (!*p)
                        return true;
                p++; /* '/' */
        }
}

static bool tag_valid(const char *t) {
        size_t len = strlen(t);
        if (len == 0 || len > TAG_MAX_LEN)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = t[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '_' || (i > 0 && (c == '.' || c == '-'));
                if (!ok)
                        return false;
        }
        return true;
}

static bool host_valid(const char *h) {
        if (!*h || strlen(h) > 255)
                return false;
        const char *p = h;
        if (*p == '[') { /* [ipv6]:port */
                const char *close = strchr(p, ']');
                if (!close || close == p + 1)
                        return false;
                for (const char *q = p + 1; q < close; q++)
                        if (!strchr("0123456789abcdefABCDEF:.", *q))
                                return false;
                p = close + 1;
                if (!*p)
                        return true;
        } else {
                for (; *p && *p != ':'; p++)
                        if (!(is_lower_alnum(*p) || (*p >= 'A' && *p <= 'Z') || *p == '.' || *p == '-'))
                                return false;
                if (p == h)
                        return false;
                if (!*p)
                        return true;
        }
        if (*p != ':' || !p[1] || strlen(p + 1) > 5)
                return false;
        for (p++; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return true;
}

int image_ref_parse(const char *s, struct image_ref *ret, struct err *err) {
        if (!s || !*s)
                return err_set(err, -EINVAL, "empty image reference");
        if (strlen(s) > IMAGE_REF_MAX)
                return err_set(err, -EINVAL, "image reference longer than %d characters", IMAGE_REF_MAX);
        _cleanup_free_ char *copy = xstrdup(s);
        struct image_ref r = {0};
        char *at = strchr(copy, '@');
        if (at) {
                *at = 0;
                if (!image_digest_valid(at + 1))
                        return err_set(err, -EINVAL,
                                       "invalid image reference '%s': digest must be sha256:<64 hex>", s);
                r.digest = xstrdup(at + 1);
        }
        char *rest = copy;
        char *slash = strchr(copy, '/');
        if (slash) {
                size_t hl = (size_t)(slash - copy);
                bool is_host = memchr(copy, '.', hl) || memchr(copy, ':', hl) ||
                               (hl == 9 && !strncmp(copy, "localhost", 9)) || copy[0] == '[';
                for (size_t i = 0; i < hl && !is_host; i++)
                        is_host = copy[i] >= 'A' && copy[i] <= 'Z';
                if (is_host) {
                        *slash = 0;
                        if (!host_valid(copy)) {
                                free(r.digest);
                                return err_set(err, -EINVAL,
                                               "invalid image reference '%s': bad registry host", s);
                        }
                        r.host = xstrdup(copy);
                        rest = slash + 1;
                }
        }
        char *colon = strrchr(rest, ':');
        if (colon) {
                *colon = 0;
                if (!tag_valid(colon + 1)) {
                        image_ref_release(&r);
                        return err_set(err, -EINVAL, "invalid image reference '%s': bad tag", s);
                }
                r.tag = xstrdup(colon + 1);
        }
        if (!name_valid(rest)) {
                image_ref_release(&r);
                return err_set(err, -EINVAL,
                               "invalid image reference '%s': repository name must be lowercase letters, "
                               "digits and separators",
                               s);
        }
        if (!r.host) {
                r.host = xstrdup("docker.io");
                r.name = strchr(rest, '/') ? xstrdup(rest) : xasprintf("library/%s", rest);
        } else {
                r.name = xstrdup(rest);
                if (streq(r.host, "index.docker.io") || streq(r.host, "registry-1.docker.io")) {
                        free(r.host);
                        r.host = xstrdup("docker.io");
                }
                if (streq(r.host, "docker.io") && !strchr(r.name, '/')) {
                        char *n = xasprintf("library/%s", r.name);
                        free(r.name);
                        r.name = n;
                }
        }
        if (!r.tag && !r.digest)
                r.tag = xstrdup("latest");
        *ret = r;
        return 0;
}

char *image_ref_canonical(const struct image_ref *r) {
        if (r->digest)
                return xasprintf("%s/%s@%s", r->host, r->name, r->digest);
        return xasprintf("%s/%s:%s", r->host, r->name, r->tag);
}

const char *image_ref_api_host(const struct image_ref *r) {
        return streq(r->host, "docker.io") ? "registry-1.docker.io" : r->host;
}

bool image_ref_host_is_loopback(const char *host) {
        size_t n = strcspn(host, ":");
        if (host[0] == '[')
                return strncmp(host, "[::1]", 5) == 0;
        if (n == 9 && !strncmp(host, "localhost", 9))
                return true;
        return strncmp(host, "127.", 4) == 0;
}
