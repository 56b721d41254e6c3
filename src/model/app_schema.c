/* app_schema.c — the JSON-type pass over an app definition (Marathon's generated Play-JSON reads).
 *
 * Each field has a kind; a value of the wrong JSON type gets Play's error key at its path
 * ("/container/docker/image": "error.expected.jsstring"). Optional fields may be absent or null.
 * Value ranges, patterns and cross-field rules are left to the semantic pass. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "model/app_internal.h"
#include "model/json_schema.h"

/* ---- leaf kinds ---- */

static const struct json_schema S_STRING = {.kind = JK_STRING};
static const struct json_schema S_NUMBER = {.kind = JK_NUMBER};
static const struct json_schema S_INT = {.kind = JK_INT};
static const struct json_schema S_LONG = {.kind = JK_LONG};
static const struct json_schema S_BOOL = {.kind = JK_BOOL};
static const struct json_schema S_ANY = {.kind = JK_ANY};
static const struct json_schema S_STRINGS = {.kind = JK_ARRAY, .elem = &S_STRING};
static const struct json_schema S_INTS = {.kind = JK_ARRAY, .elem = &S_INT};
static const struct json_schema S_LABELS = {.kind = JK_MAP, .elem = &S_STRING};
static const struct json_schema S_CONSTRAINTS = {.kind = JK_ARRAY, .elem = &S_STRINGS};

