/* test_agent_runtime.c — the native runtime with real processes and cgroups: exit statuses,
 * exec failures, kills with grace, OOM kills, limits, environment, users, the launch → RUNNING
 * latency, and recovery after the agent closed or was SIGKILLed. Runs as root (CI does). */
#include "test_agent_harness.h"

#include <poll.h>
#include <pwd.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "agent/sandbox.h"
#include "agent/task_env.h"

static void echo_finishes_with_output_captured(void **state) {
        struct harness *h = harness_new();
        harness_launch_cmd(h, "echo.1", "echo hello; echo oops >&2", 0);
        const struct seen *fin = harness_wait(h, "echo.1", _TASK_STATE_MAX, 5000);
        assert_int_equal(fin->state, TASK_FINISHED);
        assert_int_equal(fin->exit_code, 0);
        assert_string_equal(fin->message, "Command exited with status 0");
        /* STARTING, RUNNING, FINISHED in that order. */
        assert_int_equal(h->n_seen, 3);
        assert_int_equal(h->seen[0].state, TASK_STARTING);
        assert_int_equal(h->seen[1].state, TASK_RUNNING);
        assert_true(h->seen[1].pid > 0);
        char buf[256];
        harness_read_sandbox(h, "echo.1", "stdout", buf, sizeof buf);
        assert_string_equal(buf, "hello\n");
        harness_read_sandbox(h, "echo.1", "stderr", buf, sizeof buf);
        assert_string_equal(buf, "oops\n");
        harness_free(h);
}

static void exit_status_3_fails_with_the_exit_code(void **state) {
        struct harness *h = harness_new();
        harness_launch_cmd(h, "exit3", "exit 3", 0);
        const struct seen *fin = harness_wait(h, "exit3", _TASK_STATE_MAX, 5000);
        assert_int_equal(fin->state, TASK_FAILED);
        assert_int_equal(fin->exit_code, 3);
        assert_int_equal(fin->signal, 0);
        assert_string_equal(fin->message, "Command exited with status 3");
        assert_string_equal(fin->reason, TASK_REASON_COMMAND_FAILED);
        harness_free(h);
}

static void command_not_found_fails_with_the_reason_and_never_runs(void **state) {
        struct harness *h = harness_new();
        char *argv[] = {"/nonexistent/strata-no-such-command", "x", NULL};
        struct task_spec spec = {.task_id = "nocmd", .argv = argv, .kill_grace_ms = -1};
        struct err err = {0};
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        const struct seen *fin = harness_wait(h, "nocmd", _TASK_STATE_MAX, 5000);
        assert_int_equal(fin->state, TASK_FAILED);
        assert_string_equal(
                fin->message,
                "cannot execute '/nonexistent/strata-no-such-command': No such file or directory");
        assert_string_equal(fin->reason, TASK_REASON_LAUNCH_FAILED);
        assert_null(harness_find(h, "nocmd", TASK_RUNNING));

        /* Through the shell, the shell runs and says why it gave up. */
        harness_launch_cmd(h, "nocmd-sh", "strata-no-such-command-either", 0);
        fin = harness_wait(h, "nocmd-sh", _TASK_STATE_MAX, 5000);
        assert_int_equal(fin->state, TASK_FAILED);
        assert_int_equal(fin->exit_code, 127);
        assert_non_null(strstr(fin->message, "Command exited with status 127: "));
        assert_non_null(strstr(fin->message, "not found"));
        harness_free(h);
}

