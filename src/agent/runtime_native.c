/* runtime_native.c — the native runtime: commands on the host filesystem, one sandbox and one
 * cgroup per task, each supervised by a shim process that outlives the agent (shim.h). The
 * agent watches every shim through a pidfd and hears "running" on a pipe, so nothing polls. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/cgroup.h"
#include "agent/fetch.h"
#include "agent/runtime.h"
#include "agent/sandbox.h"
#include "agent/shim.h"
#include "common/alloc.h"
#include "common/list.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"

extern char **environ;

#define DEFAULT_KILL_GRACE_MS 3000
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct runtime_native;

struct ntask {
        struct ntask *next, *prev;
        struct runtime_native *rt;
        char *meta;
        struct sandbox_checkpoint ck; /* ck.spec.task_id is the id */
        enum task_state state;        /* last state emitted */
        pid_t shim_pid;
        bool shim_is_child; /* spawned by this process: reap it */
        pid_t pid;          /* the command's process (and process group) */
        bool killing;

        int pidfd;
        uv_poll_t pidfd_poll;
        bool pidfd_on;
        int notify_fd;
        uv_poll_t notify_poll;
        bool notify_on;
        char notify_buf[64];
        size_t notify_len;
        uv_fs_event_t watch; /* recovered mid-launch: waits for running.json */
        bool watch_on;
        uv_timer_t kill_timer;
        uv_work_t fetch_work; /* fetch before start */
        bool fetching;
        struct fetch_result *fetch_res;

        unsigned open_handles;
        bool freeing;
};

struct runtime_native {
        struct runtime base;
        char *work_dir;
        char *shim_path;
        char *parent;
        struct cgroup_hier hier;
        bool cfs_quota;
        struct ntask *tasks;
        unsigned freeing; /* tasks waiting for their handles to close */
};

static struct runtime_native *native(struct runtime *base) {
        return (struct runtime_native *)base;
}

static const char *task_id(const struct ntask *t) {
        return t->ck.spec.task_id;
}

static struct ntask *find_task(struct runtime_native *rt, const char *id) {
        for (struct ntask *t = rt->tasks; t; t = t->next)
                if (streq(task_id(t), id))
                        return t;
        return NULL;
}

/* --- task objects and their handles --- */

static void maybe_closed(struct runtime_native *rt) {
        if (rt->base.closing && !rt->tasks && rt->freeing == 0)
                runtime_base_closed(&rt->base);
}

static void ntask_free(struct ntask *t) {
        struct runtime_native *rt = t->rt;
        free(t->meta);
        sandbox_checkpoint_release(&t->ck);
        free(t);
        rt->freeing--;
        maybe_closed(rt);
}

static void handle_closed_cb(uv_handle_t *h) {
        struct ntask *t = h->data;
        if (--t->open_handles == 0 && t->freeing)
                ntask_free(t);
}

static void close_handle(struct ntask *t, uv_handle_t *h) {
        uv_close(h, handle_closed_cb);
}

static void stop_pidfd(struct ntask *t) {
        if (!t->pidfd_on)
                return;
        t->pidfd_on = false;
        close_handle(t, (uv_handle_t *)&t->pidfd_poll);
        close(t->pidfd);
        t->pidfd = -1;
}

static void stop_notify(struct ntask *t) {
        if (!t->notify_on)
                return;
        t->notify_on = false;
        close_handle(t, (uv_handle_t *)&t->notify_poll);
        close(t->notify_fd);
        t->notify_fd = -1;
}

static void stop_watch(struct ntask *t) {
        if (!t->watch_on)
                return;
        t->watch_on = false;
        close_handle(t, (uv_handle_t *)&t->watch);
}

static struct ntask *ntask_new(struct runtime_native *rt, char *meta, struct sandbox_checkpoint *ck) {
        struct ntask *t = xcalloc(1, sizeof *t);
        t->rt = rt;
        t->meta = meta;
        t->ck = *ck;
        memset(ck, 0, sizeof *ck);
        t->pidfd = t->notify_fd = -1;
        t->state = TASK_STAGING;
        uv_timer_init(rt->base.loop, &t->kill_timer);
        t->kill_timer.data = t;
        t->open_handles = 1;
        LIST_PREPEND(rt->tasks, t);
        return t;
}

