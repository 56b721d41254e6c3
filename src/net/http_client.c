/* http_client.c — curl multi driven by uv_poll/uv_timer (curl's multi-uv pattern). */
#include "net/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/strbuf.h"

#define MAX_RESPONSE (64u * 1024 * 1024)

struct http_client {
        uv_loop_t *loop;
        CURLM *multi;
        uv_timer_t timer;
        uv_timer_t add_timer;       /* adds new transfers outside curl's callbacks */
        struct transfer *transfers; /* in flight, doubly linked */
        bool insecure;              /* no TLS verification (http_client_set_insecure) */
};

struct sock_ctx {
        uv_poll_t poll;
        curl_socket_t fd;
        struct http_client *client;
};

struct transfer {
        struct http_client *client;
        struct transfer *prev, *next;
        CURL *easy;
        struct curl_slist *headers;
        char *body;
        struct strbuf resp, resp_headers;
        bool overflow;
        http_client_cb cb;
        void *data;
        http_client_data_cb on_data; /* streaming: body chunks go here instead of the buffer */
        bool added;                  /* handed to the multi handle */
        long status_seen;
        char errbuf[CURL_ERROR_SIZE];
};

static void transfer_free(struct transfer *t) {
        struct http_client *c = t->client;
        if (t->prev)
                t->prev->next = t->next;
        else
                c->transfers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        if (t->added)
                curl_multi_remove_handle(c->multi, t->easy);
        curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        free(t->body);
        strbuf_release(&t->resp);
        strbuf_release(&t->resp_headers);
        free(t);
}

static void check_done(struct http_client *c) {
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(c->multi, &left))) {
                if (msg->msg != CURLMSG_DONE)
                        continue;
                CURL *easy = msg->easy_handle;
                CURLcode res = msg->data.result;
                struct transfer *t = NULL;
                curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
                struct err e = { 0 };
                if (t->overflow) {
                        err_set(&e, -EFBIG, "response larger than %u bytes", MAX_RESPONSE);
                        t->cb(t->data, e.code, NULL, &e);
                } else if (res != CURLE_OK) {
                        err_set(&e, res == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED, "%s",
                                t->errbuf[0] ? t->errbuf : curl_easy_strerror(res));
                        t->cb(t->data, e.code, NULL, &e);
                } else {
                        struct http_client_response resp = { 0 };
                        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp.status);
                        strbuf_append(&t->resp, "", 0);
                        strbuf_append(&t->resp_headers, "", 0);
                        resp.body = t->resp.buf;
                        resp.len = t->resp.len;
                        resp.headers = t->resp_headers.buf;
                        t->cb(t->data, 0, &resp, NULL);
                }
                err_release(&e);
                transfer_free(t);
        }
}

static void poll_cb(uv_poll_t *h, int status, int events) {
        struct sock_ctx *s = h->data;
        int flags = 0, running;
        if (status < 0)
                flags = CURL_CSELECT_ERR;
        if (events & UV_READABLE)
                flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
                flags |= CURL_CSELECT_OUT;
        struct http_client *c = s->client;
        curl_multi_socket_action(c->multi, s->fd, flags, &running);
        check_done(c);
}

static void timer_cb(uv_timer_t *t) {
        struct http_client *c = t->data;
        int running;
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(c);
}

static int start_timeout(CURLM *multi, long ms, void *userp) {
        struct http_client *c = userp;
        if (ms < 0)
                uv_timer_stop(&c->timer);
        else
                uv_timer_start(&c->timer, timer_cb, (uint64_t)ms, 0);
        return 0;
}

static void sock_close_cb(uv_handle_t *h) {
        free(h->data);
}

static int handle_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp) {
        struct http_client *c = userp;
        struct sock_ctx *s = socketp;
        if (action == CURL_POLL_REMOVE) {
                if (s) {
                        uv_poll_stop(&s->poll);
                        uv_close((uv_handle_t *)&s->poll, sock_close_cb);
                        curl_multi_assign(c->multi, fd, NULL);
                }
                return 0;
        }
        if (!s) {
                s = xcalloc(1, sizeof *s);
                s->fd = fd;
                s->client = c;
                uv_poll_init_socket(c->loop, &s->poll, fd);
                s->poll.data = s;
                curl_multi_assign(c->multi, fd, s);
        }
        int events = 0;
        if (action != CURL_POLL_OUT)
                events |= UV_READABLE;
        if (action != CURL_POLL_IN)
                events |= UV_WRITABLE;
        uv_poll_start(&s->poll, events, poll_cb);
        return 0;
}

