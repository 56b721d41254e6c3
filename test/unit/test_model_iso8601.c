/* test_model_iso8601.c — Chronos repeating intervals: durations, starts, zones, occurrences. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "model/iso8601.h"

static int64_t utc_ms(const char *s) {
        struct tm tm = { 0 };
        assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
        return (int64_t)timegm(&tm) * 1000;
}

static struct iso8601_schedule sched(const char *text, const char *tz) {
        struct iso8601_schedule s;
        struct err e = { 0 };
        if (iso8601_schedule_parse(text, tz, &s, &e) < 0)
                fail_msg("'%s': %s", text, err_msg(&e));
        return s;
}

static void next_is(const char *text, const char *tz, const char *from, const char *want, int64_t want_k) {
        struct iso8601_schedule s = sched(text, tz);
        int64_t at = 0, k = -1;
        assert_int_equal(iso8601_next(&s, utc_ms(from), &at, &k), 0);
        if (at != utc_ms(want)) {
                char buf[64];
                time_t t = (time_t)(at / 1000);
                strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
                fail_msg("'%s' from %s: got %s, want %s", text, from, buf, want);
        }
        assert_int_equal(k, want_k);
}

static void rejects(const char *text, const char *tz, const char *needle) {
        struct iso8601_schedule s;
        struct err e = { 0 };
        assert_int_equal(iso8601_schedule_parse(text, tz, &s, &e), -ERR_INVALID);
        if (!strstr(err_msg(&e), needle))
                fail_msg("'%s': '%s' lacks '%s'", text, err_msg(&e), needle);
        err_release(&e);
}

static void durations_in_every_form(void **state) {
        struct iso8601_duration d;
        struct err e = { 0 };
        assert_int_equal(iso8601_duration_parse("P1Y2M3W4DT5H6M7S", &d, &e), 0);
        assert_int_equal(d.years, 1);
        assert_int_equal(d.months, 2);
        assert_int_equal(d.weeks, 3);
        assert_int_equal(d.days, 4);
        assert_int_equal(d.ms, ((5 * 60 + 6) * 60 + 7) * 1000);
        assert_int_equal(iso8601_duration_parse("PT1M", &d, &e), 0); /* M after T is minutes */
        assert_int_equal(d.months, 0);
        assert_int_equal(d.ms, 60000);
        assert_int_equal(iso8601_duration_parse("P1M", &d, &e), 0); /* before T, months */
        assert_int_equal(d.months, 1);
        assert_int_equal(iso8601_duration_parse("PT1.5S", &d, &e), 0);
        assert_int_equal(d.ms, 1500);
        assert_int_equal(iso8601_duration_parse("P2W", &d, &e), 0);
        assert_int_equal(d.weeks, 2);
        const char *bad[] = { "", "1D", "P", "PT", "P1H", "PT1D", "P1D1Y", "P1Y1Y", "PT1.5M", "P1.5D", "PTT1H", "P-1D",
                              "P1DT", "P1", "P9999999999D" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                if (iso8601_duration_parse(bad[i], &d, &e) != -ERR_INVALID)
                        fail_msg("'%s' accepted", bad[i]);
                err_release(&e);
        }
}

static void schedules_parse(void **state) {
        struct iso8601_schedule s = sched("R5/2026-01-01T00:00:00Z/PT1H", NULL);
        assert_int_equal(s.repeats, 5);
        assert_int_equal(s.start_ms, utc_ms("2026-01-01T00:00:00Z"));
        assert_int_equal(s.period.ms, 3600000);
        s = sched("R/2026-01-01T00:00:00.250Z/P1D", NULL);
        assert_int_equal(s.repeats, -1);
        assert_int_equal(s.start_ms, utc_ms("2026-01-01T00:00:00Z") + 250);
        s = sched("R/2026-01-01T01:00:00+01:00/P1D", NULL);
        assert_int_equal(s.start_ms, utc_ms("2026-01-01T00:00:00Z"));
        s = sched("R/2026-01-01T00:00:00-0530/P1D", NULL);
        assert_int_equal(s.start_ms, utc_ms("2026-01-01T05:30:00Z"));
        /* No offset: a wall-clock time in scheduleTimeZone. */
        s = sched("R/2026-01-01T09:00:00/P1D", "America/New_York");
        assert_int_equal(s.start_ms, utc_ms("2026-01-01T14:00:00Z"));
        s = sched("R/2026-01-01T09:00/P1D", NULL);
        assert_int_equal(s.start_ms, utc_ms("2026-01-01T09:00:00Z"));
        s = sched("R0/2026-01-01T00:00:00Z/PT1H", NULL);
        assert_int_equal(s.repeats, 0);

        rejects("5/2026-01-01T00:00:00Z/PT1H", NULL, "must start with 'R'");
        rejects("R5/2026-01-01T00:00:00Z", NULL, "expected R[n]/start/period");
        rejects("R5/2026-01-01T00:00:00Z/PT1H/x", NULL, "expected R[n]/start/period");
        rejects("R5/2026-13-01T00:00:00Z/PT1H", NULL, "not an ISO 8601 date-time");
        rejects("R5/2026-02-30T00:00:00Z/PT1H", NULL, "not an ISO 8601 date-time");
        rejects("R5/2026-01-01 00:00:00Z/PT1H", NULL, "not an ISO 8601 date-time");
        rejects("R5/2026-01-01T00:00:00Q/PT1H", NULL, "not an ISO 8601 date-time");
        rejects("R5/2026-01-01T00:00:00Z/1H", NULL, "must start with 'P'");
        rejects("R5/2026-01-01T00:00:00Z/PT0S", NULL, "zero period");
        rejects("Rx/2026-01-01T00:00:00Z/PT1H", NULL, "expected R[n]/start/period");
        rejects("R/2026-01-01T00:00:00Z/PT1H", "Nowhere/City", "unknown time zone");
}

