/* test_common_config_file.c — --config FILE and STRATA_<DAEMON>_* become flags before the
 * command line's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config_file.h"
#include "common/strbuf.h"

static char *joined(char **v) {
        struct strbuf sb = { 0 };
        for (size_t i = 0; v[i]; i++)
                strbuf_printf(&sb, "%s%s", i ? "|" : "", v[i]);
        return strbuf_steal(&sb);
}

static const char *write_tmp(const char *text) {
        static char path[] = "/tmp/strata-config-XXXXXX";
        strcpy(path, "/tmp/strata-config-XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

static void file_then_environment_then_command_line(void **state) {
        const char *path = write_tmp("# an agent\n"
                                     "[agent]\n"
                                     "master = \"http://m:8080\"\n"
                                     "data_dir = /var/lib/a   # comment\n"
                                     "insecure-registry = [\"r1:5000\", r2:5000]\n"
                                     "fake-runtime = true\n"
                                     "quiet = false\n"
                                     "sandbox-keep = 10\n");
        setenv("STRATA_AGENT_HOSTNAME", "from-env", 1);
        setenv("STRATA_AGENT_OPTS", "--ignored", 1);
        char *argv[] = { "agent", "--config", (char *)path, "--hostname", "from-args", NULL };
        char **out = NULL;
        int n = 0;
        struct err e = { 0 };
        assert_int_equal(config_file_argv("agent", NULL, 5, argv, &n, &out, &e), 0);
        char *s = joined(out);
        assert_string_equal(s, "agent|--master|http://m:8080|--data-dir|/var/lib/a|--insecure-registry|r1:5000|"
                               "--insecure-registry|r2:5000|--fake-runtime|--sandbox-keep|10|--hostname|from-env|"
                               "--hostname|from-args");
        assert_int_equal(n, 16);
        free(s);
        config_argv_free(out);
        unsetenv("STRATA_AGENT_HOSTNAME");
        unsetenv("STRATA_AGENT_OPTS");
        unlink(path);
}

static void bad_lines_name_the_file_and_line(void **state) {
        const char *path = write_tmp("master = \"http://m\"\nthis is not a setting\n");
        char *argv[] = { "agent", "--config", (char *)path, NULL };
        char **out = NULL;
        int n = 0;
        struct err e = { 0 };
        assert_int_equal(config_file_argv("agent", NULL, 3, argv, &n, &out, &e), -EINVAL);
        assert_non_null(strstr(err_msg(&e), "line 2: expected KEY = VALUE"));
        assert_null(out);
        err_release(&e);
        unlink(path);
        path = write_tmp("master = \"unterminated\n");
        char *argv2[] = { "agent", "--config=x", NULL };
        argv2[1] = NULL;
        char buf[128];
        snprintf(buf, sizeof buf, "--config=%s", path);
        argv2[1] = buf;
        assert_int_equal(config_file_argv("agent", NULL, 2, argv2, &n, &out, &e), -EINVAL);
        assert_non_null(strstr(err_msg(&e), "line 1: a value for 'master' is missing or unterminated"));
        err_release(&e);
        unlink(path);
        char *argv3[] = { "agent", "--config", "/nonexistent/strata.toml", NULL };
        assert_true(config_file_argv("agent", NULL, 3, argv3, &n, &out, &e) < 0);
        assert_non_null(strstr(err_msg(&e), "--config '/nonexistent/strata.toml'"));
        err_release(&e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(file_then_environment_then_command_line),
                cmocka_unit_test(bad_lines_name_the_file_and_line),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
