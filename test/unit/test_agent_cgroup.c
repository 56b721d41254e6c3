/* test_agent_cgroup.c — hierarchy detection from mountinfo, v2 limits on a fake tree, v1/v2
 * limits on this machine's real hierarchy, OOM counters, kill and removal, checkpoint codec. */
#include "test_agent_harness.h"

#include <sys/wait.h>

static char *write_temp(const char *dir, const char *name, const char *text) {
        char *path = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        return path;
}

static char *make_tmpdir(void) {
        char *dir = xstrdup("/tmp/strata-cgtest-XXXXXX");
        assert_non_null(mkdtemp(dir));
        return dir;
}

static void hybrid_mountinfo_selects_v1(void **state) {
        char *dir = make_tmpdir();
        char *mi = write_temp(
                dir, "mountinfo",
                "25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
                "31 25 0:26 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755\n"
                "32 31 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
                "35 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
                "36 31 0:31 / /sys/fs/cgroup/memory rw shared:15 - cgroup cgroup rw,memory\n"
                "37 31 0:32 / /sys/fs/cgroup/pids rw shared:16 - cgroup cgroup rw,pids\n"
                "38 31 0:33 / /sys/fs/cgroup/cpuset rw shared:17 - cgroup cgroup rw,cpuset\n"
                "39 31 0:34 / /sys/fs/cgroup/with\\040space rw - cgroup cgroup rw,freezer\n");
        struct cgroup_hier h;
        assert_int_equal(cgroup_hier_detect(&h, mi, NULL), 0);
        assert_int_equal(h.version, CGROUP_V1);
        assert_string_equal(h.cpu, "/sys/fs/cgroup/cpu,cpuacct");
        assert_string_equal(h.memory, "/sys/fs/cgroup/memory");
        assert_string_equal(h.pids, "/sys/fs/cgroup/pids");
        assert_null(h.unified);
        cgroup_hier_release(&h);
        free(mi);
        rm_rf(dir);
        free(dir);
}

