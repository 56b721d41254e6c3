/* config_file.c — a daemon's flags from --config FILE and STRATA_<DAEMON>_* (config_file.h). */
#include "common/config_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "common/util.h"

#define MAX_CONFIG (1u << 20)

struct out {
        char **v;
        size_t n, cap;
};

static void push(struct out *o, char *s) {
        if (o->n + 2 > o->cap) {
                o->cap = o->cap ? 2 * o->cap : 16;
                o->v = xrealloc(o->v, o->cap * sizeof *o->v);
        }
        o->v[o->n++] = s;
        o->v[o->n] = NULL;
}

static void push_flag(struct out *o, const char *key, const char *value) {
        push(o, xasprintf("--%s", key));
        if (value)
                push(o, xstrdup(value));
}

/* One value at *p: "quoted", or a bare word up to ',', ']', '#' or the end. */
static char *parse_scalar(const char **p) {
        const char *s = *p;
        struct strbuf sb = { 0 };
        strbuf_puts(&sb, "");
        if (*s == '"') {
                for (s++; *s && *s != '"'; s++) {
                        if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                                s++;
                        strbuf_append(&sb, s, 1);
                }
                if (*s != '"') {
                        strbuf_release(&sb);
                        return NULL;
                }
                s++;
        } else {
                const char *start = s;
                while (*s && *s != ',' && *s != ']' && *s != '#')
                        s++;
                const char *end = s;
                while (end > start && isspace((unsigned char)end[-1]))
                        end--;
                if (end == start) {
                        strbuf_release(&sb);
                        return NULL;
                }
                strbuf_append(&sb, start, (size_t)(end - start));
        }
        *p = s;
        return strbuf_steal(&sb);
}

static int parse_line(struct out *o, const char *path, int lineno, char *line, struct err *err) {
        char *s = line;
        while (isspace((unsigned char)*s))
                s++;
        if (!*s || *s == '#' || *s == '[')
                return 0;
        char *eq = strchr(s, '=');
        if (!eq)
                return err_set(err, -EINVAL, "'%s' line %d: expected KEY = VALUE", path, lineno);
        char *kend = eq;
        while (kend > s && isspace((unsigned char)kend[-1]))
                kend--;
        _cleanup_free_ char *key = xstrndup(s, (size_t)(kend - s));
        for (char *k = key; *k; k++) {
                if (*k == '_')
                        *k = '-';
                if (!isalnum((unsigned char)*k) && *k != '-')
                        return err_set(err, -EINVAL, "'%s' line %d: '%s' is not a flag name", path, lineno, key);
        }
        if (!*key || streq(key, "config"))
                return err_set(err, -EINVAL, "'%s' line %d: '%s' is not a flag name here", path, lineno, key);
        const char *v = eq + 1;
        while (isspace((unsigned char)*v))
                v++;
        bool array = *v == '[';
        if (array)
                v++;
        do {
                while (isspace((unsigned char)*v) || (array && *v == ','))
                        v++;
                if (array && *v == ']')
                        break;
                char *value = parse_scalar(&v);
                if (!value)
                        return err_set(err, -EINVAL, "'%s' line %d: a value for '%s' is missing or unterminated", path,
                                       lineno, key);
                if (streq(value, "true"))
                        push_flag(o, key, NULL);
                else if (!streq(value, "false"))
                        push_flag(o, key, value);
                free(value);
                while (isspace((unsigned char)*v))
                        v++;
        } while (array && *v && *v != ']');
        if (array && *v++ != ']')
                return err_set(err, -EINVAL, "'%s' line %d: the array of '%s' has no ']'", path, lineno, key);
        while (isspace((unsigned char)*v))
                v++;
        if (*v && *v != '#')
                return err_set(err, -EINVAL, "'%s' line %d: unexpected '%s' after the value of '%s'", path, lineno, v,
                               key);
        return 0;
}

static int read_file(struct out *o, const char *path, struct err *err) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = file_read_all(path, MAX_CONFIG, &text, &len, err);
        if (r < 0)
                return err_wrap(err, "--config '%s'", path);
        int lineno = 0;
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                lineno++;
                r = parse_line(o, path, lineno, line, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_file_argv(const char *daemon, const char *const *names, int argc, char **argv, int *ret_argc,
                     char ***ret_argv, struct err *err) {
        struct out o = { 0 };
        const char *config = NULL;
        push(&o, xstrdup(argc > 0 ? argv[0] : daemon));
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (streq(argv[i], "--config") && i + 1 < argc)
                        config = argv[i + 1];
                else if (strncmp(argv[i], "--config=", 9) == 0)
                        config = argv[i] + 9;
        }
        int r = config ? read_file(&o, config, err) : 0;
        /* STRATA_<DAEMON>_<FLAG>=VALUE; *_OPTS is the systemd units' whole-command-line variable. */
        _cleanup_free_ char *prefix = xasprintf("STRATA_%s_", daemon);
        for (char *p = prefix; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        size_t plen = strlen(prefix);
        for (char **e = environ; r >= 0 && e && *e; e++) {
                const char *eq = strchr(*e, '=');
                if (!eq || strncmp(*e, prefix, plen) != 0 || eq == *e + plen)
                        continue;
                _cleanup_free_ char *name = xstrndup(*e + plen, (size_t)(eq - *e) - plen);
                if (streq(name, "OPTS"))
                        continue;
                for (char *p = name; *p; p++)
                        *p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
                if (names) {
                        bool known = false;
                        for (size_t i = 0; names[i] && !known; i++)
                                known = streq(names[i], name);
                        if (!known)
                                continue;
                }
                push_flag(&o, name, eq + 1);
        }
        if (r < 0) {
                config_argv_free(o.v);
                return r;
        }
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--config") && i + 1 < argc) {
                        i++;
                        continue;
                }
                if (strncmp(argv[i], "--config=", 9) == 0)
                        continue;
                push(&o, xstrdup(argv[i]));
        }
        *ret_argc = (int)o.n;
        *ret_argv = o.v;
        return 0;
}

void config_argv_free(char **argv) {
        for (size_t i = 0; argv && argv[i]; i++)
                free(argv[i]);
        free(argv);
}
