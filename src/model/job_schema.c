/* job_schema.c — Metronome's JSON schemas for jobs and schedules (jobspec.schema.json,
 * schedulespec.schema.json; their validation keywords only) and the small interpreter that
 * applies them, with the JSON-schema validator's messages Metronome returns. */
#include "model/job_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"

#define PATH_JOB "^([a-z0-9]+(\\\\-+[a-z0-9]+)*)(\\\\.([a-z0-9]+(\\\\-+[a-z0-9]+)*))*$"
#define PATH_SCHEDULE "^([a-z0-9][a-z0-9\\\\-]*[a-z0-9]+)$"

/* clang-format off */
static const char schema_text[] =
"{\"definitions\":{"
  "\"pathType\":{\"type\":\"string\",\"pattern\":\"" PATH_JOB "\",\"minLength\":1},"
  "\"schedule\":{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"$ref\":\"#/definitions/pathType\"},"
    "\"cron\":{\"type\":\"string\"},"
    "\"timezone\":{\"type\":\"string\"},"
    "\"startingDeadlineSeconds\":{\"type\":\"integer\",\"minimum\":1},"
    "\"concurrencyPolicy\":{\"type\":\"string\",\"enum\":[\"ALLOW\",\"FORBID\"]},"
    "\"enabled\":{\"type\":\"boolean\"}},"
    "\"required\":[\"id\",\"cron\"]},"
  "\"scheduleSpec\":{\"type\":\"object\",\"additionalProperties\":true,\"properties\":{"
    "\"id\":{\"type\":\"string\",\"pattern\":\"" PATH_SCHEDULE "\",\"minLength\":1},"
    "\"cron\":{\"type\":\"string\"},"
    "\"timezone\":{\"type\":\"string\"},"
    "\"startingDeadlineSeconds\":{\"type\":\"integer\",\"minimum\":1},"
    "\"concurrencyPolicy\":{\"type\":\"string\",\"enum\":[\"ALLOW\",\"FORBID\"]},"
    "\"enabled\":{\"type\":\"boolean\"}},"
    "\"required\":[\"id\",\"cron\"]},"
  "\"strmap\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}"
"},"
"\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
  "\"id\":{\"$ref\":\"#/definitions/pathType\"},"
  "\"description\":{\"type\":\"string\"},"
  "\"dependencies\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"id\":{\"$ref\":\"#/definitions/pathType\"}}}},"
  "\"labels\":{\"$ref\":\"#/definitions/strmap\"},"
  "\"schedules\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/schedule\"}},"
  "\"run\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"args\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"artifacts\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
      "\"uri\":{\"type\":\"string\"},\"executable\":{\"type\":\"boolean\"},\"extract\":{\"type\":\"boolean\"},"
      "\"cache\":{\"type\":\"boolean\"}},\"required\":[\"uri\"]}},"
    "\"cmd\":{\"type\":\"string\",\"minLength\":1},"
    "\"cpus\":{\"type\":\"number\",\"minimum\":0.01},"
    "\"gpus\":{\"type\":\"integer\",\"minimum\":0},"
    "\"disk\":{\"type\":\"number\",\"minimum\":0},"
    "\"networks\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"mode\"],\"properties\":{"
      "\"name\":{\"type\":\"string\"},\"mode\":{\"type\":\"string\",\"enum\":[\"host\",\"container/bridge\",\"container\"]},"
      "\"labels\":{\"$ref\":\"#/definitions/strmap\"}}}},"
    "\"ucr\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
      "\"image\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
        "\"id\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\",\"enum\":[\"docker\",\"appc\"]},"
        "\"forcePull\":{\"type\":\"boolean\"}},\"required\":[\"id\"]},"
      "\"privileged\":{\"type\":\"boolean\"}},\"required\":[\"image\"]},"
    "\"docker\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
      "\"image\":{\"type\":\"string\"},\"forcePullImage\":{\"type\":\"boolean\"},\"privileged\":{\"type\":\"boolean\"},"
      "\"parameters\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
        "\"key\":{\"type\":\"string\"},\"value\":{\"type\":\"string\"}},\"required\":[\"key\",\"value\"]}}},"
      "\"required\":[\"image\"]},"
    "\"env\":{\"type\":\"object\",\"patternProperties\":{\".*\":{\"oneOf\":[{\"type\":\"string\"},"
      "{\"type\":\"object\",\"properties\":{\"secret\":{\"type\":\"string\"}}}]}}},"
    "\"maxLaunchDelay\":{\"type\":\"integer\",\"minimum\":1},"
    "\"mem\":{\"type\":\"number\",\"minimum\":32},"
    "\"placement\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
      "\"constraints\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
        "\"attribute\":{\"type\":\"string\"},\"operator\":{\"type\":\"string\",\"enum\":[\"IS\",\"EQ\",\"LIKE\",\"UNLIKE\"]},"
        "\"value\":{\"type\":\"string\"}},\"required\":[\"attribute\",\"operator\"]}}}},"
    "\"user\":{\"type\":\"string\"},"
    "\"taskKillGracePeriodSeconds\":{\"type\":\"number\"},"
    "\"restart\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
      "\"policy\":{\"type\":\"string\",\"enum\":[\"NEVER\",\"ON_FAILURE\"]},"
      "\"activeDeadlineSeconds\":{\"type\":\"integer\"}},\"required\":[\"policy\"]},"
    "\"volumes\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
      "\"containerPath\":{\"type\":\"string\",\"minLength\":1},\"hostPath\":{\"type\":\"string\",\"minLength\":1},"
      "\"mode\":{\"type\":\"string\",\"enum\":[\"RO\",\"RW\"]},\"secret\":{\"type\":\"string\",\"minLength\":1}},"
      "\"required\":[\"containerPath\"]}},"
    "\"secrets\":{\"type\":\"object\",\"patternProperties\":{\".*\":{\"type\":\"object\",\"properties\":{\"source\":{\"type\":\"string\"}}}}}"
  "},\"required\":[\"cpus\",\"mem\",\"disk\"]}"