static void unified_mountinfo_selects_v2_only_with_the_memory_controller(void **state) {
        char *dir = make_tmpdir();
        char *root = xasprintf("%s/cg2", dir);
        assert_int_equal(mkdir(root, 0755), 0);
        char *controllers =
                write_temp(root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
        char *line = xasprintf("30 25 0:26 / %s rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n", root);
        char *mi = write_temp(dir, "mountinfo", line);
        struct cgroup_hier h;
        assert_int_equal(cgroup_hier_detect(&h, mi, NULL), 0);
        assert_int_equal(h.version, CGROUP_V2);
        assert_string_equal(h.unified, root);
        cgroup_hier_release(&h);

        /* A unified hierarchy without controllers (hybrid's /sys/fs/cgroup/unified) is useless. */
        free(write_temp(root, "cgroup.controllers", "\n"));
        struct err err = {0};
        assert_int_equal(cgroup_hier_detect(&h, mi, &err), -ENOENT);
        assert_non_null(strstr(err_msg(&err), "no cgroup memory controller"));
        err_release(&err);
        free(controllers);
        free(line);
        free(mi);
        free(root);
        rm_rf(dir);
        free(dir);
}

/* A fake v2 tree: directories and control files made by hand, checked after the write. */
static void touch(const char *dir, const char *file) {
        free(write_temp(dir, file, ""));
}

static void read_file(const char *dir, const char *file, char *buf, size_t size) {
        assert_int_equal(cgroup_read(dir, file, buf, size), 0);
        buf[strcspn(buf, "\n")] = 0;
}

static void v2_limits_are_written_to_the_unified_files(void **state) {
        char *root = make_tmpdir();
        char *parent = xasprintf("%s/strata", root);
        char *task = xasprintf("%s/strata/t1", root);
        assert_int_equal(mkdir(parent, 0755), 0);
        assert_int_equal(mkdir(task, 0755), 0);
        touch(root, "cgroup.subtree_control");
        touch(parent, "cgroup.subtree_control");
        const char *files[] = {"cpu.weight",      "cpu.max",          "memory.max",
                               "memory.swap.max", "memory.oom.group", "pids.max"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                touch(task, files[i]);

        struct cgroup_hier h = {0};
        cgroup_hier_set(&h, CGROUP_V2, NULL, NULL, NULL, root);
        struct err err = {0};
        assert_int_equal(cgroup_hier_prepare(&h, "strata", &err), 0);
        char buf[128];
        read_file(parent, "cgroup.subtree_control", buf, sizeof buf);
        /* Each controller is written in turn (a real file accumulates them). */
        assert_int_equal(strncmp(buf, "+pids", 5), 0);

        struct cgroup_limits lim = {.cpus = 2.0, .mem_bytes = 64 << 20, .pids_max = 100, .cfs_quota = true};
        struct cgroup cg;
        assert_int_equal(cgroup_create(&h, "strata", "t1", &lim, &cg, &err), 0);
        assert_string_equal(cg.memory, task);
        read_file(task, "cpu.weight", buf, sizeof buf);
        assert_string_equal(buf, "79"); /* 2048 shares → 1 + 2046 × 9999 / 262142 */
        read_file(task, "cpu.max", buf, sizeof buf);
        assert_string_equal(buf, "200000 100000");
        read_file(task, "memory.max", buf, sizeof buf);
        assert_string_equal(buf, "67108864");
        read_file(task, "memory.swap.max", buf, sizeof buf);
        assert_string_equal(buf, "0");
        read_file(task, "memory.oom.group", buf, sizeof buf);
        assert_string_equal(buf, "1");
        read_file(task, "pids.max", buf, sizeof buf);
        assert_string_equal(buf, "100");
        char *procs[3];
        assert_int_equal(cgroup_procs_files(&cg, procs), 1);
        char *want = xasprintf("%s/cgroup.procs", task);
        assert_string_equal(procs[0], want);
        free(want);
        free(procs[0]);

        /* OOM counter from memory.events, usage from memory.peak. */
        free(write_temp(task, "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n"));
        free(write_temp(task, "memory.peak", "67100000\n"));
        struct cgroup_memory mem;
        assert_int_equal(cgroup_read_memory(&cg, &mem), 0);
        assert_int_equal(mem.oom_kills, 1);
        assert_int_equal(mem.limit_bytes, 64 << 20);
        assert_int_equal(mem.max_usage_bytes, 67100000);

        /* Checkpoint round trip. */
        json_t *j = cgroup_to_json(&cg);
        struct cgroup back;
        assert_int_equal(cgroup_from_json(j, &back), 0);
        assert_int_equal(back.version, CGROUP_V2);
        assert_string_equal(back.cpu, cg.cpu);
        json_decref(j);
        cgroup_release(&back);

        /* Unlimited pids and no cpus: "max", and no cpu files touched. */
        touch(task, "cpu.weight");
        struct cgroup_limits none = {0};
        struct cgroup cg2;
        assert_int_equal(cgroup_create(&h, "strata", "t1", &none, &cg2, &err), 0);
        read_file(task, "pids.max", buf, sizeof buf);
        assert_string_equal(buf, "max");
        read_file(task, "cpu.weight", buf, sizeof buf);
        assert_string_equal(buf, "");
        cgroup_release(&cg2);
        cgroup_release(&cg);
        cgroup_hier_release(&h);
        rm_rf(root);
        free(root);
        free(parent);
        free(task);
}

static void a_missing_control_file_fails_with_its_path(void **state) {
        char *root = make_tmpdir();
        char *parent = xasprintf("%s/strata", root);
        assert_int_equal(mkdir(parent, 0755), 0);
        struct cgroup_hier h = {0};
        cgroup_hier_set(&h, CGROUP_V2, NULL, NULL, NULL, root);
        struct cgroup_limits lim = {.cpus = 1.0};
        struct cgroup cg;
        struct err err = {0};
        assert_int_equal(cgroup_create(&h, "strata", "t2", &lim, &cg, &err), -ENOENT);
        assert_non_null(strstr(err_msg(&err), "/strata/t2/cpu.weight"));
        /* Nothing left behind. */
        char *task = xasprintf("%s/t2", parent);
        assert_int_equal(access(task, F_OK), -1);
        err_release(&err);
        cgroup_hier_release(&h);
        rm_rf(root);
        free(root);
        free(parent);
        free(task);
}

/* This machine's real hierarchy (v1 hybrid in CI): create, join, OOM counter, kill, remove. */
static void real_cgroup_limits_oom_counter_kill_and_removal(void **state) {
        struct cgroup_hier h;
        struct err err = {0};
        if (cgroup_hier_detect(&h, "/proc/self/mountinfo", &err) < 0)
                fail_msg("this test needs a cgroup memory controller: %s", err_msg(&err));
        char parent[64];
        snprintf(parent, sizeof parent, "strata-cgtest-%d", (int)getpid());
        if (cgroup_hier_prepare(&h, parent, &err) < 0)
                fail_msg("cannot prepare cgroups (run as root): %s", err_msg(&err));
        struct cgroup_limits lim = {.cpus = 0.25, .mem_bytes = 16 << 20, .pids_max = 20, .cfs_quota = true};
        struct cgroup cg;
        assert_int_equal(cgroup_create(&h, parent, "hog", &lim, &cg, &err), 0);
        assert_false(cgroup_populated(&cg));

        /* A child joins, then blows the 16 MiB limit. */
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t child = fork();
        if (child == 0) {
                char *procs[3];
                size_t n = cgroup_procs_files(&cg, procs);
                for (size_t i = 0; i < n; i++) {
                        int fd = open(procs[i], O_WRONLY);
                        if (fd < 0 || write(fd, "0", 1) != 1)
                                _exit(3);
                        close(fd);
                }
                char c;
                if (read(go[0], &c, 1) != 1)
                        _exit(4);
                execl("/bin/sh", "sh", "-c", "head -c 200M /dev/zero | tail", NULL);
                _exit(5);
        }
        close(go[0]);
        /* It is in: the joined cgroup is populated before it runs anything. */
        for (int i = 0; i < 500 && !cgroup_populated(&cg); i++)
                usleep(2000);
        assert_true(cgroup_populated(&cg));
        assert_int_equal(write(go[1], "x", 1), 1);
        close(go[1]);
        int st;
        assert_int_equal(waitpid(child, &st, 0), child);
        struct cgroup_memory mem;
        assert_int_equal(cgroup_read_memory(&cg, &mem), 0);
        assert_true(mem.oom_kills >= 1);
        assert_int_equal(mem.limit_bytes, 16 << 20);
        assert_true(mem.max_usage_bytes > (15 << 20));

        /* A process left inside is killed by destroy, which succeeds once it is reaped. */
        child = fork();
        if (child == 0) {
                char *procs[3];
                size_t n = cgroup_procs_files(&cg, procs);
                for (size_t i = 0; i < n; i++) {
                        int fd = open(procs[i], O_WRONLY);
                        if (fd < 0 || write(fd, "0", 1) != 1)
                                _exit(3);
                        close(fd);
                }
                execl("/bin/sleep", "sleep", "100", NULL);
                _exit(5);
        }
        for (int i = 0; i < 500 && !cgroup_populated(&cg); i++)
                usleep(2000);
        int r = cgroup_destroy(&cg, &err); /* killed, maybe not yet gone */
        assert_true(r == 0 || r == -EBUSY);
        assert_int_equal(waitpid(child, &st, 0), child);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        assert_int_equal(cgroup_destroy(&cg, &err), 0);
        assert_int_equal(access(cg.memory, F_OK), -1);
        cgroup_release(&cg);
        harness_remove_cgroups(parent);
        cgroup_hier_release(&h);
        err_release(&err);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(hybrid_mountinfo_selects_v1),
        cmocka_unit_test(unified_mountinfo_selects_v2_only_with_the_memory_controller),
        cmocka_unit_test(v2_limits_are_written_to_the_unified_files),
        cmocka_unit_test(a_missing_control_file_fails_with_its_path),
        cmocka_unit_test(real_cgroup_limits_oom_counter_kill_and_removal),
};

AGENT_TEST_MAIN(tests)
