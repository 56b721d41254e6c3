/* task_env.h — the environment Marathon gives every task, built from the app definition, the
 * host ports the scheduler assigned, the agent's host name and the task id.
 *
 * | variable                          | value                                                   |
 * | --------------------------------- | ------------------------------------------------------- |
 * | PORT0 … PORTn-1                   | host port (container port when a mapping has none)      |
 * | PORT, PORTS                       | the first port; all of them, comma-separated            |
 * | PORT_<NAME>                       | per named port (name upper-cased)                       |
 * | PORT_<requested>                  | per non-zero requested port (portDefinitions' port or   |
 * |                                   | the mapping's containerPort), e.g. PORT_8080            |
 * | HOST                              | the agent's host name                                   |
 * | MESOS_TASK_ID                     | task id                                                 |
 * | MARATHON_APP_ID, _VERSION         | app id and version                                      |
 * | MARATHON_APP_DOCKER_IMAGE         | container.docker.image, when set                        |
 * | MARATHON_APP_RESOURCE_CPUS/MEM/DISK/GPUS | resources (Java number formatting: "1.0", "0.5") |
 * | MARATHON_APP_LABELS               | sanitised label names, space-separated                  |
 * | MARATHON_APP_LABEL_<NAME>         | each label's value (names: runs of [^A-Za-z0-9_] → "_", |
 * |                                   | upper-cased; keys or values of 512+ chars skipped)      |
 * | MARATHON_APP_ENFORCE_GROUP_ROLE   | "true"/"false" when known                               |
 * | STRATA_DNS_ADDRESS                | the agent's DNS server "ip:port", when it runs one      |
 * | the app's `env`                   | last, overriding the above; secret references skipped   |
 *
 * `prefix` (Marathon's --env_vars_prefix) is put before the PORT* and HOST names only. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

struct task_env_input {
        const json_t *app;     /* Marathon app definition (stored form); required */
        const char *task_id;   /* required */
        const char *host;      /* agent host name; required */
        const int *host_ports; /* assigned host ports, in port definition / mapping order */
        size_t n_host_ports;
        const char *prefix;     /* NULL: none */
        int enforce_group_role; /* 1 true, 0 false, -1 unknown (omitted) */
        const char *dns_address; /* the agent's DNS "ip:port" (STRATA_DNS_ADDRESS), or NULL */
};

/* Builds the NULL-terminated "NAME=value" list (for task_spec.env); the caller frees it with
 * task_env_free. -EINVAL when the app is not an object or required inputs are missing. */
int task_env_build(const struct task_env_input *in, char ***ret, struct err *err);
void task_env_free(char **env);
/* Looks a variable up in such a list; NULL if absent. */
const char *task_env_get(char **env, const char *name);
/* A label name as Marathon puts it in a variable name ("my.label-x" → "MY_LABEL_X"); malloc'd. */
char *task_env_sanitize(const char *name);
