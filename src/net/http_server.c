/* http_server.c — libmicrohttpd (epoll, no threads) on a libuv loop, with suspend/resume. */
#include "net/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "net/http_metrics.h"
#include "common/strbuf.h"

struct header {
        char *name, *value;
};

struct http_request {
        struct http_server *server;
        struct http_request *prev, *next; /* the server's live requests */
        struct MHD_Connection *conn;
        char *method, *path, *query;
        struct strbuf body;
        bool too_large, dispatched, suspended, answered;
        uint64_t started_ns; /* arrival (monotonic), for the latency histogram */
        char peer[64];
        void *data;
        struct header *headers;
        size_t n_headers;
        int status;
        char *content_type;
        char *resp_body;
        size_t resp_len;
        /* streaming responses: a FIFO of shared chunks not yet handed to MHD */
        bool streaming, stream_ended, stream_aborted;
        struct http_chunk **q; /* ring buffer of q_cap slots */
        size_t q_head, q_len, q_cap;
        size_t q_off;   /* bytes of the head chunk already handed to MHD */
        size_t q_bytes; /* unsent bytes in the queue */
        http_stream_closed_cb closed_cb;
        void *closed_data;
};

struct http_server {
        uv_loop_t *loop;
        struct MHD_Daemon *mhd;
        uv_poll_t poll;
        uv_timer_t timer;
        uv_timer_t kick; /* runs MHD soon after a resume, outside any MHD callback */
        size_t max_body;
        http_handler_cb handler;
        void *data;
        uint16_t port;
        int closing;
        struct http_request *requests; /* live requests, for shutdown */
        struct http_metrics metrics;   /* latency of answered requests (http_metrics.h) */
};

struct http_chunk {
        unsigned refs;
        size_t len;
        char data[];
};

static void server_run(struct http_server *s);

struct http_chunk *http_chunk_new(const void *data, size_t len) {
        struct http_chunk *c = xmalloc(sizeof *c + len);
        c->refs = 1;
        c->len = len;
        memcpy(c->data, data, len);
        return c;
}

struct http_chunk *http_chunk_ref(struct http_chunk *c) {
        c->refs++;
        return c;
}

void http_chunk_unref(struct http_chunk *c) {
        if (c && --c->refs == 0)
                free(c);
}


static void queue_clear(struct http_request *r) {
        for (size_t i = 0; i < r->q_len; i++)
                http_chunk_unref(r->q[(r->q_head + i) % r->q_cap]);
        free(r->q);
        r->q = NULL;
        r->q_head = r->q_len = r->q_cap = r->q_off = r->q_bytes = 0;
}

static void queue_push(struct http_request *r, struct http_chunk *c) {
        if (r->q_len == r->q_cap) {
                size_t cap = r->q_cap ? r->q_cap * 2 : 16;
                struct http_chunk **q = xmalloc(cap * sizeof *q);
                for (size_t i = 0; i < r->q_len; i++)
                        q[i] = r->q[(r->q_head + i) % r->q_cap];
                free(r->q);
                r->q = q;
                r->q_cap = cap;
                r->q_head = 0;
        }
        r->q[(r->q_head + r->q_len) % r->q_cap] = c;
        r->q_len++;
        r->q_bytes += c->len;
}

static void request_free(struct http_request *r) {
        if (!r)
                return;
        if (r->prev)
                r->prev->next = r->next;
        else if (r->server->requests == r)
                r->server->requests = r->next;
        if (r->next)
                r->next->prev = r->prev;
        if (r->closed_cb)
                r->closed_cb(r, r->closed_data);
        queue_clear(r);
        free(r->method);
        free(r->path);
        free(r->query);
        strbuf_release(&r->body);
        for (size_t i = 0; i < r->n_headers; i++) {
                free(r->headers[i].name);
                free(r->headers[i].value);
        }
        free(r->headers);
        free(r->content_type);
        free(r->resp_body);
        free(r);
}

/* Streaming bodies: hand MHD as much of the queue as fits; with nothing queued, suspend the
 * connection until http_stream_write resumes it (returning 0 without suspending would busy-loop). */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
        struct http_request *r = cls;
        if (r->stream_aborted)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        if (r->q_len > 0) {
                size_t n = 0;
                while (r->q_len > 0 && n < max) {
                        struct http_chunk *c = r->q[r->q_head];
                        size_t k = MIN(c->len - r->q_off, max - n);
                        memcpy(buf + n, c->data + r->q_off, k);
                        n += k;
                        r->q_off += k;
                        r->q_bytes -= k;
                        if (r->q_off == c->len) {
                                http_chunk_unref(c);
                                r->q_head = (r->q_head + 1) % r->q_cap;
                                r->q_len--;
                                r->q_off = 0;
                        }
                }
                return (ssize_t)n;
        }
        if (r->stream_ended)
                return MHD_CONTENT_READER_END_OF_STREAM;
        r->suspended = true;
        MHD_suspend_connection(r->conn);
        return 0;
}

