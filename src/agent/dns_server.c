/* dns_server.c — UDP and TCP DNS on the agent's loop, answering from the zone or forwarding. */
#include "agent/dns_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/dns_answer.h"
#include "agent/dns_cache.h"
#include "agent/dns_forward.h"
#include "common/alloc.h"
#include "common/list.h"
#include "common/log.h"
#include "common/util.h"

#define MAX_TCP_CONNS 256
#define TCP_IDLE_MS 10000

struct dns_server {
        uv_loop_t *loop;
        uv_udp_t udp;
        uv_tcp_t tcp;
        struct dns_forwarder *fwd;
        struct dns_cache *cache;
        struct dns_zone zone;
        struct dns_counters c;
        char *addr, *reachable;
        char *upstreams_text;
        uint32_t rng;
        size_t open_handles, n_conns;
        struct tcp_conn *conns; /* open TCP clients */
        struct hashmap hosts;   /* agent host name → struct host_ip: what getaddrinfo said */
        bool closing;
        /* libuv reads up to 16 datagrams per recvmmsg(2) into 64 KiB chunks of this */
        uint8_t rbuf[16 * 65536];
};

struct tcp_conn {
        struct tcp_conn *next, *prev;
        uv_tcp_t h;
        uv_timer_t idle;
        struct dns_server *s;
        uint8_t *buf;
        size_t len;
        size_t pending; /* forwarded queries in flight */
        int handles;    /* open: 2 (tcp, timer) */
        bool closed;
};

/* A forwarded query: where its reply goes. */
struct client {
        struct dns_server *s;
        struct tcp_conn *conn; /* NULL: UDP */
        struct sockaddr_storage addr;
        uint8_t *query;
        size_t len;
};

/* Mesos-DNS resolves an agent's host when it is not an address (hostToIPs); so does the agent,
 * asynchronously (uv_getaddrinfo on the thread pool), once per name; a name that fails is tried
 * again with a later view event, at most every 30 s. */
struct host_ip {
        char *host;
        uint32_t ip; /* 0: unknown */
        bool pending;
        uint64_t tried_ms;
};

static size_t qtype_index(uint16_t t) {
        switch (t) {
        case LDNS_RR_TYPE_A: return 0;
        case LDNS_RR_TYPE_AAAA: return 1;
        case LDNS_RR_TYPE_SRV: return 2;
        case LDNS_RR_TYPE_SOA: return 3;
        case LDNS_RR_TYPE_NS: return 4;
        case LDNS_RR_TYPE_ANY: return 5;
        case LDNS_RR_TYPE_PTR: return 6;
        default: return 7;
        }
}

static void count_rcode(struct dns_server *s, int rcode) {
        static const int map[] = { LDNS_RCODE_NOERROR, LDNS_RCODE_FORMERR, LDNS_RCODE_SERVFAIL,
                                   LDNS_RCODE_NXDOMAIN, LDNS_RCODE_NOTIMPL, LDNS_RCODE_REFUSED };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (map[i] == rcode)
                        s->c.by_rcode[i]++;
}

/* Frees the server once its handles and every TCP client are closed. */
static void server_maybe_free(struct dns_server *s) {
        if (s->open_handles > 0 || s->n_conns > 0 || !s->closing)
                return;
        dns_zone_release(&s->zone);
        dns_cache_free(s->cache);
        size_t pos = 0;
        void *v;
        while (hashmap_next(&s->hosts, &pos, NULL, &v)) {
                struct host_ip *h = v;
                free(h->host);
                free(h);
        }
        hashmap_release(&s->hosts);
        free(s->addr);
        free(s->reachable);
        free(s->upstreams_text);
        free(s);
}

static void server_handle_closed(uv_handle_t *h) {
        struct dns_server *s = h->data;
        s->open_handles--;
        server_maybe_free(s);
}

/* --- sending --------------------------------------------------------------------------------- */

struct udp_send {
        uv_udp_send_t req;
        uint8_t *data;
};

static void udp_sent(uv_udp_send_t *req, int status) {
        struct udp_send *u = (struct udp_send *)req;
        free(u->data);
        free(u);
}

/* Sends data (borrowed: copied only when the socket cannot take it now) to addr. */
static void udp_reply(struct dns_server *s, const struct sockaddr *addr, const uint8_t *data, size_t n) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);
        int r = uv_udp_try_send(&s->udp, &b, 1, addr);
        if (r >= 0 || r != UV_EAGAIN)
                return;
        struct udp_send *u = xcalloc(1, sizeof *u);
        u->data = xmalloc(n);
        memcpy(u->data, data, n);
        b = uv_buf_init((char *)u->data, (unsigned)n);
        if (uv_udp_send(&u->req, &s->udp, &b, 1, addr, udp_sent) < 0) {
                free(u->data);
                free(u);
        }
}

