/* cron.h — five-field cron expressions (Vixie cron's language, as Metronome accepts it) and the
 * next fire time in a time zone of the system tz database.
 *
 * Language: "minute hour day-of-month month day-of-week", fields separated by blanks. A field is
 * a comma list of items; an item is "*", "N", "N-M", each optionally followed by "/STEP", or
 * "N/STEP" (N to the field's maximum). Months take jan…dec, days of week sun…sat (0 and 7 are
 * Sunday), names case-insensitive, also as range ends. "@yearly" (= "@annually"), "@monthly",
 * "@weekly", "@daily" (= "@midnight") and "@hourly" stand for their five-field forms.
 *
 * Days (Vixie cron's rule, which POSIX crontab(5) also states): when both day-of-month and
 * day-of-week are restricted (neither field starts with '*'), a day matches if EITHER matches;
 * otherwise both must.
 *
 * Daylight saving time (Vixie/ISC cron's rule, crontab(5) "Notes"): a job is "fixed-time" when
 * neither its minute nor its hour field starts with '*', and "wildcard" otherwise.
 *   - Gap (clocks jump forward, local times that do not exist): a fixed-time job due inside the
 *     gap fires once, at the first instant after the gap; a wildcard job fires only at local
 *     times that exist (its times inside the gap are skipped).
 *   - Overlap (clocks go back, local times occur twice): a fixed-time job fires once, at the
 *     first occurrence; a wildcard job fires at every occurrence (it follows the real clock).
 * Time zones are names of the system tz database (/usr/share/zoneinfo, Debian's tzdata); the
 * offsets come from glibc's reading of those files, never from rules written here. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/* Longest expression accepted (bytes). */
#define CRON_MAX_LEN 256
/* How far ahead cron_next looks before it reports that an expression never fires. Eight years
 * cover Feb 29 across a skipped century leap year (2096 → 2104). */
#define CRON_HORIZON_YEARS 9

struct cron {
        uint64_t minutes; /* bit m: minute m (0..59) */
        uint32_t hours;   /* bit h: 0..23 */
        uint32_t mdays;   /* bit d: 1..31 */
        uint16_t months;  /* bit m: 1..12 */
        uint8_t wdays;    /* bit d: 0..6, Sunday = 0 */
        bool mday_star, wday_star; /* the field starts with '*' (the day OR rule) */
        bool fixed_time;           /* neither minute nor hour starts with '*' (the DST rule) */
};

/* Parses expr into *ret. On failure *err says which field and why ("cron 'x': minute field:
 * '61' is out of range 0-59") and *ret is untouched. Returns 0 or -ERR_INVALID. */
int cron_parse(const char *expr, struct cron *ret, struct err *err);

/* True if the civil (local wall-clock) time, given as broken-down fields, matches. */
bool cron_matches(const struct cron *c, int min, int hour, int mday, int mon /* 1..12 */, int wday);

/* The first fire time strictly after after_s (seconds since the epoch), in zone tz (a tz database
 * name; NULL or "" is UTC), following the DST rule above. Returns 0 and sets *ret_s, -ENOENT if
 * the expression never fires within CRON_HORIZON_YEARS ("0 0 30 2 *"), or -ERR_INVALID for an
 * unknown zone. Uses glibc's TZ machinery on the calling thread (see cron_tz_offset). */
int cron_next(const struct cron *c, const char *tz, int64_t after_s, int64_t *ret_s, struct err *err);

/* True if name is a zone of the system tz database ("America/New_York", "UTC"). Rejects paths
 * that would leave the zoneinfo folder. */
bool cron_tz_valid(const char *name);

/* The UTC offset (seconds east) of zone tz at instant t. The zone is switched with TZ + tzset()
 * and switched back before returning: call only from the loop thread (the master's scheduler
 * and tests); TZ stays defined (its original value, or ":/etc/localtime") so the environment is
 * never reallocated under another thread's getenv. */
long cron_tz_offset(const char *tz, int64_t t);

/* Local wall-clock time (seconds "as if UTC") → the instants that show it in tz, earliest first:
 * 0 (a gap), 1, or 2 (an overlap). Writes up to 2 instants to out. For a gap, *gap_end is set to
 * the first instant after it (the transition). */
int cron_tz_instants(const char *tz, int64_t local_s, int64_t out[2], int64_t *gap_end);
