/* clock.h — the master core's time: the wall clock, the loop's turn time and one-shot timers,
 * behind a function table so the core runs on libuv in the daemon and on a fake in tests.
 *
 * The fake never moves by itself: clock_fake_advance() moves it and fires the timers that fall
 * due, in due order (ties: the order they were started), so a test drives backoffs, heartbeats
 * and timeouts deterministically in microseconds. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct clock;
struct clock_timer;

typedef void (*clock_timer_cb)(struct clock_timer *t, void *data);

struct clock_ops {
        int64_t (*now_ms)(struct clock *c);  /* wall clock, ms since the Unix epoch */
        uint64_t (*turn_ms)(struct clock *c); /* the loop's cached time: the same all through one turn */
        struct clock_timer *(*timer_new)(struct clock *c, clock_timer_cb cb, void *data);
        void (*timer_start)(struct clock_timer *t, uint64_t after_ms); /* restarts an active timer */
        void (*timer_stop)(struct clock_timer *t);
        bool (*timer_active)(const struct clock_timer *t);
        uint64_t (*timer_due_in)(const struct clock_timer *t); /* ms until it fires; 0 when inactive */
        void (*timer_free)(struct clock_timer *t);             /* stops it; NULL is a no-op */
};

struct clock {
        const struct clock_ops *ops;
};

static inline int64_t clock_now_ms(struct clock *c) {
        return c->ops->now_ms(c);
}
static inline uint64_t clock_turn_ms(struct clock *c) {
        return c->ops->turn_ms(c);
}
/* A stopped one-shot timer that calls cb(t, data) when it fires; the caller frees it. */
static inline struct clock_timer *clock_timer_new(struct clock *c, clock_timer_cb cb, void *data) {
        return c->ops->timer_new(c, cb, data);
}
void clock_timer_start(struct clock_timer *t, uint64_t after_ms);
void clock_timer_stop(struct clock_timer *t);
bool clock_timer_active(const struct clock_timer *t);
uint64_t clock_timer_due_in(const struct clock_timer *t);
void clock_timer_free(struct clock_timer *t);
/* Starts t to fire in after_ms unless it is active and fires sooner already. */
void clock_timer_start_by(struct clock_timer *t, uint64_t after_ms);

/* The daemon's clock: time_now_ms(), uv_now(loop) and uv timers (freed in their close callback,
 * so clock_timer_free may be called from anywhere on the loop). Owned by the caller. */
struct clock *clock_uv_new(uv_loop_t *loop);
void clock_uv_free(struct clock *c);

/* A fake clock starting at start_ms (wall) and 0 (turn). */
struct clock *clock_fake_new(int64_t start_ms);
/* Frees the clock; its timers must have been freed. */
void clock_fake_free(struct clock *c);
/* Fires every timer due now (after_ms 0 ones included), repeatedly, until none is. Returns how
 * many fired. */
unsigned clock_fake_run(struct clock *c);
/* Moves time forward by ms, firing timers at their due times on the way. */
void clock_fake_advance(struct clock *c, uint64_t ms);
/* Moves time forward by ms without firing anything: a stalled loop (the overdue timers fire at
 * the next clock_fake_run). */
void clock_fake_stall(struct clock *c, uint64_t ms);
/* ms until the next active timer fires; false when none is active. */
bool clock_fake_next(struct clock *c, uint64_t *ret_ms);