struct tcp_write {
        uv_write_t req;
        uint8_t *data;
};

static void tcp_written(uv_write_t *req, int status) {
        struct tcp_write *w = (struct tcp_write *)req;
        free(w->data);
        free(w);
}

static void tcp_reply(struct tcp_conn *c, const uint8_t *data, size_t n) {
        if (c->closed || n > 65535)
                return;
        struct tcp_write *w = xcalloc(1, sizeof *w);
        w->data = xmalloc(n + 2);
        ldns_write_uint16(w->data, (uint16_t)n); /* RFC 1035 4.2.2: two-byte length prefix */
        memcpy(w->data + 2, data, n);
        uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(n + 2));
        if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, tcp_written) < 0) {
                free(w->data);
                free(w);
        }
}

/* --- queries --------------------------------------------------------------------------------- */

static void conn_maybe_free(struct tcp_conn *c);

static void forwarded(void *data, const uint8_t *reply, size_t n) {
        struct client *cl = data;
        struct dns_server *s = cl->s;
        uint8_t *out = NULL;
        size_t on = 0;
        if (!reply && dns_error_reply(cl->query, cl->len, LDNS_RCODE_SERVFAIL, &out, &on) == 0) {
                reply = out;
                n = on;
        }
        if (reply && !s->closing) {
                count_rcode(s, dns_reply_rcode(reply, n));
                if (cl->conn)
                        tcp_reply(cl->conn, reply, n);
                else
                        udp_reply(s, (const struct sockaddr *)&cl->addr, reply, n);
        }
        free(out);
        if (cl->conn) {
                cl->conn->pending--;
                conn_maybe_free(cl->conn);
        }
        free(cl->query);
        free(cl);
}

/* One query from a client: answered, forwarded or dropped. */
static void reply(struct dns_server *s, const struct sockaddr *addr, struct tcp_conn *conn, const uint8_t *r,
                  size_t n, const struct dns_query_info *info) {
        count_rcode(s, info->rcode);
        s->c.truncated += info->truncated;
        if (conn)
                tcp_reply(conn, r, n);
        else
                udp_reply(s, addr, r, n);
}

static void handle_query(struct dns_server *s, const uint8_t *q, size_t n, const struct sockaddr *addr,
                         struct tcp_conn *conn) {
        if (conn)
                s->c.queries_tcp++;
        else
                s->c.queries_udp++;
        struct dns_query_info info;
        const uint8_t *cached;
        size_t clen;
        enum dns_cache_hit hit = dns_cache_get(s->cache, s->zone.generation, q, n, conn != NULL, &cached, &clen, &info);
        if (hit == DNS_CACHE_REPLY) {
                uint8_t buf[4096];
                memcpy(buf, cached, clen);
                LDNS_ID_SET(buf, LDNS_ID_WIRE(q));
                s->c.by_type[qtype_index(info.qtype)]++;
                s->c.cache_hits++;
                reply(s, addr, conn, buf, clen, &info);
                return;
        }
        uint8_t *out = NULL;
        size_t on = 0;
        enum dns_verdict v = hit == DNS_CACHE_FORWARD
                                     ? DNS_FORWARD
                                     : dns_answer(&s->zone, q, n, conn != NULL, &s->rng, &out, &on, &info);
        if (v == DNS_DROP) {
                s->c.dropped++;
                return;
        }
        if (hit == DNS_CACHE_MISS)
                dns_cache_put(s->cache, s->zone.generation, q, n, conn != NULL, v, out, on, &info);
        s->c.by_type[qtype_index(info.qtype)]++;
        if (v == DNS_REPLY) {
                reply(s, addr, conn, out, on, &info);
                free(out);
                return;
        }
        s->c.forwarded++;
        struct client *cl = xcalloc(1, sizeof *cl);
        cl->s = s;
        cl->conn = conn;
        if (addr)
                memcpy(&cl->addr, addr, addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
        cl->query = xmalloc(n);
        memcpy(cl->query, q, n);
        cl->len = n;
        if (conn)
                conn->pending++;
        if (!dns_forwarder_send(s->fwd, q, n, forwarded, cl))
                forwarded(cl, NULL, 0); /* no upstream, or too many in flight: SERVFAIL now */
}

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
        struct dns_server *s = h->data;
        *buf = uv_buf_init((char *)s->rbuf, sizeof s->rbuf);
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags) {
        struct dns_server *s = h->data;
        if (nread <= 0 || !addr || (flags & UV_UDP_PARTIAL))
                return;
        handle_query(s, (const uint8_t *)buf->base, (size_t)nread, addr, NULL);
}

