/* oci_spec.c — config.json for a container task (OCI runtime spec 1.0.2), with Docker's safe
 * defaults: namespaces, capabilities, seccomp, masked paths, no_new_privileges. */
#include "agent/oci_spec.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/macro.h"
#include "common/util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CFS_PERIOD_US 100000

/* Docker's default capabilities (moby oci/caps/defaults.go) less CAP_NET_RAW: no raw sockets
 * for tasks (issue 13; Kubernetes' "restricted" profile drops it too: ARP/ICMP spoofing on the
 * bridge). `ping` in a container needs a privileged app. */
const char *const oci_default_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",     "CAP_FOWNER",     "CAP_MKNOD",
        "CAP_SETGID",       "CAP_SETUID",     "CAP_SETFCAP",    "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL,
};

/* Docker's masked and read-only paths (moby oci/defaults.go). */
static const char *const masked_paths[] = {
        "/proc/asound",        "/proc/acpi",     "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",          "/sys/firmware",  "/sys/devices/virtual/powercap", NULL,
};
static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* Docker's default seccomp profile allows ~350 named syscalls and answers EPERM to the rest.
 * For a container with the default capabilities, what it refuses is this list (the syscalls it
 * allows only with CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_SYS_TIME… plus the ones it
 * never allows). We generate the profile as "allow by default, EPERM for these": the same
 * answers for every syscall Docker's profile names; a syscall newer than this table is allowed
 * where Docker's would refuse it (documented in docs/OPERATIONS.md). */
static const char *const denied_syscalls[] = {
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
        "finit_module", "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
        "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount", "mount_setattr",
        "move_mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree",
        "fsopen", "fsconfig", "fsmount", "fspick", "perf_event_open", "pivot_root", "process_vm_readv",
        "process_vm_writev", "ptrace", "query_module", "quotactl", "quotactl_fd", "reboot", "request_key",
        "set_mempolicy", "setns", "settimeofday", "stime", "swapon", "swapoff", "sysfs", "_sysctl",
        "syslog", "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
        "io_uring_setup", "io_uring_enter", "io_uring_register", NULL,
};

/* clone(2) flags that create namespaces: Docker refuses them without CAP_SYS_ADMIN. */
static const unsigned long clone_ns_flags[] = {
        0x00020000, /* CLONE_NEWNS */
        0x02000000, /* CLONE_NEWCGROUP */
        0x04000000, /* CLONE_NEWUTS */
        0x08000000, /* CLONE_NEWIPC */
        0x10000000, /* CLONE_NEWUSER */
        0x20000000, /* CLONE_NEWPID */
        0x40000000, /* CLONE_NEWNET */
};

static json_t *strv_json(const char *const *v) {
        json_t *a = json_array();
        for (; v && *v; v++)
                json_array_append_new(a, json_string(*v));
        return a;
}

static json_t *seccomp_profile(void) {
        json_t *syscalls = json_array();
        json_array_append_new(syscalls, json_pack("{s:o,s:s,s:i}", "names", strv_json(denied_syscalls), "action",
                                                  "SCMP_ACT_ERRNO", "errnoRet", 1));
        /* "clone3 is answered ENOSYS so that libc falls back to clone, whose flags can be
         * inspected" (moby's profile). */
        json_array_append_new(syscalls, json_pack("{s:[s],s:s,s:i}", "names", "clone3", "action",
                                                  "SCMP_ACT_ERRNO", "errnoRet", 38));
        for (size_t i = 0; i < ELEMENTSOF(clone_ns_flags); i++)
                json_array_append_new(
                        syscalls,
                        json_pack("{s:[s],s:s,s:i,s:[{s:i,s:I,s:I,s:s}]}", "names", "clone", "action",
                                  "SCMP_ACT_ERRNO", "errnoRet", 1, "args", "index", 0, "value",
                                  (json_int_t)clone_ns_flags[i], "valueTwo", (json_int_t)clone_ns_flags[i], "op",
                                  "SCMP_CMP_MASKED_EQ"));
        return json_pack("{s:s,s:[s,s,s],s:o}", "defaultAction", "SCMP_ACT_ALLOW", "architectures",
                         "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "syscalls", syscalls);
}

/* --- users --- */

/* Opens rel (e.g. "etc/passwd") inside the image's rootfs for reading. The image is untrusted:
 * symlinks resolve inside the rootfs (never to the host's files), and only a regular file of at
 * most 1 MiB is read (a FIFO or /dev/zero would hang the worker). NULL if anything else. */
static FILE *open_in_rootfs(const char *rootfs, const char *rel) {
        int dfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return NULL;
        struct open_how how = { .flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof how);
        close(dfd);
        struct stat st;
        if (fd < 0)
                return NULL;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 1024 * 1024) {
                close(fd);
                return NULL;
        }
        FILE *f = fdopen(fd, "r");
        if (!f)
                close(fd);
        return f;
}

