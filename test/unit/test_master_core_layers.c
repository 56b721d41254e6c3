/* test_master_core_layers.c — the master core's parts call one way: the #include graph among
 * launcher, deployer, placement, health_monitor and agent_link (through every src/master header
 * they pull in) has no cycle, and no part includes the daemon's owner object (master_internal.h)
 * or mentions struct master. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_sources.h"

static const char *const parts[] = { "launcher", "deployer", "placement", "health_monitor", "agent_link" };
#define N_PARTS (sizeof parts / sizeof *parts)

static char src_master[PATH_MAX];

static void find_sources(void) {
        test_find_src("master", src_master);
}

/* Appends to out (room for max names) the master headers ("launcher") that path includes. */
static size_t includes(const char *path, char out[][64], size_t max) {
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        char line[512];
        size_t n = 0;
        while (fgets(line, sizeof line, f)) {
                char name[64];
                if (sscanf(line, " #include \"master/%63[a-z_].h\"", name) == 1 && n < max)
                        snprintf(out[n++], 64, "%s", name);
        }
        fclose(f);
        return n;
}

/* Every master header reachable from the part's own .c and .h (its own header excluded),
 * marked in seen[] by name; returns false if master_internal.h is among them. */
struct closure {
        char names[128][64];
        size_t n;
};

static bool closure_has(const struct closure *c, const char *name) {
        for (size_t i = 0; i < c->n; i++)
                if (strcmp(c->names[i], name) == 0)
                        return true;
        return false;
}

static void walk(struct closure *c, const char *file) {
        char inc[64][64];
        char path[PATH_MAX + 80];
        snprintf(path, sizeof path, "%s/%s", src_master, file);
        size_t n = includes(path, inc, 64);
        for (size_t i = 0; i < n; i++) {
                if (closure_has(c, inc[i]) || c->n == 128)
                        continue;
                snprintf(c->names[c->n++], 64, "%s", inc[i]);
                char h[80];
                snprintf(h, sizeof h, "%s.h", inc[i]);
                walk(c, h);
        }
}

static void part_closure(const char *part, struct closure *c) {
        c->n = 0;
        char f[80];
        snprintf(f, sizeof f, "%s.c", part);
        walk(c, f);
        snprintf(f, sizeof f, "%s.h", part);
        walk(c, f);
}

static void no_part_includes_the_owner_object(void **state) {
        find_sources();
        for (size_t p = 0; p < N_PARTS; p++) {
                struct closure c;
                part_closure(parts[p], &c);
                if (closure_has(&c, "master_internal") || closure_has(&c, "master_core"))
                        fail_msg("%s reaches master_internal.h or master_core.h: parts take only what they use",
                                 parts[p]);
                for (int k = 0; k < 2; k++) {
                        char path[PATH_MAX + 80];
                        snprintf(path, sizeof path, "%s/%s.%s", src_master, parts[p], k ? "h" : "c");
                        FILE *f = fopen(path, "re");
                        assert_non_null(f);
                        char line[1024];
                        while (fgets(line, sizeof line, f))
                                if (strstr(line, "struct master ") || strstr(line, "struct master;") ||
                                    strstr(line, "->m->"))
                                        fail_msg("%s.%s mentions the daemon's owner object: %s", parts[p],
                                                 k ? "h" : "c", line);
                        fclose(f);
                }
        }
}

static void the_parts_have_no_include_cycle(void **state) {
        find_sources();
        bool edge[N_PARTS][N_PARTS] = { { false } };
        for (size_t p = 0; p < N_PARTS; p++) {
                struct closure c;
                part_closure(parts[p], &c);
                for (size_t q = 0; q < N_PARTS; q++)
                        edge[p][q] = q != p && closure_has(&c, parts[q]);
        }
        /* The launcher does use the placement and the deployer: the graph is not empty. */
        assert_true(edge[0][1] && edge[0][2]);
        /* Transitive closure (Warshall); a cycle puts a part in its own closure. */
        bool reach[N_PARTS][N_PARTS];
        memcpy(reach, edge, sizeof reach);
        for (size_t k = 0; k < N_PARTS; k++)
                for (size_t i = 0; i < N_PARTS; i++)
                        for (size_t j = 0; j < N_PARTS; j++)
                                reach[i][j] |= reach[i][k] && reach[k][j];
        for (size_t i = 0; i < N_PARTS; i++)
                for (size_t j = 0; j < N_PARTS; j++)
                        if (reach[i][j] && reach[j][i])
                                fail_msg("include cycle through %s and %s", parts[i], parts[j]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(no_part_includes_the_owner_object),
                cmocka_unit_test(the_parts_have_no_include_cycle),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