static void occurrences(void **state) {
        next_is("R5/2026-01-01T00:00:00Z/PT1H", NULL, "2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z", 0);
        next_is("R5/2026-01-01T00:00:00Z/PT1H", NULL, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", 0);
        next_is("R5/2026-01-01T00:00:00Z/PT1H", NULL, "2026-01-01T00:00:01Z", "2026-01-01T01:00:00Z", 1);
        next_is("R5/2026-01-01T00:00:00Z/PT1H", NULL, "2026-01-01T04:00:00Z", "2026-01-01T04:00:00Z", 4);
        struct iso8601_schedule s = sched("R5/2026-01-01T00:00:00Z/PT1H", NULL);
        int64_t at, k;
        assert_int_equal(iso8601_next(&s, utc_ms("2026-01-01T04:00:01Z"), &at, &k), -ENOENT); /* used up */
        s = sched("R0/2026-01-01T00:00:00Z/PT1H", NULL);
        assert_int_equal(iso8601_next(&s, 0, &at, &k), -ENOENT);
        /* Forever, far from the start: computed, not stepped. */
        next_is("R/2000-01-01T00:00:00Z/PT1M", NULL, "2026-06-01T12:00:30Z", "2026-06-01T12:01:00Z", 13893841);
        /* Months clamp at the month's end; occurrence k is start + k months (Jan 31 → Mar 31). */
        next_is("R/2026-01-31T00:00:00Z/P1M", NULL, "2026-02-01T00:00:00Z", "2026-02-28T00:00:00Z", 1);
        next_is("R/2026-01-31T00:00:00Z/P1M", NULL, "2026-03-01T00:00:00Z", "2026-03-31T00:00:00Z", 2);
        /* A start centuries ago costs a few evaluations, not a step per period. */
        next_is("R/1000-01-01T00:00:00Z/P1D", NULL, "2026-06-01T12:00:00Z", "2026-06-02T00:00:00Z", 374891);
        next_is("R/1600-02-29T00:00:00/P1M", "Europe/Berlin", "2026-06-01T00:00:00Z", "2026-06-28T22:00:00Z", 5116);
        next_is("R/2024-02-29T00:00:00Z/P1Y", NULL, "2024-03-01T00:00:00Z", "2025-02-28T00:00:00Z", 1);
        next_is("R/2026-01-01T00:00:00Z/P1W", NULL, "2026-01-02T00:00:00Z", "2026-01-08T00:00:00Z", 1);
        next_is("R/2026-01-01T00:00:00Z/P1DT1H", NULL, "2026-01-01T00:00:01Z", "2026-01-02T01:00:00Z", 1);
}

static void days_keep_the_wall_clock_across_dst(void **state) {
        /* 09:00 New York daily: 14:00Z in winter, 13:00Z after 2026-03-08. */
        next_is("R/2026-03-06T09:00:00/P1D", "America/New_York", "2026-03-07T14:00:01Z", "2026-03-08T13:00:00Z", 2);
        /* PT24H is exact: it drifts an hour instead. */
        next_is("R/2026-03-06T09:00:00/PT24H", "America/New_York", "2026-03-07T14:00:01Z", "2026-03-08T14:00:00Z", 2);
        /* 02:30 daily in Berlin: 2026-03-29 02:30 does not exist, it moves forward by the gap. */
        next_is("R/2026-03-27T02:30:00/P1D", "Europe/Berlin", "2026-03-28T02:00:00Z", "2026-03-29T01:30:00Z", 2);
        /* 01:45 in Lord Howe on 2026-04-05 exists twice: the earlier. */
        next_is("R/2026-04-03T01:45:00/P1D", "Australia/Lord_Howe", "2026-04-04T00:00:00Z", "2026-04-04T14:45:00Z", 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(durations_in_every_form),
                cmocka_unit_test(schedules_parse),
                cmocka_unit_test(occurrences),
                cmocka_unit_test(days_keep_the_wall_clock_across_dst),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
