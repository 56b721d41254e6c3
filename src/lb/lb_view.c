/* lb_view.c — apps and their tasks → the services the edge routes (see lb_view.h). Label meanings
 * follow marathon-lb's Longhelp.md ("Other Labels") and its get_apps()/config() code. */
#include "lb/lb_view.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/macro.h"
#include "common/strbuf.h"

/* Servers per service and vhosts per label are bounded: a label is user input. */
#define MAX_VHOSTS 64

bool lb_value_safe(const char *s) {
        for (; s && *s; s++)
                if ((unsigned char)*s < 0x20 || *s == '#' || *s == 0x7f)
                        return false;
        return true;
}

char *lb_dns_name(const char *app_id) {
        struct strbuf sb = { 0 };
        const char *end = app_id + strlen(app_id);
        while (end > app_id) {
                const char *start = end;
                while (start > app_id && start[-1] != '/')
                        start--;
                if (end > start)
                        strbuf_printf(&sb, "%s%.*s", sb.len ? "-" : "", (int)(end - start), start);
                end = start > app_id ? start - 1 : app_id;
        }
        return sb.len ? strbuf_steal(&sb) : xstrdup("");
}

static const char *label(const json_t *labels, const char *key) {
        return json_string_value(json_object_get(labels, key));
}

static bool label_bool(const char *v) {
        /* marathon-lb's string_to_bool */
        return v && (strcasecmp(v, "true") == 0 || strcasecmp(v, "t") == 0 || strcasecmp(v, "yes") == 0 ||
                     strcasecmp(v, "y") == 0);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret) {
        if (!s || !*s || !isdigit((unsigned char)*s))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static void issue(json_t *issues, const char *app_id, const char *key, const char *fmt, ...) _printf_(4, 5);
static void issue(json_t *issues, const char *app_id, const char *key, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        json_array_append_new(issues, json_pack("{s:s,s:s?,s:s}", "app", app_id, "label", key, "message", msg));
}

/* ---- labels, one row each: what a HAPROXY_{n}_<suffix> label does to its service ---- */

struct service_ctx {
        json_t *svc;           /* the service being built */
        const char *app_id;
        json_t *issues;
        long hc_port_index;    /* HAPROXY_{n}_BACKEND_HEALTHCHECK_PORT_INDEX, -1 unset */
        bool enabled;
        char *group;           /* HAPROXY_{n}_GROUP; owned */
};

typedef int (*label_cb)(struct service_ctx *c, const char *key, const char *value);

static int set_string(struct service_ctx *c, const char *field, const char *value) {
        json_object_set_new(c->svc, field, json_string(value));
        return 0;
}

static int l_vhost(struct service_ctx *c, const char *key, const char *value) {
        json_t *v = json_object_get(c->svc, "vhosts");
        _cleanup_free_ char *copy = xstrdup(value);
        char *save = NULL;
        for (char *h = strtok_r(copy, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
                while (*h == ' ')
                        h++;
                for (char *p = h; *p; p++) {
                        *p = (char)tolower((unsigned char)*p);
                        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_' && *p != '*')
                                return -EINVAL;
                }
                if (*h && json_array_size(v) < MAX_VHOSTS)
                        json_array_append_new(v, json_string(h));
        }
        return 0;
}

static int l_path(struct service_ctx *c, const char *key, const char *value) {
        if (json_integer_value(json_object_get(c->svc, "order")) == 0)
                json_object_set_new(c->svc, "order", json_integer(1));
        return set_string(c, "path", value);
}

static int l_port(struct service_ctx *c, const char *key, const char *value) {
        unsigned long p;
        if (parse_uint(value, 65535, &p) < 0 || p == 0)
                return -EINVAL;
        json_object_set_new(c->svc, "servicePort", json_integer((json_int_t)p));
        return 0;
}

static int l_mode(struct service_ctx *c, const char *key, const char *value) {
        if (strcasecmp(value, "http") != 0 && strcasecmp(value, "tcp") != 0)
                return -EINVAL;
        return set_string(c, "mode", strcasecmp(value, "http") == 0 ? "http" : "tcp");
}

static int l_balance(struct service_ctx *c, const char *key, const char *value) {
        for (const char *p = value; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("-_()., ", *p))
                        return -EINVAL;
        return set_string(c, "balance", value);
}

static int l_bool(struct service_ctx *c, const char *field, const char *value) {
        json_object_set_new(c->svc, field, json_boolean(label_bool(value)));
        return 0;
}

static int l_sticky(struct service_ctx *c, const char *key, const char *value) {
        return l_bool(c, "sticky", value);
}
static int l_redirect(struct service_ctx *c, const char *key, const char *value) {
        return l_bool(c, "redirectToHttps", value);
}
static int l_hsts(struct service_ctx *c, const char *key, const char *value) {
        return l_bool(c, "hsts", value);
}
static int l_enabled(struct service_ctx *c, const char *key, const char *value) {
        c->enabled = label_bool(value);
        return 0;
}

static int l_ssl_cert(struct service_ctx *c, const char *key, const char *value) {
        if (strpbrk(value, " \t") || !*value)
                return -EINVAL;
        return set_string(c, "sslCert", value);
}

static int l_bind_addr(struct service_ctx *c, const char *key, const char *value) {
        unsigned char buf[16];
        if (strcmp(value, "*") != 0 && inet_pton(AF_INET, value, buf) != 1 && inet_pton(AF_INET6, value, buf) != 1)
                return -EINVAL;
        return set_string(c, "bindAddr", value);
}

static int l_bind_options(struct service_ctx *c, const char *key, const char *value) {
        return set_string(c, "bindOptions", value);
}

static int l_group(struct service_ctx *c, const char *key, const char *value) {
        free(c->group);
        c->group = xstrdup(value);
        return 0;
}

static int l_backend_weight(struct service_ctx *c, const char *key, const char *value) {
        char *end;
        long w = strtol(value, &end, 10);
        if (!*value || *end || w < -100000 || w > 100000)
                return -EINVAL;
        json_object_set_new(c->svc, "order", json_integer(w));
        return 0;
}

static int l_network_allowed(struct service_ctx *c, const char *key, const char *value) {
        for (const char *p = value; *p; p++)
                if (!isxdigit((unsigned char)*p) && !strchr("./: ", *p))
                        return -EINVAL;
        return set_string(c, "networkAllowed", value);
}

static int l_hc_port_index(struct service_ctx *c, const char *key, const char *value) {
        unsigned long v;
        if (parse_uint(value, 1000, &v) < 0)
                return -EINVAL;
        c->hc_port_index = (long)v;
        return 0;
}

/* Applied in this order (PATH before BACKEND_WEIGHT: an explicit weight wins over PATH's 1). */
static const struct {
        const char *suffix;
        label_cb apply;
        const char *expect; /* for the issue when the value is refused */
} service_labels[] = {
        { "GROUP", l_group, "a group name" },
        { "ENABLED", l_enabled, "true or false" },
        { "VHOST", l_vhost, "host names separated by ','" },
        { "PATH", l_path, "path_beg patterns" },
        { "BACKEND_WEIGHT", l_backend_weight, "an integer" },
        { "PORT", l_port, "a port 1-65535" },
        { "MODE", l_mode, "http or tcp" },
        { "BALANCE", l_balance, "an HAProxy balance algorithm" },
        { "STICKY", l_sticky, "true or false" },
        { "REDIRECT_TO_HTTPS", l_redirect, "true or false" },
        { "USE_HSTS", l_hsts, "true or false" },
        { "SSL_CERT", l_ssl_cert, "a certificate path" },
        { "BIND_ADDR", l_bind_addr, "an IP address or '*'" },
        { "BIND_OPTIONS", l_bind_options, "HAProxy bind options" },
        { "BACKEND_NETWORK_ALLOWED_ACL", l_network_allowed, "IP addresses or CIDR ranges" },
        { "BACKEND_HEALTHCHECK_PORT_INDEX", l_hc_port_index, "a port index" },
};

/* App-wide labels strata lb understands (the rest of HAPROXY_* is reported). */
static const char *const app_labels[] = {
        "HAPROXY_GROUP",
        "HAPROXY_DEPLOYMENT_GROUP",
        "HAPROXY_DEPLOYMENT_ALT_PORT",
        "HAPROXY_DEPLOYMENT_COLOUR",
        "HAPROXY_DEPLOYMENT_STARTED_AT",
        "HAPROXY_DEPLOYMENT_TARGET_INSTANCES",
        "HAPROXY_DEPLOYMENT_NEW_INSTANCES",
        "STRATA_BRANCH",
        "STRATA_BRANCH_OF",
        "STRATA_DEPLOYMENT_STRATEGY",
        "STRATA_LB_WEIGHT",
        "STRATA_LB_SHARE",
        "STRATA_LB_AB_HEADER",
        "STRATA_LB_AB_COOKIE",
};

/* "HAPROXY_<n>_<suffix>": returns n and points *suffix after it, or -1. */
static long per_port_label(const char *key, const char **suffix) {
        if (strncmp(key, "HAPROXY_", 8) != 0 || !isdigit((unsigned char)key[8]))
                return -1;
        char *end;
        long n = strtol(key + 8, &end, 10);
        if (*end != '_' || n > 1000)
                return -1;
        *suffix = end + 1;
        return n;
}

/* Reports every HAPROXY_* (and STRATA_LB_*) label that no row handles. Once per app. */
static void report_unsupported(const json_t *labels, const char *app_id, json_t *issues) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)labels, key, v) {
                const char *suffix;
                bool known = false;
                if (per_port_label(key, &suffix) >= 0) {
                        for (size_t i = 0; i < ELEMENTSOF(service_labels) && !known; i++)
                                known = streq(suffix, service_labels[i].suffix);
                } else if (strncmp(key, "HAPROXY_", 8) == 0 || strncmp(key, "STRATA_LB_", 10) == 0) {
                        for (size_t i = 0; i < ELEMENTSOF(app_labels) && !known; i++)
                                known = streq(key, app_labels[i]);
                } else {
                        continue;
                }
                if (!known)
                        issue(issues, app_id, key, "not supported by strata lb: ignored");
        }
}

