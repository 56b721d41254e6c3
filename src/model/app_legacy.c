/* app_legacy.c — translation of the ≤1.4 app fields into the 1.5 networking API.
 *
 * Marathon ≥1.5 still accepts ports, uris, ipAddress, container.docker.network and
 * container.docker.portMappings on input, checks how they mix with the new fields, then rewrites
 * them (its AppNormalization.forDeprecated); they are never emitted. */
#include <string.h>

#include "common/alloc.h"
#include "model/app_internal.h"

/* Marathon's --mesos_bridge_name default: an ipAddress naming it means container/bridge. */
#define MESOS_BRIDGE_NAME "mesos-bridge"

/* FetchUri.isExtract: the path of the URI ends in an archive type the Mesos fetcher unpacks. */
static bool uri_is_archive(const char *uri) {
        static const char *const ext[] = {".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".gz",
                                          ".tgz", ".tbz2",   ".txz",     ".zip",    NULL};
        size_t n = strcspn(uri, "?#");
        for (const char *const *e = ext; *e; e++) {
                size_t m = strlen(*e);
                if (n >= m && strncmp(uri + n - m, *e, m) == 0)
                        return true;
        }
        return false;
}

bool app_uri_is_archive(const char *uri) {
        return app_uri_valid(uri) && uri_is_archive(uri);
}

