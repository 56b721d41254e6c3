/* auth.c — authenticating API calls, checking route permissions, bootstrapping the first admin. */
#include "master/auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/alloc.h"
#include "common/auth_tokens.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/token.h"
#include "common/util.h"
#include "master/audit.h"
#include "master/auth_internal.h"
#include "master/master_internal.h"
#include "store/auth_store.h"

#define RETRY_MS 1000
#define DEV_REFRESH_MS 60000
#define MASTER_TOKEN_TTL_S 300
#define VERIFIED_MAX 4096

/* A token whose signature checked out, and what it says. */
struct verified {
        char *token; /* the key in the map */
        char *uid, *jti;
        int64_t exp;
        double iat;
};

static void verified_free(struct verified *v) {
        if (!v)
                return;
        free(v->token);
        free(v->uid);
        free(v->jti);
        free(v);
}

static void verified_clear(struct hashmap *map) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(map, &pos, NULL, &v)) {
                hashmap_remove(map, ((struct verified *)v)->token);
                verified_free(v);
        }
}

/* The claims of a token, from the cache or by checking its signature now (then cached). */
static const struct verified *verify_signature(struct master *m, const char *token, size_t len, const char **why) {
        struct master_auth *a = m->auth;
        _cleanup_free_ char *t = xstrndup(token, len);
        struct verified *v = hashmap_get(&a->verified, t);
        if (v)
                return v;
        size_t klen;
        const uint8_t *key = auth_key(m, &klen);
        if (!key) {
                *why = "the cluster has no token key yet";
                return NULL;
        }
        _cleanup_(json_decrefp) json_t *claims = NULL;
        struct err e = {0};
        if (token_verify_hs256(t, key, klen, &claims, &e) < 0) {
                err_release(&e);
                *why = "invalid token";
                return NULL;
        }
        const char *uid = json_string_value(json_object_get(claims, "uid"));
        const char *jti = json_string_value(json_object_get(claims, "jti"));
        json_t *exp = json_object_get(claims, "exp");
        if (!uid || !jti || !json_is_integer(exp) || !json_is_number(json_object_get(claims, "iat"))) {
                *why = "invalid token";
                return NULL;
        }
        if (hashmap_size(&a->verified) >= VERIFIED_MAX)
                verified_clear(&a->verified);
        v = xcalloc(1, sizeof *v);
        v->token = TAKE_PTR(t);
        v->uid = xstrdup(uid);
        v->jti = xstrdup(jti);
        v->exp = json_integer_value(exp);
        v->iat = json_number_value(json_object_get(claims, "iat"));
        hashmap_put(&a->verified, v->token, v);
        return v;
}

void auth_who_free(struct auth_who *w) {
        if (!w)
                return;
        free(w->uid);
        free(w->jti);
        free(w);
}

int auth_config_flag(struct auth_config *c, int i, const char *arg) {
        switch (i) {
        case 0:
                if (streq(arg, "on") || streq(arg, "off")) {
                        c->off = streq(arg, "off");
                        return 0;
                }
                fprintf(stderr, "strata: --auth must be on or off\n");
                return -EINVAL;
        case 1: {
                struct err e = {0};
                char *pem = NULL;
                size_t n;
                if (file_read_all(arg, 64 * 1024, &pem, &n, &e) < 0 || !token_public_key_valid(pem)) {
                        fprintf(stderr, "strata: --bootstrap-admin-key '%s': %s\n", arg,
                                e.msg ? err_msg(&e) : "not an Ed25519 or RSA (2048+ bits) public key in PEM form");
                        err_release(&e);
                        free(pem);
                        return -EINVAL;
                }
                free(c->bootstrap_admin_key);
                c->bootstrap_admin_key = pem;
                return 0;
        }
        case 2:
                if (flags_uint(arg, 1, 2592000, &c->token_ttl_s) < 0) {
                        fprintf(stderr, "strata: --token-ttl must be 1..2592000 seconds\n");
                        return -EINVAL;
                }
                return 0;
        case 3:
                c->metrics_auth = true;
                return 0;
        default:
                return -EINVAL;
        }
}

