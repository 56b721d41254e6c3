/* lb_main.c — the `strata lb` daemon: flags, following the masters, applying views (see lb.h). */
#include "lb/lb.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "lb/lb_config.h"
#include "lb/lb_haproxy.h"
#include "lb/lb_view.h"
#include "common/auth_tokens.h"
#include "net/auth_client.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/sse.h"

#define COALESCE_MS 5
#define RECONNECT_MS 250
#define SSE_MAX (8u << 20)

struct lb {
        uv_loop_t *loop;
        char **masters;
        size_t n_masters, cur;
        struct lb_options vo;
        struct lb_config_options co;
        char *group, *domain, *ssl_cert, *bind_addr, *data_dir, *haproxy_bin, *http_addr, *config_path, *socket_path;
        struct http_client *http;
        struct auth_client auth;   /* --token / --service-account (+ $STRATA_*), else the CLI's token file */
        char *token_arg, *account_arg, *key_arg;
        char *file_header;         /* "Authorization: token=…" from the token file, or NULL */
        struct http_server *api;
        struct lb_haproxy *hx;
        /* the event stream */
        struct transfer *events;
        struct sse_parser sse;
        bool attached;
        uv_timer_t resync_timer, reconnect_timer;
        /* a resync: two GETs */
        bool resync_inflight, resync_again;
        size_t resync_master, events_master; /* the master index each was sent to */
        int resync_pending, resync_failed;
        json_t *got_apps, *got_deployments;
        uint64_t resync_start;
        /* the applied state */
        json_t *view, *issues;
        struct lb_slots slots;
        char *structural; /* of the configuration last handed to HAProxy */
        json_t *held_ports; /* "addr:port" of the service frontends in that configuration */
        uint64_t syncs;
        double last_sync_ms;
        char last_sync_at[25], *master_error;
        uv_signal_t sigterm, sigint;
        bool own_loop, stopping;
        unsigned handles;
};

static void resync(struct lb *lb);
static void connect_events(struct lb *lb);

static const char *master_url(const struct lb *lb) {
        return lb->masters[lb->cur % lb->n_masters];
}

/* The credentials for the current master: the daemon's own (flags, environment), else the token
 * `strata auth login` or `strata dev` stored for that master's URL (read again after a 401). */
static const char *auth_header(struct lb *lb) {
        if (lb->auth.fixed || lb->auth.uid)
                return auth_client_header(&lb->auth, master_url(lb));
        if (!lb->file_header) {
                _cleanup_free_ char *t = auth_tokens_get(master_url(lb));
                if (t)
                        lb->file_header = xasprintf("Authorization: token=%s", t);
        }
        return lb->file_header;
}

static void auth_refused(struct lb *lb) {
        auth_client_refused(&lb->auth);
        free(lb->file_header);
        lb->file_header = NULL;
}

/* The master at index idx failed: the next one is tried, unless another failure moved on already
 * (the stream and a resync often fail together). */
static void next_master(struct lb *lb, size_t idx, const char *why) {
        if (idx != lb->cur % lb->n_masters)
                return;
        free(lb->master_error);
        lb->master_error = xasprintf("%s: %s", master_url(lb), why);
        log_warn("lb: master %s", lb->master_error);
        lb->cur = (lb->cur + 1) % lb->n_masters;
}

/* ---- applying a view ---- */

/* A service port nobody listens on is bindable by HAProxy; one HAProxy holds already (a frontend
 * of the configuration it runs) is its own. Anything else listening there would make the reload
 * fail as a whole. */
