/* cli_internal.h — what the CLI's files share: the invocation and the noun/verb tables.
 *
 * A noun is one file (cli_app.c, cli_cluster.c) exporting one `const struct cli_noun`; cli.c
 * lists the nouns. A verb row carries everything the dispatcher needs — flags, how many
 * positional arguments it takes, its one-line help — so no verb repeats argument checks. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "cli/cli_args.h"
#include "cli/cli_http.h"
#include "cli/cli_stream.h"
#include "common/err.h"

/* One invocation of the CLI. */
struct cli {
        struct cli_http http;
        enum cli_output output;
        FILE *out; /* standard output (a memory stream in tests) */
        FILE *in;  /* read for the file name "-" */
        bool tty;  /* out is a terminal: --wait redraws its progress block in place */
        /* The event stream and clock --wait uses; NULL: cli_stream_ops_curl (tests script them). */
        const struct cli_stream_ops *stream_ops;
        void *stream_data;
        int exit_status; /* set by a verb whose exit code is not just success (task exec) */
};

struct cli_verb {
        const char *name;
        const char *synopsis;         /* arguments, for usage lines: "ID FILE|-|KEY=VALUE..." */
        const char *summary;          /* one line for `strata NOUN --help` */
        const char *description;      /* more paragraphs for `strata NOUN VERB --help`, or NULL */
        int min_args, max_args;       /* positional arguments; max -1: no limit */
        const struct cli_flag *flags; /* NULL-name terminated, or NULL */
        /* Runs the verb; returns >= 0 or a negative code with err set (-ERR_USAGE: exit 2). */
        int (*run)(struct cli *c, const struct cli_args *a, struct err *err);
        /* Command lines, one per line, for help and man pages, or NULL. Last, so that rows
         * written positionally stay valid. */
        const char *examples;
};

struct cli_noun {
        const char *name;
        const char *summary;
        const struct cli_verb *verbs; /* terminated by a row with name NULL */
        const char *default_verb;     /* run when the noun comes alone (`strata queue`), or NULL */
};

extern const struct cli_noun cli_noun_app;
extern const struct cli_noun cli_noun_cluster;
extern const struct cli_noun cli_noun_deployment;
extern const struct cli_noun cli_noun_dns;
extern const struct cli_noun cli_noun_vip;
extern const struct cli_noun cli_noun_group;
extern const struct cli_noun cli_noun_node;
extern const struct cli_noun cli_noun_queue;
extern const struct cli_noun cli_noun_completion;
extern const struct cli_noun cli_noun_man;

/* Every noun, in help order (borrowed; n in *ret_n), and the global options' help text. */
const struct cli_noun *const *cli_nouns(size_t *ret_n);
const char *cli_global_options(void);
extern const struct cli_noun cli_noun_task;
extern const struct cli_noun cli_noun_auth;           /* cli_auth.c */
extern const struct cli_noun cli_noun_user;           /* cli_user.c */
extern const struct cli_noun cli_noun_serviceaccount; /* cli_user.c */
extern const struct cli_noun cli_noun_audit;          /* cli_audit.c */

struct cli_table;
/* GETs path and prints what the answer holds at key (the whole answer when key is NULL), which
 * must be a JSON value of type: as JSON under --output json, else as the table that table makes
 * of it. Returns 0, or a negative code with err set (cli_http_call's, or -EBADMSG "master sent
 * no WHAT for GET PATH" when the answer has another shape). */
int cli_get_and_print(struct cli *c, const char *path, const char *key, json_type type, const char *what,
                      struct cli_table *(*table)(const json_t *), struct err *err);

/* `deployment list`: one row per GET /v2/deployments entry (caller frees). */
struct cli_table *cli_deployment_list_table(const json_t *deployments);
/* `group list`: the group and its subgroups, depth first, one row each (caller frees). */
struct cli_table *cli_group_list_table(const json_t *root);
/* `node list` and `task list` tables (caller frees). */
struct cli_table *cli_node_list_table(const json_t *nodes);
struct cli_table *cli_task_list_table(const json_t *tasks);

struct cli_table;
/* The `app list` table: one row per app of the array apps, sorted by id, with a STATUS column
 * (cli_app_status) from queue, a GET /v2/queue body (may be NULL). wide (-o wide): nothing cut,
 * and LABELS and CONSTRAINTS columns. Caller frees. */
struct cli_table *cli_app_list_table(const json_t *apps, const json_t *queue, bool wide);

/* What `app show` and `app why` read to explain an app (cli_queue.c). */
struct cli_why {
        struct http_reply app, queue, deployments;
};
/* GETs app_path (/v2/apps/ID: tasks, counts, lastTaskFailure, deployments), the queue with
 * lastUnusedOffers and the deployments. Returns 0 or a negative code with err set; release *w
 * in both cases. */
int cli_why_fetch(struct cli *c, const char *app_path, struct cli_why *w, struct err *err);
void cli_why_release(struct cli_why *w);
/* Prints cli_why_print's explanation to c->out. */
void cli_why_show(struct cli *c, const struct cli_why *w);
/* {"id", "status", "queue"?, "lastTaskFailure"?, "tasks", "deployments"} for -o json. */
json_t *cli_why_json(const struct cli_why *w);
/* `app list`: GETs path, then the queue, and prints the table with STATUS (or the apps as JSON). */
int cli_app_list_with_status(struct cli *c, const char *path, struct err *err);
/* The `app show` key/value listing; optional rows without a value are left out. Caller frees. */
struct cli_table *cli_app_show_table(const json_t *app);
/* The `cluster status` header line and masters table for a GET /v1/cluster body. */
char *cli_cluster_header(const json_t *cluster);
/* seen: one string per master (its own state, or "unreachable: …"), or NULL for no STATE column. */
struct cli_table *cli_cluster_table(const json_t *cluster, const json_t *seen);

/* Runs one command line (argv[0] is the program) with c->out/c->in set and c->http unset; the
 * master comes from --master, then env_master (STRATA_MASTER), then http://localhost:8080.
 * Returns the exit code; on failure err holds the one line to print after "strata: ". */
int cli_run(struct cli *c, int argc, char **argv, const char *env_master, struct err *err);

/* The exit code for a failure code: 2 for -ERR_USAGE, 3 for -ERR_DEPLOYMENT_FAILED, 4 for
 * -ERR_WAIT_TIMEOUT, 1 for everything else. */
int cli_exit_code(int code);

/* -o json or -o yaml: the verb prints the master's data instead of a table. */
static inline bool cli_structured(const struct cli *c) {
        return c->output == CLI_OUTPUT_JSON || c->output == CLI_OUTPUT_YAML;
}
/* Prints j as the output format says: indented JSON, or YAML. */
void cli_print_data(struct cli *c, const json_t *j);

/* The string member key of obj, or NULL (borrowed). */
static inline const char *str_field(const json_t *obj, const char *key) {
        return json_string_value(json_object_get(obj, key));
}
