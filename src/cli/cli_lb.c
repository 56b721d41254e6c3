/* cli_lb.c — noun `lb`: what an edge balancer (`strata lb`) routes, from its GET /_strata/lb/config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"
#include "common/strbuf.h"

#define DEFAULT_LB "http://127.0.0.1:9090"

static const struct cli_flag lb_flags[] = {
        { "lb", 0, "URL", "the balancer's status address (default $STRATA_LB, else " DEFAULT_LB ")" },
        { NULL },
};

static int fetch_status(const struct cli_args *a, struct http_reply *reply, struct err *err) {
        const char *url = cli_args_get(a, "lb");
        if (!url)
                url = getenv("STRATA_LB");
        struct cli_http h = { 0 };
        int r = cli_http_init(&h, url && *url ? url : DEFAULT_LB, err);
        if (r < 0)
                return r;
        h.timeout_s = 10;
        r = cli_http_call(&h, "GET", "/_strata/lb/config", NULL, reply, err);
        if (r < 0 && !reply->status) {
                err_release(err);
                r = err_set(err, r, "cannot reach the balancer at %s (--lb URL or $STRATA_LB)", h.base);
        }
        cli_http_release(&h);
        if (r >= 0 && !json_is_object(reply->json))
                return err_set(err, -EBADMSG, "balancer sent no status for GET /_strata/lb/config");
        return r;
}

static char *join_strings(const json_t *arr, const char *sep) {
        struct strbuf sb = { 0 };
        size_t i;
        const json_t *v;
        json_array_foreach(arr, i, v) strbuf_printf(&sb, "%s%s", i ? sep : "", json_string_value(v) ?: "");
        return sb.len ? strbuf_steal(&sb) : xstrdup("-");
}

/* One row per backend of the status: which apps, where traffic enters, which servers take it. */
static struct cli_table *lb_status_table(const json_t *status) {
        static const char *const headers[] = { "APPS", "BACKEND", "MODE", "FRONTEND", "VHOSTS", "SERVERS" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i, j, k;
        const json_t *svc, *b, *srv;
        json_array_foreach(json_object_get(status, "services"), i, svc) {
                json_array_foreach(json_object_get(svc, "backends"), j, b) {
                        const json_t *ab = json_object_get(svc, "ab");
                        _cleanup_free_ char *apps = j == 0 ? join_strings(json_object_get(svc, "apps"), ",")
                                                          : join_strings(json_object_get(ab, "apps"), ",");
                        _cleanup_free_ char *front = xasprintf(
                                "%s:%lld%s%s", json_string_value(json_object_get(svc, "bindAddr")),
                                (long long)json_integer_value(json_object_get(svc, "servicePort")),
                                j ? " if " : "",
                                j ? json_string_value(json_object_get(ab, "match")) : "");
                        _cleanup_free_ char *vhosts = join_strings(json_object_get(svc, "vhosts"), ",");
                        struct strbuf servers = { 0 };
                        json_array_foreach(json_object_get(b, "servers"), k, srv)
                                strbuf_printf(&servers, "%s%s:%lld%s%s", k ? " " : "",
                                              json_string_value(json_object_get(srv, "ip")),
                                              (long long)json_integer_value(json_object_get(srv, "port")),
                                              json_is_true(json_object_get(srv, "draining")) ? "(drain)" : "",
                                              json_integer_value(json_object_get(srv, "weight")) != 1 ? "(w)" : "");
                        _cleanup_free_ char *servers_text = servers.len ? strbuf_steal(&servers) : xstrdup("-");
                        strbuf_release(&servers);
                        const char *path = json_string_value(json_object_get(svc, "path"));
                        _cleanup_free_ char *vh = path ? xasprintf("%s%s", vhosts, path) : xstrdup(vhosts);
                        cli_table_add(t, (const char *[]){ apps, json_string_value(json_object_get(b, "name")),
                                                           json_string_value(json_object_get(svc, "mode")), front, vh,
                                                           servers_text });
                }
        }
        return t;
}

static int lb_status(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = fetch_status(a, &reply, err);
        if (r < 0)
                return r;
        const json_t *st = reply.json;
        if (c->output == CLI_OUTPUT_JSON) {
                json_t *copy = json_deep_copy(st);
                json_object_del(copy, "config");
                cli_print_json(c->out, copy);
                json_decref(copy);
                return 0;
        }
        const json_t *hx = json_object_get(st, "haproxy");
        fprintf(c->out, "master %s (%s), group '%s', %lld syncs, last in %.1f ms\n",
                json_string_value(json_object_get(st, "master")),
                json_is_true(json_object_get(st, "connected")) ? "following events" : "not connected",
                json_string_value(json_object_get(st, "group")),
                (long long)json_integer_value(json_object_get(st, "syncs")),
                json_number_value(json_object_get(st, "lastSyncMs")));
        fprintf(c->out, "haproxy %s, worker %lld, %lld reloads (%lld failed), %lld runtime commands\n",
                json_is_true(json_object_get(hx, "running")) ? "serving" : "NOT serving",
                (long long)json_integer_value(json_object_get(hx, "workerPid")),
                (long long)json_integer_value(json_object_get(hx, "reloads")),
                (long long)json_integer_value(json_object_get(hx, "failed")),
                (long long)json_integer_value(json_object_get(hx, "commands")));
        if (json_string_value(json_object_get(hx, "lastError")))
                fprintf(c->out, "last error: %s\n", json_string_value(json_object_get(hx, "lastError")));
        _cleanup_(cli_table_freep) struct cli_table *t = lb_status_table(st);
        cli_table_print(t, c->out);
        size_t i;
        const json_t *is;
        json_array_foreach(json_object_get(st, "issues"), i, is) {
                const char *app = json_string_value(json_object_get(is, "app"));
                const char *label = json_string_value(json_object_get(is, "label"));
                fprintf(c->out, "issue: %s%s%s%s%s\n", app ? app : "", app ? ": " : "", label ? label : "",
                        label ? ": " : "", json_string_value(json_object_get(is, "message")));
        }
        return 0;
}

static int lb_config(struct cli *c, const struct cli_args *a, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = fetch_status(a, &reply, err);
        if (r < 0)
                return r;
        fputs(json_string_value(json_object_get(reply.json, "config")) ?: "", c->out);
        return 0;
}

static const struct cli_verb lb_verbs[] = {
        { "status", NULL, "Show where each app's traffic goes through a balancer, and its issues", NULL, 0, 0,
          lb_flags, lb_status },
        { "config", NULL, "Print the HAProxy configuration a balancer renders", NULL, 0, 0, lb_flags, lb_config },
        { NULL },
};

extern const struct cli_noun cli_noun_lb;
const struct cli_noun cli_noun_lb = {
        .name = "lb",
        .summary = "Edge balancers (`strata lb`): routes, servers, rendered HAProxy configuration",
        .verbs = lb_verbs,
};
