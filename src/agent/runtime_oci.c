/* runtime_oci.c — the OCI runtime: tasks whose app has a container image run as runc/crun
 * containers; every other task goes to the native runtime it wraps.
 *
 * A container task is prepared off the loop (image layers → overlay rootfs, network namespace
 * and CNI, config.json: oci_spec.h) and then handed to the native runtime as the command
 * `<runc> --root <root> run --bundle <bundle> <task id>`: the native shim supervises runc in the
 * task's cgroup (runc's cgroupsPath is that same cgroup), runc passes its stdio (the sandbox's
 * stdout/stderr files) to the container and exits with the container's status, and the shim
 * outlives the agent. Kill, exit records, checkpoints and recovery are the native runtime's.
 * This layer adds the bundle's cleanup (runc delete, CNI DEL, umount, rm) at remove time and
 * the task's IP in its statuses.
 *
 * On-disk layout, in addition to the native one (runtime.h):
 *
 * | path                                  | content                                          |
 * | ------------------------------------- | ------------------------------------------------ |
 * | containers/<task id>/config.json      | the bundle's OCI config                           |
 * | containers/<task id>/rootfs/          | overlay mount: lowerdirs = image layers           |
 * | containers/<task id>/upper, work/     | the overlay's per-task writable layer             |
 * | containers/<task id>/netns            | the pinned network namespace (bridge)             |
 * | containers/<task id>/resolv.conf      | copy of the agent's, bind-mounted read-only       |
 * | containers/<task id>/container.json   | {"network", "conflist"?, "result"?, "ip"?} for cleanup |
 * | runc/                                 | runc's --root (its container state)               |
 *
 * The upper layer lives beside the bundle rather than in the sandbox: the sandbox is mounted
 * into the container and served by the files API, and neither should expose overlay internals. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/cni.h"
#include "agent/image_ref.h"
#include "agent/image_store.h"
#include "agent/oci_spec.h"
#include "agent/runtime.h"
#include "agent/runtime_oci.h"
#include "agent/spawn_quiet.h"
#include "agent/sandbox.h"
#include "common/alloc.h"
#include "common/list.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"

struct runtime_oci;
struct pull_ctx;

struct otask {
        struct otask *next, *prev;
        struct runtime_oci *rt;
        struct task_spec spec; /* as launched (with the container) */
        char *dir;             /* containers/<task id> */
        enum task_state state; /* while not handed to native */
        bool handed;           /* the native runtime owns its lifecycle */
        bool preparing, killing;
        struct pull_ctx *pull; /* an image pull in flight */
        struct image *image;   /* from the image store (a reference), or NULL: a local image */
        char *net_name, *net_bridge, *net_subnet; /* a named network: its CNI name, bridge, and
                                                   * this agent's subnet of it (set on the loop) */
        char **layers;         /* copies of the pulled image's layers and config: the prepare */
        size_t n_layers;       /* work reads these, never the store's objects */
        json_t *image_config;
        char *ip;
        /* prepare work (thread pool) */
        uv_work_t work;
        int prep_r;
        struct err prep_err;
};

struct runtime_oci {
        struct runtime base;
        struct runtime *native;
        char *work_dir, *oci_bin, *runc_root, *cgroup_parent;
        char *resolv_conf; /* runtime_oci_config.resolv_conf, or NULL */
        bool cfs_quota;
        int64_t pids_max;
        char *cni_bridge, *cni_subnet, *cni_ipam_dir, *cni_plugin_dir;
        struct image_store *images; /* owned; NULL: local images only */
        json_t *networks;           /* {"<name>": "<this agent's subnet>"}: named networks */
        struct otask *tasks;
        unsigned works; /* thread-pool work in flight (prepare, cleanup) */
        bool native_closed;
};

static struct runtime_oci *oci(struct runtime *base) {
        return (struct runtime_oci *)base;
}

/* The agent's resolv.conf (its DNS server) when it has written one, else the host's. */
static const char *resolv_source(const struct runtime_oci *rt) {
        return rt->resolv_conf && access(rt->resolv_conf, R_OK) == 0 ? rt->resolv_conf : "/etc/resolv.conf";
}

static struct otask *find_task(struct runtime_oci *rt, const char *id) {
        for (struct otask *t = rt->tasks; t; t = t->next)
                if (streq(t->spec.task_id, id))
                        return t;
        return NULL;
}

static struct cni_config cni_cfg(const struct runtime_oci *rt) {
        return (struct cni_config){.plugin_dir = rt->cni_plugin_dir, .bridge = rt->cni_bridge,
                                   .subnet = rt->cni_subnet, .ipam_dir = rt->cni_ipam_dir};
}

