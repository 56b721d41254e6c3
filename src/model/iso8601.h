/* iso8601.h — ISO 8601 repeating intervals as Chronos schedules them ("R5/2026-01-01T00:00:00Z/PT1H").
 *
 * Text: "R[n]/<start>/<duration>". n is the number of runs (absent: forever; 0: none). start is
 * a date-time "YYYY-MM-DDThh:mm[:ss[.fff]]" with "Z" or "±hh[:mm]", or without an offset, in
 * which case it is a wall-clock time in the schedule's zone (Chronos's scheduleTimeZone; UTC if
 * none). duration is "P[nY][nM][nW][nD][T[nH][nM][n[.fff]S]]" (at least one part; "PnW" may
 * also be combined with the others, as Joda accepts).
 *
 * Occurrences: occurrence k is start plus k times the period (Joda's
 * start.plus(period.multipliedBy(k)), which is how Chronos skips forward to now): years,
 * months, weeks and days move the wall-clock date in the zone (Jan 31 + P1M is Feb 28, + 2 × P1M
 * is Mar 31; a day across a DST change keeps the local time) and hours, minutes and seconds are
 * exact durations (Joda's zoned arithmetic). A wall-clock time that does not exist (a DST gap)
 * moves forward by the gap; one that exists twice is the earlier instant. Finding the next
 * occurrence costs a few evaluations whatever the start (no stepping from a start years ago). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define ISO8601_MAX_LEN 128

struct iso8601_duration {
        int64_t years, months, weeks, days; /* calendar parts */
        int64_t ms;                         /* hours, minutes and seconds, exact */
};

struct iso8601_schedule {
        int64_t repeats;  /* -1: forever */
        int64_t start_ms; /* occurrence 0, an instant */
        struct iso8601_duration period;
        char tz[64];      /* zone for calendar arithmetic; "" = UTC */
};

/* Parses "PnYnMnWnDTnHnMnS". Returns 0 or -ERR_INVALID with a reason; *ret untouched on error. */
int iso8601_duration_parse(const char *text, struct iso8601_duration *ret, struct err *err);
/* True if every part is zero. */
bool iso8601_duration_zero(const struct iso8601_duration *d);

/* Parses a repeating interval in zone tz (NULL/"": UTC; must be a tz database name). A zero
 * period with more than one run is rejected (it would repeat forever at one instant). */
int iso8601_schedule_parse(const char *text, const char *tz, struct iso8601_schedule *ret, struct err *err);

/* Adds d once to the instant at_ms in zone tz (see the rule above). */
int64_t iso8601_add(const char *tz, int64_t at_ms, const struct iso8601_duration *d);

/* The first occurrence at or after from_ms: its time and index k (0-based). Returns 0, or
 * -ENOENT when the runs are used up before from_ms (or there are none), or -E2BIG past the
 * billionth occurrence. */
int iso8601_next(const struct iso8601_schedule *s, int64_t from_ms, int64_t *ret_ms, int64_t *ret_k);
