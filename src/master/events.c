/* events.c — Marathon's event bus: subscribers, shared framed events, keep-alives, drops. */
#include "master/events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/list.h"
#include "common/hashmap.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "master/master_internal.h"

/* Kernel send buffer per event stream. Linux grows an unset SO_SNDBUF up to tcp_wmem's max
 * (4 MiB by default): with a thousand subscribers that is gigabytes the outstanding-message
 * bound would not see. 64 KiB holds hundreds of events, plenty for a reader that keeps up. */
#define EVENTS_SNDBUF (64 * 1024)

struct subscriber {
        struct events *ev;
        struct subscriber *prev, *next;
        struct http_request *req;
        struct event_filter filter;
        char remote[64];
};

/* How many subscribers filter on one event type (events_wanted without a scan). */
struct type_count {
        char *type;
        size_t n;
};

struct events {
        struct master *m;
        struct subscriber *subs;
        size_t n_subs;
        size_t n_unfiltered; /* subscribers that want every type */
        struct hashmap types; /* event type -> struct type_count */
        size_t max_outstanding;
        uv_timer_t keepalive;
        struct http_chunk *crlf;
        /* Subscribers that went while an event was being delivered: their event_stream_detached
         * waits until the delivery loop is done (emitting from inside it would recurse). */
        int emitting;
        bool flushing;
        char **detached;
        size_t n_detached;
        struct events_stats stats;
};

static void count_types(struct events *ev, const struct event_filter *f, int delta) {
        if (f->n == 0) {
                ev->n_unfiltered += (size_t)delta;
                return;
        }
        for (size_t i = 0; i < f->n; i++) {
                struct type_count *tc = hashmap_get(&ev->types, f->types[i]);
                if (!tc) {
                        tc = xcalloc(1, sizeof *tc);
                        tc->type = xstrdup(f->types[i]);
                        hashmap_put(&ev->types, tc->type, tc);
                }
                tc->n += (size_t)delta;
                if (tc->n == 0) {
                        hashmap_remove(&ev->types, tc->type);
                        free(tc->type);
                        free(tc);
                }
        }
}

static void unlink_sub(struct subscriber *s) {
        struct events *ev = s->ev;
        LIST_REMOVE(ev->subs, s);
        ev->n_subs--;
        count_types(ev, &s->filter, -1);
}

static void sub_free(struct subscriber *s) {
        event_filter_release(&s->filter);
        free(s);
}

static void flush_detached(struct events *ev);

/* A subscriber is gone: tell the others (now, or after the delivery in progress). */
static void detached(struct events *ev, const char *remote) {
        ev->detached = xrealloc(ev->detached, (ev->n_detached + 1) * sizeof *ev->detached);
        ev->detached[ev->n_detached++] = xstrdup(remote);
        if (!ev->emitting)
                flush_detached(ev);
}

/* Drops a subscriber that fell behind or whose stream failed: closes its connection now. */
static void drop(struct subscriber *s, const char *why, bool abort_conn) {
        struct events *ev = s->ev;
        log_warn("event stream of %s dropped: %s", s->remote, why);
        ev->stats.dropped++;
        unlink_sub(s);
        http_stream_forget(s->req);
        if (abort_conn)
                http_stream_abort(s->req);
        detached(ev, s->remote);
        sub_free(s);
}

/* Queues c to s, or drops s; returns whether it was queued. */
static bool deliver(struct subscriber *s, struct http_chunk *c) {
        struct events *ev = s->ev;
        if (http_stream_queued(s->req) >= ev->max_outstanding) {
                char why[96];
                snprintf(why, sizeof why, "more than %zu events outstanding", ev->max_outstanding);
                drop(s, why, true);
                return false;
        }
        int r = http_stream_write_chunk(s->req, c);
        if (r == -ENOBUFS)
                drop(s, "too much data outstanding", false); /* http_server closed it already */
        else if (r < 0)
                drop(s, "stream already ended", false);
        return r >= 0;
}

static void stream_closed(struct http_request *r, void *data) {
        struct subscriber *s = data;
        struct events *ev = s->ev;
        log_info("event stream of %s closed", s->remote);
        unlink_sub(s);
        detached(ev, s->remote);
        sub_free(s);
}

static void keepalive_cb(uv_timer_t *t) {
        struct events *ev = t->data;
        ev->emitting++;
        for (struct subscriber *s = ev->subs, *next; s; s = next) {
                next = s->next;
                /* Bytes still queued will flow as soon as the client reads: no keep-alive needed,
                 * and none piles up behind a reader that stalls (it counts as outstanding). */
                if (http_stream_queued(s->req) == 0)
                        deliver(s, ev->crlf);
        }
        ev->emitting--;
        flush_detached(ev);
}