static enum MHD_Result queue(struct http_request *r) {
        struct MHD_Response *resp;
        /* MHD allocates (and zeroes) the whole block with the response, for every stream: 64 KiB
         * made 5,000 agent streams cost 320 MiB of master RSS. Larger writes just take more
         * turns of stream_reader. */
        if (r->streaming)
                resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 8 * 1024, stream_reader, r, NULL);
        else
                resp = MHD_create_response_from_buffer(r->resp_len, r->resp_body, MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        if (r->content_type)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
        for (size_t i = 0; i < r->n_headers; i++)
                MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
        enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static void set_response(struct http_request *r, int status, const char *ct, const char *body, size_t len) {
        r->status = status;
        free(r->content_type);
        r->content_type = ct ? xstrdup(ct) : NULL;
        free(r->resp_body);
        r->resp_body = xmalloc(len + 1);
        memcpy(r->resp_body, body, len);
        r->resp_body[len] = 0;
        r->resp_len = len;
        r->answered = true;
}

static void pct_encode(struct strbuf *sb, const char *v) {
        static const char hex[] = "0123456789ABCDEF";
        for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    strchr("-._~/", *p)) {
                        strbuf_append(sb, p, 1);
                } else {
                        char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
                        strbuf_append(sb, e, 3);
                }
        }
}

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        struct strbuf *sb = cls;
        if (sb->len)
                strbuf_puts(sb, "&");
        pct_encode(sb, key);
        if (value) {
                strbuf_puts(sb, "=");
                pct_encode(sb, value);
        }
        return MHD_YES;
}

/* MHD hands us the decoded path and parsed arguments; re-encode the query for forwarding. */
static void build_query(struct http_request *r) {
        struct strbuf sb = { 0 };
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_iter, &sb);
        r->query = strbuf_steal(&sb);
}

/* libmicrohttpd's own messages ("Error accepting connection…") go through our log, in its
 * format, instead of straight to stderr. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                msg[--n] = 0;
        log_warn("http: %s", msg);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls) {
        struct http_server *s = cls;
        struct http_request *r = *con_cls;

        if (!r) {
                r = xcalloc(1, sizeof *r);
                r->server = s;
                r->conn = conn;
                r->next = s->requests;
                if (s->requests)
                        s->requests->prev = r;
                s->requests = r;
                r->method = xstrdup(method);
                r->path = xstrdup(url);
                r->started_ns = time_mono_ns();
                build_query(r);
                const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
                if (ci && ci->client_addr) {
                        const struct sockaddr *sa = ci->client_addr;
                        if (sa->sa_family == AF_INET)
                                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->peer, sizeof r->peer);
                        else if (sa->sa_family == AF_INET6)
                                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->peer, sizeof r->peer);
                }
                *con_cls = r;
                const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                if (cl && strtoull(cl, NULL, 10) > s->max_body)
                        r->too_large = true;
                return MHD_YES;
        }
        if (*upload_size > 0) {
                if (!r->too_large && r->body.len + *upload_size > s->max_body)
                        r->too_large = true;
                if (!r->too_large)
                        strbuf_append(&r->body, upload, *upload_size);
                *upload_size = 0;
                return MHD_YES;
        }
        if (r->answered)
                return queue(r);
        if (r->dispatched)
                return MHD_YES; /* resumed spuriously; keep waiting */
        r->dispatched = true;
        if (r->too_large) {
                char msg[128];
                int n = snprintf(msg, sizeof msg, "{\"message\":\"Request body is larger than %zu bytes\"}", s->max_body);
                set_response(r, 413, "application/json", msg, (size_t)n);
                return queue(r);
        }
        if (!r->body.buf)
                strbuf_append(&r->body, "", 0);
        /* Every answer names its request; what the handler logs carries the same id. */
        char rid[64];
        log_request_id(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id"), rid);
        http_request_add_header(r, "X-Request-Id", rid);
        log_request(rid);
        log_debug("%s %s from %s", r->method, r->path, r->peer[0] ? r->peer : "?");
        s->handler(r, s->data);
        log_request(NULL);
        if (r->answered)
                return queue(r);
        r->suspended = true;
        MHD_suspend_connection(conn);
        return MHD_YES;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
        struct http_request *r = *con_cls;
        if (r && r->answered && !r->streaming)
                http_metrics_observe(&((struct http_server *)cls)->metrics, r->method, r->status,
                                     (double)(time_mono_ns() - r->started_ns) / 1e9);
        request_free(*con_cls);
        *con_cls = NULL;
}

static void poll_cb(uv_poll_t *h, int status, int events) {
        server_run(h->data);
}

