/* cli_user.c — nouns `user` and `serviceaccount`: identities and their grants (/acs/api/v1). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_auth.h"
#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"
#include "common/util.h"

static struct cli_table *users_table(const json_t *users) {
        static const char *const headers[] = {"UID", "KIND", "DESCRIPTION"};
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *u;
        json_array_foreach(users, i, u)
                cli_table_add(t, (const char *[]){str_field(u, "uid"),
                                                  json_is_true(json_object_get(u, "is_service")) ? "service" : "user",
                                                  str_field(u, "description")});
        return t;
}

static int put_identity(struct cli *c, const char *uid, json_t *body, const char *what, struct err *err) {
        _cleanup_(json_decrefp) json_t *b = body;
        _cleanup_free_ char *id = cli_url_escape(uid, false);
        _cleanup_free_ char *path = xasprintf("/acs/api/v1/users/%s", id);
        _cleanup_(http_reply_release) struct http_reply reply = {0};
        int r = cli_http_call(&c->http, "PUT", path, b, &reply, err);
        if (r < 0)
                return cli_iam_error(&reply, r, what, err);
        fprintf(c->out, "Created %s %s\n", what, uid);
        return 0;
}

static int user_add(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *pw = cli_args_get(a, "password");
        const char *file = cli_args_get(a, "password-file");
        _cleanup_free_ char *text = NULL;
        if (file) {
                size_t n;
                if (file_read_all(file, 4096, &text, &n, err) < 0)
                        return -EINVAL;
                while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
                        text[--n] = 0;
                pw = text;
        }
        if (!pw)
                return err_set(err, -ERR_USAGE, "give --password or --password-file");
        const char *desc = cli_args_get(a, "description");
        return put_identity(c, a->pos[0], json_pack("{s:s,s:s}", "password", pw, "description", desc ? desc : ""),
                            "user", err);
}

static int sa_add(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *file = cli_args_get(a, "public-key");
        if (!file)
                return err_set(err, -ERR_USAGE, "give --public-key FILE (PEM, Ed25519 or RSA)");
        _cleanup_free_ char *pem = NULL;
        size_t n;
        if (file_read_all(file, 64 * 1024, &pem, &n, err) < 0)
                return -EINVAL;
        const char *desc = cli_args_get(a, "description");
        return put_identity(c, a->pos[0],
                            json_pack("{s:s,s:s}", "public_key", pem, "description", desc ? desc : ""),
                            "service account", err);
}

static int list(struct cli *c, const char *type, struct err *err) {
        _cleanup_free_ char *path = xasprintf("/acs/api/v1/users?type=%s", type);
        return cli_get_and_print(c, path, "array", JSON_ARRAY, "user list", users_table, err);
}

static int user_list(struct cli *c, const struct cli_args *a, struct err *err) {
        return list(c, "user", err);
}

static int sa_list(struct cli *c, const struct cli_args *a, struct err *err) {
        return list(c, "service", err);
}

static int call_204(struct cli *c, const char *method, const char *path, const char *done, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = {0};
        int r = cli_http_call(&c->http, method, path, NULL, &reply, err);
        if (r < 0)
                return cli_iam_error(&reply, r, NULL, err);
        fprintf(c->out, "%s\n", done);
        return 0;
}

static int user_remove(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_free_ char *id = cli_url_escape(a->pos[0], false);
        _cleanup_free_ char *path = xasprintf("/acs/api/v1/users/%s", id);
        _cleanup_free_ char *done = xasprintf("Removed %s", a->pos[0]);
        return call_204(c, "DELETE", path, done, err);
}

/* grant/revoke UID RID ACTION → PUT/DELETE /acs/api/v1/acls/<rid>/users/<uid>/<action> */
static int grant_change(struct cli *c, const struct cli_args *a, bool add, struct err *err) {
        _cleanup_free_ char *id = cli_url_escape(a->pos[0], false);
        _cleanup_free_ char *rid = cli_url_escape(a->pos[1], true);
        _cleanup_free_ char *act = cli_url_escape(a->pos[2], false);
        _cleanup_free_ char *path = xasprintf("/acs/api/v1/acls/%s/users/%s/%s", rid, id, act);
        _cleanup_free_ char *done = xasprintf("%s %s %s %s", add ? "Granted" : "Revoked", a->pos[0], a->pos[2], a->pos[1]);
        return call_204(c, add ? "PUT" : "DELETE", path, done, err);
}

static int user_grant(struct cli *c, const struct cli_args *a, struct err *err) {
        return grant_change(c, a, true, err);
}

static int user_revoke(struct cli *c, const struct cli_args *a, struct err *err) {
        return grant_change(c, a, false, err);
}

static const struct cli_flag user_add_flags[] = {
        {"password", 0, "PASSWORD", "the user's password (8 characters or more)"},
        {"password-file", 0, "FILE", "read the password from FILE"},
        {"description", 'd', "TEXT", "a description"},
        {NULL},
};

static const struct cli_flag sa_add_flags[] = {
        {"public-key", 0, "FILE", "the account's PEM public key (Ed25519 or RSA 2048+)"},
        {"description", 'd', "TEXT", "a description"},
        {NULL},
};

#define GRANT_VERBS                                                                                          \
        {.name = "grant", .synopsis = "UID PERMISSION ACTION",                                               \
         .summary = "Let UID do ACTION (create|read|update|delete|full) on PERMISSION",                      \
         .description = "PERMISSION is strata:<service>:<resource>[:<path>] or DC/OS's form, e.g.\n"         \
                        "dcos:service:marathon:marathon:services:/prod (apps and groups under /prod).",      \
         .min_args = 3, .max_args = 3, .run = user_grant},                                                   \
        {.name = "revoke", .synopsis = "UID PERMISSION ACTION", .summary = "Take a grant back",             \
         .min_args = 3, .max_args = 3, .run = user_revoke}

static const struct cli_verb user_verbs[] = {
        {.name = "add", .synopsis = "UID", .summary = "Create a user with a password", .min_args = 1, .max_args = 1,
         .flags = user_add_flags, .run = user_add},
        {.name = "list", .summary = "List the users", .max_args = 0, .run = user_list},
        {.name = "remove", .synopsis = "UID", .summary = "Remove a user (its tokens stop working)", .min_args = 1,
         .max_args = 1, .run = user_remove},
        GRANT_VERBS,
        {NULL},
};

static const struct cli_verb sa_verbs[] = {
        {.name = "add", .synopsis = "UID", .summary = "Create a service account with a public key", .min_args = 1,
         .max_args = 1, .flags = sa_add_flags, .run = sa_add},
        {.name = "list", .summary = "List the service accounts", .max_args = 0, .run = sa_list},
        {.name = "remove", .synopsis = "UID", .summary = "Remove a service account", .min_args = 1, .max_args = 1,
         .run = user_remove},
        GRANT_VERBS,
        {NULL},
};

const struct cli_noun cli_noun_user = {
        .name = "user",
        .summary = "Manage users and what they may do",
        .verbs = user_verbs,
};

const struct cli_noun cli_noun_serviceaccount = {
        .name = "serviceaccount",
        .summary = "Manage service accounts (key-based logins for programs and agents)",
        .verbs = sa_verbs,
};
