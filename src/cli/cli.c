/* cli.c — `strata <noun> <verb>`: global options, the noun table, dispatch and help. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "cli/cli_wait.h"
#include "common/alloc.h"
#include "common/strbuf.h"

#define DEFAULT_MASTER "http://localhost:8080"

extern const struct cli_noun cli_noun_job; /* cli_job.c */
extern const struct cli_noun cli_noun_lb; /* cli_lb.c */

/* Every noun the CLI knows, in the order `strata --help` lists them. */
static const struct cli_noun *const nouns[] = {
        &cli_noun_app,
        &cli_noun_group,
        &cli_noun_deployment,
        &cli_noun_task,
        &cli_noun_job,
        &cli_noun_node,
        &cli_noun_cluster,
        &cli_noun_auth,
        &cli_noun_user,
        &cli_noun_serviceaccount,
        &cli_noun_audit,
        &cli_noun_dns,
        &cli_noun_vip,
        &cli_noun_lb,
        &cli_noun_queue,
        &cli_noun_completion,
        &cli_noun_man,
};

const struct cli_noun *const *cli_nouns(size_t *ret_n) {
        *ret_n = ELEMENTSOF(nouns);
        return nouns;
}

/* Other words people type for a verb (kubectl's, docker's, dcos's habits). A row applies to a
 * noun that has the verb and no verb of the alias's own name. */
static const struct {
        const char *alias, *verb;
} verb_aliases[] = {
        { "ls", "list" },     { "get", "show" },  { "describe", "show" }, { "inspect", "show" },
        { "rm", "remove" },   { "delete", "remove" }, { "del", "remove" }, { "logs", "log" },
        { "create", "add" },  { "edit", "update" }, { "debug", "why" },
};

/* The daemons main.c runs before the CLI sees argv; listed in help only. */
static const struct {
        const char *name, *summary;
} daemons[] = {
        { "master", "Run a master: REST API, replicated state, scheduler" },
        { "dev", "Run a master and an agent on this machine, data in ./.strata" },
        { "agent", "Run an agent: offer this machine's resources, run its tasks" },
        { "lb", "Run an edge balancer: HAProxy from the apps' HAPROXY_* labels" },
};

/* The noun called name, or its plural ("apps", "nodes"). */
static const struct cli_noun *find_noun(const char *name) {
        size_t n = strlen(name);
        for (size_t i = 0; i < ELEMENTSOF(nouns); i++)
                if (streq(nouns[i]->name, name) ||
                    (n > 1 && name[n - 1] == 's' && strlen(nouns[i]->name) == n - 1 &&
                     strncmp(nouns[i]->name, name, n - 1) == 0))
                        return nouns[i];
        return NULL;
}

static const struct cli_verb *find_verb(const struct cli_noun *noun, const char *name) {
        for (const struct cli_verb *v = noun->verbs; v->name; v++)
                if (streq(v->name, name))
                        return v;
        for (size_t i = 0; i < ELEMENTSOF(verb_aliases); i++)
                if (streq(verb_aliases[i].alias, name))
                        return find_verb(noun, verb_aliases[i].verb);
        return NULL;
}

/* " (did you mean 'strata app list'?)" for a mistyped noun (verb NULL) or verb, or "". */
static char *did_you_mean(const struct cli_noun *noun, const char *word) {
        const char *names[64] = { 0 };
        size_t n = 0;
        if (!noun) {
                for (size_t i = 0; i < ELEMENTSOF(nouns) && n < ELEMENTSOF(names); i++)
                        names[n++] = nouns[i]->name;
        } else {
                for (const struct cli_verb *v = noun->verbs; v->name && n < ELEMENTSOF(names); v++)
                        names[n++] = v->name;
        }
        const char *near = cli_suggest(word, names, n);
        if (!near)
                return xstrdup("");
        return noun ? xasprintf("; did you mean 'strata %s %s'?", noun->name, near)
                    : xasprintf("; did you mean 'strata %s'?", near);
}

