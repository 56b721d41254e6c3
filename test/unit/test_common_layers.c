/* test_common_layers.c — the layer rule of DESIGN.md §9 holds in every source file: a file of
 * src/<layer>/ includes headers of its own layer and the layers below it only.
 *
 * The build already refuses an upward include in a .c file (each layer compiles with an include
 * folder that holds only the layers below it: meson.build's layer_below). This test also covers
 * headers that only upper layers happen to include, which the compiler never sees from below.
 * The table here and meson.build's must agree: the test checks that too. */
#include <dirent.h>
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

struct layer {
        const char *name;
        const char *below; /* space-separated: the layers it may include, itself included */
};

static const struct layer layers[] = {
        { "common", "common" },
        { "net", "common net" },
        { "model", "common net model" },
        { "store", "common net model store" },
        { "scheduler", "common scheduler" },
        { "master", "common net model store scheduler master" },
        { "agent", "common net model store agent" },
        { "cli", "common net model cli" },
        { "lb", "common net model lb" },
};
#define N_LAYERS (sizeof layers / sizeof *layers)

static char src_dir[PATH_MAX];

static void find_sources(void) {
        test_find_src("", src_dir);
}

static bool word_in(const char *word, const char *list) {
        size_t n = strlen(word);
        for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
                        return true;
        return false;
}

/* Reports (print_error) and counts every include in path of a layer not in below. */
static int check_file(const char *path, const char *layer, const char *below) {
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        char line[1024];
        int bad = 0, lineno = 0;
        while (fgets(line, sizeof line, f)) {
                lineno++;
                char target[64];
                if (sscanf(line, " # include \"%63[a-z_]/", target) != 1 &&
                    sscanf(line, " #include \"%63[a-z_]/", target) != 1)
                        continue;
                if (!word_in(target, below)) {
                        print_error("%s:%d: %s includes %s/ (allowed: %s)\n", path, lineno, layer, target, below);
                        bad++;
                }
        }
        fclose(f);
        return bad;
}

static int check_dir(const char *dir, const char *layer, const char *below, int *files) {
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        int bad = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                char path[PATH_MAX + 256];
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                size_t n = strlen(e->d_name);
                if (e->d_type == DT_DIR) {
                        bad += check_dir(path, layer, below, files); /* subfolders belong to the layer */
                } else if (n > 2 && e->d_name[n - 2] == '.' && (e->d_name[n - 1] == 'c' || e->d_name[n - 1] == 'h')) {
                        bad += check_file(path, layer, below);
                        (*files)++;
                }
        }
        closedir(d);
        return bad;
}

static void no_file_includes_a_layer_above_its_own(void **state) {
        find_sources();
        int bad = 0, files = 0;
        for (size_t i = 0; i < N_LAYERS; i++) {
                char dir[PATH_MAX + 64];
                snprintf(dir, sizeof dir, "%s/%s", src_dir, layers[i].name);
                bad += check_dir(dir, layers[i].name, layers[i].below, &files);
        }
        assert_true(files > 100); /* the sources were found */
        assert_int_equal(bad, 0);
}

static void every_source_folder_is_a_known_layer(void **state) {
        find_sources();
        DIR *d = opendir(src_dir);
        assert_non_null(d);
        struct dirent *e;
        int unknown = 0;
        while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.' || e->d_type != DT_DIR)
                        continue;
                bool known = false;
                for (size_t i = 0; i < N_LAYERS; i++)
                        known |= strcmp(e->d_name, layers[i].name) == 0;
                if (!known) {
                        print_error("src/%s is not in the layer table (test_common_layers.c, meson.build)\n", e->d_name);
                        unknown++;
                }
        }
        closedir(d);
        assert_int_equal(unknown, 0);
}

/* meson.build's layer_below must say the same: each "'layer': [...]" row lists the same set. */
static void the_build_enforces_the_same_table(void **state) {
        find_sources();
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/../meson.build", src_dir);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        char line[1024];
        size_t rows = 0;
        bool in_table = false;
        while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "layer_below = {", 15) == 0) {
                        in_table = true;
                        continue;
                }
                if (!in_table)
                        continue;
                if (line[0] == '}')
                        break;
                char name[64], list[512];
                if (sscanf(line, " '%63[a-z_]': [%511[^]]]", name, list) != 2)
                        continue;
                const struct layer *l = NULL;
                for (size_t i = 0; i < N_LAYERS; i++)
                        if (strcmp(layers[i].name, name) == 0)
                                l = &layers[i];
                assert_non_null(l);
                /* "'common', 'net'" → "common net" */
                char words[512] = "";
                for (char *tok = strtok(list, "', "); tok; tok = strtok(NULL, "', ")) {
                        if (*words)
                                strcat(words, " ");
                        strcat(words, tok);
                }
                assert_string_equal(words, l->below);
                rows++;
        }
        fclose(f);
        assert_int_equal(rows, N_LAYERS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(no_file_includes_a_layer_above_its_own),
                cmocka_unit_test(every_source_folder_is_a_known_layer),
                cmocka_unit_test(the_build_enforces_the_same_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
