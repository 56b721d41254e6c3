/* log.c — one line per message: time, level, text. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static const char *const names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level level) {
        min_level = level;
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int)i;
        return -1;
}

void log_msg(enum log_level level, const char *fmt, ...) {
        if (level < min_level)
                return;
        struct timespec ts;
        struct tm tm;
        char buf[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s.%03ldZ %-5s ", buf, ts.tv_nsec / 1000000, names[level]);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}
