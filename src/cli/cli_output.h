/* cli_output.h — what the CLI prints: aligned tables for people, indented JSON for programs. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "common/macro.h"

/* Rows of text cells printed as aligned columns:
 *
 *   ID      INSTANCES  CPUS  MEM
 *   /web    0/2        0.1   128
 *
 * Columns are separated by two spaces and padded to the widest cell (in characters, not bytes);
 * a row ends at its last non-empty cell, so no line ends in spaces. */
struct cli_table;

/* A table of n_cols columns; headers (n_cols strings, copied) may be NULL for a table without a
 * header line (key/value listings). */
struct cli_table *cli_table_new(size_t n_cols, const char *const *headers);
void cli_table_free(struct cli_table *t);
DEFINE_POINTER_CLEANUP(struct cli_table, cli_table_free)
/* Appends a row of n_cols cells (copied); a NULL cell prints as "-". */
void cli_table_add(struct cli_table *t, const char *const *cells);
size_t cli_table_rows(const struct cli_table *t);
void cli_table_print(const struct cli_table *t, FILE *f);

/* Width of s on a terminal, counting UTF-8 characters. */
size_t cli_display_width(const char *s);
/* s on one line (control characters and runs of white space become one space), cut to at most
 * max characters with a trailing "…". Never NULL; the caller frees it. */
char *cli_truncate(const char *s, size_t max);
/* A JSON value as a table cell: strings as they are, integers, reals with %g, true/false,
 * NULL or null as "-", arrays and objects as compact JSON. Never NULL; the caller frees it. */
char *cli_json_cell(const json_t *v);
/* Prints j indented by two spaces, keys in their order, and a newline. */
void cli_print_json(FILE *f, const json_t *j);
/* Prints j as a YAML document (block style, two-space indents; strings plain when YAML reads them
 * back unchanged, else JSON-quoted, which YAML reads as double-quoted). */
void cli_print_yaml(FILE *f, const json_t *j);
