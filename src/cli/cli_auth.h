/* cli_auth.h — which token the CLI sends to a master, and the `auth` noun that manages it.
 *
 * The token for a master URL is, in order:
 *   1. $STRATA_TOKEN (scripts, CI);
 *   2. the per-user token file (common/auth_tokens.h), written by `strata auth login` and by
 *      `strata dev` for its local admin — used while it has not expired;
 *   3. a fresh login when $STRATA_SERVICE_ACCOUNT and $STRATA_PRIVATE_KEY (a PEM file) name a
 *      service account: the CLI signs a login token with the key, logs in, and stores the
 *      answer in the token file for the next call;
 *   4. the token this process used last (an agent's API takes its master's tokens);
 *   5. none (the master answers 401 with a hint to log in). */
#pragma once

#include <stdbool.h>

#include "common/err.h"

/* "Authorization: token=<jwt>" for the master at base_url, or NULL (static storage, valid until
 * the next call with another URL). */
const char *cli_auth_header(const char *base_url);

/* A master refused the token sent to base_url (401). With service-account credentials in the
 * environment, forgets the stored token, logs in again and returns true (the caller resends
 * once); otherwise false. */
bool cli_auth_refused(const char *base_url);

struct http_reply;
/* Rewrites err from a DC/OS IAM error body in reply ("<what>: <description>") when it has one;
 * returns code. */
int cli_iam_error(const struct http_reply *reply, int code, const char *what, struct err *err);

/* Logs in as a service account (uid, PEM private key text) at base_url and returns the token
 * (caller frees). -EACCES etc. with *err saying why. */
int cli_auth_login_key(const char *base_url, const char *uid, const char *private_pem, char **ret, struct err *err);