static struct otask *otask_new(struct runtime_oci *rt, const struct task_spec *spec) {
        struct otask *t = xcalloc(1, sizeof *t);
        t->rt = rt;
        task_spec_copy(&t->spec, spec);
        t->dir = xasprintf("%s/containers/%s", rt->work_dir, spec->task_id);
        t->state = TASK_STAGING;
        LIST_PREPEND(rt->tasks, t);
        return t;
}

static void otask_unlink(struct otask *t) {
        LIST_REMOVE(t->rt->tasks, t);
}

/* One pull in flight for a task; it outlives the task when the task goes first (killed or
 * removed while pulling): the image it brings is then released at once. */
struct pull_ctx {
        struct runtime_oci *rt;
        struct otask *t; /* NULL once the task is gone */
};

static void otask_free(struct otask *t) {
        if (t->pull)
                t->pull->t = NULL;
        if (t->image && t->rt->images)
                image_store_unref(t->rt->images, t->image);
        task_spec_release(&t->spec);
        for (size_t i = 0; i < t->n_layers; i++)
                free(t->layers[i]);
        free(t->layers);
        json_decref(t->image_config);
        free(t->net_name);
        free(t->net_bridge);
        free(t->net_subnet);
        free(t->dir);
        free(t->ip);
        err_release(&t->prep_err);
        free(t);
}

static void maybe_closed(struct runtime_oci *rt) {
        if (rt->base.closing && rt->native_closed && rt->works == 0) {
                while (rt->tasks) {
                        struct otask *t = rt->tasks;
                        otask_unlink(t);
                        otask_free(t);
                }
                runtime_base_closed(&rt->base);
        }
}

static void emit(struct otask *t, enum task_state state, const char *message, const char *reason) {
        t->state = state;
        struct task_status st = {.task_id = t->spec.task_id, .state = state, .message = message,
                                 .reason = reason, .exit_code = -1, .ip_address = t->ip};
        runtime_emit(&t->rt->base, &st);
}

/* --- blocking helpers (thread pool) --- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)(flag == FTW_DP ? rmdir(path) : unlink(path));
        return 0;
}

static void rm_rf(const char *path) {
        (void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Undoes whatever prepare did, in reverse; every step tolerates "not there". */
static void cleanup_container(const char *oci_bin, const char *runc_root, const struct cni_config *cni,
                              const char *dir, const char *id) {
        char *del[] = {(char *)oci_bin, "--root", (char *)runc_root, "delete", "--force", (char *)id, NULL};
        (void)spawn_quiet(del);
        _cleanup_free_ char *ck_path = xasprintf("%s/container.json", dir);
        _cleanup_free_ char *netns = xasprintf("%s/netns", dir);
        _cleanup_(json_decrefp) json_t *ck = json_load_file(ck_path, 0, NULL);
        const json_t *conflist = json_object_get(ck, "conflist");
        if (conflist) {
                struct err e = {0};
                if (cni_del(cni, conflist, json_object_get(ck, "result"), id, netns, &e) < 0)
                        log_warn("task '%s': %s", id, err_msg(&e));
                err_release(&e);
        }
        netns_destroy(netns);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
        if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                log_warn("task '%s': cannot unmount '%s': %m", id, rootfs);
        rm_rf(dir);
}

/* A local image ("/path" or "file:///path") is a directory; anything else comes from a
 * registry through the image store. Returns the directory or NULL. */
static const char *local_image_path(const char *ref) {
        if (strncmp(ref, "file://", 7) == 0)
                return ref + 7;
        return ref[0] == '/' ? ref : NULL;
}

/* Resolves a local image to its layer directories (bottom first) and config: its layers/
 * subdirectories in name order, or the directory itself as the only layer, and image.json (an
 * image config) if present. */
static int resolve_local_image(const char *ref, char ***ret_layers, size_t *ret_n, json_t **ret_config,
                               struct err *err) {
        const char *path = local_image_path(ref);
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return err_set(err, -ENOENT, "image '%s': '%s' is not a directory", ref, path);
        _cleanup_free_ char *layers_dir = xasprintf("%s/layers", path);
        struct dirent **names = NULL;
        int n = scandir(layers_dir, &names, NULL, alphasort);
        char **layers = NULL;
        size_t nl = 0;
        if (n > 0) {
                layers = xcalloc((size_t)n, sizeof *layers);
                for (int i = 0; i < n; i++) {
                        if (names[i]->d_name[0] != '.')
                                layers[nl++] = xasprintf("%s/%s", layers_dir, names[i]->d_name);
                        free(names[i]);
                }
                free(names);
        }
        if (nl == 0) {
                free(layers);
                layers = xcalloc(1, sizeof *layers);
                layers[nl++] = xstrdup(path);
        }
        _cleanup_free_ char *cfg_path = xasprintf("%s/image.json", path);
        json_t *cfg = json_load_file(cfg_path, 0, NULL);
        if (cfg && json_object_get(cfg, "config")) {
                json_t *inner = json_incref(json_object_get(cfg, "config"));
                json_decref(cfg);
                cfg = inner;
        }
        *ret_layers = layers;
        *ret_n = nl;
        *ret_config = cfg;
        return 0;
}

