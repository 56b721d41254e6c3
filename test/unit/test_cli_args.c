/* test_cli_args.c — global options anywhere, verb flags, KEY=VALUE into JSON, ids, JSON files. */
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

#include "cli/cli_args.h"
#include "common/alloc.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))

/* --- global options ----------------------------------------------------------------------- */

static void global_options_may_stand_before_or_after_the_noun(void **state) {
        struct cli_globals g;
        struct err e = { 0 };
        char **rest;
        int n;
        char **argv =
                ARGV("strata", "--master", "http://m:1", "app", "list", "-o", "json", "--label", "a==b");
        assert_int_equal(cli_parse_globals(9, argv, &g, &rest, &n, &e), 0);
        assert_string_equal(g.master, "http://m:1");
        assert_int_equal(g.output, CLI_OUTPUT_JSON);
        assert_false(g.help);
        assert_int_equal(n, 4);
        assert_string_equal(rest[0], "app");
        assert_string_equal(rest[1], "list");
        assert_string_equal(rest[2], "--label");
        assert_string_equal(rest[3], "a==b");
        assert_null(rest[4]);
        free(rest);
}

static void global_options_take_attached_values(void **state) {
        struct cli_globals g;
        struct err e = { 0 };
        char **rest;
        int n;
        char **argv = ARGV("strata", "app", "--master=m:2", "-ojson", "show", "--output=table", "web", "-h");
        assert_int_equal(cli_parse_globals(8, argv, &g, &rest, &n, &e), 0);
        assert_string_equal(g.master, "m:2");
        assert_int_equal(g.output, CLI_OUTPUT_TABLE); /* the last one wins */
        assert_true(g.help);
        assert_int_equal(n, 3);
        assert_string_equal(rest[2], "web");
        free(rest);
}

static void double_dash_stops_global_options(void **state) {
        struct cli_globals g;
        struct err e = { 0 };
        char **rest;
        int n;
        char **argv = ARGV("strata", "app", "update", "web", "--", "-o", "--version");
        assert_int_equal(cli_parse_globals(7, argv, &g, &rest, &n, &e), 0);
        assert_false(g.version);
        assert_int_equal(g.output, CLI_OUTPUT_TABLE);
        assert_int_equal(n, 6);
        assert_string_equal(rest[3], "--");
        assert_string_equal(rest[4], "-o");
        free(rest);
}

static void bad_global_options_are_usage_errors(void **state) {
        struct cli_globals g = { .master = "untouched" };
        struct err e = { 0 };
        char **rest = NULL;
        int n = -1;
        assert_int_equal(cli_parse_globals(3, ARGV("strata", "app", "--master"), &g, &rest, &n, &e),
                         -ERR_USAGE);
        assert_string_equal(err_msg(&e), "option '--master' needs a value");
        assert_int_equal(cli_parse_globals(3, ARGV("strata", "-o", "xml"), &g, &rest, &n, &e), -ERR_USAGE);
        assert_string_equal(err_msg(&e), "unknown output format 'xml' (use table, wide, json or yaml)");
        assert_int_equal(cli_parse_globals(2, ARGV("strata", "--master="), &g, &rest, &n, &e), -ERR_USAGE);
        assert_string_equal(g.master, "untouched");
        assert_null(rest);
        assert_int_equal(n, -1);
        err_release(&e);
}

static void version_and_bare_command(void **state) {
        struct cli_globals g;
        struct err e = { 0 };
        char **rest;
        int n;
        assert_int_equal(cli_parse_globals(2, ARGV("strata", "--version"), &g, &rest, &n, &e), 0);
        assert_true(g.version);
        assert_int_equal(n, 0);
        assert_null(rest[0]);
        free(rest);
        assert_int_equal(cli_parse_globals(1, ARGV("strata"), &g, &rest, &n, &e), 0);
        assert_int_equal(n, 0);
        assert_null(g.master);
        free(rest);
}

/* --- verb flags --------------------------------------------------------------------------- */

static const struct cli_flag flags[] = {
        { "label", 'l', "SELECTOR", "" },
        { "id", 0, "TEXT", "" },
        { "force", 'f', NULL, "" },
        { NULL },
};