static bool port_taken(const char *addr, unsigned port, void *data) {
        struct lb *lb = data;
        char key[80];
        snprintf(key, sizeof(key), "%s:%u", addr, port);
        if (lb->held_ports && json_object_get(lb->held_ports, key))
                return false;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        if (!streq(addr, "*") && inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
                return false; /* IPv6 or a name: HAProxy decides */
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        bool taken = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == EADDRINUSE;
        close(fd);
        return taken;
}

/* The "addr:port" of every bind line of a configuration text: what HAProxy holds once it runs it. */
static json_t *bound_ports(const char *text) {
        json_t *ports = json_object();
        for (const char *p = strstr(text, "\n  bind "); p; p = strstr(p + 1, "\n  bind ")) {
                const char *a = p + 8, *end = a + strcspn(a, " \n");
                _cleanup_free_ char *key = xstrndup(a, (size_t)(end - a));
                json_object_set_new(ports, key, json_true());
        }
        return ports;
}

static char *render_materialized(void *data) {
        struct lb *lb = data;
        return lb_config_render(lb->view, &lb->slots, &lb->co, true, NULL);
}

static void log_issues(struct lb *lb, json_t *issues) {
        if (lb->issues && json_equal(lb->issues, issues))
                return;
        size_t i;
        const json_t *is;
        json_array_foreach(issues, i, is) {
                const char *app = json_string_value(json_object_get(is, "app"));
                const char *label = json_string_value(json_object_get(is, "label"));
                log_warn("lb: %s%s%s%s%s", app ? app : "", app ? ": " : "", label ? label : "", label ? ": " : "",
                         json_string_value(json_object_get(is, "message")));
        }
}

static void apply(struct lb *lb, json_t *view) {
        json_decref(lb->view);
        lb->view = view;
        struct strbuf cmds = { 0 };
        lb_slots_update(&lb->slots, view, &cmds);
        json_t *issues = json_deep_copy(json_object_get(view, "issues"));
        _cleanup_free_ char *structural = lb_config_render(view, &lb->slots, &lb->co, false, issues);
        log_issues(lb, issues);
        json_decref(lb->issues);
        lb->issues = issues;
        if (!lb->structural || !streq(structural, lb->structural)) {
                free(lb->structural);
                lb->structural = TAKE_PTR(structural);
                json_decref(lb->held_ports);
                lb->held_ports = bound_ports(lb->structural);
                log_info("lb: configuration changed: reloading haproxy");
                /* the reload renders the current slots: the commands are part of it */
                lb_haproxy_reload(lb->hx);
        } else if (cmds.len) {
                lb_haproxy_commands(lb->hx, cmds.buf, cmds.len);
        }
        strbuf_release(&cmds);
}

/* ---- resync: GET apps with tasks, and deployments ---- */

static void resync_timer_cb(uv_timer_t *t);

static void resync_done(struct lb *lb) {
        lb->resync_inflight = false;
        if (lb->resync_failed) {
                json_decref(lb->got_apps);
                json_decref(lb->got_deployments);
                lb->got_apps = lb->got_deployments = NULL;
                /* the stream will notice too; try the next master for the resync at once */
                lb->resync_again = false;
                uv_timer_start(&lb->resync_timer, resync_timer_cb, RECONNECT_MS, 0);
                return;
        }
        json_t *view = lb_view_build(json_object_get(lb->got_apps, "apps"),
                                     json_object_get(lb->got_deployments, "deployments") ?: lb->got_deployments,
                                     &lb->vo);
        json_decref(lb->got_apps);
        json_decref(lb->got_deployments);
        lb->got_apps = lb->got_deployments = NULL;
        apply(lb, view);
        lb->syncs++;
        lb->last_sync_ms = (double)(uv_hrtime() - lb->resync_start) / 1e6;
        time_format_ms(time_now_ms(), lb->last_sync_at);
        if (lb->resync_again) {
                lb->resync_again = false;
                resync(lb);
        }
}

static void got(void *data, int status, const struct http_client_response *resp, struct err *err, json_t **slot,
                const char *what) {
        struct lb *lb = data;
        if (status >= 0 && resp->status == 401) {
                if (!lb->resync_failed) {
                        free(lb->master_error);
                        lb->master_error = xasprintf("%s: GET %s answered 401: no valid token (--token, "
                                                     "--service-account, or strata auth login)", master_url(lb), what);
                        log_warn("lb: master %s", lb->master_error);
                        auth_refused(lb);
                }
                lb->resync_failed = 1;
        } else if (status < 0 || resp->status != 200) {
                _cleanup_free_ char *why = status < 0 ? xstrdup(err_msg(err))
                                                      : xasprintf("GET %s answered %ld", what, resp->status);
                if (!lb->resync_failed)
                        next_master(lb, lb->resync_master, why);
                lb->resync_failed = 1;
        } else {
                json_error_t je;
                *slot = json_loadb(resp->body, resp->len, 0, &je);
                if (!*slot && !lb->resync_failed) {
                        _cleanup_free_ char *why = xasprintf("GET %s: invalid JSON: %s", what, je.text);
                        next_master(lb, lb->resync_master, why);
                        lb->resync_failed = 1;
                }
        }
        if (--lb->resync_pending == 0)
                resync_done(lb);
}

static void got_apps(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct lb *lb = data;
        got(data, status, resp, err, &lb->got_apps, "/v2/apps");
}

static void got_deployments(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct lb *lb = data;
        got(data, status, resp, err, &lb->got_deployments, "/v2/deployments");
}

static void resync(struct lb *lb) {
        if (lb->stopping)
                return;
        if (lb->resync_inflight) {
                lb->resync_again = true;
                return;
        }
        lb->resync_inflight = true;
        lb->resync_failed = 0;
        lb->resync_pending = 2;
        lb->resync_start = uv_hrtime();
        lb->resync_master = lb->cur % lb->n_masters;
        const char *const headers[] = { "Accept: application/json", auth_header(lb), NULL };
        _cleanup_free_ char *apps = xasprintf("%s/v2/apps?embed=apps.tasks", master_url(lb));
        _cleanup_free_ char *deps = xasprintf("%s/v2/deployments", master_url(lb));
        http_client_request(lb->http, "GET", apps, headers, NULL, 0, 10000, got_apps, lb);
        http_client_request(lb->http, "GET", deps, headers, NULL, 0, 10000, got_deployments, lb);
}

static void resync_timer_cb(uv_timer_t *t) {
        resync(t->data);
}

static void schedule_resync(struct lb *lb) {
        if (!uv_is_active((uv_handle_t *)&lb->resync_timer))
                uv_timer_start(&lb->resync_timer, resync_timer_cb, COALESCE_MS, 0);
}

/* ---- the event stream ---- */

/* Events that cannot change what the edge routes. */
static bool event_ignored(const char *type) {
        static const char *const ignored[] = { "event_stream_attached", "event_stream_detached",
                                               "failed_health_check_event", "unhealthy_instance_kill_event",
                                               "framework_message_event", "add_health_check_event",
                                               "remove_health_check_event" };
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
                if (streq(type, ignored[i]))
                        return true;
        return false;
}

static int on_event(const char *event, const char *data, size_t len, void *userdata) {
        struct lb *lb = userdata;
        const char *type = event ? event : "message";
        if (!lb->attached) {
                lb->attached = true;
                log_info("lb: following %s/v2/events", master_url(lb));
                free(lb->master_error);
                lb->master_error = NULL;
                schedule_resync(lb); /* the full resync after (re)connecting */
        }
        if (!event_ignored(type))
                schedule_resync(lb);
        return 0;
}

static int on_stream_data(void *data, const char *chunk, size_t len) {
        struct lb *lb = data;
        struct err e = { 0 };
        int r = sse_parser_feed(&lb->sse, chunk, len, on_event, lb, &e);
        if (r < 0) {
                log_warn("lb: event stream from %s: %s", master_url(lb), err_msg(&e));
                err_release(&e);
                return 1;
        }
        return 0;
}

static void reconnect(uv_timer_t *t) {
        connect_events(t->data);
}

static void stream_done(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct lb *lb = data;
        lb->events = NULL;
        lb->attached = false;
        _cleanup_free_ char *why = status < 0 ? xstrdup(err_msg(err))
                                              : resp->status >= 300 ? xasprintf("/v2/events answered %ld", resp->status)
                                                                    : xstrdup("event stream ended");
        if (status >= 0 && resp->status == 401)
                auth_refused(lb); /* the same master again, with a fresh token */
        else
                next_master(lb, lb->events_master, why);
        if (!lb->stopping)
                uv_timer_start(&lb->reconnect_timer, reconnect, RECONNECT_MS, 0);
}

static void connect_events(struct lb *lb) {
        if (lb->stopping)
                return;
        sse_parser_release(&lb->sse);
        sse_parser_init(&lb->sse, SSE_MAX);
        const char *const headers[] = { "Accept: text/event-stream", auth_header(lb), NULL };
        _cleanup_free_ char *url = xasprintf("%s/v2/events", master_url(lb));
        lb->events_master = lb->cur % lb->n_masters;
        lb->events = http_client_stream(lb->http, "GET", url, headers, NULL, 0, -1, on_stream_data, stream_done, lb);
        http_client_transfer_tune(lb->events, true, 0);
        /* resync now too: a master that serves the API but not yet the stream still has apps */
        schedule_resync(lb);
}

/* A login finished: follow the masters now instead of waiting out the reconnect delay (after a
 * master failover the balancer showed itself disconnected until then). */
static void on_login(void *data, bool ok) {
        struct lb *lb = data;
        if (!ok || lb->stopping)
                return;
        if (!lb->events) {
                uv_timer_stop(&lb->reconnect_timer);
                connect_events(lb); /* resyncs too */
        } else {
                schedule_resync(lb);
        }
}

/* ---- the status endpoint ---- */

static json_t *services_status(const struct lb *lb) {
        json_t *out = json_array();
        size_t i;
        const json_t *svc;
        json_array_foreach(json_object_get(lb->view, "services"), i, svc) {
                json_t *s = json_deep_copy(svc);
                json_object_del(s, "servers");
                json_t *backends = json_array();
                const json_t *ab = json_object_get(svc, "ab");
                const char *names[2] = { json_string_value(json_object_get(svc, "backend")),
                                         json_is_object(ab) ? json_string_value(json_object_get(ab, "backend")) : NULL };
                for (size_t b = 0; b < 2 && names[b]; b++) {
                        const struct lb_backend_slots *bs = lb_slots_get(&lb->slots, names[b]);
                        json_t *slots = json_array();
                        for (size_t k = 0; bs && k < bs->n; k++) {
                                const struct lb_slot *sl = &bs->slot[k];
                                if (!sl->task)
                                        continue;
                                char name[24];
                                snprintf(name, sizeof(name), "s%zu", k + 1);
                                json_array_append_new(slots, json_pack("{s:s,s:s,s:s,s:i,s:i,s:b}", "slot", name, "task",
                                                                       sl->task, "ip", sl->ip, "port", sl->port,
                                                                       "weight", sl->weight, "draining", sl->draining));
                        }
                        json_array_append_new(backends, json_pack("{s:s,s:i,s:o}", "name", names[b], "slots",
                                                                  bs ? (int)bs->n : 0, "servers", slots));
                }
                if (json_is_object(ab))
                        json_object_del(json_object_get(s, "ab"), "servers");
                json_object_set_new(s, "backends", backends);
                json_array_append_new(out, s);
        }
        return out;
}

static void api_handler(struct http_request *req, void *data) {
        struct lb *lb = data;
        const char *path = http_request_path(req);
        if (!streq(http_request_method(req), "GET")) {
                static const char body[] = "{\"message\":\"method not allowed\"}";
                http_respond(req, 405, "application/json", body, sizeof(body) - 1);
                return;
        }
        struct lb_haproxy_status hs;
        lb_haproxy_status(lb->hx, &hs);
        if (streq(path, "/_strata/lb/health")) {
                http_respond(req, hs.running ? 200 : 503, "text/plain", hs.running ? "OK\n" : "haproxy not serving\n",
                             hs.running ? 3 : 20);
                return;
        }
        if (!streq(path, "/_strata/lb/config")) {
                static const char body[] = "{\"message\":\"not found\"}";
                http_respond(req, 404, "application/json", body, sizeof(body) - 1);
                return;
        }
        _cleanup_free_ char *config = lb->view ? render_materialized(lb) : xstrdup("");
        json_t *masters = json_array();
        for (size_t i = 0; i < lb->n_masters; i++)
                json_array_append_new(masters, json_string(lb->masters[i]));
        _cleanup_(json_decrefp) json_t *doc = json_pack(
                "{s:o,s:s,s:b,s:s?,s:s,s:s?,s:I,s:f,s:s?,s:{s:b,s:i,s:i,s:i,s:i,s:I,s:f,s:s?},s:o,s:o,s:s}",
                "masters", masters, "master", master_url(lb), "connected", lb->attached, "masterError",
                lb->master_error, "group", lb->group, "domain", lb->domain, "syncs", (json_int_t)lb->syncs,
                "lastSyncMs", lb->last_sync_ms, "lastSyncAt", lb->last_sync_at[0] ? lb->last_sync_at : NULL, "haproxy", "running", hs.running,
                "masterPid", hs.master_pid, "workerPid", hs.worker_pid, "reloads", (int)hs.reloads, "failed",
                (int)hs.failed, "commands", (json_int_t)hs.commands, "lastReloadMs", hs.last_reload_ms, "lastError",
                hs.last_error, "services", services_status(lb), "issues", lb->issues ? json_incref(lb->issues) : json_array(),
                "config", config);
        _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
        http_respond(req, 200, "application/json", text, strlen(text));
}

/* ---- flags and lifecycle ---- */

static const char usage[] =
        "usage: strata lb --master URL[,URL...] --group NAME --http-port PORT [--https-port PORT] --domain DOMAIN\n"
        "                 [--ssl-cert PEM] [--bind-addr ADDR] [--strict-mode] [--haproxy PATH] [--data-dir DIR]\n"
        "                 [--http ADDR:PORT] [--log-level LEVEL]\n"
        "                 [--token TOKEN | --service-account NAME --private-key FILE]\n";

static int parse_port(const char *flag, const char *arg, unsigned *ret, struct err *err) {
        if (flags_uint(arg, 1, 65535, ret) < 0)
                return err_set(err, -EINVAL, "%s: '%s' is not a port 1-65535", flag, arg);
        return 0;
}

static int parse_args(struct lb *lb, int argc, char **argv, const char *master, struct err *err) {
        static const struct option opts[] = {
                { "master", required_argument, NULL, 'm' },   { "group", required_argument, NULL, 'g' },
                { "http-port", required_argument, NULL, 'p' }, { "https-port", required_argument, NULL, 's' },
                { "domain", required_argument, NULL, 'd' },   { "haproxy", required_argument, NULL, 'x' },
                { "data-dir", required_argument, NULL, 'D' }, { "ssl-cert", required_argument, NULL, 'c' },
                { "bind-addr", required_argument, NULL, 'b' }, { "strict-mode", no_argument, NULL, 'S' },
                { "http", required_argument, NULL, 'h' },     { "log-level", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'H' },           { "token", required_argument, NULL, 'T' },
                { "service-account", required_argument, NULL, 'A' }, { "private-key", required_argument, NULL, 'K' },
                { 0 },
        };
        int c, r;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'm': flags_list_add_urls(&lb->masters, &lb->n_masters, optarg); break;
                case 'g': free(lb->group), lb->group = xstrdup(optarg); break;
                case 'p':
                        if ((r = parse_port("--http-port", optarg, &lb->co.http_port, err)) < 0)
                                return r;
                        break;
                case 's':
                        if ((r = parse_port("--https-port", optarg, &lb->co.https_port, err)) < 0)
                                return r;
                        break;
                case 'd': free(lb->domain), lb->domain = xstrdup(optarg); break;
                case 'x': free(lb->haproxy_bin), lb->haproxy_bin = xstrdup(optarg); break;
                case 'D': free(lb->data_dir), lb->data_dir = xstrdup(optarg); break;
                case 'c': free(lb->ssl_cert), lb->ssl_cert = xstrdup(optarg); break;
                case 'b': free(lb->bind_addr), lb->bind_addr = xstrdup(optarg); break;
                case 'S': lb->vo.strict = true; break;
                case 'h': free(lb->http_addr), lb->http_addr = flags_listen_addr(optarg, "127.0.0.1"); break;
                case 'l':
                        if (flags_log_level("strata lb", optarg) < 0)
                                return err_set(err, -EINVAL, "--log-level: unknown level '%s'", optarg);
                        break;
                case 'T': free(lb->token_arg), lb->token_arg = xstrdup(optarg); break;
                case 'A': free(lb->account_arg), lb->account_arg = xstrdup(optarg); break;
                case 'K': free(lb->key_arg), lb->key_arg = xstrdup(optarg); break;
                case 'H': return err_set(err, -EINVAL, "%s", usage);
                default:
                        return err_set(err, -EINVAL, "unknown or incomplete option '%s'\n%s", argv[optind - 1], usage);
                }
        }
        if (optind < argc)
                return err_set(err, -EINVAL, "unexpected argument '%s'\n%s", argv[optind], usage);
        if (!lb->masters && master)
                flags_list_add_urls(&lb->masters, &lb->n_masters, master);
        if (!lb->masters)
                return err_set(err, -EINVAL, "--master is required\n%s", usage);
        if (!lb->group)
                return err_set(err, -EINVAL, "--group is required (the HAPROXY_GROUP of the apps to expose; '*' for all)\n%s",
                               usage);
        if (!lb->co.http_port)
                return err_set(err, -EINVAL, "--http-port is required\n%s", usage);
        if (lb->domain && (!*lb->domain || !lb_value_safe(lb->domain) || strpbrk(lb->domain, " \t")))
                return err_set(err, -EINVAL, "--domain: '%s' is not a domain", lb->domain);
        if (lb->co.https_port == lb->co.http_port)
                return err_set(err, -EINVAL, "--https-port must differ from --http-port");
        if (lb->ssl_cert && !lb_value_safe(lb->ssl_cert))
                return err_set(err, -EINVAL, "--ssl-cert: '%s' is not a path", lb->ssl_cert);
        return 0;
}