static void kill_escalates_to_sigkill_after_the_grace_period(void **state) {
        struct harness *h = harness_new();
        /* Ignores SIGTERM: only the SIGKILL after the grace period ends it. */
        harness_launch_cmd(h, "stubborn", "trap '' TERM; echo ready; while :; do sleep 0.05; done", 0);
        harness_wait(h, "stubborn", TASK_RUNNING, 5000);
        harness_wait_output(h, "stubborn", "stdout", "ready", 5000); /* the trap is set */
        uint64_t t0 = time_mono_ns();
        struct err err = {0};
        assert_int_equal(runtime_kill(h->rt, "stubborn", 400, &err), 0);
        assert_int_equal(runtime_kill(h->rt, "stubborn", 400, &err), 0); /* already being killed */
        const struct seen *fin = harness_wait(h, "stubborn", _TASK_STATE_MAX, 5000);
        uint64_t elapsed_ms = (fin->at_ns - t0) / 1000000;
        assert_int_equal(fin->state, TASK_KILLED);
        assert_int_equal(fin->signal, SIGKILL);
        assert_string_equal(fin->reason, TASK_REASON_KILLED);
        assert_true(elapsed_ms >= 390);
        assert_true(elapsed_ms < 3000);

        /* A well-behaved task ends on SIGTERM, long before the grace period. */
        harness_launch_cmd(h, "polite", "exec sleep 100", 0);
        harness_wait(h, "polite", TASK_RUNNING, 5000);
        t0 = time_mono_ns();
        assert_int_equal(runtime_kill(h->rt, "polite", 10000, &err), 0);
        fin = harness_wait(h, "polite", _TASK_STATE_MAX, 5000);
        assert_int_equal(fin->state, TASK_KILLED);
        assert_int_equal(fin->signal, SIGTERM);
        assert_string_equal(fin->message, "Command terminated with signal Terminated");
        assert_true((fin->at_ns - t0) / 1000000 < 2000);

        /* Killing an ended task is a no-op; an unknown one is not found. */
        size_t n = h->n_seen;
        assert_int_equal(runtime_kill(h->rt, "polite", -1, &err), 0);
        harness_run_for(h, 50);
        assert_int_equal(h->n_seen, n);
        assert_int_equal(runtime_kill(h->rt, "nobody-knows", -1, &err), -ENOENT);
        err_release(&err);
        harness_free(h);
}

static void kill_with_the_default_grace_uses_the_spec(void **state) {
        struct harness *h = harness_new();
        struct task_spec spec = {.task_id = "graceful",
                                 .cmd = "trap '' TERM; echo ready; while :; do sleep 0.05; done",
                                 .kill_grace_ms = 200};
        struct err err = {0};
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        harness_wait(h, "graceful", TASK_RUNNING, 5000);
        harness_wait_output(h, "graceful", "stdout", "ready", 5000);
        uint64_t t0 = time_mono_ns();
        assert_int_equal(runtime_kill(h->rt, "graceful", -1, &err), 0);
        const struct seen *fin = harness_wait(h, "graceful", TASK_KILLED, 5000);
        uint64_t ms = (fin->at_ns - t0) / 1000000;
        if (!(ms >= 190 && ms < 2000))
                fail_msg("killed after %llu ms, signal %d", (unsigned long long)ms, fin->signal);
        harness_free(h);
}

static void memory_hog_is_oom_killed_and_its_sibling_keeps_running(void **state) {
        struct harness *h = harness_new();
        harness_launch_cmd(h, "sibling", "exec sleep 100", 64);
        harness_wait(h, "sibling", TASK_RUNNING, 5000);
        harness_launch_cmd(h, "hog", "head -c 500M /dev/zero | tail", 32);
        const struct seen *fin = harness_wait(h, "hog", _TASK_STATE_MAX, 20000);
        assert_int_equal(fin->state, TASK_FAILED);
        assert_string_equal(fin->reason, TASK_REASON_MEMORY);
        assert_string_equal(fin->message, "Memory limit exceeded: Requested: 32MB Maximum Used: 32MB");

        struct runtime_task_info info;
        assert_int_equal(runtime_get(h->rt, "sibling", &info), 0);
        assert_int_equal(info.state, TASK_RUNNING);
        assert_true(process_alive(info.pid));
        struct err err = {0};
        assert_int_equal(runtime_kill(h->rt, "sibling", 0, &err), 0);
        assert_int_equal(harness_wait(h, "sibling", _TASK_STATE_MAX, 5000)->state, TASK_KILLED);
        harness_free(h);
}

