/* test_model_app.h — helpers shared by the app model's unit tests. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "model/app.h"

static inline json_t *parse(const char *s) {
        json_error_t je;
        json_t *j = json_loads(s, 0, &je);
        if (!j)
                fail_msg("bad test JSON (%s): %s", je.text, s);
        return j;
}

/* Normalises src and returns the canonical app; fails the test on error. */
static inline json_t *norm_ok_at(const char *src, const char *parent) {
        json_t *in = parse(src), *out = NULL;
        struct err e = {0};
        int r = app_normalize(in, parent, &out, &e);
        if (r < 0) {
                char *d = e.details ? json_dumps(e.details, JSON_COMPACT) : NULL;
                fail_msg("app_normalize(%s) failed: %s %s", src, err_msg(&e), d ? d : "");
        }
        json_decref(in);
        err_release(&e);
        return out;
}

static inline json_t *norm_ok(const char *src) {
        return norm_ok_at(src, "/");
}

/* Normalises src expecting failure with code; returns the details (or NULL) and checks the message. */
static inline json_t *norm_fail(const char *src, int code, const char *msg) {
        json_t *in = parse(src), *out = NULL;
        struct err e = {0};
        int r = app_normalize(in, "/", &out, &e);
        if (r >= 0) {
                char *d = json_dumps(out, JSON_COMPACT);
                fail_msg("app_normalize(%s) succeeded: %s", src, d);
        }
        assert_int_equal(r, code);
        assert_int_equal(e.code, code);
        if (msg)
                assert_string_equal(err_msg(&e), msg);
        assert_null(out);
        json_t *d = e.details ? json_incref(e.details) : NULL;
        json_decref(in);
        err_release(&e);
        return d;
}

/* True if details holds message at path. */
static inline bool has_error(const json_t *details, const char *path, const char *message) {
        size_t i, j;
        json_t *el, *m;
        json_array_foreach(details, i, el) {
                if (strcmp(json_string_value(json_object_get(el, "path")), path) != 0)
                        continue;
                json_array_foreach(json_object_get(el, "errors"), j, m)
                        if (strcmp(json_string_value(m), message) == 0)
                                return true;
        }
        return false;
}

/* Asserts that src fails validation (422) with message at path. */
static inline void expect_invalid(const char *src, const char *path, const char *message) {
        json_t *d = norm_fail(src, -ERR_INVALID, "Object is not valid");
        if (!has_error(d, path, message)) {
                char *s = json_dumps(d, JSON_COMPACT);
                fail_msg("%s: expected %s -> %s, got %s", src, path, message, s);
        }
        json_decref(d);
}

/* Asserts that src fails type checks (Invalid JSON) with key at path. */
static inline void expect_bad_json(const char *src, const char *path, const char *key) {
        json_t *d = norm_fail(src, -ERR_BAD_JSON, "Invalid JSON");
        if (!has_error(d, path, key)) {
                char *s = json_dumps(d, JSON_COMPACT);
                fail_msg("%s: expected %s -> %s, got %s", src, path, key, s);
        }
        json_decref(d);
}

/* Asserts that the member at a JSON-pointer-like path ("a/b/0/c") of j equals the JSON text want. */
static inline void expect_at(const json_t *j, const char *ptr, const char *want) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", ptr);
        const json_t *cur = j;
        for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                if (json_is_array(cur))
                        cur = json_array_get(cur, (size_t)atoi(tok));
                else
                        cur = json_object_get(cur, tok);
        }
        json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
        if (!w)
                fail_msg("bad expectation %s", want);
        if (!cur || !json_equal(cur, w)) {
                char *got = cur ? json_dumps(cur, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
                char *all = json_dumps(j, JSON_COMPACT);
                fail_msg("%s: want %s, got %s in %s", ptr, want, got ? got : "(absent)", all);
        }
        json_decref(w);
}
