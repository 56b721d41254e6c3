/* events.h — Marathon's event bus (GET /v2/events, api.md §4): control loops and API handlers
 * emit events; subscribers receive them as Server-Sent Events.
 *
 * Every master emits from its own observers; only the leader serves /v2/events (a follower
 * redirects, and losing leadership closes every subscription). Emitting never blocks and never
 * grows without bound: each event is serialized and framed once into a buffer shared by every
 * subscriber that wants it, and a subscriber with more than `max_outstanding` events not yet
 * handed to its connection is dropped (connection closed), as Marathon does with
 * --event_stream_max_outstanding_messages. A bare CRLF goes to every subscriber with nothing
 * queued every EVENTS_KEEPALIVE_MS (one timer for all): 2 bytes a second, so an idle stream
 * keeps above the minimum transfer speed HTTP clients enforce (curl --speed-limit 1, 1 byte/s
 * averaged over --speed-time 300 s), which 2 bytes per 10 s fell below. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "master/event_json.h"

struct master;
struct events;
struct http_request;

#define EVENTS_DEFAULT_MAX_OUTSTANDING 1024
#define EVENTS_KEEPALIVE_MS 1000

/* Creates the bus of master m (owned by m; freed with events_free). Subscribers may have at
 * most m->cfg.event_max_outstanding events queued (0 = EVENTS_DEFAULT_MAX_OUTSTANDING). */
struct events *events_new(struct master *m);
/* Closes every subscription and frees the bus (its timer handle closes on the loop). NULL is a
 * no-op. */
void events_free(struct events *ev);

/* Emits one event: `fields` (stolen) gets "eventType" = event_type and a Marathon "timestamp"
 * when absent, and goes to every subscriber whose event_type filter accepts it. */
void events_emit(struct events *ev, const char *event_type, json_t *fields);
/* Would an event of this type reach anyone? Emitters that build costly bodies (one per task
 * status change) ask first. False for a NULL bus. */
bool events_wanted(const struct events *ev, const char *event_type);

/* Makes req a subscriber: answers 200 text/event-stream and keeps the stream open. `filter` is
 * moved into the subscriber (left empty). The subscriber first gets its own
 * event_stream_attached (if its filter accepts it); when it goes, the others get
 * event_stream_detached. */
void events_subscribe(struct events *ev, struct http_request *req, struct event_filter *filter);

/* Leadership changed: a master that stops leading closes every subscription (clients reconnect
 * and are redirected to the new leader). */
void events_leadership(struct events *ev, bool is_leader);

struct events_stats {
        size_t subscribers;
        uint64_t emitted;   /* events framed (emitted with at least one interested subscriber) */
        uint64_t delivered; /* event copies queued to subscribers */
        uint64_t dropped;   /* subscribers dropped for falling behind */
};
void events_get_stats(const struct events *ev, struct events_stats *ret);
