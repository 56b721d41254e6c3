/* auth.h — who is calling and what they may do: token checks and the permission every route
 * declares (issue 13). Default deny: a route answers only callers whose grants cover its
 * permission; a route that declares none is for superusers only, and a test fails on it.
 *
 * Identities: users and service accounts in the replicated state (store/auth_store.h), plus two
 * built-in ones that never appear there: "strata:master" (tokens one master mints for another,
 * e.g. the masters registry) and "strata:agent" (the in-process agent of `strata dev`, which
 * holds a per-process random secret). Tokens are the cluster's HS256 JWTs (common/token.h) sent
 * as "Authorization: token=<jwt>" (DC/OS) or "Authorization: Bearer <jwt>"; a token is refused
 * when expired, revoked (by id, or its user's tokens issued before a revocation time), or when
 * its user no longer exists. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/perm.h"

struct master;
struct api_call;

/* Resources the route table names (DC/OS's where DC/OS has one). */
#define RID_SERVICES "dcos:service:marathon:marathon:services" /* apps and groups, per group path */
#define RID_EVENTS "dcos:service:marathon:marathon:admin:events"
#define RID_INFO "dcos:service:marathon:marathon:admin:info"
#define RID_MESOS_STATE "dcos:mesos:master:state"
#define RID_ACS "dcos:adminrouter:acs" /* users, groups, grants */
#define RID_CLUSTER "strata:cluster"
#define RID_MASTERS "strata:cluster:masters"
#define RID_NODES "strata:nodes"
#define RID_AGENT "strata:agent" /* the agent link: subscribe and status updates */
#define RID_METRICS "strata:metrics"
#define RID_AUDIT "strata:audit"
#define RID_LEADER "dcos:service:marathon:marathon:admin:leader" /* DELETE /v2/leader (abdicate) */
#define RID_PLUGINS "dcos:service:marathon:marathon:admin:plugins"
#define RID_JOBS "dcos:service:metronome:metronome:jobs" /* Metronome /v1/jobs */
#define RID_DNS "strata:dns"                               /* GET /v1/dns/lookup */
/* What an app definition may ask for only with its own grant (create), beyond the services one. */
#define RID_PRIVILEGED "strata:apps:privileged"     /* container.docker.privileged */
#define RID_HOST_VOLUMES "strata:apps:host-volumes" /* volumes with a hostPath */
#define RID_USER_ROOT "strata:apps:user-root"       /* "user": "root" (or uid 0) */

/* Which path the permission is checked at. */
enum perm_scope {
        PERM_SCOPE_NONE, /* the resource has no paths */
        PERM_SCOPE_ID,   /* the id the router parsed from the URL ("/prod/web") */
        PERM_SCOPE_ROOT, /* "/": the whole tree (lists that are not filtered per item) */
        PERM_SCOPE_SOME, /* any path: the handler filters what it returns item by item */
        PERM_SCOPE_BODY, /* the "id" of the JSON body (or of each element of an array body) */
};

enum {
        PERM_F_DECLARED = 1 << 0, /* set by every PERM_* macro: a zeroed column is "undeclared" */
        PERM_F_OPEN = 1 << 1,     /* no token needed */
        PERM_F_AUTHN = 1 << 2,    /* any valid token (whoami, logout) */
        PERM_F_METRICS = 1 << 3,  /* open unless the master runs with --metrics-auth */
};

/* The permission column of a route table row. */
struct route_perm {
        const char *rid;
        unsigned action;
        enum perm_scope scope;
        unsigned flags;
};

#define PERM(rid, action, scope) { (rid), (action), (scope), PERM_F_DECLARED }
#define PERM_OPEN { NULL, 0, PERM_SCOPE_NONE, PERM_F_DECLARED | PERM_F_OPEN }
#define PERM_AUTHENTICATED { NULL, 0, PERM_SCOPE_NONE, PERM_F_DECLARED | PERM_F_AUTHN }
#define PERM_METRICS { RID_METRICS, PERM_READ, PERM_SCOPE_NONE, PERM_F_DECLARED | PERM_F_METRICS }

