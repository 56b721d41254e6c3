/* api_events.c — GET /v2/events: Marathon's Server-Sent Events stream (api.md §4.1). */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "master/master_internal.h"

struct filter_ctx {
        struct event_filter filter;
        int error;
        const char *bad;
};

static void add_type(const char *value, void *data) {
        struct filter_ctx *c = data;
        if (c->error)
                return;
        int r = event_filter_add(&c->filter, value);
        if (r < 0) {
                c->error = r;
                c->bad = value;
        }
}

void api_events(struct api_call *call) {
        /* "Jetty compares header values for exact equality; anything else ⇒ 405." */
        if (!event_accept_ok(http_request_header(call->req, "Accept"))) {
                api_reply_error(call, 405, "GET /v2/events needs the header 'Accept: text/event-stream'");
                return;
        }
        struct filter_ctx c = { 0 };
        http_request_args_foreach(call->req, "event_type", add_type, &c);
        if (c.error == -E2BIG) {
                event_filter_release(&c.filter);
                api_reply_error(call, 400, "At most %d event_type parameters are allowed", EVENT_FILTER_MAX_TYPES);
                return;
        }
        if (c.error < 0) {
                _cleanup_free_ char *bad = xstrndup(c.bad, EVENT_TYPE_MAX_LEN);
                event_filter_release(&c.filter);
                api_reply_error(call, 400, "Invalid event_type '%s': expected an event type such as status_update_event",
                                bad);
                return;
        }
        /* plan-format=light (marathon-lb sends it) is accepted and ignored: events are always light. */
        events_subscribe(call->m->events, call->req, &c.filter);
        api_call_release(call);
}