/* Looks name (or a numeric id) up in a passwd- or group-style file of the rootfs; field 3 is the
 * id, field 4 the passwd entry's primary group. Returns 0 and fills ids, -ENOENT if not there. */
static int lookup_colon_file(const char *rootfs, const char *rel, const char *name, long *ret_id, long *ret_gid) {
        FILE *f = open_in_rootfs(rootfs, rel);
        if (!f)
                return -ENOENT;
        char line[1024];
        int r = -ENOENT;
        while (fgets(line, sizeof line, f)) {
                char *save = NULL;
                char *fname = strtok_r(line, ":", &save);
                (void)strtok_r(NULL, ":", &save); /* password */
                char *id = strtok_r(NULL, ":", &save);
                char *gid = strtok_r(NULL, ":\n", &save);
                if (!fname || !id || !streq(fname, name))
                        continue;
                *ret_id = strtol(id, NULL, 10);
                if (ret_gid)
                        *ret_gid = gid ? strtol(gid, NULL, 10) : *ret_id;
                r = 0;
                break;
        }
        fclose(f);
        return r;
}

static bool parse_id(const char *s, long *ret) {
        if (!*s)
                return false;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (*end || errno || v < 0 || v > 0x7fffffff)
                return false;
        *ret = v;
        return true;
}

int oci_user_resolve(const char *rootfs, const char *user, uid_t *ret_uid, gid_t *ret_gid, struct err *err) {
        if (!user || !*user) {
                *ret_uid = 0;
                *ret_gid = 0;
                return 0;
        }
        _cleanup_free_ char *u = xstrdup(user);
        char *g = strchr(u, ':');
        if (g)
                *g++ = 0;
        long uid, gid = -1;
        if (!parse_id(u, &uid)) {
                if (lookup_colon_file(rootfs, "etc/passwd", u, &uid, &gid) < 0)
                        return err_set(err, -EINVAL, "user '%s' is not in the image's /etc/passwd", u);
        } else {
                /* A numeric user keeps its passwd entry's group when it has one; else gid 0. */
                FILE *f = open_in_rootfs(rootfs, "etc/passwd");
                if (f) {
                        char line[1024];
                        while (fgets(line, sizeof line, f)) {
                                long id, pg;
                                char *p = strchr(line, ':');
                                if (p && (p = strchr(p + 1, ':')) && sscanf(p + 1, "%ld:%ld", &id, &pg) == 2 &&
                                    id == uid) {
                                        gid = pg;
                                        break;
                                }
                        }
                        fclose(f);
                }
        }
        if (g && *g) {
                if (!parse_id(g, &gid) && lookup_colon_file(rootfs, "etc/group", g, &gid, NULL) < 0)
                        return err_set(err, -EINVAL, "group '%s' is not in the image's /etc/group", g);
        }
        *ret_uid = (uid_t)uid;
        *ret_gid = (gid_t)(gid < 0 ? 0 : gid);
        return 0;
}

/* --- process --- */

static bool env_has(const json_t *env, const char *name) {
        size_t len = strlen(name), i;
        json_t *e;
        json_array_foreach(env, i, e) {
                const char *s = json_string_value(e);
                if (s && strncmp(s, name, len) == 0 && s[len] == '=')
                        return true;
        }
        return false;
}

/* Sets NAME=value, replacing an earlier NAME. */
static void env_set(json_t *env, const char *kv) {
        const char *eq = strchr(kv, '=');
        if (!eq)
                return;
        size_t len = (size_t)(eq - kv) + 1, i;
        json_t *e;
        json_array_foreach(env, i, e) {
                const char *s = json_string_value(e);
                if (s && strncmp(s, kv, len) == 0) {
                        json_array_set_new(env, i, json_string(kv));
                        return;
                }
        }
        json_array_append_new(env, json_string(kv));
}

static void append_strings(json_t *dst, const json_t *src) {
        size_t i;
        json_t *v;
        json_array_foreach(src, i, v)
                if (json_is_string(v))
                        json_array_append(dst, v);
}

