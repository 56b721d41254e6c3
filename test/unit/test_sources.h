/* test_sources.h — where the repository's src/ folder is, for unit tests that read the sources
 * (the layer rule, the master core's include graph). Include after <cmocka.h>. */
#pragma once

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes to out the real path of src/<sub> (sub "" for src itself). __FILE__ is relative to the
 * build directory (where meson compiles), which is where the test binary lives. */
static inline void test_find_src(const char *sub, char out[PATH_MAX]) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        assert_true(n > 0);
        exe[n] = 0;
        *strrchr(exe, '/') = 0;
        char file[PATH_MAX];
        snprintf(file, sizeof file, "%s", __FILE__);
        char *slash = strrchr(file, '/');
        assert_non_null(slash);
        *slash = 0;
        char cand[PATH_MAX * 2 + 64];
        if (file[0] == '/')
                snprintf(cand, sizeof cand, "%s/../../src/%s", file, sub);
        else
                snprintf(cand, sizeof cand, "%s/%s/../../src/%s", exe, file, sub);
        assert_non_null(realpath(cand, out));
}