static int mount_rootfs(const char *dir, char **layers, size_t n, struct err *err) {
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        _cleanup_free_ char *work = xasprintf("%s/work", dir);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
        if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(rootfs, 0755) < 0)
                return err_set(err, -errno, "cannot create the overlay directories in '%s': %m", dir);
        struct strbuf opts = {0};
        strbuf_puts(&opts, "lowerdir=");
        /* "lowerdir=top:…:bottom" (overlayfs.rst): our list is bottom first. */
        for (size_t i = n; i-- > 0;) {
                if (strpbrk(layers[i], ":,")) {
                        strbuf_release(&opts);
                        return err_set(err, -EINVAL, "layer path '%s' has a ':' or ','", layers[i]);
                }
                strbuf_printf(&opts, "%s%s", layers[i], i ? ":" : "");
        }
        strbuf_printf(&opts, ",upperdir=%s,workdir=%s", upper, work);
        /* mount(2) copies at most one page of options: longer ones would be cut, and fail as a
         * misleading EINVAL. */
        if (opts.len >= 4096) {
                strbuf_release(&opts);
                return err_set(err, -E2BIG,
                               "the image has %zu layers: their paths exceed the 4096 bytes of overlay mount options",
                               n);
        }
        int r = 0;
        if (mount("overlay", rootfs, "overlay", MS_NODEV, opts.buf) < 0)
                r = err_set(err, -errno, "cannot mount the overlay rootfs at '%s': %m", rootfs);
        strbuf_release(&opts);
        return r;
}

static int copy_file(const char *from, const char *to) {
        char *text = NULL;
        size_t len = 0;
        int r = file_read_all(from, 1 << 20, &text, &len, NULL);
        if (r < 0)
                return r;
        FILE *f = fopen(to, "we");
        if (!f) {
                free(text);
                return -errno;
        }
        fwrite(text, 1, len, f);
        fclose(f);
        free(text);
        return 0;
}

