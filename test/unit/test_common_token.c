/* test_common_token.c — JWT signing and strict verification: HS256 and EdDSA/RS256 logins. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/token.h"

static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";

static void hs256_round_trips_and_rejects_tampering(void **state) {
        json_t *claims = json_pack("{s:s,s:s,s:I}", "uid", "alice", "jti", "t1", "exp", (json_int_t)2000000000);
        char *t = token_sign_hs256(key, sizeof key, claims);
        json_t *out = NULL;
        struct err e = {0};
        assert_int_equal(token_verify_hs256(t, key, sizeof key, &out, &e), 0);
        assert_true(json_equal(out, claims));
        json_decref(out);
        /* another key */
        uint8_t other[32];
        memcpy(other, key, 32);
        other[0] ^= 1;
        assert_int_equal(token_verify_hs256(t, other, sizeof other, &out, &e), -EACCES);
        /* a changed claim keeps the old signature: refused */
        json_t *evil = json_pack("{s:s,s:s,s:I}", "uid", "admin", "jti", "t1", "exp", (json_int_t)2000000000);
        char *t2 = token_sign_hs256(key, sizeof key, evil);
        char *dot1 = strchr(t, '.'), *dot1b = strchr(t2, '.');
        char *dot2b = strchr(dot1b + 1, '.');
        char *forged = xasprintf("%.*s.%.*s%s", (int)(dot1 - t), t, (int)(dot2b - dot1b - 1), dot1b + 1, strrchr(t, '.'));
        assert_int_equal(token_verify_hs256(forged, key, sizeof key, &out, &e), -EACCES);
        assert_non_null(strstr(err_msg(&e), "signature"));
        free(forged);
        free(t2);
        json_decref(evil);
        free(t);
        json_decref(claims);
        err_release(&e);
}

static void malformed_tokens_are_refused(void **state) {
        const char *bad[] = {"", ".", "..", "a.b", "a.b.c.d", "eyJhbGciOiJIUzI1NiJ9..sig", "!!!.e30.AAAA",
                             "e30.e30.AAAA" /* no alg */, "WzFd.e30.AAAA" /* header not an object */,
                             "eyJhbGciOiJub25lIn0.e30.AAAA" /* alg none */};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                json_t *out = NULL;
                struct err e = {0};
                assert_int_equal(token_verify_hs256(bad[i], key, sizeof key, &out, &e), -EACCES);
                assert_null(out);
                err_release(&e);
        }
        /* too long */
        char *big = xmalloc(TOKEN_MAX_LEN + 10);
        memset(big, 'a', TOKEN_MAX_LEN + 9);
        big[TOKEN_MAX_LEN + 9] = 0;
        json_t *out = NULL;
        struct err e = {0};
        assert_int_equal(token_verify_hs256(big, key, sizeof key, &out, &e), -EACCES);
        free(big);
        err_release(&e);
}

static void base64url_is_strict(void **state) {
        uint8_t *out;
        size_t n;
        char *s = b64url_encode((const uint8_t *)"hi?", 3);
        assert_string_equal(s, "aGk_");
        free(s);
        assert_int_equal(b64url_decode("aGk_", 4, &out, &n), 0);
        assert_memory_equal(out, "hi?", 3);
        free(out);
        assert_int_equal(b64url_decode("aGk=", 4, &out, &n), -EINVAL); /* padding */
        assert_int_equal(b64url_decode("aGk+", 4, &out, &n), -EINVAL); /* standard alphabet */
        assert_int_equal(b64url_decode("aGl", 3, &out, &n), -EINVAL);  /* non-zero trailing bits */
        assert_int_equal(b64url_decode("a", 1, &out, &n), -EINVAL);
}

static char *pem(EVP_PKEY *k, bool private_key) {
        BIO *b = BIO_new(BIO_s_mem());
        if (private_key)
                PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
        else
                PEM_write_bio_PUBKEY(b, k);
        char *data;
        long n = BIO_get_mem_data(b, &data);
        char *s = xstrndup(data, (size_t)n);
        BIO_free(b);
        return s;
}

static void key_logins_verify_with_the_public_key_only(void **state) {
        const char *types[] = {"ED25519", "RSA"};
        for (int i = 0; i < 2; i++) {
                EVP_PKEY *k = i == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, types[i])
                                     : EVP_PKEY_Q_keygen(NULL, NULL, types[i], (size_t)2048);
                EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
                char *priv = pem(k, true), *pub = pem(k, false), *pub2 = pem(k2, false);
                assert_true(token_public_key_valid(pub));
                assert_false(token_public_key_valid(priv + 5));
                json_t *claims = json_pack("{s:s,s:I}", "uid", "sa", "exp", (json_int_t)2000000000);
                char *t = NULL;
                struct err e = {0};
                assert_int_equal(token_sign_pem(priv, claims, &t, &e), 0);
                json_t *out = NULL;
                assert_int_equal(token_verify_pem(t, pub, &out, &e), 0);
                assert_string_equal(json_string_value(json_object_get(out, "uid")), "sa");
                json_decref(out);
                out = NULL;
                assert_int_equal(token_verify_pem(t, pub2, &out, &e), -EACCES); /* another account's key */
                /* an HS256 token "signed" with the public key text is not a login (alg confusion) */
                char *hs = token_sign_hs256((const uint8_t *)pub, strlen(pub), claims);
                assert_int_equal(token_verify_pem(hs, pub, &out, &e), -EACCES);
                free(hs);
                free(t);
                json_decref(claims);
                free(priv);
                free(pub);
                free(pub2);
                EVP_PKEY_free(k);
                EVP_PKEY_free(k2);
                err_release(&e);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(hs256_round_trips_and_rejects_tampering),
                cmocka_unit_test(malformed_tokens_are_refused),
                cmocka_unit_test(base64url_is_strict),
                cmocka_unit_test(key_logins_verify_with_the_public_key_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
