/* test_agent_oci_spec.c — config.json generation: Docker's command rules, env precedence, user
 * resolution from the image, safe defaults (namespaces, caps, seccomp, masked paths), limits,
 * volumes and network modes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/oci_spec.h"
#include "common/alloc.h"

static char rootfs[] = "/tmp/test_oci_spec.XXXXXX";

static int setup(void **state) {
        if (!mkdtemp(rootfs))
                return -1;
        char path[256];
        snprintf(path, sizeof path, "%s/etc", rootfs);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/etc/passwd", rootfs);
        FILE *f = fopen(path, "w");
        fputs("root:x:0:0:root:/root:/bin/sh\nwww:x:33:34:www:/var/www:/bin/false\n", f);
        fclose(f);
        snprintf(path, sizeof path, "%s/etc/group", rootfs);
        f = fopen(path, "w");
        fputs("root:x:0:\nstaff:x:50:\n", f);
        fclose(f);
        return 0;
}

static int teardown(void **state) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", rootfs);
        return system(cmd) == 0 ? 0 : -1;
}

static struct oci_spec_input base_input(void) {
        return (struct oci_spec_input){
                .task_id = "web.instance-1",
                .rootfs = rootfs,
                .sandbox = "/var/lib/strata/sandboxes/web.instance-1",
                .cgroups_path = "/strata/web.instance-1",
        };
}

static json_t *build_ok(const struct oci_spec_input *in) {
        json_t *j = NULL;
        struct err err = {0};
        int r = oci_spec_build(in, &j, &err);
        if (r < 0)
                fail_msg("oci_spec_build: %s", err_msg(&err));
        return j;
}

static json_t *parse(const char *s) {
        json_t *j = json_loads(s, 0, NULL);
        assert_non_null(j);
        return j;
}

static void assert_args(const json_t *spec, const char *expected_json) {
        json_t *want = parse(expected_json);
        const json_t *args = json_object_get(json_object_get(spec, "process"), "args");
        if (!json_equal(args, want)) {
                char *got = json_dumps(args, 0);
                fail_msg("args %s, want %s", got, expected_json);
        }
        json_decref(want);
}

static const char *env_get(const json_t *spec, const char *name) {
        size_t i, len = strlen(name);
        json_t *e;
        json_array_foreach(json_object_get(json_object_get(spec, "process"), "env"), i, e) {
                const char *s = json_string_value(e);
                if (strncmp(s, name, len) == 0 && s[len] == '=')
                        return s + len + 1;
        }
        return NULL;
}

static void shell_cmd_runs_under_sh_and_ignores_entrypoint(void **state) {
        json_t *img = parse("{\"Entrypoint\": [\"/entry\"], \"Cmd\": [\"serve\"]}");
        struct oci_spec_input in = base_input();
        in.image_config = img;
        in.cmd = "echo hi";
        json_t *j = build_ok(&in);
        assert_args(j, "[\"/bin/sh\", \"-c\", \"echo hi\"]");
        json_decref(j);
        json_decref(img);
}

static void args_replace_cmd_after_entrypoint(void **state) {
        json_t *img = parse("{\"Entrypoint\": [\"/entry\", \"-v\"], \"Cmd\": [\"serve\"]}");
        char *args[] = {"run", "--port=80", NULL};
        struct oci_spec_input in = base_input();
        in.image_config = img;
        in.args = args;
        json_t *j = build_ok(&in);
        assert_args(j, "[\"/entry\", \"-v\", \"run\", \"--port=80\"]");
        json_decref(j);
        in.args = NULL;
        j = build_ok(&in);
        assert_args(j, "[\"/entry\", \"-v\", \"serve\"]");
        json_decref(j);
        json_decref(img);
}

static void nothing_to_run_is_an_error(void **state) {
        struct oci_spec_input in = base_input();
        json_t *j = NULL;
        struct err err = {0};
        assert_int_equal(oci_spec_build(&in, &j, &err), -EINVAL);
        assert_null(j);
        assert_non_null(strstr(err_msg(&err), "nothing to run"));
        err_release(&err);
}

static void env_task_overrides_image_and_sandbox_is_the_mount_point(void **state) {
        json_t *img = parse("{\"Env\": [\"PATH=/opt/bin\", \"MODE=image\", \"KEEP=1\"], \"Cmd\": [\"x\"],"
                            " \"WorkingDir\": \"/srv\"}");
        char *env[] = {"MODE=task", "MESOS_SANDBOX=/host/path", "PORT0=31000", NULL};
        struct oci_spec_input in = base_input();
        in.image_config = img;
        in.env = env;
        json_t *j = build_ok(&in);
        assert_string_equal(env_get(j, "MODE"), "task");
        assert_string_equal(env_get(j, "KEEP"), "1");
        assert_string_equal(env_get(j, "PATH"), "/opt/bin");
        assert_string_equal(env_get(j, "PORT0"), "31000");
        assert_string_equal(env_get(j, "MESOS_SANDBOX"), "/mnt/mesos/sandbox");
        assert_string_equal(env_get(j, "HOME"), "/root");
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "process"), "cwd")), "/srv");
        json_decref(j);
        json_decref(img);
}

static void users_resolve_against_the_image(void **state) {
        uid_t uid;
        gid_t gid;
        struct err err = {0};
        assert_int_equal(oci_user_resolve(rootfs, "www", &uid, &gid, &err), 0);
        assert_int_equal(uid, 33);
        assert_int_equal(gid, 34);
        assert_int_equal(oci_user_resolve(rootfs, "www:staff", &uid, &gid, &err), 0);
        assert_int_equal(gid, 50);
        assert_int_equal(oci_user_resolve(rootfs, "1234:99", &uid, &gid, &err), 0);
        assert_int_equal(uid, 1234);
        assert_int_equal(gid, 99);
        assert_int_equal(oci_user_resolve(rootfs, "33", &uid, &gid, &err), 0);
        assert_int_equal(gid, 34);
        assert_int_equal(oci_user_resolve(rootfs, "nobody", &uid, &gid, &err), -EINVAL);
        assert_non_null(strstr(err_msg(&err), "nobody"));
        assert_int_equal(oci_user_resolve(rootfs, "www:wheel", &uid, &gid, &err), -EINVAL);
        err_release(&err);

        /* The image's User applies unless the app names one. */
        json_t *img = parse("{\"User\": \"www\", \"Cmd\": [\"x\"]}");
        struct oci_spec_input in = base_input();
        in.image_config = img;
        json_t *j = build_ok(&in);
        json_t *user = json_object_get(json_object_get(j, "process"), "user");
        assert_int_equal(json_integer_value(json_object_get(user, "uid")), 33);
        assert_string_equal(env_get(j, "HOME"), "/");
        json_decref(j);
        in.user = "root";
        j = build_ok(&in);
        user = json_object_get(json_object_get(j, "process"), "user");
        assert_int_equal(json_integer_value(json_object_get(user, "uid")), 0);
        json_decref(j);
        json_decref(img);
}

