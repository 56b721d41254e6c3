/* api_auth.c — the identity API: login (password or service-account key), whoami, logout,
 * users, service accounts, groups and grants (DC/OS's /acs/api/v1 shapes), revocation. */
#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/token.h"
#include "common/util.h"
#include "master/auth_internal.h"
#include "master/master_internal.h"
#include "store/auth_store.h"

#define SCRYPT_N (1u << 15)
#define SCRYPT_R 8u
#define SCRYPT_P 1u
#define HASH_LEN 32
#define LOGIN_TOKEN_MAX_S 600 /* a service account's login token may not live longer */
#define MAX_PASSWORD 1024

/* --- passwords, off the loop ------------------------------------------------------------------ */

struct pw_work {
        uv_work_t req;
        struct master *m;
        char *password;
        uint8_t salt[16], hash[HASH_LEN], want[HASH_LEN];
        uint64_t n, r, p;
        bool check;
        int status;
        auth_hash_cb hash_cb;
        auth_check_cb check_cb;
        void *data;
};

static int scrypt(const char *pw, const uint8_t *salt, size_t salt_len, uint64_t n, uint64_t r, uint64_t p,
                  uint8_t out[HASH_LEN]) {
        /* maxmem: 128 * r * N bytes plus slack */
        return EVP_PBE_scrypt(pw, strlen(pw), salt, salt_len, n, r, p, 64u * 1024 * 1024, out, HASH_LEN) == 1 ? 0
                                                                                                             : -EINVAL;
}

static void pw_run(uv_work_t *req) {
        struct pw_work *w = req->data;
        w->status = scrypt(w->password, w->salt, sizeof w->salt, w->n, w->r, w->p, w->hash);
        if (w->check && w->status == 0 && CRYPTO_memcmp(w->hash, w->want, HASH_LEN) != 0)
                w->status = -EACCES;
}

static void pw_done(uv_work_t *req, int status) {
        struct pw_work *w = req->data;
        if (w->m->auth && w->m->auth->hashing > 0)
                w->m->auth->hashing--;
        if (status < 0 && w->status == 0)
                w->status = -ECANCELED;
        if (w->check) {
                w->check_cb(w->m, w->status, w->data);
        } else {
                json_t *stored = NULL;
                if (w->status == 0) {
                        _cleanup_free_ char *h = b64url_encode(w->hash, HASH_LEN);
                        _cleanup_free_ char *s = b64url_encode(w->salt, sizeof w->salt);
                        stored = json_pack("{s:s,s:s,s:I,s:I,s:I}", "scrypt", h, "salt", s, "N", (json_int_t)w->n, "r",
                                           (json_int_t)w->r, "p", (json_int_t)w->p);
                }
                w->hash_cb(w->m, w->status, stored, w->data);
        }
        OPENSSL_cleanse(w->password, strlen(w->password));
        free(w->password);
        free(w);
}

void auth_password_hash_async(struct master *m, const char *password, auth_hash_cb cb, void *data) {
        struct pw_work *w = xcalloc(1, sizeof *w);
        w->req.data = w;
        w->m = m;
        w->password = xstrdup(password);
        w->n = SCRYPT_N, w->r = SCRYPT_R, w->p = SCRYPT_P;
        w->hash_cb = cb;
        w->data = data;
        m->auth->hashing++;
        if (getrandom(w->salt, sizeof w->salt, 0) != sizeof w->salt)
                abort();
        uv_queue_work(m->loop, &w->req, pw_run, pw_done);
}

