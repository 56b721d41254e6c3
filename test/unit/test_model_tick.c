/* test_model_tick.c — the tick decision against a brute-force model over every small case, a
 * simulated leader that crashes between decisions, and the restart policy. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/cron.h"
#include "model/tick.h"

/* A schedule that fires every `period` ms from 0 until `last` (inclusive; -1: forever). */
struct every {
        int64_t period, last;
};

static int every_next(const void *p, int64_t after, int64_t *ret) {
        const struct every *e = p;
        int64_t t = after < 0 ? 0 : (after / e->period + 1) * e->period;
        if (e->last >= 0 && t > e->last)
                return -ENOENT;
        *ret = t;
        return 0;
}

static int cron_cb(const void *p, int64_t after, int64_t *ret) {
        int64_t s;
        /* Whole seconds: ticks are minute-aligned, so "after" rounds down safely. */
        if (cron_next(p, "Europe/Berlin", after / 1000, &s, NULL) < 0)
                return -1;
        *ret = s * 1000;
        return 0;
}

static void check_against_model(const struct every *e, int64_t cursor, int64_t now, int64_t deadline, bool forbid,
                                unsigned active, bool enabled) {
        struct tick_input in = { every_next, e, cursor, now, deadline, enabled, forbid, active };
        struct tick_decision d;
        tick_decide(&in, &d);
        /* The model: list the ticks after the cursor explicitly. */
        int64_t ticks[64];
        int n = 0;
        for (int64_t t = 0; t <= now + 10 * e->period && n < 64; t += e->period)
                if (t > cursor && (e->last < 0 || t <= e->last))
                        ticks[n++] = t;
        if (!enabled || n == 0) {
                assert_int_equal(d.action, TICK_NOTHING);
                assert_true(d.wake_ms == INT64_MAX);
                return;
        }
        int64_t first = ticks[0];
        if (first > now) {
                assert_int_equal(d.action, TICK_NOTHING);
                assert_int_equal(d.wake_ms, first);
                return;
        }
        if (now > first + deadline) {
                int k = 0;
                while (k < n && ticks[k] <= now && now > ticks[k] + deadline)
                        k++;
                assert_int_equal(d.action, TICK_SKIP);
                assert_int_equal(d.first_ms, first);
                assert_int_equal(d.tick_ms, ticks[k - 1]);
                assert_int_equal(d.count, k);
                assert_int_equal(d.reason, forbid && active ? TICK_SKIP_CONCURRENCY : TICK_SKIP_DEADLINE);
                return;
        }
        if (forbid && active) {
                assert_int_equal(d.action, TICK_SKIP);
                assert_int_equal(d.count, 1);
                assert_int_equal(d.tick_ms, first);
                assert_int_equal(d.reason, TICK_SKIP_CONCURRENCY);
                return;
        }
        assert_int_equal(d.action, TICK_START);
        assert_int_equal(d.tick_ms, first);
}

static void every_small_case_matches_the_model(void **state) {
        const int64_t deadlines[] = { 0, 5, 10, 25, 1000 };
        const struct every scheds[] = { { 10, -1 }, { 10, 30 }, { 7, -1 }, { 10, 0 } };
        size_t cases = 0;
        for (size_t si = 0; si < sizeof scheds / sizeof scheds[0]; si++)
                for (int64_t cursor = -1; cursor <= 60; cursor++)
                        for (int64_t now = cursor; now <= 80; now++)
                                for (size_t di = 0; di < sizeof deadlines / sizeof deadlines[0]; di++)
                                        for (int f = 0; f < 2; f++)
                                                for (unsigned a = 0; a < 3; a++)
                                                        for (int en = 0; en < 2; en++) {
                                                                check_against_model(&scheds[si], cursor, now, deadlines[di],
                                                                                    f, a, en);
                                                                cases++;
                                                        }
        assert_true(cases > 100000);
}

static void exactly_on_the_tick(void **state) {
        struct every e = { 60000, -1 };
        struct tick_input in = { every_next, &e, 0, 60000, 900000, true, false, 0 };
        struct tick_decision d;
        tick_decide(&in, &d);
        assert_int_equal(d.action, TICK_START); /* due at its own instant */
        assert_int_equal(d.tick_ms, 60000);
        in.now_ms = 59999;
        tick_decide(&in, &d);
        assert_int_equal(d.action, TICK_NOTHING);
        assert_int_equal(d.wake_ms, 60000);
        in.now_ms = 60000 + 900000; /* the deadline's last instant still starts */
        tick_decide(&in, &d);
        assert_int_equal(d.action, TICK_START);
        in.now_ms++;
        tick_decide(&in, &d);
        assert_int_equal(d.action, TICK_SKIP);
        /* …only the tick at 1 min: the one at 2 min is still within its deadline. */
        assert_int_equal(d.count, 1);
        assert_int_equal(d.tick_ms, 60000);
        in.cursor_ms = d.tick_ms;
        tick_decide(&in, &d);
        assert_int_equal(d.action, TICK_START);
        assert_int_equal(d.tick_ms, 120000);
}

