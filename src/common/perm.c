/* perm.c — parsing permission strings and matching grants to needs. */
#include "common/perm.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/macro.h"

static bool segment_char(char c) {
        return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

int perm_parse(const char *s, struct perm *ret, struct err *err) {
        if (!s || !*s)
                return err_set(err, -EINVAL, "empty permission");
        size_t len = strnlen(s, PERM_MAX_LEN + 1);
        if (len > PERM_MAX_LEN)
                return err_set(err, -EINVAL, "permission longer than %d characters", PERM_MAX_LEN);
        const char *path = strstr(s, ":/");
        size_t res_len = path ? (size_t)(path - s) : len;
        size_t segments = 1;
        bool empty = res_len == 0;
        for (size_t i = 0; i < res_len; i++) {
                if (s[i] == ':') {
                        if (i == 0 || s[i - 1] == ':' || i + 1 == res_len)
                                empty = true;
                        segments++;
                } else if (!segment_char(s[i])) {
                        return err_set(err, -EINVAL, "permission '%s': character '%c' not allowed in a segment", s,
                                       s[i]);
                }
        }
        if (empty || segments < 2)
                return err_set(err, -EINVAL, "permission '%s': expected <namespace>:<resource>[:…][:/path]", s);
        if (!(strncmp(s, "strata:", 7) == 0 || strncmp(s, "dcos:", 5) == 0))
                return err_set(err, -EINVAL, "permission '%s' must start with strata: or dcos:", s);
        if (path) {
                const char *p = path + 1;
                for (const char *c = p; *c; c++)
                        if ((unsigned char)*c < 0x20 || *c == ':' || (c[0] == '/' && c[1] == '/'))
                                return err_set(err, -EINVAL, "permission '%s': bad path", s);
        }
        ret->resource = xstrndup(s, res_len);
        ret->path = NULL;
        if (path) {
                /* "/prod/" and "/prod" are the same group */
                size_t plen = strlen(path + 1);
                while (plen > 1 && path[plen] == '/')
                        plen--;
                ret->path = xstrndup(path + 1, plen);
        }
        return 0;
}

void perm_release(struct perm *p) {
        free(p->resource);
        free(p->path);
        p->resource = p->path = NULL;
}

static const struct {
        const char *name;
        unsigned bits;
} actions[] = {
        {"create", PERM_CREATE}, {"read", PERM_READ}, {"update", PERM_UPDATE},
        {"delete", PERM_DELETE}, {"full", PERM_FULL},
};

unsigned perm_actions_parse(const char *s) {
        if (!s || !*s)
                return 0;
        unsigned bits = 0;
        const char *p = s;
        while (*p) {
                const char *end = strchr(p, ',');
                size_t n = end ? (size_t)(end - p) : strlen(p);
                unsigned one = 0;
                for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                        if (strlen(actions[i].name) == n && strncmp(actions[i].name, p, n) == 0)
                                one = actions[i].bits;
                if (!one)
                        return 0;
                bits |= one;
                if (!end)
                        break;
                p = end + 1;
                if (!*p)
                        return 0;
        }
        return bits;
}

const char *perm_action_name(unsigned action) {
        if (action == PERM_FULL)
                return "full";
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (action & actions[i].bits)
                        return actions[i].name;
        return "none";
}

static bool superuser(const struct perm *g) {
        return streq(g->resource, "dcos:superuser") || streq(g->resource, "strata:superuser");
}

/* need is at or below grant ("/prod" covers "/prod", "/prod/web"; "/" covers everything). */
static bool path_covers(const char *grant, const char *need) {
        if (!grant || streq(grant, "/"))
                return true;
        if (!need)
                return false;
        size_t n = strlen(grant);
        return strncmp(grant, need, n) == 0 && (need[n] == 0 || need[n] == '/');
}

bool perm_covers(const struct perm *grant, unsigned grant_actions, const char *need_resource,
                 const char *need_path, unsigned need_action) {
        if ((grant_actions & need_action) != need_action)
                return false;
        if (superuser(grant))
                return true;
        return streq(grant->resource, need_resource) && path_covers(grant->path, need_path);
}

bool perm_covers_some(const struct perm *grant, unsigned grant_actions, const char *need_resource,
                      unsigned need_action) {
        if ((grant_actions & need_action) != need_action)
                return false;
        return superuser(grant) || streq(grant->resource, need_resource);
}
