/* app_id.c — Marathon path ids: segment syntax, relative resolution and reserved names. */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "model/app.h"
#include "model/app_id.h"
#include "model/app_internal.h"

/* Marathon's PathId segment pattern, quoted as its validator prints it. */
#define ID_SEGMENT_PATTERN \
        "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$"

const char app_id_pattern_message[] = "must fully match regular expression '" ID_SEGMENT_PATTERN "'";
const char app_id_reserved_message[] =
        "must not end with any of the following reserved keywords: restart, tasks, versions, ., ..";

static bool alnum_lower(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One DNS-like label: [a-z0-9] or [a-z0-9][a-z0-9-]*[a-z0-9]. */
static bool label_valid(const char *s, size_t n) {
        if (n == 0 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
                return false;
        for (size_t i = 1; i + 1 < n; i++)
                if (!alnum_lower(s[i]) && s[i] != '-')
                        return false;
        return true;
}

bool app_id_segment_valid(const char *s, size_t n) {
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                return true;
        /* labels separated by single dots */
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || s[i] == '.') {
                        if (!label_valid(s + start, i - start))
                                return false;
                        start = i + 1;
                }
        }
        return true;
}

/* Splits path into its non-empty segments (Marathon drops empty ones: "a//b" is "a/b"). */
static size_t split(const char *path, const char ***ret_seg, size_t **ret_len) {
        size_t cap = 8, n = 0;
        const char **seg = xmalloc(cap * sizeof *seg);
        size_t *len = xmalloc(cap * sizeof *len);
        const char *p = path;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *e = strchr(p, '/');
                if (!e)
                        e = p + strlen(p);
                if (n == cap) {
                        cap *= 2;
                        seg = xrealloc(seg, cap * sizeof *seg);
                        len = xrealloc(len, cap * sizeof *len);
                }
                seg[n] = p;
                len[n] = (size_t)(e - p);
                n++;
                p = e;
        }
        *ret_seg = seg;
        *ret_len = len;
        return n;
}

bool app_id_chars_valid(const char *id) {
        const char **seg;
        size_t *len;
        size_t n = split(id, &seg, &len);
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++)
                ok = app_id_segment_valid(seg[i], len[i]);
        free(seg);
        free(len);
        return ok;
}

char *app_id_canonical(const char *id, const char *parent) {
        const char **pseg = NULL, **seg = NULL;
        size_t *plen = NULL, *len = NULL;
        size_t pn = 0, n;
        const char **out;
        size_t *olen, on = 0;

        if (id[0] != '/' && parent)
                pn = split(parent, &pseg, &plen);
        n = split(id, &seg, &len);
        out = xmalloc((pn + n + 1) * sizeof *out);
        olen = xmalloc((pn + n + 1) * sizeof *olen);
        for (size_t k = 0; k < pn + n; k++) {
                const char *s = k < pn ? pseg[k] : seg[k - pn];
                size_t l = k < pn ? plen[k] : len[k - pn];
                if (l == 1 && s[0] == '.')
                        continue;
                if (l == 2 && s[0] == '.' && s[1] == '.') {
                        if (on > 0)
                                on--;
                        continue;
                }
                out[on] = s;
                olen[on] = l;
                on++;
        }
        struct strbuf sb = {0};
        for (size_t k = 0; k < on; k++) {
                strbuf_puts(&sb, "/");
                strbuf_append(&sb, out[k], olen[k]);
        }
        if (on == 0)
                strbuf_puts(&sb, "/");
        free(pseg);
        free(plen);
        free(seg);
        free(len);
        free(out);
        free(olen);
        return strbuf_steal(&sb);
}

char *app_id_parent(const char *abs) {
        const char *slash = strrchr(abs, '/');
        if (!slash || slash == abs)
                return xstrdup("/");
        return xstrndup(abs, (size_t)(slash - abs));
}

int app_id_check(const char *id, const char *parent, const char *path, char **ret, struct verrs *v) {
        bool ok = true;

        if (!app_id_chars_valid(id)) {
                verr(v, path, "%s", app_id_pattern_message);
                ok = false;
        }
        _cleanup_free_ char *abs = app_id_canonical(id, parent ? parent : "/");
        if (streq(abs, "/")) {
                verr(v, path, "Path must contain at least one path element");
                return -ERR_INVALID;
        }
        const char *last = strrchr(abs, '/') + 1;
        if (streq(last, "restart") || streq(last, "tasks") || streq(last, "versions")) {
                verr(v, path, "%s", app_id_reserved_message);
                ok = false;
        }
        if (parent && !streq(parent, "/") && !streq(parent, "")) {
                _cleanup_free_ char *p = app_id_canonical(parent, "/");
                _cleanup_free_ char *up = app_id_parent(abs);
                if (!streq(p, up)) {
                        verr(v, path, "Identifier is not child of '%s'", p);
                        ok = false;
                }
        }
        if (!ok)
                return -ERR_INVALID;
        if (ret)
                *ret = TAKE_PTR(abs);
        return 0;
}

int app_id_resolve(const char *id, const char *parent, char **ret, struct err *err) {
        struct verrs v;
        char *abs = NULL;

        if (!id)
                return err_set(err, -ERR_INVALID, "id must not be empty");
        verrs_init(&v);
        int r = app_id_check(id, parent, "/id", &abs, &v);
        if (r < 0) {
                json_t *first = json_array_get(v.details, 0);
                const char *msg = json_string_value(json_array_get(json_object_get(first, "errors"), 0));
                err_set(err, -ERR_INVALID, "%s", msg ? msg : "invalid id");
                err_set_details(err, json_incref(v.details));
                verrs_release(&v);
                return r;
        }
        verrs_release(&v);
        *ret = abs;
        return 0;
}