/* ---- health checks ---- */

/* marathon-lb's get_health_check: the first check with a fixed port, or for this port index. */
static const json_t *health_check_for(const json_t *app, long port_index) {
        size_t i;
        const json_t *hc;
        json_array_foreach(json_object_get(app, "healthChecks"), i, hc) {
                const char *proto = json_string_value(json_object_get(hc, "protocol")) ?: "HTTP";
                if (strstr(proto, "COMMAND"))
                        continue;
                if (json_integer_value(json_object_get(hc, "port")) > 0)
                        return hc;
                const json_t *pi = json_object_get(hc, "portIndex");
                if ((pi ? json_integer_value(pi) : 0) == port_index)
                        return hc;
        }
        return NULL;
}

static json_t *health_check_json(const json_t *hc) {
        const char *proto = json_string_value(json_object_get(hc, "protocol")) ?: "HTTP";
        const char *kind = strstr(proto, "HTTPS") ? "https" : strstr(proto, "HTTP") ? "http" : "tcp";
        const char *path = json_string_value(json_object_get(hc, "path")) ?: "/";
        json_int_t interval = json_integer_value(json_object_get(hc, "intervalSeconds"));
        json_int_t timeout = json_integer_value(json_object_get(hc, "timeoutSeconds"));
        json_int_t failures = json_integer_value(json_object_get(hc, "maxConsecutiveFailures"));
        return json_pack("{s:s,s:s,s:I,s:I,s:I}", "protocol", kind, "path", lb_value_safe(path) ? path : "/",
                         "intervalSeconds", interval > 0 ? interval : 60, "timeoutSeconds", timeout > 0 ? timeout : 20,
                         "fall", (failures > 0 ? failures : 3) + 1);
}

