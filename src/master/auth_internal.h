/* auth_internal.h — what auth.c and api_auth.c share: the master's auth state, token issue and
 * checks, and password hashing off the loop. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/hashmap.h"
#include "master/auth.h"

struct master_auth {
        uint8_t *key; /* the cluster's HS256 key, cached from the state */
        size_t key_len;
        uv_timer_t timer; /* bootstrap retries; dev: refreshing the CLI's admin token */
        bool init_in_flight, stopping, dev_token_logged;
        char *bootstrap_password; /* shown once the admin it belongs to is committed */
        char local_secret[96];    /* dev: the in-process agent's secret ("" otherwise) */
        /* Tokens whose signature was checked: token -> struct verified (at most VERIFIED_MAX;
         * expiry, revocation and the user are still checked on every use). */
        struct hashmap verified;
        int audit_fd; /* audit.c; -1 when it could not be opened */
        unsigned hashing; /* password hashes in flight on the pool (bounded: AUTH_MAX_HASHING) */
        bool audit_warned;
};

/* Seconds since the epoch, with milliseconds. */
double auth_now_s(void);
unsigned auth_ttl(const struct master *m);
const uint8_t *auth_key(struct master *m, size_t *len);
/* A new token for uid (caller frees), NULL before the cluster has a key. */
char *auth_issue(struct master *m, const char *uid, unsigned ttl_s);
/* Checks a presented token: 0 with *ret (caller frees), or -EACCES with *why (static text). */
int auth_verify(struct master *m, const char *token, size_t len, struct auth_who **ret, const char **why);
/* Whether who's grants (its own and its groups') cover rid at path for action; some: at any path. */
bool auth_allowed(struct master *m, const struct auth_who *who, const char *rid, const char *path, unsigned action,
                  bool some);

/* scrypt (OpenSSL EVP_PBE_scrypt; N=2^15, r=8, p=1, 16-byte salt) on libuv's pool. cb runs on the
 * loop with status 0 and the stored form {"scrypt","salt","N","r","p"} (ownership passed), or < 0;
 * data is the caller's. */
typedef void (*auth_hash_cb)(struct master *m, int status, json_t *hash, void *data);
void auth_password_hash_async(struct master *m, const char *password, auth_hash_cb cb, void *data);
/* Checks password against a stored form on the pool; cb gets 0 (match) or -EACCES. data is the
 * caller's. */
typedef void (*auth_check_cb)(struct master *m, int status, void *data);
void auth_password_check_async(struct master *m, const char *password, const json_t *stored, auth_check_cb cb,
                               void *data);