void auth_password_check_async(struct master *m, const char *password, const json_t *stored, auth_check_cb cb,
                               void *data) {
        struct pw_work *w = xcalloc(1, sizeof *w);
        w->req.data = w;
        w->m = m;
        w->password = xstrdup(password);
        w->check = true;
        w->check_cb = cb;
        w->data = data;
        m->auth->hashing++;
        const char *h = json_string_value(json_object_get(stored, "scrypt"));
        const char *s = json_string_value(json_object_get(stored, "salt"));
        w->n = (uint64_t)json_integer_value(json_object_get(stored, "N"));
        w->r = (uint64_t)json_integer_value(json_object_get(stored, "r"));
        w->p = (uint64_t)json_integer_value(json_object_get(stored, "p"));
        uint8_t *hb = NULL, *sb = NULL;
        size_t hn = 0, sn = 0;
        bool ok = h && s && w->n >= 1024 && w->n <= (1u << 20) && w->r >= 1 && w->r <= 32 && w->p >= 1 && w->p <= 16 &&
                  b64url_decode(h, strlen(h), &hb, &hn) == 0 && hn == HASH_LEN &&
                  b64url_decode(s, strlen(s), &sb, &sn) == 0 && sn == sizeof w->salt;
        if (ok) {
                memcpy(w->want, hb, HASH_LEN);
                memcpy(w->salt, sb, sizeof w->salt);
        }
        free(hb);
        free(sb);
        if (!ok) {
                /* No usable password: fail like a wrong one (after the same kind of work). */
                memset(w->want, 0xff, HASH_LEN);
                w->n = SCRYPT_N, w->r = SCRYPT_R, w->p = SCRYPT_P;
        }
        uv_queue_work(m->loop, &w->req, pw_run, pw_done);
}

/* --- replies ---------------------------------------------------------------------------------- */

/* DC/OS's IAM error body. */
static void reply_iam(struct api_call *call, int status, const char *code, const char *fmt, ...) _printf_(4, 5);
static void reply_iam(struct api_call *call, int status, const char *code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        api_reply_json(call, status,
                       json_pack("{s:s,s:s,s:s}", "title", status == 401   ? "Unauthorized"
                                                          : status == 404 ? "Not Found"
                                                          : status == 409 ? "Conflict"
                                                          : status == 429 ? "Too Many Requests"
                                                                          : "Bad Request",
                                 "description", msg, "code", code));
}

static void committed(void *data, int status, json_t *result, struct err *err) {
        struct api_call *call = data;
        if (status < 0) {
                int http = err_http_status(err);
                reply_iam(call, http, http == 404 ? "ERR_UNKNOWN_RESOURCE" : "ERR_INVALID_DATA", "%s", err_msg(err));
                return;
        }
        int code = call->sub && streq(call->sub, "201") ? 201 : 204;
        api_reply_text(call, code, "application/json", code == 201 ? "{}" : "");
}

static void submit(struct api_call *call, json_t *cmd, bool created) {
        free(call->sub);
        call->sub = created ? xstrdup("201") : NULL;
        store_submit(call->m->store, cmd, committed, call);
}

static json_t *auth_cmd(const char *op) {
        return json_pack("{s:s,s:i,s:s}", "type", "auth", "v", 1, "op", op);
}

/* uid/gid: what DC/OS allows, and never a built-in identity's "strata:" prefix. */
static bool valid_id(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 96 || strncmp(s, "strata:", 7) == 0)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("@._-", *p))
                        return false;
        return true;
}

/* The id after the route's prefix ("/alice" → "alice"), or NULL with a 400 answered. */
static const char *path_id(struct api_call *call) {
        const char *id = call->id && call->id[0] == '/' ? call->id + 1 : call->id;
        if (!id || !valid_id(id)) {
                reply_iam(call, 400, "ERR_INVALID_DATA", "invalid id '%s': 1-96 of [A-Za-z0-9@._-]", id ? id : "");
                return NULL;
        }
        return id;
}

static json_t *body_object(struct api_call *call) {
        size_t len;
        const char *text = http_request_body(call->req, &len);
        if (len == 0)
                return json_object();
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                return NULL;
        }
        return j;
}

/* --- login ------------------------------------------------------------------------------------ */

static void reply_token(struct api_call *call, const char *uid) {
        _cleanup_free_ char *t = auth_issue(call->m, uid, auth_ttl(call->m));
        if (!t) {
                api_reply_error(call, 503, "The cluster has no token key yet");
                return;
        }
        api_reply_json(call, 200, json_pack("{s:s}", "token", t));
}

static void login_checked(struct master *m, int status, void *data) {
        struct api_call *call = data;
        /* The user may have gone while the hash ran. */
        if (status < 0 || !state_auth_user(store_state(m->store), call->sub)) {
                reply_iam(call, 401, "ERR_INVALID_CREDENTIALS", "The password or account ID provided is incorrect");
                return;
        }
        reply_token(call, call->sub);
}

/* POST /acs/api/v1/auth/login {"uid", "password"} | {"uid", "token": <login JWT signed with the
 * service account's private key, claims {"uid", "exp"}>} → {"token"} */