/* ---- tasks → servers ---- */

static bool task_healthy(const json_t *app, const json_t *task) {
        size_t checks = json_array_size(json_object_get(app, "healthChecks"));
        if (checks == 0)
                return true;
        const json_t *results = json_object_get(task, "healthCheckResults");
        if (json_array_size(results) < checks)
                return false; /* a check has not reported yet */
        size_t i;
        const json_t *r;
        json_array_foreach(results, i, r)
                if (!json_is_true(json_object_get(r, "alive")))
                        return false;
        return true;
}

static const char *network_mode(const json_t *app) {
        return json_string_value(json_object_get(json_array_get(json_object_get(app, "networks"), 0), "mode"))
                       ?: "host";
}

/* The address and the port of port index idx that reach the task (0 port when it has none). */
static const char *task_endpoint(const json_t *app, const json_t *task, size_t idx, unsigned *port) {
        const char *ip = json_string_value(
                json_object_get(json_array_get(json_object_get(task, "ipAddresses"), 0), "ipAddress"));
        const char *host = json_string_value(json_object_get(task, "host"));
        const json_t *pms = json_object_get(json_object_get(app, "container"), "portMappings");
        unsigned char buf[16];
        *port = 0;
        if (streq(network_mode(app), "container")) {
                /* IP per task: the container port on the task's own address */
                *port = (unsigned)json_integer_value(json_object_get(json_array_get(pms, idx), "containerPort"));
                return ip;
        }
        *port = (unsigned)json_integer_value(json_array_get(json_object_get(task, "ports"), idx));
        if (streq(network_mode(app), "container/bridge") && host && inet_pton(AF_INET, host, buf) == 1)
                return host; /* host ports are mapped on the agent's address */
        return ip ? ip : host;
}

