/* cni.h — container networking through the standard CNI plugins (CNI spec 0.4.0): a network
 * namespace per task, a veth on the agent's bridge (`bridge` + `host-local`), host ports
 * mapped with `portmap`, `loopback` for lo.
 *
 * Every function here blocks (it execs plugins and waits): call them from uv_queue_work.
 *
 * The conflist generated per task (stored in the container's checkpoint for DEL):
 *
 *     {"cniVersion": "0.4.0", "name": "strata-bridge", "plugins": [
 *        {"type": "bridge", "bridge": <bridge>, "isGateway": true, "ipMasq": true,
 *         "hairpinMode": true, "ipam": {"type": "host-local", "subnet": <subnet>,
 *         "dataDir": <ipam dir>, "routes": [{"dst": "0.0.0.0/0"}]}},
 *        {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true,
 *         "runtimeConfig": {"portMappings": [{"hostPort", "containerPort", "protocol"}…]}}]} */
#pragma once

#include <jansson.h>

#include "agent/runtime.h"
#include "common/err.h"

struct cni_config {
        const char *plugin_dir; /* NULL: /usr/lib/cni */
        const char *bridge;     /* NULL: "strata0" */
        const char *subnet;     /* NULL: "172.31.0.0/16" */
        const char *ipam_dir;   /* required: host-local's lease directory */
        const char *name;       /* the conflist's network name; NULL: "strata-bridge" */
};

/* Creates a new network namespace and pins it by bind-mounting it on path (created). */
int netns_create(const char *path, struct err *err);
/* Unmounts and removes a pinned namespace; absent is fine. */
void netns_destroy(const char *path);

/* The conflist for one task with its port mappings (caller owns the result). */
json_t *cni_conflist(const struct cni_config *c, const struct task_port_mapping *ports, size_t n_ports);

/* Runs ADD for loopback and every plugin of the list in order (each gets the previous result).
 * On success *ret_result is the last plugin's result; on failure what was added is deleted
 * again and err has the plugin's message. */
int cni_add(const struct cni_config *c, const json_t *conflist, const char *container_id, const char *netns,
            json_t **ret_result, struct err *err);
/* Runs DEL for every plugin in reverse order; errors are returned after trying them all. */
int cni_del(const struct cni_config *c, const json_t *conflist, const json_t *result, const char *container_id,
            const char *netns, struct err *err);

/* The first IPv4 address of a result ("10.1.2.3"), malloc'd, or NULL. */
char *cni_result_ip(const json_t *result);