void auth_config_release(struct auth_config *c) {
        free(c->bootstrap_admin_key);
        c->bootstrap_admin_key = NULL;
}

unsigned auth_ttl(const struct master *m) {
        return m->cfg.auth.token_ttl_s ? m->cfg.auth.token_ttl_s : AUTH_DEFAULT_TTL_S;
}

double auth_now_s(void) {
        return (double)time_now_ms() / 1000.0;
}

/* The cluster's token key, cached once the state has it (it never changes). */
const uint8_t *auth_key(struct master *m, size_t *len) {
        struct master_auth *a = m->auth;
        if (!a->key && m->store) {
                uint8_t *k;
                size_t n;
                if (state_auth_key(store_state(m->store), &k, &n) == 0) {
                        a->key = k;
                        a->key_len = n;
                }
        }
        *len = a->key_len;
        return a->key;
}

char *auth_issue(struct master *m, const char *uid, unsigned ttl_s) {
        size_t klen;
        const uint8_t *key = auth_key(m, &klen);
        if (!key)
                return NULL;
        char jti[37];
        uuid_random(jti);
        double now = auth_now_s();
        _cleanup_(json_decrefp) json_t *claims = json_pack("{s:s,s:s,s:f,s:I}", "uid", uid, "jti", jti, "iat", now,
                                                           "exp", (json_int_t)now + ttl_s);
        return token_sign_hs256(key, klen, claims);
}

char *auth_master_token(struct master *m) {
        return auth_issue(m, "strata:master", MASTER_TOKEN_TTL_S);
}

char *auth_master_header(struct master *m) {
        _cleanup_free_ char *t = auth_master_token(m);
        return t ? xasprintf("Authorization: token=%s", t) : NULL;
}

const char *auth_local_agent_secret(struct master *m) {
        return m->auth && m->auth->local_secret[0] ? m->auth->local_secret : NULL;
}

/* --- authentication -------------------------------------------------------------------------- */

int auth_verify(struct master *m, const char *token, size_t len, struct auth_who **ret, const char **why) {
        struct master_auth *a = m->auth;
        size_t slen = strlen(a->local_secret);
        if (slen && len == slen && CRYPTO_memcmp(token, a->local_secret, slen) == 0) {
                struct auth_who *w = xcalloc(1, sizeof *w);
                w->uid = xstrdup("strata:agent");
                w->builtin = true;
                *ret = w;
                return 0;
        }
        const struct verified *v = verify_signature(m, token, len, why);
        if (!v)
                return -EACCES;
        const char *uid = v->uid, *jti = v->jti;
        double iat = v->iat;
        double now = auth_now_s();
        if ((double)v->exp <= now) {
                *why = "token expired";
                return -EACCES;
        }
        const struct state *st = store_state(m->store);
        if (state_auth_revoked(st, jti)) {
                *why = "token revoked";
                return -EACCES;
        }
        bool builtin = streq(uid, "strata:master");
        if (!builtin) {
                const json_t *user = state_auth_user(st, uid);
                if (!user) {
                        *why = "the token's user no longer exists";
                        return -EACCES;
                }
                json_t *before = json_object_get(user, "revoked_before");
                if (before && iat * 1000.0 < json_number_value(before)) {
                        *why = "token revoked";
                        return -EACCES;
                }
        }
        struct auth_who *w = xcalloc(1, sizeof *w);
        w->uid = xstrdup(uid);
        w->jti = xstrdup(jti);
        w->exp = v->exp;
        w->builtin = builtin;
        *ret = w;
        return 0;
}

/* --- authorization --------------------------------------------------------------------------- */

static bool grants_cover(const json_t *grants, const char *rid, const char *path, unsigned action, bool some) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)grants, k, v) {
                /* the common case without parsing: a superuser */
                if ((streq(k, "dcos:superuser") || streq(k, "strata:superuser")) &&
                    ((unsigned)json_integer_value(v) & action) == action)
                        return true;
                struct perm p;
                struct err e = {0};
                if (perm_parse(k, &p, &e) < 0) {
                        err_release(&e);
                        continue;
                }
                unsigned bits = (unsigned)json_integer_value(v);
                bool ok = some ? perm_covers_some(&p, bits, rid, action) : perm_covers(&p, bits, rid, path, action);
                perm_release(&p);
                if (ok)
                        return true;
        }
        return false;
}