static int server_cmp(const void *a, const void *b) {
        const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        int c = strcmp(json_string_value(json_object_get(x, "ip")), json_string_value(json_object_get(y, "ip")));
        if (c)
                return c;
        json_int_t px = json_integer_value(json_object_get(x, "port")), py = json_integer_value(json_object_get(y, "port"));
        return px < py ? -1 : px > py;
}

static void sort_array(json_t *arr, int (*cmp)(const void *, const void *)) {
        size_t n = json_array_size(arr);
        if (n < 2)
                return;
        json_t **v = xmalloc(n * sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(*v), cmp);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, v[i]);
        free(v);
}

/* ---- apps → members of a service (an app, or the apps of one deployment group) ---- */

struct member {
        const json_t *app;
        const char *id;
        json_t *draining; /* task ids to drain (blue-green), or NULL */
        bool ab;          /* serves the A/B rule's backend */
};

static void service_ports(const json_t *app, json_int_t *ports, size_t *n, size_t max) {
        size_t i;
        const json_t *pd;
        *n = 0;
        json_array_foreach(json_object_get(app, "portDefinitions"), i, pd)
                if (*n < max)
                        ports[(*n)++] = json_integer_value(json_object_get(pd, "port"));
        if (*n)
                return;
        json_array_foreach(json_object_get(json_object_get(app, "container"), "portMappings"), i, pd)
                if (*n < max)
                        ports[(*n)++] = json_integer_value(json_object_get(pd, "servicePort"));
}

static bool group_matches(const char *groups, const char *want) {
        if (streq(want, "*"))
                return true;
        if (!groups)
                return false;
        _cleanup_free_ char *copy = xstrdup(groups);
        char *save = NULL;
        for (char *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save))
                if (streq(g, want))
                        return true;
        return false;
}

static unsigned app_weight(const json_t *labels, const char *app_id, json_t *issues) {
        const char *w = label(labels, "STRATA_LB_WEIGHT");
        unsigned long v = 1;
        if (w && parse_uint(w, 256, &v) < 0) {
                issue(issues, app_id, "STRATA_LB_WEIGHT", "'%s' is not a weight 0-256: using 1", w);
                v = 1;
        }
        return (unsigned)v;
}

static void add_servers(json_t *svc, const struct member *m, size_t idx, long hc_idx, const json_t *hc,
                        const json_t *not_ready, json_t *issues) {
        json_t *servers = json_object_get(svc, "servers");
        unsigned weight = app_weight(json_object_get(m->app, "labels"), m->id, issues);
        unsigned reported = 0;
        size_t i;
        const json_t *t;
        json_array_foreach(json_object_get(m->app, "tasks"), i, t) {
                const char *tid = json_string_value(json_object_get(t, "id"));
                if (!tid || !streq(json_string_value(json_object_get(t, "state")) ?: "", "TASK_RUNNING"))
                        continue;
                if (!task_healthy(m->app, t) || json_object_get(not_ready, tid))
                        continue;
                unsigned port, check_port = 0;
                const char *ip = task_endpoint(m->app, t, idx, &port);
                unsigned char buf[16];
                if (!ip || port == 0 || inet_pton(AF_INET, ip, buf) != 1) {
                        if (!reported++) /* once per app: the others are alike */
                                issue(issues, m->id, NULL,
                                      "task %s has no IPv4 address and port for port index %zu (address '%s'): "
                                      "not a server",
                                      tid, idx, ip ? ip : "");
                        continue;
                }
                if (hc && json_integer_value(json_object_get(hc, "port")) > 0)
                        check_port = (unsigned)json_integer_value(json_object_get(hc, "port"));
                else if (hc && hc_idx >= 0 && (size_t)hc_idx != idx)
                        task_endpoint(m->app, t, (size_t)hc_idx, &check_port);
                json_array_append_new(servers,
                                      json_pack("{s:s,s:s,s:s?,s:s,s:i,s:i,s:i,s:b}", "task", tid, "app", m->id, "host",
                                                json_string_value(json_object_get(t, "host")), "ip", ip, "port", port,
                                                "checkPort", check_port, "weight", weight, "draining",
                                                m->draining && json_object_get(m->draining, tid)));
        }
}