static int prepare(struct otask *t, struct err *err) {
        struct runtime_oci *rt = t->rt;
        const struct task_container *c = t->spec.container;
        const char *id = t->spec.task_id;
        _cleanup_free_ char *containers = xasprintf("%s/containers", rt->work_dir);
        int r = mkdir_p(containers, err);
        if (r < 0)
                return r;
        if (mkdir(t->dir, 0700) < 0)
                return err_set(err, -errno, "cannot create '%s': %m", t->dir);

        _cleanup_(json_decrefp) json_t *image_config = NULL;
        if (t->layers) {
                /* Pulled on the loop before this work was queued. */
                image_config = json_incref(t->image_config);
                r = mount_rootfs(t->dir, t->layers, t->n_layers, err);
        } else {
                char **layers = NULL;
                size_t n_layers = 0;
                r = resolve_local_image(c->image, &layers, &n_layers, &image_config, err);
                if (r < 0)
                        return r;
                r = mount_rootfs(t->dir, layers, n_layers, err);
                for (size_t i = 0; i < n_layers; i++)
                        free(layers[i]);
                free(layers);
        }
        if (r < 0)
                return r;

        _cleanup_free_ char *sandbox =
                t->spec.sandbox ? xstrdup(t->spec.sandbox) : sandbox_default_dir(rt->work_dir, id);
        r = mkdir_p(sandbox, err);
        if (r < 0)
                return r;

        _cleanup_(json_decrefp) json_t *ck = json_pack(
                "{s:s}", "network",
                c->network == TASK_NET_BRIDGE ? "container/bridge" : c->network == TASK_NET_HOST ? "host" : t->net_name);
        /* Recovery takes a reference on the image again, so gc keeps its layers. */
        if (t->layers)
                json_object_set_new(ck, "image", json_string(c->image));
        _cleanup_free_ char *netns = NULL;
        _cleanup_free_ char *resolv = NULL;
        _cleanup_free_ char *ck_path = xasprintf("%s/container.json", t->dir);
        if (c->network != TASK_NET_HOST) {
                netns = xasprintf("%s/netns", t->dir);
                r = netns_create(netns, err);
                if (r < 0)
                        return r;
                struct cni_config cni = cni_cfg(rt);
                if (c->network == TASK_NET_CONTAINER) {
                        /* the same plugins on the named network's bridge and this agent's subnet */
                        cni.name = t->net_name;
                        cni.bridge = t->net_bridge;
                        cni.subnet = t->net_subnet;
                }
                json_t *conflist = cni_conflist(&cni, c->ports, c->n_ports);
                json_object_set_new(ck, "conflist", conflist);
                /* Written before ADD: an agent dying mid-ADD still finds what to DEL. */
                if (json_dump_file(ck, ck_path, 0) < 0)
                        return err_set(err, -EIO, "cannot write '%s'", ck_path);
                json_t *result = NULL;
                r = cni_add(&cni, conflist, id, netns, &result, err);
                if (r < 0)
                        return r;
                json_object_set_new(ck, "result", result);
                t->ip = cni_result_ip(result);
                if (t->ip)
                        json_object_set_new(ck, "ip", json_string(t->ip));
                resolv = xasprintf("%s/resolv.conf", t->dir);
                if (copy_file(resolv_source(rt), resolv) < 0) {
                        free(resolv);
                        resolv = NULL;
                }
        } else {
                resolv = access(resolv_source(rt), R_OK) == 0 ? xstrdup(resolv_source(rt)) : NULL;
        }
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", t->dir);
        _cleanup_free_ char *cgpath = xasprintf("/%s/%s", rt->cgroup_parent, id);
        struct oci_volume *vols = c->n_volumes ? xcalloc(c->n_volumes, sizeof *vols) : NULL;
        for (size_t i = 0; i < c->n_volumes; i++)
                vols[i] = (struct oci_volume){.host_path = c->volumes[i].host_path,
                                              .container_path = c->volumes[i].container_path,
                                              .readonly = c->volumes[i].readonly};
        struct oci_spec_input in = {
                .task_id = id,
                .rootfs = rootfs,
                .readonly_rootfs = c->read_only,
                .image_config = image_config,
                .cmd = t->spec.cmd,
                .args = t->spec.argv,
                .env = t->spec.env,
                .user = t->spec.user,
                .sandbox = sandbox,
                .volumes = vols,
                .n_volumes = c->n_volumes,
                .tty = c->tty,
                .cpus = t->spec.cpus,
                .mem_bytes = (uint64_t)(t->spec.mem_mib * 1048576.0),
                .pids_max = t->spec.pids_max ? t->spec.pids_max : rt->pids_max,
                .cfs_quota = rt->cfs_quota,
                .cgroups_path = cgpath,
                .host_network = c->network == TASK_NET_HOST,
                .netns_path = netns,
                .resolv_conf = resolv,
        };
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_max != RLIM_INFINITY) {
                in.nofile_soft = nofile.rlim_cur;
                in.nofile_hard = nofile.rlim_max;
        }
        json_t *config = NULL;
        r = oci_spec_build(&in, &config, err);
        free(vols);
        if (r < 0)
                return r;
        _cleanup_free_ char *config_path = xasprintf("%s/config.json", t->dir);
        _cleanup_free_ char *text = json_dumps(config, JSON_INDENT(1));
        json_decref(config);
        r = file_write_atomic(config_path, text, strlen(text), err);
        if (r < 0)
                return r;
        _cleanup_free_ char *ck_text = json_compact(ck);
        return file_write_atomic(ck_path, ck_text, strlen(ck_text), err);
}

static void prepare_work_cb(uv_work_t *w) {
        struct otask *t = w->data;
        t->prep_r = prepare(t, &t->prep_err);
        if (t->prep_r < 0) {
                struct cni_config cni = cni_cfg(t->rt);
                cleanup_container(t->rt->oci_bin, t->rt->runc_root, &cni, t->dir, t->spec.task_id);
        }
}

/* --- cleanup work --- */

struct cleanup_work {
        uv_work_t work;
        struct runtime_oci *rt;
        char *dir, *id;
        struct image *image; /* released once the overlay is gone */
};

static void cleanup_work_cb(uv_work_t *w) {
        struct cleanup_work *c = w->data;
        struct cni_config cni = cni_cfg(c->rt);
        cleanup_container(c->rt->oci_bin, c->rt->runc_root, &cni, c->dir, c->id);
}

static void cleanup_done_cb(uv_work_t *w, int status) {
        struct cleanup_work *c = w->data;
        struct runtime_oci *rt = c->rt;
        if (c->image && rt->images)
                image_store_unref(rt->images, c->image);
        free(c->dir);
        free(c->id);
        free(c);
        rt->works--;
        maybe_closed(rt);
}

/* Removes the bundle of task t off the loop; the task's image reference moves to the work. */
static void queue_cleanup(struct runtime_oci *rt, struct otask *t) {
        struct cleanup_work *c = xcalloc(1, sizeof *c);
        c->rt = rt;
        c->dir = xstrdup(t->dir);
        c->id = xstrdup(t->spec.task_id);
        c->image = t->image;
        t->image = NULL;
        c->work.data = c;
        if (uv_queue_work(rt->base.loop, &c->work, cleanup_work_cb, cleanup_done_cb) < 0) {
                cleanup_work_cb(&c->work); /* the loop is going away: clean up inline */
                if (c->image && rt->images)
                        image_store_unref(rt->images, c->image);
                free(c->dir);
                free(c->id);
                free(c);
                return;
        }
        rt->works++;
}

