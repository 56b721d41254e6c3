/* cli_output.c — aligned tables, JSON and YAML on standard output. */
#include "cli/cli_output.h"

#include <ctype.h>
#include <stdbool.h>
#include <strings.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"

struct cli_table {
        size_t n_cols;
        char **cells; /* row-major; the header row first when there is one */
        size_t n_cells, cap;
        bool header;
};

static void push_row(struct cli_table *t, const char *const *cells) {
        if (t->n_cells + t->n_cols > t->cap) {
                t->cap = MAX(t->cap * 2, t->n_cells + t->n_cols);
                t->cells = xrealloc(t->cells, t->cap * sizeof *t->cells);
        }
        for (size_t i = 0; i < t->n_cols; i++)
                t->cells[t->n_cells++] = xstrdup(cells[i] ? cells[i] : "-");
}

struct cli_table *cli_table_new(size_t n_cols, const char *const *headers) {
        struct cli_table *t = xcalloc(1, sizeof *t);
        t->n_cols = n_cols;
        if (headers) {
                push_row(t, headers);
                t->header = true;
        }
        return t;
}

void cli_table_free(struct cli_table *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
}

void cli_table_add(struct cli_table *t, const char *const *cells) {
        push_row(t, cells);
}

size_t cli_table_rows(const struct cli_table *t) {
        return t->n_cells / t->n_cols - (t->header ? 1 : 0);
}

size_t cli_display_width(const char *s) {
        size_t w = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if ((*p & 0xc0) != 0x80)
                        w++;
        return w;
}

void cli_table_print(const struct cli_table *t, FILE *f) {
        _cleanup_free_ size_t *width = xcalloc(t->n_cols, sizeof *width);
        for (size_t i = 0; i < t->n_cells; i++)
                width[i % t->n_cols] = MAX(width[i % t->n_cols], cli_display_width(t->cells[i]));

        for (size_t row = 0; row < t->n_cells; row += t->n_cols) {
                char *const *cells = t->cells + row;
                /* Cells after the last non-empty one are not printed: no line ends in spaces. */
                size_t last = t->n_cols;
                while (last > 0 && !*cells[last - 1])
                        last--;
                for (size_t col = 0; col < last; col++) {
                        fputs(cells[col], f);
                        if (col + 1 == last)
                                break;
                        for (size_t pad = cli_display_width(cells[col]); pad < width[col] + 2; pad++)
                                fputc(' ', f);
                }
                fputc('\n', f);
        }
}

char *cli_truncate(const char *s, size_t max) {
        struct strbuf sb = { 0 };
        bool space = false;

        strbuf_puts(&sb, "");
        for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
                if (*p < 0x20 || *p == 0x7f || *p == ' ') {
                        space = sb.len > 0;
                        continue;
                }
                if (space)
                        strbuf_puts(&sb, " ");
                space = false;
                strbuf_append(&sb, p, 1);
        }
        if (cli_display_width(sb.buf) <= max)
                return strbuf_steal(&sb);

        /* Keep max - 1 characters and end with the ellipsis. */
        size_t cut = 0, chars = 0;
        for (; sb.buf[cut]; cut++)
                if (((unsigned char)sb.buf[cut] & 0xc0) != 0x80 && chars++ == (max > 0 ? max - 1 : 0))
                        break;
        while (cut > 0 && sb.buf[cut - 1] == ' ')
                cut--;
        sb.len = cut;
        sb.buf[cut] = 0;
        if (max > 0)
                strbuf_puts(&sb, "…");
        return strbuf_steal(&sb);
}

char *cli_json_cell(const json_t *v) {
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_STRING:
                return xstrdup(json_string_value(v));
        case JSON_INTEGER:
                return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        case JSON_REAL:
                return xasprintf("%g", json_real_value(v));
        case JSON_TRUE:
                return xstrdup("true");
        case JSON_FALSE:
                return xstrdup("false");
        case JSON_NULL:
                return xstrdup("-");
        default: {
                char *s = json_dumps(v, JSON_COMPACT);
                return s ? s : xstrdup("?");
        }
        }
}

void cli_print_json(FILE *f, const json_t *j) {
        /* 15 digits print 0.1 as 0.1, not jansson's round-trip 0.10000000000000001. */
        json_dumpf(j, f, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        fputc('\n', f);
}

/* --- YAML -------------------------------------------------------------------------------------- */

/* A string YAML reads back as the same string without quotes: letters, digits and a few
 * punctuation marks, not starting with one YAML treats specially, and not a word YAML 1.1 reads
 * as a boolean or null. Everything else is written as a JSON string, which is a valid YAML
 * double-quoted scalar. */
static bool yaml_plain(const char *s) {
        static const char *const words[] = { "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~" };
        if (!*s || !(isalpha((unsigned char)*s) || *s == '_' || *s == '/'))
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_./-+@", *p))
                        return false;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return false;
        return true;
}

static void yaml_scalar(FILE *f, const json_t *j) {
        if (json_is_string(j) && yaml_plain(json_string_value(j))) {
                fputs(json_string_value(j), f);
                return;
        }
        json_dumpf(j, f, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

static void yaml_key(FILE *f, const char *k) {
        if (yaml_plain(k)) {
                fputs(k, f);
                return;
        }
        json_t *s = json_string(k);
        json_dumpf(s, f, JSON_ENCODE_ANY);
        json_decref(s);
}

static bool yaml_block(const json_t *j) {
        return (json_is_object(j) && json_object_size(j) > 0) || (json_is_array(j) && json_array_size(j) > 0);
}

/* A scalar, or an empty object or array, and the end of its line. */
static void yaml_leaf(FILE *f, const json_t *v) {
        if (json_is_object(v))
                fputs("{}", f);
        else if (json_is_array(v))
                fputs("[]", f);
        else
                yaml_scalar(f, v);
        fputc('\n', f);
}

/* Writes j's members or items, one per line at indent; the first line's indentation is already
 * written when inline_first is set (after "- "). */
static void yaml_value(FILE *f, const json_t *j, int indent, bool inline_first) {
        bool first = true;
        if (json_is_object(j)) {
                const char *k;
                json_t *v;
                json_object_foreach((json_t *)j, k, v) {
                        if (!(first && inline_first))
                                fprintf(f, "%*s", indent, "");
                        first = false;
                        yaml_key(f, k);
                        if (yaml_block(v)) {
                                fputs(":\n", f);
                                yaml_value(f, v, json_is_array(v) ? indent : indent + 2, false);
                        } else {
                                fputs(": ", f);
                                yaml_leaf(f, v);
                        }
                }
                return;
        }
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
                if (!(first && inline_first))
                        fprintf(f, "%*s", indent, "");
                first = false;
                fputs("- ", f);
                if (yaml_block(v)) {
                        yaml_value(f, v, indent + 2, true);
                } else {
                        yaml_leaf(f, v);
                }
        }
}

void cli_print_yaml(FILE *f, const json_t *j) {
        if (yaml_block(j)) {
                yaml_value(f, j, 0, false);
                return;
        }
        yaml_leaf(f, j);
}
