/* log.c — one line per message: time, level, text; or one JSON object per line (log.h). */
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static enum log_format format = LOG_FORMAT_TEXT;
static const char *const names[] = { "debug", "info", "warn", "error" };
/* Per thread: a worker thread's message must not claim the loop's current request. */
static _Thread_local char request[64];

void log_set_level(enum log_level level) {
        min_level = level;
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int)i;
        return -1;
}

void log_set_format(enum log_format f) {
        format = f;
}

int log_format_flag(const char *prog, const char *arg) {
        if (streq(arg, "text"))
                format = LOG_FORMAT_TEXT;
        else if (streq(arg, "json"))
                format = LOG_FORMAT_JSON;
        else {
                fprintf(stderr, "%s: unknown log format '%s' (use text or json)\n", prog, arg);
                return -EINVAL;
        }
        return 0;
}

void log_request(const char *id) {
        snprintf(request, sizeof request, "%s", id ? id : "");
}

void log_request_id(const char *incoming, char buf[static 64]) {
        static unsigned long long counter;
        static unsigned tag;
        size_t n = incoming ? strlen(incoming) : 0;
        bool ok = n > 0 && n <= 48;
        for (size_t i = 0; ok && i < n; i++)
                ok = isalnum((unsigned char)incoming[i]) || strchr("._:-", incoming[i]);
        if (ok) {
                memcpy(buf, incoming, n + 1);
                return;
        }
        if (!tag) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                tag = ((unsigned)ts.tv_nsec ^ (unsigned)getpid() << 16 ^ (unsigned)ts.tv_sec) | 1;
        }
        snprintf(buf, 64, "%08x-%llx", tag, ++counter);
}

/* s as the inside of a JSON string: quotes, backslashes and control characters escaped; bytes
 * of UTF-8 pass as they are (a message cut inside a character is the writer's problem). */
static void json_escaped(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p == '\t')
                        fputs("\\t", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
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
        if (format == LOG_FORMAT_JSON) {
                char text[2048];
                vsnprintf(text, sizeof text, fmt, ap);
                /* One write per line: lines of several threads do not interleave. */
                char line[2048 * 6 + 256];
                FILE *f = fmemopen(line, sizeof line, "w");
                if (f) {
                        fprintf(f, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"", buf, ts.tv_nsec / 1000000,
                                names[level]);
                        json_escaped(f, text);
                        fputc('"', f);
                        if (request[0]) {
                                fputs(",\"request\":\"", f);
                                json_escaped(f, request);
                                fputc('"', f);
                        }
                        fputs("}\n", f);
                        long n = ftell(f);
                        fclose(f);
                        if (n > 0)
                                fwrite(line, 1, (size_t)n, stderr);
                }
        } else {
                fprintf(stderr, "%s.%03ldZ %-5s ", buf, ts.tv_nsec / 1000000, names[level]);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        }
        va_end(ap);
}
