/* iso8601.c — Chronos's ISO 8601 repeating intervals: parsing and occurrence arithmetic in a zone. */
#include "model/iso8601.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "common/macro.h"
#include "model/cron.h"

/* Reads an unsigned decimal of at most max_digits; -1 if none. */
static int64_t read_uint(const char **p, int max_digits) {
        const char *s = *p;
        int64_t v = 0;
        int n = 0;
        while (isdigit((unsigned char)*s)) {
                if (++n > max_digits)
                        return -1;
                v = v * 10 + (*s++ - '0');
        }
        if (n == 0)
                return -1;
        *p = s;
        return v;
}

int iso8601_duration_parse(const char *text, struct iso8601_duration *ret, struct err *err) {
        if (!text || text[0] != 'P')
                return err_set(err, -ERR_INVALID, "duration '%s' must start with 'P'", text ? text : "");
        struct iso8601_duration d = { 0 };
        const char *p = text + 1;
        bool in_time = false, any = false;
        /* Designators must come in this order; each at most once. */
        const char *order = "YMWD", *torder = "HMS";
        int pos = 0, tpos = 0;
        while (*p) {
                if (*p == 'T') {
                        if (in_time)
                                return err_set(err, -ERR_INVALID, "duration '%s': second 'T'", text);
                        in_time = true;
                        p++;
                        if (!*p)
                                return err_set(err, -ERR_INVALID, "duration '%s': nothing after 'T'", text);
                        continue;
                }
                int64_t v = read_uint(&p, 9);
                if (v < 0)
                        return err_set(err, -ERR_INVALID, "duration '%s': expected a number at '%s'", text, p);
                int64_t frac_ms = 0;
                if (*p == '.' || *p == ',') {
                        p++;
                        int digits = 0;
                        int64_t f = 0;
                        while (isdigit((unsigned char)*p)) {
                                if (digits < 3) {
                                        f = f * 10 + (*p - '0');
                                        digits++;
                                }
                                p++;
                        }
                        if (digits == 0)
                                return err_set(err, -ERR_INVALID, "duration '%s': bad fraction", text);
                        while (digits++ < 3)
                                f *= 10;
                        frac_ms = f;
                        if (!in_time || *p != 'S')
                                return err_set(err, -ERR_INVALID, "duration '%s': only seconds may have a fraction",
                                               text);
                }
                char c = *p;
                const char *where = in_time ? strchr(torder + tpos, c) : strchr(order + pos, c);
                if (!c || !where)
                        return err_set(err, -ERR_INVALID, "duration '%s': unexpected '%c'", text, c ? c : '?');
                if (in_time) {
                        tpos = (int)(where - torder) + 1;
                        d.ms += c == 'H' ? v * 3600000 : c == 'M' ? v * 60000 : v * 1000 + frac_ms;
                } else {
                        pos = (int)(where - order) + 1;
                        *(c == 'Y' ? &d.years : c == 'M' ? &d.months : c == 'W' ? &d.weeks : &d.days) = v;
                }
                any = true;
                p++;
        }
        if (!any)
                return err_set(err, -ERR_INVALID, "duration '%s' has no parts", text);
        *ret = d;
        return 0;
}

bool iso8601_duration_zero(const struct iso8601_duration *d) {
        return !d->years && !d->months && !d->weeks && !d->days && !d->ms;
}

static bool calendar(const struct iso8601_duration *d) {
        return d->years || d->months || d->weeks || d->days;
}

/* Wall-clock seconds in tz → instant: the earlier of two, forward by the gap in a gap. */
static int64_t from_local(const char *tz, int64_t local_s) {
        int64_t out[2], gap_end = 0;
        if (cron_tz_instants(tz, local_s, out, &gap_end) > 0)
                return out[0];
        return local_s - cron_tz_offset(tz, gap_end - 1);
}