/* Frees lb and what it owns (its handles are closed, or were never opened). */
static void lb_free(struct lb *lb) {
        json_decref(lb->view);
        json_decref(lb->issues);
        json_decref(lb->held_ports);
        lb_slots_release(&lb->slots);
        sse_parser_release(&lb->sse);
        flags_list_free(lb->masters);
        free(lb->group);
        free(lb->domain);
        free(lb->ssl_cert);
        free(lb->bind_addr);
        free(lb->data_dir);
        free(lb->haproxy_bin);
        free(lb->http_addr);
        free(lb->config_path);
        free(lb->socket_path);
        free(lb->structural);
        free(lb->master_error);
        free(lb->token_arg);
        free(lb->account_arg);
        free(lb->key_arg);
        free(lb->file_header);
        auth_client_release(&lb->auth);
        free(lb);
}

static void handle_closed(uv_handle_t *h) {
        struct lb *lb = h->data;
        if (--lb->handles == 0)
                lb_free(lb);
}

void lb_stop(struct lb *lb) {
        if (!lb || lb->stopping)
                return;
        lb->stopping = true;
        if (lb->events)
                http_client_cancel(lb->http, lb->events);
        lb->events = NULL;
        http_client_free(lb->http);
        http_server_free(lb->api);
        lb_haproxy_free(lb->hx);
        uv_close((uv_handle_t *)&lb->resync_timer, handle_closed);
        uv_close((uv_handle_t *)&lb->reconnect_timer, handle_closed);
        if (lb->own_loop) {
                uv_close((uv_handle_t *)&lb->sigterm, handle_closed);
                uv_close((uv_handle_t *)&lb->sigint, handle_closed);
        }
}