static void global_init(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct http_client *http_client_new(uv_loop_t *loop) {
        static uv_once_t once = UV_ONCE_INIT;
        uv_once(&once, global_init);
        struct http_client *c = xcalloc(1, sizeof *c);
        c->loop = loop;
        c->multi = curl_multi_init();
        uv_timer_init(loop, &c->timer);
        c->timer.data = c;
        uv_timer_init(loop, &c->add_timer);
        c->add_timer.data = c;
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, handle_socket);
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, start_timeout);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
        return c;
}

static void add_pending_cb(uv_timer_t *h) {
        struct http_client *c = h->data;
        bool any = false;
        for (struct transfer *t = c->transfers; t; t = t->next)
                if (!t->added) {
                        t->added = true;
                        curl_multi_add_handle(c->multi, t->easy);
                        any = true;
                }
        if (any) {
                int running;
                curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
                check_done(c);
        }
}

static void client_close_cb(uv_handle_t *h) {
        free(h->data);
}

void http_client_free(struct http_client *c) {
        if (!c)
                return;
        /* Abandon transfers still running: their callbacks are not called. */
        while (c->transfers)
                transfer_free(c->transfers);
        curl_multi_cleanup(c->multi);
        /* libuv runs close callbacks last-closed first: the one that frees c must close first */
        uv_close((uv_handle_t *)&c->timer, client_close_cb);
        uv_close((uv_handle_t *)&c->add_timer, NULL);
}

static size_t write_cb(char *ptr, size_t size, size_t n, void *userp) {
        struct transfer *t = userp;
        size_t len = size * n;
        if (t->on_data) {
                long status = 0;
                curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
                if (status >= 200 && status < 300) {
                        /* A non-zero return from the consumer aborts the transfer. */
                        return t->on_data(t->data, ptr, len) == 0 ? len : 0;
                }
        }
        if (t->resp.len + len > MAX_RESPONSE) {
                t->overflow = true;
                return 0;
        }
        strbuf_append(&t->resp, ptr, len);
        return len;
}

static size_t header_cb(char *ptr, size_t size, size_t n, void *userp) {
        struct transfer *t = userp;
        size_t len = size * n;
        if (t->resp_headers.len + len < 1024 * 1024)
                strbuf_append(&t->resp_headers, ptr, len);
        return len;
}

void http_client_set_insecure(struct http_client *c, bool insecure) {
        c->insecure = insecure;
}

void http_client_request(struct http_client *c, const char *method, const char *url, const char *const *headers,
                         const char *body, size_t len, long timeout_ms, http_client_cb cb, void *data) {
        http_client_stream(c, method, url, headers, body, len, timeout_ms, NULL, cb, data);
}

struct transfer *http_client_stream(struct http_client *c, const char *method, const char *url,
                                    const char *const *headers, const char *body, size_t len, long timeout_ms,
                                    http_client_data_cb on_data, http_client_cb cb, void *data) {
        struct transfer *t = xcalloc(1, sizeof *t);
        t->on_data = on_data;
        t->client = c;
        t->cb = cb;
        t->data = data;
        t->easy = curl_easy_init();
        CURL *e = t->easy;
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, t);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        if (timeout_ms >= 0)
                curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
        if (c->insecure) {
                curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if (streq(method, "HEAD"))
                curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        if (body && (len > 0 || !streq(method, "GET"))) {
                t->body = xmalloc(len + 1);
                memcpy(t->body, body, len);
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        }
        t->headers = curl_slist_append(t->headers, "Expect:");
        for (const char *const *h = headers; h && *h; h++)
                t->headers = curl_slist_append(t->headers, *h);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
        t->next = c->transfers;
        if (c->transfers)
                c->transfers->prev = t;
        c->transfers = t;
        /* libcurl refuses multi calls made from inside its own callbacks (a request started from
         * a streamed event, say): add on the next loop turn instead. */
        uv_timer_start(&c->add_timer, add_pending_cb, 0, 0);
        return t;
}

void http_client_transfer_tune(struct transfer *t, bool follow_redirects, long stall_s) {
        if (follow_redirects) {
                curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(t->easy, CURLOPT_MAXREDIRS, 5L);
        }
        if (stall_s > 0) {
                curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
                curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_TIME, stall_s);
        }
}

void http_client_cancel(struct http_client *c, struct transfer *t) {
        for (struct transfer *x = c->transfers; x; x = x->next)
                if (x == t) {
                        transfer_free(t);
                        return;
                }
}

char *http_client_response_header(const struct http_client_response *resp, const char *name) {
        size_t nl = strlen(name);
        for (const char *p = resp->headers; p && *p;) {
                const char *eol = strstr(p, "\r\n");
                if (!eol)
                        eol = p + strlen(p);
                if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
                        const char *v = p + nl + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        return xstrndup(v, (size_t)(eol - v));
                }
                p = *eol ? eol + 2 : eol;
        }
        return NULL;
}