static int parse_start(const char *s, const char *tz, int64_t *ret_ms, struct err *err) {
        const char *p = s;
        int64_t y = read_uint(&p, 4);
        if (y < 0 || p != s + 4 || *p++ != '-') /* four-digit years only */
                goto bad;
        int64_t mo = read_uint(&p, 2);
        if (mo < 1 || mo > 12 || *p++ != '-')
                goto bad;
        int64_t da = read_uint(&p, 2);
        if (da < 1 || da > 31 || *p++ != 'T')
                goto bad;
        int64_t h = read_uint(&p, 2);
        if (h < 0 || h > 23 || *p++ != ':')
                goto bad;
        int64_t mi = read_uint(&p, 2), sec = 0, ms = 0;
        if (mi < 0 || mi > 59)
                goto bad;
        if (*p == ':') {
                p++;
                sec = read_uint(&p, 2);
                if (sec < 0 || sec > 59)
                        goto bad;
                if (*p == '.') {
                        p++;
                        int digits = 0;
                        while (isdigit((unsigned char)*p)) {
                                if (digits < 3) {
                                        ms = ms * 10 + (*p - '0');
                                        digits++;
                                }
                                p++;
                        }
                        if (digits == 0)
                                goto bad;
                        while (digits++ < 3)
                                ms *= 10;
                }
        }
        struct tm tm = { .tm_year = (int)y - 1900, .tm_mon = (int)mo - 1, .tm_mday = (int)da, .tm_hour = (int)h,
                         .tm_min = (int)mi, .tm_sec = (int)sec };
        int64_t civil = (int64_t)timegm(&tm);
        /* A day past the month's end ("2026-02-30") normalizes: reject it instead. */
        if (tm.tm_mday != da)
                goto bad;
        int64_t at;
        if (*p == 'Z' && p[1] == 0) {
                at = civil;
        } else if ((*p == '+' || *p == '-') && p[1]) {
                int sign = *p++ == '-' ? -1 : 1;
                /* ±hh, ±hh:mm or ±hhmm: two digits each. */
                if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
                        goto bad;
                int64_t oh = (p[0] - '0') * 10 + (p[1] - '0'), om = 0;
                p += 2;
                if (*p == ':')
                        p++;
                if (*p) {
                        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2])
                                goto bad;
                        om = (p[0] - '0') * 10 + (p[1] - '0');
                }
                if (oh > 14 || om > 59)
                        goto bad;
                at = civil - sign * (oh * 3600 + om * 60);
        } else if (*p == 0) {
                at = from_local(tz, civil);
        } else {
                goto bad;
        }
        *ret_ms = at * 1000 + ms;
        return 0;
bad:
        return err_set(err, -ERR_INVALID, "start '%s' is not an ISO 8601 date-time (YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm])",
                       s);
}

int iso8601_schedule_parse(const char *text, const char *tz, struct iso8601_schedule *ret, struct err *err) {
        if (!text)
                return err_set(err, -ERR_INVALID, "schedule missing");
        if (strlen(text) > ISO8601_MAX_LEN)
                return err_set(err, -ERR_INVALID, "schedule longer than %d characters", ISO8601_MAX_LEN);
        if (tz && *tz && (strlen(tz) >= sizeof ret->tz || !cron_tz_valid(tz)))
                return err_set(err, -ERR_INVALID, "unknown time zone '%s'", tz);
        struct iso8601_schedule s = { .repeats = -1 };
        const char *p = text;
        if (*p++ != 'R')
                return err_set(err, -ERR_INVALID, "schedule '%s' must start with 'R' (R[n]/start/period)", text);
        if (isdigit((unsigned char)*p)) {
                s.repeats = read_uint(&p, 18);
                if (s.repeats < 0)
                        return err_set(err, -ERR_INVALID, "schedule '%s': bad repetition count", text);
        }
        if (*p++ != '/')
                return err_set(err, -ERR_INVALID, "schedule '%s': expected R[n]/start/period", text);
        const char *slash = strchr(p, '/');
        if (!slash || strchr(slash + 1, '/'))
                return err_set(err, -ERR_INVALID, "schedule '%s': expected R[n]/start/period", text);
        char start[ISO8601_MAX_LEN + 1];
        memcpy(start, p, (size_t)(slash - p));
        start[slash - p] = 0;
        if (tz && *tz)
                snprintf(s.tz, sizeof s.tz, "%s", tz);
        int r = parse_start(start, s.tz, &s.start_ms, err);
        if (r < 0)
                return err_wrap(err, "schedule '%s'", text);
        r = iso8601_duration_parse(slash + 1, &s.period, err);
        if (r < 0)
                return err_wrap(err, "schedule '%s'", text);
        if (iso8601_duration_zero(&s.period) && s.repeats != 0 && s.repeats != 1)
                return err_set(err, -ERR_INVALID, "schedule '%s': a zero period repeats at one instant", text);
        *ret = s;
        return 0;
}

