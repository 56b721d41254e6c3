/* events.h — Marathon's event bus (GET /v2/events, api.md §4): control loops and API handlers
 * emit events; subscribers receive them as Server-Sent Events.
 *
 * Every master emits from its own observers; only the leader serves /v2/events. Emitting never
 * blocks and never grows without bound: a subscriber that falls behind is dropped. */
#pragma once

#include <jansson.h>

struct master;
struct events;

/* Creates the bus of master m (owned by m; freed with events_free). */
struct events *events_new(struct master *m);
/* Closes every subscription and frees the bus. NULL is a no-op. */
void events_free(struct events *ev);

/* Emits one event: `fields` (stolen) gets "eventType" = event_type and a Marathon "timestamp"
 * when absent, and goes to every subscriber whose event_type filter accepts it. */
void events_emit(struct events *ev, const char *event_type, json_t *fields);