void api_auth_login(struct api_call *call) {
        const char *uid = json_string_value(json_object_get(call->body, "uid"));
        const char *password = json_string_value(json_object_get(call->body, "password"));
        const char *login = json_string_value(json_object_get(call->body, "token"));
        if (!json_is_object(call->body) || !uid || (!password == !login)) {
                reply_iam(call, 400, "ERR_INVALID_DATA", "expected {\"uid\", \"password\"} or {\"uid\", \"token\"}");
                return;
        }
        const json_t *user = state_auth_user(store_state(call->m->store), uid);
        if (password) {
                if (strlen(password) > MAX_PASSWORD) {
                        reply_iam(call, 400, "ERR_INVALID_DATA", "password too long");
                        return;
                }
                if (call->m->auth->hashing >= AUTH_MAX_HASHING) {
                        http_request_add_header(call->req, "Retry-After", "1");
                        reply_iam(call, 429, "ERR_TOO_MANY_REQUESTS", "too many logins in progress, retry");
                        return;
                }
                free(call->sub);
                call->sub = xstrdup(uid);
                /* an unknown user costs the same hash: no timing oracle for account names */
                auth_password_check_async(call->m, password, user ? json_object_get(user, "password") : NULL,
                                          login_checked, call);
                return;
        }
        const char *pub = json_string_value(json_object_get(user, "public_key"));
        _cleanup_(json_decrefp) json_t *claims = NULL;
        struct err e = {0};
        if (!pub || token_verify_pem(login, pub, &claims, &e) < 0) {
                err_release(&e);
                reply_iam(call, 401, "ERR_INVALID_CREDENTIALS", "The login token or account ID provided is incorrect");
                return;
        }
        json_t *exp = json_object_get(claims, "exp");
        double now = auth_now_s();
        if (!streq(json_string_value(json_object_get(claims, "uid")) ?: "", uid) || !json_is_integer(exp) ||
            (double)json_integer_value(exp) <= now || (double)json_integer_value(exp) > now + LOGIN_TOKEN_MAX_S) {
                reply_iam(call, 401, "ERR_INVALID_CREDENTIALS",
                          "The login token must name the account (\"uid\") and expire within %d s (\"exp\")",
                          LOGIN_TOKEN_MAX_S);
                return;
        }
        reply_token(call, uid);
}

/* POST /acs/api/v1/auth/logout: the presented token is revoked. */
void api_auth_logout(struct api_call *call) {
        if (!call->who || !call->who->jti) {
                api_reply_text(call, 204, "application/json", "");
                return;
        }
        json_t *cmd = auth_cmd("revoke_token");
        json_object_set_new(cmd, "jti", json_string(call->who->jti));
        json_object_set_new(cmd, "exp", json_integer(call->who->exp));
        submit(call, cmd, false);
}

static json_t *actions_json(unsigned bits) {
        json_t *a = json_array();
        const unsigned all[] = {PERM_CREATE, PERM_READ, PERM_UPDATE, PERM_DELETE};
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (bits & all[i])
                        json_array_append_new(a, json_string(perm_action_name(all[i])));
        return a;
}

/* Or-s each grant's action bits into out ({rid: bits}). */
static void add_grants(json_t *out, const json_t *grants) {
        const char *rid;
        json_t *v;
        json_object_foreach((json_t *)grants, rid, v)
                json_object_set_new(out, rid, json_integer(json_integer_value(json_object_get(out, rid)) |
                                                           json_integer_value(v)));
}

/* What uid may do, its own grants and its groups' together: {rid: ["read", …]}. */
static json_t *effective_grants(const struct state *st, const char *uid) {
        json_t *bits = json_object();
        add_grants(bits, json_object_get(state_auth_user(st, uid), "grants"));
        const char *gid;
        json_t *g;
        json_object_foreach((json_t *)state_auth_groups(st), gid, g) {
                size_t i;
                json_t *u;
                json_array_foreach(json_object_get(g, "members"), i, u)
                        if (streq(json_string_value(u) ?: "", uid))
                                add_grants(bits, json_object_get(g, "grants"));
        }
        json_t *out = json_object();
        const char *rid;
        json_t *v;
        json_object_foreach(bits, rid, v)
                json_object_set_new(out, rid, actions_json((unsigned)json_integer_value(v)));
        json_decref(bits);
        return out;
}

