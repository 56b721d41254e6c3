/* shim.h — the per-task supervisor: a small process, independent of the agent, that starts
 * the task's command in its cgroup, waits for it and records how it ended.
 *
 * How the native runtime starts it (the fast path, no exec before the task runs):
 *
 *     agent ──fork──> shim_run_forked()   new session; stdin /dev/null, stdout/stderr appended
 *                        │                to <meta>/shim.log, fd 3 the notify pipe, every other
 *                        │                fd of the agent closed
 *                        ├──fork──> task  exec'd command
 *                        │  "R <pid>\n" on fd 3 once the exec succeeded
 *                        └──exec──> <shim_path> __shim <meta dir> --wait <task pid>
 *
 * The re-exec sheds the copy-on-write image of the agent's memory once the task runs (off the
 * launch's critical path); the task stays the shim's child and the shim stays a subreaper
 * across exec, and the pid (which the agent watches with a pidfd) does not change.
 *
 * src/main.c dispatches argv[1] == "__shim" to shim_main(argc - 1, argv + 1), so shim_main sees
 * {"__shim", "<meta dir>"} (start the task from <meta>/task.json and supervise it: usable on its
 * own, e.g. by hand for debugging) or {"__shim", "<meta dir>", "--wait", "<pid>"} (supervise an
 * already started child).
 *
 * The shim:
 *  1. becomes a child subreaper; ignores SIGHUP, SIGINT, SIGTERM, SIGPIPE;
 *  2. forks the task: new session and process group, joins the cgroup (writes 0 into each
 *     cgroup.procs), stdin /dev/null, stdout/stderr appended to <sandbox>/stdout and
 *     <sandbox>/stderr, cwd = sandbox, setgroups/setgid/setuid, exec. A failure at any step
 *     travels back on a close-on-exec pipe;
 *  3. once the exec succeeded: writes <meta>/running.json and "R <pid>\n" on fd 3 (the agent's
 *     TASK_RUNNING); a failed exec records the reason instead and never says R;
 *  4. waits for the task, reaping orphaned descendants as they die; when the task's main
 *     process ends, SIGKILLs whatever is left in its cgroup and reaps it, so the cgroup is
 *     empty when the shim exits;
 *  5. reads the cgroup's OOM counter, writes <meta>/exit.json (fsync'd) and exits 0.
 *
 * The agent learns that the shim ended through a pidfd (readable when the process exits), also
 * after a restart, when the shim is no longer its child. */
#pragma once

#include "common/macro.h"

#define SHIM_ARG "__shim"
/* fd on which the shim reports "R <pid>\n" once the command exec'd. */
#define SHIM_NOTIFY_FD 3

/* Entry point of `strata __shim <meta dir>`; argv[0] is "__shim". Returns the process exit
 * status: 0 once an exit record is written, 1 when none could be, 2 on bad usage. */
int shim_main(int argc, char **argv);

struct sandbox_checkpoint;
/* Runs in a child the agent just forked: becomes the shim for the task described by c (also
 * checkpointed in <meta>/task.json), notifying on notify_fd, and never returns. */
_noreturn_ void shim_run_forked(const char *shim_path, const char *meta, const struct sandbox_checkpoint *c,
                                int notify_fd);
