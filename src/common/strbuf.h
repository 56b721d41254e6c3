/* strbuf.h — a growable byte buffer for building strings and bodies. */
#pragma once

#include <stddef.h>

#include "common/macro.h"

struct strbuf {
        char *buf; /* NUL-terminated while len < cap; owned */
        size_t len, cap;
};

void strbuf_append(struct strbuf *sb, const void *data, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
/* Returns the buffer (never NULL) and leaves sb empty; the caller frees it. */
char *strbuf_steal(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