int lb_start(uv_loop_t *loop, int argc, char **argv, const char *master, const char *data_dir, struct lb **ret,
             struct err *err) {
        struct lb *lb = xcalloc(1, sizeof(*lb));
        lb->loop = loop;
        lb_slots_init(&lb->slots);
        sse_parser_init(&lb->sse, SSE_MAX);
        int r = parse_args(lb, argc, argv, master, err);
        if (r < 0) {
                lb_free(lb);
                return r;
        }
        lb->data_dir = lb->data_dir ?: data_dir ? xasprintf("%s/lb", data_dir) : xstrdup(".strata/lb");
        lb->haproxy_bin = lb->haproxy_bin ?: xstrdup("haproxy");
        lb->http_addr = lb->http_addr ?: xstrdup("127.0.0.1:9090");
        if ((r = mkdir_p(lb->data_dir, err)) < 0) {
                lb_free(lb);
                return err_wrap(err, "--data-dir");
        }
        /* HAProxy reads "dir/x.sock" as host "dir/x.sock" without a port: absolute paths only */
        char *abs = realpath(lb->data_dir, NULL);
        if (!abs) {
                r = err_set(err, -errno, "--data-dir '%s': %s", lb->data_dir, strerror(errno));
                lb_free(lb);
                return r;
        }
        free(lb->data_dir);
        lb->data_dir = abs;
        lb->config_path = xasprintf("%s/haproxy.cfg", lb->data_dir);
        lb->socket_path = xasprintf("%s/haproxy.sock", lb->data_dir);
        if (strlen(lb->socket_path) >= 100) {
                r = err_set(err, -ENAMETOOLONG, "--data-dir: '%s' is too long for a unix socket path", lb->socket_path);
                lb_free(lb);
                return r;
        }
        lb->vo = (struct lb_options){ .group = lb->group, .domain = lb->domain, .strict = lb->vo.strict,
                                      .http_port = lb->co.http_port, .https_port = lb->co.https_port,
                                      .ssl_cert = lb->ssl_cert };
        lb->co.admin_socket = lb->socket_path;
        lb->co.bind_addr = lb->bind_addr;
        lb->co.ssl_cert = lb->ssl_cert;
        lb->co.port_taken = port_taken;
        lb->co.data = lb;
        /* HAProxy refuses to start when it needs more descriptors than it may open */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY)
                lb->co.fd_limit = (unsigned)MIN(rl.rlim_max, 1000000);
        struct http_server_config sc = { .loop = loop, .addr = lb->http_addr, .max_body = 4096, .handler = api_handler,
                                         .data = lb };
        if ((r = http_server_new(&sc, &lb->api, err)) < 0) {
                lb_free(lb);
                return err_wrap(err, "--http");
        }
        lb->http = http_client_new(loop);
        if ((r = auth_client_init(&lb->auth, lb->http, lb->token_arg, lb->account_arg, lb->key_arg, err)) < 0) {
                http_client_free(lb->http);
                http_server_free(lb->api);
                lb_free(lb);
                return r;
        }
        lb->auth.on_token = on_login;
        lb->auth.on_token_data = lb;
        struct lb_haproxy_config hc = { .loop = loop, .bin = lb->haproxy_bin, .config_path = lb->config_path,
                                        .socket_path = lb->socket_path, .render = render_materialized, .data = lb };
        lb->hx = lb_haproxy_new(&hc);
        uv_timer_init(loop, &lb->resync_timer);
        uv_timer_init(loop, &lb->reconnect_timer);
        lb->resync_timer.data = lb->reconnect_timer.data = lb;
        lb->handles = 2;
        log_info("lb: group '%s', http :%u%s, status on http://%s/_strata/lb/config, haproxy %s", lb->group,
                 lb->co.http_port, lb->co.https_port ? ", https" : "", lb->http_addr, lb->haproxy_bin);
        connect_events(lb);
        *ret = lb;
        return 0;
}