static bool has_string(const json_t *arr, const char *s) {
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return true;
        return false;
}

static bool has_namespace(const json_t *spec, const char *type, const char **ret_path) {
        size_t i;
        json_t *ns;
        json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, ns) {
                if (strcmp(json_string_value(json_object_get(ns, "type")), type) == 0) {
                        if (ret_path)
                                *ret_path = json_string_value(json_object_get(ns, "path"));
                        return true;
                }
        }
        return false;
}

static void safe_defaults(void **state) {
        struct oci_spec_input in = base_input();
        in.cmd = "true";
        json_t *j = build_ok(&in);
        const json_t *proc = json_object_get(j, "process");
        assert_true(json_is_true(json_object_get(proc, "noNewPrivileges")));
        const json_t *caps = json_object_get(proc, "capabilities");
        const json_t *eff = json_object_get(caps, "effective");
        assert_int_equal(json_array_size(eff), 13); /* Docker's 14 less CAP_NET_RAW */
        assert_true(has_string(eff, "CAP_NET_BIND_SERVICE"));
        assert_false(has_string(eff, "CAP_SYS_ADMIN"));
        assert_false(has_string(eff, "CAP_NET_RAW")); /* no raw sockets (issue 13) */
        assert_false(has_string(json_object_get(caps, "bounding"), "CAP_SYS_ADMIN"));
        for (const char *const *t = (const char *const[]){"pid", "ipc", "uts", "mount", "network", NULL}; *t; t++)
                assert_true(has_namespace(j, *t, NULL));
        const json_t *lx = json_object_get(j, "linux");
        assert_true(has_string(json_object_get(lx, "maskedPaths"), "/proc/kcore"));
        assert_true(has_string(json_object_get(lx, "readonlyPaths"), "/proc/sys"));
        const json_t *sc = json_object_get(lx, "seccomp");
        const json_t *denied = json_object_get(json_array_get(json_object_get(sc, "syscalls"), 0), "names");
        assert_true(has_string(denied, "mount"));
        assert_true(has_string(denied, "unshare"));
        assert_true(has_string(denied, "ptrace"));
        assert_false(json_is_true(json_object_get(json_object_get(j, "root"), "readonly")));
        assert_string_equal(json_string_value(json_object_get(lx, "cgroupsPath")), "/strata/web.instance-1");
        json_decref(j);
}

