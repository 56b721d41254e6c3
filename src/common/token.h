/* token.h — JSON Web Tokens (RFC 7519) as Strata uses them: the cluster's own tokens (HS256,
 * keyed by a secret in the replicated state) and service-account login tokens signed with the
 * account's private key (EdDSA/Ed25519 or RS256, the DC/OS service-account flow).
 *
 * Wire form: base64url(header) "." base64url(claims) "." base64url(signature), no padding.
 *   header  {"alg": "HS256"|"EdDSA"|"RS256", "typ": "JWT"}
 *   claims  the cluster's tokens: {"uid": "<user or service account>", "jti": "<uuid>",
 *           "iat": <s>, "exp": <s>}; login tokens: {"uid": "<account>", "exp": <s>}
 *
 * Every token here comes from the network: parsing is bounded (TOKEN_MAX_LEN), strict (exactly
 * three non-empty parts, canonical base64url, JSON objects, a known "alg") and never trusts the
 * header's "alg" to pick the key type: the caller says which algorithm it expects. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define TOKEN_MAX_LEN 8192

/* Signs claims with HMAC-SHA256 under key. Returns the token (caller frees). */
char *token_sign_hs256(const uint8_t *key, size_t key_len, const json_t *claims);

/* Verifies an HS256 token's signature (constant time) and returns its claims (new reference) in
 * *ret. Does not look at "exp": the caller compares times. -EACCES with *err saying why
 * ("malformed token", "bad signature", …); *ret untouched on failure. */
int token_verify_hs256(const char *token, const uint8_t *key, size_t key_len, json_t **ret, struct err *err);

/* Signs claims with a PEM private key (Ed25519 → EdDSA, RSA → RS256). -EINVAL when the key
 * cannot be read or is of another type. */
int token_sign_pem(const char *private_pem, const json_t *claims, char **ret, struct err *err);

/* Verifies a token signed by the private half of public_pem (Ed25519 or RSA, "alg" must match
 * the key type) and returns its claims in *ret. -EACCES on a bad token or signature. */
int token_verify_pem(const char *token, const char *public_pem, json_t **ret, struct err *err);

/* Whether public_pem is an Ed25519 or RSA (>= 2048 bits) public key. */
bool token_public_key_valid(const char *public_pem);

/* The claims of a token without checking its signature (for display: `strata auth whoami`
 * offline). New reference or NULL when malformed. */
json_t *token_peek_claims(const char *token);

/* The token of an Authorization header value: "token=<jwt>" (DC/OS) or "Bearer <jwt>" (RFC
 * 6750; scheme case-insensitive). Returns a pointer into value and its length, or NULL for any
 * other form (e.g. Basic), an empty token, or one over TOKEN_MAX_LEN. */
const char *token_from_authorization(const char *value, size_t *ret_len);

/* base64url without padding (RFC 4648 §5). Encode: caller frees. Decode: -EINVAL on any
 * character outside the alphabet, padding, or a length no encoder produces. */
char *b64url_encode(const uint8_t *data, size_t len);
int b64url_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len);
