/* token.c — JWT signing and strict verification (HS256 for the cluster, EdDSA/RS256 for logins). */
#include "common/token.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/macro.h"

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *b64url_encode(const uint8_t *data, size_t len) {
        char *out = xmalloc(len / 3 * 4 + 5);
        size_t o = 0, i = 0;
        for (; i + 2 < len; i += 3) {
                uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
                out[o++] = b64_alphabet[v >> 18 & 63];
                out[o++] = b64_alphabet[v >> 12 & 63];
                out[o++] = b64_alphabet[v >> 6 & 63];
                out[o++] = b64_alphabet[v & 63];
        }
        if (len - i == 1) {
                uint32_t v = (uint32_t)data[i] << 16;
                out[o++] = b64_alphabet[v >> 18 & 63];
                out[o++] = b64_alphabet[v >> 12 & 63];
        } else if (len - i == 2) {
                uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
                out[o++] = b64_alphabet[v >> 18 & 63];
                out[o++] = b64_alphabet[v >> 12 & 63];
                out[o++] = b64_alphabet[v >> 6 & 63];
        }
        out[o] = 0;
        return out;
}

static int b64_value(char c) {
        const char *p = c ? strchr(b64_alphabet, c) : NULL;
        return p ? (int)(p - b64_alphabet) : -1;
}

int b64url_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len) {
        if (len % 4 == 1)
                return -EINVAL;
        uint8_t *out = xmalloc(len / 4 * 3 + 3);
        size_t o = 0;
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < len; i++) {
                int v = b64_value(s[i]);
                if (v < 0) {
                        free(out);
                        return -EINVAL;
                }
                acc = acc << 6 | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (uint8_t)(acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        if (acc != 0) { /* non-canonical: leftover bits must be zero */
                free(out);
                return -EINVAL;
        }
        *ret = out;
        *ret_len = o;
        return 0;
}

/* The three parts of a token, decoded. */
struct parts {
        json_t *header, *claims;
        uint8_t *sig;
        size_t sig_len;
        size_t signed_len; /* header "." claims: what the signature covers */
};

static void parts_release(struct parts *p) {
        json_decref(p->header);
        json_decref(p->claims);
        free(p->sig);
}

static json_t *decode_object(const char *s, size_t len) {
        uint8_t *raw;
        size_t n;
        if (len == 0 || b64url_decode(s, len, &raw, &n) < 0)
                return NULL;
        json_t *j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
        free(raw);
        if (j && !json_is_object(j)) {
                json_decref(j);
                return NULL;
        }
        return j;
}

static int split(const char *token, struct parts *p, struct err *err) {
        *p = (struct parts){0};
        size_t len = token ? strnlen(token, TOKEN_MAX_LEN + 1) : 0;
        if (len == 0 || len > TOKEN_MAX_LEN)
                return err_set(err, -EACCES, "malformed token");
        const char *d1 = memchr(token, '.', len);
        const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
        if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
                return err_set(err, -EACCES, "malformed token");
        p->header = decode_object(token, (size_t)(d1 - token));
        p->claims = decode_object(d1 + 1, (size_t)(d2 - d1 - 1));
        size_t sig_chars = len - (size_t)(d2 + 1 - token);
        if (!p->header || !p->claims || sig_chars == 0 || b64url_decode(d2 + 1, sig_chars, &p->sig, &p->sig_len) < 0) {
                parts_release(p);
                *p = (struct parts){0};
                return err_set(err, -EACCES, "malformed token");
        }
        if (!json_is_string(json_object_get(p->header, "alg"))) {
                parts_release(p);
                *p = (struct parts){0};
                return err_set(err, -EACCES, "malformed token: no \"alg\"");
        }
        p->signed_len = (size_t)(d2 - token);
        return 0;
}

/* header "." claims, both encoded (caller frees). */
static char *signing_input(const char *alg, const json_t *claims) {
        _cleanup_(json_decrefp) json_t *h = json_pack("{s:s,s:s}", "alg", alg, "typ", "JWT");
        _cleanup_free_ char *hs = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
        _cleanup_free_ char *cs = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
        _cleanup_free_ char *he = b64url_encode((const uint8_t *)hs, strlen(hs));
        _cleanup_free_ char *ce = b64url_encode((const uint8_t *)cs, strlen(cs));
        return xasprintf("%s.%s", he, ce);
}

static char *append_sig(char *input, const uint8_t *sig, size_t sig_len) {
        _cleanup_free_ char *se = b64url_encode(sig, sig_len);
        char *t = xasprintf("%s.%s", input, se);
        free(input);
        return t;
}

char *token_sign_hs256(const uint8_t *key, size_t key_len, const json_t *claims) {
        char *input = signing_input("HS256", claims);
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        if (!HMAC(EVP_sha256(), key, (int)key_len, (const uint8_t *)input, strlen(input), mac, &mac_len))
                abort();
        return append_sig(input, mac, mac_len);
}

int token_verify_hs256(const char *token, const uint8_t *key, size_t key_len, json_t **ret, struct err *err) {
        struct parts p;
        int r = split(token, &p, err);
        if (r < 0)
                return r;
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        if (!streq(json_string_value(json_object_get(p.header, "alg")), "HS256")) {
                parts_release(&p);
                return err_set(err, -EACCES, "token not signed by this cluster (alg)");
        }
        if (!HMAC(EVP_sha256(), key, (int)key_len, (const uint8_t *)token, p.signed_len, mac, &mac_len))
                abort();
        if (p.sig_len != mac_len || CRYPTO_memcmp(p.sig, mac, mac_len) != 0) {
                parts_release(&p);
                return err_set(err, -EACCES, "bad token signature");
        }
        *ret = json_incref(p.claims);
        parts_release(&p);
        return 0;
}

static EVP_PKEY *read_key(const char *pem, bool private_key) {
        if (!pem)
                return NULL;
        BIO *bio = BIO_new_mem_buf(pem, -1);
        if (!bio)
                abort();
        EVP_PKEY *k = private_key ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                                  : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        return k;
}

/* The JWT alg for a key, or NULL for a type we do not take. */
static const char *key_alg(EVP_PKEY *k) {
        switch (EVP_PKEY_get_base_id(k)) {
        case EVP_PKEY_ED25519:
                return "EdDSA";
        case EVP_PKEY_RSA:
                return EVP_PKEY_get_bits(k) >= 2048 ? "RS256" : NULL;
        default:
                return NULL;
        }
}

bool token_public_key_valid(const char *public_pem) {
        EVP_PKEY *k = read_key(public_pem, false);
        bool ok = k && key_alg(k);
        EVP_PKEY_free(k);
        return ok;
}

int token_sign_pem(const char *private_pem, const json_t *claims, char **ret, struct err *err) {
        EVP_PKEY *k = read_key(private_pem, true);
        const char *alg = k ? key_alg(k) : NULL;
        if (!alg) {
                EVP_PKEY_free(k);
                return err_set(err, -EINVAL, "not an Ed25519 or RSA (2048+ bits) private key in PEM form");
        }
        char *input = signing_input(alg, claims);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        size_t sig_len = 0;
        uint8_t *sig = NULL;
        const EVP_MD *md = streq(alg, "RS256") ? EVP_sha256() : NULL;
        int ok = ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, k) == 1 &&
                 EVP_DigestSign(ctx, NULL, &sig_len, (const uint8_t *)input, strlen(input)) == 1;
        if (ok) {
                sig = xmalloc(sig_len);
                ok = EVP_DigestSign(ctx, sig, &sig_len, (const uint8_t *)input, strlen(input)) == 1;
        }
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(k);
        if (!ok) {
                free(sig);
                free(input);
                return err_set(err, -EINVAL, "signing the login token failed");
        }
        *ret = append_sig(input, sig, sig_len);
        free(sig);
        return 0;
}