/* --- TCP ------------------------------------------------------------------------------------- */

static void conn_handle_closed(uv_handle_t *h) {
        struct tcp_conn *c = h->data;
        if (--c->handles > 0)
                return;
        c->handles = -1; /* both closed */
        conn_maybe_free(c);
}

static void conn_maybe_free(struct tcp_conn *c) {
        if (c->handles != -1 || c->pending > 0)
                return;
        struct dns_server *s = c->s;
        free(c->buf);
        free(c);
        s->n_conns--;
        server_maybe_free(s);
}

static void conn_close(struct tcp_conn *c) {
        if (c->closed)
                return;
        c->closed = true;
        LIST_REMOVE(c->s->conns, c);
        uv_close((uv_handle_t *)&c->h, conn_handle_closed);
        uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
}

static void idle_cb(uv_timer_t *t) {
        conn_close(t->data);
}

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
        struct tcp_conn *c = h->data;
        if (!c->buf)
                c->buf = xmalloc(65537 + 2);
        *buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(65537 + 2 - c->len));
}

static void tcp_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
        struct tcp_conn *c = st->data;
        if (nread < 0) {
                conn_close(c);
                return;
        }
        c->len += (size_t)nread;
        uv_timer_start(&c->idle, idle_cb, TCP_IDLE_MS, 0);
        size_t off = 0;
        while (c->len - off >= 2) {
                size_t mlen = ldns_read_uint16(c->buf + off);
                if (c->len - off < 2 + mlen)
                        break;
                handle_query(c->s, c->buf + off + 2, mlen, NULL, c);
                off += 2 + mlen;
                if (c->closed)
                        return;
        }
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
}

static void tcp_accept(uv_stream_t *server, int status) {
        struct dns_server *s = server->data;
        if (status < 0)
                return;
        struct tcp_conn *c = xcalloc(1, sizeof *c);
        c->s = s;
        uv_tcp_init(s->loop, &c->h);
        uv_timer_init(s->loop, &c->idle);
        c->h.data = c->idle.data = c;
        c->handles = 2;
        s->n_conns++;
        LIST_PREPEND(s->conns, c);
        if (uv_accept(server, (uv_stream_t *)&c->h) < 0 || s->n_conns > MAX_TCP_CONNS) {
                conn_close(c);
                return;
        }
        uv_timer_start(&c->idle, idle_cb, TCP_IDLE_MS, 0);
        uv_read_start((uv_stream_t *)&c->h, tcp_alloc, tcp_read);
}

/* --- agents known by host name ---------------------------------------------------------------- */


struct resolve_req {
        uv_getaddrinfo_t req;
        struct dns_server *s;
        struct host_ip *h;
};

static void resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
        struct resolve_req *r = (struct resolve_req *)req;
        struct dns_server *s = r->s;
        r->h->pending = false;
        for (struct addrinfo *ai = res; status == 0 && ai; ai = ai->ai_next)
                if (ai->ai_family == AF_INET) {
                        r->h->ip = ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr;
                        break;
                }
        uv_freeaddrinfo(res);
        if (r->h->ip && !s->closing)
                dns_zone_resolved(&s->zone, r->h->host, r->h->ip);
        else if (!s->closing)
                log_warn("DNS: agent host '%s' does not resolve to an IPv4 address: its tasks have no records",
                         r->h->host);
        free(r);
        s->open_handles--;
        server_maybe_free(s);
}

static void resolve_host(const char *host, void *data) {
        struct dns_server *s = data;
        struct host_ip *h = hashmap_get(&s->hosts, host);
        if (!h) {
                h = xcalloc(1, sizeof *h);
                h->host = xstrdup(host);
                hashmap_put(&s->hosts, h->host, h);
        }
        if (h->ip) {
                dns_zone_resolved(&s->zone, host, h->ip);
                return;
        }
        if (h->pending || (h->tried_ms && uv_now(s->loop) - h->tried_ms < 30000))
                return;
        h->tried_ms = uv_now(s->loop);
        struct resolve_req *r = xcalloc(1, sizeof *r);
        r->s = s;
        r->h = h;
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
        if (uv_getaddrinfo(s->loop, &r->req, resolved, host, NULL, &hints) < 0) {
                free(r);
                return;
        }
        h->pending = true;
        s->open_handles++; /* the server waits for it before it is freed */
}