/* GET /v1/auth/whoami → {"uid", "kind", "description", "exp", "permissions": {rid: [actions]}} */
void api_auth_whoami(struct api_call *call) {
        const struct state *st = store_state(call->m->store);
        if (!call->who) { /* --auth off */
                api_reply_json(call, 200, json_pack("{s:n,s:s}", "uid", "kind", "anonymous"));
                return;
        }
        const json_t *user = state_auth_user(st, call->who->uid);
        json_t *out = json_pack("{s:s,s:s,s:s,s:I}", "uid", call->who->uid, "kind",
                                call->who->builtin ? "builtin" : json_string_value(json_object_get(user, "kind")) ?: "user",
                                "description", json_string_value(json_object_get(user, "description")) ?: "", "exp",
                                (json_int_t)call->who->exp);
        json_object_set_new(out, "permissions", effective_grants(st, call->who->uid));
        api_reply_json(call, 200, out);
}

/* POST /v1/auth/revoke {"uid"}: every token of the user issued until now is refused. */
void api_auth_revoke(struct api_call *call) {
        const char *uid = json_string_value(json_object_get(call->body, "uid"));
        if (!uid) {
                reply_iam(call, 400, "ERR_INVALID_DATA", "expected {\"uid\"}");
                return;
        }
        json_t *cmd = auth_cmd("revoke_user");
        json_object_set_new(cmd, "uid", json_string(uid));
        json_object_set_new(cmd, "before", json_real(auth_now_s() * 1000.0));
        submit(call, cmd, false);
}

/* --- users and service accounts --------------------------------------------------------------- */

static json_t *user_json(const char *uid, const json_t *u) {
        bool service = streq(json_string_value(json_object_get(u, "kind")) ?: "", "service");
        json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:s}", "uid", uid, "url", "", "description",
                              json_string_value(json_object_get(u, "description")) ?: "", "is_service", service,
                              "provider_type", "internal");
        _cleanup_free_ char *url = xasprintf("/acs/api/v1/users/%s", uid);
        json_object_set_new(o, "url", json_string(url));
        if (service && json_object_get(u, "public_key"))
                json_object_set(o, "public_key", json_object_get(u, "public_key"));
        return o;
}

/* GET /acs/api/v1/users[?type=service] → {"array": [user…]} */
void api_acs_users_list(struct api_call *call) {
        const char *type = http_request_arg(call->req, "type");
        bool services = type && streq(type, "service");
        json_t *arr = json_array();
        const char *uid;
        json_t *u;
        json_object_foreach((json_t *)state_auth_users(store_state(call->m->store)), uid, u) {
                bool svc = streq(json_string_value(json_object_get(u, "kind")) ?: "", "service");
                if (!type || svc == services)
                        json_array_append_new(arr, user_json(uid, u));
        }
        api_reply_json(call, 200, json_pack("{s:o}", "array", arr));
}

void api_acs_user_get(struct api_call *call) {
        const char *uid = path_id(call);
        if (!uid)
                return;
        const json_t *u = state_auth_user(store_state(call->m->store), uid);
        if (!u) {
                reply_iam(call, 404, "ERR_UNKNOWN_USER_ID", "User with uid `%s` not known.", uid);
                return;
        }
        api_reply_json(call, 200, user_json(uid, u));
}


struct put_ctx {
        struct api_call *call;
        json_t *cmd; /* user_put, waiting for its password hash */
};

static void put_hashed(struct master *m, int status, json_t *hash, void *data) {
        struct put_ctx *c = data;
        if (status < 0) {
                json_decref(c->cmd);
                api_reply_error(c->call, 500, "hashing the password failed");
        } else {
                json_object_set_new(json_object_get(c->cmd, "user"), "password", hash);
                submit(c->call, c->cmd, true);
        }
        free(c);
}

/* PUT /acs/api/v1/users/<uid> {"description", "password"} (a user) or {"description",
 * "public_key": PEM} (a service account) → 201; 409 if it exists. */