int token_verify_pem(const char *token, const char *public_pem, json_t **ret, struct err *err) {
        EVP_PKEY *k = read_key(public_pem, false);
        const char *alg = k ? key_alg(k) : NULL;
        if (!alg) {
                EVP_PKEY_free(k);
                return err_set(err, -EACCES, "the account has no usable public key");
        }
        struct parts p;
        int r = split(token, &p, err);
        if (r < 0) {
                EVP_PKEY_free(k);
                return r;
        }
        /* The key decides the algorithm, never the token's header (RFC 8725 §3.1). */
        if (!streq(json_string_value(json_object_get(p.header, "alg")), alg)) {
                parts_release(&p);
                EVP_PKEY_free(k);
                return err_set(err, -EACCES, "login token algorithm does not match the account's key (%s)", alg);
        }
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const EVP_MD *md = streq(alg, "RS256") ? EVP_sha256() : NULL;
        bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, k) == 1 &&
                  EVP_DigestVerify(ctx, p.sig, p.sig_len, (const uint8_t *)token, p.signed_len) == 1;
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(k);
        if (!ok) {
                parts_release(&p);
                return err_set(err, -EACCES, "bad login token signature");
        }
        *ret = json_incref(p.claims);
        parts_release(&p);
        return 0;
}

json_t *token_peek_claims(const char *token) {
        struct parts p;
        struct err e = {0};
        if (split(token, &p, &e) < 0) {
                err_release(&e);
                return NULL;
        }
        json_t *c = json_incref(p.claims);
        parts_release(&p);
        return c;
}

const char *token_from_authorization(const char *value, size_t *ret_len) {
        if (!value)
                return NULL;
        const char *t;
        if (strncmp(value, "token=", 6) == 0)
                t = value + 6;
        else if (strncasecmp(value, "bearer ", 7) == 0)
                t = value + 7;
        else
                return NULL;
        while (*t == ' ')
                t++;
        size_t n = strnlen(t, TOKEN_MAX_LEN + 1);
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
                n--;
        if (n == 0 || n > TOKEN_MAX_LEN)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (t[i] <= ' ' || t[i] >= 0x7f)
                        return NULL;
        *ret_len = n;
        return t;
}
