/* clock.c — the libuv clock of the daemon and the fake clock of the tests (clock.h). */
#include "master/clock.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/timeutil.h"

struct clock_timer {
        struct clock *clock;
        clock_timer_cb cb;
        void *data;
        /* uv clock */
        uv_timer_t h;
        /* fake clock */
        bool active;
        uint64_t due;             /* turn ms */
        uint64_t seq;             /* start order, for ties */
        struct clock_timer *next; /* in fake_clock.timers */
};

void clock_timer_start(struct clock_timer *t, uint64_t after_ms) {
        t->clock->ops->timer_start(t, after_ms);
}
void clock_timer_stop(struct clock_timer *t) {
        t->clock->ops->timer_stop(t);
}
bool clock_timer_active(const struct clock_timer *t) {
        return t->clock->ops->timer_active(t);
}
uint64_t clock_timer_due_in(const struct clock_timer *t) {
        return t->clock->ops->timer_due_in(t);
}
void clock_timer_free(struct clock_timer *t) {
        if (t)
                t->clock->ops->timer_free(t);
}
void clock_timer_start_by(struct clock_timer *t, uint64_t after_ms) {
        if (!clock_timer_active(t) || clock_timer_due_in(t) > after_ms)
                clock_timer_start(t, after_ms);
}

/* --- libuv ------------------------------------------------------------------------------------ */

struct uv_clock {
        struct clock base;
        uv_loop_t *loop;
};

static int64_t uv_now_ms(struct clock *c) {
        return time_now_ms();
}
static uint64_t uv_turn_ms(struct clock *c) {
        return uv_now(((struct uv_clock *)c)->loop);
}
static void uv_fire(uv_timer_t *h) {
        struct clock_timer *t = h->data;
        t->cb(t, t->data);
}
static struct clock_timer *uv_timer_new_(struct clock *c, clock_timer_cb cb, void *data) {
        struct clock_timer *t = xcalloc(1, sizeof *t);
        *t = (struct clock_timer){.clock = c, .cb = cb, .data = data};
        uv_timer_init(((struct uv_clock *)c)->loop, &t->h);
        t->h.data = t;
        return t;
}
static void uv_timer_start_(struct clock_timer *t, uint64_t after_ms) {
        uv_timer_start(&t->h, uv_fire, after_ms, 0);
}
static void uv_timer_stop_(struct clock_timer *t) {
        uv_timer_stop(&t->h);
}
static bool uv_timer_active_(const struct clock_timer *t) {
        return uv_is_active((const uv_handle_t *)&t->h);
}
static uint64_t uv_timer_due_in_(const struct clock_timer *t) {
        return uv_timer_active_(t) ? uv_timer_get_due_in(&t->h) : 0;
}
static void uv_timer_closed(uv_handle_t *h) {
        free(h->data);
}
static void uv_timer_free_(struct clock_timer *t) {
        uv_timer_stop(&t->h);
        uv_close((uv_handle_t *)&t->h, uv_timer_closed);
}

static const struct clock_ops uv_ops = {
        .now_ms = uv_now_ms,
        .turn_ms = uv_turn_ms,
        .timer_new = uv_timer_new_,
        .timer_start = uv_timer_start_,
        .timer_stop = uv_timer_stop_,
        .timer_active = uv_timer_active_,
        .timer_due_in = uv_timer_due_in_,
        .timer_free = uv_timer_free_,
};

struct clock *clock_uv_new(uv_loop_t *loop) {
        struct uv_clock *c = xcalloc(1, sizeof *c);
        c->base.ops = &uv_ops;
        c->loop = loop;
        return &c->base;
}

void clock_uv_free(struct clock *c) {
        free(c);
}

/* --- fake ------------------------------------------------------------------------------------- */

struct fake_clock {
        struct clock base;
        int64_t start_ms;
        uint64_t now; /* turn ms since start */
        uint64_t seq;
        struct clock_timer *timers;
};

static struct fake_clock *fake(struct clock *c) {
        return (struct fake_clock *)c;
}
static int64_t fake_now_ms(struct clock *c) {
        return fake(c)->start_ms + (int64_t)fake(c)->now;
}
static uint64_t fake_turn_ms(struct clock *c) {
        return fake(c)->now;
}
static struct clock_timer *fake_timer_new(struct clock *c, clock_timer_cb cb, void *data) {
        struct clock_timer *t = xcalloc(1, sizeof *t);
        *t = (struct clock_timer){.clock = c, .cb = cb, .data = data, .next = fake(c)->timers};
        fake(c)->timers = t;
        return t;
}
static void fake_timer_start(struct clock_timer *t, uint64_t after_ms) {
        t->active = true;
        t->due = fake(t->clock)->now + after_ms;
        t->seq = ++fake(t->clock)->seq;
}
static void fake_timer_stop(struct clock_timer *t) {
        t->active = false;
}
static bool fake_timer_active(const struct clock_timer *t) {
        return t->active;
}
static uint64_t fake_timer_due_in(const struct clock_timer *t) {
        uint64_t now = fake(t->clock)->now;
        return t->active && t->due > now ? t->due - now : 0;
}
static void fake_timer_free(struct clock_timer *t) {
        struct clock_timer **p = &fake(t->clock)->timers;
        while (*p && *p != t)
                p = &(*p)->next;
        if (*p)
                *p = t->next;
        free(t);
}

static const struct clock_ops fake_ops = {
        .now_ms = fake_now_ms,
        .turn_ms = fake_turn_ms,
        .timer_new = fake_timer_new,
        .timer_start = fake_timer_start,
        .timer_stop = fake_timer_stop,
        .timer_active = fake_timer_active,
        .timer_due_in = fake_timer_due_in,
        .timer_free = fake_timer_free,
};

struct clock *clock_fake_new(int64_t start_ms) {
        struct fake_clock *c = xcalloc(1, sizeof *c);
        c->base.ops = &fake_ops;
        c->start_ms = start_ms;
        return &c->base;
}

void clock_fake_free(struct clock *c) {
        free(c);
}

/* The earliest active timer (ties: started first). */
static struct clock_timer *earliest(struct fake_clock *c) {
        struct clock_timer *best = NULL;
        for (struct clock_timer *t = c->timers; t; t = t->next)
                if (t->active && (!best || t->due < best->due || (t->due == best->due && t->seq < best->seq)))
                        best = t;
        return best;
}

unsigned clock_fake_run(struct clock *c) {
        struct fake_clock *f = fake(c);
        unsigned n = 0;
        struct clock_timer *t;
        while ((t = earliest(f)) && t->due <= f->now) {
                t->active = false;
                t->cb(t, t->data);
                n++;
        }
        return n;
}

bool clock_fake_next(struct clock *c, uint64_t *ret_ms) {
        struct clock_timer *t = earliest(fake(c));
        if (!t)
                return false;
        *ret_ms = t->due > fake(c)->now ? t->due - fake(c)->now : 0;
        return true;
}

void clock_fake_advance(struct clock *c, uint64_t ms) {
        struct fake_clock *f = fake(c);
        uint64_t end = f->now + ms;
        clock_fake_run(c);
        struct clock_timer *t;
        while ((t = earliest(f)) && t->due <= end) {
                f->now = t->due;
                clock_fake_run(c);
        }
        f->now = end;
}

void clock_fake_stall(struct clock *c, uint64_t ms) {
        fake(c)->now += ms;
}