static void read_cgroup_file(const char *mnt, const char *parent, const char *id, const char *file, char *buf,
                             size_t size) {
        char *dir = xasprintf("%s/%s/%s", mnt, parent, id);
        int r = cgroup_read(dir, file, buf, size);
        if (r < 0)
                fail_msg("cannot read %s/%s: %s", dir, file, strerror(-r));
        free(dir);
        buf[strcspn(buf, "\n")] = 0;
}

static void cgroup_limits_are_written_and_the_cgroup_removed_after_the_end(void **state) {
        struct harness *h = harness_new();
        struct task_spec spec = {.task_id = "limited",
                                 .cmd = "exec sleep 100",
                                 .cpus = 0.5,
                                 .mem_mib = 64,
                                 .pids_max = 50,
                                 .kill_grace_ms = -1};
        struct err err = {0};
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        const struct seen *run = harness_wait(h, "limited", TASK_RUNNING, 5000);

        struct cgroup_hier hier;
        assert_int_equal(cgroup_hier_detect(&hier, "/proc/self/mountinfo", &err), 0);
        char buf[256];
        char *pid_line = xasprintf("%d", (int)run->pid);
        if (hier.version == CGROUP_V1) {
                read_cgroup_file(hier.cpu, h->parent, "limited", "cpu.shares", buf, sizeof buf);
                assert_string_equal(buf, "512");
                read_cgroup_file(hier.cpu, h->parent, "limited", "cpu.cfs_period_us", buf, sizeof buf);
                assert_string_equal(buf, "100000");
                read_cgroup_file(hier.cpu, h->parent, "limited", "cpu.cfs_quota_us", buf, sizeof buf);
                assert_string_equal(buf, "50000");
                read_cgroup_file(hier.memory, h->parent, "limited", "memory.limit_in_bytes", buf, sizeof buf);
                assert_string_equal(buf, "67108864");
                char *memsw = xasprintf("%s/%s/limited/memory.memsw.limit_in_bytes", hier.memory, h->parent);
                if (access(memsw, F_OK) == 0) {
                        read_cgroup_file(hier.memory, h->parent, "limited", "memory.memsw.limit_in_bytes",
                                         buf, sizeof buf);
                        assert_string_equal(buf, "67108864");
                }
                free(memsw);
                read_cgroup_file(hier.pids, h->parent, "limited", "pids.max", buf, sizeof buf);
                assert_string_equal(buf, "50");
                const char *mnts[] = {hier.cpu, hier.memory, hier.pids};
                for (size_t i = 0; i < ELEMENTSOF(mnts); i++) {
                        read_cgroup_file(mnts[i], h->parent, "limited", "cgroup.procs", buf, sizeof buf);
                        assert_string_equal(buf, pid_line);
                }
        } else {
                read_cgroup_file(hier.unified, h->parent, "limited", "cpu.weight", buf, sizeof buf);
                assert_string_equal(buf, "20");
                read_cgroup_file(hier.unified, h->parent, "limited", "cpu.max", buf, sizeof buf);
                assert_string_equal(buf, "50000 100000");
                read_cgroup_file(hier.unified, h->parent, "limited", "memory.max", buf, sizeof buf);
                assert_string_equal(buf, "67108864");
                read_cgroup_file(hier.unified, h->parent, "limited", "pids.max", buf, sizeof buf);
                assert_string_equal(buf, "50");
                read_cgroup_file(hier.unified, h->parent, "limited", "cgroup.procs", buf, sizeof buf);
                assert_string_equal(buf, pid_line);
        }
        free(pid_line);

        assert_int_equal(runtime_kill(h->rt, "limited", 1000, &err), 0);
        harness_wait(h, "limited", TASK_KILLED, 5000);
        const char *mnt = hier.version == CGROUP_V1 ? hier.memory : hier.unified;
        char *dir = xasprintf("%s/%s/limited", mnt, h->parent);
        assert_int_equal(access(dir, F_OK), -1);
        free(dir);
        cgroup_hier_release(&hier);
        harness_free(h);
}