static void a_long_outage_is_recorded_in_bounded_records(void **state) {
        struct every e = { 1000, -1 };
        struct tick_input in = { every_next, &e, 0, (int64_t)TICK_MAX_SKIP * 3000, 0, true, false, 0 };
        struct tick_decision d;
        tick_decide(&in, &d);
        assert_int_equal(d.action, TICK_SKIP);
        assert_int_equal(d.count, TICK_MAX_SKIP);
        assert_int_equal(d.first_ms, 1000);
        assert_int_equal(d.tick_ms, (int64_t)TICK_MAX_SKIP * 1000);
}

/* A leader loop that applies decisions to a recorded cursor; it "crashes" (forgets everything
 * but the committed cursor) at random points, and runs at random times. Every tick up to the end
 * must be handled exactly once: started or inside one skip record. */
static void a_crashing_leader_handles_every_tick_once(void **state) {
        struct cron c;
        assert_int_equal(cron_parse("*/5 * * * *", &c, NULL), 0);
        srand(42);
        for (int trial = 0; trial < 50; trial++) {
                int64_t start = 1774746000000; /* 2026-03-29T01:00:00Z: Berlin's DST change inside */
                int64_t cursor = start, now = start, end = start + 6 * 3600000;
                static uint8_t seen[6 * 12 + 2];
                memset(seen, 0, sizeof seen);
                while (now < end) {
                        struct tick_input in = { cron_cb, &c, cursor, now, 120000, true, false, 0 };
                        struct tick_decision d;
                        tick_decide(&in, &d);
                        if (d.action == TICK_NOTHING) {
                                /* Sleep until the wake time, maybe later (a crash and a failover). */
                                now = d.wake_ms + (rand() % 4 == 0 ? rand() % 400000 : rand() % 1000);
                                continue;
                        }
                        if (rand() % 5 == 0)
                                continue; /* crashed before the commit: nothing recorded, decide again */
                        int64_t first = d.action == TICK_START ? d.tick_ms : d.first_ms;
                        for (int64_t t = first; t <= d.tick_ms; t += 300000) {
                                size_t k = (size_t)((t - start) / 300000);
                                assert_true(k < sizeof seen);
                                assert_int_equal(seen[k], 0); /* never twice */
                                seen[k] = d.action == TICK_START ? 1 : 2;
                        }
                        cursor = d.tick_ms; /* committed */
                }
                for (int64_t t = start + 300000; t < end - 800000; t += 300000)
                        assert_int_not_equal(seen[(t - start) / 300000], 0); /* never none */
        }
}

static void restart_policy(void **state) {
        struct tick_run_input in = { .task_finished = true, .created_ms = 1000, .now_ms = 5000 };
        assert_int_equal(tick_run_decide(&in), TICK_RUN_SUCCESS);
        in.task_finished = false;
        assert_int_equal(tick_run_decide(&in), TICK_RUN_FAILED); /* NEVER */
        in.on_failure = true;
        assert_int_equal(tick_run_decide(&in), TICK_RUN_RELAUNCH); /* no deadline: forever */
        in.active_deadline_ms = 4001;
        assert_int_equal(tick_run_decide(&in), TICK_RUN_RELAUNCH);
        in.active_deadline_ms = 4000;
        assert_int_equal(tick_run_decide(&in), TICK_RUN_FAILED); /* at the deadline */
        in.active_deadline_ms = 0;
        in.max_attempts = 3; /* Chronos retries: 2 */
        in.attempts = 2;
        assert_int_equal(tick_run_decide(&in), TICK_RUN_RELAUNCH);
        in.attempts = 3;
        assert_int_equal(tick_run_decide(&in), TICK_RUN_FAILED);
        in.max_attempts = 0;
        in.stopped = true;
        assert_int_equal(tick_run_decide(&in), TICK_RUN_FAILED);
        in.task_finished = true; /* killed by the stop, whatever it reports */
        assert_int_equal(tick_run_decide(&in), TICK_RUN_FAILED);
}

static void names(void **state) {
        assert_string_equal(tick_action_to_string(TICK_SKIP), "skip");
        assert_string_equal(tick_skip_reason_to_string(TICK_SKIP_CONCURRENCY), "concurrency");
        assert_int_equal(tick_skip_reason_from_string("deadline"), TICK_SKIP_DEADLINE);
        assert_int_equal(tick_skip_reason_from_string("x"), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_small_case_matches_the_model),
                cmocka_unit_test(exactly_on_the_tick),
                cmocka_unit_test(a_long_outage_is_recorded_in_bounded_records),
                cmocka_unit_test(a_crashing_leader_handles_every_tick_once),
                cmocka_unit_test(restart_policy),
                cmocka_unit_test(names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