/* --- launch --- */

/* What the native runtime runs: runc in the foreground, supervised by the shim. */
static void native_spec(const struct otask *t, struct task_spec *ret) {
        const struct runtime_oci *rt = t->rt;
        *ret = (struct task_spec){0};
        ret->task_id = xstrdup(t->spec.task_id);
        ret->sandbox = t->spec.sandbox ? xstrdup(t->spec.sandbox) : NULL;
        ret->argv = xcalloc(9, sizeof *ret->argv);
        /* runc's own diagnostics go to the bundle, not into the task's stderr. */
        _cleanup_free_ char *log = xasprintf("--log=%s/runtime.log", t->dir);
        const char *argv[] = {rt->oci_bin, "--root", rt->runc_root, log, "run", "--bundle", t->dir, t->spec.task_id};
        for (size_t i = 0; i < ELEMENTSOF(argv); i++)
                ret->argv[i] = xstrdup(argv[i]);
        ret->cpus = t->spec.cpus;
        ret->mem_mib = t->spec.mem_mib;
        ret->disk_mib = t->spec.disk_mib;
        ret->gpus = t->spec.gpus;
        ret->pids_max = t->spec.pids_max ? t->spec.pids_max : rt->pids_max;
        ret->kill_grace_ms = t->spec.kill_grace_ms;
        ret->runtime_joins_cgroup = true;
        struct task_spec fetch_only = t->spec;
        fetch_only.container = NULL;
        struct task_spec copy;
        task_spec_copy(&copy, &fetch_only);
        ret->fetch = copy.fetch;
        ret->n_fetch = copy.n_fetch;
        copy.fetch = NULL;
        copy.n_fetch = 0;
        task_spec_release(&copy);
}

static void prepare_done_cb(uv_work_t *w, int status) {
        struct otask *t = w->data;
        struct runtime_oci *rt = t->rt;
        t->preparing = false;
        rt->works--;
        if (rt->base.closing) {
                /* Not started: recovery at the next start finds the bundle without a native
                 * checkpoint and removes it. */
                maybe_closed(rt);
                return;
        }
        if (t->prep_r < 0) {
                log_warn("cannot launch container task '%s': %s", t->spec.task_id, err_msg(&t->prep_err));
                emit(t, TASK_FAILED, err_msg(&t->prep_err), TASK_REASON_LAUNCH_FAILED);
                return;
        }
        if (t->killing) {
                queue_cleanup(rt, t);
                emit(t, TASK_KILLED, "Killed before the container started", TASK_REASON_KILLED);
                return;
        }
        struct task_spec ns;
        native_spec(t, &ns);
        struct err err = {0};
        int r = runtime_launch(rt->native, &ns, &err);
        task_spec_release(&ns);
        if (r < 0) {
                queue_cleanup(rt, t);
                emit(t, TASK_FAILED, err_msg(&err), TASK_REASON_LAUNCH_FAILED);
        } else {
                t->handed = true;
        }
        err_release(&err);
}

/* A named network's bridge: "stn-" and the name, cut to an interface name's 15 characters. */
char *runtime_oci_network_bridge(const char *name) {
        return xasprintf("stn-%.11s", name);
}

static int start_prepare(struct otask *t, struct err *err) {
        struct runtime_oci *rt = t->rt;
        const struct task_container *c = t->spec.container;
        if (c->network == TASK_NET_CONTAINER && !t->net_subnet) {
                const char *name = c->network_name ? c->network_name : "";
                const char *subnet = json_string_value(json_object_get(rt->networks, name));
                if (!subnet)
                        return err_set(err, -ENOENT,
                                       "network '%s' is not a cluster network this agent has a subnet of "
                                       "(master --network NAME=CIDR)",
                                       name);
                t->net_name = xasprintf("strata-%s", name);
                t->net_bridge = runtime_oci_network_bridge(name);
                t->net_subnet = xstrdup(subnet);
        }
        t->preparing = true;
        t->work.data = t;
        int r = uv_queue_work(rt->base.loop, &t->work, prepare_work_cb, prepare_done_cb);
        if (r < 0) {
                t->preparing = false;
                return err_set(err, r, "cannot queue the container's preparation: %s", uv_strerror(r));
        }
        rt->works++;
        emit(t, TASK_STARTING, "Preparing the container", NULL);
        return 0;
}

static void pull_progress_cb(void *data, const char *message) {
        struct pull_ctx *p = data;
        if (!p->t || task_state_is_terminal(p->t->state))
                return;
        /* "Pulling image 'r': layer 2/5: 12.3 MiB of 40.0 MiB" — at most about once a second. */
        _cleanup_free_ char *msg = xasprintf("Pulling image '%s': %s", p->t->spec.container->image, message);
        emit(p->t, TASK_STARTING, msg, NULL);
}

