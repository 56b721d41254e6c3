/* sandbox.h — a task's directories and the checkpoint files that the native runtime and the
 * shim keep about it (layout in runtime.h).
 *
 * Formats (JSON objects, each file replaced atomically):
 *
 * | file         | keys                                                                        |
 * | ------------ | --------------------------------------------------------------------------- |
 * | task.json    | task_id, sandbox, cmd | argv[], env[], user?, uid?, gid?, groups[]?, cpus,   |
 * |              | mem_mib, disk_mib, gpus, pids_max, kill_grace_ms, fetch[]?, cgroup{…},        |
 * |              | launched_ms                                                                 |
 * | shim.json    | pid, start_time (field 22 of /proc/<pid>/stat: clock ticks since boot)        |
 * | running.json | pid, started_ms                                                              |
 * | exit.json    | started (bool), pid, exit_code (-1: none), signal, error?, oom, mem_limit,    |
 * |              | mem_max_usage, stderr_tail?, finished_ms                                    |
 *
 * task.json and exit.json are fsync'd: they must survive a reboot (the task is then reported
 * lost, or with its recorded end). shim.json and running.json only describe processes, which a
 * reboot ends anyway, so they are renamed into place without fsync (an agent crash does not
 * lose the page cache). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/cgroup.h"
#include "agent/runtime.h"
#include "common/err.h"

/* <work_dir>/meta/tasks/<task_id> and <work_dir>/sandboxes/<task_id>; malloc'd. */
char *sandbox_meta_dir(const char *work_dir, const char *task_id);
char *sandbox_default_dir(const char *work_dir, const char *task_id);
/* <work_dir>/meta/tasks, the directory recovery scans. */
char *sandbox_meta_root(const char *work_dir);

/* What the runtime launched: the spec as run (env completed, sandbox resolved), the user's
 * ids resolved at launch, and the task's cgroup. */
struct sandbox_checkpoint {
        struct task_spec spec;
        bool has_user;
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        struct cgroup cgroup;
        int64_t launched_ms;
};
void sandbox_checkpoint_release(struct sandbox_checkpoint *c);
int sandbox_write_checkpoint(const char *meta, const struct sandbox_checkpoint *c, struct err *err);
/* -ENOENT when absent, -EINVAL when unreadable. */
int sandbox_read_checkpoint(const char *meta, struct sandbox_checkpoint *ret, struct err *err);

/* Supervisor identity, to recognise it after a restart despite pid reuse. */
int sandbox_write_shim(const char *meta, pid_t pid, uint64_t start_time, struct err *err);
int sandbox_read_shim(const char *meta, pid_t *ret_pid, uint64_t *ret_start_time);

/* Written by the shim once the command exec'd. */
int sandbox_write_running(const char *meta, pid_t pid, int64_t started_ms, struct err *err);
int sandbox_read_running(const char *meta, pid_t *ret_pid, int64_t *ret_started_ms);

/* How the task ended, recorded by the shim. */
struct sandbox_exit {
        bool started; /* the command exec'd */
        pid_t pid;
        int exit_code; /* -1 if killed by a signal or never started */
        int signal;    /* terminating signal or 0 */
        char *error;   /* why it could not start, or NULL */
        bool oom;      /* the cgroup saw an OOM kill */
        uint64_t mem_limit, mem_max_usage;
        char *stderr_tail; /* last line of stderr for failed commands, or NULL */
        int64_t finished_ms;
};
void sandbox_exit_release(struct sandbox_exit *e);
int sandbox_write_exit(const char *meta, const struct sandbox_exit *e, struct err *err);
/* -ENOENT when the shim recorded nothing. */
int sandbox_read_exit(const char *meta, struct sandbox_exit *ret);

/* The kill marker: a kill was requested, so the end is TASK_KILLED. */
int sandbox_mark_kill(const char *meta);
bool sandbox_kill_requested(const char *meta);

/* Creates the sandbox (owned by uid:gid when chown is set, mode 0755) and the meta directory
 * (root-owned, 0700: the task cannot forge its own exit record). */
int sandbox_create(const char *sandbox, const char *meta, bool chown_to, uid_t uid, gid_t gid,
                   struct err *err);
/* Removes the meta directory and its files. */
int sandbox_remove_meta(const char *meta, struct err *err);

/* Field 22 (starttime) of /proc/<pid>/stat. -ENOENT if the process does not exist, -ESRCH
 * if it is a zombie (it has ended). */
int proc_start_time(pid_t pid, uint64_t *ret);
