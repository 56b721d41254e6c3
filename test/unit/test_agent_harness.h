/* test_agent_harness.h — shared helpers for the agent runtime tests: a loop, a native runtime
 * on a temporary work dir with its own cgroup parent, and the statuses it reported. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "agent/cgroup.h"
#include "agent/runtime.h"
#include "agent/sandbox.h"
#include "agent/shim.h"
#include "common/alloc.h"
#include "common/err.h"
#include "common/timeutil.h"

#define MAX_STATUSES 256

struct seen {
        char task_id[128];
        enum task_state state;
        char message[512];
        char reason[64];
        int exit_code, signal;
        pid_t pid;
        uint64_t at_ns;
};

struct harness {
        uv_loop_t loop;
        struct runtime *rt;
        char work_dir[64];
        char parent[64];
        struct seen seen[MAX_STATUSES];
        size_t n_seen;
        bool closed;
        bool timed_out;
};

static _unused_ void harness_status_cb(struct runtime *rt, const struct task_status *st, void *userdata) {
        struct harness *h = userdata;
        if (h->n_seen >= MAX_STATUSES)
                return;
        struct seen *s = &h->seen[h->n_seen++];
        snprintf(s->task_id, sizeof s->task_id, "%s", st->task_id);
        s->state = st->state;
        snprintf(s->message, sizeof s->message, "%s", st->message ? st->message : "");
        snprintf(s->reason, sizeof s->reason, "%s", st->reason ? st->reason : "");
        s->exit_code = st->exit_code;
        s->signal = st->signal;
        s->pid = st->pid;
        s->at_ns = time_mono_ns();
}

static _unused_ int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static _unused_ void rm_rf(const char *path) {
        (void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static _unused_ struct runtime_config harness_config(struct harness *h) {
        return (struct runtime_config){
                .loop = &h->loop,
                .work_dir = h->work_dir,
                .status_cb = harness_status_cb,
                .userdata = h,
                .cgroup_parent = h->parent,
        };
}

/* A fresh runtime on the harness' work dir (also used to "restart the agent"). */
static _unused_ void harness_open_runtime(struct harness *h) {
        struct err err = {0};
        struct runtime_config cfg = harness_config(h);
        int r = runtime_native_new(&cfg, &h->rt, &err);
        if (r < 0)
                fail_msg("cannot create the native runtime (these tests need root and cgroups): %s",
                         err_msg(&err));
        err_release(&err);
}

static _unused_ struct harness *harness_new(void) {
        struct harness *h = xcalloc(1, sizeof *h);
        uv_loop_init(&h->loop);
        snprintf(h->work_dir, sizeof h->work_dir, "/tmp/strata-agent-XXXXXX");
        assert_non_null(mkdtemp(h->work_dir));
        /* Tasks may run as other users: they must be able to reach their sandbox. */
        chmod(h->work_dir, 0755);
        snprintf(h->parent, sizeof h->parent, "strata-test-%d", (int)getpid());
        harness_open_runtime(h);
        return h;
}

static _unused_ void harness_closed_cb(void *userdata) {
        ((struct harness *)userdata)->closed = true;
}

/* Closes the runtime (tasks keep running) and runs the loop until it is freed. */
static _unused_ void harness_close_runtime(struct harness *h) {
        h->closed = false;
        runtime_close(h->rt, harness_closed_cb, h);
        while (!h->closed)
                uv_run(&h->loop, UV_RUN_ONCE);
        h->rt = NULL;
}

static _unused_ void walk_close(uv_handle_t *handle, void *arg) {
        if (!uv_is_closing(handle))
                uv_close(handle, NULL);
}

/* Removes the cgroup parent in every hierarchy (task cgroups must be gone already). */
static _unused_ void harness_remove_cgroups(const char *parent) {
        struct cgroup_hier hier = {0};
        if (cgroup_hier_detect(&hier, "/proc/self/mountinfo", NULL) < 0)
                return;
        const char *mnts[] = {hier.cpu, hier.memory, hier.pids, hier.unified};
        for (size_t i = 0; i < ELEMENTSOF(mnts); i++) {
                if (!mnts[i])
                        continue;
                char *dir = xasprintf("%s/%s", mnts[i], parent);
                (void)rmdir(dir);
                free(dir);
        }
        cgroup_hier_release(&hier);
}

static _unused_ void harness_free(struct harness *h) {
        if (h->rt)
                harness_close_runtime(h);
        uv_walk(&h->loop, walk_close, NULL);
        uv_run(&h->loop, UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&h->loop), 0);
        if (!getenv("STRATA_TEST_KEEP")) /* keep sandboxes and shim logs for a post-mortem */
                rm_rf(h->work_dir);
        harness_remove_cgroups(h->parent);
        free(h);
}

static _unused_ const struct seen *harness_find(struct harness *h, const char *id, enum task_state state) {
        for (size_t i = 0; i < h->n_seen; i++)
                if (streq(h->seen[i].task_id, id) && h->seen[i].state == state)
                        return &h->seen[i];
        return NULL;
}