static void verb_flags_in_every_form(void **state) {
        struct cli_args a;
        struct err e = { 0 };
        char **argv = ARGV("web", "--label", "a==b", "--id=x", "-f", "-", "k=v");
        assert_int_equal(cli_args_parse(&a, flags, 7, argv, &e), 0);
        assert_string_equal(cli_args_get(&a, "label"), "a==b");
        assert_string_equal(cli_args_get(&a, "id"), "x");
        assert_string_equal(cli_args_get(&a, "force"), "");
        assert_null(cli_args_get(&a, "nope"));
        assert_int_equal(a.n_pos, 3);
        assert_string_equal(a.pos[0], "web");
        assert_string_equal(a.pos[1], "-");
        assert_string_equal(a.pos[2], "k=v");
        cli_args_release(&a);

        assert_int_equal(cli_args_parse(&a, flags, 2, ARGV("-lteam", "--"), &e), 0);
        assert_string_equal(cli_args_get(&a, "label"), "team");
        assert_null(cli_args_get(&a, "force"));
        assert_int_equal(a.n_pos, 0);
        cli_args_release(&a);
}

static void after_double_dash_everything_is_positional(void **state) {
        struct cli_args a;
        struct err e = { 0 };
        assert_int_equal(cli_args_parse(&a, flags, 3, ARGV("--", "--force", "-x"), &e), 0);
        assert_null(cli_args_get(&a, "force"));
        assert_int_equal(a.n_pos, 2);
        assert_string_equal(a.pos[0], "--force");
        cli_args_release(&a);
}

static void verb_flag_mistakes_are_usage_errors(void **state) {
        struct cli_args a = { 0 };
        struct err e = { 0 };
        assert_int_equal(cli_args_parse(&a, flags, 1, ARGV("--bogus"), &e), -ERR_USAGE);
        assert_string_equal(err_msg(&e), "unknown option '--bogus'");
        assert_int_equal(cli_args_parse(&a, flags, 1, ARGV("--label"), &e), -ERR_USAGE);
        assert_string_equal(err_msg(&e), "option '--label' needs a value (SELECTOR)");
        assert_int_equal(cli_args_parse(&a, flags, 1, ARGV("--force=yes"), &e), -ERR_USAGE);
        assert_string_equal(err_msg(&e), "option '--force' takes no value");
        assert_int_equal(cli_args_parse(&a, NULL, 1, ARGV("-q"), &e), -ERR_USAGE);
        assert_string_equal(err_msg(&e), "unknown option '-q'");
        /* a prefix is not a match */
        assert_int_equal(cli_args_parse(&a, flags, 2, ARGV("--lab", "x"), &e), -ERR_USAGE);
        assert_null(a.pos);
        err_release(&e);
}

/* --- assignments -------------------------------------------------------------------------- */

static void assignment_or_file_name(void **state) {
        assert_true(cli_is_assignment("instances=3"));
        assert_true(cli_is_assignment("cmd="));
        assert_true(cli_is_assignment("container.docker.image=nginx"));
        assert_true(cli_is_assignment("labels.app.kubernetes.io/name=web"));
        assert_true(cli_is_assignment("env.A B=c"));
        assert_false(cli_is_assignment("app.json"));
        assert_false(cli_is_assignment("-"));
        assert_false(cli_is_assignment("./x=y.json"));
        assert_false(cli_is_assignment("/tmp/a=b"));
        assert_false(cli_is_assignment("=x"));
        assert_false(cli_is_assignment(".hidden=x"));
        assert_true(cli_is_assignment("labels.=x")); /* and then an invalid key */
}

static json_t *apply(const json_t *current, char **args, int n, struct err *e, int *ret) {
        json_t *u = json_object();
        *ret = cli_assignments_apply(u, current, args, n, e);
        return u;
}

static void values_are_json_when_they_parse(void **state) {
        struct err e = { 0 };
        int r;
        char **args = ARGV("instances=3", "cpus=0.5", "cmd=sleep 100", "args=[\"-x\",\"y\"]",
                           "requirePorts=true", "user=null", "id=\"42\"", "healthChecks=[]",
                           "backoffFactor=", "container={\"type\":\"MESOS\"}");
        json_t *u = apply(NULL, args, 10, &e, &r);
        assert_int_equal(r, 0);
        char *s = json_dumps(u, JSON_COMPACT);
        assert_string_equal(s, "{\"instances\":3,\"cpus\":0.5,\"cmd\":\"sleep 100\",\"args\":[\"-x\",\"y\"],"
                               "\"requirePorts\":true,\"user\":null,\"id\":\"42\",\"healthChecks\":[],"
                               "\"backoffFactor\":\"\",\"container\":{\"type\":\"MESOS\"}}");
        free(s);
        json_decref(u);
}

