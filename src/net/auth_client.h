/* auth_client.h — the credentials a daemon presents to the masters (agents, agent-sim).
 *
 * Either a fixed token (`strata dev`'s in-process agent: a per-process secret; or --token), or
 * a service account (--service-account NAME --private-key FILE, else $STRATA_SERVICE_ACCOUNT and
 * $STRATA_PRIVATE_KEY): the client signs a short login token with the key (DC/OS's
 * service-account flow), POSTs it to /acs/api/v1/auth/login and keeps the answer until shortly
 * before it expires or a master refuses it (auth_client_refused). Logins run on the loop's HTTP
 * client and never block: until one succeeds, requests go without a token and the master's 401
 * makes the caller retry as it would after any failure. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "net/http_client.h"

struct auth_client {
        struct http_client *http; /* borrowed */
        char *fixed;              /* a fixed token, or NULL */
        char *uid, *key_pem;      /* a service account, or NULL */
        char *header;             /* "Authorization: token=…" while valid */
        int64_t exp_s;
        bool logging_in, warned, *alive; /* alive: cleared on release, seen by a login in flight */
        void (*on_token)(void *data, bool ok); /* called after each login attempt (may be NULL) */
        void *on_token_data;
};

/* Sets up ac from the flags (each may be NULL) and the environment. A key file that cannot be
 * read or is not a private key is an error (-EINVAL, *err says which). No credentials at all is
 * not an error: the masters will answer 401 (with --auth off they need none). */
int auth_client_init(struct auth_client *ac, struct http_client *http, const char *token, const char *uid,
                     const char *key_file, struct err *err);
void auth_client_release(struct auth_client *ac);
/* The header for a request to the master at base_url, or NULL (then a login may have started). */
const char *auth_client_header(struct auth_client *ac, const char *base_url);
/* A master answered 401: forget the token so that the next request logs in again. */
void auth_client_refused(struct auth_client *ac);
