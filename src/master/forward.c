/* forward.c — followers relay API calls to the leader (Marathon's standby proxy). */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "master/master_internal.h"

/* Headers passed through in each direction. */
static const char *const request_headers[] = { "Content-Type", "Accept", "Authorization" };
static const char *const response_headers[] = { "Location", "Marathon-Deployment-Id", "X-Marathon-Leader" };

static void forward_done(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct api_call *call = data;
        if (status < 0) {
                api_reply_error(call, 503, "Could not reach the leader: %s", err_msg(err));
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(response_headers); i++) {
                _cleanup_free_ char *v = http_client_response_header(resp, response_headers[i]);
                if (v && !streq(response_headers[i], "X-Marathon-Leader"))
                        http_request_add_header(call->req, response_headers[i], v);
        }
        _cleanup_free_ char *ct = http_client_response_header(resp, "Content-Type");
        /* api_reply_text adds X-Marathon-Leader itself; the body may contain NULs only for
         * binary content, which the API never serves. */
        api_reply_text(call, (int)resp->status, ct ? ct : "application/json", resp->body);
}

void forward_to_leader(struct api_call *call) {
        struct store_status st;
        store_status(call->m->store, &st);
        if (!st.leader_http || st.is_leader || http_request_header(call->req, "X-Marathon-Via")) {
                api_reply_error(call, 503, "Could not determine the current leader: there is no leader");
                return;
        }
        const char *q = http_request_query(call->req);
        _cleanup_free_ char *url = xasprintf("http://%s%s%s%s", st.leader_http, http_request_path(call->req),
                                             *q ? "?" : "", q);
        char *hdrs[ELEMENTSOF(request_headers) + 2] = { 0 };
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(request_headers); i++) {
                const char *v = http_request_header(call->req, request_headers[i]);
                if (v)
                        hdrs[n++] = xasprintf("%s: %s", request_headers[i], v);
        }
        hdrs[n++] = xasprintf("X-Marathon-Via: 1.1 %s", call->m->http_advertised);
        size_t len;
        const char *body = http_request_body(call->req, &len);
        http_client_request(call->m->client, http_request_method(call->req), url, (const char *const *)hdrs, body,
                            len, 10000, forward_done, call);
        for (size_t i = 0; i < n; i++)
                free(hdrs[i]);
}

void redirect_to_leader(struct api_call *call) {
        struct store_status st;
        store_status(call->m->store, &st);
        if (!st.leader_http || st.is_leader) {
                api_reply_error(call, 503, "Could not determine the current leader: there is no leader");
                return;
        }
        /* The path as received (with any DC/OS prefix: the leader serves the same ones). */
        const char *q = http_request_query(call->req);
        _cleanup_free_ char *url = xasprintf("http://%s%s%s%s", st.leader_http, http_request_path(call->req),
                                             *q ? "?" : "", q);
        http_request_add_header(call->req, "Location", url);
        api_reply_error(call, 307, "Only the leader serves this: see %s", url);
}