static void env_and_labels_merge_into_the_current_ones(void **state) {
        struct err e = { 0 };
        int r;
        json_t *current = json_pack("{s:s,s:{s:s,s:s},s:{s:s},s:i}", "id", "/web", "env", "A", "1", "B", "2",
                                    "labels", "team", "x", "instances", 1);
        char **args = ARGV("env.B=20", "env.PORT=8080", "labels.app.kubernetes.io/name=web", "labels.v=a=b");
        json_t *u = apply(current, args, 4, &e, &r);
        assert_int_equal(r, 0);
        char *s = json_dumps(u, JSON_COMPACT);
        /* values stay strings (8080 is not turned into a number); untouched fields are not sent */
        assert_string_equal(s,
                            "{\"env\":{\"A\":\"1\",\"B\":\"20\",\"PORT\":\"8080\"},"
                            "\"labels\":{\"team\":\"x\",\"app.kubernetes.io/name\":\"web\",\"v\":\"a=b\"}}");
        free(s);
        /* the current definition is not modified */
        assert_string_equal(json_string_value(json_object_get(json_object_get(current, "env"), "B")), "2");
        json_decref(u);
        json_decref(current);
}

static void dotted_keys_change_one_member_and_keep_the_rest(void **state) {
        struct err e = { 0 };
        int r;
        json_t *current = json_loads("{\"container\":{\"type\":\"DOCKER\",\"docker\":{\"image\":\"nginx:1\","
                                     "\"forcePullImage\":false},\"volumes\":[]},\"upgradeStrategy\":null}",
                                     0, NULL);
        char **args = ARGV("container.docker.image=nginx:2", "container.docker.forcePullImage=true",
                           "upgradeStrategy.minimumHealthCapacity=0.5", "fetch.x.y=1");
        json_t *u = apply(current, args, 4, &e, &r);
        assert_int_equal(r, 0);
        char *s = json_dumps(u, JSON_COMPACT);
        assert_string_equal(
                s, "{\"container\":{\"type\":\"DOCKER\",\"docker\":{\"image\":\"nginx:2\","
                   "\"forcePullImage\":true},\"volumes\":[]},"
                   "\"upgradeStrategy\":{\"minimumHealthCapacity\":0.5},\"fetch\":{\"x\":{\"y\":1}}}");
        free(s);
        json_decref(u);
        json_decref(current);
}

static void whole_value_then_member(void **state) {
        struct err e = { 0 };
        int r;
        json_t *current = json_pack("{s:{s:s}}", "env", "OLD", "x");
        json_t *u = apply(current, ARGV("env={\"A\":\"1\"}", "env.B=2"), 2, &e, &r);
        assert_int_equal(r, 0);
        char *s = json_dumps(u, JSON_COMPACT);
        assert_string_equal(s, "{\"env\":{\"A\":\"1\",\"B\":\"2\"}}");
        free(s);
        json_decref(u);
        json_decref(current);
}

static void assignment_mistakes_are_usage_errors(void **state) {
        struct err e = { 0 };
        int r;
        json_t *current = json_pack("{s:s,s:{s:i}}", "cmd", "sleep", "container", "docker", 3);
        json_decref(apply(current, ARGV("cmd.x=1"), 1, &e, &r));
        assert_int_equal(r, -ERR_USAGE);
        assert_string_equal(err_msg(&e), "cannot set 'cmd.x': 'cmd' is not an object");
        json_decref(apply(current, ARGV("container.docker.image=x"), 1, &e, &r));
        assert_int_equal(r, -ERR_USAGE);
        assert_string_equal(err_msg(&e), "cannot set 'container.docker.image': 'docker' is not an object");
        json_decref(apply(current, ARGV("a..b=1"), 1, &e, &r));
        assert_int_equal(r, -ERR_USAGE);
        assert_string_equal(err_msg(&e), "invalid key 'a..b'");
        json_decref(apply(current, ARGV("a.=1"), 1, &e, &r));
        assert_int_equal(r, -ERR_USAGE);
        json_decref(apply(current, ARGV("labels.=1"), 1, &e, &r));
        assert_int_equal(r, -ERR_USAGE);
        assert_string_equal(err_msg(&e), "invalid key 'labels.'");
        json_decref(apply(current, ARGV("file.json"), 1, &e, &r));
        assert_int_equal(r, -ERR_USAGE);
        assert_string_equal(err_msg(&e), "'file.json' is not KEY=VALUE");
        json_decref(apply(current, ARGV("cmd=\xff\xfe"), 1, &e, &r));
        assert_int_equal(r, -ERR_USAGE);
        json_decref(current);
        err_release(&e);
}