static void limits_volumes_tty_readonly(void **state) {
        struct oci_volume vols[] = {
                {.host_path = "/data/shared", .container_path = "/shared", .readonly = true},
                {.host_path = "cache", .container_path = "/var/cache"},
        };
        struct oci_spec_input in = base_input();
        in.cmd = "true";
        in.cpus = 0.5;
        in.cfs_quota = true;
        in.mem_bytes = 64 << 20;
        in.pids_max = 100;
        in.volumes = vols;
        in.n_volumes = 2;
        in.tty = true;
        in.readonly_rootfs = true;
        json_t *j = build_ok(&in);
        const json_t *res = json_object_get(json_object_get(j, "linux"), "resources");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "cpu"), "shares")), 512);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "cpu"), "quota")), 50000);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "memory"), "limit")), 64 << 20);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "memory"), "swap")), 64 << 20);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "pids"), "limit")), 100);
        assert_true(json_is_true(json_object_get(json_object_get(j, "process"), "terminal")));
        assert_true(json_is_true(json_object_get(json_object_get(j, "root"), "readonly")));
        size_t i;
        json_t *m;
        int seen = 0;
        json_array_foreach(json_object_get(j, "mounts"), i, m) {
                const char *dst = json_string_value(json_object_get(m, "destination"));
                const char *src = json_string_value(json_object_get(m, "source"));
                if (strcmp(dst, "/shared") == 0) {
                        assert_string_equal(src, "/data/shared");
                        assert_true(has_string(json_object_get(m, "options"), "ro"));
                        seen |= 1;
                } else if (strcmp(dst, "/var/cache") == 0) {
                        assert_string_equal(src, "/var/lib/strata/sandboxes/web.instance-1/cache");
                        assert_true(has_string(json_object_get(m, "options"), "rw"));
                        seen |= 2;
                } else if (strcmp(dst, "/mnt/mesos/sandbox") == 0) {
                        assert_string_equal(src, in.sandbox);
                        seen |= 4;
                }
        }
        assert_int_equal(seen, 7);
        json_decref(j);

        struct oci_volume bad = {.host_path = "/x", .container_path = "relative"};
        in.volumes = &bad;
        in.n_volumes = 1;
        struct err err = {0};
        j = NULL;
        assert_int_equal(oci_spec_build(&in, &j, &err), -EINVAL);
        assert_non_null(strstr(err_msg(&err), "containerPath"));
        err_release(&err);
        struct oci_volume escape = {.host_path = "../../etc", .container_path = "/etc2"};
        in.volumes = &escape;
        assert_int_equal(oci_spec_build(&in, &j, &err), -EINVAL);
        err_release(&err);
}

static void network_modes(void **state) {
        struct oci_spec_input in = base_input();
        in.cmd = "true";
        in.host_network = true;
        json_t *j = build_ok(&in);
        assert_false(has_namespace(j, "network", NULL));
        json_decref(j);
        in.host_network = false;
        in.netns_path = "/run/strata/netns/web.instance-1";
        j = build_ok(&in);
        const char *path = NULL;
        assert_true(has_namespace(j, "network", &path));
        assert_string_equal(path, "/run/strata/netns/web.instance-1");
        json_decref(j);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(shell_cmd_runs_under_sh_and_ignores_entrypoint),
                cmocka_unit_test(args_replace_cmd_after_entrypoint),
                cmocka_unit_test(nothing_to_run_is_an_error),
                cmocka_unit_test(env_task_overrides_image_and_sandbox_is_the_mount_point),
                cmocka_unit_test(users_resolve_against_the_image),
                cmocka_unit_test(safe_defaults),
                cmocka_unit_test(limits_volumes_tty_readonly),
                cmocka_unit_test(network_modes),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
