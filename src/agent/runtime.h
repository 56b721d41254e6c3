/* runtime.h — running and supervising tasks on this machine: the `struct runtime_ops` table
 * (native, fake; OCI later), the task spec handed to a runtime and the status it reports back.
 *
 * A runtime knows nothing about masters or HTTP. The agent daemon owns one runtime per kind,
 * hands it task specs, and forwards the statuses it reports (after checkpointing them).
 *
 * Threading: everything runs on the daemon's one uv_loop_t. Every runtime_* function must be
 * called on the loop thread; the status callback is always invoked from the loop, never from
 * inside a runtime_* call (statuses are queued and delivered on the next loop turn), so the
 * daemon may call any runtime_* function from within the callback.
 *
 * Lifecycle of one task, as reported through runtime_config.status_cb:
 *
 *     launch ──> TASK_STARTING ──> TASK_RUNNING ──> TASK_FINISHED   exit status 0
 *                     │                 │       ──> TASK_FAILED     non-zero exit, signal, OOM kill
 *                     │                 │       ──> TASK_KILLED     after runtime_kill()
 *                     │                 └─────────> TASK_LOST       supervisor vanished (recovery)
 *                     └──> TASK_FAILED  the command could not be started (exec, user, fetch…)
 *
 * TASK_RUNNING is reported only once the task's process has exec'd its command; a command
 * that cannot be executed goes straight from TASK_STARTING to TASK_FAILED with the reason.
 * A terminal status is reported once per runtime object; the task stays in the table (and its
 * checkpoint on disk) until the daemon calls runtime_remove() — normally after the master
 * acknowledged the terminal update. After an agent restart, runtime_recover() reports every
 * checkpointed task again (RUNNING for live ones, the recorded terminal status for the ended
 * ones), so at-least-once delivery holds across restarts.
 *
 * Agent restarts: tasks do not depend on the agent process. runtime_close() (or the agent
 * dying, even by kill -9) leaves every task running; a new runtime on the same work_dir
 * followed by runtime_recover() re-attaches to them.
 *
 * Native runtime on-disk layout (under runtime_config.work_dir):
 *
 * | path                                  | written by | content                                       |
 * | ------------------------------------- | ---------- | --------------------------------------------- |
 * | sandboxes/<task id>/                  | runtime    | the task's cwd (default sandbox)               |
 * | sandboxes/<task id>/stdout, stderr    | shim       | the task's output                              |
 * | meta/tasks/<task id>/task.json        | runtime    | checkpoint: spec, uid/gid, cgroups (fsync'd)   |
 * | meta/tasks/<task id>/shim.json        | runtime    | {"pid", "start_time"} of the supervisor       |
 * | meta/tasks/<task id>/running.json     | shim       | {"pid", "started_ms"} once the command exec'd  |
 * | meta/tasks/<task id>/exit.json        | shim       | the exit record (sandbox.h), fsync'd           |
 * | meta/tasks/<task id>/kill             | runtime    | present once a kill was requested              |
 * | meta/tasks/<task id>/shim.log         | shim       | the supervisor's own diagnostics               |
 *
 * Every file is replaced atomically (tmp + rename); formats in sandbox.h.
 *
 * How the native runtime runs a task (details in shim.h): launch() validates the spec,
 * resolves the user, creates the sandbox and the cgroup (limits written), fsyncs task.json,
 * then forks a supervisor (the "shim") that forks the command into the cgroup and reports
 * "running" on a pipe once the exec succeeded; the shim then re-execs `<shim_path> __shim …`
 * to drop the agent's memory image and waits for the task. The agent watches the shim with a
 * pidfd (uv_poll): when it exits, <meta>/exit.json says how the task ended. No timers poll.
 *
 * Statuses are reported with Mesos' reasons (TASK_REASON_*): an OOM kill is TASK_FAILED with
 * TASK_REASON_MEMORY and "Memory limit exceeded: Requested: 64MB Maximum Used: 64MB". TASK_KILLING
 * is in the enum for the daemon's use; the runtimes do not report it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "common/err.h"

/* Task states (TASK_STAGING … TASK_ERROR …) are shared with the master: model/task_state.h. */
#include "model/task_state.h"

