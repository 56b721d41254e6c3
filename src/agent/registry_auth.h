/* registry_auth.h — registry v2 authentication pieces: the WWW-Authenticate challenge (RFC 7235
 * §4.1, as registries send it), Docker config.json credentials, and base64.
 *
 * Flow (docs.docker.com "Token Authentication Specification"): a request answered 401 carries
 *   WWW-Authenticate: Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"
 * or Basic realm="…". Bearer: GET realm?service=…&scope=… (with basic credentials when we have
 * some) → {"token": …} or {"access_token": …}, then retry with "Authorization: Bearer <token>".
 * Basic: retry with "Authorization: Basic base64(user:pass)". Each request is retried once. */
#pragma once

#include <stddef.h>

#include "common/err.h"

struct auth_challenge {
        char *scheme;  /* "Bearer", "Basic" (as sent) */
        char *realm;   /* may be NULL */
        char *service; /* may be NULL */
        char *scope;   /* may be NULL */
        char *error;   /* "invalid_token", … or NULL */
};

/* Parses the first challenge of a WWW-Authenticate value; -EINVAL with a reason when malformed. */
int auth_challenge_parse(const char *header, struct auth_challenge *ret, struct err *err);
void auth_challenge_release(struct auth_challenge *c);

/* Base64 (standard alphabet, padded). Encode never fails; decode returns -EINVAL on bad input
 * and NUL-terminates its output. */
char *base64_encode(const void *data, size_t len);
int base64_decode(const char *text, char **ret, size_t *ret_len);

/* "Authorization: Basic …" header line for user:password. New string. */
char *auth_basic_header(const char *user, const char *password);

/* Extracts the token from a token server's JSON answer ("token", else "access_token"). */
int auth_token_from_json(const char *body, size_t len, char **ret, struct err *err);