/* The last status seen for a task, or NULL. */
static _unused_ const struct seen *harness_last(struct harness *h, const char *id) {
        for (size_t i = h->n_seen; i > 0; i--)
                if (streq(h->seen[i - 1].task_id, id))
                        return &h->seen[i - 1];
        return NULL;
}

static _unused_ void deadline_cb(uv_timer_t *t) {
        ((struct harness *)t->data)->timed_out = true;
}

/* Runs the loop until the task reports state (or any terminal state when state is
 * _TASK_STATE_MAX); fails the test after timeout_ms. */
static _unused_ const struct seen *harness_wait(struct harness *h, const char *id, enum task_state state,
                                                int timeout_ms) {
        uv_timer_t deadline;
        uv_timer_init(&h->loop, &deadline);
        deadline.data = h;
        h->timed_out = false;
        uv_timer_start(&deadline, deadline_cb, (uint64_t)timeout_ms, 0);
        const struct seen *s = NULL;
        for (;;) {
                if (state == _TASK_STATE_MAX) {
                        s = harness_last(h, id);
                        if (s && !task_state_is_terminal(s->state))
                                s = NULL;
                } else {
                        s = harness_find(h, id, state);
                }
                if (s || h->timed_out)
                        break;
                uv_run(&h->loop, UV_RUN_ONCE);
        }
        uv_close((uv_handle_t *)&deadline, NULL);
        uv_run(&h->loop, UV_RUN_NOWAIT);
        if (!s) {
                const struct seen *last = harness_last(h, id);
                fail_msg("task '%s': no %s within %d ms (last: %s %s)", id,
                         state == _TASK_STATE_MAX ? "terminal state" : task_state_to_string(state),
                         timeout_ms, last ? task_state_to_string(last->state) : "none",
                         last ? last->message : "");
        }
        return s;
}

/* Runs the loop for a while (to prove something does NOT happen). */
static _unused_ void harness_run_for(struct harness *h, int ms) {
        uv_timer_t deadline;
        uv_timer_init(&h->loop, &deadline);
        deadline.data = h;
        h->timed_out = false;
        uv_timer_start(&deadline, deadline_cb, (uint64_t)ms, 0);
        while (!h->timed_out)
                uv_run(&h->loop, UV_RUN_ONCE);
        uv_close((uv_handle_t *)&deadline, NULL);
        uv_run(&h->loop, UV_RUN_NOWAIT);
}

/* Runs the loop until a sandbox file contains text (a task saying it is ready). */
static _unused_ void harness_read_sandbox(struct harness *h, const char *id, const char *file, char *buf,
                                          size_t size);
static _unused_ void harness_wait_output(struct harness *h, const char *id, const char *file,
                                         const char *text, int timeout_ms) {
        char buf[4096];
        for (int waited = 0; waited < timeout_ms; waited += 10) {
                harness_read_sandbox(h, id, file, buf, sizeof buf);
                if (strstr(buf, text))
                        return;
                harness_run_for(h, 10);
        }
        fail_msg("task '%s' did not write '%s' to %s within %d ms", id, text, file, timeout_ms);
}

static _unused_ int harness_launch_cmd(struct harness *h, const char *id, const char *cmd, double mem_mib) {
        struct task_spec spec = {
                .task_id = (char *)id,
                .cmd = (char *)cmd,
                .cpus = 0.1,
                .mem_mib = mem_mib,
                .kill_grace_ms = -1,
        };
        struct err err = {0};
        int r = runtime_launch(h->rt, &spec, &err);
        if (r < 0)
                fail_msg("launch '%s' failed: %s", id, err_msg(&err));
        err_release(&err);
        return r;
}

/* Reads a sandbox file into buf. */
static _unused_ void harness_read_sandbox(struct harness *h, const char *id, const char *file, char *buf,
                                          size_t size) {
        char *path = xasprintf("%s/sandboxes/%s/%s", h->work_dir, id, file);
        buf[0] = 0;
        FILE *f = fopen(path, "re");
        free(path);
        if (!f)
                return;
        size_t n = fread(buf, 1, size - 1, f);
        buf[n] = 0;
        fclose(f);
}

static _unused_ bool process_alive(pid_t pid) {
        uint64_t start;
        return proc_start_time(pid, &start) == 0;
}

/* Every test binary that launches native tasks is also the shim (shim_path /proc/self/exe). */
#define AGENT_TEST_MAIN(tests)                                                                               \
        int main(int argc, char **argv) {                                                                    \
                if (argc >= 2 && streq(argv[1], SHIM_ARG))                                                   \
                        return shim_main(argc - 1, argv + 1);                                                \
                if (geteuid() != 0) {                                                                        \
                        fprintf(stderr, "%s: these tests run real tasks in cgroups and need root\n",         \
                                argv[0]);                                                                    \
                }                                                                                            \
                signal(SIGPIPE, SIG_IGN);                                                                    \
                return cmocka_run_group_tests(tests, NULL, NULL);                                            \
        }
