/* oci_spec.h — the bundle's config.json (OCI runtime spec 1.0) for one container task, built
 * from the image's config, the app and the agent's safe defaults. Pure: no I/O except reading
 * the image's /etc/passwd and /etc/group to resolve a user name.
 *
 * What goes where:
 *
 * | config.json                 | from                                                             |
 * | --------------------------- | ---------------------------------------------------------------- |
 * | process.args                | app cmd → ["/bin/sh","-c",cmd]; app args → Entrypoint + args;     |
 * |                             | neither → Entrypoint + Cmd (Docker's rules)                      |
 * | process.env                 | image Env, then the task env (Marathon's), then MESOS_SANDBOX,    |
 * |                             | HOSTNAME, HOME and PATH when missing                             |
 * | process.cwd                 | image WorkingDir, else "/"                                        |
 * | process.user                | app user, else image User ("name", "uid", "name:group", "u:g")   |
 * | process.terminal            | app container tty                                                |
 * | process.capabilities        | Docker's default set (bounding, effective, permitted)            |
 * | process.noNewPrivileges     | always true                                                       |
 * | process.rlimits             | RLIMIT_NOFILE as given (the agent's own: a container cannot raise it) |
 * | root                        | the overlay mount; readonly when asked                           |
 * | mounts                      | /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup,     |
 * |                             | the sandbox at /mnt/mesos/sandbox, volumes, /etc/resolv.conf      |
 * | linux.namespaces            | pid ipc uts mount, network (new, a path, or none for host)        |
 * | linux.resources             | cpu shares/quota, memory (no swap), pids, devices deny-all        |
 * | linux.cgroupsPath           | /<parent>/<task id>: the cgroup the native layer created          |
 * | linux.seccomp               | Docker's default profile, as a deny list (see oci_spec.c)        |
 * | linux.maskedPaths/readonlyPaths | Docker's lists                                               |
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

#define OCI_SANDBOX_PATH "/mnt/mesos/sandbox"

struct oci_volume {
        const char *host_path;      /* absolute host path, or a path relative to the sandbox */
        const char *container_path; /* absolute path inside the container */
        bool readonly;
};

struct oci_spec_input {
        const char *task_id;         /* required */
        const char *hostname;        /* NULL: the task id, cut to 63 chars */
        const char *rootfs;          /* required: absolute path of the mounted rootfs */
        bool readonly_rootfs;
        const json_t *image_config;  /* the image config's "config" object, or NULL */
        const char *cmd;             /* app cmd (shell), or NULL */
        char *const *args;           /* app args (NULL-terminated), or NULL */
        char *const *env;            /* the task env ("NAME=value", NULL-terminated), or NULL */
        const char *user;            /* app user, or NULL (image User, else root) */
        const char *sandbox;         /* required: host path of the sandbox */
        const struct oci_volume *volumes;
        size_t n_volumes;
        bool tty;
        uint64_t nofile_soft, nofile_hard; /* RLIMIT_NOFILE; 0: inherit the runtime's */
        double cpus;
        uint64_t mem_bytes; /* 0: unlimited */
        int64_t pids_max;   /* 0: unlimited */
        bool cfs_quota;
        const char *cgroups_path;    /* required: "/strata/<task id>" */
        bool host_network;           /* share the agent's network namespace */
        const char *netns_path;      /* join this network namespace (bridge); NULL: a new one */
        const char *resolv_conf;     /* bind-mounted read-only at /etc/resolv.conf, or NULL */
};

/* Builds config.json. *ret (owned by the caller) is set on success. -EINVAL with a message
 * when the input cannot make a container: no command at all, a user unknown to the image, a
 * relative container path. */
int oci_spec_build(const struct oci_spec_input *in, json_t **ret, struct err *err);

/* Resolves "name", "uid", "name:group" or "uid:gid" against <rootfs>/etc/passwd and
 * <rootfs>/etc/group (numeric ids need no entry). NULL or "" is root. */
int oci_user_resolve(const char *rootfs, const char *user, uid_t *ret_uid, gid_t *ret_gid, struct err *err);

/* Docker's default capability set, NULL-terminated ("CAP_CHOWN", …). */
extern const char *const oci_default_caps[];