static bool hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool app_uri_valid(const char *uri) {
        /* java.net.URI refuses characters outside its grammar (space, controls, <>"{}|\^`) and
         * broken %-escapes; a scheme, when present, must start with a letter. */
        const char *colon = strchr(uri, ':');
        const char *slash = strchr(uri, '/');
        if (colon && (!slash || colon < slash)) {
                if (colon == uri)
                        return false;
                if (!((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z')))
                        return false;
                for (const char *c = uri; c < colon; c++)
                        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.", *c))
                                return false;
                if (colon[1] == '\0')
                        return false; /* "scheme:" has no scheme-specific part */
        }
        for (const unsigned char *c = (const unsigned char *)uri; *c; c++) {
                if (*c <= 0x20 || *c == 0x7f || strchr("<>\"{}|\\^`", *c))
                        return false;
                if (*c == '%' && !(hex((char)c[1]) && hex((char)c[2])))
                        return false;
        }
        return true;
}

static bool nonempty_array(const json_t *j) {
        return json_is_array(j) && json_array_size(j) > 0;
}

/* validateOldAppAPI: how the deprecated fields may mix with the canonical ones. */
static void check_old_api(const json_t *app, struct verrs *v) {
        const json_t *container = json_object_get(app, "container");
        const json_t *docker = json_object_get(container, "docker");
        const char *type = json_string_value(json_object_get(container, "type"));
        bool mesos = type && streq(type, "MESOS");
        const json_t *ip = json_object_get(app, "ipAddress");
        const json_t *networks = json_object_get(app, "networks");
        const json_t *ports = json_object_get(app, "ports");
        const json_t *pds = json_object_get(app, "portDefinitions");
        const json_t *uris = json_object_get(app, "uris");

        if (docker) {
                if (json_object_get(docker, "credential"))
                        verr(v, "/container/docker/credential", "must be empty");
                if (mesos) {
                        if (json_object_get(docker, "network"))
                                verr(v, "/container/docker/network", "must be empty");
                        if (nonempty_array(json_object_get(docker, "parameters")))
                                verr(v, "/container/docker/parameters", "must be empty");
                        if (nonempty_array(json_object_get(docker, "portMappings")))
                                verr(v, "/container/docker/portMappings", "must be empty");
                }
        }
        if (ip && container && !mesos &&
            nonempty_array(json_object_get(json_object_get(ip, "discovery"), "ports")))
                verr(v, "/ipAddress", "ipAddress/discovery is not allowed for Docker containers");
        size_t i;
        json_t *el;
        json_array_foreach(uris, i, el) {
                if (!app_uri_valid(json_string_value(el))) {
                        _cleanup_free_ char *p = path_idx("/uris", i);
                        verr(v, p, "URI has invalid syntax.");
                }
        }
        json_array_foreach(ports, i, el) {
                _cleanup_free_ char *p = path_idx("/ports", i);
                app_check_port_range(el, p, v);
        }
        if (nonempty_array(uris) && nonempty_array(json_object_get(app, "fetch")))
                verr(v, "/uris", "may not be set in conjunction with fetch");
        if (json_object_get(docker, "network") && nonempty_array(networks))
                verr(v, "", "must not specify both container.docker.network and networks");
        if (ip && nonempty_array(networks))
                verr(v, "", "must not specify both networks and ipAddress");
        if (ports) {
                size_t j;
                json_t *a;
                bool dup = false;
                json_array_foreach(ports, i, a) {
                        long long p = json_int_or(a, 0);
                        for (j = i + 1; p != 0 && j < json_array_size(ports); j++)
                                if (json_int_or(json_array_get(ports, j), 0) == p)
                                        dup = true;
                }
                if (dup)
                        verr(v, "", "ports must be unique");
        }
        if (ip && (nonempty_array(ports) || nonempty_array(pds)))
                verr(v, "", "cannot specify both an IP address and port");
        if (ports && pds) {
                bool same = json_array_size(ports) == json_array_size(pds);
                for (i = 0; same && i < json_array_size(ports); i++)
                        same = json_int_or(json_array_get(ports, i), 0) ==
                               json_int_or(json_object_get(json_array_get(pds, i), "port"), 0);
                if (!same)
                        verr(v, "", "cannot specify both ports and port definitions");
        }
}

/* NetworkTranslation: ipAddress / docker.network / networks → networks. Returns a new array, or
 * NULL when networks stays as given. */
static json_t *translate_networks(const json_t *ip, const char *dn, const json_t *networks, char **fatal) {
        bool have_networks = nonempty_array(networks);
        json_t *labels = ip ? json_object_get(ip, "labels") : NULL;
        json_t *net;

        if (!ip && !dn)
                return NULL;
        if (have_networks) {
                *fatal = xstrdup("cannot mix deprecated and canonical network APIs");
                return NULL;
        }
        if (dn) {
                if (streq(dn, "HOST"))
                        return json_pack("[{s:s}]", "mode", "host");
                if (streq(dn, "USER")) {
                        net = json_pack("{s:s}", "mode", "container");
                        if (ip && json_is_string(json_object_get(ip, "networkName")))
                                json_object_set(net, "name", json_object_get(ip, "networkName"));
                } else if (streq(dn, "BRIDGE")) {
                        net = json_pack("{s:s}", "mode", "container/bridge");
                } else {
                        *fatal = xasprintf("unsupported docker network type %s", dn);
                        return NULL;
                }
        } else {
                const char *name = json_string_value(json_object_get(ip, "networkName"));
                if (name && streq(name, MESOS_BRIDGE_NAME)) {
                        net = json_pack("{s:s}", "mode", "container/bridge");
                } else {
                        net = json_pack("{s:s}", "mode", "container");
                        if (name)
                                json_object_set_new(net, "name", json_string(name));
                }
        }
        if (json_object_size(labels) > 0)
                json_object_set(net, "labels", labels);
        json_t *arr = json_array();
        json_array_append_new(arr, net);
        return arr;
}

static json_t *default_port_mapping(bool named) {
        json_t *m = json_pack("{s:i}", "containerPort", 0);
        if (named)
                json_object_set_new(m, "name", json_string("default"));
        return m;
}

void app_legacy_translate(json_t *app, struct verrs *v, char **fatal) {
        json_t *container = json_object_get(app, "container");
        json_t *docker = json_object_get(container, "docker");
        json_t *ip = json_object_get(app, "ipAddress");
        const char *dn = json_string_value(json_object_get(docker, "network"));

        check_old_api(app, v);
        if (verrs_any(v))
                return;

        /* uris → fetch */
        json_t *uris = json_object_get(app, "uris");
        if (nonempty_array(uris) && !nonempty_array(json_object_get(app, "fetch"))) {
                json_t *fetch = json_array();
                size_t i;
                json_t *u;
                json_array_foreach(uris, i, u)
                        json_array_append_new(fetch, json_pack("{s:O,s:b}", "uri", u, "extract",
                                                               app_uri_is_archive(json_string_value(u))));
                json_object_set_new(app, "fetch", fetch);
        }
        json_object_del(app, "uris");

        /* networks */
        json_t *networks = json_object_get(app, "networks");
        json_t *translated = translate_networks(ip, dn, networks, fatal);
        if (*fatal)
                return;
        if (translated)
                json_object_set_new(app, "networks", translated);
        else if (networks && json_array_size(networks) == 0)
                json_object_del(app, "networks"); /* [] means the default, host */
        networks = json_object_get(app, "networks");
        bool non_host = false;
        size_t i;
        json_t *n;
        json_array_foreach(networks, i, n) {
                const char *mode = json_string_value(json_object_get(n, "mode"));
                if (!mode || !streq(mode, "host"))
                        non_host = true;
        }

        /* ports → portDefinitions (the migrated list also sizes the port mappings below) */
        json_t *ports = json_object_get(app, "ports");
        if (ports && !json_object_get(app, "portDefinitions")) {
                json_t *pds = json_array();
                json_t *p;
                json_array_foreach(ports, i, p)
                        json_array_append_new(pds, json_pack("{s:O,s:s}", "port", p, "protocol", "tcp"));
                json_object_set_new(app, "portDefinitions", pds);
        }
        json_object_del(app, "ports");
        size_t n_pds = json_array_size(json_object_get(app, "portDefinitions"));
        bool had_pds = json_object_get(app, "portDefinitions") != NULL;
        if (non_host)
                json_object_del(app, "portDefinitions");

        /* container: an ipAddress without one implies an empty Mesos container */
        if (!container && ip) {
                container = json_pack("{s:s}", "type", "MESOS");
                json_object_set_new(app, "container", container);
        }
        if (container) {
                const char *type = json_string_value(json_object_get(container, "type"));
                bool mesos = type && streq(type, "MESOS");
                json_t *pm = json_object_get(container, "portMappings");
                json_t *dpm = json_object_get(docker, "portMappings");

                if (dpm) {
                        if (nonempty_array(pm) && nonempty_array(dpm)) {
                                *fatal = xstrdup("cannot specify both portMappings and docker.portMappings");
                                return;
                        }
                        if (!nonempty_array(pm))
                                json_object_set(container, "portMappings", dpm);
                        json_object_del(docker, "portMappings");
                }
                pm = json_object_get(container, "portMappings");

                json_t *dports = json_object_get(json_object_get(ip, "discovery"), "ports");
                if (nonempty_array(dports)) {
                        if (!mesos) {
                                *fatal = xasprintf("ipAddress.discovery.ports do not apply for container type %s",
                                                   type ? type : "DOCKER");
                                return;
                        }
                        if (nonempty_array(pm)) {
                                *fatal = xstrdup("container.portMappings and ipAddress.discovery.ports must not "
                                                 "both be set");
                                return;
                        }
                        json_t *mappings = json_array();
                        json_t *dp;
                        json_array_foreach(dports, i, dp) {
                                json_t *m = json_pack("{s:I}", "containerPort",
                                                      (json_int_t)json_int_or(json_object_get(dp, "number"), 0));
                                json_copy_key(m, dp, "name");
                                json_copy_key(m, dp, "protocol");
                                json_copy_key(m, dp, "labels");
                                json_array_append_new(mappings, m);
                        }
                        json_object_set_new(container, "portMappings", mappings);
                }
                if (docker)
                        json_object_del(docker, "network");

                if (!non_host) {
                        json_object_del(container, "portMappings");
                } else {
                        pm = json_object_get(container, "portMappings");
                        if (!pm) {
                                pm = json_array();
                                json_array_append_new(pm, default_port_mapping(true));
                                json_object_set_new(container, "portMappings", pm);
                        }
                        /* as many mappings as the (migrated) port definitions asked for */
                        if (had_pds)
                                for (size_t k = json_array_size(pm); k < n_pds; k++)
                                        json_array_append_new(pm, default_port_mapping(false));
                }
        }
        json_object_del(app, "ipAddress");
}