static char *verb_names(const struct cli_noun *noun) {
        struct strbuf sb = { 0 };
        for (const struct cli_verb *v = noun->verbs; v->name; v++)
                strbuf_printf(&sb, "%s%s", v == noun->verbs ? "" : ", ", v->name);
        return strbuf_steal(&sb);
}

static char *verb_usage(const struct cli_noun *noun, const struct cli_verb *verb) {
        return xasprintf("strata %s %s%s%s%s", noun->name, verb->name, verb->flags ? " [OPTIONS]" : "",
                         verb->synopsis ? " " : "", verb->synopsis ? verb->synopsis : "");
}

static const char global_options[] =
        "Global options (before or after the command):\n"
        "  --master URL          master to talk to (default $STRATA_MASTER, else " DEFAULT_MASTER ")\n"
        "  -o, --output FORMAT   table (default), wide (tables with more columns, nothing cut), json or\n"
        "                        yaml (--wait progress stays JSON lines)\n"
        "  -h, --help            show help; after a noun or verb, help for it\n"
        "  --version             print the version\n";

const char *cli_global_options(void) {
        return global_options;
}

static void print_top_help(FILE *f) {
        fputs("Usage: strata [OPTIONS] NOUN VERB [ARGS...]\n"
              "       strata master|dev [DAEMON OPTIONS]\n"
              "\n"
              "Strata is a datacenter OS that speaks Marathon's REST API. The CLI talks HTTP to a master.\n"
              "\n"
              "Commands:\n",
              f);
        _cleanup_(cli_table_freep) struct cli_table *t = cli_table_new(3, NULL);
        for (size_t i = 0; i < ELEMENTSOF(nouns); i++)
                for (const struct cli_verb *v = nouns[i]->verbs; v->name; v++) {
                        _cleanup_free_ char *synopsis =
                                xasprintf("%s %s%s%s", nouns[i]->name, v->name, v->synopsis ? " " : "",
                                          v->synopsis ? v->synopsis : "");
                        cli_table_add(t, (const char *[]){ "", synopsis, v->summary });
                }
        cli_table_add(t, (const char *[]){ "", "", "" });
        for (size_t i = 0; i < ELEMENTSOF(daemons); i++)
                cli_table_add(t, (const char *[]){ "", daemons[i].name, daemons[i].summary });
        cli_table_print(t, f);
        fputs("\n", f);
        fputs(global_options, f);
        fputs("\n"
              "Run 'strata NOUN --help' or 'strata NOUN VERB --help' for details, 'strata master --help'\n"
              "for the daemon's options.\n"
              "Exit status: 0 success, 1 error from the master or the network, 2 usage error;\n"
              "with --wait: 3 the deployment failed, 4 --timeout passed first.\n",
              f);
}

static void print_noun_help(FILE *f, const struct cli_noun *noun) {
        fprintf(f, "Usage: strata %s VERB [ARGS...]\n\n%s.\n\nVerbs:\n", noun->name, noun->summary);
        _cleanup_(cli_table_freep) struct cli_table *t = cli_table_new(3, NULL);
        for (const struct cli_verb *v = noun->verbs; v->name; v++) {
                _cleanup_free_ char *synopsis =
                        xasprintf("%s%s%s", v->name, v->synopsis ? " " : "", v->synopsis ? v->synopsis : "");
                cli_table_add(t, (const char *[]){ "", synopsis, v->summary });
        }
        cli_table_print(t, f);
        fprintf(f,
                "\nRun 'strata %s VERB --help' for a verb's options; 'strata --help' for global options.\n",
                noun->name);
}

static void print_examples(FILE *f, const struct cli_verb *verb) {
        if (!verb->examples)
                return;
        fputs("\nExamples:\n", f);
        for (const char *p = verb->examples; *p;) {
                size_t n = strcspn(p, "\n");
                fprintf(f, "  %.*s\n", (int)n, p);
                p += n + (p[n] == '\n');
        }
}

