/* auth_store.c — users, service accounts, groups, grants and revoked tokens in the replicated state. */
#include "store/auth_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "common/token.h"
#include "store/state_internal.h"
#include "store/store_fsm.h"

static json_t *empty_doc(void) {
        return json_pack("{s:{},s:{},s:{}}", "users", "groups", "revoked");
}

void auth_records_init(struct auth_records *a) {
        a->doc = empty_doc();
}

void auth_records_release(struct auth_records *a) {
        json_decref(a->doc);
        a->doc = NULL;
}

json_t *auth_records_to_json(const struct auth_records *a) {
        return json_deep_copy(a->doc);
}

int auth_records_from_json(struct auth_records *a, const json_t *doc, struct err *err) {
        if (!doc) {
                json_decref(a->doc);
                a->doc = empty_doc();
                return 0;
        }
        if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "users")) ||
            !json_is_object(json_object_get(doc, "groups")) || !json_is_object(json_object_get(doc, "revoked")))
                return err_set(err, -EINVAL, "state: auth: expected {\"users\", \"groups\", \"revoked\"}");
        json_t *key = json_object_get(doc, "key");
        if (key && !json_is_string(key))
                return err_set(err, -EINVAL, "state: auth: \"key\" must be a string");
        json_decref(a->doc);
        a->doc = json_deep_copy(doc);
        return 0;
}

const json_t *state_auth(const struct state *s) {
        return state_auth_records((struct state *)s)->doc;
}

const json_t *state_auth_users(const struct state *s) {
        return json_object_get(state_auth(s), "users");
}

const json_t *state_auth_groups(const struct state *s) {
        return json_object_get(state_auth(s), "groups");
}

const json_t *state_auth_user(const struct state *s, const char *uid) {
        return uid ? json_object_get(state_auth_users(s), uid) : NULL;
}

int state_auth_key(const struct state *s, uint8_t **ret, size_t *ret_len) {
        const char *k = json_string_value(json_object_get(state_auth(s), "key"));
        if (!k)
                return -ENOENT;
        return b64url_decode(k, strlen(k), ret, ret_len);
}

bool state_auth_revoked(const struct state *s, const char *jti) {
        return jti && json_object_get(json_object_get(state_auth(s), "revoked"), jti) != NULL;
}

/* --- the command ------------------------------------------------------------------------------ */

static json_t *members_of(json_t *doc, const char *kind) {
        return json_object_get(doc, kind);
}

static int check_identity(json_t *doc, const json_t *record, const char *what, struct err *err) {
        if (!json_is_object(record))
                return err_set(err, -EINVAL, "auth: %s must be an object", what);
        json_t *g = json_object_get(record, "grants");
        if (g && !json_is_object(g))
                return err_set(err, -EINVAL, "auth: %s grants must be an object", what);
        if (json_object_size(json_object_get(doc, "users")) + json_object_size(json_object_get(doc, "groups")) >=
            AUTH_MAX_IDENTITIES)
                return err_set(err, -ERR_TOO_LARGE, "at most %d users and groups", AUTH_MAX_IDENTITIES);
        return 0;
}

static int op_init(json_t *doc, const json_t *cmd, struct err *err) {
        const char *key = json_string_value(json_object_get(cmd, "key"));
        if (!key)
                return err_set(err, -EINVAL, "auth init: \"key\" missing");
        if (!json_object_get(doc, "key"))
                json_object_set_new(doc, "key", json_string(key));
        json_t *admin = json_object_get(cmd, "admin");
        const char *uid = json_string_value(json_object_get(admin, "uid"));
        json_t *user = json_object_get(admin, "user");
        json_t *users = members_of(doc, "users");
        if (uid && json_is_object(user) && json_object_size(users) == 0)
                json_object_set_new(users, uid, json_deep_copy(user));
        return 0;
}

static int op_put(json_t *doc, const char *kind, const json_t *cmd, struct err *err) {
        bool users = streq(kind, "users");
        const char *id = json_string_value(json_object_get(cmd, users ? "uid" : "gid"));
        json_t *rec = json_object_get(cmd, users ? "user" : "group");
        if (!id || !*id)
                return err_set(err, -EINVAL, "auth: id missing");
        json_t *map = members_of(doc, kind);
        json_t *old = json_object_get(map, id);
        if (!old) {
                int r = check_identity(doc, rec, users ? "user" : "group", err);
                if (r < 0)
                        return r;
        } else if (!json_is_object(rec)) {
                return err_set(err, -EINVAL, "auth: record must be an object");
        }
        json_t *copy = json_deep_copy(rec);
        /* An update keeps what it does not name: grants, members, password, the revocation mark. */
        if (old) {
                const char *keep[] = {"grants", "members", "password", "public_key", "revoked_before", "created"};
                for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                        if (!json_object_get(copy, keep[i]) && json_object_get(old, keep[i]))
                                json_object_set(copy, keep[i], json_object_get(old, keep[i]));
        }
        if (!json_object_get(copy, "grants"))
                json_object_set_new(copy, "grants", json_object());
        if (!users && !json_object_get(copy, "members"))
                json_object_set_new(copy, "members", json_array());
        json_object_set_new(map, id, copy);
        return 0;
}

static void drop_member(json_t *group, const char *uid) {
        json_t *m = json_object_get(group, "members");
        for (size_t i = json_array_size(m); i-- > 0;)
                if (streq(json_string_value(json_array_get(m, i)) ?: "", uid))
                        json_array_remove(m, i);
}

