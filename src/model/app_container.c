/* app_container.c — networks, the container (Docker/Mesos engine, volumes) and port mappings. */
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "model/app_internal.h"

#define NETWORK_NAME_PATTERN "^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$"

static bool network_name_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 63)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool an = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                if (!an && !((c == '-' || c == '_') && i > 0 && i + 1 < n))
                        return false;
        }
        return true;
}

void app_build_networks(struct app_build *b) {
        json_t *in = json_object_get(b->in, "networks");
        json_t *out = json_array();
        size_t i, hosts = 0, bridges = 0, containers = 0, unnamed = 0;
        json_t *n;
        bool host_named = false, bridge_named = false, dup = false;

        if (json_array_size(in) == 0) {
                json_array_append_new(out, json_pack("{s:s}", "mode", "host"));
                hosts = 1;
        }
        json_array_foreach(in, i, n) {
                const char *mode = json_string_value(json_object_get(n, "mode")) ?: "container";
                const char *name = json_string_value(json_object_get(n, "name"));
                json_t *labels = json_object_get(n, "labels");
                json_t *o = json_pack("{s:s}", "mode", mode);
                if (streq(mode, "host")) {
                        hosts++;
                        host_named |= (name && *name) || labels;
                } else if (streq(mode, "container/bridge")) {
                        bridges++;
                        bridge_named |= name && *name;
                } else {
                        containers++;
                        if (!name)
                                unnamed++;
                }
                if (name) {
                        if (!network_name_valid(name)) {
                                _cleanup_free_ char *p = xasprintf("/networks(%zu)/name", i);
                                verr(&b->errs, p, "must fully match regular expression '%s'",
                                     NETWORK_NAME_PATTERN);
                        }
                        size_t j;
                        json_t *m;
                        json_array_foreach(out, j, m) {
                                const char *other = json_string_value(json_object_get(m, "name"));
                                if (other && streq(other, name))
                                        dup = true;
                        }
                        json_object_set_new(o, "name", json_string(name));
                }
                if (json_object_size(labels) > 0)
                        json_object_set_new(o, "labels", json_string_map_copy(labels));
                json_array_append_new(out, o);
        }
        if (host_named)
                verr(&b->errs, "/networks", "Host networks may not have names or labels");
        if (bridge_named)
                verr(&b->errs, "/networks", "Bridge networks may not have names");
        if (dup || unnamed > 1)
                verr(&b->errs, "/networks", "Duplicate networks are not allowed");
        if (!((hosts <= 1 && bridges == 0 && containers == 0) || (hosts == 0 && bridges <= 1 && containers == 0) ||
              (hosts == 0 && bridges == 0 && containers > 0)))
                verr(&b->errs, "/networks",
                     "May specify a single host network, single bridge network, or else 1-to-n container networks");
        /* no --default_network_name: a container network must be named */
        if (unnamed > 0)
                verr(&b->errs, "/networks", "Network name must be specified when container network is selected.");

        b->host_network = hosts > 0 && bridges == 0 && containers == 0;
        b->bridge = bridges > 0;
        b->n_container_networks = containers;
        json_object_set_new(b->out, "networks", out);
}

/* ---- port mappings ---- */

