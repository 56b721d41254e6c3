/* auth_store.h — identities and grants in the replicated state (issue 13): users, service
 * accounts, groups of them, what each may do, the cluster's token key and revoked tokens.
 *
 * Document (snapshot key "auth"; a JSON object kept as such in memory):
 * | key      | base64url of 32 random bytes: the HS256 key of the cluster's tokens (set once)   |
 * | users    | {uid: User}                                                                     |
 * | groups   | {gid: {"description", "members": [uid…], "grants": Grants}}                       |
 * | revoked  | {jti: exp (s)}: revoked tokens, dropped once expired                              |
 * User:   {"kind": "user"|"service", "description", "password"?: {"scrypt": b64, "salt": b64,
 *          "N", "r", "p"}, "public_key"?: PEM (service accounts), "grants": Grants,
 *          "revoked_before"?: s (tokens issued before are refused), "created": ts}
 * Grants: {rid: action bits (common/perm.h)}
 *
 * Command "auth" v1 (fsm_auth; the master validates every field before submitting, the handler
 * re-checks shapes so a bad command cannot corrupt the state):
 * | op           | fields                         | effect                                           |
 * | init         | key, admin?: {uid, user}       | key set if absent; admin added if no user exists  |
 * | user_put     | uid, user                      | user created or replaced (grants kept if absent) |
 * | user_remove  | uid                            | user and its group memberships removed (404)     |
 * | group_put    | gid, group                     | group created or replaced                        |
 * | group_remove | gid                            | removed (404)                                    |
 * | member       | gid, uid, add                  | membership added/removed (404: unknown gid/uid)  |
 * | grant        | kind ("users"/"groups"), id, rid, actions, add | bits or-ed in / cleared (404)    |
 * | revoke_token | jti, exp                       | token refused until exp; expired entries dropped |
 * | revoke_user  | uid, before                    | tokens of uid issued before `before` refused     |
 * Result: none. At most AUTH_MAX_IDENTITIES users and groups, AUTH_MAX_REVOKED revoked tokens. */
#pragma once

#include <jansson.h>

#include "common/err.h"
#include "store/state.h"

#define AUTH_MAX_IDENTITIES 10000
#define AUTH_MAX_REVOKED 100000

struct auth_records {
        json_t *doc; /* owned; always an object with the members above */
};

void auth_records_init(struct auth_records *a);
void auth_records_release(struct auth_records *a);
json_t *auth_records_to_json(const struct auth_records *a); /* new reference (a copy) */
/* Replaces a's content with doc (NULL: empty, an old snapshot). -EINVAL on a bad shape. */
int auth_records_from_json(struct auth_records *a, const json_t *doc, struct err *err);

/* Readers (borrowed; valid until the next mutation). */
const json_t *state_auth(const struct state *s);
const json_t *state_auth_user(const struct state *s, const char *uid);
const json_t *state_auth_users(const struct state *s);
const json_t *state_auth_groups(const struct state *s);
/* The token key (raw bytes in *ret, caller frees) or -ENOENT before init. */
int state_auth_key(const struct state *s, uint8_t **ret, size_t *ret_len);
bool state_auth_revoked(const struct state *s, const char *jti);

int fsm_auth(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err);