static bool token(const char *s) {
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
                        return false;
        return true;
}

/* "X-Variant: b" (sep ':') or "variant=b" (sep '='): a token name and a value without blanks. */
static bool ab_rule(const char *rule, char sep, char **ret_name, char **ret_value) {
        const char *p = strchr(rule, sep);
        if (!p || p == rule)
                return false;
        _cleanup_free_ char *name = xstrndup(rule, (size_t)(p - rule));
        const char *v = p + 1;
        while (*v == ' ')
                v++;
        if (!token(name) || !*v || strpbrk(v, " \t\"'\\") || !lb_value_safe(v))
                return false;
        *ret_name = TAKE_PTR(name);
        *ret_value = xstrdup(v);
        return true;
}

/* One service of port index idx of the members (members[0] defines it). Returns NULL when the
 * service is not for this balancer. */
static json_t *build_service(const struct member *members, size_t n_members, const char *id, size_t idx,
                             json_int_t service_port, const json_t *not_ready, const struct lb_options *o,
                             json_t *issues, json_t **ab_ret) {
        const json_t *app = members[0].app;
        const json_t *labels = json_object_get(app, "labels");
        _cleanup_free_ char *base = xstrdup(id + (id[0] == '/'));
        for (char *p = base; *p; p++)
                if (*p == '/')
                        *p = '_';
        json_t *svc = json_pack("{s:s,s:[],s:I,s:s,s:n,s:n,s:n,s:s,s:b,s:b,s:b,s:[],s:n,s:i,s:n,s:n,s:n,s:[]}",
                                "backend", "", "apps", "servicePort", service_port, "bindAddr", "*", "bindOptions",
                                "sslCert", "mode", "balance", "roundrobin", "sticky", 0, "redirectToHttps", 0, "hsts",
                                0, "vhosts", "path", "order", 0, "networkAllowed", "healthCheck", "ab", "servers");
        struct service_ctx c = { .svc = svc, .app_id = id, .issues = issues, .hc_port_index = -1,
                                 .enabled = !o->strict };
        for (size_t r = 0; r < ELEMENTSOF(service_labels); r++) {
                _cleanup_free_ char *key = xasprintf("HAPROXY_%zu_%s", idx, service_labels[r].suffix);
                const char *v = label(labels, key);
                if (!v)
                        continue;
                if (!lb_value_safe(v) || service_labels[r].apply(&c, key, v) < 0)
                        issue(issues, id, key, "'%s' is not %s: ignored", v, service_labels[r].expect);
        }
        bool mine = group_matches(c.group ? c.group : label(labels, "HAPROXY_GROUP"), o->group);
        free(c.group);
        if (!mine || !c.enabled) {
                json_decref(svc);
                return NULL;
        }
        /* The port the frontend binds and the backend is named after (marathon-lb sets servicePort). */
        json_int_t port = json_integer_value(json_object_get(svc, "servicePort"));
        _cleanup_free_ char *backend = xasprintf("%s_%lld", base, (long long)port);
        json_object_set_new(svc, "backend", json_string(backend));

        const json_t *hc = health_check_for(app, (long)idx);
        long hc_idx = (long)idx;
        if (!hc && c.hc_port_index >= 0 && (hc = health_check_for(app, c.hc_port_index)))
                hc_idx = c.hc_port_index;
        if (hc) {
                json_t *h = health_check_json(hc);
                /* "if there is a healthcheck configured for the given port, with protocol field set to one
                 * of 'HTTP', 'HTTPS', 'MESOS_HTTP', 'MESOS_HTTPS', the mode will be *overriden* to 'http'" */
                if (!streq(json_string_value(json_object_get(h, "protocol")), "tcp"))
                        json_object_set_new(svc, "mode", json_string("http"));
                json_object_set_new(svc, "healthCheck", h);
        }
        json_t *vhosts = json_object_get(svc, "vhosts");
        /* "if HAPROXY_{n}_VHOST label was specified and HAPROXY_{n}_MODE was not set, then the mode will be
         * set to http" */
        if (json_is_null(json_object_get(svc, "mode")))
                json_object_set_new(svc, "mode", json_string(json_array_size(vhosts) ? "http" : "tcp"));
        bool http = streq(json_string_value(json_object_get(svc, "mode")), "http");
        if (o->domain && http && idx == 0) {
                _cleanup_free_ char *dns = lb_dns_name(id);
                _cleanup_free_ char *vh = xasprintf("%s.%s", dns, o->domain);
                bool have = false;
                size_t k;
                json_t *v;
                json_array_foreach(vhosts, k, v) have |= streq(json_string_value(v), vh);
                if (!have && lb_value_safe(vh))
                        json_array_append_new(vhosts, json_string(vh));
        }
        if (!http) {
                static const char *const http_only[] = { "VHOST", "PATH", "STICKY", "REDIRECT_TO_HTTPS", "USE_HSTS" };
                for (size_t k = 0; k < ELEMENTSOF(http_only); k++) {
                        _cleanup_free_ char *key = xasprintf("HAPROXY_%zu_%s", idx, http_only[k]);
                        if (label(labels, key))
                                issue(issues, id, key, "needs mode http: ignored for a tcp service");
                }
        }

        json_t *ab = NULL;
        for (size_t m = 0; m < n_members; m++) {
                json_array_append_new(json_object_get(svc, "apps"), json_string(members[m].id));
                json_t *target = svc;
                if (members[m].ab && http) {
                        const json_t *ml = json_object_get(members[m].app, "labels");
                        const char *hdr = label(ml, "STRATA_LB_AB_HEADER"), *cookie = label(ml, "STRATA_LB_AB_COOKIE");
                        const char *rule = hdr ? hdr : cookie;
                        _cleanup_free_ char *name = NULL, *value = NULL;
                        if (!ab && ab_rule(rule, hdr ? ':' : '=', &name, &value)) {
                                _cleanup_free_ char *b = xasprintf("%s_b", backend);
                                ab = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[],s:[]}", "match", hdr ? "header" : "cookie",
                                               "name", name, "value", value, "backend", b, "app", members[m].id,
                                               "servers", "apps");
                        } else if (!ab) {
                                issue(issues, members[m].id, hdr ? "STRATA_LB_AB_HEADER" : "STRATA_LB_AB_COOKIE",
                                      "'%s' is not %s: ignored", rule, hdr ? "'Header: value'" : "'cookie=value'");
                        }
                        if (ab)
                                target = ab;
                }
                if (target == ab)
                        json_array_append_new(json_object_get(ab, "apps"), json_string(members[m].id));
                add_servers(target, &members[m], idx, hc_idx, hc, not_ready, issues);
        }
        sort_array(json_object_get(svc, "servers"), server_cmp);
        if (ab) {
                sort_array(json_object_get(ab, "servers"), server_cmp);
                *ab_ret = ab;
        }
        return svc;
}

