/* task_env.c — Marathon's task environment (see task_env.h for the variables). */
#include "agent/task_env.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strbuf.h"

#define LABEL_MAX 512 /* Marathon skips label keys and values this long or longer */

struct envb {
        char **v;
        size_t n, cap;
};

/* Sets name=value, replacing an earlier value of the same name in place. */
static void env_set(struct envb *e, const char *name, const char *value) {
        size_t len = strlen(name);
        char *entry = xasprintf("%s=%s", name, value);
        for (size_t i = 0; i < e->n; i++)
                if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=') {
                        free(e->v[i]);
                        e->v[i] = entry;
                        return;
                }
        if (e->n + 2 > e->cap) {
                e->cap = e->cap ? e->cap * 2 : 32;
                e->v = xrealloc(e->v, e->cap * sizeof *e->v);
        }
        e->v[e->n++] = entry;
        e->v[e->n] = NULL;
}

static void env_setf(struct envb *e, const char *prefix, const char *name, const char *value) {
        _cleanup_free_ char *full = xasprintf("%s%s", prefix ? prefix : "", name);
        env_set(e, full, value);
}

void task_env_free(char **env) {
        if (!env)
                return;
        for (char **p = env; *p; p++)
                free(*p);
        free(env);
}

const char *task_env_get(char **env, const char *name) {
        size_t len = strlen(name);
        for (char **p = env; p && *p; p++)
                if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
                        return *p + len + 1;
        return NULL;
}

char *task_env_sanitize(const char *name) {
        struct strbuf sb = {0};
        bool in_run = false;
        for (const char *p = name; *p; p++) {
                if (isalnum((unsigned char)*p) || *p == '_') {
                        char c = (char)toupper((unsigned char)*p);
                        strbuf_append(&sb, &c, 1);
                        in_run = false;
                } else if (!in_run) {
                        strbuf_append(&sb, "_", 1);
                        in_run = true;
                }
        }
        return strbuf_steal(&sb);
}

/* Java's Double.toString for the values apps use: "1.0", "0.5", "128.0". */
static void java_double(double v, char buf[static 32]) {
        if (fabs(v) < 1e7 && v == (double)(long long)v) {
                snprintf(buf, 32, "%.1f", v);
                return;
        }
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, 32, "%.*g", prec, v);
                if (strtod(buf, NULL) == v)
                        return;
        }
}

static void add_ports(struct envb *e, const struct task_env_input *in) {
        const json_t *app = in->app;
        const json_t *container = json_object_get(app, "container");
        const json_t *mappings = json_object_get(container, "portMappings");
        if (!mappings)
                mappings = json_object_get(json_object_get(container, "docker"), "portMappings");
        const json_t *networks = json_object_get(app, "networks");
        const char *mode = json_string_value(json_object_get(json_array_get(networks, 0), "mode"));
        bool container_net = mode && !streq(mode, "host");
        if (!mode) {
                const char *legacy =
                        json_string_value(json_object_get(json_object_get(container, "docker"), "network"));
                container_net = legacy && (streq(legacy, "BRIDGE") || streq(legacy, "USER"));
        }
        bool bridge =
                (mode && streq(mode, "container/bridge")) ||
                (!mode &&
                 streq(json_string_value(json_object_get(json_object_get(container, "docker"), "network"))
                               ?: "",
                       "BRIDGE"));

        size_t n;
        const json_t *defs = NULL;
        if (container_net && json_is_array(mappings)) {
                n = json_array_size(mappings);
        } else {
                defs = json_object_get(app, "portDefinitions");
                container_net = false;
                n = json_is_array(defs) ? json_array_size(defs) : in->n_host_ports;
        }

        struct strbuf all = {0};
        size_t next_host = 0, index = 0;
        char num[32];
        for (size_t i = 0; i < n; i++) {
                long effective = -1, requested = 0;
                const char *name = NULL;
                if (container_net) {
                        const json_t *m = json_array_get(mappings, i);
                        requested = (long)json_integer_value(json_object_get(m, "containerPort"));
                        name = json_string_value(json_object_get(m, "name"));
                        /* bridge: a missing hostPort means a dynamic one; container mode: none. */
                        bool has_host = bridge || json_object_get(m, "hostPort");
                        if (has_host && next_host < in->n_host_ports)
                                effective = in->host_ports[next_host++];
                        else if (!has_host && requested > 0)
                                effective = requested;
                } else {
                        const json_t *d = json_array_get(defs, i);
                        requested = (long)json_integer_value(json_object_get(d, "port"));
                        name = json_string_value(json_object_get(d, "name"));
                        if (next_host < in->n_host_ports)
                                effective = in->host_ports[next_host++];
                }
                if (effective < 0)
                        continue;
                snprintf(num, sizeof num, "%ld", effective);
                char key[48];
                snprintf(key, sizeof key, "PORT%zu", index++);
                env_setf(e, in->prefix, key, num);
                if (all.len)
                        strbuf_append(&all, ",", 1);
                strbuf_puts(&all, num);
                if (requested > 0) {
                        snprintf(key, sizeof key, "PORT_%ld", requested);
                        env_setf(e, in->prefix, key, num);
                }
                if (name && *name) {
                        _cleanup_free_ char *upper = task_env_sanitize(name);
                        _cleanup_free_ char *k = xasprintf("PORT_%s", upper);
                        env_setf(e, in->prefix, k, num);
                }
        }
        if (all.len) {
                const char *first = all.buf;
                _cleanup_free_ char *p0 = xstrndup(first, strcspn(first, ","));
                env_setf(e, in->prefix, "PORT", p0);
                env_setf(e, in->prefix, "PORTS", all.buf);
        }
        strbuf_release(&all);
}