void api_acs_user_put(struct api_call *call) {
        const char *uid = path_id(call);
        if (!uid)
                return;
        _cleanup_(json_decrefp) json_t *body = body_object(call);
        if (!body) {
                reply_iam(call, 400, "ERR_INVALID_DATA", "expected a JSON object");
                return;
        }
        const char *password = json_string_value(json_object_get(body, "password"));
        const char *pub = json_string_value(json_object_get(body, "public_key"));
        const char *desc = json_string_value(json_object_get(body, "description"));
        if (!password == !pub) {
                reply_iam(call, 400, "ERR_INVALID_DATA", "give either \"password\" (a user) or \"public_key\" (a service account)");
                return;
        }
        if (state_auth_user(store_state(call->m->store), uid)) {
                reply_iam(call, 409, "ERR_USER_EXISTS", "User with uid `%s` already exists.", uid);
                return;
        }
        if (pub && !token_public_key_valid(pub)) {
                reply_iam(call, 400, "ERR_INVALID_PUBLIC_KEY", "public_key must be an Ed25519 or RSA (2048+ bits) public key in PEM form");
                return;
        }
        if (password && (strlen(password) < 8 || strlen(password) > MAX_PASSWORD)) {
                reply_iam(call, 400, "ERR_INVALID_DATA", "password must be 8 to %d characters", MAX_PASSWORD);
                return;
        }
        char ts[25];
        time_format_ms(time_now_ms(), ts);
        json_t *user = json_pack("{s:s,s:s,s:s}", "kind", pub ? "service" : "user", "description", desc ? desc : "",
                                 "created", ts);
        if (pub)
                json_object_set_new(user, "public_key", json_string(pub));
        json_t *cmd = auth_cmd("user_put");
        json_object_set_new(cmd, "uid", json_string(uid));
        json_object_set_new(cmd, "user", user);
        if (pub) {
                submit(call, cmd, true);
                return;
        }
        if (call->m->auth->hashing >= AUTH_MAX_HASHING) {
                json_decref(cmd);
                http_request_add_header(call->req, "Retry-After", "1");
                reply_iam(call, 429, "ERR_TOO_MANY_REQUESTS", "too many password changes in progress, retry");
                return;
        }
        struct put_ctx *c = xcalloc(1, sizeof *c);
        c->call = call;
        c->cmd = cmd;
        auth_password_hash_async(call->m, password, put_hashed, c);
}

/* DELETE /acs/api/v1/users/<uid> → 204 */
void api_acs_user_delete(struct api_call *call) {
        const char *uid = path_id(call);
        if (!uid)
                return;
        json_t *cmd = auth_cmd("user_remove");
        json_object_set_new(cmd, "uid", json_string(uid));
        submit(call, cmd, false);
}

/* --- groups ------------------------------------------------------------------------------------ */

/* GET /acs/api/v1/groups → {"array": [{"gid", "description", "members": [uid…]}]} */
void api_acs_groups_list(struct api_call *call) {
        json_t *arr = json_array();
        const char *gid;
        json_t *g;
        json_object_foreach((json_t *)state_auth_groups(store_state(call->m->store)), gid, g)
                json_array_append_new(arr, json_pack("{s:s,s:s,s:O}", "gid", gid, "description",
                                                     json_string_value(json_object_get(g, "description")) ?: "",
                                                     "members", json_object_get(g, "members")));
        api_reply_json(call, 200, json_pack("{s:o}", "array", arr));
}

/* Splits "/<gid>" or "/<gid>/users/<uid>". */
static bool group_path(struct api_call *call, char **gid, char **uid) {
        const char *p = call->id ? call->id + 1 : "";
        const char *slash = strchr(p, '/');
        *uid = NULL;
        if (!slash) {
                *gid = xstrdup(p);
        } else {
                if (strncmp(slash, "/users/", 7) != 0 || strchr(slash + 7, '/'))
                        return false;
                *gid = xstrndup(p, (size_t)(slash - p));
                *uid = xstrdup(slash + 7);
        }
        return valid_id(*gid) && (!*uid || valid_id(*uid));
}

/* PUT /acs/api/v1/groups/<gid> {"description"} → 201; PUT …/<gid>/users/<uid> → 204;
 * DELETE of either → 204. */