static int build_args(const struct oci_spec_input *in, json_t **ret, struct err *err) {
        const json_t *entrypoint = json_object_get(in->image_config, "Entrypoint");
        const json_t *cmd = json_object_get(in->image_config, "Cmd");
        json_t *args = json_array();
        if (in->cmd) {
                /* Mesos: a shell command runs under /bin/sh -c, the image's entrypoint aside. */
                json_array_append_new(args, json_string("/bin/sh"));
                json_array_append_new(args, json_string("-c"));
                json_array_append_new(args, json_string(in->cmd));
        } else if (in->args && in->args[0]) {
                /* Docker: arguments replace the image's Cmd, after its Entrypoint. */
                append_strings(args, entrypoint);
                for (char *const *a = in->args; *a; a++)
                        json_array_append_new(args, json_string(*a));
        } else {
                append_strings(args, entrypoint);
                append_strings(args, cmd);
        }
        if (json_array_size(args) == 0) {
                json_decref(args);
                return err_set(err, -EINVAL, "nothing to run: the app has no cmd or args and the image "
                                             "has no Entrypoint or Cmd");
        }
        *ret = args;
        return 0;
}

static json_t *build_process(const struct oci_spec_input *in, json_t *args, uid_t uid, gid_t gid) {
        json_t *env = json_array();
        append_strings(env, json_object_get(in->image_config, "Env"));
        for (char *const *e = in->env; e && *e; e++)
                env_set(env, *e);
        /* Inside the container the sandbox is at its mount point, whatever the host path. */
        env_set(env, "MESOS_SANDBOX=" OCI_SANDBOX_PATH);
        if (!env_has(env, "PATH"))
                json_array_append_new(env, json_string("PATH=" DEFAULT_PATH));
        if (!env_has(env, "HOME"))
                json_array_append_new(env, json_string(uid == 0 ? "HOME=/root" : "HOME=/"));
        if (in->tty && !env_has(env, "TERM"))
                json_array_append_new(env, json_string("TERM=xterm"));

        const char *cwd = json_string_value(json_object_get(in->image_config, "WorkingDir"));
        json_t *caps = strv_json(oci_default_caps);
        json_t *p = json_pack("{s:b,s:{s:i,s:i},s:o,s:o,s:s,s:{s:o,s:o,s:o},s:b}", "terminal", in->tty, "user",
                              "uid", (int)uid, "gid", (int)gid, "args", args, "env", env, "cwd",
                              cwd && cwd[0] == '/' ? cwd : "/", "capabilities", "bounding", json_deep_copy(caps),
                              "effective", json_deep_copy(caps), "permitted", caps, "noNewPrivileges", true);
        if (in->nofile_hard)
                json_object_set_new(p, "rlimits",
                                    json_pack("[{s:s,s:I,s:I}]", "type", "RLIMIT_NOFILE", "hard",
                                              (json_int_t)in->nofile_hard, "soft",
                                              (json_int_t)MIN(in->nofile_soft, in->nofile_hard)));
        return p;
}

/* --- mounts --- */

static void add_mount(json_t *mounts, const char *dest, const char *type, const char *source,
                      const char *const *options) {
        json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:o}", "destination", dest, "type", type, "source",
                                                source, "options", strv_json(options)));
}

