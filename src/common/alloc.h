/* alloc.h — allocation that aborts on failure (STYLE.md: sizes clients control are bounded). */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "common/macro.h"

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; never NULL. */
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);
