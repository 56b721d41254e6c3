/* shim.c — the per-task supervisor process (see shim.h). Plain blocking syscalls: it runs in
 * its own process, apart from the agent's loop. */
#include "agent/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/sandbox.h"
#include "common/alloc.h"
#include "common/timeutil.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

#define SHIM_REEXEC_NICE 10

/* Where the child failed, sent back on the exec pipe. */
enum child_stage {
        STAGE_CGROUP,
        STAGE_STDIO,
        STAGE_CHDIR,
        STAGE_SETGROUPS,
        STAGE_SETGID,
        STAGE_SETUID,
        STAGE_EXEC,
};

struct child_error {
        int stage;
        int error;
};

static _noreturn_ void child_fail(int fd, enum child_stage stage, int error) {
        struct child_error ce = {.stage = stage, .error = error};
        ssize_t w = write(fd, &ce, sizeof ce);
        (void)w;
        _exit(127);
}

static int open_output(const char *sandbox, const char *name, const struct sandbox_checkpoint *c) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", sandbox, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd >= 0 && c->has_user && fchown(fd, c->uid, c->gid) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static int move_fd(int fd, int to) {
        if (fd == to)
                return fcntl(fd, F_SETFD, 0);
        return dup2(fd, to) < 0 ? -1 : 0;
}