static void marathon_environment_reaches_the_task(void **state) {
        struct harness *h = harness_new();
        json_t *app = json_pack("{s:s, s:s, s:f, s:f, s:{s:s}, s:{s:s, s:s}, s:[{s:i, s:s}]}", "id",
                                "/prod/web", "version", "2024-01-02T03:04:05.678Z", "cpus", 0.5, "mem", 64.0,
                                "labels", "owner.team", "core", "env", "FOO", "bar", "HOST", "overridden",
                                "portDefinitions", "port", 10000, "name", "http");
        int ports[] = {31000};
        struct task_env_input in = {.app = app,
                                    .task_id = "prod_web.abc",
                                    .host = "agent-1.example",
                                    .host_ports = ports,
                                    .n_host_ports = 1,
                                    .enforce_group_role = -1};
        char **env = NULL;
        struct err err = {0};
        assert_int_equal(task_env_build(&in, &env, &err), 0);
        struct task_spec spec = {.task_id = "prod_web.abc", .cmd = "env", .env = env, .kill_grace_ms = -1};
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        task_env_free(env);
        json_decref(app);
        assert_int_equal(harness_wait(h, "prod_web.abc", _TASK_STATE_MAX, 5000)->state, TASK_FINISHED);
        char out[8192];
        harness_read_sandbox(h, "prod_web.abc", "stdout", out, sizeof out);
        const char *want[] = {
                "PORT0=31000\n",
                "PORT=31000\n",
                "PORTS=31000\n",
                "PORT_HTTP=31000\n",
                "PORT_10000=31000\n",
                "HOST=overridden\n",
                "MESOS_TASK_ID=prod_web.abc\n",
                "MARATHON_APP_ID=/prod/web\n",
                "MARATHON_APP_VERSION=2024-01-02T03:04:05.678Z\n",
                "MARATHON_APP_RESOURCE_CPUS=0.5\n",
                "MARATHON_APP_RESOURCE_MEM=64.0\n",
                "MARATHON_APP_LABELS=OWNER_TEAM\n",
                "MARATHON_APP_LABEL_OWNER_TEAM=core\n",
                "FOO=bar\n",
                "PATH=/usr/local/sbin:",
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (!strstr(out, want[i]))
                        fail_msg("'%s' missing from the task's environment:\n%s", want[i], out);
        char *sandbox = xasprintf("MESOS_SANDBOX=%s/sandboxes/prod_web.abc\n", h->work_dir);
        assert_non_null(strstr(out, sandbox));
        free(sandbox);
        harness_free(h);
}

static void tasks_run_as_the_requested_user(void **state) {
        struct harness *h = harness_new();
        struct passwd *pw = getpwnam("nobody");
        if (!pw)
                fail_msg("this test needs the 'nobody' user");
        uid_t uid = pw->pw_uid;
        struct task_spec spec = {.task_id = "as-nobody",
                                 .cmd = "id -u; echo $USER; touch mine",
                                 .user = "nobody",
                                 .kill_grace_ms = -1};
        struct err err = {0};
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        const struct seen *fin = harness_wait(h, "as-nobody", _TASK_STATE_MAX, 5000);
        if (fin->state != TASK_FINISHED)
                fail_msg("%s: %s", task_state_to_string(fin->state), fin->message);
        char out[256], want[64];
        harness_read_sandbox(h, "as-nobody", "stdout", out, sizeof out);
        snprintf(want, sizeof want, "%u\nnobody\n", (unsigned)uid);
        assert_string_equal(out, want);

        spec.task_id = "as-ghost";
        spec.user = "strata-no-such-user";
        assert_int_equal(runtime_launch(h->rt, &spec, &err), -EINVAL);
        assert_string_equal(
                err_msg(&err),
                "cannot launch task 'as-ghost': user 'strata-no-such-user' does not exist on this agent");
        err_release(&err);
        harness_run_for(h, 20);
        assert_null(harness_last(h, "as-ghost"));
        harness_free(h);
}

static void duplicate_ids_remove_and_lookup(void **state) {
        struct harness *h = harness_new();
        struct err err = {0};
        harness_launch_cmd(h, "dup", "exec sleep 100", 0);
        struct task_spec spec = {.task_id = "dup", .cmd = "true", .kill_grace_ms = -1};
        assert_int_equal(runtime_launch(h->rt, &spec, &err), -EEXIST);
        spec.task_id = "bad/id";
        assert_int_equal(runtime_launch(h->rt, &spec, &err), -EINVAL);
        harness_wait(h, "dup", TASK_RUNNING, 5000);
        assert_int_equal(runtime_remove(h->rt, "dup", &err), -EBUSY);
        assert_int_equal(runtime_kill(h->rt, "dup", 0, &err), 0);
        harness_wait(h, "dup", TASK_KILLED, 5000);
        assert_int_equal(runtime_remove(h->rt, "dup", &err), 0);
        struct runtime_task_info info;
        assert_int_equal(runtime_get(h->rt, "dup", &info), -ENOENT);
        char *meta = sandbox_meta_dir(h->work_dir, "dup");
        assert_int_equal(access(meta, F_OK), -1);
        free(meta);
        /* Removed: the id can be used again. */
        spec.task_id = "dup";
        assert_int_equal(runtime_launch(h->rt, &spec, &err), 0);
        assert_int_equal(harness_wait(h, "dup", TASK_FINISHED, 5000)->exit_code, 0);
        err_release(&err);
        harness_free(h);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* launch → TASK_RUNNING: what POST /v2/apps → RUNNING costs on the agent's side. */
static void thirty_back_to_back_launches_all_run_and_are_killed(void **state) {
        struct harness *h = harness_new();
        enum { N = 30 };
        uint64_t lat[N];
        for (int i = 0; i < N; i++) {
                char id[32];
                snprintf(id, sizeof id, "lat-%d", i);
                uint64_t t0 = time_mono_ns();
                harness_launch_cmd(h, id, "exec sleep 100", 32);
                const struct seen *run = harness_wait(h, id, TASK_RUNNING, 5000);
                lat[i] = run->at_ns - t0;
        }
        struct err err = {0};
        for (int i = 0; i < N; i++) {
                char id[32];
                snprintf(id, sizeof id, "lat-%d", i);
                assert_int_equal(runtime_kill(h->rt, id, 0, &err), 0);
        }
        for (int i = 0; i < N; i++) {
                char id[32];
                snprintf(id, sizeof id, "lat-%d", i);
                harness_wait(h, id, TASK_KILLED, 5000);
        }
        qsort(lat, N, sizeof lat[0], cmp_u64);
        double p50 = (double)lat[N / 2] / 1e6, p90 = (double)lat[N * 9 / 10] / 1e6,
               max = (double)lat[N - 1] / 1e6;
        print_message("launch -> TASK_RUNNING over %d launches: p50 %.2f ms, p90 %.2f ms, max %.2f ms\n", N,
                      p50, p90, max);
        /* Informational only: timings are measured by benchmarks (bench/), never asserted in
         * unit tests, where a loaded CI machine would make them flaky. What is asserted is that
         * every launch reached RUNNING and every kill landed. */
        harness_free(h);
}

/* --- recovery --- */

static void recovery_after_close_reattaches_to_the_same_process(void **state) {
        struct harness *h = harness_new();
        harness_launch_cmd(h, "survivor", "exec sleep 100", 0);
        pid_t pid = harness_wait(h, "survivor", TASK_RUNNING, 5000)->pid;
        harness_close_runtime(h);
        assert_true(process_alive(pid));

        h->n_seen = 0;
        harness_open_runtime(h);
        struct err err = {0};
        assert_int_equal(runtime_recover(h->rt, &err), 1);
        const struct seen *run = harness_wait(h, "survivor", TASK_RUNNING, 1000);
        assert_int_equal(run->pid, pid);
        struct runtime_task_info info;
        assert_int_equal(runtime_get(h->rt, "survivor", &info), 0);
        assert_int_equal(info.pid, pid);
        assert_int_equal(info.state, TASK_RUNNING);
        /* Recovering twice does not duplicate it. */
        assert_int_equal(runtime_recover(h->rt, &err), 0);

        /* The re-attached task's end is still seen. */
        assert_int_equal(runtime_kill(h->rt, "survivor", 0, &err), 0);
        const struct seen *fin = harness_wait(h, "survivor", _TASK_STATE_MAX, 5000);
        assert_int_equal(fin->state, TASK_KILLED);
        assert_false(process_alive(pid));
        harness_free(h);
}

/* The agent side runs in a forked child that is SIGKILLed: what kill -9 of the agent does. */
struct agent_child {
        pid_t pid;
        pid_t task_pids[4];
};

static void start_doomed_agent(struct harness *h, const char *const *ids, const char *const *cmds, size_t n,
                               struct agent_child *ret) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                close(p[0]);
                struct harness *ch = xcalloc(1, sizeof *ch);
                uv_loop_init(&ch->loop);
                memcpy(ch->work_dir, h->work_dir, sizeof ch->work_dir);
                memcpy(ch->parent, h->parent, sizeof ch->parent);
                struct runtime_config cfg = harness_config(ch);
                struct err err = {0};
                if (runtime_native_new(&cfg, &ch->rt, &err) < 0)
                        _exit(10);
                for (size_t i = 0; i < n; i++) {
                        struct task_spec spec = {
                                .task_id = (char *)ids[i], .cmd = (char *)cmds[i], .kill_grace_ms = -1};
                        if (runtime_launch(ch->rt, &spec, &err) < 0)
                                _exit(11);
                }
                for (size_t i = 0; i < n; i++) {
                        while (!harness_find(ch, ids[i], TASK_RUNNING))
                                uv_run(&ch->loop, UV_RUN_ONCE);
                        pid_t pid = harness_find(ch, ids[i], TASK_RUNNING)->pid;
                        if (write(p[1], &pid, sizeof pid) != sizeof pid)
                                _exit(12);
                }
                for (;;)
                        pause();
        }
        close(p[1]);
        ret->pid = child;
        for (size_t i = 0; i < n; i++)
                if (read(p[0], &ret->task_pids[i], sizeof(pid_t)) != sizeof(pid_t))
                        fail_msg("the agent child died before its tasks ran");
        close(p[0]);
        assert_int_equal(kill(child, SIGKILL), 0);
        int st;
        assert_int_equal(waitpid(child, &st, 0), child);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* Blocks until the shim of a task has exited (it is nobody's child we can wait for). */
static void wait_shim_gone(struct harness *h, const char *id) {
        char *meta = sandbox_meta_dir(h->work_dir, id);
        pid_t shim;
        uint64_t start;
        assert_int_equal(sandbox_read_shim(meta, &shim, &start), 0);
        free(meta);
        int fd = pidfd_open(shim, 0);
        if (fd < 0)
                return;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, 10000), 1);
        close(fd);
}

