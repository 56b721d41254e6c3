/* app_constraints.c — placement constraints: [field, OPERATOR] or [field, OPERATOR, value]. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/jregex.h"
#include "model/app_internal.h"

static const char *const operators[] = {"UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "MAX_PER", "UNLIKE", "IS", NULL};

/* Compiling here puts the pattern in jregex's shared cache: the scheduler reuses this compiled
 * pattern for the app version instead of compiling it again. */
int app_regex_check(const char *s, struct err *err) {
        _cleanup_(jregex_unrefp) struct jregex *re = NULL;
        return jregex_get(s, &re, err);
}

bool app_regex_valid(const char *s) {
        struct err err = {0};
        int r = app_regex_check(s, &err);
        err_release(&err);
        return r >= 0;
}

/* Java's Integer.parseInt: optional sign, decimal digits, 32-bit range. */
static bool java_int(const char *s) {
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        if (!*p)
                return false;
        for (const char *c = p; *c; c++)
                if (!isdigit((unsigned char)*c))
                        return false;
        if (strlen(p) > 10)
                return false;
        long long v = strtoll(s, NULL, 10);
        return v >= INT_MIN && v <= INT_MAX;
}

/* IS supports Mesos text and scalar values: ^[a-zA-Z0-9_/.-]*$ */
static bool is_value_valid(const char *s) {
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("_/.-", *s))
                        return false;
        return true;
}

json_t *app_constraint_normalize(const json_t *c, const char *path, struct verrs *v) {
        size_t n = json_array_size(c);
        if (n < 2 || n > 3) {
                verr(v, path, "Each constraint must have either 2 or 3 fields");
                return NULL;
        }
        const char *field = json_string_value(json_array_get(c, 0));
        const char *op_in = json_string_value(json_array_get(c, 1));
        const char *value = n == 3 ? json_string_value(json_array_get(c, 2)) : NULL;
        if (!field || !*field || !op_in) {
                verr(v, path, "illegal constraint specification");
                return NULL;
        }
        _cleanup_free_ char *op = xstrdup(op_in);
        for (char *p = op; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        const char *const *known = operators;
        while (*known && !streq(*known, op))
                known++;
        if (!*known) {
                verr(v, path, "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, "
                              "UNLIKE or IS");
                return NULL;
        }
        bool ok = true;
        if (streq(op, "UNIQUE") && value) {
                verr(v, path, "UNIQUE does not accept a value");
                ok = false;
        } else if (streq(op, "GROUP_BY") && value && !java_int(value)) {
                verr(v, path, "GROUP BY must define an integer value or else no value at all");
                ok = false;
        } else if (streq(op, "MAX_PER") && !(value && java_int(value))) {
                verr(v, path, "MAX_PER requires an integer value");
                ok = false;
        } else if (streq(op, "LIKE") || streq(op, "UNLIKE")) {
                if (!value) {
                        verr(v, path, "LIKE and UNLIKE require a non-empty, regular expression value");
                        ok = false;
                } else {
                        struct err err = {0};
                        int r = app_regex_check(value, &err);
                        if (r < 0) {
                                /* Marathon's words for a bad pattern; the budget says its own */
                                verr(v, path, "%s", r == -E2BIG ? err_msg(&err) : "is not a valid regular expression");
                                ok = false;
                        }
                        err_release(&err);
                }
        } else if (streq(op, "IS") && !is_value_valid(value ? value : "")) {
                verr(v, path,
                     "IS only supports Mesos text and float values (see "
                     "http://mesos.apache.org/documentation/latest/attributes-resources/)");
                ok = false;
        }
        if (!ok)
                return NULL;
        json_t *out = json_pack("[s,s]", field, op);
        if (value)
                json_array_append_new(out, json_string(value));
        return out;
}

void app_build_constraints(struct app_build *b) {
        json_t *in = json_object_get(b->in, "constraints");
        size_t i;
        json_t *c;

        if (json_array_size(in) == 0)
                return;
        json_t *out = json_array();
        json_array_foreach(in, i, c) {
                _cleanup_free_ char *p = path_idx("/constraints", i);
                json_t *norm = app_constraint_normalize(c, p, &b->errs);
                if (!norm)
                        continue;
                /* a set in Marathon: drop exact duplicates, keep the first */
                bool dup = false;
                size_t j;
                json_t *o;
                json_array_foreach(out, j, o)
                        dup |= json_equal(o, norm);
                if (dup)
                        json_decref(norm);
                else
                        json_array_append_new(out, norm);
        }
        json_object_set_new(b->out, "constraints", out);
}