static void timer_cb(uv_timer_t *t) {
        server_run(t->data);
}

static void server_run(struct http_server *s) {
        if (s->closing)
                return;
        MHD_run(s->mhd);
        MHD_UNSIGNED_LONG_LONG to;
        if (MHD_get_timeout(s->mhd, &to) == MHD_YES)
                uv_timer_start(&s->timer, timer_cb, to, 0);
        else
                uv_timer_stop(&s->timer);
}

void http_respond(struct http_request *r, int status, const char *content_type, const char *body, size_t len) {
        set_response(r, status, content_type, body ? body : "", body ? len : 0);
        if (r->suspended) {
                r->suspended = false;
                MHD_resume_connection(r->conn);
                uv_timer_start(&r->server->kick, timer_cb, 0, 0);
        }
}

void http_respond_stream(struct http_request *r, int status, const char *content_type,
                         http_stream_closed_cb closed_cb, void *data) {
        r->streaming = true;
        r->closed_cb = closed_cb;
        r->closed_data = data;
        http_respond(r, status, content_type, "", 0);
}

static void wake(struct http_request *r) {
        if (r->suspended) {
                r->suspended = false;
                MHD_resume_connection(r->conn);
                uv_timer_start(&r->server->kick, timer_cb, 0, 0);
        }
}

int http_stream_write_chunk(struct http_request *r, struct http_chunk *c) {
        if (r->stream_ended)
                return -EPIPE;
        if (r->q_bytes + c->len > HTTP_STREAM_MAX_BUFFER) {
                /* A consumer this slow is gone or broken: close rather than grow. */
                http_stream_abort(r);
                return -ENOBUFS;
        }
        queue_push(r, http_chunk_ref(c));
        wake(r);
        return 0;
}

int http_stream_write(struct http_request *r, const void *data, size_t len) {
        struct http_chunk *c = http_chunk_new(data, len);
        int ret = http_stream_write_chunk(r, c);
        http_chunk_unref(c);
        return ret;
}

size_t http_stream_queued(const struct http_request *r) {
        return r->q_len;
}

void http_stream_abort(struct http_request *r) {
        if (r->stream_aborted)
                return;
        r->stream_ended = r->stream_aborted = true;
        queue_clear(r);
        /* MHD has no call to close a connection it is not reading or writing: shut the socket
         * down so its next send fails (or the reader is asked again and says error), and MHD
         * closes it and calls closed_cb. */
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci)
                shutdown(ci->connect_fd, SHUT_RDWR);
        wake(r);
}

void http_request_set_send_buffer(struct http_request *r, int bytes) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci)
                setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

void http_stream_end(struct http_request *r) {
        r->stream_ended = true;
        wake(r);
}

void http_stream_forget(struct http_request *r) {
        r->closed_cb = NULL;
        r->closed_data = NULL;
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss, struct err *err) {
        _cleanup_free_ char *host = NULL;
        const char *colon = strrchr(addr, ':');
        if (!colon)
                return err_set(err, -EINVAL, "address '%s' has no port", addr);
        host = xstrndup(addr, (size_t)(colon - addr));
        if (host[0] == '[') {
                memmove(host, host + 1, strlen(host));
                char *e = strchr(host, ']');
                if (e)
                        *e = 0;
        }
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end || port < 0 || port > 65535)
                return err_set(err, -EINVAL, "address '%s' has a bad port", addr);
        memset(ss, 0, sizeof *ss);
        if (!host[0] || streq(host, "0.0.0.0") || streq(host, "*")) {
                struct sockaddr_in *in = (struct sockaddr_in *)ss;
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t)port);
                in->sin_addr.s_addr = htonl(INADDR_ANY);
                return 0;
        }
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
        int r = getaddrinfo(host, NULL, &hints, &res);
        if (r != 0 || !res)
                return err_set(err, -EINVAL, "cannot resolve '%s': %s", host, gai_strerror(r));
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        freeaddrinfo(res);
        if (ss->ss_family == AF_INET)
                ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        else
                ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        return 0;
}

/* The listening socket, made here rather than by MHD so that an address in use is a clear error.
 * SO_REUSEADDR only (a restarted master rebinds past TIME_WAIT); never SO_REUSEPORT, which let a
 * second master share the port with the first and answer every other request. */
static int listen_socket(const struct sockaddr_storage *ss, const char *addr, const char *what, struct err *err) {
        int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return err_set(err, -errno, "cannot listen for %s on %s: %s", what, addr, strerror(errno));
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ss->ss_family == AF_INET6)
                (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 1024) < 0) {
                int e = errno;
                close(fd);
                if (e == EADDRINUSE)
                        return err_set(err, -e,
                                       "cannot listen for %s on %s: address already in use (is another strata "
                                       "process running there?)",
                                       what, addr);
                return err_set(err, -e, "cannot listen for %s on %s: %s", what, addr, strerror(e));
        }
        return fd;
}

