/* err.c — building and wrapping error reasons. */
#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

int err_set(struct err *e, int code, const char *fmt, ...) {
        if (!e)
                return code;
        va_list ap;
        va_start(ap, fmt);
        char *m = xvasprintf(fmt, ap);
        va_end(ap);
        free(e->msg);
        e->msg = m;
        e->code = code;
        return code;
}

int err_wrap(struct err *e, const char *fmt, ...) {
        if (!e)
                return -EINVAL;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *ctx = xvasprintf(fmt, ap);
        va_end(ap);
        char *m = xasprintf("%s: %s", ctx, e->msg ? e->msg : "unknown error");
        free(e->msg);
        e->msg = m;
        return e->code;
}

void err_set_details(struct err *e, json_t *details) {
        if (!e) {
                json_decref(details);
                return;
        }
        json_decref(e->details);
        e->details = details;
}

void err_release(struct err *e) {
        if (!e)
                return;
        free(e->msg);
        json_decref(e->details);
        e->msg = NULL;
        e->details = NULL;
        e->code = 0;
}

const char *err_msg(const struct err *e) {
        return e && e->msg ? e->msg : "unknown error";
}

int err_http_status(const struct err *e) {
        switch (-e->code) {
        case ERR_INVALID:
                return 422;
        case ERR_BAD_JSON:
        case EINVAL:
                return 400;
        case ERR_NOT_FOUND:
        case ENOENT:
                return 404;
        case ERR_CONFLICT:
        case EEXIST:
                return 409;
        case ERR_TOO_LARGE:
                return 413;
        case ERR_NO_LEADER:
                return 503;
        default:
                return 500;
        }
}