static void pull_done_cb(void *data, struct image *img, const struct err *e) {
        struct pull_ctx *p = data;
        struct runtime_oci *rt = p->rt;
        struct otask *t = p->t;
        free(p);
        if (t)
                t->pull = NULL;
        if (!t || task_state_is_terminal(t->state) || rt->base.closing) {
                /* killed or removed while pulling: the pull still filled the store */
                image_store_unref(rt->images, img);
                return;
        }
        if (!img) {
                log_warn("cannot pull the image of task '%s': %s", t->spec.task_id, err_msg(e));
                emit(t, TASK_FAILED, err_msg(e), TASK_REASON_LAUNCH_FAILED);
                return;
        }
        t->image = img;
        t->layers = xcalloc(img->n_layers + 1, sizeof *t->layers);
        for (size_t i = 0; i < img->n_layers; i++)
                t->layers[t->n_layers++] = xstrdup(img->layers[i]);
        t->image_config = json_deep_copy(img->config);
        struct err err = {0};
        if (start_prepare(t, &err) < 0)
                emit(t, TASK_FAILED, err_msg(&err), TASK_REASON_LAUNCH_FAILED);
        err_release(&err);
}

/* Registry credentials from the app's pullConfig: its secret's value when that is a Docker
 * config.json naming the image's registry. 0 with the user and password set (or left NULL: the
 * agent's --registry-config then applies), or < 0 with the reason. */
static int pull_config_auth(const struct task_container *c, char **user, char **password, struct err *err) {
        if (!c->pull_secret)
                return 0;
        if (!c->pull_config || c->pull_config[0] != '{')
                return err_set(err, -ENOTSUP,
                               "pullConfig secret '%s': this agent has no secret store; the secret's source must be "
                               "a Docker config.json ({\"auths\": …}) given inline",
                               c->pull_secret);
        struct image_ref ref = {0};
        int r = image_ref_parse(c->image, &ref, err);
        if (r < 0)
                return r;
        r = image_auth_from_docker_config(c->pull_config, ref.host, user, password, err);
        image_ref_release(&ref);
        if (r == -ERR_NOT_FOUND) {
                err_release(err);
                return 0;
        }
        return r < 0 ? err_wrap(err, "pullConfig secret '%s'", c->pull_secret) : 0;
}

static int start_pull(struct otask *t, struct err *err) {
        struct runtime_oci *rt = t->rt;
        const struct task_container *c = t->spec.container;
        struct image_ref ref = {0};
        int r = image_ref_parse(c->image, &ref, err);
        if (r < 0)
                return err_wrap(err, "image '%s'", c->image);
        image_ref_release(&ref);
        _cleanup_free_ char *user = NULL;
        _cleanup_free_ char *password = NULL;
        r = pull_config_auth(c, &user, &password, err);
        if (r < 0)
                return r;
        struct image_auth auth = {.username = user, .password = password};
        struct pull_ctx *p = xcalloc(1, sizeof *p);
        p->rt = rt;
        p->t = t;
        r = image_store_pull(rt->images, c->image, user ? &auth : NULL, c->force_pull, pull_progress_cb,
                             pull_done_cb, p);
        if (r < 0) {
                free(p);
                return err_set(err, r, "image '%s': invalid reference", c->image);
        }
        t->pull = p;
        _cleanup_free_ char *msg = xasprintf("Pulling image '%s'", c->image);
        emit(t, TASK_STARTING, msg, NULL);
        return 0;
}

static int oci_launch(struct runtime *base, const struct task_spec *spec, struct err *err) {
        struct runtime_oci *rt = oci(base);
        if (rt->base.closing)
                return err_set(err, -ESHUTDOWN, "the runtime is shutting down");
        if (find_task(rt, spec->task_id))
                return err_set(err, -EEXIST, "task '%s' already exists on this agent", spec->task_id);
        if (!spec->container)
                return runtime_launch(rt->native, spec, err);
        struct runtime_task_info info;
        if (runtime_get(rt->native, spec->task_id, &info) == 0)
                return err_set(err, -EEXIST, "task '%s' already exists on this agent", spec->task_id);
        _cleanup_free_ char *dir = xasprintf("%s/containers/%s", rt->work_dir, spec->task_id);
        if (access(dir, F_OK) == 0)
                return err_set(err, -EEXIST, "task '%s' already has a bundle in '%s'", spec->task_id, dir);
        if (!local_image_path(spec->container->image) && !rt->images)
                return err_set(err, -ENOTSUP, "image '%s': this agent has no image store (local images only)",
                               spec->container->image);
        struct otask *t = otask_new(rt, spec);
        int r = local_image_path(spec->container->image) ? start_prepare(t, err) : start_pull(t, err);
        if (r < 0) {
                otask_unlink(t);
                otask_free(t);
                return r;
        }
        return 0;
}