/* Unlinks the task and frees it once its handles are closed. A fetch in flight keeps it
 * alive until the work's after-callback. */
static void ntask_destroy(struct ntask *t) {
        struct runtime_native *rt = t->rt;
        LIST_REMOVE(rt->tasks, t);
        t->freeing = true;
        rt->freeing++;
        stop_pidfd(t);
        stop_notify(t);
        stop_watch(t);
        if (t->fetching)
                return; /* fetch_done_cb closes the timer */
        close_handle(t, (uv_handle_t *)&t->kill_timer);
}

static void emit(struct ntask *t, enum task_state state, const char *message, const char *reason,
                 int exit_code, int sig, int64_t when_ms) {
        t->state = state;
        struct task_status st = {
                .task_id = task_id(t),
                .state = state,
                .message = message,
                .reason = reason,
                .exit_code = exit_code,
                .signal = sig,
                .pid = t->pid,
                .timestamp_ms = when_ms,
        };
        runtime_emit(&t->rt->base, &st);
}

static void signal_task(struct ntask *t, int sig) {
        if (t->pid > 0)
                (void)kill(-t->pid, sig);
        if (t->ck.cgroup.version != CGROUP_NONE) {
                if (sig == SIGKILL && t->ck.cgroup.version == CGROUP_V2)
                        (void)cgroup_write(t->ck.cgroup.cpu, "cgroup.kill", "1");
                (void)cgroup_signal(&t->ck.cgroup, sig);
        }
}

/* Removes the task's cgroup. Processes SIGKILLed just now (left behind by a vanished shim)
 * may keep it busy for a moment: then runtime_remove() tries again, and only its failure is
 * worth a warning. */
static int cleanup_cgroup(struct ntask *t, bool warn) {
        struct err err = {0};
        int r = 0;
        if (t->ck.cgroup.version != CGROUP_NONE)
                r = cgroup_destroy(&t->ck.cgroup, &err);
        if (r < 0 && (warn || r != -EBUSY))
                log_warn("task '%s': %s", task_id(t), err_msg(&err));
        err_release(&err);
        return r;
}

static void mark_running(struct ntask *t, pid_t pid, int64_t when_ms) {
        t->pid = pid;
        if (t->state == TASK_STAGING || t->state == TASK_STARTING)
                emit(t, TASK_RUNNING, NULL, NULL, 0, 0, when_ms);
        /* A kill that came before the pid was known reaches the process group now. */
        if (t->killing)
                signal_task(t, SIGTERM);
}

/* Turns the shim's exit record into the terminal status. */
static void finish(struct ntask *t, const struct sandbox_exit *ex) {
        _cleanup_free_ char *msg = NULL;
        const char *reason = NULL;
        enum task_state state;
        if (ex->pid > 0)
                t->pid = ex->pid;
        if (!ex->started) {
                state = TASK_FAILED;
                reason = TASK_REASON_LAUNCH_FAILED;
                msg = xstrdup(ex->error ? ex->error : "the command could not be started");
        } else {
                if (ex->signal)
                        msg = xasprintf("Command terminated with signal %s", strsignal(ex->signal));
                else if (ex->exit_code != 0 && ex->stderr_tail)
                        msg = xasprintf("Command exited with status %d: %s", ex->exit_code, ex->stderr_tail);
                else
                        msg = xasprintf("Command exited with status %d", ex->exit_code);
                if (t->killing) {
                        state = TASK_KILLED;
                        reason = TASK_REASON_KILLED;
                } else if (ex->oom) {
                        state = TASK_FAILED;
                        reason = TASK_REASON_MEMORY;
                        free(msg);
                        uint64_t limit =
                                ex->mem_limit ? ex->mem_limit : (uint64_t)(t->ck.spec.mem_mib * 1048576);
                        msg = xasprintf("Memory limit exceeded: Requested: %lluMB Maximum Used: %lluMB",
                                        (unsigned long long)(limit >> 20),
                                        (unsigned long long)(ex->mem_max_usage >> 20));
                } else if (ex->signal || ex->exit_code != 0) {
                        state = TASK_FAILED;
                        reason = TASK_REASON_COMMAND_FAILED;
                } else {
                        state = TASK_FINISHED;
                }
                /* A live launch that ended before "running" was heard still reports RUNNING; a
                 * task that ended while the agent was down reports only its end. */
                if (t->state == TASK_STARTING)
                        emit(t, TASK_RUNNING, NULL, NULL, 0, 0, ex->finished_ms);
        }
        uv_timer_stop(&t->kill_timer);
        cleanup_cgroup(t, false);
        emit(t, state, msg, reason, ex->signal ? -1 : ex->exit_code, ex->signal, ex->finished_ms);
}

