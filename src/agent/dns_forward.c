/* dns_forward.c — forwarding to upstream resolvers over UDP, on the loop. */
#include "agent/dns_forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "common/util.h"

struct fwd {
        struct dns_forwarder *f;
        uv_timer_t timer;
        uint8_t *query;
        size_t len;
        uint16_t id, client_id;
        size_t upstream, tries;
        int64_t started_us;
        dns_forward_cb cb;
        void *data;
};

struct dns_forwarder {
        uv_udp_t sock;
        struct sockaddr_in up[DNS_FORWARD_MAX_UPSTREAMS];
        size_t n_up;
        unsigned timeout_ms;
        struct fwd *pending[65536]; /* by the id we sent */
        size_t n_pending;
        uint8_t buf[65536];
        struct dns_forward_stats st;
        bool closing;
};

static int64_t now_us(void) {
        return (int64_t)(uv_hrtime() / 1000);
}

static uint16_t fresh_id(struct dns_forwarder *f) {
        for (;;) {
                uint16_t id;
                if (getrandom(&id, sizeof id, 0) != sizeof id)
                        id = (uint16_t)(uv_hrtime() ^ (uv_hrtime() >> 16));
                if (!f->pending[id])
                        return id;
        }
}

static void fwd_closed(uv_handle_t *h) {
        struct fwd *w = h->data;
        free(w->query);
        free(w);
}

/* Ends a query: the callback, then the timer closes and frees it. */
static void finish(struct fwd *w, const uint8_t *reply, size_t n) {
        struct dns_forwarder *f = w->f;
        if (f->pending[w->id] == w) {
                f->pending[w->id] = NULL;
                f->n_pending--;
        }
        uv_timer_stop(&w->timer);
        dns_forward_cb cb = w->cb;
        w->cb = NULL;
        if (cb)
                cb(w->data, reply, n);
        uv_close((uv_handle_t *)&w->timer, fwd_closed);
}

static bool try_send(struct fwd *w) {
        struct dns_forwarder *f = w->f;
        uv_buf_t b = uv_buf_init((char *)w->query, (unsigned)w->len);
        for (; w->tries < f->n_up; w->tries++) {
                w->upstream = w->tries;
                int r = uv_udp_try_send(&f->sock, &b, 1, (const struct sockaddr *)&f->up[w->upstream]);
                if (r >= 0) {
                        w->tries++;
                        f->st.sent++;
                        return true;
                }
        }
        return false;
}

static void timeout_cb(uv_timer_t *t) {
        struct fwd *w = t->data;
        w->f->st.timeouts++;
        if (try_send(w)) {
                uv_timer_start(&w->timer, timeout_cb, w->f->timeout_ms, 0);
                return;
        }
        w->f->st.failed++;
        finish(w, NULL, 0);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
        struct dns_forwarder *f = h->data;
        *buf = uv_buf_init((char *)f->buf, sizeof f->buf);
}

static void recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags) {
        struct dns_forwarder *f = h->data;
        if (nread < LDNS_HEADER_SIZE || !addr || addr->sa_family != AF_INET)
                return;
        uint8_t *wire = (uint8_t *)buf->base;
        if (!LDNS_QR_WIRE(wire))
                return;
        struct fwd *w = f->pending[LDNS_ID_WIRE(wire)];
        const struct sockaddr_in *from = (const struct sockaddr_in *)addr;
        /* only the upstream we asked, on the port we asked (spoofed replies need both and the id) */
        if (!w || from->sin_addr.s_addr != f->up[w->upstream].sin_addr.s_addr ||
            from->sin_port != f->up[w->upstream].sin_port)
                return;
        LDNS_ID_SET(wire, w->client_id);
        f->st.answered++;
        f->st.latency_us_sum += (uint64_t)(now_us() - w->started_us);
        finish(w, wire, (size_t)nread);
}

static void sock_closed(uv_handle_t *h) {
        free(h->data);
}

static int parse_upstream(const char *s, struct sockaddr_in *sa) {
        char host[64];
        unsigned port = 53;
        const char *colon = strchr(s, ':');
        size_t hl = colon ? (size_t)(colon - s) : strlen(s);
        if (hl == 0 || hl >= sizeof host)
                return -EINVAL;
        memcpy(host, s, hl);
        host[hl] = '\0';
        if (colon) {
                char *end;
                unsigned long p = strtoul(colon + 1, &end, 10);
                if (*end || p == 0 || p > 65535)
                        return -EINVAL;
                port = (unsigned)p;
        }
        return uv_ip4_addr(host, (int)port, sa) == 0 ? 0 : -EINVAL;
}