static void agent_sigkill_leaves_tasks_running_and_recovery_reports_them(void **state) {
        struct harness *h = harness_new();
        harness_close_runtime(h); /* the forked child is the agent this time */
        char *fifo = xasprintf("%s/go", h->work_dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        char *waiter = xasprintf("read line < %s; exit 7", fifo);
        const char *ids[] = {"long", "ends-while-down", "shim-dies"};
        const char *cmds[] = {"exec sleep 100", waiter, "exec sleep 100"};
        struct agent_child agent;
        start_doomed_agent(h, ids, cmds, 3, &agent);

        /* The agent is dead; its tasks are not. */
        for (int i = 0; i < 3; i++)
                assert_true(process_alive(agent.task_pids[i]));
        /* While it is down: one task ends on its own, one loses its supervisor. */
        int fd = open(fifo, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "go\n", 3), 3);
        close(fd);
        wait_shim_gone(h, "ends-while-down");
        char *meta = sandbox_meta_dir(h->work_dir, "shim-dies");
        pid_t shim;
        uint64_t start;
        assert_int_equal(sandbox_read_shim(meta, &shim, &start), 0);
        free(meta);
        assert_int_equal(kill(shim, SIGKILL), 0);
        wait_shim_gone(h, "shim-dies");

        /* The agent comes back. */
        harness_open_runtime(h);
        struct err err = {0};
        assert_int_equal(runtime_recover(h->rt, &err), 3);
        const struct seen *run = harness_wait(h, "long", TASK_RUNNING, 1000);
        assert_int_equal(run->pid, agent.task_pids[0]);
        const struct seen *fin = harness_wait(h, "ends-while-down", _TASK_STATE_MAX, 1000);
        assert_int_equal(fin->state, TASK_FAILED);
        assert_int_equal(fin->exit_code, 7);
        assert_string_equal(fin->message, "Command exited with status 7");
        fin = harness_wait(h, "shim-dies", _TASK_STATE_MAX, 1000);
        assert_int_equal(fin->state, TASK_LOST);
        assert_non_null(strstr(fin->message, "ended without recording the task's exit status"));
        assert_string_equal(fin->reason, TASK_REASON_EXECUTOR_TERMINATED);

        /* The recovered task's later end is reported. */
        assert_int_equal(runtime_kill(h->rt, "long", 0, &err), 0);
        fin = harness_wait(h, "long", _TASK_STATE_MAX, 5000);
        assert_int_equal(fin->state, TASK_KILLED);
        assert_int_equal(fin->pid, agent.task_pids[0]);

        /* After acknowledgement the daemon removes them; a later recovery finds nothing. */
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                assert_int_equal(runtime_remove(h->rt, ids[i], &err), 0);
        harness_close_runtime(h);
        harness_open_runtime(h);
        assert_int_equal(runtime_recover(h->rt, &err), 0);
        free(waiter);
        free(fifo);
        harness_free(h);
}