"},\"required\":[\"id\",\"run\"]}";
/* clang-format on */

static json_t *schema(void) {
        static json_t *doc;
        if (!doc) {
                json_error_t e;
                doc = json_loads(schema_text, 0, &e);
                if (!doc)
                        abort(); /* a programmer error: the text above is fixed */
        }
        return doc;
}

static const char *type_name(const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT: return "object";
        case JSON_ARRAY: return "array";
        case JSON_STRING: return "string";
        case JSON_INTEGER: return "integer";
        case JSON_REAL: return "number";
        case JSON_TRUE:
        case JSON_FALSE: return "boolean";
        default: return "null";
        }
}

static bool type_ok(const char *want, const json_t *v) {
        if (streq(want, "number"))
                return json_is_number(v);
        if (streq(want, "integer"))
                return json_is_integer(v) || (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)));
        return streq(want, type_name(v));
}

static bool pattern_ok(const char *pattern, const char *s) {
        /* The two patterns of the schemas, each as a hand-written matcher (no regex engine). */
        if (strstr(pattern, "\\."))
                return job_id_valid(s);
        return job_schedule_id_valid(s);
}

/* JSON texts for messages: ["a","b"]. */
static char *names_text(const char **names, size_t n) {
        struct strbuf b = { 0 };
        strbuf_puts(&b, "[");
        for (size_t i = 0; i < n; i++) {
                json_t *s = json_string(names[i]);
                char *t = json_dumps(s, JSON_ENCODE_ANY);
                strbuf_printf(&b, "%s%s", i ? "," : "", t);
                free(t);
                json_decref(s);
        }
        strbuf_puts(&b, "]");
        return strbuf_steal(&b);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *child(const char *path, const char *key) {
        /* JSON pointer escaping: ~ → ~0, / → ~1. */
        struct strbuf b = { 0 };
        strbuf_puts(&b, path);
        strbuf_puts(&b, "/");
        for (const char *p = key; *p; p++) {
                if (*p == '~')
                        strbuf_puts(&b, "~0");
                else if (*p == '/')
                        strbuf_puts(&b, "~1");
                else
                        strbuf_printf(&b, "%c", *p);
        }
        return strbuf_steal(&b);
}

static void validate(const json_t *v, const json_t *s, const char *path, struct verrs *errs);

static void validate_object(const json_t *v, const json_t *s, const char *path, struct verrs *errs) {
        const json_t *props = json_object_get(s, "properties");
        const json_t *pattern_props = json_object_get(s, "patternProperties");
        const json_t *additional = json_object_get(s, "additionalProperties");
        const json_t *required = json_object_get(s, "required");
        const char *missing[64], *extra[64];
        size_t n_missing = 0, n_extra = 0, i;
        json_t *r;
        json_array_foreach(required, i, r) {
                if (!json_object_get(v, json_string_value(r)) && n_missing < ELEMENTSOF(missing))
                        missing[n_missing++] = json_string_value(r);
        }
        if (n_missing) {
                qsort(missing, n_missing, sizeof *missing, cmp_str);
                _cleanup_free_ char *t = names_text(missing, n_missing);
                verr(errs, path, "object has missing required properties (%s)", t);
        }
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) {
                _cleanup_free_ char *p = child(path, key);
                const json_t *ps = json_object_get(props, key);
                if (ps) {
                        validate(val, ps, p, errs);
                } else if (pattern_props) {
                        validate(val, json_object_get(pattern_props, ".*"), p, errs);
                } else if (json_is_object(additional)) {
                        validate(val, additional, p, errs);
                } else if (json_is_false(additional) && n_extra < ELEMENTSOF(extra)) {
                        extra[n_extra++] = key;
                }
        }
        if (n_extra) {
                qsort(extra, n_extra, sizeof *extra, cmp_str);
                _cleanup_free_ char *t = names_text(extra, n_extra);
                verr(errs, path, "object instance has properties which are not allowed by the schema: %s", t);
        }
}

