/* pod.c — pod definitions as Marathon 1.10 reads them: the RAML reader (types, enums in any case,
 * facets such as Name patterns and minimums: "Invalid JSON"), then PodsValidation, NetworkValidation
 * and SchedulingValidation's rules ("Object is not valid"), then the canonical form. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "model/app.h"
#include "model/app_id.h"
#include "model/app_internal.h"
#include "model/json_schema.h"
#include "model/pod.h"

/* ---- the RAML reader's facets -------------------------------------------------------------- */

/* stringTypes.raml Name: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, 1..63 characters (NetworkName also
 * allows '_' inside). */
static bool name_ok(const char *s, bool underscore) {
        size_t n = strlen(s);
        if (n < 1 || n > 63)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                bool inner = c == '-' || (underscore && c == '_');
                if (!alnum && (!inner || i == 0 || i == n - 1))
                        return false;
        }
        return true;
}

static void check_name(const json_t *j, const char *path, struct verrs *v) {
        if (!json_is_string(j))
                verr(v, path, "error.expected.jsstring");
        else if (!name_ok(json_string_value(j), false))
                verr(v, path, "error.pattern");
}
static void check_network_name(const json_t *j, const char *path, struct verrs *v) {
        if (!json_is_string(j))
                verr(v, path, "error.expected.jsstring");
        else if (!name_ok(json_string_value(j), true))
                verr(v, path, "error.pattern");
}
static void check_nonempty(const json_t *j, const char *path, struct verrs *v) {
        if (!json_is_string(j))
                verr(v, path, "error.expected.jsstring");
        else if (json_string_length(j) < 1)
                verr(v, path, "error.minLength");
}

/* A number with a RAML minimum/maximum: Play's "error.min" / "error.max". */
static void check_range(const json_t *j, const char *path, struct verrs *v, double lo, double hi, bool integral) {
        if (!json_is_number(j)) {
                verr(v, path, "error.expected.jsnumber");
                return;
        }
        double d = json_number_value(j);
        if (integral && !json_is_integer(j) && d != (double)(long long)d)
                verr(v, path, "error.expected.int");
        else if (d < lo)
                verr(v, path, "error.min");
        else if (d > hi)
                verr(v, path, "error.max");
}
#define RANGE(fn, lo, hi, integral)                                                      \
        static void fn(const json_t *j, const char *path, struct verrs *v) {             \
                check_range(j, path, v, lo, hi, integral);                               \
        }
RANGE(check_min0, 0, 1e300, false)
RANGE(check_min0_int, 0, 2147483647.0, true)
RANGE(check_resource, 0.001, 1e300, false)
RANGE(check_fraction, 0, 1, false)
RANGE(check_port, 1, 65535, true)
RANGE(check_any_port, 0, 65535, true)

static const struct json_schema S_STRING = { .kind = JK_STRING };
static const struct json_schema S_BOOL = { .kind = JK_BOOL };
static const struct json_schema S_LONG = { .kind = JK_LONG };
static const struct json_schema S_ANY = { .kind = JK_ANY };
static const struct json_schema S_STRINGS = { .kind = JK_ARRAY, .elem = &S_STRING };
static const struct json_schema S_LABELS = { .kind = JK_MAP, .elem = &S_STRING };
static const struct json_schema S_NAME = { .kind = JK_CUSTOM, .custom = check_name };
static const struct json_schema S_NAMES = { .kind = JK_ARRAY, .elem = &S_NAME };
static const struct json_schema S_NETWORK_NAME = { .kind = JK_CUSTOM, .custom = check_network_name };
static const struct json_schema S_NONEMPTY = { .kind = JK_CUSTOM, .custom = check_nonempty };
static const struct json_schema S_MIN0 = { .kind = JK_CUSTOM, .custom = check_min0 };
static const struct json_schema S_MIN0_INT = { .kind = JK_CUSTOM, .custom = check_min0_int };
static const struct json_schema S_RESOURCE = { .kind = JK_CUSTOM, .custom = check_resource };
static const struct json_schema S_FRACTION = { .kind = JK_CUSTOM, .custom = check_fraction };
static const struct json_schema S_PORT = { .kind = JK_CUSTOM, .custom = check_port };
static const struct json_schema S_ANY_PORT = { .kind = JK_CUSTOM, .custom = check_any_port };