static void ended_tasks_are_reported_again_until_removed(void **state) {
        struct harness *h = harness_new();
        /* A cgroup the previous agent created but never checkpointed a task for. */
        struct cgroup_hier hier;
        assert_int_equal(cgroup_hier_detect(&hier, "/proc/self/mountinfo", NULL), 0);
        char *stale = xasprintf("%s/%s/never-launched",
                                hier.version == CGROUP_V1 ? hier.memory : hier.unified, h->parent);
        assert_int_equal(mkdir(stale, 0755), 0);
        harness_launch_cmd(h, "done", "exit 0", 0);
        harness_wait(h, "done", TASK_FINISHED, 5000);
        harness_close_runtime(h);
        h->n_seen = 0;
        harness_open_runtime(h);
        struct err err = {0};
        assert_int_equal(runtime_recover(h->rt, &err), 1);
        const struct seen *fin = harness_wait(h, "done", _TASK_STATE_MAX, 1000);
        assert_int_equal(fin->state, TASK_FINISHED);
        assert_int_equal(h->n_seen, 1);
        assert_int_equal(access(stale, F_OK), -1);
        free(stale);
        cgroup_hier_release(&hier);
        assert_int_equal(runtime_remove(h->rt, "done", &err), 0);
        harness_free(h);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_finishes_with_output_captured),
        cmocka_unit_test(exit_status_3_fails_with_the_exit_code),
        cmocka_unit_test(command_not_found_fails_with_the_reason_and_never_runs),
        cmocka_unit_test(kill_escalates_to_sigkill_after_the_grace_period),
        cmocka_unit_test(kill_with_the_default_grace_uses_the_spec),
        cmocka_unit_test(memory_hog_is_oom_killed_and_its_sibling_keeps_running),
        cmocka_unit_test(cgroup_limits_are_written_and_the_cgroup_removed_after_the_end),
        cmocka_unit_test(marathon_environment_reaches_the_task),
        cmocka_unit_test(tasks_run_as_the_requested_user),
        cmocka_unit_test(duplicate_ids_remove_and_lookup),
        cmocka_unit_test(thirty_back_to_back_launches_all_run_and_are_killed),
        cmocka_unit_test(recovery_after_close_reattaches_to_the_same_process),
        cmocka_unit_test(agent_sigkill_leaves_tasks_running_and_recovery_reports_them),
        cmocka_unit_test(ended_tasks_are_reported_again_until_removed),
};

AGENT_TEST_MAIN(tests)