/* A canary's STRATA_LB_SHARE: percent of the service's requests for the new app's tasks, the rest
 * for the old app's, as HAProxy weights (at most 256, the largest gets 256; a share > 0 never
 * rounds to 0). */
static void apply_share(json_t *svc, const char *new_id, unsigned share) {
        json_t *servers = json_object_get(svc, "servers");
        size_t n_new = 0, n_old = 0, i;
        json_t *srv;
        json_array_foreach(servers, i, srv) {
                if (streq(json_string_value(json_object_get(srv, "app")), new_id))
                        n_new++;
                else
                        n_old++;
        }
        double w_new = n_new ? share / (double)n_new : 0, w_old = n_old ? (100 - share) / (double)n_old : 0;
        double top = MAX(w_new, w_old);
        json_array_foreach(servers, i, srv) {
                double w = streq(json_string_value(json_object_get(srv, "app")), new_id) ? w_new : w_old;
                json_int_t weight = top > 0 ? (json_int_t)(w / top * 256 + 0.5) : 0;
                if (w > 0 && weight == 0)
                        weight = 1;
                json_object_set_new(srv, "weight", json_integer(weight));
        }
}

static void build_services(const struct member *members, size_t n_members, const char *id, const json_t *not_ready,
                           const struct lb_options *o, json_t *services, json_t *issues) {
        json_int_t ports[64];
        size_t n;
        service_ports(members[0].app, ports, &n, ELEMENTSOF(ports));
        for (size_t idx = 0; idx < n; idx++) {
                if (ports[idx] <= 0) {
                        issue(issues, id, NULL, "port index %zu has no service port: not exposed", idx);
                        continue;
                }
                json_t *ab = NULL;
                json_t *svc = build_service(members, n_members, id, idx, ports[idx], not_ready, o, issues, &ab);
                if (!svc)
                        continue;
                if (ab)
                        json_object_set_new(svc, "ab", ab);
                const char *share = n_members == 2 ? label(json_object_get(members[1].app, "labels"), "STRATA_LB_SHARE")
                                                   : NULL;
                unsigned long pct = 0;
                if (share && parse_uint(share, 100, &pct) == 0)
                        apply_share(svc, members[1].id, (unsigned)pct);
                else if (share && idx == 0)
                        issue(issues, members[1].id, "STRATA_LB_SHARE", "'%s' is not a percentage 0-100: ignored",
                              share);
                json_array_append_new(services, svc);
        }
}