static void finish_lost(struct ntask *t, const char *why) {
        uv_timer_stop(&t->kill_timer);
        /* Whatever the vanished supervisor left behind has nobody to report it: end it. */
        cleanup_cgroup(t, false);
        emit(t, TASK_LOST, why, TASK_REASON_EXECUTOR_TERMINATED, -1, 0, 0);
}

static void read_notify(struct ntask *t) {
        for (;;) {
                size_t room = sizeof t->notify_buf - 1 - t->notify_len;
                if (room == 0) {
                        stop_notify(t);
                        return;
                }
                ssize_t n = read(t->notify_fd, t->notify_buf + t->notify_len, room);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        stop_notify(t);
                        return;
                }
                t->notify_len += (size_t)n;
                t->notify_buf[t->notify_len] = 0;
                int pid;
                if (strchr(t->notify_buf, '\n') && sscanf(t->notify_buf, "R %d", &pid) == 1 && pid > 0) {
                        mark_running(t, pid, 0);
                        stop_notify(t);
                        return;
                }
        }
}

static void notify_cb(uv_poll_t *h, int status, int events) {
        read_notify(h->data);
}

static void shim_exited(struct ntask *t) {
        stop_pidfd(t);
        stop_watch(t);
        if (t->shim_is_child)
                (void)waitpid(t->shim_pid, NULL, WNOHANG);
        if (t->notify_on)
                read_notify(t);
        stop_notify(t);
        struct sandbox_exit ex;
        if (sandbox_read_exit(t->meta, &ex) == 0) {
                finish(t, &ex);
                sandbox_exit_release(&ex);
                return;
        }
        _cleanup_free_ char *why =
                xasprintf("task supervisor (shim pid %d) ended without recording the task's exit status",
                          (int)t->shim_pid);
        finish_lost(t, why);
}

static void pidfd_cb(uv_poll_t *h, int status, int events) {
        shim_exited(h->data);
}

static int watch_pidfd(struct ntask *t, int pidfd, struct err *err) {
        int r = uv_poll_init(t->rt->base.loop, &t->pidfd_poll, pidfd);
        if (r < 0) {
                close(pidfd);
                return err_set(err, r, "cannot watch shim pid %d: %s", (int)t->shim_pid, uv_strerror(r));
        }
        t->pidfd = pidfd;
        t->pidfd_poll.data = t;
        t->pidfd_on = true;
        t->open_handles++;
        uv_poll_start(&t->pidfd_poll, UV_READABLE, pidfd_cb);
        return 0;
}

/* --- launch --- */

