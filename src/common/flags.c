/* flags.c — parsing of the flag values that several `strata` commands share (see flags.h). */
#include "common/flags.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"

static void list_append(char ***list, size_t *n, char *item) {
        size_t len = 0;
        if (n)
                len = *n;
        else
                while (*list && (*list)[len])
                        len++;
        *list = xrealloc(*list, (len + 2) * sizeof(char *));
        (*list)[len++] = item;
        (*list)[len] = NULL;
        if (n)
                *n = len;
}

static char *url_normalize(const char *url) {
        size_t n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
                n--;
        return strncmp(url, "http", 4) == 0 ? xstrndup(url, n) : xasprintf("http://%.*s", (int)n, url);
}

static void list_add(char ***list, size_t *n, const char *arg, bool urls) {
        _cleanup_free_ char *copy = xstrdup(arg);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                while (*tok == ' ')
                        tok++;
                if (*tok)
                        list_append(list, n, urls ? url_normalize(tok) : xstrdup(tok));
        }
}

void flags_list_add(char ***list, size_t *n, const char *arg) {
        list_add(list, n, arg, false);
}

void flags_list_add_urls(char ***list, size_t *n, const char *arg) {
        list_add(list, n, arg, true);
}

void flags_list_free(char **list) {
        for (char **p = list; p && *p; p++)
                free(*p);
        free(list);
}

char *flags_listen_addr(const char *arg, const char *default_host) {
        return strchr(arg, ':') ? xstrdup(arg) : xasprintf("%s:%s", default_host, arg);
}

int flags_log_level(const char *prog, const char *arg) {
        int l = log_level_from_string(arg);
        if (l < 0) {
                fprintf(stderr, "%s: unknown log level '%s'\n", prog, arg);
                return -EINVAL;
        }
        log_set_level((enum log_level)l);
        return 0;
}

int flags_uint(const char *arg, unsigned long min, unsigned long max, unsigned *ret) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(arg, &end, 10);
        if (errno || end == arg || *end || strchr(arg, '-') || v < min || v > max || v > UINT_MAX)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}