static int op_remove(json_t *doc, const char *kind, const json_t *cmd, struct err *err) {
        bool users = streq(kind, "users");
        const char *id = json_string_value(json_object_get(cmd, users ? "uid" : "gid"));
        json_t *map = members_of(doc, kind);
        if (!id || !json_object_get(map, id))
                return err_set(err, -ERR_NOT_FOUND, "%s '%s' does not exist", users ? "User" : "Group", id ?: "");
        json_object_del(map, id);
        if (users) {
                const char *gid;
                json_t *g;
                json_object_foreach(members_of(doc, "groups"), gid, g)
                        drop_member(g, id);
        }
        return 0;
}

static int op_member(json_t *doc, const json_t *cmd, struct err *err) {
        const char *gid = json_string_value(json_object_get(cmd, "gid"));
        const char *uid = json_string_value(json_object_get(cmd, "uid"));
        json_t *g = gid ? json_object_get(members_of(doc, "groups"), gid) : NULL;
        if (!g)
                return err_set(err, -ERR_NOT_FOUND, "Group '%s' does not exist", gid ?: "");
        if (!uid || !json_object_get(members_of(doc, "users"), uid))
                return err_set(err, -ERR_NOT_FOUND, "User '%s' does not exist", uid ?: "");
        drop_member(g, uid);
        if (json_is_true(json_object_get(cmd, "add")))
                json_array_append_new(json_object_get(g, "members"), json_string(uid));
        return 0;
}

static int op_grant(json_t *doc, const json_t *cmd, struct err *err) {
        const char *kind = json_string_value(json_object_get(cmd, "kind"));
        const char *id = json_string_value(json_object_get(cmd, "id"));
        const char *rid = json_string_value(json_object_get(cmd, "rid"));
        json_int_t bits = json_integer_value(json_object_get(cmd, "actions"));
        if (!kind || (!streq(kind, "users") && !streq(kind, "groups")) || !rid || bits <= 0 || bits > 15)
                return err_set(err, -EINVAL, "auth grant: kind, rid and actions required");
        json_t *rec = id ? json_object_get(members_of(doc, kind), id) : NULL;
        if (!rec)
                return err_set(err, -ERR_NOT_FOUND, "%s '%s' does not exist", streq(kind, "users") ? "User" : "Group",
                               id ?: "");
        json_t *grants = json_object_get(rec, "grants");
        if (!json_is_object(grants)) {
                grants = json_object();
                json_object_set_new(rec, "grants", grants);
        }
        json_int_t have = json_integer_value(json_object_get(grants, rid));
        have = json_is_true(json_object_get(cmd, "add")) ? have | bits : have & ~bits;
        if (have)
                json_object_set_new(grants, rid, json_integer(have));
        else
                json_object_del(grants, rid);
        return 0;
}

static int op_revoke_token(json_t *doc, const json_t *cmd, struct err *err) {
        const char *jti = json_string_value(json_object_get(cmd, "jti"));
        json_int_t exp = json_integer_value(json_object_get(cmd, "exp"));
        if (!jti || !*jti)
                return err_set(err, -EINVAL, "auth revoke_token: \"jti\" missing");
        json_t *revoked = json_object_get(doc, "revoked");
        /* Expired tokens are refused anyway: forget them, by the command's own clock. */
        int64_t now_ms = 0;
        const char *ts = json_string_value(json_object_get(cmd, "ts"));
        if (ts && time_parse_iso(ts, &now_ms) == 0) {
                const char *k;
                json_t *v;
                void *tmp;
                json_object_foreach_safe(revoked, tmp, k, v)
                        if (json_integer_value(v) * 1000 < now_ms)
                                json_object_del(revoked, k);
        }
        if (json_object_size(revoked) >= AUTH_MAX_REVOKED)
                return err_set(err, -ERR_TOO_LARGE, "too many revoked tokens; revoke the user instead");
        json_object_set_new(revoked, jti, json_integer(exp));
        return 0;
}

static int op_revoke_user(json_t *doc, const json_t *cmd, struct err *err) {
        const char *uid = json_string_value(json_object_get(cmd, "uid"));
        json_t *u = uid ? json_object_get(members_of(doc, "users"), uid) : NULL;
        if (!u)
                return err_set(err, -ERR_NOT_FOUND, "User '%s' does not exist", uid ?: "");
        json_object_set(u, "revoked_before", json_object_get(cmd, "before"));
        return 0;
}

/* {"type":"auth","v":1,"op":…} → no result. Atomic: each op works on a copy that replaces the
 * document only on success. */
int fsm_auth(struct state *s, const json_t *cmd, json_t **ret_result, struct err *err) {
        struct auth_records *a = state_auth_records(s);
        const char *op = json_string_value(json_object_get(cmd, "op"));
        if (!op)
                return err_set(err, -EINVAL, "auth: \"op\" missing");
        /* Small documents: a copy per command keeps every op atomic at no real cost. */
        json_t *doc = json_deep_copy(a->doc);
        int r;
        if (streq(op, "init"))
                r = op_init(doc, cmd, err);
        else if (streq(op, "user_put"))
                r = op_put(doc, "users", cmd, err);
        else if (streq(op, "user_remove"))
                r = op_remove(doc, "users", cmd, err);
        else if (streq(op, "group_put"))
                r = op_put(doc, "groups", cmd, err);
        else if (streq(op, "group_remove"))
                r = op_remove(doc, "groups", cmd, err);
        else if (streq(op, "member"))
                r = op_member(doc, cmd, err);
        else if (streq(op, "grant"))
                r = op_grant(doc, cmd, err);
        else if (streq(op, "revoke_token"))
                r = op_revoke_token(doc, cmd, err);
        else if (streq(op, "revoke_user"))
                r = op_revoke_user(doc, cmd, err);
        else
                r = err_set(err, -ENOTSUP, "auth: unknown op '%s'", op);
        if (r < 0) {
                json_decref(doc);
                return r;
        }
        json_decref(a->doc);
        a->doc = doc;
        return 0;
}