static json_t *build_port_mappings(struct app_build *b, const json_t *in, const char *path) {
        json_t *out = json_array();
        json_t *names = json_array(); /* names of the container networks */
        size_t i;
        json_t *m;

        json_array_foreach(json_object_get(b->out, "networks"), i, m)
                if (json_object_get(m, "name"))
                        json_array_append(names, json_object_get(m, "name"));

        json_array_foreach(in, i, m) {
                _cleanup_free_ char *p = path_idx(path, i);
                json_t *o = json_object();
                static const char *const port_keys[] = {"containerPort", "hostPort", "servicePort"};
                for (size_t k = 0; k < ELEMENTSOF(port_keys); k++) {
                        json_t *pv = json_object_get(m, port_keys[k]);
                        _cleanup_free_ char *pp = path_key(p, port_keys[k]);
                        app_check_port_range(pv, pp, &b->errs);
                        if (pv)
                                json_object_set_new(o, port_keys[k], json_integer(json_int_or(pv, 0)));
                        else if (k == 0 || k == 2 || b->bridge)
                                /* containerPort and servicePort default to 0; in bridge mode a
                                 * missing hostPort means 0 (dynamic) as well */
                                json_object_set_new(o, port_keys[k], json_integer(0));
                }
                json_t *proto = json_object_get(m, "protocol");
                json_object_set_new(o, "protocol", proto ? json_incref(proto) : json_string("tcp"));
                json_t *name = json_object_get(m, "name");
                if (name) {
                        _cleanup_free_ char *pn = path_key(p, "name");
                        app_check_port_name(name, pn, &b->errs);
                        json_object_set(o, "name", name);
                }
                json_object_set_new(o, "labels", json_string_map_copy(json_object_get(m, "labels")));
                json_t *nn = json_object_get(m, "networkNames");
                if (json_array_size(nn) > 0) {
                        size_t j;
                        json_t *x;
                        json_array_foreach(nn, j, x) {
                                bool found = false;
                                size_t k;
                                json_t *y;
                                json_array_foreach(names, k, y)
                                        found |= json_equal(x, y);
                                if (!found) {
                                        _cleanup_free_ char *px = xasprintf("%s/networkNames(%zu)", p, j);
                                        _cleanup_free_ char *list = json_dumps(names, JSON_COMPACT);
                                        verr(&b->errs, px, "is not one of %s", list);
                                }
                        }
                        json_object_set_new(o, "networkNames", json_deep_copy(nn));
                }
                if (b->n_container_networks > 1 && json_object_get(m, "hostPort") && json_array_size(nn) != 1)
                        verr(&b->errs, p,
                             "networkNames must be a single item list when hostPort is specified and more than 1 "
                             "container network is defined");
                json_array_append_new(out, o);
        }
        json_decref(names);
        app_check_unique_names(out, path, &b->errs);
        return out;
}

/* ---- volumes ---- */

static bool has_secret(const struct app_build *b, const char *name) {
        return name && json_object_get(json_object_get(b->in, "secrets"), name);
}

static void require_nonempty(struct app_build *b, const json_t *o, const char *key, const char *path) {
        const char *s = json_string_value(json_object_get(o, key));
        if (!s || !*s) {
                _cleanup_free_ char *p = path_key(path, key);
                verr(&b->errs, p, "must not be empty");
        }
}

/* One constraint of a persistent volume: ["path", "LIKE"|"UNLIKE", regex]. */
static void check_volume_constraint(struct app_build *b, const json_t *c, const char *path) {
        size_t n = json_array_size(c);
        const char *field = json_string_value(json_array_get(c, 0));
        const char *op = json_string_value(json_array_get(c, 1));
        const char *value = json_string_value(json_array_get(c, 2));
        if (n == 0) {
                verr(&b->errs, path, "Missing field and operator");
        } else if (n == 3 && field && streq(field, "path") && op) {
                if (!streq(op, "LIKE") && !streq(op, "UNLIKE") && !streq(op, "UNIQUE") && !streq(op, "CLUSTER") &&
                    !streq(op, "GROUP_BY") && !streq(op, "MAX_PER") && !streq(op, "IS"))
                        verr(&b->errs, path, "unknown constraint operator %s", op);
                else if (!streq(op, "LIKE") && !streq(op, "UNLIKE"))
                        verr(&b->errs, path, "Operator must be one of LIKE, UNLIKE");
                else if (!app_regex_valid(value))
                        verr(&b->errs, path, "Invalid regular expression");
        } else {
                struct strbuf sb = {0};
                size_t i;
                json_t *s;
                json_array_foreach(c, i, s) {
                        if (i)
                                strbuf_puts(&sb, ",");
                        strbuf_puts(&sb, json_string_value(s));
                }
                _cleanup_free_ char *joined = strbuf_steal(&sb);
                verr(&b->errs, path, "Unsupported constraint %s", joined);
        }
}

