/* err.h — the human reason for a failure, wrapped with context by each layer (crun-style).
 *
 * A fallible function returns a negative code and fills a struct err; the caller may wrap it:
 *   "cannot create app '/web': 'app.json' line 3: ..."
 * The API layer turns it into Marathon's error body using `status` and `details`. */
#pragma once

#include <jansson.h>

#include "common/macro.h"

/* Project codes beyond errno, chosen so that -code never collides with an errno value. */
enum {
        ERR_INVALID = 10001,   /* semantic validation failed (Marathon 422) */
        ERR_BAD_JSON = 10002,  /* unparsable JSON (400) */
        ERR_NOT_FOUND = 10003, /* 404 */
        ERR_CONFLICT = 10004,  /* duplicate or locked (409) */
        ERR_NO_LEADER = 10005, /* 503 */
        ERR_TOO_LARGE = 10006, /* 413 */
};

struct err {
        int code;        /* negative: -errno or -ERR_* */
        char *msg;       /* owned; NULL when no error */
        json_t *details; /* owned; Marathon "details" (array or string), may be NULL */
};

/* Sets the message (replacing any earlier one) and returns code, which should be negative. */
int err_set(struct err *e, int code, const char *fmt, ...) _printf_(3, 4);
/* Prefixes the message with context ("ctx: old message") and returns the stored code. */
int err_wrap(struct err *e, const char *fmt, ...) _printf_(2, 3);
/* Takes ownership of details (a Marathon "details" value). */
void err_set_details(struct err *e, json_t *details);
/* Frees the message and details; the struct can be reused. */
void err_release(struct err *e);
/* The message, or "unknown error". */
const char *err_msg(const struct err *e);
/* HTTP status that the code maps to (400, 404, 409, 413, 422, 503 or 500). */
int err_http_status(const struct err *e);