/* at_ms plus k times d: the calendar parts multiplied (Jan 31 + 2 × P1M is Mar 31), applied to
 * the wall clock in tz, then k times the exact part. */
static int64_t add_times(const char *tz, int64_t at_ms, const struct iso8601_duration *d, int64_t k) {
        if (calendar(d)) {
                int64_t s = at_ms / 1000 - (at_ms % 1000 < 0), ms = at_ms - s * 1000;
                time_t local = (time_t)(s + cron_tz_offset(tz, s));
                struct tm tm;
                gmtime_r(&local, &tm);
                int64_t mon = (int64_t)tm.tm_year * 12 + tm.tm_mon + k * (d->years * 12 + d->months);
                int year = (int)(mon / 12 - (mon % 12 < 0)), m = (int)(mon - (int64_t)year * 12);
                static const int len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
                int y = year + 1900;
                int max = len[m] + (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
                struct tm t2 = { .tm_year = year, .tm_mon = m,
                                 .tm_mday = MIN(tm.tm_mday, max) + (int)(k * (d->weeks * 7 + d->days)),
                                 .tm_hour = tm.tm_hour, .tm_min = tm.tm_min, .tm_sec = tm.tm_sec };
                at_ms = from_local(tz, (int64_t)timegm(&t2)) * 1000 + ms;
        }
        return at_ms + k * d->ms;
}

int64_t iso8601_add(const char *tz, int64_t at_ms, const struct iso8601_duration *d) {
        return add_times(tz, at_ms, d, 1);
}

/* Occurrences beyond this index are never computed (a period of a second lasts 30 years). */
#define MAX_INDEX INT64_C(1000000000)

int iso8601_next(const struct iso8601_schedule *s, int64_t from_ms, int64_t *ret_ms, int64_t *ret_k) {
        if (s->repeats == 0)
                return -ENOENT;
        int64_t k = 0, at = s->start_ms;
        if (at < from_ms) {
                if (iso8601_duration_zero(&s->period))
                        return -ENOENT;
                const struct iso8601_duration *d = &s->period;
                /* Estimate k from the period's mean length (the Gregorian means are exact over
                 * 400 years, so the estimate is off by a period or two), then step. */
                double mean = (double)d->ms + 86400000.0 * ((double)d->years * 365.2425 + (double)d->months * 30.436875 +
                                                            (double)d->weeks * 7 + (double)d->days);
                double est = ((double)from_ms - (double)at) / mean;
                if (est > (double)MAX_INDEX)
                        return -E2BIG;
                k = est > 2 ? (int64_t)est - 2 : 0;
                at = add_times(s->tz, s->start_ms, d, k);
                for (int steps = 0; at < from_ms; steps++) {
                        if (steps > 64 || k >= MAX_INDEX)
                                return -E2BIG;
                        at = add_times(s->tz, s->start_ms, d, ++k);
                }
                while (k > 0) {
                        int64_t before = add_times(s->tz, s->start_ms, d, k - 1);
                        if (before < from_ms)
                                break;
                        at = before;
                        k--;
                }
        }
        if (s->repeats > 0 && k >= s->repeats)
                return -ENOENT;
        *ret_ms = at;
        *ret_k = k;
        return 0;
}
