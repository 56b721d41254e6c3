/* cli_auth.c — noun `auth` (login, logout, whoami, token) and the token every request carries. */
#include "cli/cli_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"
#include "common/auth_tokens.h"
#include "common/token.h"
#include "common/util.h"

#define LOGIN_TOKEN_TTL_S 120

static bool fresh(const char *token) {
        _cleanup_(json_decrefp) json_t *claims = token_peek_claims(token);
        json_t *exp = json_object_get(claims, "exp");
        /* a token without claims we can read: let the master judge it */
        return !claims || !json_is_integer(exp) || json_integer_value(exp) > (json_int_t)time(NULL) + 5;
}

int cli_iam_error(const struct http_reply *reply, int code, const char *what, struct err *err) {
        /* DC/OS's IAM error body: {"title", "description", "code"} (cli_http only knows Marathon's) */
        _cleanup_(json_decrefp) json_t *j = reply->body ? json_loadb(reply->body, reply->body_len, 0, NULL) : NULL;
        const char *d = str_field(j, "description");
        if (d && what)
                err_set(err, code, "%s: %s", what, d);
        else if (d)
                err_set(err, code, "%s", d);
        else if (what && err->msg)
                err_wrap(err, "%s", what);
        return code;
}

static bool logging_in; /* the login request itself carries no token */

/* POSTs the login body to base_url and returns the token. */
static int login(const char *base_url, json_t *body, char **ret, struct err *err) {
        struct cli_http h = {0};
        int r = cli_http_init(&h, base_url, err);
        if (r < 0) {
                json_decref(body);
                return r;
        }
        h.timeout_s = 30;
        logging_in = true;
        _cleanup_(http_reply_release) struct http_reply reply = {0};
        r = cli_http_call(&h, "POST", "/acs/api/v1/auth/login", body, &reply, err);
        logging_in = false;
        json_decref(body);
        cli_http_release(&h);
        if (r < 0) {
                return cli_iam_error(&reply, r, "login failed", err);
        }
        const char *t = str_field(reply.json, "token");
        if (!t)
                return err_set(err, -EBADMSG, "master sent no token");
        *ret = xstrdup(t);
        return 0;
}

int cli_auth_login_key(const char *base_url, const char *uid, const char *private_pem, char **ret, struct err *err) {
        _cleanup_(json_decrefp) json_t *claims = json_pack("{s:s,s:I}", "uid", uid, "exp",
                                                           (json_int_t)time(NULL) + LOGIN_TOKEN_TTL_S);
        _cleanup_free_ char *signed_login = NULL;
        int r = token_sign_pem(private_pem, claims, &signed_login, err);
        if (r < 0)
                return r;
        return login(base_url, json_pack("{s:s,s:s}", "uid", uid, "token", signed_login), ret, err);
}

static char *read_key_file(const char *path, struct err *err) {
        char *pem = NULL;
        size_t n;
        if (file_read_all(path, 64 * 1024, &pem, &n, err) < 0)
                return NULL;
        return pem;
}

static char *header;
static char *for_url;

/* Drops the header computed for the last URL (the next call resolves it again). */
static void cli_auth_forget(void) {
        free(header);
        free(for_url);
        header = for_url = NULL;
}

const char *cli_auth_header(const char *base_url) {
        if (logging_in)
                return NULL;
        if (for_url && streq(for_url, base_url))
                return header;
        free(header);
        free(for_url);
        header = NULL;
        for_url = xstrdup(base_url);
        const char *env = getenv("STRATA_TOKEN");
        _cleanup_free_ char *token = NULL;
        if (env && *env) {
                token = xstrdup(env);
        } else {
                token = auth_tokens_get(base_url);
                if (token && !fresh(token)) {
                        free(token);
                        token = NULL;
                }
                const char *sa = getenv("STRATA_SERVICE_ACCOUNT"), *key = getenv("STRATA_PRIVATE_KEY");
                if (!token && sa && *sa && key && *key) {
                        struct err e = {0};
                        _cleanup_free_ char *pem = read_key_file(key, &e);
                        if (pem && cli_auth_login_key(base_url, sa, pem, &token, &e) == 0)
                                (void)auth_tokens_put(base_url, token, &e);
                        /* on failure the request goes without a token; the master's 401 says why */
                        err_release(&e);
                }
        }
        /* An agent's API (task logs, a job run's output) takes its master's tokens: a URL with
         * no token of its own gets the one this process last used. */
        static char *last_token;
        if (!token && last_token)
                token = xstrdup(last_token);
        if (token) {
                header = xasprintf("Authorization: token=%s", token);
                free(last_token);
                last_token = xstrdup(token);
        }
        return header;
}

bool cli_auth_refused(const char *base_url) {
        static bool retried;
        const char *sa = getenv("STRATA_SERVICE_ACCOUNT"), *key = getenv("STRATA_PRIVATE_KEY");
        const char *env = getenv("STRATA_TOKEN");
        if (retried || logging_in || (env && *env) || !sa || !*sa || !key || !*key)
                return false;
        retried = true; /* once per process: a refusal after a fresh login is the answer */
        struct err e = {0};
        (void)auth_tokens_put(base_url, NULL, &e);
        err_release(&e);
        cli_auth_forget();
        return cli_auth_header(base_url) != NULL;
}