/* Status reasons (Mesos TaskStatus.Reason names) the runtimes use. */
#define TASK_REASON_COMMAND_FAILED "REASON_COMMAND_EXECUTOR_FAILED"
#define TASK_REASON_LAUNCH_FAILED "REASON_CONTAINER_LAUNCH_FAILED"
#define TASK_REASON_MEMORY "REASON_CONTAINER_LIMITATION_MEMORY"
#define TASK_REASON_KILLED "REASON_TASK_KILLED"
#define TASK_REASON_EXECUTOR_TERMINATED "REASON_EXECUTOR_TERMINATED"
#define TASK_REASON_FETCH_FAILED "REASON_FETCHER_FAILED"

/* One Marathon `fetch` entry: downloaded into the sandbox before the command starts. */
struct task_fetch {
        char *uri;       /* file://, http://, https:// or an absolute path */
        bool extract;    /* unpack archives (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip…) */
        bool executable; /* chmod 0755 after download (not with extract) */
        char *dest_path; /* file name inside the sandbox; NULL: the URI's last segment */
};

/* Container networking (Marathon `networks`). */
enum task_network { TASK_NET_HOST = 0, TASK_NET_BRIDGE, TASK_NET_CONTAINER };

struct task_port_mapping {
        int container_port;
        int host_port; /* assigned by the master (0 only when the app has none) */
        char *protocol; /* "tcp", "udp" or "tcp,udp"; NULL: tcp */
};

struct task_volume {
        char *host_path;      /* absolute, or relative to the sandbox */
        char *container_path; /* absolute */
        bool readonly;
};

/* A Marathon `container` with docker.image: run by the OCI runtime (runtime_oci.c). */
struct task_container {
        char *image;            /* image reference (see runtime_oci_new for what resolves) */
        enum task_network network;
        char *network_name;     /* TASK_NET_CONTAINER: the named network */
        struct task_port_mapping *ports;
        size_t n_ports;
        struct task_volume *volumes;
        size_t n_volumes;
        bool tty;
        bool read_only;         /* read-only rootfs */
        bool force_pull;        /* docker.forcePullImage: ask the registry again for the tag */
        char *pull_secret;      /* docker.pullConfig.secret: the secret's name (messages), or NULL */
        char *pull_config;      /* that secret's value as carried in the app (its "source"): used
                                 * when it is a Docker config.json text; NULL: none */
};

/* What to run. The runtime copies everything it needs in runtime_launch(); the caller keeps
 * ownership of its spec. Strings are NUL-terminated and owned by whoever owns the spec;
 * task_spec_release() frees a spec built on the heap (every pointer NULL or malloc'd). */
struct task_spec {
        char *task_id;         /* required: 1–200 chars of [A-Za-z0-9._-], not "." or ".." */
        char *sandbox;         /* absolute path; NULL: <work_dir>/sandboxes/<task_id> */
        char *cmd;             /* run as /bin/sh -c cmd; or NULL and argv: */
        char **argv;           /* NULL-terminated; argv[0] is looked up in the task's PATH */
        char **env;            /* NULL-terminated "NAME=value" list (see task_env.h); may be NULL.
                                * The runtime adds MESOS_SANDBOX, and PATH, HOME, USER, LOGNAME
                                * when they are missing. */
        char *user;            /* run as this user (setgid, supplementary groups, setuid); NULL:
                                * the agent's own user. Unknown users fail the launch. */
        double cpus;           /* cpu shares (cpus × 1024) and CFS quota (cpus × period) */
        double mem_mib;        /* memory limit in MiB, swap disabled; 0: no limit */
        double disk_mib;       /* recorded, not enforced */
        unsigned gpus;         /* recorded, not isolated */
        int64_t pids_max;      /* pids.max of the task's cgroup; 0: unlimited */
        int64_t kill_grace_ms; /* SIGTERM → SIGKILL delay; < 0: 3000 (Mesos' default) */
        struct task_fetch *fetch;
        size_t n_fetch;
        bool runtime_joins_cgroup; /* the command (runc) puts the task into its cgroup itself: the
                                    * shim leaves it outside, so the runtime's own setup is not
                                    * charged to the task's CPU quota. Not checkpointed. */
        struct task_container *container; /* NULL: a native task. With a container, cmd and
                                           * argv may both be NULL (the image's command). */
};

