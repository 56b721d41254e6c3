/* app_health.c — health checks, readiness checks and the 1.9+ Mesos "check", with defaults. */
#include <string.h>

#include "common/alloc.h"
#include "model/app_internal.h"

/* How many ports the app has (port definitions in host mode, else port mappings). */
static size_t port_count(const struct app_build *b) {
        json_t *pd = json_object_get(b->out, "portDefinitions");
        json_t *pm = json_object_get(json_object_get(b->out, "container"), "portMappings");
        return json_array_size(json_array_size(pm) > 0 ? pm : pd);
}

static bool is_marathon_protocol(const char *p) {
        return streq(p, "HTTP") || streq(p, "HTTPS") || streq(p, "TCP");
}

static bool is_mesos_protocol(const char *p) {
        return streq(p, "MESOS_HTTP") || streq(p, "MESOS_HTTPS") || streq(p, "MESOS_TCP") || streq(p, "COMMAND");
}

static bool is_http(const char *p) {
        return streq(p, "HTTP") || streq(p, "HTTPS") || streq(p, "MESOS_HTTP") || streq(p, "MESOS_HTTPS");
}

/* Sets key to the integer in src (default def) after checking it is ≥ min. */
static void int_field(struct app_build *b, json_t *o, const json_t *src, const char *key, long long def,
                      long long min, const char *path) {
        json_t *j = json_object_get(src, key);
        long long val = json_int_or(j, def);
        if (j && val < min) {
                _cleanup_free_ char *p = path_key(path, key);
                verr(&b->errs, p, "got %lld, expected %lld or more", val, min);
        }
        json_object_set_new(o, key, json_integer(val));
}

static json_t *build_health_check(struct app_build *b, const json_t *hc, const char *path, size_t n_ports) {
        json_t *o = json_object();
        json_t *command = json_object_get(hc, "command");
        const char *proto = json_string_value(json_object_get(hc, "protocol")) ?: "HTTP";

        /* a check with a command is a COMMAND check, whatever its protocol says */
        if (command)
                proto = "COMMAND";
        json_object_set_new(o, "protocol", json_string(proto));
        if (streq(proto, "COMMAND")) {
                if (!command) {
                        _cleanup_free_ char *p = path_key(path, "command");
                        verr(&b->errs, p, "A command is required when using the COMMAND health check protocol.");
                } else {
                        json_object_set_new(o, "command", json_pack("{s:O}", "value", json_object_get(command, "value")));
                }
        } else {
                json_t *port = json_object_get(hc, "port");
                json_t *idx = json_object_get(hc, "portIndex");
                if (is_http(proto))
                        json_copy_key(o, hc, "path");
                if (port) {
                        _cleanup_free_ char *pp = path_key(path, "port");
                        app_check_port_range(port, pp, &b->errs);
                        json_object_set_new(o, "port", json_integer(json_int_or(port, 0)));
                }
                if (idx) {
                        json_object_set_new(o, "portIndex", json_integer(json_int_or(idx, 0)));
                } else if (!port && n_ports > 0) {
                        /* Marathon re-adds the old default: the first port */
                        json_object_set_new(o, "portIndex", json_integer(0));
                }
                if (is_marathon_protocol(proto)) {
                        /* "Health check port indices must address an element of the ports array or
                         * container port mappings." */
                        long long i = json_int_or(json_object_get(o, "portIndex"), -1);
                        bool ok = idx ? (i >= 0 && (size_t)i < n_ports) : (port || n_ports > 0);
                        /* An explicit portIndex carries the error (as the example shows);
                         * a check with no port at all, the check itself. */
                        _cleanup_free_ char *ip = path_key(path, "portIndex");
                        if (!ok)
                                verr(&b->errs, idx ? ip : path, "Health check port indices must address an element "
                                                                "of the ports array or container port mappings.");
                }
        }
        int_field(b, o, hc, "gracePeriodSeconds", 300, 0, path);
        int_field(b, o, hc, "intervalSeconds", 60, 0, path);
        int_field(b, o, hc, "timeoutSeconds", 20, 0, path);
        int_field(b, o, hc, "maxConsecutiveFailures", 3, 0, path);
        int_field(b, o, hc, "delaySeconds", 15, 0, path);
        if (streq(proto, "HTTP") || streq(proto, "HTTPS"))
                json_object_set_new(o, "ignoreHttp1xx", json_boolean(json_is_true(json_object_get(hc, "ignoreHttp1xx"))));
        const char *ip = json_string_value(json_object_get(hc, "ipProtocol")) ?: "IPv4";
        if (streq(ip, "IPv6") &&
            !(b->docker && (streq(proto, "MESOS_HTTP") || streq(proto, "MESOS_HTTPS") || streq(proto, "MESOS_TCP"))))
                verr(&b->errs, path, "IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health "
                                     "checks");
        if (streq(proto, "MESOS_HTTP") || streq(proto, "MESOS_HTTPS") || streq(proto, "MESOS_TCP"))
                json_object_set_new(o, "ipProtocol", json_string(ip));
        return o;
}