/* --- the noun ---------------------------------------------------------------------------------- */

static char *read_password(const struct cli_args *a, struct err *err) {
        const char *p = cli_args_get(a, "password");
        const char *file = cli_args_get(a, "password-file");
        const char *env = getenv("STRATA_PASSWORD");
        if (p)
                return xstrdup(p);
        if (file) {
                char *text = NULL;
                size_t n;
                if (file_read_all(file, 4096, &text, &n, err) < 0)
                        return NULL;
                while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
                        text[--n] = 0;
                return text;
        }
        if (env && *env)
                return xstrdup(env);
        err_set(err, -ERR_USAGE, "give --password, --password-file or $STRATA_PASSWORD");
        return NULL;
}

static int auth_login(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *user = cli_args_get(a, "username");
        const char *sa = cli_args_get(a, "service-account");
        const char *key = cli_args_get(a, "private-key");
        _cleanup_free_ char *token = NULL;
        int r;
        if (sa) {
                if (!key)
                        return err_set(err, -ERR_USAGE, "--service-account needs --private-key FILE");
                _cleanup_free_ char *pem = read_key_file(key, err);
                if (!pem)
                        return -EINVAL;
                r = cli_auth_login_key(c->http.base, sa, pem, &token, err);
        } else {
                if (!user)
                        return err_set(err, -ERR_USAGE, "give --username NAME or --service-account NAME");
                _cleanup_free_ char *pw = read_password(a, err);
                if (!pw)
                        return -ERR_USAGE;
                r = login(c->http.base, json_pack("{s:s,s:s}", "uid", user, "password", pw), &token, err);
        }
        if (r < 0)
                return r;
        r = auth_tokens_put(c->http.base, token, err);
        if (r < 0)
                return r;
        fprintf(c->out, "Logged in to %s as %s (token in %s)\n", c->http.base, sa ? sa : user, auth_tokens_path());
        return 0;
}

static int auth_logout(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = {0};
        int r = cli_http_call(&c->http, "POST", "/acs/api/v1/auth/logout", NULL, &reply, err);
        /* Forget the token even when the master refuses it (expired, revoked already). */
        struct err e = {0};
        (void)auth_tokens_put(c->http.base, NULL, &e);
        err_release(&e);
        if (r < 0 && reply.status != 401)
                return r;
        err_release(err);
        fprintf(c->out, "Logged out of %s\n", c->http.base);
        return 0;
}

static int auth_whoami(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = {0};
        int r = cli_http_call(&c->http, "GET", "/v1/auth/whoami", NULL, &reply, err);
        if (r < 0)
                return r;
        if (c->output == CLI_OUTPUT_JSON) {
                cli_print_json(c->out, reply.json);
                return 0;
        }
        fprintf(c->out, "%s (%s)\n", str_field(reply.json, "uid") ?: "anonymous", str_field(reply.json, "kind") ?: "");
        const char *rid;
        json_t *acts;
        json_object_foreach(json_object_get(reply.json, "permissions"), rid, acts) {
                _cleanup_free_ char *cell = cli_json_cell(acts);
                fprintf(c->out, "  %s %s\n", rid, cell);
        }
        return 0;
}

static int auth_token(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *h = cli_auth_header(c->http.base);
        if (!h)
                return err_set(err, -EACCES, "not logged in to %s: run `strata auth login`", c->http.base);
        fprintf(c->out, "%s\n", h + strlen("Authorization: token="));
        return 0;
}

static const struct cli_flag login_flags[] = {
        {"username", 'u', "NAME", "log in as this user (password from --password, --password-file or $STRATA_PASSWORD)"},
        {"password", 0, "PASSWORD", "the user's password"},
        {"password-file", 0, "FILE", "read the password from FILE"},
        {"service-account", 0, "NAME", "log in as this service account"},
        {"private-key", 0, "FILE", "the service account's PEM private key (Ed25519 or RSA)"},
        {NULL},
};

static const struct cli_verb auth_verbs[] = {
        {
                .name = "login",
                .summary = "Log in and keep the token for this master in the per-user token file",
                .description = "The token file is $STRATA_CONFIG, else ~/.config/strata/auth.json (mode 0600).\n"
                               "A service account signs a short login token with its private key (DC/OS's flow).",
                .max_args = 0,
                .flags = login_flags,
                .run = auth_login,
        },
        {.name = "logout", .summary = "Revoke this master's token and forget it", .max_args = 0, .run = auth_logout},
        {.name = "whoami", .summary = "Show who the token belongs to and what it may do", .max_args = 0,
         .run = auth_whoami},
        {
                .name = "token",
                .summary = "Print the token the CLI sends ($STRATA_TOKEN overrides)",
                .description = "For scripts: curl -H \"Authorization: token=$(strata auth token)\" …",
                .max_args = 0,
                .run = auth_token,
        },
        {NULL},
};

const struct cli_noun cli_noun_auth = {
        .name = "auth",
        .summary = "Log in and out; show or print the token",
        .verbs = auth_verbs,
};