/* Runs in the forked child: only async-signal-safe calls until exec. */
static _noreturn_ void child_exec(const struct sandbox_checkpoint *c, char **argv, char **procs,
                                  size_t n_procs, int errfd) {
        const char *sandbox = c->spec.sandbox;
        sigset_t all;
        sigemptyset(&all);
        for (int sig = 1; sig < NSIG; sig++)
                signal(sig, SIG_DFL);
        sigprocmask(SIG_SETMASK, &all, NULL);
        (void)setsid();

        for (size_t i = 0; i < n_procs; i++) {
                int fd = open(procs[i], O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        child_fail(errfd, STAGE_CGROUP, errno);
                if (write(fd, "0", 1) != 1)
                        child_fail(errfd, STAGE_CGROUP, errno);
                close(fd);
        }

        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int out = open_output(sandbox, "stdout", c);
        int err = open_output(sandbox, "stderr", c);
        if (in < 0 || out < 0 || err < 0)
                child_fail(errfd, STAGE_STDIO, errno);
        if (move_fd(in, 0) < 0 || move_fd(out, 1) < 0 || move_fd(err, 2) < 0)
                child_fail(errfd, STAGE_STDIO, errno);

        if (chdir(sandbox) < 0)
                child_fail(errfd, STAGE_CHDIR, errno);

        if (c->has_user) {
                if (setgroups(c->n_groups, c->groups) < 0)
                        child_fail(errfd, STAGE_SETGROUPS, errno);
                if (setgid(c->gid) < 0)
                        child_fail(errfd, STAGE_SETGID, errno);
                if (setuid(c->uid) < 0)
                        child_fail(errfd, STAGE_SETUID, errno);
        }

        /* execvp searches the PATH of the current environment: make it the task's. */
        environ = c->spec.env;
        execvp(argv[0], argv);
        child_fail(errfd, STAGE_EXEC, errno);
}

static char *stage_message(const struct sandbox_checkpoint *c, const char *prog,
                           const struct child_error *ce) {
        const char *e = strerror(ce->error);
        switch (ce->stage) {
        case STAGE_CGROUP:
                return xasprintf("cannot join the task's cgroup: %s", e);
        case STAGE_STDIO:
                return xasprintf("cannot open stdout/stderr in sandbox '%s': %s", c->spec.sandbox, e);
        case STAGE_CHDIR:
                return xasprintf("cannot enter sandbox '%s': %s", c->spec.sandbox, e);
        case STAGE_SETGROUPS:
        case STAGE_SETGID:
        case STAGE_SETUID:
                return xasprintf("cannot switch to user '%s' (uid %u, gid %u): %s",
                                 c->spec.user ? c->spec.user : "?", (unsigned)c->uid, (unsigned)c->gid, e);
        default:
                return xasprintf("cannot execute '%s': %s", prog, e);
        }
}

/* The last non-empty line of the task's stderr (at most 200 bytes), or NULL. */
static char *stderr_tail(const char *sandbox) {
        char path[4096], buf[201];
        snprintf(path, sizeof path, "%s/stderr", sandbox);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        off_t size = lseek(fd, 0, SEEK_END);
        off_t from = size > 200 ? size - 200 : 0;
        ssize_t n = pread(fd, buf, sizeof buf - 1, from);
        close(fd);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                buf[--n] = 0;
        char *nl = strrchr(buf, '\n');
        char *line = nl ? nl + 1 : buf;
        return *line ? xstrdup(line) : NULL;
}

/* After the main process ended: kill whatever is left of the task and reap it. As a child
 * subreaper the shim inherits every orphaned descendant, so waiting until ECHILD empties the
 * cgroup. Without a cgroup only the process group can be found. */
static void reap_leftovers(const struct cgroup *cg, pid_t pgid) {
        (void)kill(-pgid, SIGKILL);
        for (;;) {
                if (cg->version != CGROUP_NONE)
                        (void)cgroup_signal(cg, SIGKILL);
                pid_t w = waitpid(-1, NULL, cg->version != CGROUP_NONE ? 0 : WNOHANG);
                if (w > 0 || (w < 0 && errno == EINTR))
                        continue;
                break;
        }
}

static int record(const char *meta, struct sandbox_exit *ex) {
        struct err err = {0};
        ex->finished_ms = time_now_ms();
        int r = sandbox_write_exit(meta, ex, &err);
        if (r < 0)
                fprintf(stderr, "shim: %s\n", err_msg(&err));
        err_release(&err);
        sandbox_exit_release(ex);
        return r < 0 ? 1 : 0;
}

/* Signals and fds of a supervisor: outlive the agent's terminal and the signals meant for it,
 * keep every fd but stdio (and the notify fd) from the task. */
static void become_supervisor(void) {
        signal(SIGPIPE, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        (void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/* Forks and execs the task. Returns its pid once the exec succeeded, or -1 with ex->error
 * set (the child, if any, reaped). */
static pid_t start_task(const struct sandbox_checkpoint *c, struct sandbox_exit *ex) {
        char *sh_argv[] = {"/bin/sh", "-c", c->spec.cmd, NULL};
        char **task_argv = c->spec.cmd ? sh_argv : c->spec.argv;
        char *procs[3] = {0};
        size_t n_procs = c->cgroup.version != CGROUP_NONE && !c->spec.runtime_joins_cgroup
                                 ? cgroup_procs_files(&c->cgroup, procs)
                                 : 0;
        pid_t pid = -1;
        int errpipe[2];
        if (pipe2(errpipe, O_CLOEXEC) < 0) {
                ex->error = xasprintf("cannot create a pipe: %s", strerror(errno));
                goto out;
        }
        /* _Fork: no atfork handlers. The shim may be a fork of the agent, and libuv's handler
         * would close and reopen its own fds in the child (by number — ours by now). The shim
         * is single-threaded, so skipping them is safe. */
        pid = _Fork();
        if (pid < 0) {
                ex->error = xasprintf("cannot fork: %s", strerror(errno));
                close(errpipe[0]);
                close(errpipe[1]);
                goto out;
        }
        if (pid == 0)
                child_exec(c, task_argv, procs, n_procs, errpipe[1]);
        close(errpipe[1]);

        struct child_error ce;
        ssize_t n;
        do
                n = read(errpipe[0], &ce, sizeof ce);
        while (n < 0 && errno == EINTR);
        close(errpipe[0]);
        ex->pid = pid;
        if (n == (ssize_t)sizeof ce) {
                ex->error = stage_message(c, task_argv[0], &ce);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                pid = -1;
        }
out:
        for (size_t i = 0; i < n_procs; i++)
                free(procs[i]);
        return pid;
}

/* The exec succeeded (the pipe closed on exec): record it and tell the agent. */
static void announce(const char *meta, pid_t pid) {
        struct err err = {0};
        if (sandbox_write_running(meta, pid, time_now_ms(), &err) < 0) {
                fprintf(stderr, "shim: %s\n", err_msg(&err));
                err_release(&err);
        }
        char note[32];
        int len = snprintf(note, sizeof note, "R %d\n", (int)pid);
        if (write(SHIM_NOTIFY_FD, note, (size_t)len) < 0 && errno != EBADF)
                fprintf(stderr, "shim: cannot notify the agent: %s\n", strerror(errno));
        close(SHIM_NOTIFY_FD);
}

/* Waits for the started task, cleans its cgroup and fills the exit record. */
static void supervise(const struct sandbox_checkpoint *c, pid_t pid, struct sandbox_exit *ex) {
        int status = 0;
        ex->started = true;
        ex->pid = pid;
        for (;;) {
                pid_t w = waitpid(-1, &status, 0);
                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR) {
                        fprintf(stderr, "shim: lost track of pid %d: %s\n", (int)pid, strerror(errno));
                        status = 0;
                        break;
                }
        }
        if (WIFEXITED(status))
                ex->exit_code = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
                ex->signal = WTERMSIG(status);
        reap_leftovers(&c->cgroup, pid);

        struct cgroup_memory mem;
        if (c->cgroup.version != CGROUP_NONE && cgroup_read_memory(&c->cgroup, &mem) == 0) {
                ex->oom = mem.oom_kills > 0;
                ex->mem_limit = mem.limit_bytes;
                ex->mem_max_usage = mem.max_usage_bytes;
        }
        if (ex->exit_code != 0)
                ex->stderr_tail = stderr_tail(c->spec.sandbox);
}

int shim_main(int argc, char **argv) {
        /* __shim <meta>  |  __shim <meta> --wait <pid> (continues a forked shim, see below) */
        long wait_pid = 0;
        if (argc == 4 && streq(argv[2], "--wait"))
                wait_pid = strtol(argv[3], NULL, 10);
        if (!(argc == 2 || (argc == 4 && wait_pid > 0))) {
                fprintf(stderr, "usage: strata __shim <meta dir> [--wait <pid>]\n");
                return 2;
        }
        const char *meta = argv[1];
        struct sandbox_exit ex = {.exit_code = -1};
        if (wait_pid > 0)
                (void)setpriority(PRIO_PROCESS, 0, 0);
        become_supervisor();

        struct err err = {0};
        struct sandbox_checkpoint c = {0};
        if (sandbox_read_checkpoint(meta, &c, &err) < 0) {
                ex.error = xstrdup(err_msg(&err));
                err_release(&err);
                if (wait_pid > 0) {
                        /* Still our child: wait for it anyway, blind to its cgroup. */
                        struct sandbox_checkpoint none = {0};
                        supervise(&none, (pid_t)wait_pid, &ex);
                }
                return record(meta, &ex);
        }
        pid_t pid = (pid_t)wait_pid;
        if (pid <= 0) {
                pid = start_task(&c, &ex);
                if (pid > 0)
                        announce(meta, pid);
        }
        if (pid > 0)
                supervise(&c, pid, &ex);
        sandbox_checkpoint_release(&c);
        return record(meta, &ex);
}

static int move_high(int fd) {
        int n = fcntl(fd, F_DUPFD, 10);
        return n;
}

_noreturn_ void shim_run_forked(const char *shim_path, const char *meta, const struct sandbox_checkpoint *c,
                                int notify_fd) {
        (void)setsid();
        sigset_t none;
        sigemptyset(&none);
        for (int sig = 1; sig < NSIG; sig++)
                signal(sig, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);

        /* stdio: /dev/null in, <meta>/shim.log out; the notify pipe on fd 3; nothing else of
         * the agent's (listening sockets, the loop's epoll fd…) stays open. */
        char log_path[4096];
        snprintf(log_path, sizeof log_path, "%s/shim.log", meta);
        int null_fd = move_high(open("/dev/null", O_RDWR | O_CLOEXEC));
        int log_fd = move_high(open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        int note_fd = move_high(notify_fd);
        if (null_fd >= 0)
                dup2(null_fd, 0);
        if (log_fd >= 0) {
                dup2(log_fd, 1);
                dup2(log_fd, 2);
        }
        if (note_fd >= 0)
                dup2(note_fd, SHIM_NOTIFY_FD);
        (void)close_range(SHIM_NOTIFY_FD + 1, ~0U, 0);
        become_supervisor();

        struct sandbox_exit ex = {.exit_code = -1};
        pid_t pid = start_task(c, &ex);
        if (pid > 0) {
                announce(meta, pid);
                /* Shed the agent's memory image, which this fork shares copy-on-write: exec a
                 * fresh shim that goes on supervising its child (the task stays our child and
                 * we stay a subreaper across exec). */
                char pid_arg[16];
                snprintf(pid_arg, sizeof pid_arg, "%d", (int)pid);
                char *argv[] = {"strata", SHIM_ARG, (char *)meta, "--wait", pid_arg, NULL};
                /* Loading the binary's libraries is the costly part of the exec: let launches
                 * that run meanwhile go first (shim_main restores the priority). */
                (void)setpriority(PRIO_PROCESS, 0, SHIM_REEXEC_NICE);
                execv(shim_path, argv);
                fprintf(stderr, "shim: cannot re-exec '%s': %s; supervising in place\n", shim_path,
                        strerror(errno));
                supervise(c, pid, &ex);
        }
        _exit(record(meta, &ex));
}