static int resolve_user(struct sandbox_checkpoint *ck, char **ret_home, struct err *err) {
        const char *user = ck->spec.user;
        struct passwd pw, *res = NULL;
        char buf[16384];
        int r = getpwnam_r(user, &pw, buf, sizeof buf, &res);
        if (r != 0)
                return err_set(err, -r, "cannot look up user '%s': %s", user, strerror(r));
        if (!res)
                return err_set(err, -EINVAL, "user '%s' does not exist on this agent", user);
        if (geteuid() != 0 && pw.pw_uid != geteuid())
                return err_set(err, -EPERM, "cannot run tasks as user '%s': the agent is not running as root",
                               user);
        int n = 32;
        gid_t *groups = xcalloc((size_t)n, sizeof *groups);
        if (getgrouplist(user, pw.pw_gid, groups, &n) < 0) {
                groups = xrealloc(groups, (size_t)n * sizeof *groups);
                if (getgrouplist(user, pw.pw_gid, groups, &n) < 0) {
                        free(groups);
                        return err_set(err, -EINVAL, "cannot list the groups of user '%s'", user);
                }
        }
        ck->has_user = true;
        ck->uid = pw.pw_uid;
        ck->gid = pw.pw_gid;
        ck->groups = groups;
        ck->n_groups = (size_t)n;
        *ret_home = xstrdup(pw.pw_dir);
        return 0;
}

static bool env_has(char **env, size_t n, const char *name) {
        size_t len = strlen(name);
        for (size_t i = 0; i < n; i++)
                if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
                        return true;
        return false;
}

/* The spec's environment plus what every task gets when it did not set it itself. */
static void complete_env(struct task_spec *spec, const char *home) {
        size_t n = 0;
        while (spec->env && spec->env[n])
                n++;
        char **env = xcalloc(n + 8, sizeof *env);
        for (size_t i = 0; i < n; i++)
                env[i] = spec->env[i];
        free(spec->env);
        const char *agent_home = getenv("HOME");
        const char *add[][2] = {
                {"PATH", DEFAULT_PATH},
                {"MESOS_SANDBOX", spec->sandbox},
                {"MESOS_DIRECTORY", spec->sandbox},
                {"HOME", home ? home : agent_home},
                {"USER", spec->user},
                {"LOGNAME", spec->user},
        };
        size_t base = n;
        for (size_t i = 0; i < ELEMENTSOF(add); i++)
                if (add[i][1] && !env_has(env, base, add[i][0]))
                        env[n++] = xasprintf("%s=%s", add[i][0], add[i][1]);
        env[n] = NULL;
        spec->env = env;
}

static int spawn_shim(struct ntask *t, struct err *err) {
        struct runtime_native *rt = t->rt;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return err_set(err, -errno, "cannot create a pipe: %m");
        (void)fcntl(p[0], F_SETFL, O_NONBLOCK);

        /* fork, not posix_spawn: exec'ing the strata binary (dozens of shared libraries)
         * costs milliseconds that the launch would wait for. The child execs only once the
         * task runs (shim.h). */
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(p[0]);
                close(p[1]);
                return err_set(err, -e, "cannot fork the task supervisor: %s", strerror(e));
        }
        if (pid == 0)
                shim_run_forked(rt->shim_path, t->meta, &t->ck, p[1]);
        close(p[1]);
        t->shim_pid = pid;
        t->shim_is_child = true;

        /* Our unreaped child cannot be replaced by another process under the same pid, so
         * opening its pidfd now is race-free. */
        int r;
        int pidfd = pidfd_open(pid, 0);
        uint64_t start = 0;
        if (pidfd < 0 || proc_start_time(pid, &start) == -ENOENT) {
                r = pidfd < 0 ? -errno : -ENOENT;
                err_set(err, r, "cannot watch the task supervisor (pid %d): %s", (int)pid, strerror(-r));
                if (pidfd >= 0)
                        close(pidfd);
                close(p[0]);
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                return r;
        }
        r = sandbox_write_shim(t->meta, pid, start, err);
        if (r < 0) {
                close(pidfd);
                close(p[0]);
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                return r;
        }
        r = watch_pidfd(t, pidfd, err);
        if (r < 0) {
                close(p[0]);
                return r;
        }
        r = uv_poll_init(rt->base.loop, &t->notify_poll, p[0]);
        if (r < 0) {
                close(p[0]);
                return 0; /* RUNNING then comes with the exit; the task itself is fine */
        }
        t->notify_fd = p[0];
        t->notify_poll.data = t;
        t->notify_on = true;
        t->open_handles++;
        uv_poll_start(&t->notify_poll, UV_READABLE, notify_cb);
        return 0;
}

