/* lb_view.h — what the edge should route: a pure function of the cluster's apps (marathon-lb's
 * label conventions) and the balancer's options, as one JSON document.
 *
 * Input: the "apps" array of GET /v2/apps?embed=apps.tasks and the array of GET /v2/deployments
 * (readiness results of the instances a deployment is waiting for). Output (the view), which
 * lb_config renders into HAProxy's configuration and `GET /_strata/lb/config` shows:
 *
 *   | field                     | meaning                                                         |
 *   | services[]                | one per exposed app service port = one HAProxy backend          |
 *   |   backend                 | "web_10000": app id without '/' ('/' -> '_') + "_" + servicePort |
 *   |   apps[]                  | the app ids whose tasks serve it (two during a blue-green)      |
 *   |   servicePort, bindAddr   | the frontend's bind (HAPROXY_{n}_PORT, _BIND_ADDR; "*" default) |
 *   |   bindOptions, sslCert    | HAPROXY_{n}_BIND_OPTIONS, _SSL_CERT, or null                     |
 *   |   mode, balance           | "http"/"tcp" (_MODE, else http with a vhost or HTTP check), _BALANCE |
 *   |   sticky, redirectToHttps, hsts | _STICKY, _REDIRECT_TO_HTTPS, _USE_HSTS                    |
 *   |   vhosts[], path          | _VHOST (comma list, lower case) plus <name>.<domain>; _PATH      |
 *   |   order                   | _BACKEND_WEIGHT (1 when a path is set): ACL order, larger first |
 *   |   networkAllowed          | _BACKEND_NETWORK_ALLOWED_ACL or null                             |
 *   |   healthCheck             | null or {protocol: http|https|tcp, path, intervalSeconds,       |
 *   |                           |   timeoutSeconds, fall} from the app's Marathon health check     |
 *   |   ab                      | null or {header|cookie, value, backend}: A/B rule to a 2nd backend |
 *   |   servers[]               | {task, app, host, ip, port, checkPort, weight, draining}: only   |
 *   |                           |   TASK_RUNNING, healthy (every check alive) and ready instances   |
 *   | issues[]                  | {app, label, message}: labels not supported or not valid         |
 *
 * Services are sorted by backend name, servers by (ip, port), so equal inputs give equal views. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct lb_options {
        const char *group;   /* --group: apps whose HAPROXY_GROUP (or _{n}_GROUP) names it; "*": all */
        const char *domain;  /* --domain: every http service also answers <dns name>.<domain>; NULL: none */
        bool strict;         /* --strict-mode: only services with HAPROXY_{n}_ENABLED=true */
        unsigned http_port;  /* the shared vhost frontend (0: none) */
        unsigned https_port; /* the shared TLS vhost frontend (0: none) */
        const char *ssl_cert; /* --ssl-cert for the https frontend, or NULL */
};

/* Builds the view. apps and deployments are borrowed (either may be NULL: nothing). Never fails:
 * what cannot be used is reported in issues[]. Returns a new reference. */
json_t *lb_view_build(const json_t *apps, const json_t *deployments, const struct lb_options *o);

/* "web-prod" for "/prod/web": the app's Mesos-DNS label (path segments reversed, joined with
 * '-'), the host name part of its branch vhost. Caller frees. */
char *lb_dns_name(const char *app_id);

/* Strings copied into HAProxy's configuration must not end a line or start a comment there. */
bool lb_value_safe(const char *s);