int net_listen_probe(const char *addr, const char *what, struct err *err) {
        struct sockaddr_storage ss;
        int r = parse_addr(addr, &ss, err);
        if (r < 0)
                return r;
        int fd = listen_socket(&ss, addr, what, err);
        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

int http_server_new(const struct http_server_config *cfg, struct http_server **ret, struct err *err) {
        struct sockaddr_storage ss;
        int r = parse_addr(cfg->addr, &ss, err);
        if (r < 0)
                return r;
        struct http_server *s = xcalloc(1, sizeof *s);
        s->loop = cfg->loop;
        s->max_body = cfg->max_body ? cfg->max_body : 1024 * 1024;
        s->handler = cfg->handler;
        s->data = cfg->data;
        unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TCP_FASTOPEN;
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        int fd = listen_socket(&ss, cfg->addr, "HTTP", err);
        if (fd < 0) {
                free(s);
                return fd;
        }
        s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s,
                                  MHD_OPTION_LISTEN_SOCKET, fd,
                                  MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned)8192,
                                  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                  MHD_OPTION_END);
        if (!s->mhd) {
                close(fd);
                free(s);
                return err_set(err, -EIO, "cannot serve HTTP on %s", cfg->addr);
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        struct sockaddr_storage bound;
        socklen_t blen = sizeof bound;
        s->port = 0; /* the port actually bound (the caller may have asked for :0) */
        if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
                s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                            : ((struct sockaddr_in *)&bound)->sin_port);
        uv_poll_init(s->loop, &s->poll, di->epoll_fd);
        s->poll.data = s;
        uv_timer_init(s->loop, &s->timer);
        s->timer.data = s;
        uv_timer_init(s->loop, &s->kick);
        s->kick.data = s;
        uv_poll_start(&s->poll, UV_READABLE, poll_cb);
        server_run(s);
        *ret = s;
        return 0;
}

static void close_cb(uv_handle_t *h) {
        struct http_server *s = h->data;
        if (--s->closing == 0)
                free(s);
}

void http_server_free(struct http_server *s) {
        if (!s)
                return;
        /* MHD refuses to stop with suspended connections (open streams, answers still being
         * computed): answer and resume them first. */
        for (struct http_request *r = s->requests; r; r = r->next) {
                if (!r->suspended)
                        continue;
                if (r->streaming) {
                        r->stream_ended = true;
                        queue_clear(r); /* shutting down: nobody waits for the rest */
                } else if (!r->answered) {
                        static const char body[] = "{\"message\":\"Shutting down\"}";
                        set_response(r, 503, "application/json", body, sizeof body - 1);
                }
                r->suspended = false;
                MHD_resume_connection(r->conn);
        }
        MHD_stop_daemon(s->mhd);
        s->closing = 3;
        uv_close((uv_handle_t *)&s->poll, close_cb);
        uv_close((uv_handle_t *)&s->timer, close_cb);
        uv_close((uv_handle_t *)&s->kick, close_cb);
}

uint16_t http_server_port(const struct http_server *s) {
        return s->port;
}

const char *http_request_method(const struct http_request *r) {
        return r->method;
}
const char *http_request_path(const struct http_request *r) {
        return r->path;
}
const char *http_request_query(const struct http_request *r) {
        return r->query;
}

const char *http_request_arg(const struct http_request *r, const char *name) {
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct args_ctx {
        const char *name;
        void (*cb)(const char *value, void *data);
        void *data;
};

static enum MHD_Result args_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        struct args_ctx *c = cls;
        if (key && streq(key, c->name))
                c->cb(value ? value : "", c->data);
        return MHD_YES;
}

void http_request_args_foreach(const struct http_request *r, const char *name,
                               void (*cb)(const char *value, void *data), void *data) {
        struct args_ctx c = { name, cb, data };
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, args_iter, &c);
}

const char *http_request_header(const struct http_request *r, const char *name) {
        return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_request_body(const struct http_request *r, size_t *len) {
        if (len)
                *len = r->body.len;
        return r->body.buf ? r->body.buf : "";
}

const char *http_request_peer(const struct http_request *r) {
        return r->peer;
}

void http_request_set_data(struct http_request *r, void *data) {
        r->data = data;
}
void *http_request_get_data(const struct http_request *r) {
        return r->data;
}

void http_request_add_header(struct http_request *r, const char *name, const char *value) {
        r->headers = xrealloc(r->headers, (r->n_headers + 1) * sizeof *r->headers);
        r->headers[r->n_headers++] = (struct header){ xstrdup(name), xstrdup(value) };
}

const struct http_metrics *http_server_metrics(const struct http_server *s) {
        return &s->metrics;
}