void app_build_health_checks(struct app_build *b) {
        json_t *in = json_object_get(b->in, "healthChecks");
        size_t i, mesos = 0, commands = 0, n_ports = port_count(b);
        json_t *hc;

        if (json_array_size(in) == 0)
                return;
        json_t *out = json_array();
        json_array_foreach(in, i, hc) {
                _cleanup_free_ char *p = path_idx("/healthChecks", i);
                json_t *o = build_health_check(b, hc, p, n_ports);
                const char *proto = json_string_value(json_object_get(o, "protocol"));
                if (streq(proto, "COMMAND"))
                        commands++;
                if (is_mesos_protocol(proto))
                        mesos++;
                /* a set in Marathon: exact duplicates collapse */
                bool dup = false;
                size_t j;
                json_t *x;
                json_array_foreach(out, j, x)
                        dup |= json_equal(x, o);
                if (dup)
                        json_decref(o);
                else
                        json_array_append_new(out, o);
        }
        /* older Marathons allowed several COMMAND checks; those stay valid */
        if (mesos - commands > 1)
                verr(&b->errs, "", "AppDefinition can contain at most one Mesos health check");
        json_object_set_new(b->out, "healthChecks", out);
}

/* Names of the app's ports (definitions or mappings). */
static bool port_name_exists(const struct app_build *b, const char *name) {
        json_t *pd = json_object_get(b->out, "portDefinitions");
        json_t *pm = json_object_get(json_object_get(b->out, "container"), "portMappings");
        json_t *list = pm ? pm : pd;
        size_t i;
        json_t *el;
        json_array_foreach(list, i, el) {
                const char *n = json_string_value(json_object_get(el, "name"));
                if (n && streq(n, name))
                        return true;
        }
        return false;
}

