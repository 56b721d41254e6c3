/* timeutil.c — wall and monotonic clocks, ISO-8601 formatting and parsing. */
#include "common/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t time_mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void time_format_ms(int64_t ms, char buf[static 25]) {
        time_t s = (time_t)(ms / 1000);
        int frac = (int)(ms % 1000);
        if (frac < 0) {
                frac += 1000;
                s -= 1;
        }
        struct tm tm;
        gmtime_r(&s, &tm);
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
        memcpy(buf, tmp, 24);
        buf[24] = 0;
}

static int digits(const char **p, int n, int *ret) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char)**p))
                        return -EINVAL;
                v = v * 10 + (**p - '0');
                (*p)++;
        }
        *ret = v;
        return 0;
}

int time_parse_iso(const char *s, int64_t *ret_ms) {
        const char *p = s;
        int y, mo, d, h, mi, sec = 0, ms = 0;
        if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
            digits(&p, 2, &d) < 0)
                return -EINVAL;
        if (*p != 'T' && *p != 't' && *p != ' ')
                return -EINVAL;
        p++;
        if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
                return -EINVAL;
        if (*p == ':') {
                p++;
                if (digits(&p, 2, &sec) < 0)
                        return -EINVAL;
                if (*p == '.' || *p == ',') {
                        p++;
                        int n = 0;
                        if (!isdigit((unsigned char)*p))
                                return -EINVAL;
                        while (isdigit((unsigned char)*p)) {
                                if (n < 3)
                                        ms = ms * 10 + (*p - '0');
                                n++;
                                p++;
                        }
                        for (; n < 3; n++)
                                ms *= 10;
                }
        }
        int off_min = 0;
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int sign = *p == '-' ? -1 : 1, oh, om = 0;
                p++;
                if (digits(&p, 2, &oh) < 0)
                        return -EINVAL;
                if (*p == ':')
                        p++;
                if (isdigit((unsigned char)*p) && digits(&p, 2, &om) < 0)
                        return -EINVAL;
                off_min = sign * (oh * 60 + om);
        } else if (*p) {
                return -EINVAL;
        }
        if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                         .tm_hour = h, .tm_min = mi, .tm_sec = sec };
        time_t t = timegm(&tm);
        *ret_ms = ((int64_t)t - (int64_t)off_min * 60) * 1000 + ms;
        return 0;
}
