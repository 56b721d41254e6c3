/* json_schema.c — the JSON-type pass shared by app and pod definitions (json_schema.h). */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "model/app_internal.h"
#include "model/json_schema.h"

/* True if j is an integral number in [lo, hi) — half-open so that converting a real at the top
 * of a 64-bit range (2^63 is exactly representable) never overflows. */
static bool integral_in(const json_t *j, double lo, double hi) {
        if (json_is_integer(j)) /* json_int_t is 64 bits: only the 32-bit range needs a check */
                return hi > 9e18 || (json_integer_value(j) >= (json_int_t)lo && json_integer_value(j) < (json_int_t)hi);
        double d = json_real_value(j);
        return d == floor(d) && d >= lo && d < hi;
}

void json_schema_check(const struct json_schema *s, const json_t *j, const char *path, struct verrs *v) {
        switch (s->kind) {
        case JK_ANY:
                return;
        case JK_STRING:
                if (!json_is_string(j))
                        verr(v, path, "error.expected.jsstring");
                return;
        case JK_NUMBER:
                if (!json_is_number(j))
                        verr(v, path, "error.expected.jsnumber");
                return;
        case JK_INT:
        case JK_LONG:
                if (!json_is_number(j))
                        verr(v, path, "error.expected.jsnumber");
                else if (s->kind == JK_INT && !integral_in(j, -2147483648.0, 2147483648.0))
                        verr(v, path, "error.expected.int");
                else if (s->kind == JK_LONG && !integral_in(j, -9223372036854775808.0, 9223372036854775808.0))
                        verr(v, path, "error.expected.long");
                return;
        case JK_BOOL:
                if (!json_is_boolean(j))
                        verr(v, path, "error.expected.jsboolean");
                return;
        case JK_ENUM:
        case JK_ENUM_NOCASE:
                if (!json_is_string(j)) {
                        verr(v, path, "error.expected.jsstring");
                        return;
                }
                for (const char *const *e = s->enums; *e; e++)
                        if (s->kind == JK_ENUM ? streq(*e, json_string_value(j))
                                               : strcasecmp(*e, json_string_value(j)) == 0)
                                return;
                verr(v, path, "error.expected.validenumvalue");
                return;
        case JK_ARRAY: {
                if (!json_is_array(j)) {
                        verr(v, path, "error.expected.jsarray");
                        return;
                }
                size_t i;
                json_t *el;
                json_array_foreach(j, i, el) {
                        _cleanup_free_ char *p = path_idx(path, i);
                        json_schema_check(s->elem, el, p, v);
                }
                return;
        }
        case JK_MAP: {
                if (!json_is_object(j)) {
                        verr(v, path, "error.expected.jsobject");
                        return;
                }
                const char *k;
                json_t *el;
                json_object_foreach((json_t *)j, k, el) {
                        _cleanup_free_ char *p = path_key(path, k);
                        json_schema_check(s->elem, el, p, v);
                }
                return;
        }
        case JK_OBJECT:
                if (!json_is_object(j)) {
                        verr(v, path, "error.expected.jsobject");
                        return;
                }
                for (const struct json_field *f = s->fields; f->name; f++) {
                        json_t *el = json_object_get(j, f->name);
                        _cleanup_free_ char *p = path_key(path, f->name);
                        if (!el || json_is_null(el)) {
                                if (f->required)
                                        verr(v, p, el ? "error.expected.jsstring" : "error.path.missing");
                                continue;
                        }
                        json_schema_check(f->schema, el, p, v);
                }
                return;
        case JK_CUSTOM:
                s->custom(j, path, v);
                return;
        }
}

void json_schema_prune(const struct json_schema *s, json_t *j) {
        switch (s->kind) {
        case JK_ARRAY: {
                size_t i;
                json_t *el;
                json_array_foreach(j, i, el) json_schema_prune(s->elem, el);
                return;
        }
        case JK_OBJECT: {
                if (!json_is_object(j))
                        return;
                const char *k;
                json_t *el;
                void *tmp;
                json_object_foreach_safe(j, tmp, k, el) {
                        const struct json_field *f = s->fields;
                        while (f->name && !streq(f->name, k))
                                f++;
                        if (!f->name)
                                json_object_del(j, k);
                        else
                                json_schema_prune(f->schema, el);
                }
                return;
        }
        case JK_CUSTOM:
                if (s->prune_as)
                        json_schema_prune(s->prune_as, j);
                return;
        default:
                return;
        }
}