struct events *events_new(struct master *m) {
        struct events *ev = xcalloc(1, sizeof *ev);
        ev->m = m;
        ev->max_outstanding = m->cfg.event_max_outstanding ? m->cfg.event_max_outstanding
                                                           : EVENTS_DEFAULT_MAX_OUTSTANDING;
        hashmap_init(&ev->types);
        ev->crlf = http_chunk_new("\r\n", 2);
        uv_timer_init(m->loop, &ev->keepalive);
        ev->keepalive.data = ev;
        uv_timer_start(&ev->keepalive, keepalive_cb, EVENTS_KEEPALIVE_MS, EVENTS_KEEPALIVE_MS);
        return ev;
}

/* Ends every stream gracefully (what is queued is still sent), without detached events. */
static void close_all(struct events *ev) {
        while (ev->subs) {
                struct subscriber *s = ev->subs;
                unlink_sub(s);
                http_stream_forget(s->req);
                http_stream_end(s->req);
                sub_free(s);
        }
}

static void timer_closed(uv_handle_t *h) {
        free(h->data);
}

void events_free(struct events *ev) {
        if (!ev)
                return;
        close_all(ev);
        for (size_t i = 0; i < ev->n_detached; i++)
                free(ev->detached[i]);
        free(ev->detached);
        size_t pos = 0;
        const char *key;
        void *value;
        while (hashmap_next(&ev->types, &pos, &key, &value)) {
                struct type_count *tc = value;
                free(tc->type);
                free(tc);
        }
        hashmap_release(&ev->types);
        http_chunk_unref(ev->crlf);
        uv_close((uv_handle_t *)&ev->keepalive, timer_closed);
}

bool events_wanted(const struct events *ev, const char *event_type) {
        if (!ev || ev->n_subs == 0)
                return false;
        return ev->n_unfiltered > 0 || hashmap_get(&ev->types, event_type) != NULL;
}

/* Frames one event (fields stolen) once, as a chunk every subscriber can share; counts it. */
static struct http_chunk *frame_chunk(struct events *ev, const char *event_type, json_t *fields) {
        size_t len;
        _cleanup_free_ char *frame = event_frame(event_type, fields, time_now_ms(), &len);
        json_decref(fields);
        ev->stats.emitted++;
        return http_chunk_new(frame, len);
}

void events_emit(struct events *ev, const char *event_type, json_t *fields) {
        if (!events_wanted(ev, event_type)) {
                json_decref(fields);
                return;
        }
        struct http_chunk *c = frame_chunk(ev, event_type, fields);
        ev->emitting++;
        for (struct subscriber *s = ev->subs, *next; s; s = next) {
                next = s->next;
                if (event_filter_accepts(&s->filter, event_type) && deliver(s, c))
                        ev->stats.delivered++;
        }
        ev->emitting--;
        http_chunk_unref(c);
        flush_detached(ev);
}

static void flush_detached(struct events *ev) {
        if (ev->emitting || ev->flushing)
                return;
        ev->flushing = true;
        /* Each detached event may drop more subscribers, which append anew: loop until none. */
        while (ev->n_detached > 0) {
                char **list = ev->detached;
                size_t n = ev->n_detached;
                ev->detached = NULL;
                ev->n_detached = 0;
                for (size_t i = 0; i < n; i++) {
                        events_emit(ev, "event_stream_detached", event_stream_peer(list[i]));
                        free(list[i]);
                }
                free(list);
        }
        ev->flushing = false;
}

void events_subscribe(struct events *ev, struct http_request *req, struct event_filter *filter) {
        struct subscriber *s = xcalloc(1, sizeof *s);
        s->ev = ev;
        s->req = req;
        s->filter = *filter;
        *filter = (struct event_filter){ 0 };
        snprintf(s->remote, sizeof s->remote, "%s", http_request_peer(req));
        LIST_PREPEND(ev->subs, s);
        ev->n_subs++;
        count_types(ev, &s->filter, +1);
        http_request_set_send_buffer(req, EVENTS_SNDBUF);
        http_respond_stream(req, 200, "text/event-stream;charset=UTF-8", stream_closed, s);
        log_info("event stream of %s attached (%zu subscribers)", s->remote, ev->n_subs);
        /* Its own event_stream_attached only: broadcasting it would cost N² messages when N
         * clients connect at once (a failover), for an event nobody acts on. */
        if (event_filter_accepts(&s->filter, "event_stream_attached")) {
                struct http_chunk *c = frame_chunk(ev, "event_stream_attached", event_stream_peer(s->remote));
                if (deliver(s, c))
                        ev->stats.delivered++;
                http_chunk_unref(c);
        }
}

void events_leadership(struct events *ev, bool is_leader) {
        if (!ev || is_leader || !ev->subs)
                return;
        log_info("not leading any more: closing %zu event streams", ev->n_subs);
        close_all(ev);
}

void events_get_stats(const struct events *ev, struct events_stats *ret) {
        *ret = ev->stats;
        ret->subscribers = ev->n_subs;
}