/* --- lifecycle ------------------------------------------------------------------------------- */

static int parse_listen(const char *addr, struct sockaddr_in *sa, struct err *err) {
        const char *colon = addr ? strrchr(addr, ':') : NULL;
        if (!colon)
                return err_set(err, -EINVAL, "--dns '%s' is not ADDR:PORT", addr ? addr : "");
        _cleanup_free_ char *host = xstrndup(addr, (size_t)(colon - addr));
        char *end;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (*end || port == 0 || port > 65535 || uv_ip4_addr(host[0] ? host : "0.0.0.0", (int)port, sa) != 0)
                return err_set(err, -EINVAL, "--dns '%s' is not IPv4ADDR:PORT", addr);
        return 0;
}

int dns_server_new(const struct dns_server_config *cfg, struct dns_server **ret, struct err *err) {
        struct sockaddr_in sa;
        int r = parse_listen(cfg->addr, &sa, err);
        if (r < 0)
                return r;
        char **from_file = NULL;
        char **ups = cfg->upstreams;
        if (!ups || !ups[0])
                ups = from_file = dns_resolv_conf_upstreams("/etc/resolv.conf", sa.sin_addr.s_addr, ntohs(sa.sin_port),
                                                            DNS_FORWARD_MAX_UPSTREAMS);
        struct dns_forwarder *fwd = NULL;
        r = dns_forwarder_new(cfg->loop, ups, cfg->forward_timeout_ms, &fwd, err);
        strv_free(from_file);
        if (r < 0)
                return r;
        struct dns_server *s = xcalloc(1, sizeof *s);
        s->loop = cfg->loop;
        s->fwd = fwd;
        s->cache = dns_cache_new(32768);
        hashmap_init(&s->hosts);
        s->rng = (uint32_t)uv_hrtime() | 1;
        dns_zone_init(&s->zone, cfg->ttl);
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
        s->addr = xasprintf("%s:%u", ip, ntohs(sa.sin_port));
        struct in_addr self = sa.sin_addr;
        if (cfg->advertise_ip && (self.s_addr == 0 || (ntohl(self.s_addr) >> 24) == 127))
                inet_pton(AF_INET, cfg->advertise_ip, &self);
        dns_zone_set_ns(&s->zone, self.s_addr);
        char rip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, sa.sin_addr.s_addr ? &sa.sin_addr : &self, rip, sizeof rip);
        s->reachable = xasprintf("%s:%u", rip, ntohs(sa.sin_port));
        char up[DNS_FORWARD_MAX_UPSTREAMS][24];
        size_t nu = dns_forwarder_upstreams(fwd, up, DNS_FORWARD_MAX_UPSTREAMS);
        struct strbuf sb = { 0 };
        strbuf_puts(&sb, "");
        for (size_t i = 0; i < nu; i++)
                strbuf_printf(&sb, "%s%s", i ? "," : "", up[i]);
        s->upstreams_text = strbuf_steal(&sb);

        uv_udp_init_ex(s->loop, &s->udp, AF_INET | UV_UDP_RECVMMSG);
        uv_tcp_init(s->loop, &s->tcp);
        s->udp.data = s->tcp.data = s;
        s->open_handles = 2;
        r = uv_udp_bind(&s->udp, (const struct sockaddr *)&sa, 0);
        if (r == 0)
                r = uv_udp_recv_start(&s->udp, udp_alloc, udp_recv);
        if (r == 0)
                r = uv_tcp_bind(&s->tcp, (const struct sockaddr *)&sa, 0);
        if (r == 0)
                r = uv_listen((uv_stream_t *)&s->tcp, 128, tcp_accept);
        if (r < 0) {
                err_set(err, r, "cannot serve DNS on %s: %s", s->addr, uv_strerror(r));
                dns_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void dns_server_free(struct dns_server *s) {
        if (!s || s->closing)
                return;
        s->closing = true;
        dns_forwarder_free(s->fwd);
        s->fwd = NULL;
        while (s->conns)
                conn_close(s->conns);
        uv_close((uv_handle_t *)&s->udp, server_handle_closed);
        uv_close((uv_handle_t *)&s->tcp, server_handle_closed);
}

void dns_server_apply(struct dns_server *s, const json_t *ev) {
        struct err e = { 0 };
        s->c.view_events++;
        if (dns_zone_apply(&s->zone, ev, &e) < 0) {
                s->c.view_errors++;
                log_warn("discovery view: %s", err_msg(&e));
        }
        err_release(&e);
        dns_zone_foreach_unresolved(&s->zone, resolve_host, s);
}

const struct dns_zone *dns_server_zone(const struct dns_server *s) {
        return &s->zone;
}

const char *dns_server_address(const struct dns_server *s) {
        return s->addr;
}

const char *dns_server_reachable_address(const struct dns_server *s) {
        return s->reachable;
}

void dns_server_config_json(const struct dns_server *s, json_t *into) {
        json_object_set_new(into, "Listener", json_string(s->addr));
        json_object_set_new(into, "Resolvers", json_string(s->upstreams_text));
}

void dns_server_metrics(const struct dns_server *s, struct strbuf *out) {
        static const char *types[] = { "A", "AAAA", "SRV", "SOA", "NS", "ANY", "PTR", "other" };
        static const char *rcodes[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };
        strbuf_puts(out, "# HELP strata_dns_queries_total DNS queries received, by transport.\n"
                         "# TYPE strata_dns_queries_total counter\n");
        strbuf_printf(out, "strata_dns_queries_total{transport=\"udp\"} %llu\n", (unsigned long long)s->c.queries_udp);
        strbuf_printf(out, "strata_dns_queries_total{transport=\"tcp\"} %llu\n", (unsigned long long)s->c.queries_tcp);
        strbuf_puts(out, "# HELP strata_dns_queries_by_type_total DNS queries by question type.\n"
                         "# TYPE strata_dns_queries_by_type_total counter\n");
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                strbuf_printf(out, "strata_dns_queries_by_type_total{type=\"%s\"} %llu\n", types[i],
                              (unsigned long long)s->c.by_type[i]);
        strbuf_puts(out, "# HELP strata_dns_responses_total DNS responses by rcode.\n"
                         "# TYPE strata_dns_responses_total counter\n");
        for (size_t i = 0; i < ELEMENTSOF(rcodes); i++)
                strbuf_printf(out, "strata_dns_responses_total{rcode=\"%s\"} %llu\n", rcodes[i],
                              (unsigned long long)s->c.by_rcode[i]);
        struct dns_forward_stats fs = { 0 };
        if (s->fwd)
                dns_forwarder_stats(s->fwd, &fs);
        strbuf_printf(out,
                      "# TYPE strata_dns_forwarded_total counter\nstrata_dns_forwarded_total %llu\n"
                      "# TYPE strata_dns_forward_timeouts_total counter\nstrata_dns_forward_timeouts_total %llu\n"
                      "# TYPE strata_dns_forward_failures_total counter\nstrata_dns_forward_failures_total %llu\n"
                      "# HELP strata_dns_forward_latency_seconds Upstream answer latency.\n"
                      "# TYPE strata_dns_forward_latency_seconds summary\n"
                      "strata_dns_forward_latency_seconds_sum %.6f\nstrata_dns_forward_latency_seconds_count %llu\n"
                      "# TYPE strata_dns_dropped_total counter\nstrata_dns_dropped_total %llu\n"
                      "# TYPE strata_dns_truncated_total counter\nstrata_dns_truncated_total %llu\n"
                      "# TYPE strata_dns_cache_hits_total counter\nstrata_dns_cache_hits_total %llu\n"
                      "# TYPE strata_dns_view_events_total counter\nstrata_dns_view_events_total %llu\n"
                      "# TYPE strata_dns_view_errors_total counter\nstrata_dns_view_errors_total %llu\n"
                      "# TYPE strata_dns_tasks gauge\nstrata_dns_tasks %zu\n"
                      "# TYPE strata_dns_records gauge\nstrata_dns_records %zu\n",
                      (unsigned long long)s->c.forwarded, (unsigned long long)fs.timeouts,
                      (unsigned long long)fs.failed, (double)fs.latency_us_sum / 1e6,
                      (unsigned long long)fs.answered, (unsigned long long)s->c.dropped,
                      (unsigned long long)s->c.truncated, (unsigned long long)s->c.cache_hits,
                      (unsigned long long)s->c.view_events,
                      (unsigned long long)s->c.view_errors, dns_zone_task_count(&s->zone), s->zone.n_records);
}
