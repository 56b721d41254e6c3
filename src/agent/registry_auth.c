/* registry_auth.c — WWW-Authenticate challenges, token answers, config.json credentials. */
#include "agent/registry_auth.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/image_ref.h"
#include "agent/image_store.h"
#include "common/alloc.h"
#include "common/strbuf.h"

#define HEADER_MAX 8192

void auth_challenge_release(struct auth_challenge *c) {
        free(c->scheme);
        free(c->realm);
        free(c->service);
        free(c->scope);
        free(c->error);
        *c = (struct auth_challenge){0};
}

static bool is_token_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

int auth_challenge_parse(const char *header, struct auth_challenge *ret, struct err *err) {
        if (!header || strlen(header) > HEADER_MAX)
                return err_set(err, -EINVAL, "WWW-Authenticate header missing or too long");
        struct auth_challenge c = {0};
        const char *p = skip_ws(header);
        const char *s = p;
        while (is_token_char(*p))
                p++;
        if (p == s)
                return err_set(err, -EINVAL, "WWW-Authenticate: no auth scheme");
        c.scheme = xstrndup(s, (size_t)(p - s));
        /* auth-param = token BWS "=" BWS ( token / quoted-string ), separated by commas */
        p = skip_ws(p);
        while (*p) {
                while (*p == ',' || *p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                const char *k = p;
                while (is_token_char(*p))
                        p++;
                size_t klen = (size_t)(p - k);
                p = skip_ws(p);
                if (klen == 0 || *p != '=') {
                        /* a new challenge ("…, Basic realm=…") or a token68: stop at the first challenge */
                        break;
                }
                p = skip_ws(p + 1);
                struct strbuf v = {0};
                if (*p == '"') {
                        p++;
                        while (*p && *p != '"') {
                                if (*p == '\\' && p[1])
                                        p++;
                                strbuf_append(&v, p, 1);
                                p++;
                        }
                        if (*p != '"') {
                                strbuf_release(&v);
                                auth_challenge_release(&c);
                                return err_set(err, -EINVAL, "WWW-Authenticate: unterminated quoted string");
                        }
                        p++;
                } else {
                        const char *vs = p;
                        while (is_token_char(*p) || *p == '/' || *p == ':')
                                p++;
                        strbuf_append(&v, vs, (size_t)(p - vs));
                }
                char *val = strbuf_steal(&v);
                char **slot = NULL;
                if (klen == 5 && !strncasecmp(k, "realm", 5))
                        slot = &c.realm;
                else if (klen == 7 && !strncasecmp(k, "service", 7))
                        slot = &c.service;
                else if (klen == 5 && !strncasecmp(k, "scope", 5))
                        slot = &c.scope;
                else if (klen == 5 && !strncasecmp(k, "error", 5))
                        slot = &c.error;
                if (slot) {
                        free(*slot);
                        *slot = val;
                } else {
                        free(val);
                }
                p = skip_ws(p);
                if (*p && *p != ',') {
                        auth_challenge_release(&c);
                        return err_set(err, -EINVAL, "WWW-Authenticate: unexpected '%c' after a parameter",
                                       *p);
                }
        }
        *ret = c;
        return 0;
}

char *base64_encode(const void *data, size_t len) {
        char *out = xmalloc(4 * ((len + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, data, (int)len);
        return out;
}

int base64_decode(const char *text, char **ret, size_t *ret_len) {
        size_t n = strlen(text);
        if (n % 4 != 0 || n > 1024 * 1024)
                return -EINVAL;
        char *out = xmalloc(n / 4 * 3 + 1);
        int got = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
        if (got < 0) {
                free(out);
                return -EINVAL;
        }
        /* EVP_DecodeBlock counts the padding as zero bytes */
        if (n >= 1 && text[n - 1] == '=')
                got--;
        if (n >= 2 && text[n - 2] == '=')
                got--;
        out[got] = 0;
        *ret = out;
        *ret_len = (size_t)got;
        return 0;
}

char *auth_basic_header(const char *user, const char *password) {
        _cleanup_free_ char *pair = xasprintf("%s:%s", user ? user : "", password ? password : "");
        _cleanup_free_ char *b64 = base64_encode(pair, strlen(pair));
        return xasprintf("Authorization: Basic %s", b64);
}

int auth_token_from_json(const char *body, size_t len, char **ret, struct err *err) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *doc = json_loadb(body, len, 0, &jerr);
        if (!json_is_object(doc))
                return err_set(err, -EINVAL, "token server answered something that is not a JSON object");
        const char *tok = json_string_value(json_object_get(doc, "token"));
        if (!tok || !*tok)
                tok = json_string_value(json_object_get(doc, "access_token"));
        if (!tok || !*tok)
                return err_set(err, -EINVAL, "token server answer has no token");
        if (strlen(tok) > 64 * 1024 || strpbrk(tok, "\r\n"))
                return err_set(err, -EINVAL, "token server answered an unusable token");
        *ret = xstrdup(tok);
        return 0;
}

/* Docker writes Hub credentials under "https://index.docker.io/v1/"; others under the host,
 * sometimes as a URL ("https://reg.example:5000"). */
static bool auths_key_matches(const char *key, const char *host) {
        if (streq(host, "docker.io") || streq(host, "registry-1.docker.io"))
                if (strstr(key, "index.docker.io") || streq(key, "docker.io") ||
                    streq(key, "registry-1.docker.io"))
                        return true;
        const char *k = key;
        if (!strncmp(k, "https://", 8))
                k += 8;
        else if (!strncmp(k, "http://", 7))
                k += 7;
        size_t hl = strlen(host);
        return !strncmp(k, host, hl) && (k[hl] == 0 || k[hl] == '/');
}

int image_auth_from_docker_config(const char *json_text, const char *host, char **user, char **password,
                                  struct err *err) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *doc = json_loads(json_text, 0, &jerr);
        if (!json_is_object(doc))
                return err_set(err, -ERR_BAD_JSON, "registry credentials: not a JSON object (line %d: %s)",
                               jerr.line, jerr.text);
        json_t *auths = json_object_get(doc, "auths");
        if (auths && !json_is_object(auths))
                return err_set(err, -ERR_BAD_JSON, "registry credentials: \"auths\" must be an object");
        const char *key;
        json_t *v;
        json_object_foreach(auths, key, v) {
                if (!auths_key_matches(key, host))
                        continue;
                if (!json_is_object(v))
                        return err_set(err, -ERR_BAD_JSON, "registry credentials for '%s' must be an object",
                                       key);
                const char *u = json_string_value(json_object_get(v, "username"));
                const char *pw = json_string_value(json_object_get(v, "password"));
                if (u && pw) {
                        *user = xstrdup(u);
                        *password = xstrdup(pw);
                        return 0;
                }
                const char *a = json_string_value(json_object_get(v, "auth"));
                if (!a)
                        return err_set(err, -ERR_BAD_JSON, "registry credentials for '%s' have no \"auth\"",
                                       key);
                _cleanup_free_ char *dec = NULL;
                size_t n;
                if (base64_decode(a, &dec, &n) < 0 || strlen(dec) != n || !strchr(dec, ':'))
                        return err_set(
                                err, -ERR_BAD_JSON,
                                "registry credentials for '%s': \"auth\" is not base64 of user:password",
                                key);
                char *colon = strchr(dec, ':');
                *user = xstrndup(dec, (size_t)(colon - dec));
                *password = xstrdup(colon + 1);
                return 0;
        }
        return err_set(err, -ERR_NOT_FOUND, "no registry credentials for '%s'", host);
}
