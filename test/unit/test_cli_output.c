/* test_cli_output.c — aligned tables, truncation, JSON cells and JSON printing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_output.h"

/* Prints the table into a string. */
static char *print(const struct cli_table *t) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cli_table_print(t, f);
        fclose(f);
        return buf;
}

static void columns_are_padded_to_the_widest_cell(void **state) {
        struct cli_table *t = cli_table_new(3, (const char *[]){ "ID", "INSTANCES", "CMD" });
        cli_table_add(t, (const char *[]){ "/web", "0/2", "sleep 100" });
        cli_table_add(t, (const char *[]){ "/prod/database", "1/1", NULL });
        assert_int_equal(cli_table_rows(t), 2);
        char *s = print(t);
        assert_string_equal(s, "ID              INSTANCES  CMD\n"
                               "/web            0/2        sleep 100\n"
                               "/prod/database  1/1        -\n");
        free(s);
        cli_table_free(t);
}

static void width_counts_characters_not_bytes(void **state) {
        assert_int_equal(cli_display_width("héllo…"), 6);
        struct cli_table *t = cli_table_new(2, NULL);
        cli_table_add(t, (const char *[]){ "é", "x" });
        cli_table_add(t, (const char *[]){ "ab", "y" });
        char *s = print(t);
        assert_string_equal(s, "é   x\nab  y\n");
        free(s);
        cli_table_free(t);
}

static void no_line_ends_in_spaces(void **state) {
        struct cli_table *t = cli_table_new(3, NULL);
        cli_table_add(t, (const char *[]){ "", "app add", "Create" });
        cli_table_add(t, (const char *[]){ "", "", "" });
        cli_table_add(t, (const char *[]){ "", "master", "" });
        char *s = print(t);
        assert_string_equal(s, "  app add  Create\n\n  master\n");
        free(s);
        cli_table_free(t);
}

static void empty_table_prints_its_header(void **state) {
        struct cli_table *t = cli_table_new(2, (const char *[]){ "A", "B" });
        assert_int_equal(cli_table_rows(t), 0);
        char *s = print(t);
        assert_string_equal(s, "A  B\n");
        free(s);
        cli_table_free(t);
        cli_table_free(NULL);
}

static void truncate_keeps_one_line_and_marks_the_cut(void **state) {
        char *s = cli_truncate("  sleep\t100 &&\n echo  done  ", 40);
        assert_string_equal(s, "sleep 100 && echo done");
        free(s);
        s = cli_truncate("abcdefghij", 5);
        assert_string_equal(s, "abcd…");
        free(s);
        s = cli_truncate("abcde", 5);
        assert_string_equal(s, "abcde");
        free(s);
        s = cli_truncate("abc defgh", 5); /* no space before the ellipsis */
        assert_string_equal(s, "abc…");
        free(s);
        s = cli_truncate("ééééé€", 3);
        assert_string_equal(s, "éé…");
        assert_int_equal(cli_display_width(s), 3);
        free(s);
        s = cli_truncate(NULL, 3);
        assert_string_equal(s, "");
        free(s);
}

static void json_cells(void **state) {
        json_t *v = json_loads("[\"s\", 3, 0.1, 128.0, true, false, null, [1,2], {\"a\":1}]", 0, NULL);
        const char *want[] = { "s", "3", "0.1", "128", "true", "false", "-", "[1,2]", "{\"a\":1}" };
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
                char *cell = cli_json_cell(json_array_get(v, i));
                assert_string_equal(cell, want[i]);
                free(cell);
        }
        char *cell = cli_json_cell(NULL);
        assert_string_equal(cell, "-");
        free(cell);
        json_decref(v);
}

static void json_is_indented_in_order_with_short_reals(void **state) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        json_t *j = json_pack("{s:s,s:f,s:[i]}", "id", "/web", "cpus", 0.1, "ports", 80);
        cli_print_json(f, j);
        fclose(f);
        assert_string_equal(buf,
                            "{\n  \"id\": \"/web\",\n  \"cpus\": 0.1,\n  \"ports\": [\n    80\n  ]\n}\n");
        free(buf);
        json_decref(j);
}

static void yaml_is_block_style_and_quotes_what_yaml_would_misread(void **state) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        json_t *j = json_loads("{\"id\":\"/web\",\"cpus\":0.1,\"instances\":2,\"cmd\":\"sleep 100\",\"tty\":false,"
                               "\"user\":null,\"labels\":{\"a.b/c\":\"yes\",\"x\":\"1\"},\"env\":{},"
                               "\"ports\":[80,443],\"deps\":[],\"checks\":[{\"protocol\":\"HTTP\",\"path\":\"/h\"}],"
                               "\"version\":\"2024-05-01T10:00:00.000Z\",\"nested\":[[1,2]]}",
                               JSON_PRESERVE_ORDER, NULL);
        cli_print_yaml(f, j);
        fclose(f);
        assert_string_equal(buf, "id: /web\n"
                                 "cpus: 0.1\n"
                                 "instances: 2\n"
                                 "cmd: \"sleep 100\"\n"
                                 "tty: false\n"
                                 "user: null\n"
                                 "labels:\n"
                                 "  a.b/c: \"yes\"\n"
                                 "  x: \"1\"\n"
                                 "env: {}\n"
                                 "ports:\n"
                                 "- 80\n"
                                 "- 443\n"
                                 "deps: []\n"
                                 "checks:\n"
                                 "- protocol: HTTP\n"
                                 "  path: /h\n"
                                 "version: \"2024-05-01T10:00:00.000Z\"\n"
                                 "nested:\n"
                                 "- - 1\n"
                                 "  - 2\n");
        free(buf);
        json_decref(j);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(columns_are_padded_to_the_widest_cell),
                cmocka_unit_test(width_counts_characters_not_bytes),
                cmocka_unit_test(no_line_ends_in_spaces),
                cmocka_unit_test(empty_table_prints_its_header),
                cmocka_unit_test(truncate_keeps_one_line_and_marks_the_cut),
                cmocka_unit_test(json_cells),
                cmocka_unit_test(json_is_indented_in_order_with_short_reals),
                cmocka_unit_test(yaml_is_block_style_and_quotes_what_yaml_would_misread),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