/* Frees every member of a heap-built spec and zeroes it; the struct itself is not freed. */
void task_spec_release(struct task_spec *spec);
/* Deep copy of src into *dst (which is overwritten). */
void task_spec_copy(struct task_spec *dst, const struct task_spec *src);
/* Checks the spec's shape (id characters, a command, sane numbers). Returns 0 or -EINVAL. */
int task_spec_validate(const struct task_spec *spec, struct err *err);

/* One status report. Every pointer is valid only during the callback. */
struct task_status {
        const char *task_id;
        enum task_state state;
        const char *message;  /* human reason, e.g. "Command exited with status 3"; may be NULL */
        const char *reason;   /* TASK_REASON_* or NULL */
        int exit_code;        /* terminal: the command's exit status; -1 when it died by a signal
                               * or never ran */
        int signal;           /* terminal: the signal that ended it, or 0 */
        pid_t pid;            /* the task's process (its process group), 0 when unknown */
        int64_t timestamp_ms; /* when it happened (wall clock, ms since the epoch) */
        const char *ip_address; /* the container's IP on its network, or NULL */
};

struct runtime;

typedef void (*runtime_status_cb)(struct runtime *rt, const struct task_status *status, void *userdata);
typedef void (*runtime_close_cb)(void *userdata);

struct runtime_config {
        uv_loop_t *loop;             /* required */
        const char *work_dir;        /* required for native: sandboxes/ and meta/ live here */
        runtime_status_cb status_cb; /* required */
        void *userdata;              /* passed to status_cb */
        /* Native runtime only: */
        const char *shim_path;     /* executable that dispatches `<shim_path> __shim …` to
                                    * shim_main() (shim.h); NULL: "/proc/self/exe" */
        const char *cgroup_parent; /* cgroup under which each task gets one; NULL: "strata" */
        const char *mountinfo;     /* where to find cgroup mounts; NULL: /proc/self/mountinfo */
        bool cgroups_disabled;     /* run without cgroups (development as non-root only) */
        bool cfs_quota_disabled;   /* cpu shares only, no hard CFS quota */
};

/* One row of the task table. Pointers are valid until the next runtime_* call. */
struct runtime_task_info {
        const char *task_id;
        enum task_state state; /* the last state reported (or about to be) */
        pid_t pid;             /* task process, 0 when not (yet) known */
        const char *sandbox;   /* absolute sandbox path */
        int64_t launched_ms;
};
typedef void (*runtime_task_cb)(const struct runtime_task_info *info, void *userdata);

/* A runtime implementation. Every function behaves as documented on its runtime_* wrapper. */
struct runtime_ops {
        const char *name;
        int (*launch)(struct runtime *rt, const struct task_spec *spec, struct err *err);
        int (*kill)(struct runtime *rt, const char *task_id, int64_t grace_ms, struct err *err);
        int (*recover)(struct runtime *rt, struct err *err);
        int (*remove)(struct runtime *rt, const char *task_id, struct err *err);
        int (*get)(struct runtime *rt, const char *task_id, struct runtime_task_info *ret);
        void (*foreach)(struct runtime *rt, runtime_task_cb cb, void *userdata);
        /* Releases tasks' handles; calls runtime_base_closed() when they are all closed. */
        void (*close)(struct runtime *rt);
        void (*free)(struct runtime *rt);
};

/* The part every runtime shares; implementations embed it first. Private to runtimes. */
struct runtime_pending;
struct runtime {
        const struct runtime_ops *ops;
        uv_loop_t *loop;
        runtime_status_cb status_cb;
        void *userdata;
        uv_timer_t deliver; /* zero-delay timer that drains the status queue */
        struct runtime_pending *pending, *pending_tail;
        runtime_close_cb close_cb;
        void *close_userdata;
        bool closing;
};

/* Creates the native runtime: commands run on the host in a sandbox directory, inside their
 * own cgroup (v1 or v2, detected), supervised by a shim process that outlives the agent.
 * Fails when the work dir or the cgroup hierarchy cannot be prepared. *ret is owned by the
 * caller and freed by runtime_close(). */
int runtime_native_new(const struct runtime_config *cfg, struct runtime **ret, struct err *err);

/* Starts a task. On success (0) the task is in the table, its checkpoint is on disk, and
 * TASK_STARTING followed by RUNNING/FAILED… will be reported. On failure (< 0: -EINVAL bad
 * spec or unknown user, -EEXIST duplicate task id, -errno for sandbox/cgroup/spawn errors)
 * nothing was left behind and no status will be reported for this launch; the daemon reports
 * TASK_ERROR (-EINVAL) or TASK_FAILED itself with err's message. */
