/* fuzz_cron.c — cron expressions arrive in Metronome schedules. Parsing any text must never
 * crash; an expression that parses must give next fire times that move strictly forward in a
 * zone with DST, or say it never fires. The input's first byte picks the zone. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/cron.h"

static const char *const zones[] = { NULL, "America/New_York", "Europe/Berlin", "Australia/Lord_Howe" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > CRON_MAX_LEN + 8)
                return 0;
        const char *tz = zones[data[0] % 4];
        char *text = malloc(size);
        memcpy(text, data + 1, size - 1);
        text[size - 1] = 0;
        struct cron c;
        struct err e = { 0 };
        if (cron_parse(text, &c, &e) == 0) {
                if (e.msg)
                        abort();
                int64_t t = 1774740000; /* 2026-03-28T23:20:00Z, a day of DST changes */
                for (int i = 0; i < 4; i++) {
                        int64_t next;
                        int r = cron_next(&c, tz, t, &next, &e);
                        if (r < 0)
                                break;
                        if (next <= t || next % 60 != 0)
                                abort();
                        t = next;
                }
        } else if (!e.msg) {
                abort(); /* every failure says why */
        }
        err_release(&e);
        free(text);
        return 0;
}