static void print_verb_help(FILE *f, const struct cli_noun *noun, const struct cli_verb *verb) {
        _cleanup_free_ char *usage = verb_usage(noun, verb);
        fprintf(f, "Usage: %s\n\n%s.\n", usage, verb->summary);
        if (verb->description)
                fprintf(f, "\n%s", verb->description);
        if (verb->flags) {
                fputs("\nOptions:\n", f);
                _cleanup_(cli_table_freep) struct cli_table *t = cli_table_new(3, NULL);
                for (const struct cli_flag *fl = verb->flags; fl->name; fl++) {
                        const char *value_sep = fl->value ? " " : "", *value = fl->value ? fl->value : "";
                        /* long-only options line up with the long half of "-f, --force" */
                        _cleanup_free_ char *spec =
                                fl->short_name ? xasprintf("-%c, --%s%s%s", fl->short_name, fl->name,
                                                           value_sep, value)
                                               : xasprintf("    --%s%s%s", fl->name, value_sep, value);
                        cli_table_add(t, (const char *[]){ "", spec, fl->help });
                }
                cli_table_print(t, f);
        }
        print_examples(f, verb);
        fputs("\n", f);
        fputs(global_options, f);
}

int cli_exit_code(int code) {
        switch (code) {
        case -ERR_USAGE:
                return 2;
        case -ERR_DEPLOYMENT_FAILED:
                return 3;
        case -ERR_WAIT_TIMEOUT:
                return 4;
        default:
                return 1;
        }
}

/* Checks the positional count against the verb's row. */
static int check_args(const struct cli_noun *noun, const struct cli_verb *verb, const struct cli_args *a,
                      struct err *err) {
        _cleanup_free_ char *usage = verb_usage(noun, verb);
        if (a->n_pos < verb->min_args)
                return err_set(err, -ERR_USAGE, "missing argument for '%s %s' (usage: %s)", noun->name,
                               verb->name, usage);
        if (verb->max_args >= 0 && a->n_pos > verb->max_args)
                return err_set(err, -ERR_USAGE, "unexpected argument '%s' for '%s %s' (usage: %s)",
                               a->pos[verb->max_args], noun->name, verb->name, usage);
        return 0;
}

static int run_verb(struct cli *c, const struct cli_noun *noun, const struct cli_verb *verb, int argc,
                    char **argv, const char *master, struct err *err) {
        _cleanup_(cli_args_release) struct cli_args a = { 0 };
        int r;

        r = cli_args_parse(&a, verb->flags, argc, argv, err);
        if (r < 0)
                return err_wrap(err, "%s %s", noun->name, verb->name);
        r = check_args(noun, verb, &a, err);
        if (r < 0)
                return r;

        /* A test may have installed a fake transport; keep it across the set-up. */
        cli_http_send_cb send = c->http.send;
        void *data = c->http.data;
        r = cli_http_init(&c->http, master, err);
        if (r < 0)
                return err_set(err, -ERR_USAGE, "%s", err_msg(err));
        c->http.send = send;
        c->http.data = data;

        r = verb->run(c, &a, err);
        fflush(c->out);
        return r;
}

