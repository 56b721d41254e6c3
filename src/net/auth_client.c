/* auth_client.c — a daemon's token for the masters: fixed, or a service-account login kept fresh. */
#include "net/auth_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/token.h"
#include "common/util.h"

#define LOGIN_TTL_S 120
#define REFRESH_BEFORE_S 60

int auth_client_init(struct auth_client *ac, struct http_client *http, const char *token, const char *uid,
                     const char *key_file, struct err *err) {
        *ac = (struct auth_client){.http = http};
        if (!token && !uid) {
                const char *eu = getenv("STRATA_SERVICE_ACCOUNT"), *ek = getenv("STRATA_PRIVATE_KEY");
                if (eu && *eu && ek && *ek) {
                        uid = eu;
                        key_file = ek;
                }
        }
        if (token) {
                ac->fixed = xstrdup(token);
                ac->header = xasprintf("Authorization: token=%s", token);
                return 0;
        }
        if (!uid)
                return 0;
        if (!key_file)
                return err_set(err, -EINVAL, "--service-account needs --private-key FILE");
        char *pem = NULL;
        size_t n;
        if (file_read_all(key_file, 64 * 1024, &pem, &n, err) < 0)
                return err_wrap(err, "private key");
        /* check the key now: a typo should stop the daemon, not make every login fail */
        _cleanup_(json_decrefp) json_t *probe = json_pack("{s:s}", "uid", uid);
        _cleanup_free_ char *t = NULL;
        if (token_sign_pem(pem, probe, &t, err) < 0) {
                free(pem);
                return err_wrap(err, "private key '%s'", key_file);
        }
        ac->uid = xstrdup(uid);
        ac->key_pem = pem;
        ac->alive = xmalloc(sizeof *ac->alive);
        *ac->alive = true;
        return 0;
}

void auth_client_release(struct auth_client *ac) {
        free(ac->fixed);
        free(ac->uid);
        free(ac->key_pem);
        free(ac->header);
        if (ac->alive) {
                /* a login still in flight owns the flag now and frees it */
                if (ac->logging_in)
                        *ac->alive = false;
                else
                        free(ac->alive);
        }
        *ac = (struct auth_client){0};
}

struct login {
        struct auth_client *ac;
        bool *alive;
};

static void login_done(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct login *l = data;
        if (!*l->alive) {
                free(l->alive);
                free(l);
                return;
        }
        struct auth_client *ac = l->ac;
        free(l);
        ac->logging_in = false;
        if (status < 0 || resp->status != 200) {
                if (!ac->warned)
                        log_warn("login as service account '%s' failed: %s", ac->uid,
                                 status < 0 ? err_msg(err) : resp->body);
                ac->warned = true;
                if (ac->on_token)
                        ac->on_token(ac->on_token_data, false);
                return;
        }
        _cleanup_(json_decrefp) json_t *body = json_loads(resp->body, 0, NULL);
        const char *t = json_string_value(json_object_get(body, "token"));
        if (!t) {
                if (ac->on_token)
                        ac->on_token(ac->on_token_data, false);
                return;
        }
        _cleanup_(json_decrefp) json_t *claims = token_peek_claims(t);
        free(ac->header);
        ac->header = xasprintf("Authorization: token=%s", t);
        ac->exp_s = json_integer_value(json_object_get(claims, "exp"));
        if (ac->warned)
                log_info("logged in as service account '%s'", ac->uid);
        ac->warned = false;
        if (ac->on_token)
                ac->on_token(ac->on_token_data, true);
}

static void start_login(struct auth_client *ac, const char *base_url) {
        _cleanup_(json_decrefp) json_t *claims = json_pack("{s:s,s:I}", "uid", ac->uid, "exp",
                                                           (json_int_t)(time_now_ms() / 1000 + LOGIN_TTL_S));
        _cleanup_free_ char *signed_login = NULL;
        struct err e = {0};
        if (token_sign_pem(ac->key_pem, claims, &signed_login, &e) < 0) {
                err_release(&e);
                return;
        }
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:s,s:s}", "uid", ac->uid, "token", signed_login);
        _cleanup_free_ char *text = json_compact(body);
        _cleanup_free_ char *url = xasprintf("%s/acs/api/v1/auth/login", base_url);
        static const char *const headers[] = {"Content-Type: application/json", NULL};
        struct login *l = xmalloc(sizeof *l);
        l->ac = ac;
        l->alive = ac->alive;
        ac->logging_in = true;
        http_client_request(ac->http, "POST", url, headers, text, strlen(text), 10000, login_done, l);
}

const char *auth_client_header(struct auth_client *ac, const char *base_url) {
        if (ac->fixed || !ac->uid)
                return ac->header;
        if (ac->header && ac->exp_s - REFRESH_BEFORE_S > time_now_ms() / 1000)
                return ac->header;
        if (!ac->logging_in)
                start_login(ac, base_url);
        /* the old token may still be good for a little while */
        return ac->header && ac->exp_s > time_now_ms() / 1000 ? ac->header : NULL;
}

void auth_client_refused(struct auth_client *ac) {
        if (ac->fixed || !ac->uid)
                return;
        free(ac->header);
        ac->header = NULL;
        ac->exp_s = 0;
}
