/* api_agents.c — the agent protocol over HTTP: a subscription is a chunked
 * application/recordio response kept open as the agent's event stream; status updates are
 * POSTs answered with the uuids acknowledged (master/agent_link.h does the protocol). */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "master/master_internal.h"

/* One agent's HTTP event stream (struct agent_stream's impl). */
struct http_agent_stream {
        struct agent_link *link;
        struct http_request *req;
        char agent_id[];
};

static int stream_write(void *impl, const char *head, size_t head_len, const char *body, size_t body_len) {
        struct http_agent_stream *s = impl;
        if (http_stream_write(s->req, head, head_len) < 0 || http_stream_write(s->req, body, body_len) < 0)
                return -EPIPE;
        return 0;
}

static void stream_end(void *impl) {
        struct http_agent_stream *s = impl;
        http_stream_forget(s->req);
        http_stream_end(s->req);
        free(s);
}

static void stream_closed(struct http_request *r, void *data) {
        struct http_agent_stream *s = data;
        agent_link_stream_closed(s->link, s->agent_id, s);
        free(s);
}

static const struct agent_stream_ops http_stream_ops = {.write = stream_write, .end = stream_end};

static struct agent_stream subscribed(void *data, int status, struct err *err, const char *agent_id) {
        struct api_call *call = data;
        if (status < 0) {
                api_reply_err(call, err);
                return (struct agent_stream){0};
        }
        size_t n = strlen(agent_id) + 1;
        struct http_agent_stream *s = xmalloc(sizeof *s + n);
        s->link = &call->m->core.agents;
        s->req = call->req;
        memcpy(s->agent_id, agent_id, n);
        http_respond_stream(call->req, 200, "application/recordio", stream_closed, s);
        api_call_release(call);
        return (struct agent_stream){&http_stream_ops, s};
}

void api_agents_subscribe(struct api_call *call) {
        struct err err = {0};
        if (agent_link_subscribe(&call->m->core.agents, call->body, subscribed, call, &err) < 0)
                api_reply_err(call, &err);
        err_release(&err);
}

static void updates_done(void *data, int status, json_t *acknowledged, struct err *err) {
        struct api_call *call = data;
        if (status < 0)
                api_reply_err(call, err);
        else
                api_reply_json(call, 200, json_pack("{s:O}", "acknowledged", acknowledged));
}

void api_agents_updates(struct api_call *call) {
        /* call->id is "/<agent id>/updates" parsed by the router's MATCH_APP_SUB as id + sub. */
        struct err err = {0};
        if (agent_link_updates(&call->m->core.agents, call->id + 1, call->body, updates_done, call, &err) < 0)
                api_reply_err(call, &err);
        err_release(&err);
}