/* ---- deployment groups (marathon-lb's zdd): two apps, one backend ---- */

static const char *started_at(const json_t *app) {
        return label(json_object_get(app, "labels"), "HAPROXY_DEPLOYMENT_STARTED_AT") ?: "";
}

static size_t healthy_tasks(const json_t *app) {
        size_t n = 0, i;
        const json_t *t;
        json_array_foreach(json_object_get(app, "tasks"), i, t)
                n += streq(json_string_value(json_object_get(t, "state")) ?: "", "TASK_RUNNING") && task_healthy(app, t);
        return n;
}

static int task_id_cmp(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* marathon-lb get_apps(): "Mark N tasks from old app as draining, where N is the number of instances
 * in the new app", bounded by what the target instance count leaves drainable; old tasks sorted by
 * id "so that we always drain the same tasks". */
static json_t *drain_set(const json_t *old, const json_t *new) {
        const json_t *nl = json_object_get(new, "labels");
        unsigned long target = 1;
        if (label(nl, "HAPROXY_DEPLOYMENT_NEW_INSTANCES") &&
            parse_uint(label(nl, "HAPROXY_DEPLOYMENT_TARGET_INSTANCES"), 1000000, &target) < 0)
                target = 1;
        size_t healthy_new = healthy_tasks(new);
        long old_instances = (long)json_integer_value(json_object_get(old, "instances"));
        long drainable = MAX(0L, (long)healthy_new + old_instances - (long)target);
        const json_t *tasks = json_object_get(old, "tasks");
        size_t n = json_array_size(tasks);
        const char **ids = xcalloc(n ? n : 1, sizeof(*ids));
        for (size_t i = 0; i < n; i++)
                ids[i] = json_string_value(json_object_get(json_array_get(tasks, i), "id")) ?: "";
        qsort(ids, n, sizeof(*ids), task_id_cmp);
        json_t *set = json_object();
        size_t k = MIN(n, MIN(healthy_new, (size_t)drainable));
        for (size_t i = 0; i < k; i++)
                json_object_set_new(set, ids[i], json_true());
        free(ids);
        return set;
}

static json_t *all_tasks(const json_t *app) {
        json_t *set = json_object();
        size_t i;
        const json_t *t;
        json_array_foreach(json_object_get(app, "tasks"), i, t)
                if (json_string_value(json_object_get(t, "id")))
                        json_object_set_new(set, json_string_value(json_object_get(t, "id")), json_true());
        return set;
}

static json_t *not_ready_tasks(const json_t *deployments) {
        json_t *set = json_object();
        size_t i, j, k;
        const json_t *d, *a, *r;
        json_array_foreach(deployments, i, d)
                json_array_foreach(json_object_get(d, "currentActions"), j, a)
                        json_array_foreach(json_object_get(a, "readinessCheckResults"), k, r)
                                if (!json_is_true(json_object_get(r, "ready")) &&
                                    json_string_value(json_object_get(r, "taskId")))
                                        json_object_set_new(set, json_string_value(json_object_get(r, "taskId")),
                                                            json_true());
        return set;
}

static int service_cmp(const void *a, const void *b) {
        return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "backend")),
                      json_string_value(json_object_get(*(json_t *const *)b, "backend")));
}