static bool is_member(const json_t *group, const char *uid) {
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(group, "members"), i, u)
                if (streq(json_string_value(u) ?: "", uid))
                        return true;
        return false;
}

bool auth_allowed(struct master *m, const struct auth_who *who, const char *rid, const char *path, unsigned action,
                  bool some) {
        /* The in-process secret of `strata dev` serves its built-in agent (the agent link) and its
         * built-in balancer, which only reads apps and follows events (src/lb). */
        if (who->builtin)
                return streq(who->uid, "strata:master") ||
                       (streq(who->uid, "strata:agent") &&
                        (streq(rid, RID_AGENT) ||
                         (action == PERM_READ && (streq(rid, RID_SERVICES) || streq(rid, RID_EVENTS)))));
        const struct state *st = store_state(m->store);
        const json_t *user = state_auth_user(st, who->uid);
        if (!user)
                return false;
        if (grants_cover(json_object_get(user, "grants"), rid, path, action, some))
                return true;
        const char *gid;
        json_t *g;
        json_object_foreach((json_t *)state_auth_groups(st), gid, g)
                if (is_member(g, who->uid) && grants_cover(json_object_get(g, "grants"), rid, path, action, some))
                        return true;
        return false;
}

bool auth_may(const struct api_call *call, const char *rid, const char *path, unsigned action) {
        if (call->m->cfg.auth.off)
                return true;
        struct auth_who *who = call->who;
        if (!who)
                return false;
        /* A list asks once per item: whoever covers the whole tree needs no per-item check. */
        if (who->root_rid != rid || who->root_action != action) {
                who->root_rid = rid;
                who->root_action = action;
                who->root_ok = auth_allowed(call->m, who, rid, "/", action, false);
        }
        return who->root_ok || auth_allowed(call->m, who, rid, path, action, false);
}

bool auth_may_all(const struct api_call *call, const char *rid, const json_t *ids, unsigned action) {
        if (json_array_size(ids) == 0)
                return auth_may(call, rid, "/", action);
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
                if (!json_is_string(id) || !auth_may(call, rid, json_string_value(id), action))
                        return false;
        return true;
}

void auth_filter_items(const struct api_call *call, json_t *items, const char *key) {
        for (size_t i = json_array_size(items); i-- > 0;) {
                json_t *v = json_object_get(json_array_get(items, i), key);
                const char *id = json_is_string(v) ? json_string_value(v) : json_string_value(json_object_get(v, "id"));
                if (!id || !auth_may(call, RID_SERVICES, id, PERM_READ))
                        json_array_remove(items, i);
        }
}

/* An app or group id as Marathon reads a body's "id": relative ids are under base. */
static char *absolute_id(const char *id, const char *base) {
        if (id[0] == '/')
                return xstrdup(id);
        if (!base || streq(base, "/"))
                return xasprintf("/%s", id);
        return xasprintf("%s/%s", base, id);
}

static bool body_allowed(struct api_call *call, const struct route_perm *perm, char **denied) {
        json_t *items = call->body;
        _cleanup_(json_decrefp) json_t *one = NULL;
        if (!json_is_array(items)) {
                one = json_pack("[O]", call->body ? call->body : json_null());
                items = one;
        }
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
                const char *id = json_string_value(json_object_get(it, "id"));
                _cleanup_free_ char *path = id && *id ? absolute_id(id, call->id) : xstrdup(call->id ? call->id : "/");
                if (!auth_allowed(call->m, call->who, perm->rid, path, perm->action, false)) {
                        *denied = TAKE_PTR(path);
                        return false;
                }
        }
        return true;
}