int dns_forwarder_new(uv_loop_t *loop, char **upstreams, unsigned timeout_ms, struct dns_forwarder **ret,
                      struct err *err) {
        struct dns_forwarder *f = xcalloc(1, sizeof *f);
        f->timeout_ms = timeout_ms ? timeout_ms : 2000;
        for (size_t i = 0; upstreams && upstreams[i]; i++) {
                if (f->n_up == DNS_FORWARD_MAX_UPSTREAMS)
                        break;
                if (parse_upstream(upstreams[i], &f->up[f->n_up]) < 0) {
                        free(f);
                        return err_set(err, -EINVAL, "DNS upstream '%s' is not an IPv4 address[:port]", upstreams[i]);
                }
                f->n_up++;
        }
        uv_udp_init(loop, &f->sock);
        f->sock.data = f;
        struct sockaddr_in any;
        uv_ip4_addr("0.0.0.0", 0, &any);
        int r = uv_udp_bind(&f->sock, (const struct sockaddr *)&any, 0);
        if (r == 0)
                r = uv_udp_recv_start(&f->sock, alloc_cb, recv_cb);
        if (r < 0) {
                uv_close((uv_handle_t *)&f->sock, sock_closed);
                return err_set(err, r, "cannot open the DNS forwarding socket: %s", uv_strerror(r));
        }
        *ret = f;
        return 0;
}

bool dns_forwarder_send(struct dns_forwarder *f, const uint8_t *query, size_t n, dns_forward_cb cb, void *data) {
        if (f->n_up == 0 || f->n_pending >= DNS_FORWARD_MAX_PENDING || n < LDNS_HEADER_SIZE || f->closing)
                return false;
        struct fwd *w = xcalloc(1, sizeof *w);
        w->f = f;
        w->query = xmalloc(n);
        memcpy(w->query, query, n);
        w->len = n;
        w->client_id = LDNS_ID_WIRE(query);
        w->id = fresh_id(f);
        LDNS_ID_SET(w->query, w->id);
        w->cb = cb;
        w->data = data;
        w->started_us = now_us();
        uv_timer_init(f->sock.loop, &w->timer);
        w->timer.data = w;
        f->pending[w->id] = w;
        f->n_pending++;
        /* even a send that fails at once reports through the timer, never from inside this call */
        uv_timer_start(&w->timer, timeout_cb, try_send(w) ? f->timeout_ms : 0, 0);
        return true;
}

void dns_forwarder_cancel(struct dns_forwarder *f, void *data) {
        for (size_t i = 0; i < 65536 && f->n_pending > 0; i++) {
                struct fwd *w = f->pending[i];
                if (w && w->data == data)
                        finish(w, NULL, 0);
        }
}

void dns_forwarder_free(struct dns_forwarder *f) {
        if (!f)
                return;
        f->closing = true;
        for (size_t i = 0; i < 65536 && f->n_pending > 0; i++)
                if (f->pending[i])
                        finish(f->pending[i], NULL, 0);
        uv_close((uv_handle_t *)&f->sock, sock_closed);
}

size_t dns_forwarder_upstreams(const struct dns_forwarder *f, char out[][24], size_t max) {
        size_t n = 0;
        for (; n < f->n_up && n < max; n++) {
                char ip[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &f->up[n].sin_addr, ip, sizeof ip);
                snprintf(out[n], 24, "%s:%u", ip, ntohs(f->up[n].sin_port));
        }
        return n;
}

char **dns_resolv_conf_upstreams(const char *path, uint32_t skip_ip, uint16_t our_port, size_t max) {
        char **list = xcalloc(max + 1, sizeof *list);
        size_t n = 0;
        FILE *fp = fopen(path, "re");
        char line[512];
        while (fp && n < max && fgets(line, sizeof line, fp)) {
                char ip[64];
                struct in_addr a;
                if (sscanf(line, " nameserver %63s", ip) != 1 || inet_pton(AF_INET, ip, &a) != 1)
                        continue;
                /* ourselves (a host whose resolv.conf names this server) would loop */
                bool self = our_port == 53 && (a.s_addr == skip_ip || (skip_ip == 0 && (ntohl(a.s_addr) >> 24) == 127));
                if (!self)
                        list[n++] = xstrdup(ip);
        }
        if (fp)
                fclose(fp);
        return list;
}

void dns_forwarder_stats(const struct dns_forwarder *f, struct dns_forward_stats *ret) {
        *ret = f->st;
}