#define ENUM(name, ...)                                                  \
        static const char *const name##_values[] = { __VA_ARGS__, NULL }; \
        static const struct json_schema name = { .kind = JK_ENUM_NOCASE, .enums = name##_values }

ENUM(S_NETWORK_MODE, "container", "container/bridge", "host");
ENUM(S_IMAGE_KIND, "DOCKER");
ENUM(S_HTTP_SCHEME, "HTTP", "HTTPS");
ENUM(S_SCALING_KIND, "fixed");
ENUM(S_KILL_SELECTION, "YOUNGEST_FIRST", "OLDEST_FIRST");
ENUM(S_OPERATOR, "UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS");
ENUM(S_PERSISTENT_TYPE, "root", "path", "mount");

/* environmentVariable.raml EnvVars: keys ^[a-zA-Z_][a-zA-Z0-9_]{0,253}$ (the generator's
 * keyPattern: "error.pattern" on the map), values a string or {"secret": name}. */
static const struct json_field F_ENV_SECRET[] = { { "secret", &S_STRING, true }, { 0 } };
static const struct json_schema S_ENV_SECRET = { .kind = JK_OBJECT, .fields = F_ENV_SECRET };

static bool env_key_ok(const char *k) {
        size_t n = strlen(k);
        if (n < 1 || n > 254 || (k[0] >= '0' && k[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') ||
                      k[i] == '_'))
                        return false;
        return true;
}

static void check_env(const json_t *j, const char *path, struct verrs *v) {
        if (!json_is_object(j)) {
                verr(v, path, "error.expected.jsobject");
                return;
        }
        const char *k;
        json_t *val;
        bool keys_ok = true;
        json_object_foreach((json_t *)j, k, val) {
                _cleanup_free_ char *p = path_key(path, k);
                keys_ok = keys_ok && env_key_ok(k);
                if (json_is_object(val))
                        json_schema_check(&S_ENV_SECRET, val, p, v);
                else if (!json_is_string(val))
                        verr(v, p, "error.expected.jsstring");
        }
        if (!keys_ok)
                verr(v, path, "error.pattern");
}
static const struct json_schema S_ENV = { .kind = JK_CUSTOM, .custom = check_env };

/* mesosCommand.raml MesosCommand: {"shell": string} or {"argv": [string]}. */
static void check_command(const json_t *j, const char *path, struct verrs *v) {
        if (!json_is_object(j)) {
                verr(v, path, "error.expected.jsobject");
                return;
        }
        const json_t *shell = json_object_get(j, "shell"), *argv = json_object_get(j, "argv");
        if (shell) {
                _cleanup_free_ char *p = path_key(path, "shell");
                json_schema_check(&S_STRING, shell, p, v);
        } else if (argv) {
                _cleanup_free_ char *p = path_key(path, "argv");
                json_schema_check(&S_STRINGS, argv, p, v);
        } else {
                _cleanup_free_ char *p = path_key(path, "shell");
                verr(v, p, "error.path.missing");
        }
}
static const struct json_schema S_COMMAND = { .kind = JK_CUSTOM, .custom = check_command };

/* unreachableStrategy.raml: "disabled" or {inactiveAfterSeconds, expungeAfterSeconds}. */
static const struct json_field F_UNREACHABLE[] = {
        { "inactiveAfterSeconds", &S_LONG, false },
        { "expungeAfterSeconds", &S_LONG, false },
        { 0 },
};
static const struct json_schema S_UNREACHABLE_OBJ = { .kind = JK_OBJECT, .fields = F_UNREACHABLE };
static void check_unreachable(const json_t *j, const char *path, struct verrs *v) {
        if (json_is_string(j)) {
                if (strcasecmp(json_string_value(j), "disabled") != 0)
                        verr(v, path, "error.expected.validenumvalue");
                return;
        }
        json_schema_check(&S_UNREACHABLE_OBJ, j, path, v);
}
static const struct json_schema S_UNREACHABLE = { .kind = JK_CUSTOM, .custom = check_unreachable,
                                                  .prune_as = &S_UNREACHABLE_OBJ };

static const struct json_field F_RESOURCES[] = {
        { "cpus", &S_RESOURCE, false }, /* RAML defaults: 1.0 */
        { "mem", &S_RESOURCE, false },  /* 128.0 */
        { "disk", &S_MIN0, false },
        { "gpus", &S_MIN0_INT, false },
        { 0 },
};
static const struct json_schema S_RESOURCES = { .kind = JK_OBJECT, .fields = F_RESOURCES };

static const struct json_field F_EXEC[] = {
        { "command", &S_COMMAND, true },
        { "overrideEntrypoint", &S_BOOL, false },
        { 0 },
};
static const struct json_schema S_EXEC = { .kind = JK_OBJECT, .fields = F_EXEC };

static const struct json_field F_ENDPOINT[] = {
        { "name", &S_NAME, true },
        { "containerPort", &S_PORT, false },
        { "hostPort", &S_ANY_PORT, false },
        { "protocol", &S_NAMES, false },
        { "labels", &S_LABELS, false },
        { "networkNames", &S_NAMES, false },
        { 0 },
};
static const struct json_schema S_ENDPOINT = { .kind = JK_OBJECT, .fields = F_ENDPOINT };
static const struct json_schema S_ENDPOINTS = { .kind = JK_ARRAY, .elem = &S_ENDPOINT };

static const struct json_field F_PULL_CONFIG[] = { { "secret", &S_STRING, true }, { 0 } };
static const struct json_schema S_PULL_CONFIG = { .kind = JK_OBJECT, .fields = F_PULL_CONFIG };
static const struct json_field F_IMAGE[] = {
        { "kind", &S_IMAGE_KIND, true },    { "id", &S_NONEMPTY, true },     { "pullConfig", &S_PULL_CONFIG, false },
        { "forcePull", &S_BOOL, false },    { "labels", &S_LABELS, false }, { 0 },
};
static const struct json_schema S_IMAGE = { .kind = JK_OBJECT, .fields = F_IMAGE };

static const struct json_field F_HTTP_CHECK[] = {
        { "endpoint", &S_NAME, true },
        { "path", &S_STRING, false },
        { "scheme", &S_HTTP_SCHEME, false },
        { 0 },
};
static const struct json_schema S_HTTP_CHECK = { .kind = JK_OBJECT, .fields = F_HTTP_CHECK };
static const struct json_field F_TCP_CHECK[] = { { "endpoint", &S_NAME, true }, { 0 } };
static const struct json_schema S_TCP_CHECK = { .kind = JK_OBJECT, .fields = F_TCP_CHECK };
static const struct json_field F_COMMAND_CHECK[] = { { "command", &S_COMMAND, true }, { 0 } };
static const struct json_schema S_COMMAND_CHECK = { .kind = JK_OBJECT, .fields = F_COMMAND_CHECK };
static const struct json_field F_HEALTH[] = {
        { "http", &S_HTTP_CHECK, false },
        { "tcp", &S_TCP_CHECK, false },
        { "exec", &S_COMMAND_CHECK, false },
        { "gracePeriodSeconds", &S_MIN0_INT, false },
        { "intervalSeconds", &S_MIN0_INT, false },
        { "maxConsecutiveFailures", &S_MIN0_INT, false },
        { "timeoutSeconds", &S_MIN0_INT, false },
        { "delaySeconds", &S_MIN0_INT, false },
        { 0 },
};
static const struct json_schema S_HEALTH = { .kind = JK_OBJECT, .fields = F_HEALTH };

static const struct json_field F_MOUNT[] = {
        { "name", &S_NAME, true },
        { "mountPath", &S_NONEMPTY, true },
        { "readOnly", &S_BOOL, false },
        { 0 },
};
static const struct json_schema S_MOUNT = { .kind = JK_OBJECT, .fields = F_MOUNT };
static const struct json_schema S_MOUNTS = { .kind = JK_ARRAY, .elem = &S_MOUNT };

static const struct json_field F_ARTIFACT[] = {
        { "uri", &S_NONEMPTY, true },     { "extract", &S_BOOL, false },     { "executable", &S_BOOL, false },
        { "cache", &S_BOOL, false },      { "destPath", &S_NONEMPTY, false }, { 0 },
};
static const struct json_schema S_ARTIFACT = { .kind = JK_OBJECT, .fields = F_ARTIFACT };
static const struct json_schema S_ARTIFACTS = { .kind = JK_ARRAY, .elem = &S_ARTIFACT };

static const struct json_field F_LIFECYCLE[] = { { "killGracePeriodSeconds", &S_MIN0, false }, { 0 } };
static const struct json_schema S_LIFECYCLE = { .kind = JK_OBJECT, .fields = F_LIFECYCLE };

static const struct json_field F_CONTAINER[] = {
        { "name", &S_NAME, true },
        { "exec", &S_EXEC, false },
        { "resources", &S_RESOURCES, true },
        { "resourceLimits", &S_ANY, false },
        { "endpoints", &S_ENDPOINTS, false },
        { "linuxInfo", &S_ANY, false },
        { "image", &S_IMAGE, false },
        { "environment", &S_ENV, false },
        { "user", &S_STRING, false },
        { "healthCheck", &S_HEALTH, false },
        { "check", &S_ANY, false },
        { "volumeMounts", &S_MOUNTS, false },
        { "artifacts", &S_ARTIFACTS, false },
        { "labels", &S_LABELS, false },
        { "lifecycle", &S_LIFECYCLE, false },
        { "tty", &S_BOOL, false },
        { 0 },
};
static const struct json_schema S_CONTAINER = { .kind = JK_OBJECT, .fields = F_CONTAINER };

static const struct json_schema S_CONTAINER_LIST = { .kind = JK_ARRAY, .elem = &S_CONTAINER };
static void check_containers(const json_t *j, const char *path, struct verrs *v) {
        if (json_is_array(j) && json_array_size(j) == 0)
                verr(v, path, "error.minLength"); /* minItems: 1 */
        else
                json_schema_check(&S_CONTAINER_LIST, j, path, v);
}
static const struct json_schema S_CONTAINERS = { .kind = JK_CUSTOM, .custom = check_containers,
                                                 .prune_as = &S_CONTAINER_LIST };

static const struct json_field F_PERSISTENT[] = {
        { "type", &S_PERSISTENT_TYPE, false }, { "size", &S_LONG, true },       { "maxSize", &S_LONG, false },
        { "profileName", &S_STRING, false },   { "constraints", &S_ANY, false }, { 0 },
};
static const struct json_schema S_PERSISTENT = { .kind = JK_OBJECT, .fields = F_PERSISTENT };

/* volumes.raml PodVolume: persistent | secret | host | ephemeral, told apart by their fields. */
static void check_volume(const json_t *j, const char *path, struct verrs *v) {
        static const struct json_field f_persistent[] = { { "name", &S_NONEMPTY, true },
                                                           { "persistent", &S_PERSISTENT, true }, { 0 } };
        static const struct json_field f_secret[] = { { "name", &S_NONEMPTY, true },
                                                       { "secret", &S_NONEMPTY, true }, { 0 } };
        static const struct json_field f_host[] = { { "name", &S_NAME, true }, { "host", &S_STRING, true }, { 0 } };
        static const struct json_field f_ephemeral[] = { { "name", &S_NAME, true }, { 0 } };
        if (!json_is_object(j)) {
                verr(v, path, "error.expected.jsobject");
                return;
        }
        const struct json_field *f = json_object_get(j, "persistent") ? f_persistent
                                     : json_object_get(j, "secret")   ? f_secret
                                     : json_object_get(j, "host")     ? f_host
                                                                      : f_ephemeral;
        struct json_schema s = { .kind = JK_OBJECT, .fields = f };
        json_schema_check(&s, j, path, v);
}
/* What a volume of any kind may hold (for pruning). */
static const struct json_field F_ANY_VOLUME[] = {
        { "name", &S_STRING, false },
        { "host", &S_STRING, false },
        { "secret", &S_STRING, false },
        { "persistent", &S_PERSISTENT, false },
        { 0 },
};
static const struct json_schema S_ANY_VOLUME = { .kind = JK_OBJECT, .fields = F_ANY_VOLUME };
static const struct json_schema S_VOLUME = { .kind = JK_CUSTOM, .custom = check_volume, .prune_as = &S_ANY_VOLUME };
static const struct json_schema S_VOLUMES = { .kind = JK_ARRAY, .elem = &S_VOLUME };

static const struct json_field F_NETWORK[] = {
        { "name", &S_NETWORK_NAME, false },
        { "mode", &S_NETWORK_MODE, false },
        { "labels", &S_LABELS, false },
        { 0 },
};
static const struct json_schema S_NETWORK = { .kind = JK_OBJECT, .fields = F_NETWORK };
static const struct json_schema S_NETWORKS = { .kind = JK_ARRAY, .elem = &S_NETWORK };

static const struct json_field F_SCALING[] = {
        { "kind", &S_SCALING_KIND, true },
        { "instances", &S_MIN0_INT, false },
        { "maxInstances", &S_MIN0_INT, false },
        { 0 },
};
static const struct json_schema S_SCALING = { .kind = JK_OBJECT, .fields = F_SCALING };

static const struct json_field F_BACKOFF[] = {
        { "backoff", &S_MIN0, false },
        { "backoffFactor", &S_MIN0, false },
        { "maxLaunchDelay", &S_MIN0, false },
        { 0 },
};
static const struct json_schema S_BACKOFF = { .kind = JK_OBJECT, .fields = F_BACKOFF };
static const struct json_field F_UPGRADE[] = {
        { "minimumHealthCapacity", &S_FRACTION, false },
        { "maximumOverCapacity", &S_FRACTION, false },
        { 0 },
};
static const struct json_schema S_UPGRADE = { .kind = JK_OBJECT, .fields = F_UPGRADE };
static const struct json_field F_CONSTRAINT[] = {
        { "fieldName", &S_STRING, true },
        { "operator", &S_OPERATOR, true },
        { "value", &S_STRING, false },
        { 0 },
};
static const struct json_schema S_CONSTRAINT = { .kind = JK_OBJECT, .fields = F_CONSTRAINT };
static const struct json_schema S_CONSTRAINTS = { .kind = JK_ARRAY, .elem = &S_CONSTRAINT };
static const struct json_field F_PLACEMENT[] = {
        { "constraints", &S_CONSTRAINTS, false },
        { "acceptedResourceRoles", &S_STRINGS, false },
        { 0 },
};
static const struct json_schema S_PLACEMENT = { .kind = JK_OBJECT, .fields = F_PLACEMENT };
static const struct json_field F_SCHEDULING[] = {
        { "backoff", &S_BACKOFF, false },          { "upgrade", &S_UPGRADE, false },
        { "placement", &S_PLACEMENT, false },      { "killSelection", &S_KILL_SELECTION, false },
        { "unreachableStrategy", &S_UNREACHABLE, false }, { 0 },
};
static const struct json_schema S_SCHEDULING = { .kind = JK_OBJECT, .fields = F_SCHEDULING };

static const struct json_field F_SECRET[] = { { "source", &S_STRING, true }, { 0 } };
static const struct json_schema S_SECRET = { .kind = JK_OBJECT, .fields = F_SECRET };
static const struct json_schema S_SECRETS = { .kind = JK_MAP, .elem = &S_SECRET };

static const struct json_field F_EXECUTOR_RESOURCES[] = {
        { "cpus", &S_MIN0, false },
        { "mem", &S_MIN0, false },
        { "disk", &S_MIN0, false },
        { 0 },
};
static const struct json_schema S_EXECUTOR_RESOURCES = { .kind = JK_OBJECT, .fields = F_EXECUTOR_RESOURCES };

static const struct json_field F_POD[] = {
        { "id", &S_STRING, true },
        { "labels", &S_LABELS, false },
        { "version", &S_STRING, false },
        { "user", &S_STRING, false },
        { "environment", &S_ENV, false },
        { "containers", &S_CONTAINERS, true },
        { "secrets", &S_SECRETS, false },
        { "volumes", &S_VOLUMES, false },
        { "networks", &S_NETWORKS, false },
        { "scaling", &S_SCALING, false },
        { "scheduling", &S_SCHEDULING, false },
        { "executorResources", &S_EXECUTOR_RESOURCES, false },
        { "role", &S_NONEMPTY, false },
        { "linuxInfo", &S_ANY, false },
        { "legacySharedCgroups", &S_BOOL, false },
        { 0 },
};
static const struct json_schema S_POD = { .kind = JK_OBJECT, .fields = F_POD };

/* ---- PodsValidation ------------------------------------------------------------------------- */

static const char *str(const json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static const char *net_mode(const json_t *net) {
        const char *m = str(net, "mode");
        return m ? m : "container"; /* network.raml: mode default container */
}

static size_t count_mode(const json_t *nets, const char *mode) {
        size_t n = 0, i;
        json_t *net;
        json_array_foreach(nets, i, net) n += strcasecmp(net_mode(net), mode) == 0;
        return n;
}

/* true if the JSON array arr (of strings or of objects' key) has a repeated non-NULL value. */
static bool has_duplicates(const json_t *arr, const char *key) {
        size_t n = json_array_size(arr);
        for (size_t a = 0; a < n; a++)
                for (size_t b = a + 1; b < n; b++) {
                        const json_t *x = json_array_get(arr, a), *y = json_array_get(arr, b);
                        if (key) {
                                x = json_object_get(x, key);
                                y = json_object_get(y, key);
                        }
                        if (x && y && json_equal((json_t *)x, (json_t *)y))
                                return true;
                }
        return false;
}

static bool array_has_string(const json_t *arr, const char *key, const char *want) {
        size_t i;
        json_t *el;
        json_array_foreach(arr, i, el) {
                const char *s = key ? str(el, key) : json_string_value(el);
                if (s && streq(s, want))
                        return true;
        }
        return false;
}

/* NetworkValidation.ramlNetworksValidator, at /networks. */
static void validate_networks(const json_t *nets, struct verrs *v) {
        size_t i, host = count_mode(nets, "host"), bridge = count_mode(nets, "container/bridge"),
                  container = count_mode(nets, "container"), unnamed = 0;
        json_t *net;
        bool host_named = false, bridge_named = false;
        _cleanup_(json_decrefp) json_t *names = json_array();
        json_array_foreach(nets, i, net) {
                const char *name = str(net, "name");
                if (strcasecmp(net_mode(net), "host") == 0 &&
                    ((name && *name) || json_object_size(json_object_get(net, "labels")) > 0))
                        host_named = true;
                if (strcasecmp(net_mode(net), "container/bridge") == 0 && name && *name)
                        bridge_named = true;
                if (strcasecmp(net_mode(net), "container") == 0 && !name)
                        unnamed++;
                if (name)
                        json_array_append_new(names, json_string(name));
        }
        if (host_named)
                verr(v, "/networks", "Host networks may not have names or labels");
        if (bridge_named)
                verr(v, "/networks", "Bridge networks may not have names");
        if (unnamed > 1 || has_duplicates(names, NULL))
                verr(v, "/networks", "Duplicate networks are not allowed");
        if (!((host <= 1 && bridge == 0 && container == 0) || (host == 0 && bridge <= 1 && container == 0) ||
              (host == 0 && bridge == 0 && container > 0)))
                verr(v, "/networks", "May specify a single host network, single bridge network, or else 1-to-n "
                                     "container networks");
}

static void validate_endpoint(const json_t *ep, const json_t *nets, const char *path, struct verrs *v) {
        size_t i;
        json_t *el;
        json_array_foreach(json_object_get(ep, "networkNames"), i, el) {
                if (!array_has_string(nets, "name", json_string_value(el))) {
                        _cleanup_free_ char *p = path_key(path, "networkNames");
                        _cleanup_free_ char *pi = path_idx(p, i);
                        verr(v, pi, "is not one of the pod's network names");
                }
        }
        _cleanup_free_ char *cp = path_key(path, "containerPort");
        bool has_cp = json_object_get(ep, "containerPort") != NULL;
        /* "host-mode networking implies that containerPort is disallowed" */
        if (has_cp && count_mode(nets, "host") > 0)
                verr(v, cp, "is not allowed when using host-mode networking");
        /* "container-mode networking implies that containerPort is required" */
        if (!has_cp && count_mode(nets, "container") > 0)
                verr(v, cp, "is required when using container-mode networking");
        if (has_duplicates(json_object_get(ep, "protocol"), NULL)) {
                _cleanup_free_ char *p = path_key(path, "protocol");
                verr(v, p, "Duplicate protocols within the same endpoint are not allowed");
        }
        if (count_mode(nets, "container") > 1 && json_object_get(ep, "hostPort") &&
            json_array_size(json_object_get(ep, "networkNames")) != 1)
                verr(v, path, "networkNames must be a single item list when hostPort is specified and more than 1 "
                              "container network is defined");
}

static long long int_or(const json_t *o, const char *k, long long dflt) {
        const json_t *j = json_object_get(o, k);
        return j ? (long long)json_number_value(j) : dflt;
}

static void validate_health(const json_t *hc, const json_t *endpoints, const char *path, struct verrs *v) {
        /* healthCheck.raml defaults: interval 60, timeout 20. "hc.timeoutSeconds should be <
         * hc.intervalSeconds" */
        long long interval = int_or(hc, "intervalSeconds", 60), timeout = int_or(hc, "timeoutSeconds", 20);
        if (timeout >= interval) {
                _cleanup_free_ char *p = path_key(path, "timeoutSeconds");
                verr(v, p, "got %lld, expected less than %lld", timeout, interval);
        }
        int kinds = !!json_object_get(hc, "http") + !!json_object_get(hc, "tcp") + !!json_object_get(hc, "exec");
        if (kinds != 1)
                verr(v, path, "Only one of http, tcp, or command may be specified");
        static const char *const by_endpoint[] = { "http", "tcp" };
        for (size_t k = 0; k < 2; k++) {
                const json_t *c = json_object_get(hc, by_endpoint[k]);
                const char *ep = str(c, "endpoint");
                if (c && ep && !array_has_string(endpoints, "name", ep)) {
                        _cleanup_free_ char *p = path_key(path, by_endpoint[k]);
                        _cleanup_free_ char *pe = path_key(p, "endpoint");
                        verr(v, pe, "contained in the container endpoints");
                }
        }
        const json_t *http = json_object_get(hc, "http");
        if (str(http, "path") && (strlen(str(http, "path")) < 1 || strlen(str(http, "path")) > 1024)) {
                _cleanup_free_ char *p = path_key(path, "http");
                _cleanup_free_ char *pp = path_key(p, "path");
                verr(v, pp, "got %zu, expected between 1 and 1024", strlen(str(http, "path")));
        }
        const json_t *cmd = json_object_get(json_object_get(hc, "exec"), "command");
        const char *shell = str(cmd, "shell");
        const json_t *argv = json_object_get(cmd, "argv");
        if ((shell && !*shell) || (argv && json_array_size(argv) == 0)) {
                _cleanup_free_ char *p = path_key(path, "exec");
                _cleanup_free_ char *pc = path_key(p, "command");
                verr(v, pc, "got 0, expected more than 0");
        }
}

static const char *volume_name(const json_t *vol) {
        return str(vol, "name");
}

static void validate_container(const json_t *c, const json_t *pod, const char *path, struct verrs *v) {
        const json_t *nets = json_object_get(pod, "networks"), *vols = json_object_get(pod, "volumes");
        const json_t *endpoints = json_object_get(c, "endpoints");
        size_t i;
        json_t *el;
        json_array_foreach(endpoints, i, el) {
                _cleanup_free_ char *p = path_key(path, "endpoints");
                _cleanup_free_ char *pi = path_idx(p, i);
                validate_endpoint(el, nets, pi, v);
        }
        const json_t *hc = json_object_get(c, "healthCheck");
        if (hc) {
                _cleanup_free_ char *p = path_key(path, "healthCheck");
                validate_health(hc, endpoints, p, v);
        }
        json_array_foreach(json_object_get(c, "volumeMounts"), i, el) {
                bool found = false;
                size_t k;
                json_t *vol;
                json_array_foreach(vols, k, vol) found = found || (volume_name(vol) && streq(volume_name(vol), str(el, "name")));
                if (!found) {
                        _cleanup_free_ char *p = path_key(path, "volumeMounts");
                        _cleanup_free_ char *pi = path_idx(p, i);
                        _cleanup_free_ char *pn = path_key(pi, "name");
                        verr(v, pn, "Referenced Volume in VolumeMount should exist");
                }
        }
        const json_t *img = json_object_get(c, "image");
        if (json_object_get(img, "pullConfig")) {
                _cleanup_free_ char *p = path_key(path, "image");
                _cleanup_free_ char *pp = path_key(p, "pullConfig");
                verr(v, pp, "must be empty"); /* needs the secrets feature, which Strata does not have */
        }
}

/* SchedulingValidation.complyWithConstraintRules. */
static void validate_constraint(const json_t *c, const char *path, struct verrs *v) {
        const char *field = str(c, "fieldName"), *op = str(c, "operator"), *value = str(c, "value");
        if (!field || !*field) {
                verr(v, path, "missing field for constraint declaration");
                return;
        }
        char *end;
        if (strcasecmp(op, "UNIQUE") == 0 && value)
                verr(v, path, "UNIQUE does not accept a value");
        else if (strcasecmp(op, "GROUP_BY") == 0 && value && (!*value || (strtol(value, &end, 10), *end)))
                verr(v, path, "GROUP BY must define an integer value or else no value at all");
        else if (strcasecmp(op, "MAX_PER") == 0 && (!value || !*value || (strtol(value, &end, 10), *end)))
                verr(v, path, "MAX_PER requires an integer value");
        else if ((strcasecmp(op, "LIKE") == 0 || strcasecmp(op, "UNLIKE") == 0) && !value)
                verr(v, path, "LIKE and UNLIKE require a non-empty, regular expression value");
        else if ((strcasecmp(op, "LIKE") == 0 || strcasecmp(op, "UNLIKE") == 0) && !app_regex_valid(value))
                verr(v, path, "is not a valid regular expression");
        else if (strcasecmp(op, "IS") == 0 && value && strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/.-") != strlen(value))
                verr(v, path, "IS only supports Mesos text and float values (see "
                              "http://mesos.apache.org/documentation/latest/attributes-resources/)");
}

static void validate_pod(const json_t *pod, struct verrs *v) {
        const char *id = str(pod, "id");
        if (id[0] != '/')
                verr(v, "/id", "Path needs to be absolute");
        else
                app_id_check(id, "/", "/id", NULL, v);
        if (str(pod, "user") && !*str(pod, "user"))
                verr(v, "/user", "must not be empty");
        const json_t *containers = json_object_get(pod, "containers"), *vols = json_object_get(pod, "volumes");
        size_t i;
        json_t *el;
        bool persistent = false;
        json_array_foreach(vols, i, el) {
                bool used = false;
                size_t k;
                json_t *c;
                json_array_foreach(containers, k, c) used = used || array_has_string(json_object_get(c, "volumeMounts"), "name", volume_name(el));
                _cleanup_free_ char *p = path_idx("/volumes", i);
                if (!used)
                        verr(v, p, "volume must be referenced by at least one container");
                if (json_object_get(el, "secret"))
                        verr(v, p, "must be empty"); /* secret volumes need the secrets feature */
                persistent = persistent || json_object_get(el, "persistent");
        }
        if (has_duplicates(vols, "name"))
                verr(v, "/volumes", "volume names must be unique");
        if (json_object_size(json_object_get(pod, "secrets")) > 0)
                verr(v, "/secrets", "must be empty"); /* the secrets feature */
        json_array_foreach(containers, i, el) {
                _cleanup_free_ char *p = path_idx("/containers", i);
                validate_container(el, pod, p, v);
        }
        if (has_duplicates(containers, "name"))
                verr(v, "/containers", "container names must be unique");
        validate_networks(json_object_get(pod, "networks"), v);
        /* endpoint names, non-zero container ports and non-zero host ports unique across containers */
        _cleanup_(json_decrefp) json_t *names = json_array(), *cports = json_array(), *hports = json_array();
        json_array_foreach(containers, i, el) {
                size_t k;
                json_t *ep;
                json_array_foreach(json_object_get(el, "endpoints"), k, ep) {
                        json_array_append(names, json_object_get(ep, "name"));
                        if (int_or(ep, "containerPort", 0) != 0)
                                json_array_append(cports, json_object_get(ep, "containerPort"));
                        if (int_or(ep, "hostPort", 0) != 0)
                                json_array_append(hports, json_object_get(ep, "hostPort"));
                }
        }
        if (has_duplicates(names, NULL))
                verr(v, "/", "endpoint names nust be unique across all containers"); /* sic, Marathon's text */
        if (has_duplicates(cports, NULL))
                verr(v, "/", "container ports must be unique across all containers");
        if (has_duplicates(hports, NULL))
                verr(v, "/", "host ports must be unique across all containers");
        const json_t *sched = json_object_get(pod, "scheduling");
        json_array_foreach(json_object_get(json_object_get(sched, "placement"), "constraints"), i, el) {
                _cleanup_free_ char *p = path_idx("/scheduling/placement/constraints", i);
                validate_constraint(el, p, v);
        }
        if (persistent) {
                const json_t *up = json_object_get(sched, "upgrade");
                if (up && json_object_get(up, "maximumOverCapacity") &&
                    json_number_value(json_object_get(up, "maximumOverCapacity")) != 0)
                        verr(v, "/upgrade/maximumOverCapacity", "got %g, expected 0.0",
                             json_number_value(json_object_get(up, "maximumOverCapacity")));
                const json_t *us = json_object_get(sched, "unreachableStrategy");
                if (us && !(json_is_string(us) && strcasecmp(json_string_value(us), "disabled") == 0))
                        verr(v, "/", "unreachableStrategy must be disabled for pods with persistent volumes");
        }
}

/* ---- canonical form ------------------------------------------------------------------------- */

/* The enum's canonical spelling of s (Marathon writes the enum value, whatever case it read). */
static void canon_enum(json_t *obj, const char *key, const char *const *values) {
        const char *s = str(obj, key);
        for (const char *const *e = values; s && *e; e++)
                if (strcasecmp(*e, s) == 0) {
                        json_object_set_new(obj, key, json_string(*e));
                        return;
                }
}

static json_t *object_at(json_t *parent, const char *key) {
        json_t *o = json_object_get(parent, key);
        if (!json_is_object(o)) {
                o = json_object();
                json_object_set_new(parent, key, o);
        }
        return o;
}

static void set_default(json_t *obj, const char *key, json_t *value) {
        if (!json_object_get(obj, key))
                json_object_set(obj, key, value);
        json_decref(value);
}

static void canonicalize(json_t *pod) {
        _cleanup_free_ char *id = app_id_canonical(str(pod, "id"), "/");
        json_object_set_new(pod, "id", json_string(id));
        json_object_del(pod, "version");
        json_t *scaling = object_at(pod, "scaling");
        canon_enum(scaling, "kind", S_SCALING_KIND_values);
        set_default(scaling, "kind", json_string("fixed"));
        set_default(scaling, "instances", json_integer(1));
        json_t *sched = object_at(pod, "scheduling");
        json_t *backoff = object_at(sched, "backoff");
        set_default(backoff, "backoff", json_real(1));
        set_default(backoff, "backoffFactor", json_real(1.15));
        set_default(backoff, "maxLaunchDelay", json_real(300));
        json_t *upgrade = object_at(sched, "upgrade");
        set_default(upgrade, "minimumHealthCapacity", json_real(1));
        set_default(upgrade, "maximumOverCapacity", json_real(1));
        canon_enum(sched, "killSelection", S_KILL_SELECTION_values);
        set_default(sched, "killSelection", json_string("YOUNGEST_FIRST"));
        size_t i;
        json_t *el;
        json_array_foreach(json_object_get(json_object_get(sched, "placement"), "constraints"), i, el)
                canon_enum(el, "operator", S_OPERATOR_values);
        /* Absent networks stay absent (they mean the host network): filling in the host
         * network would make a container endpoint with a containerPort invalid on re-reading,
         * since host networking disallows containerPort only when it is named. */
        json_array_foreach(json_object_get(pod, "networks"), i, el) {
                canon_enum(el, "mode", S_NETWORK_MODE_values);
                set_default(el, "mode", json_string("container"));
                /* NetworkValidation: an unnamed container network takes the default network
                 * name (Strata's /v2/info default_network_name). */
                if (streq(str(el, "mode"), "container"))
                        set_default(el, "name", json_string("dcos"));
        }
        json_array_foreach(json_object_get(pod, "containers"), i, el) {
                json_t *res = object_at(el, "resources");
                set_default(res, "cpus", json_real(1));
                set_default(res, "mem", json_real(128));
                set_default(res, "disk", json_real(0));
                set_default(res, "gpus", json_integer(0));
                canon_enum(json_object_get(el, "image"), "kind", S_IMAGE_KIND_values);
                json_t *hc = json_object_get(el, "healthCheck");
                if (hc) {
                        set_default(hc, "gracePeriodSeconds", json_integer(300));
                        set_default(hc, "intervalSeconds", json_integer(60));
                        set_default(hc, "maxConsecutiveFailures", json_integer(3));
                        set_default(hc, "timeoutSeconds", json_integer(20));
                        set_default(hc, "delaySeconds", json_integer(15));
                        canon_enum(json_object_get(hc, "http"), "scheme", S_HTTP_SCHEME_values);
                }
        }
}

int pod_normalize(const json_t *in, json_t **ret, struct err *err) {
        struct verrs v;
        int r;
        if (!json_is_object(in))
                return err_set(err, -ERR_BAD_JSON, "Invalid JSON");
        _cleanup_(json_decrefp) json_t *work = json_deep_copy(in);
        app_json_drop_nulls(work);
        verrs_init(&v);
        json_schema_check(&S_POD, work, "", &v);
        if (verrs_any(&v)) {
                r = verrs_fail(&v, err, -ERR_BAD_JSON, "Invalid JSON");
                verrs_release(&v);
                return r;
        }
        validate_pod(work, &v);
        if (verrs_any(&v)) {
                r = verrs_fail(&v, err, -ERR_INVALID, "Object is not valid");
                verrs_release(&v);
                return r;
        }
        verrs_release(&v);
        json_schema_prune(&S_POD, work);
        canonicalize(work);
        *ret = TAKE_PTR(work);
        return 0;
}