/* The first extra permission an app (or each app of a group, recursively) asks for, or NULL. */
static const char *privileged_need(const json_t *doc, int depth) {
        if (!json_is_object(doc) || depth > 32)
                return NULL;
        const json_t *container = json_object_get(doc, "container");
        const json_t *docker = json_object_get(container, "docker");
        if (json_is_true(json_object_get(docker, "privileged")))
                return RID_PRIVILEGED;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(docker, "parameters"), i, p)
                if (streq(json_string_value(json_object_get(p, "key")) ?: "", "privileged"))
                        return RID_PRIVILEGED;
        const json_t *lists[] = {json_object_get(container, "volumes"), json_object_get(doc, "volumes")};
        for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
                json_t *v;
                json_array_foreach(lists[l], i, v)
                        if (json_is_string(json_object_get(v, "hostPath")))
                                return RID_HOST_VOLUMES;
        }
        const char *user = json_string_value(json_object_get(doc, "user"));
        if (user && (streq(user, "root") || streq(user, "0")))
                return RID_USER_ROOT;
        const char *nested[] = {"apps", "groups"};
        for (size_t n = 0; n < ELEMENTSOF(nested); n++) {
                json_t *x;
                json_array_foreach(json_object_get(doc, nested[n]), i, x) {
                        const char *r = privileged_need(x, depth + 1);
                        if (r)
                                return r;
                }
        }
        return NULL;
}

/* Writes of app or group definitions: what they ask for beyond the services grant. */
static const char *privileged_denied(struct api_call *call, const struct route_perm *perm) {
        if (!perm->rid || !streq(perm->rid, RID_SERVICES) || !(perm->action & (PERM_CREATE | PERM_UPDATE)) ||
            !call->body)
                return NULL;
        size_t i;
        json_t *it;
        _cleanup_(json_decrefp) json_t *one = json_is_array(call->body) ? NULL : json_pack("[O]", call->body);
        json_array_foreach(one ? one : call->body, i, it) {
                const char *need = privileged_need(it, 0);
                if (need && !auth_allowed(call->m, call->who, need, NULL, PERM_CREATE, false))
                        return need;
        }
        return NULL;
}

static void reply_401(struct api_call *call, const char *why) {
        call->audit = false; /* recorded here, once */
        audit_record(call, 401);
        /* DC/OS answers 401 with this challenge; Marathon's error body */
        http_request_add_header(call->req, "WWW-Authenticate", "acsjwt");
        api_reply_error(call, 401, "Unauthorized: %s (log in with `strata auth login`)", why);
}

bool auth_route_check(struct api_call *call, const struct route_perm *perm) {
        struct master *m = call->m;
        const char *method = http_request_method(call->req);
        call->audit = !streq(method, "GET") && !streq(method, "HEAD");
        if (m->cfg.auth.off || (perm->flags & PERM_F_OPEN))
                return true;
        if ((perm->flags & PERM_F_METRICS) && !m->cfg.auth.metrics_auth)
                return true;
        size_t len = 0;
        const char *t = token_from_authorization(http_request_header(call->req, "Authorization"), &len);
        if (!t) {
                reply_401(call, http_request_header(call->req, "Authorization") ? "unsupported Authorization header"
                                                                                 : "no token");
                return false;
        }
        const char *why = NULL;
        if (auth_verify(m, t, len, &call->who, &why) < 0) {
                reply_401(call, why);
                return false;
        }
        if (perm->flags & PERM_F_AUTHN)
                return true;
        bool ok;
        _cleanup_free_ char *denied = NULL;
        const char *rid = perm->rid;
        if (!(perm->flags & PERM_F_DECLARED) || !rid) {
                /* A route without a declared permission: superusers only (and a test fails). */
                rid = "strata:undeclared";
                ok = auth_allowed(m, call->who, rid, NULL, PERM_FULL, false);
        } else {
                switch (perm->scope) {
                case PERM_SCOPE_ID:
                        ok = auth_allowed(m, call->who, rid, call->id ? call->id : "/", perm->action, false);
                        if (!ok)
                                denied = xstrdup(call->id ? call->id : "/");
                        break;
                case PERM_SCOPE_ROOT:
                        ok = auth_allowed(m, call->who, rid, "/", perm->action, false);
                        if (!ok)
                                denied = xstrdup("/");
                        break;
                case PERM_SCOPE_SOME:
                        ok = auth_allowed(m, call->who, rid, NULL, perm->action, true);
                        break;
                case PERM_SCOPE_BODY:
                        ok = body_allowed(call, perm, &denied);
                        break;
                default:
                        ok = auth_allowed(m, call->who, rid, NULL, perm->action, false);
                        break;
                }
        }
        const char *extra = ok ? privileged_denied(call, perm) : NULL;
        if (extra) {
                call->audit = false;
                audit_record(call, 403);
                api_reply_error(call, 403, "Forbidden: '%s' may not create apps that need %s", call->who->uid, extra);
                return false;
        }
        if (!ok) {
                call->audit = false;
                audit_record(call, 403);
                api_reply_error(call, 403, "Forbidden: '%s' may not %s %s%s%s", call->who->uid,
                                perm_action_name(perm->action ? perm->action : PERM_FULL), rid, denied ? ":" : "",
                                denied ? denied : "");
                return false;
        }
        return true;
}