void app_build_readiness_checks(struct app_build *b) {
        json_t *in = json_object_get(b->in, "readinessChecks");
        size_t i;
        json_t *rc;

        if (json_array_size(in) == 0)
                return;
        if (json_array_size(in) > 1)
                verr(&b->errs, "/readinessChecks", "got %zu, expected 1 or less", json_array_size(in));
        json_t *out = json_array();
        json_array_foreach(in, i, rc) {
                _cleanup_free_ char *p = path_idx("/readinessChecks", i);
                json_t *o = json_object();
                const char *name = json_string_value(json_object_get(rc, "name")) ?: "readinessCheck";
                const char *path = json_string_value(json_object_get(rc, "path")) ?: "/";
                const char *port_name = json_string_value(json_object_get(rc, "portName")) ?: "http-api";
                if (!*name) {
                        _cleanup_free_ char *pn = path_key(p, "name");
                        verr(&b->errs, pn, "must not be empty");
                }
                json_object_set_new(o, "name", json_string(name));
                json_object_set_new(o, "protocol",
                                    json_string(json_string_value(json_object_get(rc, "protocol")) ?: "HTTP"));
                if (!*path || strlen(path) > 1024) {
                        _cleanup_free_ char *pp = path_key(p, "path");
                        verr(&b->errs, pp, "must be between 1 and 1024 characters");
                }
                json_object_set_new(o, "path", json_string(path));
                json_object_set_new(o, "portName", json_string(port_name));
                if (!port_name_exists(b, port_name)) {
                        _cleanup_free_ char *pp = path_key(p, "portName");
                        verr(&b->errs, pp, "No port definition reference for portName %s", port_name);
                }
                int_field(b, o, rc, "intervalSeconds", 30, 0, p);
                int_field(b, o, rc, "timeoutSeconds", 10, 1, p);
                long long interval = json_integer_value(json_object_get(o, "intervalSeconds"));
                long long timeout = json_integer_value(json_object_get(o, "timeoutSeconds"));
                if (timeout >= interval) {
                        _cleanup_free_ char *pt = path_key(p, "timeoutSeconds");
                        verr(&b->errs, pt, "got %lld, expected less than %lld", timeout, interval);
                }
                json_t *codes = json_object_get(rc, "httpStatusCodesForReady");
                json_t *cout = json_array();
                size_t j;
                json_t *code;
                json_array_foreach(codes, j, code) {
                        long long c = json_int_or(code, 0);
                        if (c < 100 || c > 999) {
                                _cleanup_free_ char *pc = xasprintf("%s/httpStatusCodesForReady(%zu)", p, j);
                                verr(&b->errs, pc, "got %lld, expected between 100 and 999", c);
                        }
                        json_t *x = json_integer(c);
                        bool dup = false;
                        size_t k;
                        json_t *y;
                        json_array_foreach(cout, k, y)
                                dup |= json_equal(x, y);
                        if (dup)
                                json_decref(x);
                        else
                                json_array_append_new(cout, x);
                }
                if (json_array_size(cout) == 0)
                        json_array_append_new(cout, json_integer(200));
                json_object_set_new(o, "httpStatusCodesForReady", cout);
                json_object_set_new(o, "preserveLastResponse",
                                    json_boolean(json_is_true(json_object_get(rc, "preserveLastResponse"))));
                json_array_append_new(out, o);
        }
        json_object_set_new(b->out, "readinessChecks", out);
}

void app_build_check(struct app_build *b) {
        json_t *in = json_object_get(b->in, "check");
        if (!in)
                return;
        json_t *o = json_object();
        size_t n_ports = port_count(b);
        static const char *const kinds[] = {"http", "tcp", "exec"};
        size_t found = 0;

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                json_t *x = json_object_get(in, kinds[k]);
                if (!x)
                        continue;
                found++;
                json_t *c = json_deep_copy(x);
                if (k < 2) {
                        json_t *idx = json_object_get(x, "portIndex");
                        if (!idx && !json_object_get(x, "port") && n_ports > 0)
                                json_object_set_new(c, "portIndex", json_integer(0));
                        long long i = json_int_or(json_object_get(c, "portIndex"), -1);
                        bool ok = idx ? (i >= 0 && (size_t)i < n_ports) : (json_object_get(x, "port") || n_ports > 0);
                        if (!ok)
                                verr(&b->errs, "/check",
                                     "check port index must address an element of the ports array or container port "
                                     "mappings.");
                        if (k == 0 && !json_object_get(c, "scheme"))
                                json_object_set_new(c, "scheme", json_string("HTTP"));
                }
                json_object_set_new(o, kinds[k], c);
        }
        if (found != 1)
                verr(&b->errs, "/check", "exactly one of http, tcp or exec must be set");
        int_field(b, o, in, "intervalSeconds", 60, 0, "/check");
        int_field(b, o, in, "timeoutSeconds", 20, 0, "/check");
        int_field(b, o, in, "delaySeconds", 15, 0, "/check");
        if (b->docker)
                verr(&b->errs, "", "AppDefinition must not use 'checks' if using docker");
        json_object_set_new(b->out, "check", o);
}
