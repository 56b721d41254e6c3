/* cni.c — runs the CNI plugins for a task's network namespace (CNI spec 0.4.0 "Network
 * configuration lists": ADD in order with prevResult, DEL in reverse). */
#include "agent/cni.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"

#define CNI_VERSION "0.4.0"
#define PLUGIN_TIMEOUT_MS 60000
#define MAX_PLUGIN_OUTPUT (1 << 20)

extern char **environ;

int netns_create(const char *path, struct err *err) {
        int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (fd < 0)
                return err_set(err, -errno, "cannot create '%s': %m", path);
        close(fd);
        /* unshare() in a child: the agent's threads keep their own namespace. The mount lands
         * in the mount namespace the child shares with the agent. */
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                unlink(path);
                return err_set(err, r, "fork: %s", strerror(-r));
        }
        if (pid == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                        _exit(2);
                _exit(0);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                unlink(path);
                return err_set(err, -EPERM, "cannot create a network namespace at '%s' (%s failed)", path,
                               WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "unshare" : "bind mount");
        }
        return 0;
}

void netns_destroy(const char *path) {
        (void)umount2(path, MNT_DETACH);
        (void)unlink(path);
}

json_t *cni_conflist(const struct cni_config *c, const struct task_port_mapping *ports, size_t n_ports) {
        json_t *maps = json_array();
        for (size_t i = 0; i < n_ports; i++) {
                if (ports[i].host_port <= 0 || ports[i].container_port <= 0)
                        continue;
                const char *proto = ports[i].protocol ? ports[i].protocol : "tcp";
                /* Marathon allows "tcp,udp": one mapping per protocol. */
                _cleanup_free_ char *copy = xstrdup(proto);
                char *save = NULL;
                for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
                        json_array_append_new(maps, json_pack("{s:i,s:i,s:s}", "hostPort", ports[i].host_port,
                                                              "containerPort", ports[i].container_port, "protocol",
                                                              p));
        }
        json_t *bridge = json_pack(
                "{s:s,s:s,s:b,s:b,s:b,s:{s:s,s:s,s:s,s:[{s:s}]}}", "type", "bridge", "bridge",
                c->bridge ? c->bridge : "strata0", "isGateway", true, "ipMasq", true, "hairpinMode", true, "ipam",
                "type", "host-local", "subnet", c->subnet ? c->subnet : "172.31.0.0/16", "dataDir", c->ipam_dir,
                "routes", "dst", "0.0.0.0/0");
        json_t *portmap = json_pack("{s:s,s:{s:b},s:b,s:{s:o}}", "type", "portmap", "capabilities", "portMappings",
                                    true, "snat", true, "runtimeConfig", "portMappings", maps);
        return json_pack("{s:s,s:s,s:[o,o]}", "cniVersion", CNI_VERSION, "name", c->name ? c->name : "strata-bridge",
                         "plugins", bridge,
                         portmap);
}

/* Execs one plugin with the CNI environment and conf on stdin; *ret_out is its stdout. Returns
 * 0 when it exits 0, else an error carrying the plugin's error "msg" (CNI error format). */
