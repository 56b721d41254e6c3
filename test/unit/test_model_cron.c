/* test_model_cron.c — every cron field form, the day OR rule, leap years and DST in three zones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "model/cron.h"

/* "2026-03-08T07:00:00Z" → seconds. */
static int64_t utc(const char *s) {
        struct tm tm = { 0 };
        assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
        return (int64_t)timegm(&tm);
}

static struct cron parse_ok(const char *expr) {
        struct cron c;
        struct err e = { 0 };
        int r = cron_parse(expr, &c, &e);
        if (r < 0)
                fail_msg("'%s': %s", expr, err_msg(&e));
        return c;
}

static void next_is(const char *expr, const char *tz, const char *after, const char *want) {
        struct cron c = parse_ok(expr);
        struct err e = { 0 };
        int64_t got = 0;
        int r = cron_next(&c, tz, utc(after), &got, &e);
        if (r < 0)
                fail_msg("'%s' after %s: %s", expr, after, err_msg(&e));
        if (got != utc(want)) {
                char buf[64];
                time_t t = (time_t)got;
                strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
                fail_msg("'%s' in %s after %s: got %s, want %s", expr, tz ? tz : "UTC", after, buf, want);
        }
}

static void rejects(const char *expr, const char *needle) {
        struct cron c;
        struct err e = { 0 };
        assert_int_equal(cron_parse(expr, &c, &e), -ERR_INVALID);
        if (!strstr(err_msg(&e), needle))
                fail_msg("'%s': message '%s' lacks '%s'", expr, err_msg(&e), needle);
        err_release(&e);
}

static void every_field_form_parses(void **state) {
        struct cron c = parse_ok("* * * * *");
        assert_true(c.minutes == (UINT64_C(1) << 60) - 1);
        assert_true(c.hours == (UINT32_C(1) << 24) - 1);
        assert_true(c.mdays == ((UINT32_C(1) << 31) - 1) << 1);
        assert_true(c.months == 0x1ffe);
        assert_true(c.wdays == 0x7f);
        assert_true(c.mday_star && c.wday_star && !c.fixed_time);

        c = parse_ok("5 4 3 2 1");
        assert_true(c.minutes == UINT64_C(1) << 5 && c.hours == 1u << 4 && c.mdays == 1u << 3 &&
                    c.months == 1u << 2 && c.wdays == 1u << 1);
        assert_true(c.fixed_time && !c.mday_star && !c.wday_star);

        c = parse_ok("10-12 0 * * *"); /* range */
        assert_true(c.minutes == (UINT64_C(7) << 10));
        c = parse_ok("*/15 * * * *"); /* step over the whole field */
        assert_true(c.minutes == ((UINT64_C(1) << 0) | (UINT64_C(1) << 15) | (UINT64_C(1) << 30) | (UINT64_C(1) << 45)));
        c = parse_ok("0-20/10 * * * *"); /* stepped range */
        assert_true(c.minutes == ((UINT64_C(1) << 0) | (UINT64_C(1) << 10) | (UINT64_C(1) << 20)));
        c = parse_ok("50/5 * * * *"); /* N/STEP runs to the end */
        assert_true(c.minutes == ((UINT64_C(1) << 50) | (UINT64_C(1) << 55)));
        c = parse_ok("1,2,30-31 * * * *"); /* list */
        assert_true(c.minutes == ((UINT64_C(1) << 1) | (UINT64_C(1) << 2) | (UINT64_C(3) << 30)));
        c = parse_ok("0 9 * JAN-mar Mon-FRI"); /* names, any case, as range ends */
        assert_true(c.months == 0xe && c.wdays == 0x3e);
        c = parse_ok("0 0 * * 7"); /* 7 is Sunday */
        assert_true(c.wdays == 1);
        c = parse_ok("0 0 * * 5-7");
        assert_true(c.wdays == (1u | 1u << 5 | 1u << 6));
        c = parse_ok("  0\t0  1 1 *  "); /* blanks */
        assert_true(c.fixed_time);
}

