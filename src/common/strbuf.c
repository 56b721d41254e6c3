/* strbuf.c — growable buffer. */
#include "common/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

static void grow(struct strbuf *sb, size_t extra) {
        if (sb->len + extra + 1 <= sb->cap)
                return;
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < sb->len + extra + 1)
                cap *= 2;
        sb->buf = xrealloc(sb->buf, cap);
        sb->cap = cap;
}

void strbuf_append(struct strbuf *sb, const void *data, size_t n) {
        grow(sb, n);
        memcpy(sb->buf + sb->len, data, n);
        sb->len += n;
        sb->buf[sb->len] = 0;
}

void strbuf_puts(struct strbuf *sb, const char *s) {
        strbuf_append(sb, s, strlen(s));
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n <= 0)
                return;
        grow(sb, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        sb->len += (size_t)n;
}

char *strbuf_steal(struct strbuf *sb) {
        grow(sb, 0);
        sb->buf[sb->len] = 0;
        char *p = sb->buf;
        *sb = (struct strbuf){ 0 };
        return p;
}

void strbuf_release(struct strbuf *sb) {
        free(sb->buf);
        *sb = (struct strbuf){ 0 };
}