static void launch_failed(struct ntask *t, const char *reason, const struct err *err) {
        _cleanup_free_ char *msg = xstrdup(err_msg(err));
        cleanup_cgroup(t, false);
        emit(t, TASK_FAILED, msg, reason, -1, 0, 0);
        /* An exit record makes recovery report the same failure again. */
        struct sandbox_exit ex = {.exit_code = -1, .error = TAKE_PTR(msg), .finished_ms = time_now_ms()};
        (void)sandbox_write_exit(t->meta, &ex, NULL);
        sandbox_exit_release(&ex);
}

static void fetch_work_cb(uv_work_t *w) {
        struct ntask *t = w->data;
        fetch_run(t->ck.spec.fetch, t->ck.spec.n_fetch, t->ck.spec.sandbox, t->ck.has_user, t->ck.uid,
                  t->ck.gid, &t->fetch_res);
}

static void fetch_done_cb(uv_work_t *w, int status) {
        struct ntask *t = w->data;
        t->fetching = false;
        struct fetch_result *res = TAKE_PTR(t->fetch_res);
        if (t->freeing) {
                fetch_result_free(res);
                close_handle(t, (uv_handle_t *)&t->kill_timer);
                return;
        }
        struct err err = {0};
        if (status < 0 || !res || res->code < 0) {
                err_set(&err,
                        status < 0 ? status
                        : res      ? res->code
                                   : -EIO,
                        "%s", res && res->message ? res->message : "fetch cancelled");
                launch_failed(t, TASK_REASON_FETCH_FAILED, &err);
        } else if (t->killing) {
                struct sandbox_exit ex = {.exit_code = -1, .finished_ms = time_now_ms()};
                ex.error = xstrdup("killed before it started");
                (void)sandbox_write_exit(t->meta, &ex, NULL);
                sandbox_exit_release(&ex);
                cleanup_cgroup(t, false);
                emit(t, TASK_KILLED, "Killed before the command started", TASK_REASON_KILLED, -1, 0, 0);
        } else if (spawn_shim(t, &err) < 0) {
                launch_failed(t, TASK_REASON_LAUNCH_FAILED, &err);
        }
        err_release(&err);
        fetch_result_free(res);
}