static void macros_expand(void **state) {
        const char *pairs[][2] = { { "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
                                   { "@weekly", "0 0 * * 0" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
                                   { "@hourly", "0 * * * *" }, { "@DAILY", "0 0 * * *" } };
        for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
                struct cron a = parse_ok(pairs[i][0]), b = parse_ok(pairs[i][1]);
                assert_memory_equal(&a, &b, sizeof a);
        }
        next_is("@hourly", NULL, "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z");
        next_is("@weekly", NULL, "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"); /* a Sunday */
        next_is("@monthly", NULL, "2026-01-31T23:59:59Z", "2026-02-01T00:00:00Z");
        next_is("@yearly", NULL, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
}

static void bad_expressions_say_why(void **state) {
        rejects("61 * * * *", "minute field: '61' is out of range 0-59");
        rejects("* 24 * * *", "hour field");
        rejects("* * 0 * *", "day-of-month field");
        rejects("* * * 13 *", "month field");
        rejects("* * * * 8", "day-of-week field");
        rejects("* * * *", "expected 5 fields, got 4");
        rejects("* * * * * *", "expected 5 fields, got more");
        rejects("", "expected 5 fields, got 0");
        rejects("a * * * *", "is not a value");
        rejects("5-1 * * * *", "runs backwards");
        rejects("*/0 * * * *", "step");
        rejects("*/61 * * * *", "step");
        rejects("1,,2 * * * *", "',2' is not a value");
        rejects("1, * * * *", "unexpected");
        rejects("1-x * * * *", "bad range end");
        rejects("* * * foo *", "is not a value");
        rejects("@fortnightly", "unknown macro");
        rejects("@daily 5", "unknown macro");
        rejects("99999999999 * * * *", "is not a value");
        char longer[CRON_MAX_LEN + 2];
        memset(longer, '1', sizeof longer - 1);
        longer[sizeof longer - 1] = 0;
        rejects(longer, "longer than");
}

static void next_in_utc(void **state) {
        next_is("* * * * *", NULL, "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z");
        next_is("* * * * *", NULL, "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z");
        next_is("*/15 * * * *", "UTC", "2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z");
        next_is("0 0 1 * *", NULL, "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z"); /* year rollover */
        next_is("0 12 31 * *", NULL, "2026-04-01T00:00:00Z", "2026-05-31T12:00:00Z"); /* skips 30-day months */
        next_is("59 23 * * *", NULL, "2026-01-01T23:59:00Z", "2026-01-02T23:59:00Z");
}

static void day_of_month_or_day_of_week(void **state) {
        /* Both restricted: the 13th OR any Friday. 2026-01-01 is a Thursday. */
        next_is("0 0 13 * 5", NULL, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
        next_is("0 0 13 * 5", NULL, "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z");
        /* One starts with '*': both must match ("*" / "*\/10" days that are Fridays). */
        next_is("0 0 * * 5", NULL, "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z");
        next_is("0 0 */10 * 5", NULL, "2026-01-01T00:00:00Z", "2026-05-01T00:00:00Z"); /* 1,11,21,31 ∧ Fri */
        struct cron c = parse_ok("0 0 1 * mon");
        assert_true(cron_matches(&c, 0, 0, 1, 6, 3));  /* Jun 1, a Wednesday: the 1st */
        assert_true(cron_matches(&c, 0, 0, 8, 6, 1));  /* a Monday */
        assert_false(cron_matches(&c, 0, 0, 9, 6, 2)); /* neither */
}

static void leap_years(void **state) {
        next_is("0 0 29 2 *", NULL, "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z");
        next_is("0 0 29 2 *", NULL, "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z");
        /* 2100 is not a leap year: 2096 → 2104. */
        next_is("0 0 29 2 *", NULL, "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z");
        next_is("0 0 29 2 *", NULL, "2000-01-01T00:00:00Z", "2000-02-29T00:00:00Z"); /* 2000 is */
        next_is("0 0 * 2 *", NULL, "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z");
        next_is("0 0 * 2 *", NULL, "2027-02-28T00:00:00Z", "2028-02-01T00:00:00Z");
        /* Feb 29 or a Monday, but only in February: 2027-03-01 is a Monday outside it. */
        next_is("0 0 29 2 mon", NULL, "2027-02-28T00:00:00Z", "2028-02-07T00:00:00Z");
        next_is("0 0 29 2 mon", NULL, "2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z");
        struct cron c = parse_ok("0 0 30 2 *");
        int64_t t;
        struct err e = { 0 };
        assert_int_equal(cron_next(&c, NULL, utc("2026-01-01T00:00:00Z"), &t, &e), -ENOENT);
        err_release(&e);
}

static void new_york_dst(void **state) {
        const char *z = "America/New_York";
        /* 2026-03-08 02:00 EST → 03:00 EDT (07:00Z). A fixed-time job inside the gap runs at the
         * first instant after it; the next day is normal again. */
        next_is("30 2 * * *", z, "2026-03-08T05:00:00Z", "2026-03-08T07:00:00Z");
        next_is("30 2 * * *", z, "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z");
        /* Every minute of the gap coalesces into one run. */
        next_is("0-59 2 * * *", z, "2026-03-08T06:59:00Z", "2026-03-08T07:00:00Z");
        next_is("0-59 2 * * *", z, "2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z");
        /* A wildcard job skips the local times that do not exist. */
        next_is("30 * * * *", z, "2026-03-08T06:45:00Z", "2026-03-08T07:30:00Z");
        next_is("*/20 * * * *", z, "2026-03-08T06:40:00Z", "2026-03-08T07:00:00Z");
        /* 2026-11-01 02:00 EDT → 01:00 EST (06:00Z): 01:xx happens twice. */
        next_is("30 1 * * *", z, "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z");
        next_is("30 1 * * *", z, "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"); /* once */
        next_is("30 * * * *", z, "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"); /* both times */
        next_is("30 * * * *", z, "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z");
        /* Plain days: 09:00 EST is 14:00Z, 09:00 EDT is 13:00Z. */
        next_is("0 9 * * *", z, "2026-01-15T00:00:00Z", "2026-01-15T14:00:00Z");
        next_is("0 9 * * *", z, "2026-07-15T00:00:00Z", "2026-07-15T13:00:00Z");
        next_is("0 9 * * *", z, "2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z");
}

static void berlin_dst(void **state) {
        const char *z = "Europe/Berlin";
        /* 2026-03-29 02:00 CET → 03:00 CEST (01:00Z). */
        next_is("30 2 * * *", z, "2026-03-28T23:00:00Z", "2026-03-29T01:00:00Z");
        next_is("30 2 * * *", z, "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z");
        next_is("15 * * * *", z, "2026-03-29T00:15:00Z", "2026-03-29T01:15:00Z"); /* 02:15 skipped */
        /* 2026-10-25 03:00 CEST → 02:00 CET (01:00Z). */
        next_is("30 2 * * *", z, "2026-10-24T22:00:00Z", "2026-10-25T00:30:00Z");
        next_is("30 2 * * *", z, "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z");
        next_is("30 2 * * *", z, "2026-10-25T00:31:00Z", "2026-10-26T01:30:00Z"); /* not 01:30Z */
        next_is("30 * * * *", z, "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z");
}

static void lord_howe_half_hour_dst(void **state) {
        const char *z = "Australia/Lord_Howe";
        /* +10:30 standard, +11:00 summer. 2026-10-04 02:00 LHST → 02:30 (2026-10-03T15:30Z). */
        next_is("15 2 * * *", z, "2026-10-03T13:30:00Z", "2026-10-03T15:30:00Z");
        next_is("15 2 * * *", z, "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z");
        next_is("45 2 * * *", z, "2026-10-03T13:30:00Z", "2026-10-03T15:45:00Z"); /* 02:45 exists */
        next_is("15 * * * *", z, "2026-10-03T15:00:00Z", "2026-10-03T16:15:00Z"); /* 02:15 skipped */
        /* 2026-04-05 02:00 LHDT → 01:30 LHST (2026-04-04T15:00Z): 01:30–01:59 happen twice. */
        next_is("45 1 * * *", z, "2026-04-04T12:00:00Z", "2026-04-04T14:45:00Z");
        next_is("45 1 * * *", z, "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z");
        next_is("45 * * * *", z, "2026-04-04T14:45:00Z", "2026-04-04T15:15:00Z");
        next_is("15 1 * * *", z, "2026-04-04T12:00:00Z", "2026-04-04T14:15:00Z"); /* before the overlap */
}

static void zones_come_from_the_tz_database(void **state) {
        assert_true(cron_tz_valid("America/New_York"));
        assert_true(cron_tz_valid("UTC"));
        assert_false(cron_tz_valid("Mars/Olympus_Mons"));
        assert_false(cron_tz_valid("../../etc/passwd"));
        assert_false(cron_tz_valid("/etc/localtime"));
        assert_false(cron_tz_valid("America/../UTC"));
        assert_false(cron_tz_valid(""));
        assert_int_equal(cron_tz_offset("Asia/Kolkata", utc("2026-06-01T00:00:00Z")), 19800);
        assert_int_equal(cron_tz_offset("Australia/Lord_Howe", utc("2026-01-01T00:00:00Z")), 39600);
        assert_int_equal(cron_tz_offset("Australia/Lord_Howe", utc("2026-07-01T00:00:00Z")), 37800);
        int64_t out[2], gap = 0;
        /* 2026-03-08 02:30 New York does not exist; 01:30 on 2026-11-01 exists twice. */
        assert_int_equal(cron_tz_instants("America/New_York", utc("2026-03-08T02:30:00Z"), out, &gap), 0);
        assert_int_equal(gap, utc("2026-03-08T07:00:00Z"));
        assert_int_equal(cron_tz_instants("America/New_York", utc("2026-11-01T01:30:00Z"), out, &gap), 2);
        assert_int_equal(out[0], utc("2026-11-01T05:30:00Z"));
        assert_int_equal(out[1], utc("2026-11-01T06:30:00Z"));
        /* The process's own TZ is left as it was. */
        const char *before = getenv("TZ");
        struct cron c = parse_ok("* * * * *");
        int64_t t;
        struct err e = { 0 };
        assert_int_equal(cron_next(&c, "Mars/Base", 0, &t, &e), -ERR_INVALID);
        err_release(&e);
        cron_tz_offset("Europe/Berlin", 0);
        const char *after = getenv("TZ");
        assert_true((before == NULL && after && strcmp(after, ":/etc/localtime") == 0) ||
                    (before && after && strcmp(before, after) == 0));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_field_form_parses),
                cmocka_unit_test(macros_expand),
                cmocka_unit_test(bad_expressions_say_why),
                cmocka_unit_test(next_in_utc),
                cmocka_unit_test(day_of_month_or_day_of_week),
                cmocka_unit_test(leap_years),
                cmocka_unit_test(new_york_dst),
                cmocka_unit_test(berlin_dst),
                cmocka_unit_test(lord_howe_half_hour_dst),
                cmocka_unit_test(zones_come_from_the_tz_database),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
