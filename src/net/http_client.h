/* http_client.h — asynchronous HTTP client: libcurl's multi interface on the libuv loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common/err.h"

struct http_client;

struct http_client_response {
        long status;
        const char *body; /* NUL-terminated */
        size_t len;
        const char *headers; /* raw header block, "Name: value\r\n"… */
};

/* Called once per request on the loop: status 0 with resp, or < 0 with err (connect failure,
 * timeout, response over the size limit). resp and its strings live until the callback returns. */
typedef void (*http_client_cb)(void *data, int status, const struct http_client_response *resp, struct err *err);

struct http_client *http_client_new(uv_loop_t *loop);
/* Requests started afterwards skip TLS certificate and host name verification (health checks
 * of tasks, which serve self-signed certificates, like Marathon's and Mesos' checks). */
void http_client_set_insecure(struct http_client *c, bool insecure);
/* Cancels outstanding requests (their callbacks are not called) and frees the client once its
 * handles are closed. */
void http_client_free(struct http_client *c);
/* Starts a request. headers is a NULL-terminated list of "Name: value" strings (may be NULL).
 * The body is copied. timeout_ms 0 means 30 s. Responses larger than 64 MiB fail. */
void http_client_request(struct http_client *c, const char *method, const char *url, const char *const *headers,
                         const char *body, size_t len, long timeout_ms, http_client_cb cb, void *data);
/* Streaming variant: with a 2xx answer, body bytes are handed to on_data as they arrive (return
 * non-zero to abort) and the final callback gets an empty body; other statuses are buffered as
 * usual. timeout_ms < 0 means no overall timeout (event streams). Returns a handle for
 * http_client_cancel, valid until cb has been called. */
struct transfer;
typedef int (*http_client_data_cb)(void *data, const char *chunk, size_t len);
struct transfer *http_client_stream(struct http_client *c, const char *method, const char *url,
                                    const char *const *headers, const char *body, size_t len, long timeout_ms,
                                    http_client_data_cb on_data, http_client_cb cb, void *data);
/* Tunes a transfer just started (before the loop runs again): follow up to 5 redirects (blob
 * downloads from registries backed by object stores), and abort when fewer than 1 byte/s
 * arrive for stall_s seconds (0: no such limit). curl drops our Authorization header when a
 * redirect leads to another host. */
void http_client_transfer_tune(struct transfer *t, bool follow_redirects, long stall_s);
/* Abandons a transfer started by this client; its callback is not called. */
void http_client_cancel(struct http_client *c, struct transfer *t);

/* Looks up a response header (case-insensitive); returns a new string or NULL. */
char *http_client_response_header(const struct http_client_response *resp, const char *name);