static int native_launch(struct runtime *base, const struct task_spec *spec, struct err *err) {
        struct runtime_native *rt = native(base);
        if (rt->base.closing)
                return err_set(err, -ESHUTDOWN, "the runtime is shutting down");
        if (find_task(rt, spec->task_id))
                return err_set(err, -EEXIST, "task '%s' already exists on this agent", spec->task_id);

        _cleanup_(sandbox_checkpoint_release) struct sandbox_checkpoint ck = {0};
        _cleanup_free_ char *home = NULL;
        task_spec_copy(&ck.spec, spec);
        if (!ck.spec.sandbox)
                ck.spec.sandbox = sandbox_default_dir(rt->work_dir, spec->task_id);
        if (ck.spec.kill_grace_ms < 0)
                ck.spec.kill_grace_ms = DEFAULT_KILL_GRACE_MS;
        int r;
        if (ck.spec.user) {
                r = resolve_user(&ck, &home, err);
                if (r < 0)
                        return err_wrap(err, "cannot launch task '%s'", spec->task_id);
        }
        complete_env(&ck.spec, home);

        _cleanup_free_ char *meta = sandbox_meta_dir(rt->work_dir, spec->task_id);
        _cleanup_free_ char *ck_path = xasprintf("%s/task.json", meta);
        if (access(ck_path, F_OK) == 0)
                return err_set(err, -EEXIST, "task '%s' already has a checkpoint in '%s'", spec->task_id,
                               meta);
        r = sandbox_create(ck.spec.sandbox, meta, ck.has_user, ck.uid, ck.gid, err);
        if (r < 0)
                return err_wrap(err, "cannot launch task '%s'", spec->task_id);

        if (rt->hier.version != CGROUP_NONE) {
                struct cgroup_limits lim = {
                        .cpus = ck.spec.cpus,
                        .mem_bytes = (uint64_t)(ck.spec.mem_mib * 1048576.0),
                        .pids_max = ck.spec.pids_max,
                        .cfs_quota = rt->cfs_quota,
                };
                r = cgroup_create(&rt->hier, rt->parent, spec->task_id, &lim, &ck.cgroup, err);
                if (r < 0) {
                        (void)sandbox_remove_meta(meta, NULL);
                        return err_wrap(err, "cannot launch task '%s'", spec->task_id);
                }
        }
        ck.launched_ms = time_now_ms();
        r = sandbox_write_checkpoint(meta, &ck, err);
        if (r < 0) {
                (void)cgroup_destroy(&ck.cgroup, NULL);
                (void)sandbox_remove_meta(meta, NULL);
                return err_wrap(err, "cannot launch task '%s'", spec->task_id);
        }

        struct ntask *t = ntask_new(rt, TAKE_PTR(meta), &ck);
        if (t->ck.spec.n_fetch) {
                t->fetching = true;
                t->fetch_work.data = t;
                emit(t, TASK_STARTING, NULL, NULL, 0, 0, 0);
                r = uv_queue_work(rt->base.loop, &t->fetch_work, fetch_work_cb, fetch_done_cb);
                if (r < 0) {
                        t->fetching = false;
                        err_set(err, r, "cannot queue the fetch: %s", uv_strerror(r));
                        launch_failed(t, TASK_REASON_FETCH_FAILED, err);
                        err_release(err);
                }
                return 0;
        }
        r = spawn_shim(t, err);
        if (r < 0) {
                cleanup_cgroup(t, false);
                (void)sandbox_remove_meta(t->meta, NULL);
                ntask_destroy(t);
                return err_wrap(err, "cannot launch task '%s'", spec->task_id);
        }
        emit(t, TASK_STARTING, NULL, NULL, 0, 0, 0);
        return 0;
}

/* --- kill --- */

static void kill_timer_cb(uv_timer_t *h) {
        signal_task(h->data, SIGKILL);
}

static void start_kill(struct ntask *t, int64_t grace_ms) {
        t->killing = true;
        (void)sandbox_mark_kill(t->meta);
        if (t->fetching)
                return; /* fetch_done_cb reports KILLED instead of starting the command */
        signal_task(t, SIGTERM);
        uv_timer_start(&t->kill_timer, kill_timer_cb, (uint64_t)MAX(grace_ms, 0), 0);
}

static int native_kill(struct runtime *base, const char *id, int64_t grace_ms, struct err *err) {
        struct ntask *t = find_task(native(base), id);
        if (!t)
                return err_set(err, -ENOENT, "no task '%s' on this agent", id);
        if (task_state_is_terminal(t->state) || t->killing)
                return 0;
        start_kill(t, grace_ms >= 0 ? grace_ms : t->ck.spec.kill_grace_ms);
        return 0;
}

/* --- recovery --- */

static void watch_cb(uv_fs_event_t *h, const char *filename, int events, int status) {
        struct ntask *t = h->data;
        pid_t pid;
        int64_t started;
        if (sandbox_read_running(t->meta, &pid, &started) == 0) {
                stop_watch(t);
                mark_running(t, pid, started);
        }
}

/* The agent died between spawning the shim and hearing "running": wait for running.json. */
static void watch_running(struct ntask *t) {
        if (uv_fs_event_init(t->rt->base.loop, &t->watch) < 0)
                return;
        t->watch.data = t;
        t->watch_on = true;
        t->open_handles++;
        if (uv_fs_event_start(&t->watch, watch_cb, t->meta, 0) < 0)
                stop_watch(t);
        watch_cb(&t->watch, NULL, 0, 0); /* it may have appeared before the watch */
}

