/* fuzz_iso8601.c — ISO 8601 repeating intervals arrive in Chronos jobs. Parsing any text must
 * never crash; a schedule that parses must give occurrences that never go backwards. The first
 * byte picks scheduleTimeZone. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/iso8601.h"

static const char *const zones[] = { NULL, "America/New_York", "Europe/Berlin", "Australia/Lord_Howe" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > ISO8601_MAX_LEN + 8)
                return 0;
        char *text = malloc(size);
        memcpy(text, data + 1, size - 1);
        text[size - 1] = 0;
        struct iso8601_schedule s;
        struct err e = { 0 };
        if (iso8601_schedule_parse(text, zones[data[0] % 4], &s, &e) == 0) {
                int64_t from = 1767225600000, at = 0, k = 0, prev = INT64_MIN;
                for (int i = 0; i < 3; i++) {
                        if (iso8601_next(&s, from, &at, &k) < 0)
                                break;
                        if (at < from || at < prev)
                                abort();
                        prev = at;
                        from = at + 1;
                }
        } else if (!e.msg) {
                abort();
        }
        err_release(&e);
        free(text);
        return 0;
}
