/* lb_config.c — HAProxy configuration text from the view, and slot moves as Runtime API
 * commands (see lb_config.h). The frontends and options follow marathon-lb's default templates
 * (Longhelp.md "Templates"), with the Host header compared without its port. */
#include "lb/lb_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/macro.h"

/* ---- slots ---- */

static void slot_clear(struct lb_slot *sl) {
        free(sl->task);
        free(sl->ip);
        *sl = (struct lb_slot){ 0 };
}

static void backend_slots_free(struct lb_backend_slots *b) {
        for (size_t i = 0; i < b->n; i++)
                slot_clear(&b->slot[i]);
        free(b->slot);
        free(b->name);
        free(b);
}

void lb_slots_init(struct lb_slots *s) {
        hashmap_init(&s->backends);
}

void lb_slots_release(struct lb_slots *s) {
        size_t pos = 0;
        const char *k;
        void *v;
        while (hashmap_next(&s->backends, &pos, &k, &v))
                backend_slots_free(v);
        hashmap_release(&s->backends);
}

const struct lb_backend_slots *lb_slots_get(const struct lb_slots *s, const char *name) {
        return hashmap_get(&s->backends, name);
}

static size_t slots_for(size_t servers) {
        size_t n = LB_MIN_SLOTS;
        while (n < 2 * servers && n < LB_MAX_SLOTS)
                n *= 2;
        return n;
}

static void fill_commands(struct strbuf *cmds, const char *b, size_t k, const struct lb_slot *sl) {
        strbuf_printf(cmds, "set server %s/s%zu addr %s port %u\n", b, k + 1, sl->ip, sl->port);
        if (sl->check_port)
                strbuf_printf(cmds, "set server %s/s%zu check-port %u\n", b, k + 1, sl->check_port);
        strbuf_printf(cmds, "set server %s/s%zu weight %u\n", b, k + 1, sl->weight);
        strbuf_printf(cmds, "set server %s/s%zu state %s\n", b, k + 1, sl->draining ? "drain" : "ready");
}

static unsigned uint_of(const json_t *o, const char *k) {
        return (unsigned)json_integer_value(json_object_get(o, k));
}

static size_t update_backend(struct lb_slots *s, const char *name, const json_t *servers, struct strbuf *cmds) {
        struct lb_backend_slots *b = hashmap_get(&s->backends, name);
        size_t before = cmds->len, n_cmds = 0;
        bool fresh = !b;
        if (!b) {
                b = xcalloc(1, sizeof(*b));
                b->name = xstrdup(name);
                b->n = slots_for(json_array_size(servers));
                b->slot = xcalloc(b->n, sizeof(*b->slot));
                hashmap_put(&s->backends, b->name, b);
        }
        b->seen = true;
        _cleanup_(json_decrefp) json_t *want = json_object(); /* task -> server */
        size_t i;
        const json_t *srv;
        json_array_foreach(servers, i, srv)
                json_object_set((json_t *)want, json_string_value(json_object_get(srv, "task")), (json_t *)srv);

        /* 1. tasks that left, or whose weight or draining changed */
        for (size_t k = 0; k < b->n; k++) {
                struct lb_slot *sl = &b->slot[k];
                if (!sl->task)
                        continue;
                const json_t *w = json_object_get(want, sl->task);
                if (!w || !streq(json_string_value(json_object_get(w, "ip")), sl->ip) || uint_of(w, "port") != sl->port ||
                    uint_of(w, "checkPort") != sl->check_port) {
                        strbuf_printf(cmds, "set server %s/s%zu state maint\n", name, k + 1);
                        n_cmds++;
                        slot_clear(sl);
                        continue;
                }
                bool draining = json_is_true(json_object_get(w, "draining"));
                if (uint_of(w, "weight") != sl->weight) {
                        sl->weight = uint_of(w, "weight");
                        strbuf_printf(cmds, "set server %s/s%zu weight %u\n", name, k + 1, sl->weight);
                        n_cmds++;
                }
                if (draining != sl->draining) {
                        sl->draining = draining;
                        strbuf_printf(cmds, "set server %s/s%zu state %s\n", name, k + 1, draining ? "drain" : "ready");
                        n_cmds++;
                }
                json_object_del(want, sl->task);
        }
        /* 2. new tasks take free slots, in the view's order; outgrown slots grow */
        size_t need = json_object_size(want), free_slots = 0;
        for (size_t k = 0; k < b->n; k++)
                free_slots += !b->slot[k].task;
        if (need > free_slots) {
                size_t n = slots_for(b->n - free_slots + need);
                if (n > b->n) {
                        b->slot = xrealloc(b->slot, n * sizeof(*b->slot));
                        memset(b->slot + b->n, 0, (n - b->n) * sizeof(*b->slot));
                        b->n = n;
                        fresh = true;
                }
        }
        size_t k = 0;
        json_array_foreach(servers, i, srv) {
                const char *task = json_string_value(json_object_get(srv, "task"));
                if (!json_object_get(want, task))
                        continue;
                while (k < b->n && b->slot[k].task)
                        k++;
                if (k == b->n)
                        break; /* LB_MAX_SLOTS reached */
                struct lb_slot *sl = &b->slot[k];
                *sl = (struct lb_slot){ .task = xstrdup(task),
                                        .ip = xstrdup(json_string_value(json_object_get(srv, "ip"))),
                                        .port = uint_of(srv, "port"),
                                        .check_port = uint_of(srv, "checkPort"),
                                        .weight = uint_of(srv, "weight"),
                                        .draining = json_is_true(json_object_get(srv, "draining")) };
                fill_commands(cmds, name, k, sl);
                n_cmds++;
        }
        if (fresh) { /* the reload writes these servers into the configuration */
                cmds->len = before;
                if (cmds->buf)
                        cmds->buf[before] = '\0';
                return 0;
        }
        return n_cmds;
}