json_t *lb_view_build(const json_t *apps, const json_t *deployments, const struct lb_options *o) {
        json_t *services = json_array(), *issues = json_array();
        _cleanup_(json_decrefp) json_t *not_ready = not_ready_tasks(deployments);
        _cleanup_(json_decrefp) json_t *groups = json_object(); /* deployment group -> [apps] */
        size_t i;
        const json_t *app;
        json_array_foreach(apps, i, app) {
                const char *id = json_string_value(json_object_get(app, "id"));
                const json_t *labels = json_object_get(app, "labels");
                if (!id)
                        continue;
                /* An id becomes backend names and comments of the configuration: one that could break
                 * a line there (no valid Marathon id can) is left out, never rendered. */
                if (!lb_value_safe(id) || strpbrk(id, " \t")) {
                        issue(issues, id, NULL, "app id is not routable (control characters, '#' or blanks)");
                        continue;
                }
                report_unsupported(labels, id, issues);
                const char *dg = label(labels, "HAPROXY_DEPLOYMENT_GROUP");
                if (dg && *dg && lb_value_safe(dg)) {
                        _cleanup_free_ char *gid = dg[0] == '/' ? xstrdup(dg) : xasprintf("/%s", dg);
                        json_t *list = json_object_get(groups, gid);
                        if (!list)
                                json_object_set_new(groups, gid, list = json_array());
                        json_array_append(list, (json_t *)app);
                        continue;
                }
                struct member m = { .app = app, .id = id };
                build_services(&m, 1, id, not_ready, o, services, issues);
        }
        const char *gid;
        json_t *list;
        json_object_foreach(groups, gid, list) {
                /* the oldest (by HAPROXY_DEPLOYMENT_STARTED_AT) defines the service; at most two serve */
                const json_t *old = json_array_get(list, 0), *new = NULL;
                for (size_t k = 1; k < json_array_size(list); k++) {
                        const json_t *x = json_array_get(list, k);
                        if (strcmp(started_at(x), started_at(old)) < 0) {
                                new = new ? new : old;
                                old = x;
                        } else if (!new || strcmp(started_at(x), started_at(new)) > 0) {
                                new = x;
                        }
                }
                if (json_array_size(list) > 2)
                        issue(issues, gid, "HAPROXY_DEPLOYMENT_GROUP",
                              "%zu apps share this deployment group: only the oldest and the newest serve",
                              json_array_size(list));
                _cleanup_(json_decrefp) json_t *drain = new ? drain_set(old, new) : NULL;
                struct member m[2] = {
                        { .app = old, .id = json_string_value(json_object_get(old, "id")), .draining = drain },
                        { .app = new, .id = new ? json_string_value(json_object_get(new, "id")) : NULL },
                };
                const json_t *nl = new ? json_object_get(new, "labels") : NULL;
                m[1].ab = nl && (label(nl, "STRATA_LB_AB_HEADER") || label(nl, "STRATA_LB_AB_COOKIE"));
                size_t n = new ? 2 : 1;
                if (m[1].ab || (nl && (label(nl, "STRATA_LB_SHARE") ||
                                       streq(label(nl, "STRATA_DEPLOYMENT_STRATEGY") ?: "", "canary")))) {
                        m[0].draining = NULL; /* A/B and canary pairs keep both versions serving */
                } else if (nl && streq(label(nl, "STRATA_DEPLOYMENT_STRATEGY") ?: "", "blue-green")) {
                        /* `strata app deploy --strategy blue-green`: traffic moves in one step, when
                         * every instance of the new version is healthy; until then it gets none */
                        json_decref(drain);
                        drain = NULL;
                        if (healthy_tasks(new) >= (size_t)MAX(1, json_integer_value(json_object_get(new, "instances"))))
                                drain = all_tasks(old);
                        else
                                n = 1;
                        m[0].draining = drain;
                }
                build_services(m, n, gid, not_ready, o, services, issues);
        }
        sort_array(services, service_cmp);
        return json_pack("{s:o,s:o}", "services", services, "issues", issues);
}