/* --- statuses from the native runtime --- */

/* The last error runc/crun logged ("runc run failed: …" is the useful line), malloc'd, or NULL. */
static char *runtime_log_error(const char *dir) {
        _cleanup_free_ char *path = xasprintf("%s/runtime.log", dir);
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (file_read_all(path, 1 << 20, &text, &len, NULL) < 0)
                return NULL;
        char *found = NULL;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                if (!strstr(line, "level=error") && !strstr(line, "\"level\":\"error\""))
                        continue;
                char *msg = strstr(line, "msg=");
                free(found);
                found = xstrdup(msg ? msg + 4 : line);
        }
        return found;
}

static void native_status_cb(struct runtime *native, const struct task_status *st, void *userdata) {
        struct runtime_oci *rt = userdata;
        struct otask *t = find_task(rt, st->task_id);
        struct task_status copy = *st;
        if (t) {
                /* We reported STARTING when the preparation began. */
                if (st->state == TASK_STARTING && t->state == TASK_STARTING)
                        return;
                t->state = st->state;
                copy.ip_address = t->ip;
        }
        _cleanup_free_ char *why = NULL;
        _cleanup_free_ char *msg = NULL;
        if (t && st->state == TASK_FAILED && (why = runtime_log_error(t->dir))) {
                msg = xasprintf("%s; %s", st->message ? st->message : "the container failed", why);
                copy.message = msg;
        }
        runtime_emit(&rt->base, &copy);
}

/* --- kill, recover, remove, table --- */

static int oci_kill(struct runtime *base, const char *id, int64_t grace_ms, struct err *err) {
        struct runtime_oci *rt = oci(base);
        struct otask *t = find_task(rt, id);
        if (!t || t->handed)
                return runtime_kill(rt->native, id, grace_ms, err);
        if (t->pull && !task_state_is_terminal(t->state)) {
                /* Nothing runs yet; the pull goes on and fills the store (pull_done_cb). */
                emit(t, TASK_KILLED, "Killed while pulling the image", TASK_REASON_KILLED);
                return 0;
        }
        if (!task_state_is_terminal(t->state))
                t->killing = true; /* prepare_done_cb reports KILLED */
        return 0;
}

static int oci_recover(struct runtime *base, struct err *err) {
        struct runtime_oci *rt = oci(base);
        _cleanup_free_ char *containers = xasprintf("%s/containers", rt->work_dir);
        /* Container tasks first, so that the statuses recovery reports carry their IP. */
        DIR *d = opendir(containers);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.' || find_task(rt, de->d_name))
                                continue;
                        struct task_spec s = {.task_id = de->d_name};
                        struct otask *t = otask_new(rt, &s);
                        t->handed = true;
                        _cleanup_free_ char *ck_path = xasprintf("%s/container.json", t->dir);
                        _cleanup_(json_decrefp) json_t *ck = json_load_file(ck_path, 0, NULL);
                        const char *ip = json_string_value(json_object_get(ck, "ip"));
                        t->ip = ip ? xstrdup(ip) : NULL;
                        const char *image = json_string_value(json_object_get(ck, "image"));
                        struct err e = {0};
                        if (image && rt->images && image_store_get(rt->images, image, &t->image, &e) < 0)
                                log_warn("recovery: task '%s': %s", de->d_name, err_msg(&e));
                        err_release(&e);
                }
                closedir(d);
        }
        int n = runtime_recover(rt->native, err);
        if (n < 0)
                return n;
        /* Bundles without a native task: the agent stopped between preparing and starting. */
        struct otask *next;
        for (struct otask *t = rt->tasks; t; t = next) {
                next = t->next;
                struct runtime_task_info info;
                if (runtime_get(rt->native, t->spec.task_id, &info) == 0)
                        continue;
                log_info("recovery: removing the bundle of task '%s', which never started", t->spec.task_id);
                queue_cleanup(rt, t);
                otask_unlink(t);
                otask_free(t);
        }
        return n;
}

static int oci_remove(struct runtime *base, const char *id, struct err *err) {
        struct runtime_oci *rt = oci(base);
        struct otask *t = find_task(rt, id);
        if (!t)
                return runtime_remove(rt->native, id, err);
        if (!t->handed) {
                if (!task_state_is_terminal(t->state))
                        return err_set(err, -EBUSY, "task '%s' is still %s", id, task_state_to_string(t->state));
                otask_unlink(t);
                otask_free(t);
                return 0;
        }
        int r = runtime_remove(rt->native, id, err);
        if (r == -EBUSY)
                return r;
        queue_cleanup(rt, t);
        otask_unlink(t);
        otask_free(t);
        return r;
}

static int oci_get(struct runtime *base, const char *id, struct runtime_task_info *ret) {
        struct runtime_oci *rt = oci(base);
        struct otask *t = find_task(rt, id);
        if (!t || t->handed)
                return runtime_get(rt->native, id, ret);
        *ret = (struct runtime_task_info){.task_id = t->spec.task_id, .state = t->state, .sandbox = t->spec.sandbox};
        return 0;
}