size_t lb_slots_update(struct lb_slots *s, const json_t *view, struct strbuf *cmds) {
        size_t pos = 0, n = 0, i;
        const char *k;
        void *v;
        while (hashmap_next(&s->backends, &pos, &k, &v))
                ((struct lb_backend_slots *)v)->seen = false;
        const json_t *svc;
        json_array_foreach(json_object_get(view, "services"), i, svc) {
                n += update_backend(s, json_string_value(json_object_get(svc, "backend")),
                                    json_object_get(svc, "servers"), cmds);
                const json_t *ab = json_object_get(svc, "ab");
                if (json_is_object(ab))
                        n += update_backend(s, json_string_value(json_object_get(ab, "backend")),
                                            json_object_get(ab, "servers"), cmds);
        }
        pos = 0;
        while (hashmap_next(&s->backends, &pos, &k, &v)) {
                struct lb_backend_slots *b = v;
                if (!b->seen) {
                        hashmap_remove(&s->backends, k);
                        backend_slots_free(b);
                }
        }
        return n;
}

/* ---- configuration text ---- */

static const char *str(const json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static bool flag(const json_t *o, const char *k) {
        return json_is_true(json_object_get(o, k));
}

static bool is_http(const json_t *svc) {
        return streq(str(svc, "mode"), "http");
}

static void head(struct strbuf *sb, const struct lb_config_options *co) {
        strbuf_puts(sb, "# Rendered by strata lb from the cluster's apps; rewritten on every change.\n"
                        "global\n");
        /* no global maxconn: HAProxy derives it from the descriptors left after listeners and
         * servers, so 1,000 frontends do not push it past the limit */
        if (co->fd_limit)
                strbuf_printf(sb, "  fd-hard-limit %u\n", co->fd_limit);
        strbuf_printf(sb,
                      "  stats socket %s mode 600 level admin expose-fd listeners\n"
                      "  stats timeout 2m\n"
                      "  hard-stop-after 10m\n"
                      "  spread-checks 5\n"
                      "defaults\n"
                      "  retries 3\n"
                      "  option redispatch 1\n"
                      "  option dontlognull\n"
                      "  backlog 10000\n"
                      "  maxconn 10000\n"
                      "  timeout connect 3s\n"
                      "  timeout client 30s\n"
                      "  timeout server 30s\n"
                      "  timeout tunnel 3600s\n"
                      "  timeout http-keep-alive 1s\n"
                      "  timeout http-request 15s\n"
                      "  timeout queue 30s\n",
                      co->admin_socket);
}

static int order_cmp(const void *a, const void *b) {
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        json_int_t ox = json_integer_value(json_object_get(x, "order")), oy = json_integer_value(json_object_get(y, "order"));
        if (ox != oy)
                return ox > oy ? -1 : 1;
        return strcmp(str(x, "backend"), str(y, "backend"));
}

/* The A/B rule's ACL, or nothing. */
static void ab_acl(struct strbuf *sb, const json_t *svc) {
        const json_t *ab = json_object_get(svc, "ab");
        if (!json_is_object(ab))
                return;
        if (streq(str(ab, "match"), "header"))
                strbuf_printf(sb, "  acl ab_%s req.hdr(%s) -m str %s\n", str(svc, "backend"), str(ab, "name"),
                              str(ab, "value"));
        else
                strbuf_printf(sb, "  acl ab_%s req.cook(%s) -m str %s\n", str(svc, "backend"), str(ab, "name"),
                              str(ab, "value"));
}

/* The "use_backend" lines for svc under the condition cond ("" for none). */
static void glue(struct strbuf *sb, const json_t *svc, const char *cond) {
        const json_t *ab = json_object_get(svc, "ab");
        const char *sp = *cond ? " " : "";
        if (json_is_object(ab))
                strbuf_printf(sb, "  use_backend %s if %s%sab_%s\n", str(ab, "backend"), cond, sp, str(svc, "backend"));
        if (*cond)
                strbuf_printf(sb, "  use_backend %s if %s\n", str(svc, "backend"), cond);
        else
                strbuf_printf(sb, "  use_backend %s\n", str(svc, "backend"));
}

/* marathon-lb's HTTP_FRONTEND_ACL(_WITH_PATH) for one service of the shared vhost frontend. */
static void vhost_rules(struct strbuf *sb, const json_t *svc, bool tls, const struct lb_config_options *co) {
        const char *b = str(svc, "backend");
        const json_t *vhosts = json_object_get(svc, "vhosts");
        strbuf_printf(sb, "  acl host_%s req.hdr(host),field(1,:) -i", b);
        size_t i;
        const json_t *v;
        json_array_foreach(vhosts, i, v) strbuf_printf(sb, " %s", json_string_value(v));
        strbuf_puts(sb, "\n");
        _cleanup_free_ char *cond = NULL;
        if (str(svc, "path")) {
                strbuf_printf(sb, "  acl path_%s path_beg %s\n", b, str(svc, "path"));
                cond = xasprintf("host_%s path_%s", b, b);
        } else {
                cond = xasprintf("host_%s", b);
        }
        if (!tls && flag(svc, "redirectToHttps") && co->https_port) {
                if (co->https_port == 443)
                        strbuf_printf(sb, "  http-request redirect scheme https code 301 if %s !{ ssl_fc }\n", cond);
                else
                        strbuf_printf(sb,
                                      "  http-request redirect location https://%%[req.hdr(host),field(1,:)]:%u%%[capture.req.uri] "
                                      "code 301 if %s !{ ssl_fc }\n",
                                      co->https_port, cond);
        }
        ab_acl(sb, svc);
        glue(sb, svc, cond);
}

static void shared_frontend(struct strbuf *sb, json_t *vhost_svcs, bool tls, const struct lb_config_options *co,
                            const char *certs) {
        unsigned port = tls ? co->https_port : co->http_port;
        strbuf_printf(sb, "\nfrontend strata_%s_in\n  bind %s:%u%s%s\n  mode http\n", tls ? "https" : "http",
                      co->bind_addr ? co->bind_addr : "", port, tls ? " ssl" : "", tls ? certs : "");
        size_t i;
        const json_t *svc;
        json_array_foreach(vhost_svcs, i, svc) vhost_rules(sb, svc, tls, co);
}

static void server_lines(struct strbuf *sb, const json_t *svc, const char *backend, const struct lb_slots *s,
                         bool with_servers) {
        const struct lb_backend_slots *b = lb_slots_get(s, backend);
        const json_t *hc = json_object_get(svc, "healthCheck");
        _cleanup_free_ char *check = NULL;
        if (json_is_object(hc))
                check = xasprintf(" check inter %llds fall %lld%s",
                                  (long long)json_integer_value(json_object_get(hc, "intervalSeconds")),
                                  (long long)json_integer_value(json_object_get(hc, "fall")),
                                  streq(str(hc, "protocol"), "https") ? " check-ssl verify none" : "");
        size_t n = b ? b->n : LB_MIN_SLOTS;
        for (size_t k = 0; k < n; k++) {
                const struct lb_slot *sl = b ? &b->slot[k] : NULL;
                _cleanup_free_ char *cookie = flag(svc, "sticky") ? xasprintf(" cookie s%zu", k + 1) : NULL;
                if (with_servers && sl && sl->task) {
                        _cleanup_free_ char *cport = sl->check_port ? xasprintf(" port %u", sl->check_port) : NULL;
                        strbuf_printf(sb, "  server s%zu %s:%u%s%s%s weight %u%s\n", k + 1, sl->ip, sl->port,
                                      check ?: "", cport ?: "", cookie ?: "", sl->weight, sl->draining ? " drain" : "");
                } else {
                        strbuf_printf(sb, "  server s%zu 0.0.0.0:0%s%s disabled\n", k + 1, check ?: "", cookie ?: "");
                }
        }
}

static void backend(struct strbuf *sb, const json_t *svc, const char *name, const struct lb_slots *s,
                    bool with_servers) {
        bool http = is_http(svc);
        strbuf_printf(sb, "\nbackend %s\n  balance %s\n  mode %s\n", name, str(svc, "balance"), str(svc, "mode"));
        if (http) {
                /* marathon-lb's BACKEND_HTTP_OPTIONS */
                strbuf_puts(sb, "  option forwardfor\n"
                                "  http-request set-header X-Forwarded-Port %[dst_port]\n"
                                "  http-request add-header X-Forwarded-Proto https if { ssl_fc }\n"
                                "  retry-on conn-failure empty-response response-timeout\n");
                if (flag(svc, "hsts"))
                        strbuf_puts(sb, "  http-response set-header Strict-Transport-Security max-age=15768000\n");
        }
        if (str(svc, "networkAllowed")) {
                strbuf_printf(sb, "  acl network_allowed src %s\n", str(svc, "networkAllowed"));
                strbuf_puts(sb, http ? "  http-request deny if !network_allowed\n"
                                     : "  tcp-request content reject if !network_allowed\n");
        }
        if (flag(svc, "sticky") && http)
                strbuf_puts(sb, "  cookie mesosphere_server_id insert indirect nocache\n");
        const json_t *hc = json_object_get(svc, "healthCheck");
        if (json_is_object(hc) && http && !streq(str(hc, "protocol"), "tcp"))
                strbuf_printf(sb, "  option httpchk GET %s\n  timeout check %llds\n", str(hc, "path"),
                              (long long)json_integer_value(json_object_get(hc, "timeoutSeconds")));
        else if (json_is_object(hc))
                strbuf_printf(sb, "  timeout check %llds\n",
                              (long long)json_integer_value(json_object_get(hc, "timeoutSeconds")));
        server_lines(sb, svc, name, s, with_servers);
}

static void add_cert(struct strbuf *certs, const char *cert) {
        _cleanup_free_ char *needle = xasprintf(" crt %s", cert);
        if (!certs->buf || !strstr(certs->buf, needle))
                strbuf_puts(certs, needle);
}

char *lb_config_render(const json_t *view, const struct lb_slots *s, const struct lb_config_options *co,
                       bool with_servers, json_t *issues) {
        struct strbuf sb = { 0 }, certs = { 0 };
        const json_t *services = json_object_get(view, "services");
        _cleanup_(json_decrefp) json_t *vhost_svcs = json_array();
        _cleanup_(json_decrefp) json_t *ports = json_object(); /* bound ports */
        _cleanup_(json_decrefp) json_t *bound = json_array();  /* services that get their frontend */
        char key[16];
        if (co->http_port) {
                snprintf(key, sizeof(key), "%u", co->http_port);
                json_object_set_new(ports, key, json_string("the http frontend"));
        }
        if (co->https_port) {
                snprintf(key, sizeof(key), "%u", co->https_port);
                json_object_set_new(ports, key, json_string("the https frontend"));
        }
        if (co->ssl_cert)
                add_cert(&certs, co->ssl_cert);
        size_t i;
        const json_t *svc;
        json_array_foreach(services, i, svc) {
                snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(json_object_get(svc, "servicePort")));
                const char *taken = str(ports, key);
                if (!taken && co->port_taken &&
                    co->port_taken(str(svc, "bindAddr"), (unsigned)json_integer_value(json_object_get(svc, "servicePort")),
                                   co->data))
                        taken = "another process";
                if (taken) {
                        _cleanup_free_ char *msg =
                                xasprintf("service port %s is taken by %s: its frontend is not bound", key, taken);
                        if (issues)
                                json_array_append_new(issues, json_pack("{s:O,s:n,s:s}", "app",
                                                                        json_array_get(json_object_get(svc, "apps"), 0),
                                                                        "label", "message", msg));
                } else {
                        json_object_set_new(ports, key, json_string(str(svc, "backend")));
                        json_array_append((json_t *)bound, (json_t *)svc);
                }
                if (is_http(svc) && json_array_size(json_object_get(svc, "vhosts")))
                        json_array_append(vhost_svcs, (json_t *)svc);
                if (str(svc, "sslCert"))
                        add_cert(&certs, str(svc, "sslCert"));
        }
        /* "Backends are sorted from largest to smallest weight" (HAPROXY_{n}_BACKEND_WEIGHT) */
        size_t nv = json_array_size(vhost_svcs);
        json_t **sorted = xcalloc(nv ? nv : 1, sizeof(*sorted));
        for (i = 0; i < nv; i++)
                sorted[i] = json_array_get(vhost_svcs, i);
        qsort(sorted, nv, sizeof(*sorted), order_cmp);
        _cleanup_(json_decrefp) json_t *ordered = json_array();
        for (i = 0; i < nv; i++)
                json_array_append(ordered, sorted[i]);
        free(sorted);

        head(&sb, co);
        if (co->http_port)
                shared_frontend(&sb, ordered, false, co, NULL);
        if (co->https_port && certs.len)
                shared_frontend(&sb, ordered, true, co, certs.buf);
        else if (co->https_port && issues)
                json_array_append_new(issues, json_pack("{s:n,s:n,s:s}", "app", "label", "message",
                                                        "no certificate (--ssl-cert or HAPROXY_{n}_SSL_CERT): "
                                                        "the https frontend is not bound"));
        json_array_foreach(bound, i, svc) {
                const char *b = str(svc, "backend");
                _cleanup_free_ char *ssl = str(svc, "sslCert") ? xasprintf(" ssl crt %s", str(svc, "sslCert")) : NULL;
                _cleanup_free_ char *opts = str(svc, "bindOptions") ? xasprintf(" %s", str(svc, "bindOptions")) : NULL;
                strbuf_printf(&sb, "\nfrontend %s\n  bind %s:%lld%s%s\n  mode %s\n", b, str(svc, "bindAddr"),
                              (long long)json_integer_value(json_object_get(svc, "servicePort")), ssl ?: "", opts ?: "",
                              str(svc, "mode"));
                ab_acl(&sb, svc);
                glue(&sb, svc, "");
        }
        json_array_foreach(services, i, svc) {
                backend(&sb, svc, str(svc, "backend"), s, with_servers);
                const json_t *ab = json_object_get(svc, "ab");
                if (json_is_object(ab))
                        backend(&sb, svc, str(ab, "backend"), s, with_servers);
        }
        strbuf_release(&certs);
        return strbuf_steal(&sb);
}