int cli_run(struct cli *c, int argc, char **argv, const char *env_master, struct err *err) {
        struct cli_globals g;
        _cleanup_free_ char **rest = NULL;
        int n, r;

        r = cli_parse_globals(argc, argv, &g, &rest, &n, err);
        if (r < 0)
                return cli_exit_code(r);
        c->output = g.output;
        if (g.version) {
                fprintf(c->out, "strata %s\n", CLI_VERSION);
                return 0;
        }

        char **args = rest;
        /* `strata help [NOUN [VERB]]` is `strata [NOUN [VERB]] --help`. */
        if (n > 0 && streq(args[0], "help")) {
                g.help = true;
                args++;
                n--;
        }
        if (n == 0) {
                if (g.help) {
                        print_top_help(c->out);
                        return 0;
                }
                err_set(err, -ERR_USAGE, "missing command (see 'strata --help')");
                return 2;
        }

        const struct cli_noun *noun = find_noun(args[0]);
        for (size_t i = 0; !noun && i < ELEMENTSOF(daemons); i++)
                if (streq(args[0], daemons[i].name)) {
                        /* main.c runs a daemon only when it is the first argument. */
                        err_set(err, -ERR_USAGE,
                                "'%s' is a daemon: run 'strata %s [DAEMON OPTIONS]' ('strata %s --help')",
                                args[0], args[0], args[0]);
                        return 2;
                }
        if (!noun) {
                _cleanup_free_ char *hint = did_you_mean(NULL, args[0]);
                err_set(err, -ERR_USAGE, "unknown command '%s'%s (see 'strata --help')", args[0], hint);
                return 2;
        }
        /* `strata queue` is `strata queue list`. */
        _cleanup_free_ char **with_default = NULL;
        if (n == 1 && !g.help && noun->default_verb) {
                with_default = xcalloc(3, sizeof(char *));
                with_default[0] = args[0];
                with_default[1] = (char *)noun->default_verb;
                args = with_default;
                n = 2;
        }
        if (n == 1) {
                if (g.help) {
                        print_noun_help(c->out, noun);
                        return 0;
                }
                _cleanup_free_ char *names = verb_names(noun);
                err_set(err, -ERR_USAGE, "'%s' needs a verb: %s (see 'strata %s --help')", noun->name, names,
                        noun->name);
                return 2;
        }

        const struct cli_verb *verb = find_verb(noun, args[1]);
        if (!verb) {
                _cleanup_free_ char *hint = did_you_mean(noun, args[1]);
                err_set(err, -ERR_USAGE, "unknown command '%s %s'%s (see 'strata %s --help')", noun->name,
                        args[1], hint, noun->name);
                return 2;
        }
        if (g.help) {
                print_verb_help(c->out, noun, verb);
                return 0;
        }

        const char *master = g.master ? g.master : env_master && *env_master ? env_master : DEFAULT_MASTER;
        r = run_verb(c, noun, verb, n - 2, args + 2, master, err);
        cli_http_release(&c->http);
        return r < 0 ? cli_exit_code(r) : c->exit_status;
}

int cli_main(int argc, char **argv) {
        struct cli c = { .out = stdout, .in = stdin, .tty = isatty(STDOUT_FILENO) == 1 };
        struct err err = { 0 };

        int code = cli_run(&c, argc, argv, getenv("STRATA_MASTER"), &err);
        if (fflush(stdout) != 0 && code == 0) {
                err_set(&err, -EIO, "cannot write to standard output: %m");
                code = 1;
        }
        if (code != 0)
                fprintf(stderr, "strata: %s\n", err_msg(&err));
        err_release(&err);
        return code;
}

int cli_get_and_print(struct cli *c, const char *path, const char *key, json_type type, const char *what,
                      struct cli_table *(*table)(const json_t *), struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "GET", path, NULL, &reply, err);
        if (r < 0)
                return r;
        const json_t *j = key ? json_object_get(reply.json, key) : reply.json;
        if (!j || json_typeof(j) != type)
                return err_set(err, -EBADMSG, "master sent no %s for GET %s", what, path);
        if (cli_structured(c)) {
                cli_print_data(c, j);
                return 0;
        }
        _cleanup_(cli_table_freep) struct cli_table *t = table(j);
        cli_table_print(t, c->out);
        return 0;
}

void cli_print_data(struct cli *c, const json_t *j) {
        if (c->output == CLI_OUTPUT_YAML)
                cli_print_yaml(c->out, j);
        else
                cli_print_json(c->out, j);
}