static void only_dotted_keys_need_the_current_definition(void **state) {
        assert_false(cli_assignments_need_current(ARGV("instances=3", "cmd=a.b"), 2));
        assert_true(cli_assignments_need_current(ARGV("instances=3", "env.A=1"), 2));
        assert_false(cli_assignments_need_current(NULL, 0));
}

/* --- ids and files ------------------------------------------------------------------------ */

static void ids_become_absolute(void **state) {
        struct err e = { 0 };
        char *id;
        assert_int_equal(cli_id_absolute("web", &id, &e), 0);
        assert_string_equal(id, "/web");
        free(id);
        assert_int_equal(cli_id_absolute("/prod/web/", &id, &e), 0);
        assert_string_equal(id, "/prod/web");
        free(id);
        id = NULL;
        assert_int_equal(cli_id_absolute("/", &id, &e), -ERR_USAGE);
        assert_int_equal(cli_id_absolute("", &id, &e), -ERR_USAGE);
        assert_null(id);
        err_release(&e);
}

static void json_file_errors_name_the_file_and_line(void **state) {
        char path[] = "/tmp/test_cli_args_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        const char text[] = "{\"id\": \"web\",\n \"cpus\": -1,\n}";
        assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
        close(fd);
        struct err e = { 0 };
        json_t *doc = NULL;
        assert_int_equal(cli_read_json(path, NULL, &doc, &e), -ERR_BAD_JSON);
        char *want = xasprintf("'%s' line 3: string or '}' expected near '}'", path);
        assert_string_equal(err_msg(&e), want);
        free(want);
        assert_null(doc);
        unlink(path);
        assert_true(cli_read_json(path, NULL, &doc, &e) < 0);
        assert_non_null(strstr(err_msg(&e), "No such file or directory"));
        err_release(&e);
}

static void dash_reads_standard_input(void **state) {
        char text[] = "{\"id\": \"web\", \"instances\": 2}";
        FILE *in = fmemopen(text, strlen(text), "r");
        struct err e = { 0 };
        json_t *doc = NULL;
        assert_int_equal(cli_read_json("-", in, &doc, &e), 0);
        assert_int_equal(json_integer_value(json_object_get(doc, "instances")), 2);
        json_decref(doc);
        fclose(in);

        char bad[] = "{\n\n nope";
        in = fmemopen(bad, strlen(bad), "r");
        assert_int_equal(cli_read_json("-", in, &doc, &e), -ERR_BAD_JSON);
        assert_string_equal(err_msg(&e), "standard input line 3: string or '}' expected near 'nope'");
        fclose(in);
        err_release(&e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(global_options_may_stand_before_or_after_the_noun),
                cmocka_unit_test(global_options_take_attached_values),
                cmocka_unit_test(double_dash_stops_global_options),
                cmocka_unit_test(bad_global_options_are_usage_errors),
                cmocka_unit_test(version_and_bare_command),
                cmocka_unit_test(verb_flags_in_every_form),
                cmocka_unit_test(after_double_dash_everything_is_positional),
                cmocka_unit_test(verb_flag_mistakes_are_usage_errors),
                cmocka_unit_test(assignment_or_file_name),
                cmocka_unit_test(values_are_json_when_they_parse),
                cmocka_unit_test(env_and_labels_merge_into_the_current_ones),
                cmocka_unit_test(dotted_keys_change_one_member_and_keep_the_rest),
                cmocka_unit_test(whole_value_then_member),
                cmocka_unit_test(assignment_mistakes_are_usage_errors),
                cmocka_unit_test(only_dotted_keys_need_the_current_definition),
                cmocka_unit_test(ids_become_absolute),
                cmocka_unit_test(json_file_errors_name_the_file_and_line),
                cmocka_unit_test(dash_reads_standard_input),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
