/* timeutil.h — clocks and Marathon's timestamp format ("2015-09-29T15:59:51.164Z"). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (wall clock). */
int64_t time_now_ms(void);
/* Monotonic nanoseconds, for durations. */
uint64_t time_mono_ns(void);
/* Formats ms since epoch as ISO-8601 UTC with exactly 3 fraction digits and 'Z' into buf (>= 25). */
void time_format_ms(int64_t ms, char buf[static 25]);
/* Parses any ISO-8601 date-time (fraction and offset optional) into ms since epoch.
 * Returns 0 or -EINVAL. */
int time_parse_iso(const char *s, int64_t *ret_ms);
