/* events.c — Marathon's event bus. */
#include "master/events.h"

#include "common/alloc.h"
#include "master/master_internal.h"

struct events {
        struct master *m;
};

struct events *events_new(struct master *m) {
        struct events *ev = xcalloc(1, sizeof *ev);
        ev->m = m;
        return ev;
}

void events_free(struct events *ev) {
        free(ev);
}

void events_emit(struct events *ev, const char *event_type, json_t *fields) {
        /* No subscribers yet: the SSE endpoint lands with the event stream (issue 4). */
        json_decref(fields);
}