/* --- bootstrap ------------------------------------------------------------------------------- */

static void timer_cb(uv_timer_t *t);

static void arm(struct master_auth *a, uint64_t ms) {
        if (!a->stopping)
                uv_timer_start(&a->timer, timer_cb, ms, 0);
}

/* dev: the CLI on this machine finds a fresh admin token (auth_tokens.h), no login needed. */
static void dev_write_token(struct master *m) {
        struct master_auth *a = m->auth;
        _cleanup_free_ char *t = auth_issue(m, "admin", auth_ttl(m));
        if (!t || !state_auth_user(store_state(m->store), "admin")) {
                arm(a, RETRY_MS);
                return;
        }
        struct err e = {0};
        _cleanup_free_ char *local = xasprintf("http://127.0.0.1:%s", strrchr(m->http_advertised, ':') + 1);
        _cleanup_free_ char *adv = xasprintf("http://%s", m->http_advertised);
        if (auth_tokens_put(local, t, &e) < 0 || auth_tokens_put(adv, t, &e) < 0) {
                log_warn("cannot store the dev admin token for the CLI: %s", err_msg(&e));
                err_release(&e);
        } else if (!a->dev_token_logged) {
                log_info("dev: admin token for the CLI stored in %s", auth_tokens_path());
                a->dev_token_logged = true;
        }
        /* Refresh well before it expires. */
        uint64_t next = (uint64_t)auth_ttl(m) * 1000 / 2;
        arm(a, next < DEV_REFRESH_MS ? next : DEV_REFRESH_MS * 10);
}

static void init_done(void *data, int status, json_t *result, struct err *err) {
        struct master *m = data;
        struct master_auth *a = m->auth;
        if (!a || a->stopping)
                return;
        a->init_in_flight = false;
        if (status < 0) {
                log_warn("auth bootstrap failed, retrying: %s", err_msg(err));
                arm(a, RETRY_MS);
                return;
        }
        if (a->bootstrap_password && state_auth_user(store_state(m->store), "admin")) {
                const json_t *u = state_auth_user(store_state(m->store), "admin");
                if (json_object_get(u, "password"))
                        log_info("bootstrap: created the superuser 'admin' with the one-time password '%s' — run "
                                 "`strata auth login --username admin` and change it",
                                 a->bootstrap_password);
        }
        free(a->bootstrap_password);
        a->bootstrap_password = NULL;
        if (m->cfg.dev)
                dev_write_token(m);
}

static void submit_init(struct master *m, json_t *admin_user) {
        struct master_auth *a = m->auth;
        uint8_t key[32];
        if (getrandom(key, sizeof key, 0) != sizeof key)
                abort();
        _cleanup_free_ char *k = b64url_encode(key, sizeof key);
        OPENSSL_cleanse(key, sizeof key);
        json_t *cmd = json_pack("{s:s,s:i,s:s,s:s}", "type", "auth", "v", 1, "op", "init", "key", k);
        if (admin_user)
                json_object_set_new(cmd, "admin", json_pack("{s:s,s:o}", "uid", "admin", "user", admin_user));
        a->init_in_flight = true;
        store_submit(m->store, cmd, init_done, m);
}