static int build_mounts(const struct oci_spec_input *in, json_t **ret, struct err *err) {
        json_t *m = json_array();
        add_mount(m, "/proc", "proc", "proc", NULL);
        add_mount(m, "/dev", "tmpfs", "tmpfs",
                  (const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k", NULL});
        add_mount(m, "/dev/pts", "devpts", "devpts",
                  (const char *const[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
                                        NULL});
        add_mount(m, "/dev/shm", "tmpfs", "shm",
                  (const char *const[]){"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL});
        add_mount(m, "/dev/mqueue", "mqueue", "mqueue", (const char *const[]){"nosuid", "noexec", "nodev", NULL});
        if (in->host_network)
                /* sysfs cannot be mounted fresh without a network namespace of our own. */
                add_mount(m, "/sys", "bind", "/sys",
                          (const char *const[]){"rbind", "nosuid", "noexec", "nodev", "ro", NULL});
        else
                add_mount(m, "/sys", "sysfs", "sysfs", (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL});
        add_mount(m, "/sys/fs/cgroup", "cgroup", "cgroup",
                  (const char *const[]){"nosuid", "noexec", "nodev", "relatime", "ro", NULL});
        add_mount(m, OCI_SANDBOX_PATH, "bind", in->sandbox, (const char *const[]){"rbind", "rw", NULL});
        if (in->resolv_conf)
                add_mount(m, "/etc/resolv.conf", "bind", in->resolv_conf,
                          (const char *const[]){"bind", "ro", NULL});
        for (size_t i = 0; i < in->n_volumes; i++) {
                const struct oci_volume *v = &in->volumes[i];
                if (!v->container_path || v->container_path[0] != '/' || strstr(v->container_path, "..")) {
                        json_decref(m);
                        return err_set(err, -EINVAL, "volume %zu: containerPath '%s' is not an absolute path", i,
                                       v->container_path ? v->container_path : "");
                }
                if (!v->host_path || !*v->host_path || strstr(v->host_path, "..")) {
                        json_decref(m);
                        return err_set(err, -EINVAL, "volume %zu: bad hostPath", i);
                }
                /* A relative host path is a directory of the sandbox (Mesos' sandbox volumes). */
                _cleanup_free_ char *src = v->host_path[0] == '/' ? xstrdup(v->host_path)
                                                                  : xasprintf("%s/%s", in->sandbox, v->host_path);
                add_mount(m, v->container_path, "bind", src,
                          (const char *const[]){"rbind", v->readonly ? "ro" : "rw", NULL});
        }
        *ret = m;
        return 0;
}

/* --- linux --- */

static json_t *build_resources(const struct oci_spec_input *in) {
        json_t *r = json_object();
        json_object_set_new(r, "devices", json_pack("[{s:b,s:s}]", "allow", false, "access", "rwm"));
        if (in->cpus > 0) {
                json_t *cpu = json_pack("{s:I}", "shares", (json_int_t)(in->cpus * 1024));
                if (in->cfs_quota) {
                        json_object_set_new(cpu, "quota", json_integer((json_int_t)(in->cpus * CFS_PERIOD_US)));
                        json_object_set_new(cpu, "period", json_integer(CFS_PERIOD_US));
                }
                json_object_set_new(r, "cpu", cpu);
        }
        if (in->mem_bytes)
                json_object_set_new(r, "memory", json_pack("{s:I,s:I}", "limit", (json_int_t)in->mem_bytes, "swap",
                                                           (json_int_t)in->mem_bytes));
        if (in->pids_max > 0)
                json_object_set_new(r, "pids", json_pack("{s:I}", "limit", (json_int_t)in->pids_max));
        return r;
}

static json_t *build_namespaces(const struct oci_spec_input *in) {
        json_t *ns = json_pack("[{s:s},{s:s},{s:s},{s:s}]", "type", "pid", "type", "ipc", "type", "uts", "type",
                               "mount");
        if (in->netns_path)
                json_array_append_new(ns, json_pack("{s:s,s:s}", "type", "network", "path", in->netns_path));
        else if (!in->host_network)
                json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
        return ns;
}

int oci_spec_build(const struct oci_spec_input *in, json_t **ret, struct err *err) {
        if (!in->task_id || !in->rootfs || !in->sandbox || !in->cgroups_path)
                return err_set(err, -EINVAL, "oci spec: task id, rootfs, sandbox and cgroups path are required");
        if (in->image_config && !json_is_object(in->image_config))
                return err_set(err, -EINVAL, "the image config is not an object");
        const char *user = in->user ? in->user : json_string_value(json_object_get(in->image_config, "User"));
        uid_t uid;
        gid_t gid;
        int r = oci_user_resolve(in->rootfs, user, &uid, &gid, err);
        if (r < 0)
                return r;
        json_t *args = NULL, *mounts = NULL;
        r = build_args(in, &args, err);
        if (r < 0)
                return r;
        r = build_mounts(in, &mounts, err);
        if (r < 0) {
                json_decref(args);
                return r;
        }
        _cleanup_free_ char *host = xstrndup(in->hostname ? in->hostname : in->task_id, 63);
        json_t *linux_ = json_pack("{s:o,s:o,s:s,s:o,s:o,s:o}", "namespaces", build_namespaces(in), "resources",
                                   build_resources(in), "cgroupsPath", in->cgroups_path, "seccomp",
                                   seccomp_profile(), "maskedPaths", strv_json(masked_paths), "readonlyPaths",
                                   strv_json(readonly_paths));
        *ret = json_pack("{s:s,s:o,s:{s:s,s:b},s:s,s:o,s:o}", "ociVersion", "1.0.2", "process",
                         build_process(in, args, uid, gid), "root", "path", in->rootfs, "readonly",
                         in->readonly_rootfs, "hostname", host, "mounts", mounts, "linux", linux_);
        return 0;
}