static json_t *build_persistent(struct app_build *b, const json_t *v, const char *path) {
        const json_t *pi = json_object_get(v, "persistent");
        _cleanup_free_ char *pp = path_key(path, "persistent");
        const char *cp = json_string_value(json_object_get(v, "containerPath")) ?: "";
        _cleanup_free_ char *pcp = path_key(path, "containerPath");
        const char *mode = json_string_value(json_object_get(v, "mode")) ?: "RW";
        const char *type = json_string_value(json_object_get(pi, "type")) ?: "root";
        long long size = json_int_or(json_object_get(pi, "size"), 0);
        json_t *max_size = json_object_get(pi, "maxSize");
        json_t *constraints = json_object_get(pi, "constraints");

        if (!*cp)
                verr(&b->errs, pcp, "must not be empty");
        else if (streq(cp, ".") || streq(cp, ".."))
                verr(&b->errs, pcp, "must not be one of (., ..)");
        else if (strchr(cp, '/'))
                verr(&b->errs, pcp, "value must not contain \"/\"");
        if (!streq(mode, "RW")) {
                _cleanup_free_ char *pm = path_key(path, "mode");
                verr(&b->errs, pm, "got %s, expected RW", mode);
        }
        if (size <= 0) {
                _cleanup_free_ char *ps = path_key(pp, "size");
                verr(&b->errs, ps, "got %lld, expected more than 0", size);
        }
        if (max_size && !streq(type, "mount"))
                verr(&b->errs, pp, "Only mount volumes can have maxSize");
        if (max_size && json_int_or(max_size, 0) <= size)
                verr(&b->errs, pp, "Max size must be larger than size");
        if (streq(type, "root") && json_array_size(constraints) > 0)
                verr(&b->errs, pp, "Constraints on root volumes are not supported");
        size_t i;
        json_t *c;
        json_array_foreach(constraints, i, c) {
                _cleanup_free_ char *pc = xasprintf("%s/constraints(%zu)", pp, i);
                check_volume_constraint(b, c, pc);
        }

        json_t *o = json_pack("{s:s,s:s}", "containerPath", cp, "mode", mode);
        json_t *p = json_pack("{s:s,s:I}", "type", type, "size", (json_int_t)size);
        if (max_size)
                json_object_set_new(p, "maxSize", json_integer(json_int_or(max_size, 0)));
        json_copy_key(p, pi, "profileName");
        json_object_set_new(p, "constraints", constraints ? json_deep_copy(constraints) : json_array());
        json_object_set_new(o, "persistent", p);
        b->resident = true;
        return o;
}

static json_t *build_volume(struct app_build *b, const json_t *v, const char *path) {
        if (json_object_get(v, "persistent"))
                return build_persistent(b, v, path);

        json_t *o = json_object();
        json_copy_key(o, v, "containerPath");
        if (json_object_get(v, "external")) {
                const json_t *ext = json_object_get(v, "external");
                _cleanup_free_ char *pe = path_key(path, "external");
                require_nonempty(b, v, "containerPath", path);
                require_nonempty(b, ext, "name", pe);
                if (!json_object_get(ext, "provider")) {
                        _cleanup_free_ char *pp = path_key(pe, "provider");
                        verr(&b->errs, pp, "is not defined");
                }
                json_object_set_new(o, "mode", json_string(json_string_value(json_object_get(v, "mode")) ?: "RW"));
                json_t *e = json_deep_copy(ext);
                if (!json_object_get(e, "shared"))
                        json_object_set_new(e, "shared", json_false());
                json_object_set_new(o, "external", e);
                b->has_external = true;
        } else if (json_object_get(v, "secret")) {
                const char *s = json_string_value(json_object_get(v, "secret"));
                require_nonempty(b, v, "containerPath", path);
                if (!has_secret(b, s))
                        verr(&b->errs, path, "volume.secret must refer to an existing secret");
                json_object_set_new(o, "secret", json_string(s));
        } else {
                require_nonempty(b, v, "containerPath", path);
                require_nonempty(b, v, "hostPath", path);
                json_copy_key(o, v, "hostPath");
                json_object_set_new(o, "mode", json_string(json_string_value(json_object_get(v, "mode")) ?: "RW"));
        }
        return o;
}

