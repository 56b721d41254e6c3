/* test_cli_dispatch.c — the noun/verb table: help at every level, usage errors exit 2. */
#include "test_cli_fake.h"

static void top_help_lists_nouns_verbs_and_daemons(void **state) {
        struct run r = run_cli_none("--help");
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, "Usage: strata [OPTIONS] NOUN VERB [ARGS...]"));
        assert_non_null(strstr(r.out, "app add FILE|-"));
        assert_non_null(strstr(r.out, "app update ID FILE|-|KEY=VALUE..."));
        assert_non_null(strstr(r.out, "cluster status"));
        assert_non_null(strstr(r.out, "  master  "));
        assert_non_null(strstr(r.out, "--master URL"));
        assert_non_null(
                strstr(r.out, "Exit status: 0 success, 1 error from the master or the network, 2 usage"));
        run_release(&r);

        r = run_cli_none("help");
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, "cluster status"));
        run_release(&r);
}

static void noun_help_lists_its_verbs(void **state) {
        const char *const forms[][3] = { { "app", "--help", NULL },
                                         { "-h", "app", NULL },
                                         { "help", "app", NULL } };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                struct run r = run_cli_in(NULL, 0, NULL, (char **)forms[i]);
                assert_int_equal(r.code, 0);
                assert_non_null(strstr(r.out, "Usage: strata app VERB [ARGS...]"));
                static const char *const verbs[] = { "\n  add FILE|-", "\n  list ",     "\n  show ID",
                                                     "\n  update ID",  "\n  remove ID", "\n  versions ID" };
                for (size_t v = 0; v < ELEMENTSOF(verbs); v++)
                        assert_non_null(strstr(r.out, verbs[v]));
                assert_null(strstr(r.out, "cluster"));
                run_release(&r);
        }
}

static void verb_help_shows_usage_options_and_description(void **state) {
        struct run r = run_cli_none("app", "list", "--help");
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, "Usage: strata app list [OPTIONS]\n"));
        assert_non_null(strstr(r.out, "-l, --label SELECTOR"));
        assert_non_null(strstr(r.out, "    --id TEXT"));
        run_release(&r);

        /* help wins over missing arguments and makes no request */
        r = run_cli_none("app", "update", "-h");
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, "env.NAME=VALUE"));
        run_release(&r);
}

static void version_prints_and_exits_0(void **state) {
        struct run r = run_cli_none("--version");
        assert_int_equal(r.code, 0);
        assert_string_equal(r.out, "strata " CLI_VERSION "\n");
        run_release(&r);
}

static void usage_mistakes_exit_2_with_one_line(void **state) {
        static const struct {
                const char *args[6];
                const char *error;
        } cases[] = {
                { { NULL }, "missing command (see 'strata --help')" },
                { { "frob" }, "unknown command 'frob' (see 'strata --help')" },
                { { "app" },
                  "'app' needs a verb: add, list, show, why, update, remove, restart, scale, rollback, versions, deploy, promote, abort (see 'strata app --help')" },
                { { "app", "frob" }, "unknown command 'app frob' (see 'strata app --help')" },
                { { "app", "show" }, "missing argument for 'app show' (usage: strata app show ID)" },
                { { "app", "show", "a", "b" },
                  "unexpected argument 'b' for 'app show' (usage: strata app show ID)" },
                { { "app", "list", "--bogus" }, "app list: unknown option '--bogus'" },
                { { "app", "list", "-o" }, "option '-o' needs a value" },
                { { "cluster", "status", "-o", "xml" }, "unknown output format 'xml' (use table, wide, json or yaml)" },
                { { "cluster", "status", "--master", "ftp://m" },
                  "invalid master URL 'ftp://m': only http:// and https:// are supported" },
                { { "app", "show", "/" }, "the id must not be empty" },
                { { "app", "update", "web", "cmd.x..y=1" }, "invalid key 'cmd.x..y'" },
                { { "-o", "json", "master" },
                  "'master' is a daemon: run 'strata master [DAEMON OPTIONS]' ('strata master --help')" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct run r = run_cli_in(NULL, 0, NULL, (char **)cases[i].args);
                assert_int_equal(r.code, 2);
                assert_string_equal(r.error, cases[i].error);
                assert_string_equal(r.out, "");
                run_release(&r);
        }
}

/* Help shows examples for every verb of the CLI's own nouns (nouns added by other layers are
 * checked by their own tests). */
static void every_verb_has_examples(void **state) {
        static const char *const mine[] = { "app", "group", "deployment", "task", "node", "cluster", "queue",
                                            "completion", "man" };
        size_t n;
        const struct cli_noun *const *nouns = cli_nouns(&n);
        size_t seen = 0;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < ELEMENTSOF(mine); k++)
                        if (streq(nouns[i]->name, mine[k])) {
                                seen++;
                                for (const struct cli_verb *v = nouns[i]->verbs; v->name; v++) {
                                        if (!v->examples)
                                                fail_msg("'%s %s' has no examples", nouns[i]->name, v->name);
                                        assert_non_null(strstr(v->examples, "strata "));
                                }
                        }
        assert_int_equal(seen, ELEMENTSOF(mine));
}

static void exit_codes(void **state) {
        assert_int_equal(cli_exit_code(-ERR_USAGE), 2);
        assert_int_equal(cli_exit_code(-ERR_NOT_FOUND), 1);
        assert_int_equal(cli_exit_code(-EHOSTUNREACH), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(top_help_lists_nouns_verbs_and_daemons),
                cmocka_unit_test(noun_help_lists_its_verbs),
                cmocka_unit_test(verb_help_shows_usage_options_and_description),
                cmocka_unit_test(version_prints_and_exits_0),
                cmocka_unit_test(usage_mistakes_exit_2_with_one_line),
                cmocka_unit_test(exit_codes),
                cmocka_unit_test(every_verb_has_examples),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
