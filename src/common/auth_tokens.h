/* auth_tokens.h — the CLI's tokens, one per master URL, in a per-user file (mode 0600).
 *
 * File: $STRATA_CONFIG if set, else $XDG_CONFIG_HOME/strata/auth.json, else
 * $HOME/.config/strata/auth.json:
 *   {"tokens": {"http://127.0.0.1:8080": "<jwt>", …}}
 * URLs are normalized: scheme http:// added when missing, trailing '/' dropped, localhost,
 * 0.0.0.0 and ::1 written 127.0.0.1. Writers (`strata auth login`, `strata dev`) update it under
 * an flock on "<file>.lock" and replace it atomically, so concurrent writers lose nothing. */
#pragma once

#include "common/err.h"

/* The file's path (static buffer, valid until the next call). */
const char *auth_tokens_path(void);
/* The token stored for url (caller frees) or NULL. */
char *auth_tokens_get(const char *url);
/* Stores (token != NULL) or removes (NULL) the token for url. */
int auth_tokens_put(const char *url, const char *token, struct err *err);
/* url in the normalized form the file uses (caller frees). */
char *auth_tokens_normalize(const char *url);
