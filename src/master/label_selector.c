/* label_selector.c — parser and matcher for Marathon label selectors. */
#include "master/label_selector.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"

#define MAX_TEXT (64 * 1024)
#define MAX_SELECTORS 256

enum op { OP_EXISTS, OP_EQ, OP_NE, OP_IN, OP_NOTIN };

struct selector {
        enum op op;
        char *key;
        char **values;
        size_t n_values;
};

struct label_selector {
        struct selector *sels;
        size_t n;
};

void label_selector_free(struct label_selector *sel) {
        if (!sel)
                return;
        for (size_t i = 0; i < sel->n; i++) {
                free(sel->sels[i].key);
                for (size_t j = 0; j < sel->sels[i].n_values; j++)
                        free(sel->sels[i].values[j]);
                free(sel->sels[i].values);
        }
        free(sel->sels);
        free(sel);
}
DEFINE_POINTER_CLEANUP(struct label_selector, label_selector_free)

static bool name_char(char c) {
        return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

static void skip_ws(const char **p) {
        while (**p == ' ')
                (*p)++;
}

/* Reads a name or value: name characters or backslash escapes. Empty → NULL. */
static char *read_token(const char **p) {
        struct strbuf sb = { 0 };
        while (**p) {
                if (**p == '\\' && (*p)[1]) {
                        strbuf_append(&sb, *p + 1, 1);
                        *p += 2;
                } else if (name_char(**p)) {
                        strbuf_append(&sb, *p, 1);
                        (*p)++;
                } else {
                        break;
                }
        }
        if (sb.len == 0) {
                strbuf_release(&sb);
                return NULL;
        }
        return strbuf_steal(&sb);
}

static int parse_one(const char **p, struct selector *s, struct err *err, const char *text) {
        skip_ws(p);
        s->key = read_token(p);
        if (!s->key)
                return err_set(err, -EINVAL, "Invalid label selector '%s': expected a label name", text);
        skip_ws(p);
        if (strncmp(*p, "==", 2) == 0 || strncmp(*p, "!=", 2) == 0) {
                s->op = **p == '=' ? OP_EQ : OP_NE;
                *p += 2;
                skip_ws(p);
                char *v = read_token(p);
                s->values = xmalloc(sizeof(char *));
                s->values[0] = v ? v : xstrdup("");
                s->n_values = 1;
                return 0;
        }
        bool in = strncmp(*p, "in", 2) == 0 && ((*p)[2] == ' ' || (*p)[2] == '(');
        bool notin = strncmp(*p, "notin", 5) == 0 && ((*p)[5] == ' ' || (*p)[5] == '(');
        if (in || notin) {
                s->op = in ? OP_IN : OP_NOTIN;
                *p += in ? 2 : 5;
                skip_ws(p);
                if (**p != '(')
                        return err_set(err, -EINVAL, "Invalid label selector '%s': expected '('", text);
                (*p)++;
                for (;;) {
                        skip_ws(p);
                        char *v = read_token(p);
                        if (!v)
                                return err_set(err, -EINVAL, "Invalid label selector '%s': expected a value", text);
                        if (s->n_values >= MAX_SELECTORS) {
                                free(v);
                                return err_set(err, -EINVAL, "Invalid label selector '%s': too many values", text);
                        }
                        s->values = xrealloc(s->values, (s->n_values + 1) * sizeof(char *));
                        s->values[s->n_values++] = v;
                        skip_ws(p);
                        if (**p == ',') {
                                (*p)++;
                                continue;
                        }
                        if (**p == ')') {
                                (*p)++;
                                return 0;
                        }
                        return err_set(err, -EINVAL, "Invalid label selector '%s': expected ',' or ')'", text);
                }
        }
        s->op = OP_EXISTS;
        return 0;
}

int label_selector_parse(const char *text, struct label_selector **ret, struct err *err) {
        if (strlen(text) > MAX_TEXT)
                return err_set(err, -EINVAL, "Invalid label selector: longer than %d bytes", MAX_TEXT);
        _cleanup_(label_selector_freep) struct label_selector *sel = xcalloc(1, sizeof *sel);
        const char *p = text;
        for (;;) {
                if (sel->n >= MAX_SELECTORS)
                        return err_set(err, -EINVAL, "Invalid label selector: more than %d selectors", MAX_SELECTORS);
                sel->sels = xrealloc(sel->sels, (sel->n + 1) * sizeof *sel->sels);
                sel->sels[sel->n] = (struct selector){ 0 };
                sel->n++;
                int r = parse_one(&p, &sel->sels[sel->n - 1], err, text);
                if (r < 0)
                        return r;
                skip_ws(&p);
                if (*p == ',') {
                        p++;
                        continue;
                }
                if (*p)
                        return err_set(err, -EINVAL, "Invalid label selector '%s': unexpected '%c'", text, *p);
                break;
        }
        *ret = TAKE_PTR(sel);
        return 0;
}

static bool in_values(const struct selector *s, const char *v) {
        for (size_t i = 0; i < s->n_values; i++)
                if (streq(s->values[i], v))
                        return true;
        return false;
}

bool label_selector_match(const struct label_selector *sel, const json_t *labels) {
        for (size_t i = 0; i < sel->n; i++) {
                const struct selector *s = &sel->sels[i];
                const char *v = json_string_value(json_object_get(labels, s->key));
                bool ok;
                switch (s->op) {
                case OP_EXISTS:
                        ok = v != NULL;
                        break;
                case OP_EQ:
                        ok = v && streq(v, s->values[0]);
                        break;
                case OP_NE:
                        ok = !v || !streq(v, s->values[0]);
                        break;
                case OP_IN:
                        ok = v && in_values(s, v);
                        break;
                case OP_NOTIN:
                default:
                        ok = !v || !in_values(s, v);
                        break;
                }
                if (!ok)
                        return false;
        }
        return true;
}