/* The caller of one request (owned by the api_call). */
struct auth_who {
        char *uid;
        char *jti;   /* NULL for built-in identities */
        int64_t exp; /* seconds; 0 for built-in identities */
        bool builtin;
        /* auth_may's memo for a filtered list: whether the caller covers root_rid at "/" */
        const char *root_rid;
        unsigned root_action;
        bool root_ok;
};
void auth_who_free(struct auth_who *w);

/* `strata master|dev` flags (master_main.c parses, auth.c interprets). */
struct auth_config {
        bool off;                 /* --auth off: every route open (benchmarks, trusted networks) */
        char *bootstrap_admin_key; /* --bootstrap-admin-key FILE: PEM contents, read at parse time */
        unsigned token_ttl_s;     /* --token-ttl; 0 = AUTH_DEFAULT_TTL_S */
        bool metrics_auth;        /* --metrics-auth */
};
#define AUTH_DEFAULT_TTL_S (8 * 3600)
/* Password hashes (logins, new users) running at once; beyond, 429: a login flood must not take
 * libuv's whole thread pool, which also encodes app lists and snapshots. */
#define AUTH_MAX_HASHING 2
#define AUTH_FLAGS_USAGE                                                                                     \
        "  --auth on|off         require tokens on the API (default on)\n"                                 \
        "  --bootstrap-admin-key FILE  a PEM public key (Ed25519 or RSA): the first start creates the\n"  \
        "                        superuser service account 'admin' with it (instead of printing a\n"     \
        "                        one-time password)\n"                                                     \
        "  --token-ttl SECS      lifetime of login tokens (default 28800)\n"                               \
        "  --metrics-auth        /metrics needs a token too (default: open for scrapers)\n"
/* Applies flag i (0: --auth, 1: --bootstrap-admin-key, 2: --token-ttl, 3: --metrics-auth);
 * prints why and returns -EINVAL on a bad value. */
int auth_config_flag(struct auth_config *c, int i, const char *arg);
void auth_config_release(struct auth_config *c);

/* The master's auth part: set up after the store, torn down with the master. */
void auth_start(struct master *m);
void auth_stop(struct master *m);
/* Store role/leader changes (master_main.c's on_store_change): the first leader creates the
 * token key and the bootstrap admin. */
void auth_leadership(struct master *m);

/* Authenticates and authorizes call for its route's permission. Returns true when the handler
 * may run (call->who is set when a token was given); otherwise it has answered 401 or 403
 * (Marathon's {"message"} body) and freed the call. */
bool auth_route_check(struct api_call *call, const struct route_perm *perm);

/* Whether the caller of call may do action on rid at path (always true with --auth off). For
 * handlers that filter lists (PERM_SCOPE_SOME). */
bool auth_may(const struct api_call *call, const char *rid, const char *path, unsigned action);

/* Whether the caller may do action on every id of the JSON array ids (an empty array: only a
 * caller who covers "/"). For lists of things that touch several apps (deployments). */
bool auth_may_all(const struct api_call *call, const char *rid, const json_t *ids, unsigned action);
/* Removes from the array items those the caller may not read: item[key] is the app id, or an
 * object whose "id" is (queue entries). */
void auth_filter_items(const struct api_call *call, json_t *items, const char *key);

/* A token this master mints for itself ("strata:master", 5 minutes), for requests to other
 * masters; NULL before the cluster has a key. Caller frees. */
char *auth_master_token(struct master *m);
/* "Authorization: token=…" for the same, or NULL (caller frees). */
char *auth_master_header(struct master *m);

/* `strata dev`: the secret the in-process agent presents (NULL otherwise; borrowed). */
const char *auth_local_agent_secret(struct master *m);
