/* cron.c — cron expressions: parsing, matching, and the next fire time in a tz database zone. */
#include "model/cron.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/macro.h"

/* --- parsing -------------------------------------------------------------------------------- */

struct field_def {
        const char *name;
        int min, max;
        const char *const *names; /* names[i] stands for min + i, or NULL */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const wday_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct field_def fields[5] = {
        { "minute", 0, 59, NULL },
        { "hour", 0, 23, NULL },
        { "day-of-month", 1, 31, NULL },
        { "month", 1, 12, month_names },
        /* 7 is Sunday too (folded to 0 after parsing). */
        { "day-of-week", 0, 7, wday_names },
};

static const struct {
        const char *name, *expansion;
} macros[] = {
        { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
        { "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
        { "@hourly", "0 * * * *" },
};

/* Reads a number or a name at *p; advances *p. */
static int read_value(const struct field_def *f, const char **p, int *ret) {
        const char *s = *p;
        if (isdigit((unsigned char)*s)) {
                long v = 0;
                while (isdigit((unsigned char)*s)) {
                        v = v * 10 + (*s - '0');
                        if (v > 1000)
                                return -1;
                        s++;
                }
                *ret = (int)v;
                *p = s;
                return 0;
        }
        if (f->names && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]) &&
            isalpha((unsigned char)s[2])) {
                for (int i = 0; f->names[i]; i++)
                        if (strncasecmp(s, f->names[i], 3) == 0) {
                                *ret = f->min + i;
                                *p = s + 3;
                                return 0;
                        }
        }
        return -1;
}

/* Parses one field's text (a NUL-terminated copy) into a bit set. */
static int parse_field(const struct field_def *f, const char *text, uint64_t *ret_bits, bool *ret_star,
                       struct err *err) {
        uint64_t bits = 0;
        const char *p = text;
        if (!*p)
                return err_set(err, -ERR_INVALID, "%s field is empty", f->name);
        for (;;) {
                int lo, hi, step = 1;
                const char *item = p;
                bool star = false;
                if (*p == '*') {
                        lo = f->min;
                        hi = f->max;
                        star = true;
                        p++;
                } else {
                        if (read_value(f, &p, &lo) < 0)
                                return err_set(err, -ERR_INVALID, "%s field: '%s' is not a value", f->name, item);
                        hi = lo;
                        if (*p == '-') {
                                p++;
                                if (read_value(f, &p, &hi) < 0)
                                        return err_set(err, -ERR_INVALID, "%s field: '%s' has a bad range end",
                                                       f->name, item);
                        }
                }
                if (*p == '/') {
                        p++;
                        if (!isdigit((unsigned char)*p))
                                return err_set(err, -ERR_INVALID, "%s field: '%s' has a bad step", f->name, item);
                        long v = 0;
                        while (isdigit((unsigned char)*p)) {
                                v = v * 10 + (*p - '0');
                                if (v > 1000)
                                        break;
                                p++;
                        }
                        if (v < 1 || v > f->max - f->min + 1 || isdigit((unsigned char)*p))
                                return err_set(err, -ERR_INVALID, "%s field: step in '%s' must be 1-%d", f->name,
                                               item, f->max - f->min + 1);
                        step = (int)v;
                        /* "N/STEP" runs from N to the end of the field. */
                        if (!star && hi == lo && item[strcspn(item, "-/,")] == '/')
                                hi = f->max;
                }
                if (lo < f->min || lo > f->max || hi < f->min || hi > f->max)
                        return err_set(err, -ERR_INVALID, "%s field: '%.*s' is out of range %d-%d", f->name,
                                       (int)strcspn(item, ","), item, f->min, f->max);
                if (hi < lo)
                        return err_set(err, -ERR_INVALID, "%s field: range '%.*s' runs backwards", f->name,
                                       (int)strcspn(item, ","), item);
                for (int v = lo; v <= hi; v += step)
                        bits |= UINT64_C(1) << v;
                if (item == text)
                        *ret_star = star;
                if (*p == 0)
                        break;
                if (*p != ',' || p[1] == 0)
                        return err_set(err, -ERR_INVALID, "%s field: unexpected '%c' in '%s'", f->name, *p, text);
                p++;
        }
        *ret_bits = bits;
        return 0;
}

int cron_parse(const char *expr, struct cron *ret, struct err *err) {
        if (!expr)
                return err_set(err, -ERR_INVALID, "cron expression missing");
        size_t len = strlen(expr);
        if (len > CRON_MAX_LEN)
                return err_set(err, -ERR_INVALID, "cron expression longer than %d characters", CRON_MAX_LEN);
        const char *text = expr;
        while (isspace((unsigned char)*text))
                text++;
        if (*text == '@') {
                size_t n = strcspn(text, " \t\r\n");
                const char *after = text + n;
                while (isspace((unsigned char)*after))
                        after++;
                const char *found = NULL;
                for (size_t i = 0; i < ELEMENTSOF(macros); i++)
                        if (strlen(macros[i].name) == n && strncasecmp(text, macros[i].name, n) == 0)
                                found = macros[i].expansion;
                if (!found || *after)
                        return err_set(err, -ERR_INVALID, "cron '%s': unknown macro", expr);
                text = found;
        }
        _cleanup_free_ char *copy = xstrdup(text);
        char *parts[5];
        int n = 0;
        char *save = NULL;
        for (char *tok = strtok_r(copy, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
                if (n == 5)
                        return err_set(err, -ERR_INVALID, "cron '%s': expected 5 fields, got more", expr);
                parts[n++] = tok;
        }
        if (n != 5)
                return err_set(err, -ERR_INVALID, "cron '%s': expected 5 fields, got %d", expr, n);
        uint64_t bits[5];
        bool star[5];
        for (int i = 0; i < 5; i++) {
                int r = parse_field(&fields[i], parts[i], &bits[i], &star[i], err);
                if (r < 0)
                        return err_wrap(err, "cron '%s'", expr);
        }
        struct cron c = {
                .minutes = bits[0],
                .hours = (uint32_t)bits[1],
                .mdays = (uint32_t)bits[2],
                .months = (uint16_t)bits[3],
                .wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f), /* 7 → Sunday (0) */
                .mday_star = star[2],
                .wday_star = star[4],
                .fixed_time = !star[0] && !star[1],
        };
        *ret = c;
        return 0;
}

bool cron_matches(const struct cron *c, int min, int hour, int mday, int mon, int wday) {
        if (!(c->minutes & (UINT64_C(1) << min)) || !(c->hours & (UINT32_C(1) << hour)) ||
            !(c->months & (1u << mon)))
                return false;
        bool dm = c->mdays & (UINT32_C(1) << mday), dw = c->wdays & (1u << wday);
        /* crontab(5): "If both fields are restricted (i.e., don't start with *), the command will
         * be run when either field matches the current time." */
        if (c->mday_star || c->wday_star)
                return dm && dw;
        return dm || dw;
}

/* --- civil time arithmetic (seconds "as if UTC": no zone involved) ------------------------ */

static int64_t civil_make(int year, int mon /* 0-based, may overflow */, int mday, int hour, int min) {
        struct tm tm = { .tm_year = year - 1900, .tm_mon = mon, .tm_mday = mday, .tm_hour = hour, .tm_min = min };
        return (int64_t)timegm(&tm);
}

/* The first civil minute strictly after l that matches, or -1 past limit. */
static int64_t civil_next(const struct cron *c, int64_t l, int64_t limit) {
        int64_t t = (l - (((l % 60) + 60) % 60)) + 60;
        while (t <= limit) {
                time_t tt = (time_t)t;
                struct tm tm;
                gmtime_r(&tt, &tm);
                int year = tm.tm_year + 1900;
                if (!(c->months & (1u << (tm.tm_mon + 1)))) {
                        t = civil_make(year, tm.tm_mon + 1, 1, 0, 0);
                        continue;
                }
                bool dm = c->mdays & (UINT32_C(1) << tm.tm_mday), dw = c->wdays & (1u << tm.tm_wday);
                bool day = (c->mday_star || c->wday_star) ? (dm && dw) : (dm || dw);
                if (!day) {
                        t = civil_make(year, tm.tm_mon, tm.tm_mday + 1, 0, 0);
                        continue;
                }
                if (!(c->hours & (UINT32_C(1) << tm.tm_hour))) {
                        t = civil_make(year, tm.tm_mon, tm.tm_mday, tm.tm_hour + 1, 0);
                        continue;
                }
                uint64_t later = c->minutes & ~((UINT64_C(1) << tm.tm_min) - 1);
                if (!later) {
                        t = civil_make(year, tm.tm_mon, tm.tm_mday, tm.tm_hour + 1, 0);
                        continue;
                }
                int m = __builtin_ctzll(later);
                return t + (int64_t)(m - tm.tm_min) * 60;
        }
        return -1;
}

/* --- zones ----------------------------------------------------------------------------------- */

static const char *zoneinfo_dir(void) {
        const char *d = getenv("TZDIR");
        return d && *d ? d : "/usr/share/zoneinfo";
}

/* Zones found valid lately: a scheduler asks for the same few names thousands of times, and each
 * check is a stat, an open and a read. (Zone files do not go away under a running master; one
 * that does fails later in glibc as UTC, which tzset documents.) */
#define VALID_CACHE 16
static char valid_cache[VALID_CACHE][201];
static unsigned valid_next;

static bool tz_valid_uncached(const char *name);

bool cron_tz_valid(const char *name) {
        if (!name || !*name || strlen(name) > 200)
                return false;
        for (unsigned i = 0; i < VALID_CACHE; i++)
                if (streq(valid_cache[i], name))
                        return true;
        if (!tz_valid_uncached(name))
                return false;
        snprintf(valid_cache[valid_next++ % VALID_CACHE], sizeof valid_cache[0], "%s", name);
        return true;
}

static bool tz_valid_uncached(const char *name) {
        if (name[0] == '/' || name[0] == '.')
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
                        return false;
        if (strstr(name, "//") || strstr(name, "/."))
                return false;
        _cleanup_free_ char *path = xasprintf("%s/%s", zoneinfo_dir(), name);
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        char magic[4];
        ssize_t n = read(fd, magic, sizeof magic);
        close(fd);
        return n == 4 && memcmp(magic, "TZif", 4) == 0;
}

/* TZ as found at the first switch (NULL: it was unset). */
static char *saved_tz;
static bool saved_tz_known;

static void tz_enter(const char *tz) {
        if (!saved_tz_known) {
                const char *cur = getenv("TZ");
                saved_tz = cur ? xstrdup(cur) : NULL;
                saved_tz_known = true;
        }
        setenv("TZ", tz && *tz ? tz : "UTC", 1);
        tzset();
}

static void tz_leave(void) {
        setenv("TZ", saved_tz ? saved_tz : ":/etc/localtime", 1);
        tzset();
}

/* Offset at t in the zone entered. */
static long off_at(int64_t t) {
        time_t tt = (time_t)t;
        struct tm tm;
        if (!localtime_r(&tt, &tm))
                return 0;
        return tm.tm_gmtoff;
}

/* UTC needs no zone switch (and is what most schedules use). */
static bool is_utc(const char *tz) {
        return !tz || !*tz || streq(tz, "UTC") || streq(tz, "Etc/UTC") || streq(tz, "Zulu") || streq(tz, "Etc/Zulu");
}

long cron_tz_offset(const char *tz, int64_t t) {
        if (is_utc(tz))
                return 0;
        tz_enter(tz);
        long o = off_at(t);
        tz_leave();
        return o;
}

static int instants(int64_t local_s, int64_t out[2], int64_t *gap_end) {
        long o1 = off_at(local_s - 86400), o2 = off_at(local_s + 86400);
        int n = 0;
        long offs[2] = { o1, o2 };
        for (int i = 0; i < 2; i++) {
                if (i == 1 && o2 == o1)
                        break;
                int64_t t = local_s - offs[i];
                if (off_at(t) == offs[i])
                        out[n++] = t;
        }
        if (n == 2 && out[1] < out[0]) {
                int64_t x = out[0];
                out[0] = out[1];
                out[1] = x;
        }
        if (n == 0 && gap_end) {
                /* Clocks jumped from o1 to o2 (o2 > o1): the transition lies in (L - o2, L - o1]. */
                int64_t lo = local_s - (o1 > o2 ? o1 : o2), hi = local_s - (o1 > o2 ? o2 : o1);
                long before = off_at(lo);
                while (hi - lo > 1) {
                        int64_t mid = lo + (hi - lo) / 2;
                        if (off_at(mid) == before)
                                lo = mid;
                        else
                                hi = mid;
                }
                *gap_end = hi;
        }
        return n;
}

int cron_tz_instants(const char *tz, int64_t local_s, int64_t out[2], int64_t *gap_end) {
        if (is_utc(tz)) {
                out[0] = local_s;
                return 1;
        }
        tz_enter(tz);
        int n = instants(local_s, out, gap_end);
        tz_leave();
        return n;
}

/* Offsets move by at most this much at one transition in today's tz database (DST is 30 min
 * to 2 h). A historical date-line jump of a day (Samoa 2011) is treated like a gap. */
#define SHIFT_S (4 * 3600)
/* Two transitions are never this close together, so equal offsets at both ends of a shorter
 * span mean none happened in between. */
#define QUIET_S (7 * 86400)

int cron_next(const struct cron *c, const char *tz, int64_t after_s, int64_t *ret_s, struct err *err) {
        if (tz && *tz && !cron_tz_valid(tz))
                return err_set(err, -ERR_INVALID, "unknown time zone '%s'", tz);
        if (is_utc(tz)) {
                /* No zone: the first matching civil minute is the instant. */
                int64_t l = civil_next(c, after_s, after_s + (int64_t)CRON_HORIZON_YEARS * 366 * 86400);
                if (l < 0)
                        return err_set(err, -ENOENT, "cron expression never fires");
                *ret_s = l;
                return 0;
        }
        tz_enter(tz);
        int64_t civil_after = after_s + off_at(after_s);
        int64_t limit = civil_after + (int64_t)CRON_HORIZON_YEARS * 366 * 86400;
        int64_t best = INT64_MAX, best_l = 0;
        /* Fast path, away from any transition: civil minutes and instants map one to one. */
        int64_t l0 = civil_next(c, civil_after, limit);
        if (l0 >= 0) {
                int64_t out[2];
                if (instants(l0, out, NULL) == 1 && out[0] > after_s && out[0] - after_s < QUIET_S &&
                    off_at(out[0]) == off_at(after_s)) {
                        tz_leave();
                        *ret_s = out[0];
                        return 0;
                }
        }
        for (int64_t l = civil_next(c, civil_after - SHIFT_S - 60, limit); l >= 0; l = civil_next(c, l, limit)) {
                if (best != INT64_MAX && l > best_l + SHIFT_S)
                        break;
                int64_t out[2], gap_end = 0, cand = INT64_MAX;
                int n = instants(l, out, &gap_end);
                if (n == 0) {
                        if (c->fixed_time)
                                cand = gap_end;
                } else if (c->fixed_time) {
                        cand = out[0]; /* the first occurrence only */
                } else {
                        for (int i = 0; i < n && cand == INT64_MAX; i++)
                                if (out[i] > after_s)
                                        cand = out[i];
                }
                if (cand > after_s && cand < best) {
                        best = cand;
                        best_l = l;
                }
        }
        tz_leave();
        if (best == INT64_MAX)
                return err_set(err, -ENOENT, "cron expression never fires");
        *ret_s = best;
        return 0;
}