/* ---- docker ---- */

static json_t *build_docker(struct app_build *b, const json_t *d, bool mesos) {
        json_t *o = json_object();
        const char *image = json_string_value(json_object_get(d, "image")) ?: "";

        if (!*image)
                verr(&b->errs, "/container/docker/image", "must not be empty");
        json_object_set_new(o, "image", json_string(image));
        json_object_set_new(o, "forcePullImage", json_boolean(json_is_true(json_object_get(d, "forcePullImage"))));
        json_object_set_new(o, "privileged", json_boolean(json_is_true(json_object_get(d, "privileged"))));
        json_t *params = json_object_get(d, "parameters");
        size_t i;
        json_t *p;
        json_array_foreach(params, i, p) {
                if (!*json_string_value(json_object_get(p, "key"))) {
                        _cleanup_free_ char *pk = xasprintf("/container/docker/parameters(%zu)/key", i);
                        verr(&b->errs, pk, "must not be empty");
                }
        }
        json_object_set_new(o, "parameters", params ? json_deep_copy(params) : json_array());
        json_t *pull = json_object_get(d, "pullConfig");
        if (pull) {
                if (!mesos)
                        verr(&b->errs, "/container/docker/pullConfig",
                             "pullConfig is not supported with Docker containerizer");
                else if (!has_secret(b, json_string_value(json_object_get(pull, "secret"))))
                        verr(&b->errs, "/container/docker/pullConfig",
                             "pullConfig.secret must refer to an existing secret");
                json_object_set_new(o, "pullConfig", json_deep_copy(pull));
        }
        return o;
}

void app_build_container(struct app_build *b) {
        const json_t *c = json_object_get(b->in, "container");
        json_t *o;

        if (!c && b->host_network)
                return;
        o = json_object();
        /* non-host networking without a container implies an empty Mesos one */
        const char *type = c ? json_string_value(json_object_get(c, "type")) ?: "DOCKER" : "MESOS";
        bool mesos = streq(type, "MESOS");
        b->docker = !mesos;
        json_object_set_new(o, "type", json_string(type));

        json_t *d = json_object_get(c, "docker");
        if (d)
                json_object_set_new(o, "docker", build_docker(b, d, mesos));
        else if (!mesos)
                verr(&b->errs, "/container/docker", "must not be empty");

        json_t *vols = json_object_get(c, "volumes");
        json_t *vout = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(vols, i, v) {
                _cleanup_free_ char *p = path_idx("/container/volumes", i);
                json_array_append_new(vout, build_volume(b, v, p));
        }
        /* external volume names must be unique */
        json_array_foreach(vout, i, v) {
                const char *na = json_string_value(json_object_get(json_object_get(v, "external"), "name"));
                for (size_t j = i + 1; na && j < json_array_size(vout); j++) {
                        const char *nb = json_string_value(
                                json_object_get(json_object_get(json_array_get(vout, j), "external"), "name"));
                        if (nb && streq(na, nb)) {
                                verr(&b->errs, "/container/volumes", "Volume names must be unique");
                                na = NULL;
                                break;
                        }
                }
        }
        json_object_set_new(o, "volumes", vout);

        if (!b->host_network) {
                json_t *pm = json_object_get(c, "portMappings");
                json_t *def = NULL;
                if (!pm)
                        pm = def = json_pack("[{s:i,s:s}]", "containerPort", 0, "name", "default");
                json_t *mappings = build_port_mappings(b, pm, "/container/portMappings");
                json_decref(def);
                json_object_set_new(o, "portMappings", mappings);
                if (b->docker && b->n_container_networks > 1)
                        verr(&b->errs, "",
                             "may only specify a single container network when using the Docker container engine");
        }
        json_copy_key(o, c, "linuxInfo");
        json_object_set_new(b->out, "container", o);
}