int runtime_launch(struct runtime *rt, const struct task_spec *spec, struct err *err);

/* Kills a task: SIGTERM to its process group and everything in its cgroup, SIGKILL after
 * grace_ms (< 0: the spec's kill_grace_ms). TASK_KILLED is reported when it is gone. Killing
 * a task that already ended, or one being killed, is a no-op returning 0. -ENOENT for an
 * unknown task id (Mesos answers TASK_LOST/TASK_GONE for those). */
int runtime_kill(struct runtime *rt, const char *task_id, int64_t grace_ms, struct err *err);

/* Rebuilds the task table from the work dir's checkpoints after an agent (re)start. Call once,
 * before any launch. Tasks still running are watched again and reported TASK_RUNNING (same
 * pid); tasks that ended while the agent was down are reported with their recorded exit
 * status; tasks whose supervisor vanished without recording one are killed (whatever is left
 * in their cgroup) and reported TASK_LOST with the reason. Unreadable checkpoints are skipped
 * (logged). Returns the number of tasks recovered, or < 0 if the work dir cannot be read. */
int runtime_recover(struct runtime *rt, struct err *err);

/* Forgets an ended task: removes its checkpoint and cgroup. The sandbox directory stays (the
 * daemon garbage-collects sandboxes on its own schedule). -EBUSY while the task is alive
 * (kill it first), -ENOENT if unknown. */
int runtime_remove(struct runtime *rt, const char *task_id, struct err *err);

/* Looks one task up. Returns 0 or -ENOENT. */
int runtime_get(struct runtime *rt, const char *task_id, struct runtime_task_info *ret);
/* Calls cb for every task in the table (reconciliation with the master). */
void runtime_foreach(struct runtime *rt, runtime_task_cb cb, void *userdata);

/* Detaches from every task WITHOUT killing it (agent shutdown or restart) and frees the
 * runtime once its handles are closed; then calls cb (may be NULL). Statuses not yet
 * delivered are dropped: recovery reports them again. */
void runtime_close(struct runtime *rt, runtime_close_cb cb, void *userdata);

/* --- For runtime implementations (runtime.c) --- */

/* Initialises the shared part; the deliver timer is a handle on cfg->loop. */
void runtime_base_init(struct runtime *rt, const struct runtime_ops *ops, const struct runtime_config *cfg);
/* Queues a status (copied) for delivery on the next loop turn. */
void runtime_emit(struct runtime *rt, const struct task_status *status);
/* Called by an implementation once all of its handles are closed: closes the shared timer,
 * then frees the runtime through ops->free and calls the close callback. */
void runtime_base_closed(struct runtime *rt);

/* --- Fake runtime (runtime_fake.c) for the daemon's tests: launches nothing. --- */

/* Creates a fake runtime. By default a launch reports TASK_STARTING then TASK_RUNNING, a kill
 * reports TASK_KILLED, and tasks run until told otherwise. */
int runtime_fake_new(const struct runtime_config *cfg, struct runtime **ret);
/* The states reported after a launch, in order (at most 8; default STARTING, RUNNING). A
 * terminal state ends the task with exit code 0 for FINISHED and 1 otherwise. */
void runtime_fake_set_script(struct runtime *rt, const enum task_state *states, size_t n);
/* Makes the next launch fail with code and message (fault injection). */
void runtime_fake_fail_next_launch(struct runtime *rt, int code, const char *message);
/* Ends a running fake task now with state (terminal), exit code and message. -ENOENT if
 * unknown, -EALREADY if it already ended. */
int runtime_fake_finish(struct runtime *rt, const char *task_id, enum task_state state, int exit_code,
                        const char *message);
/* Spec of a launched fake task (owned by the runtime), or NULL. */
const struct task_spec *runtime_fake_spec(struct runtime *rt, const char *task_id);
/* How many launches and kills the fake has seen. */
unsigned runtime_fake_launches(struct runtime *rt);
unsigned runtime_fake_kills(struct runtime *rt);
/* Tasks the fake "recovers" on runtime_recover(): adds a running task as if checkpointed. */
void runtime_fake_add_recoverable(struct runtime *rt, const char *task_id, enum task_state state);
