/* agent_auth.c — checking callers of the agent's API against a master's whoami, with a short cache. */
#include "agent/agent_auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/token.h"
#include "common/util.h"

struct verdict {
        char *key;           /* the token ("" when none was given) */
        int64_t until_ms;    /* monotonic-ish wall clock ms */
        bool open;           /* the masters run with --auth off */
        char *uid;
        json_t *permissions; /* {rid: ["read", …]} */
};

struct agent_auth_cache {
        struct hashmap map; /* token -> struct verdict */
};

static void verdict_free(struct verdict *v) {
        if (!v)
                return;
        free(v->key);
        free(v->uid);
        json_decref(v->permissions);
        free(v);
}

static void cache_clear(struct agent_auth_cache *c) {
        size_t pos = 0;
        void *v;
        while (hashmap_next(&c->map, &pos, NULL, &v)) {
                hashmap_remove(&c->map, ((struct verdict *)v)->key);
                verdict_free(v);
        }
}

void agent_auth_release(struct agent *a) {
        if (!a->auth_cache)
                return;
        cache_clear(a->auth_cache);
        hashmap_release(&a->auth_cache->map);
        free(a->auth_cache);
        a->auth_cache = NULL;
}

static bool allowed(const struct verdict *v, const char *rid, unsigned action) {
        if (v->open)
                return true;
        const char *k;
        json_t *acts;
        json_object_foreach(v->permissions, k, acts) {
                unsigned bits = 0;
                size_t i;
                json_t *x;
                json_array_foreach(acts, i, x)
                        bits |= perm_actions_parse(json_string_value(x));
                struct perm p;
                struct err e = {0};
                if (perm_parse(k, &p, &e) < 0) {
                        err_release(&e);
                        continue;
                }
                bool ok = perm_covers(&p, bits, rid, NULL, action);
                perm_release(&p);
                if (ok)
                        return true;
        }
        return false;
}

static void reply(struct http_request *req, int status, const char *msg) {
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:s}", "message", msg);
        _cleanup_free_ char *s = json_compact(body);
        if (status == 401)
                http_request_add_header(req, "WWW-Authenticate", "acsjwt");
        http_respond(req, status, "application/json", s, strlen(s));
}

static void decide(struct agent *a, struct http_request *req, const struct verdict *v, const char *rid,
                   unsigned action, agent_auth_ok_cb ok) {
        if (allowed(v, rid, action)) {
                ok(a, req);
                return;
        }
        _cleanup_free_ char *what = xasprintf("%s %s", perm_action_name(action), rid);
        _cleanup_free_ char *msg = xasprintf("Forbidden: '%s' may not %s", v->uid ? v->uid : "?", what);
        reply(req, 403, msg);
}

struct pending {
        struct agent *a;
        struct http_request *req;
        char *key;
        const char *rid;
        unsigned action;
        agent_auth_ok_cb ok;
};

static void whoami_done(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct pending *p = data;
        struct agent *a = p->a;
        if (a->stopping) { /* the server and its requests are going away */
                free(p->key);
                free(p);
                return;
        }
        if (status < 0 || (resp->status != 200 && resp->status != 401)) {
                _cleanup_free_ char *msg = xasprintf("cannot check the token with a master: %s",
                                                     status < 0 ? err_msg(err) : "unexpected answer");
                reply(p->req, 503, msg);
        } else if (resp->status == 401) {
                _cleanup_(json_decrefp) json_t *j = json_loads(resp->body, 0, NULL);
                const char *m = json_string_value(json_object_get(j, "message"));
                reply(p->req, 401, m ? m : "Unauthorized");
        } else {
                _cleanup_(json_decrefp) json_t *j = json_loads(resp->body, 0, NULL);
                struct verdict *v = xcalloc(1, sizeof *v);
                v->key = xstrdup(p->key);
                v->open = streq(json_string_value(json_object_get(j, "kind")) ?: "", "anonymous");
                v->uid = json_string_value(json_object_get(j, "uid")) ? xstrdup(json_string_value(json_object_get(j, "uid")))
                                                                      : NULL;
                v->permissions = json_incref(json_object_get(j, "permissions"));
                if (!v->permissions)
                        v->permissions = json_object();
                int64_t now = time_now_ms();
                v->until_ms = now + AGENT_AUTH_CACHE_S * 1000;
                json_int_t exp = json_integer_value(json_object_get(j, "exp"));
                if (exp > 0 && exp * 1000 < v->until_ms)
                        v->until_ms = exp * 1000;
                struct agent_auth_cache *c = a->auth_cache;
                if (hashmap_size(&c->map) >= AGENT_AUTH_CACHE_MAX)
                        cache_clear(c);
                verdict_free(hashmap_remove(&c->map, v->key));
                hashmap_put(&c->map, v->key, v);
                decide(a, p->req, v, p->rid, p->action, p->ok);
        }
        free(p->key);
        free(p);
}

void agent_auth_check(struct agent *a, struct http_request *req, const char *rid, unsigned action,
                      agent_auth_ok_cb ok) {
        if (!a->auth_cache) {
                a->auth_cache = xcalloc(1, sizeof *a->auth_cache);
                hashmap_init(&a->auth_cache->map);
        }
        const char *hdr = http_request_header(req, "Authorization");
        size_t len = 0;
        const char *t = token_from_authorization(hdr, &len);
        if (hdr && !t) {
                reply(req, 401, "Unauthorized: unsupported Authorization header");
                return;
        }
        _cleanup_free_ char *key = t ? xstrndup(t, len) : xstrdup("");
        struct verdict *v = hashmap_get(&a->auth_cache->map, key);
        if (v && v->until_ms > time_now_ms()) {
                decide(a, req, v, rid, action, ok);
                return;
        }
        const char *base = a->leader_url ? a->leader_url : a->cfg.masters[a->master_idx];
        _cleanup_free_ char *url = xasprintf("%s/v1/auth/whoami", base);
        _cleanup_free_ char *auth = t ? xasprintf("Authorization: token=%s", key) : NULL;
        const char *const headers[] = {"Accept: application/json", auth, NULL};
        struct pending *p = xcalloc(1, sizeof *p);
        *p = (struct pending){.a = a, .req = req, .key = TAKE_PTR(key), .rid = rid, .action = action, .ok = ok};
        http_client_request(a->client, "GET", url, headers, NULL, 0, 5000, whoami_done, p);
}