static void oci_foreach(struct runtime *base, runtime_task_cb cb, void *userdata) {
        struct runtime_oci *rt = oci(base);
        runtime_foreach(rt->native, cb, userdata);
        for (struct otask *t = rt->tasks; t; t = t->next) {
                if (t->handed)
                        continue;
                struct runtime_task_info info = {.task_id = t->spec.task_id, .state = t->state,
                                                 .sandbox = t->spec.sandbox};
                cb(&info, userdata);
        }
}

static void native_closed_cb(void *userdata) {
        struct runtime_oci *rt = userdata;
        rt->native_closed = true;
        maybe_closed(rt);
}

static void oci_close(struct runtime *base) {
        struct runtime_oci *rt = oci(base);
        /* The store goes now, while the HTTP client it borrows is alive: pulls in flight are
         * abandoned (no callbacks) and every reference dropped. Work still queued finds
         * rt->images NULL. */
        for (struct otask *t = rt->tasks; t; t = t->next) {
                if (t->image && rt->images)
                        image_store_unref(rt->images, t->image);
                t->image = NULL;
                if (t->pull)
                        free(t->pull);
                t->pull = NULL;
        }
        image_store_free(rt->images);
        rt->images = NULL;
        runtime_close(rt->native, native_closed_cb, rt);
}

static void oci_free(struct runtime *base) {
        struct runtime_oci *rt = oci(base);
        json_decref(rt->networks);
        free(rt->work_dir);
        free(rt->oci_bin);
        free(rt->runc_root);
        free(rt->cgroup_parent);
        free(rt->resolv_conf);
        free(rt->cni_bridge);
        free(rt->cni_subnet);
        free(rt->cni_ipam_dir);
        free(rt->cni_plugin_dir);
        free(rt);
}

static const struct runtime_ops oci_ops = {
        .name = "oci",
        .launch = oci_launch,
        .kill = oci_kill,
        .recover = oci_recover,
        .remove = oci_remove,
        .get = oci_get,
        .foreach = oci_foreach,
        .close = oci_close,
        .free = oci_free,
};

void runtime_oci_set_networks(struct runtime *base, const json_t *networks) {
        struct runtime_oci *rt = oci(base);
        if (base->ops != &oci_ops)
                return;
        json_decref(rt->networks);
        rt->networks = json_deep_copy(networks);
}

char *runtime_oci_state_root(const char *work_dir, const char *oci_runtime) {
        const char *base = oci_runtime ? strrchr(oci_runtime, '/') : NULL;
        base = base ? base + 1 : oci_runtime;
        return xasprintf("%s/%s", work_dir, base && streq(base, "crun") ? "crun" : "runc");
}

static char *strdup_or_null(const char *s) {
        return s ? xstrdup(s) : NULL;
}

int runtime_oci_new(const struct runtime_config *cfg, const struct runtime_oci_config *ocfg, struct runtime **ret,
                    struct err *err) {
        struct runtime_oci *rt = xcalloc(1, sizeof *rt);
        struct runtime_config ncfg = *cfg;
        ncfg.status_cb = native_status_cb;
        ncfg.userdata = rt;
        int r = runtime_native_new(&ncfg, &rt->native, err);
        if (r < 0) {
                free(rt);
                return r;
        }
        runtime_base_init(&rt->base, &oci_ops, cfg);
        rt->work_dir = xstrdup(cfg->work_dir);
        const char *bin = ocfg && ocfg->oci_runtime ? ocfg->oci_runtime : "runc";
        rt->oci_bin = xstrdup(bin);
        rt->runc_root = runtime_oci_state_root(cfg->work_dir, bin);
        rt->cgroup_parent = xstrdup(cfg->cgroup_parent ? cfg->cgroup_parent : "strata");
        rt->resolv_conf = ocfg && ocfg->resolv_conf ? xstrdup(ocfg->resolv_conf) : NULL;
        rt->cfs_quota = !cfg->cfs_quota_disabled;
        rt->pids_max = ocfg && ocfg->pids_max ? ocfg->pids_max : RUNTIME_OCI_DEFAULT_PIDS_MAX;
        rt->cni_bridge = strdup_or_null(ocfg ? ocfg->cni_bridge : NULL);
        rt->cni_subnet = strdup_or_null(ocfg ? ocfg->cni_subnet : NULL);
        rt->cni_plugin_dir = strdup_or_null(ocfg ? ocfg->cni_plugin_dir : NULL);
        rt->cni_ipam_dir = xasprintf("%s/cni", cfg->work_dir);
        rt->images = ocfg ? ocfg->images : NULL;
        *ret = &rt->base;
        return 0;
}