static int run_plugin(const struct cni_config *c, const char *command, const json_t *conf, const char *container_id,
                      const char *netns, json_t **ret_out, struct err *err) {
        const char *dir = c->plugin_dir ? c->plugin_dir : "/usr/lib/cni";
        const char *type = json_string_value(json_object_get(conf, "type"));
        if (!type || strchr(type, '/'))
                return err_set(err, -EINVAL, "CNI plugin type missing or invalid");
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, type);
        _cleanup_free_ char *stdin_text = json_compact(conf);
        _cleanup_free_ char *e_cmd = xasprintf("CNI_COMMAND=%s", command);
        _cleanup_free_ char *e_id = xasprintf("CNI_CONTAINERID=%s", container_id);
        _cleanup_free_ char *e_ns = xasprintf("CNI_NETNS=%s", netns);
        _cleanup_free_ char *e_path = xasprintf("CNI_PATH=%s", dir);
        char *envp[] = {e_cmd, e_id, e_ns, "CNI_IFNAME=eth0", e_path,
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) < 0)
                return err_set(err, -errno, "pipe: %m");
        if (pipe2(out, O_CLOEXEC) < 0) {
                int r = -errno;
                close(in[0]);
                close(in[1]);
                return err_set(err, r, "pipe: %s", strerror(-r));
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        char *argv[] = {path, NULL};
        pid_t pid;
        int r = posix_spawn(&pid, path, &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        if (r != 0) {
                close(in[1]);
                close(out[0]);
                return err_set(err, -r, "cannot run CNI plugin '%s': %s", path, strerror(r));
        }
        /* The conf is small (well under a pipe buffer): write it all, then read the answer. */
        size_t len = strlen(stdin_text), off = 0;
        while (off < len) {
                ssize_t n = write(in[1], stdin_text + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                off += (size_t)n;
        }
        close(in[1]);
        /* A plugin that hangs (an iptables lock, a stuck netlink call) must not hold this
         * thread-pool worker forever: its answer has a deadline. */
        struct strbuf sb = {0};
        char buf[4096];
        int64_t deadline = time_now_ms() + PLUGIN_TIMEOUT_MS;
        bool timed_out = false;
        for (;;) {
                int64_t left = deadline - time_now_ms();
                struct pollfd pfd = { .fd = out[0], .events = POLLIN };
                int pr = left > 0 ? poll(&pfd, 1, (int)left) : 0;
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr == 0) {
                        timed_out = true;
                        kill(pid, SIGKILL);
                        break;
                }
                ssize_t n = read(out[0], buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (sb.len < MAX_PLUGIN_OUTPUT)
                        strbuf_append(&sb, buf, (size_t)n);
        }
        close(out[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (timed_out) {
                strbuf_release(&sb);
                return err_set(err, -ETIMEDOUT, "CNI plugin '%s' %s timed out after %d s", type, command,
                               PLUGIN_TIMEOUT_MS / 1000);
        }
        json_t *res = sb.len ? json_loadb(sb.buf, sb.len, 0, NULL) : NULL;
        strbuf_release(&sb);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                const char *msg = json_string_value(json_object_get(res, "msg"));
                const char *details = json_string_value(json_object_get(res, "details"));
                r = err_set(err, -EIO, "CNI plugin '%s' %s failed: %s%s%s", type, command,
                            msg ? msg : "no message", details ? ": " : "", details ? details : "");
                json_decref(res);
                return r;
        }
        if (ret_out)
                *ret_out = res;
        else
                json_decref(res);
        return 0;
}

/* A list entry as a standalone plugin conf: name, cniVersion and prevResult added. */
static json_t *plugin_conf(const json_t *list, const json_t *plugin, const json_t *prev) {
        json_t *conf = json_deep_copy(plugin);
        json_object_set(conf, "name", json_object_get(list, "name"));
        json_object_set(conf, "cniVersion", json_object_get(list, "cniVersion"));
        if (prev)
                json_object_set(conf, "prevResult", (json_t *)prev);
        return conf;
}

static json_t *loopback_conf(void) {
        return json_pack("{s:s,s:s,s:s}", "cniVersion", CNI_VERSION, "name", "strata-lo", "type", "loopback");
}

int cni_add(const struct cni_config *c, const json_t *conflist, const char *container_id, const char *netns,
            json_t **ret_result, struct err *err) {
        _cleanup_(json_decrefp) json_t *lo = loopback_conf();
        int r = run_plugin(c, "ADD", lo, container_id, netns, NULL, err);
        if (r < 0)
                return r;
        json_t *prev = NULL;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(conflist, "plugins"), i, p) {
                _cleanup_(json_decrefp) json_t *conf = plugin_conf(conflist, p, prev);
                json_t *res = NULL;
                r = run_plugin(c, "ADD", conf, container_id, netns, &res, err);
                if (r < 0) {
                        json_decref(prev);
                        (void)cni_del(c, conflist, NULL, container_id, netns, NULL);
                        return err_wrap(err, "cannot attach the task to network '%s'",
                                        json_string_value(json_object_get(conflist, "name")));
                }
                /* A plugin that passes the result through may print nothing useful. */
                if (json_is_object(res)) {
                        json_decref(prev);
                        prev = res;
                } else {
                        json_decref(res);
                }
        }
        *ret_result = prev ? prev : json_object();
        return 0;
}

int cni_del(const struct cni_config *c, const json_t *conflist, const json_t *result, const char *container_id,
            const char *netns, struct err *err) {
        const json_t *plugins = json_object_get(conflist, "plugins");
        int ret = 0;
        struct err e = {0};
        for (size_t i = json_array_size(plugins); i-- > 0;) {
                _cleanup_(json_decrefp) json_t *conf = plugin_conf(conflist, json_array_get(plugins, i), result);
                int r = run_plugin(c, "DEL", conf, container_id, netns, NULL, &e);
                if (r < 0 && ret == 0) {
                        ret = r;
                        if (err)
                                err_set(err, r, "%s", err_msg(&e));
                }
                err_release(&e);
        }
        _cleanup_(json_decrefp) json_t *lo = loopback_conf();
        (void)run_plugin(c, "DEL", lo, container_id, netns, NULL, NULL);
        return ret;
}

char *cni_result_ip(const json_t *result) {
        size_t i;
        json_t *ip;
        json_array_foreach(json_object_get(result, "ips"), i, ip) {
                const char *addr = json_string_value(json_object_get(ip, "address"));
                const char *ver = json_string_value(json_object_get(ip, "version"));
                if (!addr || (ver && strcmp(ver, "4") != 0) || strchr(addr, ':'))
                        continue;
                const char *slash = strchr(addr, '/');
                return slash ? xstrndup(addr, (size_t)(slash - addr)) : xstrdup(addr);
        }
        return NULL;
}
