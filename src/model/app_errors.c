/* app_errors.c — Marathon-style validation error lists and their paths. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "model/app_internal.h"

void verrs_init(struct verrs *v) {
        v->details = json_array();
}

void verrs_release(struct verrs *v) {
        json_decref(v->details);
        v->details = NULL;
}

void verr(struct verrs *v, const char *path, const char *fmt, ...) {
        va_list ap;
        const char *p = path && *path ? path : "/";
        size_t i;
        json_t *el;

        va_start(ap, fmt);
        char *msg = xvasprintf(fmt, ap);
        va_end(ap);

        json_array_foreach(v->details, i, el) {
                if (streq(json_string_value(json_object_get(el, "path")), p)) {
                        json_t *errors = json_object_get(el, "errors");
                        /* Marathon reports a set of messages per path. */
                        size_t j;
                        json_t *e;
                        json_array_foreach(errors, j, e)
                                if (streq(json_string_value(e), msg)) {
                                        free(msg);
                                        return;
                                }
                        json_array_append_new(errors, json_string(msg));
                        free(msg);
                        return;
                }
        }
        json_array_append_new(v->details, json_pack("{s:s,s:[s]}", "path", p, "errors", msg));
        free(msg);
}

bool verrs_any(const struct verrs *v) {
        return json_array_size(v->details) > 0;
}

int verrs_fail(struct verrs *v, struct err *err, int code, const char *msg) {
        err_set(err, code, "%s", msg);
        err_set_details(err, v->details);
        v->details = json_array();
        return code;
}

char *path_key(const char *base, const char *key) {
        return xasprintf("%s/%s", base ? base : "", key);
}

char *path_idx(const char *base, size_t i) {
        return xasprintf("%s(%zu)", base ? base : "", i);
}

json_t *json_number_canon(double d) {
        if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0)
                return json_integer((json_int_t)d);
        return json_real(d);
}

double json_num(const json_t *j) {
        return json_is_number(j) ? json_number_value(j) : 0;
}

long long json_int_or(const json_t *j, long long def) {
        if (json_is_integer(j))
                return json_integer_value(j);
        if (json_is_real(j)) {
                /* saturate instead of overflowing the conversion */
                double d = json_real_value(j);
                if (!(d > -9.2e18))
                        return d != d ? def : LLONG_MIN;
                if (d > 9.2e18)
                        return LLONG_MAX;
                return (long long)d;
        }
        return def;
}

void json_copy_key(json_t *dst, const json_t *src, const char *key) {
        json_t *v = json_object_get(src, key);
        if (v)
                json_object_set_new(dst, key, json_deep_copy(v));
}

json_t *json_string_map_copy(const json_t *m) {
        json_t *out = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)m, k, v)
                if (json_is_string(v))
                        json_object_set(out, k, v);
        return out;
}