static void add_labels(struct envb *e, const json_t *labels) {
        struct strbuf names = {0};
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)labels, key, value) {
                const char *v = json_string_value(value);
                if (!v || strlen(key) >= LABEL_MAX || strlen(v) >= LABEL_MAX)
                        continue;
                _cleanup_free_ char *name = task_env_sanitize(key);
                _cleanup_free_ char *var = xasprintf("MARATHON_APP_LABEL_%s", name);
                env_set(e, var, v);
                if (names.len)
                        strbuf_append(&names, " ", 1);
                strbuf_puts(&names, name);
        }
        if (names.len)
                env_set(e, "MARATHON_APP_LABELS", names.buf);
        else
                env_set(e, "MARATHON_APP_LABELS", "");
        strbuf_release(&names);
}

static double number_or(const json_t *app, const char *key, double def) {
        const json_t *v = json_object_get(app, key);
        return json_is_number(v) ? json_number_value(v) : def;
}

int task_env_build(const struct task_env_input *in, char ***ret, struct err *err) {
        if (!json_is_object(in->app))
                return err_set(err, -EINVAL, "task environment: the app definition is not an object");
        if (!in->task_id || !in->host)
                return err_set(err, -EINVAL, "task environment: task id and host are required");
        const json_t *app = in->app;
        struct envb e = {0};
        char num[32];

        add_ports(&e, in);
        env_setf(&e, in->prefix, "HOST", in->host);
        env_set(&e, "MESOS_TASK_ID", in->task_id);
        const char *id = json_string_value(json_object_get(app, "id"));
        if (id)
                env_set(&e, "MARATHON_APP_ID", id);
        const char *version = json_string_value(json_object_get(app, "version"));
        if (version)
                env_set(&e, "MARATHON_APP_VERSION", version);
        const char *image = json_string_value(
                json_object_get(json_object_get(json_object_get(app, "container"), "docker"), "image"));
        if (image)
                env_set(&e, "MARATHON_APP_DOCKER_IMAGE", image);
        java_double(number_or(app, "cpus", 1.0), num);
        env_set(&e, "MARATHON_APP_RESOURCE_CPUS", num);
        java_double(number_or(app, "mem", 128.0), num);
        env_set(&e, "MARATHON_APP_RESOURCE_MEM", num);
        java_double(number_or(app, "disk", 0.0), num);
        env_set(&e, "MARATHON_APP_RESOURCE_DISK", num);
        snprintf(num, sizeof num, "%lld", (long long)number_or(app, "gpus", 0));
        env_set(&e, "MARATHON_APP_RESOURCE_GPUS", num);
        add_labels(&e, json_object_get(app, "labels"));
        if (in->enforce_group_role >= 0)
                env_set(&e, "MARATHON_APP_ENFORCE_GROUP_ROLE", in->enforce_group_role ? "true" : "false");
        if (in->dns_address)
                env_set(&e, "STRATA_DNS_ADDRESS", in->dns_address);

        /* "The app's own env entries are added last, so they override injected variables". */
        const char *key;
        json_t *value;
        json_object_foreach(json_object_get(app, "env"), key, value) {
                const char *v = json_string_value(value);
                if (v && *key && !strchr(key, '='))
                        env_set(&e, key, v);
        }
        if (!e.v)
                e.v = xcalloc(1, sizeof *e.v);
        *ret = e.v;
        return 0;
}