static void validate(const json_t *v, const json_t *s, const char *path, struct verrs *errs) {
        const char *ref = json_string_value(json_object_get(s, "$ref"));
        if (ref && strncmp(ref, "#/definitions/", 14) == 0) {
                validate(v, json_object_get(json_object_get(schema(), "definitions"), ref + 14), path, errs);
                return;
        }
        const json_t *one_of = json_object_get(s, "oneOf");
        if (one_of) {
                size_t matched = 0, i;
                json_t *sub;
                json_array_foreach(one_of, i, sub) {
                        struct verrs tmp;
                        verrs_init(&tmp);
                        validate(v, sub, path, &tmp);
                        matched += !verrs_any(&tmp);
                        verrs_release(&tmp);
                }
                if (matched != 1)
                        verr(errs, path, "instance failed to match exactly one schema (matched %zu out of %zu)", matched,
                             json_array_size(one_of));
                return;
        }
        const char *type = json_string_value(json_object_get(s, "type"));
        if (type && !type_ok(type, v)) {
                verr(errs, path, "instance type (%s) does not match any allowed primitive type (allowed: [\"%s\"])",
                     type_name(v), type);
                return;
        }
        const json_t *en = json_object_get(s, "enum");
        if (en) {
                bool found = false;
                size_t i;
                json_t *e;
                json_array_foreach(en, i, e) found |= json_equal(e, (json_t *)v);
                if (!found) {
                        _cleanup_free_ char *vt = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                        _cleanup_free_ char *et = json_dumps(en, JSON_COMPACT);
                        verr(errs, path, "instance value (%s) not found in enum (possible values: %s)", vt, et);
                }
        }
        if (json_is_string(v)) {
                const char *str = json_string_value(v);
                const json_t *min_len = json_object_get(s, "minLength");
                size_t len = strlen(str);
                if (min_len && (json_int_t)len < json_integer_value(min_len)) {
                        _cleanup_free_ char *vt = json_dumps(v, JSON_ENCODE_ANY);
                        verr(errs, path, "string %s is too short (length: %zu, required minimum: %lld)", vt, len,
                             (long long)json_integer_value(min_len));
                }
                const char *pattern = json_string_value(json_object_get(s, "pattern"));
                if (pattern && !pattern_ok(pattern, str)) {
                        _cleanup_free_ char *vt = json_dumps(v, JSON_ENCODE_ANY);
                        verr(errs, path, "ECMA 262 regex \"%s\" does not match input string %s", pattern, vt);
                }
        }
        const json_t *minimum = json_object_get(s, "minimum");
        if (minimum && json_is_number(v) && json_number_value(v) < json_number_value(minimum)) {
                _cleanup_free_ char *mt = json_dumps(minimum, JSON_ENCODE_ANY);
                _cleanup_free_ char *vt = json_dumps(v, JSON_ENCODE_ANY);
                verr(errs, path, "numeric instance is lower than the required minimum (minimum: %s, found: %s)", mt, vt);
        }
        if (json_is_object(v))
                validate_object(v, s, path, errs);
        const json_t *items = json_object_get(s, "items");
        if (items && json_is_array(v)) {
                size_t i;
                json_t *el;
                json_array_foreach(v, i, el) {
                        char idx[32];
                        snprintf(idx, sizeof idx, "%zu", i);
                        _cleanup_free_ char *p = child(path, idx);
                        validate(el, items, p, errs);
                }
        }
}

void job_schema_validate(const json_t *doc, enum job_schema which, struct verrs *errs) {
        const json_t *s = schema();
        if (which == JOB_SCHEMA_SCHEDULE)
                s = json_object_get(json_object_get(s, "definitions"), "scheduleSpec");
        validate(doc, s, "", errs);
}
