/* cli_stream.c — the master's event stream over libcurl's multi interface, and the real clock. */
#include "cli/cli_stream.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_auth.h"
#include "cli/cli_http.h"
#include "common/alloc.h"
#include "common/strbuf.h"
#include "common/timeutil.h"

/* Bytes kept between two reads; the master drops a client that lags far behind anyway. */
#define STREAM_MAX_PENDING (16u << 20)
/* How long open() waits for the answer's headers. */
#define OPEN_TIMEOUT_MS 10000
/* How long open() keeps reading a non-2xx answer to quote its message. */
#define ERROR_BODY_MS 2000

struct cli_stream {
        CURLM *multi;
        CURL *easy;
        struct curl_slist *headers;
        struct strbuf pending; /* received, not yet handed to a reader */
        bool overflow;
        long status;       /* of the latest response in the redirect chain */
        bool headers_done; /* the final (non-redirect) response's headers are complete */
        bool done;         /* the transfer ended */
        CURLcode result;
        char *base;
};

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        struct cli_stream *s = userdata;
        size_t len = size * n;
        if (s->pending.len + len > STREAM_MAX_PENDING) {
                s->overflow = true;
                return 0; /* CURLE_WRITE_ERROR */
        }
        strbuf_append(&s->pending, data, len);
        return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata) {
        struct cli_stream *s = userdata;
        size_t len = size * n;
        if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                const char *sp = memchr(data, ' ', len);
                s->status = sp ? strtol(sp + 1, NULL, 10) : 0;
                s->pending.len = 0; /* a redirect's body is not the stream */
                s->headers_done = false;
        } else if ((len == 2 && data[0] == '\r') || (len == 1 && data[0] == '\n')) {
                /* curl follows 3xx with a Location itself: only the final response counts. */
                s->headers_done = s->status < 300 || s->status > 399;
        }
        return len;
}

static void stream_close(struct cli_stream *s) {
        if (!s)
                return;
        if (s->multi && s->easy)
                curl_multi_remove_handle(s->multi, s->easy);
        if (s->easy)
                curl_easy_cleanup(s->easy);
        if (s->multi)
                curl_multi_cleanup(s->multi);
        curl_slist_free_all(s->headers);
        strbuf_release(&s->pending);
        free(s->base);
        free(s);
}

DEFINE_POINTER_CLEANUP(struct cli_stream, stream_close)

/* Runs the transfer for at most timeout_ms (returns early when bytes arrive or it ends). */
static void pump(struct cli_stream *s, int timeout_ms) {
        int running = 0;
        curl_multi_perform(s->multi, &running);
        if (running && s->pending.len == 0) {
                curl_multi_poll(s->multi, NULL, 0, timeout_ms, NULL);
                curl_multi_perform(s->multi, &running);
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(s->multi, &left)))
                if (msg->msg == CURLMSG_DONE) {
                        s->done = true;
                        s->result = msg->data.result;
                }
}

static int transfer_error(struct cli_stream *s, struct err *err) {
        if (s->overflow)
                return err_set(err, -EFBIG, "event stream from %s: more than %u MiB unread", s->base,
                               STREAM_MAX_PENDING >> 20);
        return err_set(err, -EHOSTUNREACH, "event stream from %s: %s", s->base, curl_easy_strerror(s->result));
}

static int stream_open(void *data, struct cli_http *h, const char *path, struct cli_stream **ret, struct err *err) {
        static bool initialized;
        if (!initialized) {
                curl_global_init(CURL_GLOBAL_DEFAULT);
                initialized = true;
        }
        _cleanup_(stream_closep) struct cli_stream *s = xcalloc(1, sizeof *s);
        s->base = xstrdup(h->base);
        s->multi = curl_multi_init();
        s->easy = curl_easy_init();
        if (!s->multi || !s->easy)
                return err_set(err, -ENOMEM, "cannot initialize libcurl");

        _cleanup_free_ char *url = xasprintf("%s%s", h->base, path);
        /* Marathon answers 405 unless Accept is exactly text/event-stream (api.md §4.1). */
        s->headers = curl_slist_append(s->headers, "Accept: text/event-stream");
        if (cli_auth_header(s->base)) /* cli_auth.h */
                s->headers = curl_slist_append(s->headers, cli_auth_header(s->base));
        curl_easy_setopt(s->easy, CURLOPT_URL, url);
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
        curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "strata-cli/" CLI_VERSION);
        curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(s->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(s->easy, CURLOPT_UNRESTRICTED_AUTH, 1L); /* the token follows the 307 to the leader */
        curl_easy_setopt(s->easy, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
        curl_multi_add_handle(s->multi, s->easy);

        int64_t deadline = time_mono_ns() / 1000000 + OPEN_TIMEOUT_MS;
        while (!s->headers_done && !s->done) {
                int64_t left = deadline - (int64_t)(time_mono_ns() / 1000000);
                if (left <= 0)
                        return err_set(err, -ETIMEDOUT, "event stream from %s: no answer within %d s", s->base,
                                       OPEN_TIMEOUT_MS / 1000);
                pump(s, (int)MIN(left, 200));
        }
        if (s->status < 200 || s->status > 299) {
                if (s->status == 0)
                        return transfer_error(s, err);
                /* Read a little of the error answer, to quote Marathon's message. */
                int64_t stop = time_mono_ns() / 1000000 + ERROR_BODY_MS;
                while (!s->done && (int64_t)(time_mono_ns() / 1000000) < stop)
                        pump(s, 100);
                return cli_http_error(s->status, s->pending.buf, s->pending.len, err);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int stream_read(struct cli_stream *s, int timeout_ms, cli_stream_bytes_cb cb, void *userdata,
                       struct err *err) {
        if (s->pending.len == 0 && !s->done)
                pump(s, timeout_ms);
        if (s->pending.len > 0) {
                /* Hand over a copy: cb may take long, and pump() appends to pending. */
                size_t len = s->pending.len;
                _cleanup_free_ char *bytes = strbuf_steal(&s->pending);
                int r = cb(bytes, len, userdata);
                if (r < 0)
                        return r;
                return 0;
        }
        if (s->done)
                return s->result == CURLE_OK ? 1 : transfer_error(s, err);
        return 0;
}

static int64_t mono_ms(void *data) {
        return (int64_t)(time_mono_ns() / 1000000);
}

static void sleep_ms(void *data, int ms) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

const struct cli_stream_ops cli_stream_ops_curl = {
        .now_ms = mono_ms,
        .sleep_ms = sleep_ms,
        .open = stream_open,
        .read = stream_read,
        .close = stream_close,
};