static void on_signal(uv_signal_t *s, int signum) {
        struct lb *lb = s->data;
        log_info("lb: signal %d: stopping", signum);
        lb_stop(lb);
}

int lb_main(int argc, char **argv) {
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        fputs(usage, stdout);
                        return 0;
                }
        uv_loop_t loop;
        uv_loop_init(&loop);
        signal(SIGPIPE, SIG_IGN);
        struct lb *lb = NULL;
        struct err e = { 0 };
        if (lb_start(&loop, argc, argv, NULL, NULL, &lb, &e) < 0) {
                fprintf(stderr, "strata lb: %s\n", err_msg(&e));
                err_release(&e);
                uv_loop_close(&loop);
                return 2;
        }
        lb->own_loop = true;
        uv_signal_init(&loop, &lb->sigterm);
        uv_signal_init(&loop, &lb->sigint);
        lb->sigterm.data = lb->sigint.data = lb;
        lb->handles += 2;
        uv_signal_start(&lb->sigterm, on_signal, SIGTERM);
        uv_signal_start(&lb->sigint, on_signal, SIGINT);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return 0;
}

char **lb_dev_args(int *argc, char **argv) {
        char **out = NULL;
        size_t n = 0;
        int w = 1;
        bool on = false;
        for (int i = 1; i < *argc; i++) {
                if (streq(argv[i], "--lb")) {
                        on = true;
                } else if (strncmp(argv[i], "--lb-", 5) == 0 && i + 1 < *argc) {
                        if (!out)
                                flags_list_add(&out, &n, "lb");
                        _cleanup_free_ char *flag = xasprintf("--%s", argv[i] + 5);
                        out = xrealloc(out, (n + 3) * sizeof(*out));
                        out[n++] = TAKE_PTR(flag);
                        out[n++] = xstrdup(argv[++i]);
                        out[n] = NULL;
                } else {
                        argv[w++] = argv[i];
                }
        }
        *argc = w;
        argv[w] = NULL;
        if (!on) {
                flags_list_free(out);
                return NULL;
        }
        if (!out)
                flags_list_add(&out, &n, "lb");
        /* `strata dev --lb`: every app with HAPROXY_GROUP=external, vhosts on :10080 */
        static const char *const defaults[][2] = { { "--group", "external" }, { "--http-port", "10080" } };
        for (size_t d = 0; d < ELEMENTSOF(defaults); d++) {
                bool given = false;
                for (size_t k = 1; k < n; k++)
                        given |= streq(out[k], defaults[d][0]);
                if (!given) {
                        out = xrealloc(out, (n + 3) * sizeof(*out));
                        out[n++] = xstrdup(defaults[d][0]);
                        out[n++] = xstrdup(defaults[d][1]);
                        out[n] = NULL;
                }
        }
        return out;
}

void lb_dev_args_free(char **args) {
        flags_list_free(args);
}