/* Opens a pidfd on the recorded shim if it is still the same live process. */
static int open_live_shim(pid_t pid, uint64_t start_time) {
        uint64_t now;
        if (proc_start_time(pid, &now) < 0 || now != start_time)
                return -ESRCH;
        int fd = pidfd_open(pid, 0);
        if (fd < 0)
                return -errno;
        /* The pidfd pins this process: check again that it is the one we recorded. */
        if (proc_start_time(pid, &now) < 0 || now != start_time) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

static int recover_one(struct runtime_native *rt, const char *id) {
        struct err err = {0};
        _cleanup_free_ char *meta = sandbox_meta_dir(rt->work_dir, id);
        _cleanup_(sandbox_checkpoint_release) struct sandbox_checkpoint ck = {0};
        int r = sandbox_read_checkpoint(meta, &ck, &err);
        if (r < 0) {
                log_warn("recovery: skipping task '%s': %s", id, err_msg(&err));
                err_release(&err);
                return r;
        }
        struct ntask *t = ntask_new(rt, TAKE_PTR(meta), &ck);
        t->killing = sandbox_kill_requested(t->meta);

        pid_t shim_pid;
        uint64_t start;
        int pidfd = -ESRCH;
        if (sandbox_read_shim(t->meta, &shim_pid, &start) == 0) {
                t->shim_pid = shim_pid;
                pidfd = open_live_shim(shim_pid, start);
        }
        if (pidfd >= 0 && watch_pidfd(t, pidfd, &err) == 0) {
                pid_t pid;
                int64_t started;
                if (sandbox_read_running(t->meta, &pid, &started) == 0) {
                        mark_running(t, pid, 0);
                } else {
                        emit(t, TASK_STARTING, NULL, NULL, 0, 0, 0);
                        watch_running(t);
                }
                if (t->killing)
                        start_kill(t, t->ck.spec.kill_grace_ms);
                return 0;
        }
        err_release(&err);
        /* The shim is gone: it recorded the end, or it vanished (or the agent died before it
         * was spawned). */
        struct sandbox_exit ex;
        if (sandbox_read_exit(t->meta, &ex) == 0) {
                finish(t, &ex);
                sandbox_exit_release(&ex);
                return 0;
        }
        _cleanup_free_ char *why =
                t->shim_pid ? xasprintf("task supervisor (shim pid %d) ended without recording the task's "
                                        "exit status while the agent was down",
                                        (int)t->shim_pid)
                            : xstrdup("the agent stopped while launching the task");
        finish_lost(t, why);
        return 0;
}

/* Task cgroups that no checkpoint names: left by an agent that died after creating the
 * cgroup and before checkpointing the task, which therefore never started. Removed. */
static void sweep_stale_cgroups(struct runtime_native *rt) {
        const char *mnts[] = {rt->hier.cpu, rt->hier.memory, rt->hier.pids, rt->hier.unified};
        for (size_t i = 0; i < ELEMENTSOF(mnts); i++) {
                if (!mnts[i])
                        continue;
                _cleanup_free_ char *parent = xasprintf("%s/%s", mnts[i], rt->parent);
                DIR *d = opendir(parent);
                if (!d)
                        continue;
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_type != DT_DIR || de->d_name[0] == '.' || find_task(rt, de->d_name))
                                continue;
                        _cleanup_free_ char *dir = xasprintf("%s/%s", parent, de->d_name);
                        struct cgroup cg = {.version = rt->hier.version, .memory = dir};
                        (void)cgroup_signal(&cg, SIGKILL);
                        if (rmdir(dir) < 0)
                                log_warn("recovery: cannot remove stale cgroup '%s': %s", dir,
                                         strerror(errno));
                }
                closedir(d);
        }
}

static int native_recover(struct runtime *base, struct err *err) {
        struct runtime_native *rt = native(base);
        _cleanup_free_ char *root = sandbox_meta_root(rt->work_dir);
        DIR *d = opendir(root);
        if (!d) {
                if (errno == ENOENT) {
                        sweep_stale_cgroups(rt);
                        return 0;
                }
                return err_set(err, -errno, "cannot read checkpoints in '%s': %m", root);
        }
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || find_task(rt, de->d_name))
                        continue;
                if (recover_one(rt, de->d_name) == 0)
                        n++;
        }
        closedir(d);
        if (rt->hier.version != CGROUP_NONE)
                sweep_stale_cgroups(rt);
        return n;
}