static void group_change(struct api_call *call, bool add) {
        _cleanup_free_ char *gid = NULL, *uid = NULL;
        if (!group_path(call, &gid, &uid)) {
                reply_iam(call, 400, "ERR_INVALID_DATA", "expected /acs/api/v1/groups/<gid>[/users/<uid>]");
                return;
        }
        json_t *cmd;
        if (uid) {
                cmd = auth_cmd("member");
                json_object_set_new(cmd, "gid", json_string(gid));
                json_object_set_new(cmd, "uid", json_string(uid));
                json_object_set_new(cmd, "add", json_boolean(add));
                submit(call, cmd, false);
                return;
        }
        if (!add) {
                cmd = auth_cmd("group_remove");
                json_object_set_new(cmd, "gid", json_string(gid));
                submit(call, cmd, false);
                return;
        }
        _cleanup_(json_decrefp) json_t *body = body_object(call);
        if (!body) {
                reply_iam(call, 400, "ERR_INVALID_DATA", "expected a JSON object");
                return;
        }
        if (json_object_get(state_auth_groups(store_state(call->m->store)), gid)) {
                reply_iam(call, 409, "ERR_GROUP_EXISTS", "Group with gid `%s` already exists.", gid);
                return;
        }
        cmd = auth_cmd("group_put");
        json_object_set_new(cmd, "gid", json_string(gid));
        json_object_set_new(cmd, "group", json_pack("{s:s}", "description",
                                                    json_string_value(json_object_get(body, "description")) ?: ""));
        submit(call, cmd, true);
}

void api_acs_group_put(struct api_call *call) {
        group_change(call, true);
}

void api_acs_group_delete(struct api_call *call) {
        group_change(call, false);
}

/* --- grants ------------------------------------------------------------------------------------ */

/* PUT|DELETE /acs/api/v1/acls/<rid>/users/<uid>/<action> (or /groups/<gid>/<action>) → 204.
 * The rid may hold '/' (a group path): the kind, id and action are read from the end. PUT of
 * /acs/api/v1/acls/<rid> alone (DC/OS creates the ACL first) only validates the rid: 201. */
static void acl_change(struct api_call *call, bool add) {
        _cleanup_free_ char *p = xstrdup(call->id ? call->id + 1 : "");
        char *action = strrchr(p, '/');
        char *id = NULL, *kind = NULL;
        if (action) {
                *action++ = 0;
                id = strrchr(p, '/');
                if (id) {
                        *id++ = 0;
                        kind = strrchr(p, '/');
                        if (kind)
                                *kind++ = 0;
                }
        }
        if (!kind || (!streq(kind, "users") && !streq(kind, "groups"))) {
                /* the whole path is a rid */
                struct perm perm;
                struct err e = {0};
                const char *rid = call->id ? call->id + 1 : "";
                if (perm_parse(rid, &perm, &e) < 0) {
                        reply_iam(call, 400, "ERR_INVALID_RESOURCE_ID", "%s", err_msg(&e));
                        err_release(&e);
                        return;
                }
                perm_release(&perm);
                if (add)
                        api_reply_text(call, 201, "application/json", "{}");
                else
                        reply_iam(call, 400, "ERR_INVALID_DATA",
                                  "expected /acs/api/v1/acls/<rid>/users/<uid>/<action> or …/groups/<gid>/<action>");
                return;
        }
        struct perm perm;
        struct err e = {0};
        if (perm_parse(p, &perm, &e) < 0) {
                reply_iam(call, 400, "ERR_INVALID_RESOURCE_ID", "%s", err_msg(&e));
                err_release(&e);
                return;
        }
        /* stored in canonical form: "…:/prod/" and "…:/prod" are one grant */
        _cleanup_free_ char *rid = perm.path ? xasprintf("%s:%s", perm.resource, perm.path) : xstrdup(perm.resource);
        perm_release(&perm);
        unsigned bits = perm_actions_parse(action);
        if (!bits) {
                reply_iam(call, 400, "ERR_INVALID_ACTION", "action must be create, read, update, delete or full");
                return;
        }
        json_t *cmd = auth_cmd("grant");
        json_object_set_new(cmd, "kind", json_string(kind));
        json_object_set_new(cmd, "id", json_string(id));
        json_object_set_new(cmd, "rid", json_string(rid));
        json_object_set_new(cmd, "actions", json_integer(bits));
        json_object_set_new(cmd, "add", json_boolean(add));
        submit(call, cmd, false);
}

void api_acs_acl_put(struct api_call *call) {
        acl_change(call, true);
}

void api_acs_acl_delete(struct api_call *call) {
        acl_change(call, false);
}
