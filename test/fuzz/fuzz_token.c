/* fuzz_token.c — the Authorization header and the JWT it carries come from any client: the
 * header parser, base64url, the HS256 check and the key-signed login check may not crash, hang or
 * leak on any input, and nothing unsigned may verify. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/token.h"

static const char pub[] = "-----BEGIN PUBLIC KEY-----\n"
                          "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
                          "-----END PUBLIC KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        memcpy(text, data, size);
        text[size] = 0;
        static const uint8_t key[32] = "fuzzing-key-fuzzing-key-fuzzing";
        size_t n = 0;
        const char *t = token_from_authorization(text, &n);
        char *tok = t ? strndup(t, n) : strdup(text);
        json_t *claims = NULL;
        struct err e = {0};
        if (token_verify_hs256(tok, key, sizeof key, &claims, &e) == 0)
                abort(); /* a forgery: nothing here was signed with the key */
        if (token_verify_pem(tok, pub, &claims, &e) == 0)
                abort();
        json_decref(token_peek_claims(tok));
        uint8_t *raw;
        size_t raw_len;
        if (b64url_decode(text, size, &raw, &raw_len) == 0) {
                char *again = b64url_encode(raw, raw_len);
                if (strlen(again) != size || memcmp(again, text, size) != 0)
                        abort(); /* decoding is strict: only canonical text decodes */
                free(again);
                free(raw);
        }
        err_release(&e);
        free(tok);
        free(text);
        return 0;
}