#define ENUM(name, ...)                                                      \
        static const char *const name##_values[] = {__VA_ARGS__, NULL};     \
        static const struct json_schema name = {.kind = JK_ENUM, .enums = name##_values}

ENUM(S_PROTOCOL, "tcp", "udp", "udp,tcp");
ENUM(S_KILL_SELECTION, "YOUNGEST_FIRST", "OLDEST_FIRST");
ENUM(S_HC_PROTOCOL, "HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP");
ENUM(S_IP_PROTOCOL, "IPv4", "IPv6");
ENUM(S_ENGINE, "DOCKER", "MESOS");
ENUM(S_DOCKER_NETWORK, "BRIDGE", "HOST", "NONE", "USER");
ENUM(S_NETWORK_MODE, "container", "container/bridge", "host");
ENUM(S_READ_MODE, "RO", "RW");
ENUM(S_PERSISTENT_TYPE, "root", "path", "mount");
ENUM(S_HTTP_SCHEME, "HTTP", "HTTPS");
ENUM(S_TASK_LOST, "WAIT_FOREVER", "RELAUNCH_AFTER_TIMEOUT");
ENUM(S_IPC_MODE, "PRIVATE", "SHARE_PARENT");

/* ---- custom kinds ---- */

/* app.raml `cmd: {type: string, minLength: 1}`: Marathon's generated reader rejects "" at /cmd
 * (Play's Reads.minLength, "error.minLength") before any validator runs. */
static void check_nonempty_string(const json_t *j, const char *path, struct verrs *v) {
        if (!json_is_string(j))
                verr(v, path, "error.expected.jsstring");
        else if (json_string_length(j) < 1)
                verr(v, path, "error.minLength");
}
static const struct json_schema S_NONEMPTY_STRING = {.kind = JK_CUSTOM, .custom = check_nonempty_string};

/* env values: a string or {"secret": "name"}. */
static const struct json_field F_ENV_SECRET[] = {
        {"secret", &S_STRING, true},
        {0},
};
static const struct json_schema S_ENV_SECRET = {.kind = JK_OBJECT, .fields = F_ENV_SECRET};

static void check_env_value(const json_t *j, const char *path, struct verrs *v) {
        if (json_is_object(j))
                json_schema_check(&S_ENV_SECRET, j, path, v);
        else if (!json_is_string(j))
                verr(v, path, "error.expected.jsstring");
}
static const struct json_schema S_ENV_VALUE = {.kind = JK_CUSTOM, .custom = check_env_value};
static const struct json_schema S_ENV = {.kind = JK_MAP, .elem = &S_ENV_VALUE};

/* unreachableStrategy: "disabled" or {inactiveAfterSeconds, expungeAfterSeconds}. */
static const struct json_field F_UNREACHABLE[] = {
        {"inactiveAfterSeconds", &S_LONG, false},
        {"expungeAfterSeconds", &S_LONG, false},
        {0},
};
static const struct json_schema S_UNREACHABLE_OBJ = {.kind = JK_OBJECT, .fields = F_UNREACHABLE};

static void check_unreachable(const json_t *j, const char *path, struct verrs *v) {
        if (json_is_string(j)) {
                if (!streq(json_string_value(j), "disabled"))
                        verr(v, path, "error.expected.validenumvalue");
        } else if (json_is_object(j)) {
                json_schema_check(&S_UNREACHABLE_OBJ, j, path, v);
        } else {
                verr(v, path, "error.expected.jsobject");
        }
}
static const struct json_schema S_UNREACHABLE = {.kind = JK_CUSTOM, .custom = check_unreachable};

/* resourceLimits.cpus/mem: a number or the string "unlimited" (other strings are a semantic error). */
static void check_limit(const json_t *j, const char *path, struct verrs *v) {
        if (!json_is_number(j) && !json_is_string(j))
                verr(v, path, "error.expected.jsnumber");
}
static const struct json_schema S_LIMIT = {.kind = JK_CUSTOM, .custom = check_limit};

/* ---- objects ---- */

static const struct json_field F_ARTIFACT[] = {
        {"uri", &S_STRING, true},
        {"extract", &S_BOOL, false},
        {"executable", &S_BOOL, false},
        {"cache", &S_BOOL, false},
        {"destPath", &S_STRING, false},
        {0},
};
static const struct json_schema S_ARTIFACT = {.kind = JK_OBJECT, .fields = F_ARTIFACT};

static const struct json_field F_PORT_DEFINITION[] = {
        {"port", &S_INT, false},
        {"protocol", &S_PROTOCOL, false},
        {"name", &S_STRING, false},
        {"labels", &S_LABELS, false},
        {0},
};
static const struct json_schema S_PORT_DEFINITION = {.kind = JK_OBJECT, .fields = F_PORT_DEFINITION};

static const struct json_field F_PORT_MAPPING[] = {
        {"containerPort", &S_INT, false},
        {"hostPort", &S_INT, false},
        {"servicePort", &S_INT, false},
        {"protocol", &S_PROTOCOL, false},
        {"name", &S_STRING, false},
        {"labels", &S_LABELS, false},
        {"networkNames", &S_STRINGS, false},
        {0},
};
static const struct json_schema S_PORT_MAPPING = {.kind = JK_OBJECT, .fields = F_PORT_MAPPING};
static const struct json_schema S_PORT_MAPPINGS = {.kind = JK_ARRAY, .elem = &S_PORT_MAPPING};

static const struct json_field F_DOCKER_PARAMETER[] = {
        {"key", &S_STRING, true},
        {"value", &S_STRING, true},
        {0},
};
static const struct json_schema S_DOCKER_PARAMETER = {.kind = JK_OBJECT, .fields = F_DOCKER_PARAMETER};
static const struct json_schema S_DOCKER_PARAMETERS = {.kind = JK_ARRAY, .elem = &S_DOCKER_PARAMETER};

static const struct json_field F_CREDENTIAL[] = {
        {"principal", &S_STRING, true},
        {"secret", &S_STRING, false},
        {0},
};
static const struct json_schema S_CREDENTIAL = {.kind = JK_OBJECT, .fields = F_CREDENTIAL};

static const struct json_field F_PULL_CONFIG[] = {
        {"secret", &S_STRING, true},
        {0},
};
static const struct json_schema S_PULL_CONFIG = {.kind = JK_OBJECT, .fields = F_PULL_CONFIG};

static const struct json_field F_DOCKER[] = {
        {"image", &S_STRING, true},
        {"network", &S_DOCKER_NETWORK, false},
        {"portMappings", &S_PORT_MAPPINGS, false},
        {"privileged", &S_BOOL, false},
        {"parameters", &S_DOCKER_PARAMETERS, false},
        {"forcePullImage", &S_BOOL, false},
        {"credential", &S_CREDENTIAL, false},
        {"pullConfig", &S_PULL_CONFIG, false},
        {0},
};
static const struct json_schema S_DOCKER = {.kind = JK_OBJECT, .fields = F_DOCKER};

static const struct json_field F_PERSISTENT[] = {
        {"type", &S_PERSISTENT_TYPE, false},
        {"size", &S_LONG, true},
        {"maxSize", &S_LONG, false},
        {"profileName", &S_STRING, false},
        {"constraints", &S_CONSTRAINTS, false},
        {0},
};
static const struct json_schema S_PERSISTENT = {.kind = JK_OBJECT, .fields = F_PERSISTENT};

static const struct json_field F_EXTERNAL[] = {
        {"name", &S_STRING, false},
        {"provider", &S_STRING, false},
        {"size", &S_LONG, false},
        {"shared", &S_BOOL, false},
        {"options", &S_ANY, false}, /* dvdi: string map; csi: an object of its own */
        {0},
};
static const struct json_schema S_EXTERNAL = {.kind = JK_OBJECT, .fields = F_EXTERNAL};

static const struct json_field F_VOLUME[] = {
        {"containerPath", &S_STRING, false},
        {"hostPath", &S_STRING, false},
        {"mode", &S_READ_MODE, false},
        {"persistent", &S_PERSISTENT, false},
        {"external", &S_EXTERNAL, false},
        {"secret", &S_STRING, false},
        {0},
};
static const struct json_schema S_VOLUME = {.kind = JK_OBJECT, .fields = F_VOLUME};
static const struct json_schema S_VOLUMES = {.kind = JK_ARRAY, .elem = &S_VOLUME};

static const struct json_field F_SECCOMP[] = {
        {"profileName", &S_STRING, false},
        {"unconfined", &S_BOOL, false},
        {0},
};
static const struct json_schema S_SECCOMP = {.kind = JK_OBJECT, .fields = F_SECCOMP};
static const struct json_field F_IPC[] = {
        {"mode", &S_IPC_MODE, true},
        {"shmSize", &S_INT, false},
        {0},
};
static const struct json_schema S_IPC = {.kind = JK_OBJECT, .fields = F_IPC};
static const struct json_field F_LINUX[] = {
        {"seccomp", &S_SECCOMP, false},
        {"ipcInfo", &S_IPC, false},
        {0},
};
static const struct json_schema S_LINUX = {.kind = JK_OBJECT, .fields = F_LINUX};

static const struct json_field F_CONTAINER[] = {
        {"type", &S_ENGINE, false},
        {"docker", &S_DOCKER, false},
        {"volumes", &S_VOLUMES, false},
        {"portMappings", &S_PORT_MAPPINGS, false},
        {"linuxInfo", &S_LINUX, false},
        {0},
};
static const struct json_schema S_CONTAINER = {.kind = JK_OBJECT, .fields = F_CONTAINER};

static const struct json_field F_COMMAND[] = {
        {"value", &S_STRING, true},
        {0},
};
static const struct json_schema S_COMMAND = {.kind = JK_OBJECT, .fields = F_COMMAND};

static const struct json_field F_HEALTH_CHECK[] = {
        {"protocol", &S_HC_PROTOCOL, false},
        {"path", &S_STRING, false},
        {"portIndex", &S_INT, false},
        {"port", &S_INT, false},
        {"command", &S_COMMAND, false},
        {"gracePeriodSeconds", &S_INT, false},
        {"intervalSeconds", &S_INT, false},
        {"timeoutSeconds", &S_INT, false},
        {"maxConsecutiveFailures", &S_INT, false},
        {"delaySeconds", &S_INT, false},
        {"ignoreHttp1xx", &S_BOOL, false},
        {"ipProtocol", &S_IP_PROTOCOL, false},
        {0},
};
static const struct json_schema S_HEALTH_CHECK = {.kind = JK_OBJECT, .fields = F_HEALTH_CHECK};

static const struct json_field F_READINESS_CHECK[] = {
        {"name", &S_STRING, false},
        {"protocol", &S_HTTP_SCHEME, false},
        {"path", &S_STRING, false},
        {"portName", &S_STRING, false},
        {"intervalSeconds", &S_INT, false},
        {"timeoutSeconds", &S_INT, false},
        {"httpStatusCodesForReady", &S_INTS, false},
        {"preserveLastResponse", &S_BOOL, false},
        {0},
};
static const struct json_schema S_READINESS_CHECK = {.kind = JK_OBJECT, .fields = F_READINESS_CHECK};

/* The 1.9+ Mesos "check" (status only). */
static const struct json_field F_CHECK_HTTP[] = {
        {"portIndex", &S_INT, false},
        {"port", &S_INT, false},
        {"path", &S_STRING, false},
        {"scheme", &S_HTTP_SCHEME, false},
        {0},
};
static const struct json_schema S_CHECK_HTTP = {.kind = JK_OBJECT, .fields = F_CHECK_HTTP};
static const struct json_field F_CHECK_TCP[] = {
        {"portIndex", &S_INT, false},
        {"port", &S_INT, false},
        {0},
};
static const struct json_schema S_CHECK_TCP = {.kind = JK_OBJECT, .fields = F_CHECK_TCP};
static const struct json_field F_CHECK_EXEC[] = {
        {"command", &S_ANY, true},
        {0},
};
static const struct json_schema S_CHECK_EXEC = {.kind = JK_OBJECT, .fields = F_CHECK_EXEC};
static const struct json_field F_CHECK[] = {
        {"http", &S_CHECK_HTTP, false},
        {"tcp", &S_CHECK_TCP, false},
        {"exec", &S_CHECK_EXEC, false},
        {"intervalSeconds", &S_INT, false},
        {"timeoutSeconds", &S_INT, false},
        {"delaySeconds", &S_INT, false},
        {0},
};
static const struct json_schema S_CHECK = {.kind = JK_OBJECT, .fields = F_CHECK};

static const struct json_field F_UPGRADE[] = {
        {"minimumHealthCapacity", &S_NUMBER, false},
        {"maximumOverCapacity", &S_NUMBER, false},
        {0},
};
static const struct json_schema S_UPGRADE = {.kind = JK_OBJECT, .fields = F_UPGRADE};

static const struct json_field F_NETWORK[] = {
        {"mode", &S_NETWORK_MODE, false},
        {"name", &S_STRING, false},
        {"labels", &S_LABELS, false},
        {0},
};
static const struct json_schema S_NETWORK = {.kind = JK_OBJECT, .fields = F_NETWORK};

static const struct json_field F_DISCOVERY_PORT[] = {
        {"number", &S_INT, false},
        {"name", &S_STRING, true},
        {"protocol", &S_PROTOCOL, false},
        {"labels", &S_LABELS, false},
        {0},
};
static const struct json_schema S_DISCOVERY_PORT = {.kind = JK_OBJECT, .fields = F_DISCOVERY_PORT};
static const struct json_schema S_DISCOVERY_PORTS = {.kind = JK_ARRAY, .elem = &S_DISCOVERY_PORT};
static const struct json_field F_DISCOVERY[] = {
        {"ports", &S_DISCOVERY_PORTS, false},
        {0},
};
static const struct json_schema S_DISCOVERY = {.kind = JK_OBJECT, .fields = F_DISCOVERY};
static const struct json_field F_IP_ADDRESS[] = {
        {"discovery", &S_DISCOVERY, false},
        {"groups", &S_STRINGS, false},
        {"labels", &S_LABELS, false},
        {"networkName", &S_STRING, false},
        {0},
};
static const struct json_schema S_IP_ADDRESS = {.kind = JK_OBJECT, .fields = F_IP_ADDRESS};

static const struct json_field F_RESIDENCY[] = {
        {"relaunchEscalationTimeoutSeconds", &S_LONG, false},
        {"taskLostBehavior", &S_TASK_LOST, false},
        {0},
};
static const struct json_schema S_RESIDENCY = {.kind = JK_OBJECT, .fields = F_RESIDENCY};

static const struct json_field F_SECRET[] = {
        {"source", &S_STRING, true},
        {0},
};
static const struct json_schema S_SECRET = {.kind = JK_OBJECT, .fields = F_SECRET};
static const struct json_schema S_SECRETS = {.kind = JK_MAP, .elem = &S_SECRET};

static const struct json_field F_LIMITS[] = {
        {"cpus", &S_LIMIT, false},
        {"mem", &S_LIMIT, false},
        {0},
};
static const struct json_schema S_LIMITS = {.kind = JK_OBJECT, .fields = F_LIMITS};

static const struct json_field F_EXECUTOR_RESOURCES[] = {
        {"cpus", &S_NUMBER, false},
        {"mem", &S_NUMBER, false},
        {"disk", &S_NUMBER, false},
        {0},
};
static const struct json_schema S_EXECUTOR_RESOURCES = {.kind = JK_OBJECT, .fields = F_EXECUTOR_RESOURCES};

static const struct json_schema S_FETCH = {.kind = JK_ARRAY, .elem = &S_ARTIFACT};
static const struct json_schema S_PORT_DEFINITIONS = {.kind = JK_ARRAY, .elem = &S_PORT_DEFINITION};
static const struct json_schema S_HEALTH_CHECKS = {.kind = JK_ARRAY, .elem = &S_HEALTH_CHECK};
static const struct json_schema S_READINESS_CHECKS = {.kind = JK_ARRAY, .elem = &S_READINESS_CHECK};
static const struct json_schema S_NETWORKS = {.kind = JK_ARRAY, .elem = &S_NETWORK};

/* The app; "id" is handled by the caller (required or not). */
static const struct json_field F_APP[] = {
        {"id", &S_STRING, false},
        {"cmd", &S_NONEMPTY_STRING, false},
        {"args", &S_STRINGS, false},
        {"user", &S_STRING, false},
        {"env", &S_ENV, false},
        {"instances", &S_INT, false},
        {"cpus", &S_NUMBER, false},
        {"mem", &S_NUMBER, false},
        {"disk", &S_NUMBER, false},
        {"gpus", &S_INT, false},
        {"executor", &S_STRING, false},
        {"constraints", &S_CONSTRAINTS, false},
        {"uris", &S_STRINGS, false},
        {"fetch", &S_FETCH, false},
        {"ports", &S_INTS, false},
        {"portDefinitions", &S_PORT_DEFINITIONS, false},
        {"requirePorts", &S_BOOL, false},
        {"backoffSeconds", &S_INT, false},
        {"backoffFactor", &S_NUMBER, false},
        {"maxLaunchDelaySeconds", &S_INT, false},
        {"container", &S_CONTAINER, false},
        {"healthChecks", &S_HEALTH_CHECKS, false},
        {"check", &S_CHECK, false},
        {"readinessChecks", &S_READINESS_CHECKS, false},
        {"dependencies", &S_STRINGS, false},
        {"upgradeStrategy", &S_UPGRADE, false},
        {"labels", &S_LABELS, false},
        {"acceptedResourceRoles", &S_STRINGS, false},
        {"ipAddress", &S_IP_ADDRESS, false},
        {"residency", &S_RESIDENCY, false},
        {"secrets", &S_SECRETS, false},
        {"taskKillGracePeriodSeconds", &S_INT, false},
        {"unreachableStrategy", &S_UNREACHABLE, false},
        {"killSelection", &S_KILL_SELECTION, false},
        {"networks", &S_NETWORKS, false},
        {"tty", &S_BOOL, false},
        {"role", &S_STRING, false},
        {"resourceLimits", &S_LIMITS, false},
        {"executorResources", &S_EXECUTOR_RESOURCES, false},
        {0},
};
static const struct json_schema S_APP = {.kind = JK_OBJECT, .fields = F_APP};

void app_schema_check(const json_t *app, bool id_required, struct verrs *v) {
        if (!json_is_object(app)) {
                verr(v, "", "error.expected.jsobject");
                return;
        }
        json_t *id = json_object_get(app, "id");
        if (id_required && (!id || json_is_null(id)))
                verr(v, "/id", id ? "error.expected.jsstring" : "error.path.missing");
        json_schema_check(&S_APP, app, "", v);
}

/* ---- bounds ---- */

static bool bounds(const json_t *j, const char *path, struct verrs *v, int depth) {
        bool over = false;
        if (!json_is_array(j) && !json_is_object(j))
                return false;
        size_t n = json_is_array(j) ? json_array_size(j) : json_object_size(j);
        if (n > APP_MAX_ELEMENTS) {
                verr(v, path, "must not have more than %d elements", APP_MAX_ELEMENTS);
                return true;
        }
        /* The schema nests a handful of levels; anything deeper is not ours to look at. */
        if (depth >= 8)
                return false;
        if (json_is_array(j)) {
                size_t i;
                json_t *el;
                json_array_foreach(j, i, el) {
                        if (!json_is_array(el) && !json_is_object(el))
                                continue;
                        _cleanup_free_ char *p = path_idx(path, i);
                        over |= bounds(el, p, v, depth + 1);
                }
        } else {
                const char *k;
                json_t *el;
                json_object_foreach((json_t *)j, k, el) {
                        if (!json_is_array(el) && !json_is_object(el))
                                continue;
                        _cleanup_free_ char *p = path_key(path, k);
                        over |= bounds(el, p, v, depth + 1);
                }
        }
        return over;
}

bool app_check_bounds(const json_t *app, struct verrs *v) {
        bool over = false;
        for (const struct json_field *f = F_APP; f->name; f++) {
                json_t *el = json_object_get(app, f->name);
                if (!el)
                        continue;
                _cleanup_free_ char *p = path_key("", f->name);
                over |= bounds(el, p, v, 0);
        }
        return over;
}
