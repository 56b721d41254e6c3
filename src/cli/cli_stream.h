/* cli_stream.h — what `--wait` reads besides plain requests: the master's event stream and a
 * clock, behind a table of functions so that tests can script both.
 *
 * The real table (cli_stream_ops_curl) reads GET /v2/events with libcurl's multi interface
 * driving one easy handle: unlike curl_easy_perform, it can wait for stream bytes for a bounded
 * time, so the CLI polls /v2/deployments between reads without a second thread. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct cli_http;
struct cli_stream;

/* Receives stream bytes as they arrive; a negative return stops the read and is returned. */
typedef int (*cli_stream_bytes_cb)(const char *data, size_t len, void *userdata);

struct cli_stream_ops {
        /* Monotonic milliseconds. */
        int64_t (*now_ms)(void *data);
        /* Sleeps ms milliseconds (the wait's pace when there is no stream). */
        void (*sleep_ms)(void *data, int ms);
        /* Opens GET path (absolute path with query) on h's master with Accept: text/event-stream,
         * following redirects. Returns 0 with *ret once a 2xx answer's headers arrived; else a
         * negative code and err: the master's one-line error (cli_http_error) for a non-2xx answer,
         * or why no answer came. */
        int (*open)(void *data, struct cli_http *h, const char *path, struct cli_stream **ret, struct err *err);
        /* Waits at most timeout_ms for bytes and hands what came to cb. Returns 0 while the stream
         * is open, 1 once the master closed it (after every byte was handed over), or a negative
         * code with err (network error, or cb's return). */
        int (*read)(struct cli_stream *s, int timeout_ms, cli_stream_bytes_cb cb, void *userdata, struct err *err);
        /* Closes and frees s; NULL is a no-op. */
        void (*close)(struct cli_stream *s);
};

/* libcurl and the system's monotonic clock; data is unused. */
extern const struct cli_stream_ops cli_stream_ops_curl;
