/* cli_args.h — the CLI's argument grammar: global options, verb flags, KEY=VALUE assignments,
 * ids and JSON input files. Everything here is pure (no network) and unit-tested.
 *
 * Assignment grammar (`strata app update ID KEY=VALUE…`):
 *
 *   | argument               | effect on the update body                                        |
 *   | instances=3            | "instances": 3          (VALUE is JSON when it parses as JSON)     |
 *   | cmd=sleep 100          | "cmd": "sleep 100"      (else the string itself)                   |
 *   | cmd='"42"'             | "cmd": "42"             (a JSON string forces a string)            |
 *   | env.JAVA_OPTS=-Xmx1g   | "env": current env + {"JAVA_OPTS": "-Xmx1g"}  (always a string)   |
 *   | labels.a.b/c=x         | "labels": current labels + {"a.b/c": "x"}  (key = all after "labels.") |
 *   | container.docker.image=nginx:2 | "container": current container with docker.image replaced |
 *
 * Marathon's partial update replaces whole top-level fields, so a dotted key starts from the
 * field's current value and changes only the named member. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/err.h"

/* A usage mistake (exit status 2); every other failure exits 1. Beyond errno and err.h's codes. */
#define ERR_USAGE 10100

/* Largest JSON file or standard input the CLI reads. */
#define CLI_MAX_INPUT (16u << 20)

enum cli_output { CLI_OUTPUT_TABLE, CLI_OUTPUT_JSON, CLI_OUTPUT_YAML, CLI_OUTPUT_WIDE };

/* The options that may stand anywhere on the command line. */
struct cli_globals {
        const char *master; /* --master URL; NULL when not given (borrowed from argv) */
        enum cli_output output;
        bool help, version;
};

/* Takes the global options (--master URL, -o/--output json|table, -h/--help, --version, each
 * also as --opt=value or -ojson) out of argv[1..argc) wherever they stand, up to a "--". The
 * other arguments keep their order ("--" included) in *ret_rest, a new NULL-terminated array of
 * pointers borrowed from argv; the caller frees the array. Returns 0 or -ERR_USAGE. */
int cli_parse_globals(int argc, char **argv, struct cli_globals *g, char ***ret_rest, int *ret_n,
                      struct err *err);

/* One option of a verb, in the verb's table row. */
struct cli_flag {
        const char *name;  /* long name without "--"; NULL ends a table */
        char short_name;   /* "-f", or 0 */
        const char *value; /* metavariable ("SELECTOR") if the flag takes a value; NULL for a switch */
        const char *help;
};

#define CLI_MAX_FLAGS 8

/* A verb's arguments after parsing. */
struct cli_args {
        const struct cli_flag *flags;      /* the table parsed against (borrowed) */
        const char *values[CLI_MAX_FLAGS]; /* per flag: its value, "" for a switch that is set, NULL */
        char **pos;                        /* positionals (borrowed strings; array owned) */
        int n_pos;
};

/* Parses argv[0..argc) against flags (NULL-name terminated, at most CLI_MAX_FLAGS): "--name",
 * "--name=value", "--name value", "-x", "-x value"; flags and positionals may mix; after "--"
 * everything is positional; "-" alone is positional (standard input). Returns 0, or -ERR_USAGE
 * naming the unknown option or the missing value; *a is then empty. */
int cli_args_parse(struct cli_args *a, const struct cli_flag *flags, int argc, char **argv, struct err *err);
void cli_args_release(struct cli_args *a);
/* The flag's value ("" for a set switch), or NULL when not given. */
const char *cli_args_get(const struct cli_args *a, const char *name);

/* True if arg is KEY=VALUE with KEY made of letters, digits and "_-." (and, after "env." or
 * "labels.", anything but '='). "./x=y.json" is therefore a file name, not an assignment. */
bool cli_is_assignment(const char *arg);
/* True if some assignment has a dotted KEY, so the current definition must be fetched first. */
bool cli_assignments_need_current(char *const *args, int n);
/* Applies the assignments args[0..n) to update (an object) as in the table above; current is
 * the object being updated (may be NULL: dotted keys then start from empty objects). Returns 0
 * or -ERR_USAGE (not an assignment, empty key segment, a dotted key into a non-object). */
int cli_assignments_apply(json_t *update, const json_t *current, char *const *args, int n, struct err *err);
/* VALUE as JSON if it parses as JSON (numbers, true, null, arrays, objects, "strings"), else as
 * the string itself. NULL only when VALUE is not valid UTF-8. */
json_t *cli_parse_value(const char *value);

/* Makes an absolute Marathon id: "web" -> "/web", "/a/b/" -> "/a/b". Returns 0 or -ERR_USAGE. */
int cli_id_absolute(const char *id, char **ret, struct err *err);

/* Reads one JSON document from path, or from in when path is "-". On a parse error, err names
 * the file and line ("'app.json' line 3: …"). Returns 0 or a negative code. */
int cli_read_json(const char *path, FILE *in, json_t **ret, struct err *err);

/* The candidate nearest to word when it looks like a typo of it (edit distance 1 for words
 * under 5 characters, 2 from 5, a swap of neighbours being 1; a 3+ character prefix either way
 * counts as 1; case-insensitive), else NULL.
 * Borrowed from candidates. */
const char *cli_suggest(const char *word, const char *const *candidates, size_t n);
/* -ERR_USAGE unless every assignment's top-level key is a Marathon app field: "unknown app field
 * 'instnaces'; did you mean 'instances'?" (or the known fields listed when nothing is close). */
int cli_assignments_check_keys(char *const *args, int n, struct err *err);
/* --strict: -ERR_USAGE naming the first top-level member of def that is not an app field. */
int cli_app_check_strict(const json_t *def, struct err *err);
