/* app_ports.c — host-mode port definitions and the cluster-unique service ports of an app. */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "model/app.h"
#include "model/app_internal.h"

#define PORT_NAME_PATTERN "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

/* LegacyName: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ */
bool app_port_name_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool an = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                if (!an && !(c == '-' && i > 0 && i + 1 < n))
                        return false;
        }
        return true;
}

void app_check_port_name(const json_t *name, const char *path, struct verrs *v) {
        if (json_is_string(name) && !app_port_name_valid(json_string_value(name)))
                verr(v, path, "must fully match regular expression '%s'", PORT_NAME_PATTERN);
}

void app_check_port_range(const json_t *port, const char *path, struct verrs *v) {
        if (!port)
                return;
        long long p = json_int_or(port, 0);
        if (p < 0 || p > APP_PORT_MAX)
                verr(v, path, "got %lld, expected between 0 and %d", p, APP_PORT_MAX);
}

/* "Port names must be unique." over the "name" members of an array of objects. */
void app_check_unique_names(const json_t *arr, const char *path, struct verrs *v) {
        size_t i, j;
        json_t *a, *b;
        json_array_foreach(arr, i, a) {
                const char *na = json_string_value(json_object_get(a, "name"));
                if (!na)
                        continue;
                for (j = i + 1; j < json_array_size(arr); j++) {
                        b = json_array_get(arr, j);
                        const char *nb = json_string_value(json_object_get(b, "name"));
                        if (nb && streq(na, nb)) {
                                verr(v, path, "Port names must be unique.");
                                return;
                        }
                }
        }
}

void app_build_port_definitions(struct app_build *b) {
        const json_t *in = json_object_get(b->in, "portDefinitions");
        json_t *out;
        size_t i;
        json_t *pd;

        if (!b->host_network)
                return; /* Marathon drops portDefinitions for container networking */
        if (!in) {
                out = json_pack("[{s:i,s:s,s:s}]", "port", 0, "name", "default", "protocol", "tcp");
                json_object_set_new(b->out, "portDefinitions", out);
                return;
        }
        out = json_array();
        json_array_foreach(in, i, pd) {
                _cleanup_free_ char *p = path_idx("/portDefinitions", i);
                _cleanup_free_ char *pport = path_key(p, "port");
                _cleanup_free_ char *pname = path_key(p, "name");
                json_t *o = json_object();
                json_t *port = json_object_get(pd, "port");
                app_check_port_range(port, pport, &b->errs);
                json_object_set_new(o, "port", json_integer(json_int_or(port, 0)));
                json_copy_key(o, pd, "name");
                app_check_port_name(json_object_get(pd, "name"), pname, &b->errs);
                json_t *proto = json_object_get(pd, "protocol");
                json_object_set_new(o, "protocol", proto ? json_incref(proto) : json_string("tcp"));
                json_t *labels = json_object_get(pd, "labels");
                if (json_object_size(labels) > 0)
                        json_object_set_new(o, "labels", json_string_map_copy(labels));
                json_array_append_new(out, o);
        }
        app_check_unique_names(out, "/portDefinitions", &b->errs);
        /* "Ports must be unique." — random ports (0) excepted */
        json_array_foreach(out, i, pd) {
                long long p = json_int_or(json_object_get(pd, "port"), 0);
                bool dup = false;
                for (size_t j = i + 1; p != 0 && j < json_array_size(out); j++)
                        if (json_int_or(json_object_get(json_array_get(out, j), "port"), 0) == p)
                                dup = true;
                if (dup) {
                        verr(&b->errs, "/portDefinitions", "Ports must be unique.");
                        break;
                }
        }
        json_object_set_new(b->out, "portDefinitions", out);
}

/* ---- service ports ---- */

/* The array holding service ports and the member naming them. */
static json_t *service_port_list(const json_t *app, const char **member) {
        json_t *pm = json_object_get(json_object_get(app, "container"), "portMappings");
        if (json_is_array(pm) && !json_object_get(app, "portDefinitions")) {
                *member = "servicePort";
                return pm;
        }
        *member = "port";
        return json_object_get(app, "portDefinitions");
}

void app_service_ports_foreach(const json_t *app, void (*cb)(int port, void *data), void *data) {
        const char *member;
        json_t *list = service_port_list(app, &member);
        size_t i;
        json_t *el;

        json_array_foreach(list, i, el) {
                long long p = json_int_or(json_object_get(el, member), 0);
                if (p > 0 && p <= APP_PORT_MAX)
                        cb((int)p, data);
        }
}

/* True if port is already one of the app's own service ports. */
static bool own_port(json_t *list, const char *member, int port) {
        size_t i;
        json_t *el;
        json_array_foreach(list, i, el)
                if (json_int_or(json_object_get(el, member), 0) == port)
                        return true;
        return false;
}

int app_assign_service_ports(json_t *app, int min, int max, bool (*taken)(int port, void *data), void *data,
                             struct err *err) {
        const char *member;
        json_t *list = service_port_list(app, &member);
        size_t n = json_array_size(list), i;
        json_t *el;
        int next = MAX(min, 1);
        _cleanup_free_ int *chosen = xcalloc(n ? n : 1, sizeof *chosen);

        /* Choose every port first, so that app is unchanged on failure. */
        json_array_foreach(list, i, el) {
                json_t *cur = json_object_get(el, member);
                if (cur && json_int_or(cur, 0) != 0)
                        continue;
                for (; next <= max; next++) {
                        if (own_port(list, member, next))
                                continue;
                        if (taken && taken(next, data))
                                continue;
                        chosen[i] = next++;
                        break;
                }
                if (!chosen[i])
                        return err_set(err, -ENOSPC, "All service ports in the range [%d, %d] are in use", min,
                                       max);
        }
        json_array_foreach(list, i, el)
                if (chosen[i])
                        json_object_set_new(el, member, json_integer(chosen[i]));
        return 0;
}

/* ---- reuse ---- */

static void collect_port(int port, void *data) {
        json_array_append_new(data, json_integer(port));
}

static bool in_list(const json_t *arr, long long port) {
        size_t i;
        json_t *el;
        json_array_foreach(arr, i, el)
                if (json_integer_value(el) == port)
                        return true;
        return false;
}

void app_reuse_service_ports(json_t *app, const json_t *old) {
        const char *member;
        json_t *list = service_port_list(app, &member);
        json_t *mine = json_array(), *before = json_array();
        size_t i, next = 0;
        json_t *el;

        if (old && list) {
                app_service_ports_foreach(app, collect_port, mine);
                app_service_ports_foreach(old, collect_port, before);
                json_array_foreach(list, i, el) {
                        if (json_int_or(json_object_get(el, member), 0) != 0)
                                continue;
                        while (next < json_array_size(before) &&
                               in_list(mine, json_integer_value(json_array_get(before, next))))
                                next++;
                        if (next == json_array_size(before))
                                break;
                        json_t *port = json_array_get(before, next++);
                        json_array_append(mine, port);
                        json_object_set(el, member, port);
                }
        }
        json_decref(mine);
        json_decref(before);
}