static void bootstrap_hashed(struct master *m, int status, json_t *hash, void *data) {
        struct master_auth *a = m->auth;
        if (!a || a->stopping) {
                json_decref(hash);
                return;
        }
        if (status < 0) {
                json_decref(hash);
                a->init_in_flight = false;
                arm(a, RETRY_MS);
                return;
        }
        char ts[25];
        time_format_ms(time_now_ms(), ts);
        json_t *user = json_pack("{s:s,s:s,s:o,s:{s:i},s:s}", "kind", "user", "description", "bootstrap superuser",
                                 "password", hash, "grants", "dcos:superuser", PERM_FULL, "created", ts);
        submit_init(m, user);
}

static void bootstrap(struct master *m) {
        struct master_auth *a = m->auth;
        const struct state *st = store_state(m->store);
        if (a->init_in_flight || json_object_get(state_auth(st), "key"))
                return;
        bool need_admin = json_object_size(state_auth_users(st)) == 0;
        char ts[25];
        time_format_ms(time_now_ms(), ts);
        if (!need_admin) {
                submit_init(m, NULL);
        } else if (m->cfg.auth.bootstrap_admin_key) {
                submit_init(m, json_pack("{s:s,s:s,s:s,s:{s:i},s:s}", "kind", "service", "description",
                                         "bootstrap superuser", "public_key", m->cfg.auth.bootstrap_admin_key,
                                         "grants", "dcos:superuser", PERM_FULL, "created", ts));
        } else if (m->cfg.dev) {
                /* strata dev: a local admin whose tokens this process writes for the CLI */
                submit_init(m, json_pack("{s:s,s:s,s:{s:i},s:s}", "kind", "user", "description",
                                         "local admin of strata dev", "grants", "dcos:superuser", PERM_FULL,
                                         "created", ts));
        } else {
                /* a one-time password, printed once the admin exists; hashing is slow: off the loop */
                uint8_t raw[12];
                if (getrandom(raw, sizeof raw, 0) != sizeof raw)
                        abort();
                free(a->bootstrap_password);
                a->bootstrap_password = b64url_encode(raw, sizeof raw);
                a->init_in_flight = true;
                auth_password_hash_async(m, a->bootstrap_password, bootstrap_hashed, NULL);
        }
}

static void timer_cb(uv_timer_t *t) {
        struct master *m = t->data;
        if (!m->store || m->stopping)
                return;
        struct store_status st;
        store_status(m->store, &st);
        if (st.is_leader)
                bootstrap(m);
        if (m->cfg.dev && !m->auth->init_in_flight)
                dev_write_token(m);
        else if (!json_object_get(state_auth(store_state(m->store)), "key"))
                arm(m->auth, RETRY_MS);
}

void auth_leadership(struct master *m) {
        if (!m->auth || !m->store || m->stopping)
                return;
        struct store_status st;
        store_status(m->store, &st);
        if (st.is_leader)
                bootstrap(m);
        if (m->cfg.dev && !m->auth->init_in_flight && !uv_is_active((uv_handle_t *)&m->auth->timer))
                arm(m->auth, 0);
}

void auth_start(struct master *m) {
        struct master_auth *a = xcalloc(1, sizeof *a);
        m->auth = a;
        uv_timer_init(m->loop, &a->timer);
        a->timer.data = m;
        hashmap_init(&a->verified);
        a->audit_fd = -1;
        audit_open(m);
        if (m->cfg.dev) {
                uint8_t raw[32];
                if (getrandom(raw, sizeof raw, 0) != sizeof raw)
                        abort();
                char *s = b64url_encode(raw, sizeof raw);
                snprintf(a->local_secret, sizeof a->local_secret, "strata-dev-agent.%s", s);
                free(s);
        }
        if (m->cfg.auth.off)
                log_warn("--auth off: the API answers every caller without a token");
        auth_leadership(m);
}

static void timer_closed(uv_handle_t *h) {
        struct master_auth *a = ((struct master *)h->data)->auth;
        ((struct master *)h->data)->auth = NULL;
        free(a->key);
        free(a->bootstrap_password);
        verified_clear(&a->verified);
        hashmap_release(&a->verified);
        free(a);
}

void auth_stop(struct master *m) {
        if (!m->auth)
                return;
        m->auth->stopping = true;
        audit_close(m);
        uv_close((uv_handle_t *)&m->auth->timer, timer_closed);
}
