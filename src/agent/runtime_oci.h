/* runtime_oci.h — the OCI runtime (runc or crun): container tasks from images, native tasks
 * passed through to the native runtime it wraps. Layout and design in runtime_oci.c. */
#pragma once

#include "agent/image_store.h"
#include "agent/runtime.h"

#define RUNTIME_OCI_DEFAULT_PIDS_MAX 4096

struct runtime_oci_config {
        const char *oci_runtime;    /* "runc" (default), "crun" or a path to either */
        int64_t pids_max;           /* default pids limit of a container; 0: 4096 */
        const char *cni_bridge;     /* NULL: "strata0" */
        const char *cni_subnet;     /* NULL: "172.31.0.0/16" */
        const char *cni_plugin_dir; /* NULL: /usr/lib/cni */
        struct image_store *images; /* registry images; owned by the runtime from then on (freed
                                     * when it closes); NULL: local images only */
        const char *resolv_conf;    /* containers' /etc/resolv.conf when that file exists at launch
                                     * (the agent's DNS, dns_agent.h); else the host's */
};

/* Creates the OCI runtime over a new native runtime (same cfg: work dir, cgroups). Container
 * tasks (spec->container) run as `<oci runtime> run` under the native shim; images come from
 * the image store (pulled with the app's forcePullImage and pullConfig), or are local
 * directories ("/path" or "file:///path": layers/ subdirectories bottom first in name order, or
 * the directory itself, and image.json as the image config). *ret is freed by
 * runtime_close(). */
int runtime_oci_new(const struct runtime_config *cfg, const struct runtime_oci_config *ocfg, struct runtime **ret,
                    struct err *err);

/* Named cluster networks this agent has a subnet of: {"<name>": "10.200.3.0/24"} (copied).
 * Tasks on a network not in the map fail. No-op on another kind of runtime. */
void runtime_oci_set_networks(struct runtime *rt, const json_t *networks);
/* The Linux bridge of a named network on every agent ("stn-<name>", ≤ 15 chars); malloc'd. */
char *runtime_oci_network_bridge(const char *name);

/* The state directory the OCI runtime binary uses (--root) for work_dir; malloc'd. */
char *runtime_oci_state_root(const char *work_dir, const char *oci_runtime);
