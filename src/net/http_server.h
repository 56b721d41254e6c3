/* http_server.h — HTTP server: libmicrohttpd in epoll mode, driven from the libuv loop.
 *
 * MHD never runs its own thread: its epoll fd is watched with uv_poll and MHD_run is called
 * when it is readable or when MHD's timeout expires. A handler may answer at once or later
 * (the connection is suspended meanwhile), so handlers can wait for Raft commits, forwarded
 * requests or long polls without blocking the loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/err.h"

struct http_server;
struct http_request;

/* Called once per complete request (body fully received and within the size limit). The
 * handler must eventually call http_respond exactly once, now or later on the loop. */
typedef void (*http_handler_cb)(struct http_request *req, void *data);

struct http_server_config {
        uv_loop_t *loop;
        const char *addr;       /* "host:port" or ":port" (all interfaces) */
        size_t max_body;        /* larger bodies get 413 without reaching the handler */
        http_handler_cb handler;
        void *data;
};

/* Binds and starts serving. Returns 0 or -errno with err saying which address failed. */
int http_server_new(const struct http_server_config *cfg, struct http_server **ret, struct err *err);
/* Stops listening, closes connections and frees the server once its handles are closed. */
void http_server_free(struct http_server *s);
struct http_metrics;
/* The server's request latency histogram (net/http_metrics.h); borrowed. */
const struct http_metrics *http_server_metrics(const struct http_server *s);
/* The bound port (useful with port 0). */
uint16_t http_server_port(const struct http_server *s);

/* Whether addr ("host:port") can be listened on now: binds and closes a socket the way the HTTP
 * server does (SO_REUSEADDR, never SO_REUSEPORT). For listeners made by other libraries (Raft's),
 * so that an address in use fails with "cannot listen for <what> on <addr>: address already in
 * use" rather than an empty error. Returns 0 or -errno with *err set. */
int net_listen_probe(const char *addr, const char *what, struct err *err);

/* Request accessors; strings are valid until http_respond. */
const char *http_request_method(const struct http_request *r);
/* The path without the query string, percent-decoded by MHD. */
const char *http_request_path(const struct http_request *r);
/* The raw query string (without '?'), "" if none. */
const char *http_request_query(const struct http_request *r);
/* First value of query parameter name, or NULL. Bare "?force" yields "". */
const char *http_request_arg(const struct http_request *r, const char *name);
/* Calls cb for every value of query parameter name (for repeated "embed=…"). */
void http_request_args_foreach(const struct http_request *r, const char *name,
                               void (*cb)(const char *value, void *data), void *data);
/* A request header (case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *r, const char *name);
const char *http_request_body(const struct http_request *r, size_t *len);
/* Peer address as "ip", for logs. */
const char *http_request_peer(const struct http_request *r);
/* Opaque per-request user slot. */
void http_request_set_data(struct http_request *r, void *data);
void *http_request_get_data(const struct http_request *r);

/* Adds a response header (before http_respond). */
void http_request_add_header(struct http_request *r, const char *name, const char *value);
/* Sends the response; takes a copy of body. Safe to call from any loop callback. */
void http_respond(struct http_request *r, int status, const char *content_type, const char *body,
                  size_t len);

/* Streaming responses (agent event streams, /v2/events): chunked, unbounded length.
 * http_respond_stream sends the status line and headers; http_stream_write appends to the
 * body (queued; at most HTTP_STREAM_MAX_BUFFER unsent bytes, beyond which the connection is
 * aborted: returns -ENOBUFS); http_stream_end finishes the body. closed_cb fires exactly once
 * when the connection is gone (client closed it, or after http_stream_end), after which the
 * request must not be touched. A dead peer is noticed on the next write, so streams should
 * carry periodic heartbeats. */
#define HTTP_STREAM_MAX_BUFFER (16u * 1024 * 1024)
typedef void (*http_stream_closed_cb)(struct http_request *r, void *data);
void http_respond_stream(struct http_request *r, int status, const char *content_type,
                         http_stream_closed_cb closed_cb, void *data);
int http_stream_write(struct http_request *r, const void *data, size_t len);
void http_stream_end(struct http_request *r);
/* Closes the connection now, dropping whatever is still queued (a consumer too slow to keep).
 * closed_cb (unless forgotten) fires later, from the loop. */
void http_stream_abort(struct http_request *r);
/* Writes not yet handed to the connection (each http_stream_write* call counts one). */
size_t http_stream_queued(const struct http_request *r);
/* Caps the kernel's send buffer of the request's socket (SO_SNDBUF): a stream to many
 * subscribers bounds what each may hold in the kernel, not only in the queue. */
void http_request_set_send_buffer(struct http_request *r, int bytes);

/* Shared stream data: one immutable, refcounted buffer queued to many streams without a copy
 * per stream (the event bus serializes each event once). */
struct http_chunk;
/* A chunk holding a copy of data, with one reference (the caller's). */
struct http_chunk *http_chunk_new(const void *data, size_t len);
struct http_chunk *http_chunk_ref(struct http_chunk *c);
/* Drops one reference; NULL is a no-op. */
void http_chunk_unref(struct http_chunk *c);
/* Queues c on the stream (the stream takes its own reference). Same bounds and results as
 * http_stream_write. */
int http_stream_write_chunk(struct http_request *r, struct http_chunk *c);
/* Stops closed_cb from firing (the owner is going away first). */
void http_stream_forget(struct http_request *r);