/* --- table --- */

static int native_remove(struct runtime *base, const char *id, struct err *err) {
        struct ntask *t = find_task(native(base), id);
        if (!t)
                return err_set(err, -ENOENT, "no task '%s' on this agent", id);
        if (!task_state_is_terminal(t->state))
                return err_set(err, -EBUSY, "task '%s' is still %s", id, task_state_to_string(t->state));
        cleanup_cgroup(t, true);
        int r = sandbox_remove_meta(t->meta, err);
        ntask_destroy(t);
        return r;
}

static void fill_info(const struct ntask *t, struct runtime_task_info *info) {
        *info = (struct runtime_task_info){
                .task_id = task_id(t),
                .state = t->state,
                .pid = t->pid,
                .sandbox = t->ck.spec.sandbox,
                .launched_ms = t->ck.launched_ms,
        };
}

static int native_get(struct runtime *base, const char *id, struct runtime_task_info *ret) {
        struct ntask *t = find_task(native(base), id);
        if (!t)
                return -ENOENT;
        fill_info(t, ret);
        return 0;
}

static void native_foreach(struct runtime *base, runtime_task_cb cb, void *userdata) {
        struct ntask *next;
        for (struct ntask *t = native(base)->tasks; t; t = next) {
                next = t->next;
                struct runtime_task_info info;
                fill_info(t, &info);
                cb(&info, userdata);
        }
}

static void native_close(struct runtime *base) {
        struct runtime_native *rt = native(base);
        while (rt->tasks)
                ntask_destroy(rt->tasks);
        maybe_closed(rt);
}

static void native_free(struct runtime *base) {
        struct runtime_native *rt = native(base);
        free(rt->work_dir);
        free(rt->shim_path);
        free(rt->parent);
        cgroup_hier_release(&rt->hier);
        free(rt);
}

static const struct runtime_ops native_ops = {
        .name = "native",
        .launch = native_launch,
        .kill = native_kill,
        .recover = native_recover,
        .remove = native_remove,
        .get = native_get,
        .foreach = native_foreach,
        .close = native_close,
        .free = native_free,
};

int runtime_native_new(const struct runtime_config *cfg, struct runtime **ret, struct err *err) {
        if (!cfg->loop || !cfg->work_dir || !cfg->status_cb)
                return err_set(err, -EINVAL, "native runtime: loop, work_dir and status_cb are required");
        if (cfg->work_dir[0] != '/')
                return err_set(err, -EINVAL, "native runtime: work dir '%s' is not an absolute path",
                               cfg->work_dir);
        struct cgroup_hier hier = {0};
        const char *parent = cfg->cgroup_parent ? cfg->cgroup_parent : "strata";
        int r;
        if (!cfg->cgroups_disabled) {
                r = cgroup_hier_detect(&hier, cfg->mountinfo ? cfg->mountinfo : "/proc/self/mountinfo", err);
                if (r >= 0)
                        r = cgroup_hier_prepare(&hier, parent, err);
                if (r < 0) {
                        cgroup_hier_release(&hier);
                        return err_wrap(err, "native runtime: cannot set up cgroups");
                }
        }
        _cleanup_free_ char *root = sandbox_meta_root(cfg->work_dir);
        r = mkdir_p(root, err);
        if (r < 0) {
                cgroup_hier_release(&hier);
                return err_wrap(err, "native runtime");
        }
        struct runtime_native *rt = xcalloc(1, sizeof *rt);
        runtime_base_init(&rt->base, &native_ops, cfg);
        rt->work_dir = xstrdup(cfg->work_dir);
        rt->shim_path = xstrdup(cfg->shim_path ? cfg->shim_path : "/proc/self/exe");
        rt->parent = xstrdup(parent);
        rt->hier = hier;
        rt->cfs_quota = !cfg->cfs_quota_disabled;
        *ret = &rt->base;
        return 0;
}
