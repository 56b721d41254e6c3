/* app_internal.h — helpers shared by the app model's files (not part of the model's API).
 *
 * app_normalize runs in three passes, like Marathon's Play-JSON reads, normaliser and accord
 * validators:
 *   1. app_schema_check: JSON types only ("Invalid JSON", Play error keys);
 *   2. app_legacy_translate: ≤1.4 fields (ports, uris, ipAddress, docker.network,
 *      docker.portMappings) rewritten into the 1.5 form in a working copy;
 *   3. the builders (app.c, app_container.c, app_health.c, …): canonical output with every
 *      default, collecting semantic errors ("Object is not valid") on the way. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/macro.h"

/* Largest number of elements any array or object of an app may hold (labels, env, ports…). */
#define APP_MAX_ELEMENTS 1000

/* Ports: RAML AnyPort. */
#define APP_PORT_MAX 65535

/* ---- error lists: Marathon's "details" ----------------------------------------------------- */

/* A list of {"path": "/a(0)/b", "errors": ["…"]}; messages for the same path are grouped, in the
 * order they were found. Paths are built as strings: "" is the whole object (emitted as "/"). */
struct verrs {
        json_t *details; /* array, owned */
};

void verrs_init(struct verrs *v);
void verrs_release(struct verrs *v);
/* Adds one message under path ("" or NULL means the whole object "/"). */
void verr(struct verrs *v, const char *path, const char *fmt, ...) _printf_(3, 4);
bool verrs_any(const struct verrs *v);
/* Hands the list to err as its details with message msg and returns code. */
int verrs_fail(struct verrs *v, struct err *err, int code, const char *msg);

/* "/a" + "b" → "/a/b"; new string. */
char *path_key(const char *base, const char *key);
/* "/a" + 3 → "/a(3)"; new string. */
char *path_idx(const char *base, size_t i);

/* ---- pass 1: JSON types --------------------------------------------------------------------- */

/* Checks the JSON types of an app definition (absent and null optional fields are fine) and
 * adds Play-JSON errors to v: error.expected.js{string,number,boolean,array,object},
 * error.expected.int, error.expected.validenumvalue, error.path.missing. With id_required,
 * a missing "id" is error.path.missing. */
void app_schema_check(const json_t *app, bool id_required, struct verrs *v);

/* Adds "must not have more than 1000 elements" for every known array/object field that is
 * bigger than APP_MAX_ELEMENTS; true if any was. */
bool app_check_bounds(const json_t *app, struct verrs *v);

/* ---- pass 2: legacy fields ------------------------------------------------------------------ */

/* Rewrites the ≤1.4 fields of a working copy into the 1.5 form in place. Mixing that Marathon
 * refuses outright (its NormalizationException) sets *fatal (new string); mixing that its
 * validators report goes to v. */
void app_legacy_translate(json_t *app, struct verrs *v, char **fatal);

/* ---- pass 3: canonical builders ------------------------------------------------------------- */

/* What the builders know about the app while they build it. */
struct app_build {
        struct verrs errs;
        const json_t *in;   /* working copy after pass 2 */
        json_t *out;        /* canonical object being built */
        bool host_network;  /* networks is [{"mode":"host"}] (or absent) */
        bool bridge;        /* a container/bridge network */
        size_t n_container_networks;
        bool docker;        /* container.type DOCKER */
        bool resident;      /* persistent volumes */
        bool has_external;  /* external volumes */
};

/* Each adds its canonical field(s) to b->out and its errors to b->errs. */
void app_build_networks(struct app_build *b);
void app_build_container(struct app_build *b);
void app_build_port_definitions(struct app_build *b);
void app_build_health_checks(struct app_build *b);
void app_build_readiness_checks(struct app_build *b);
void app_build_check(struct app_build *b);
void app_build_constraints(struct app_build *b);

/* Validates one constraint ([field, OP] or [field, OP, value]) at path; returns the canonical
 * constraint (operator upper-cased) or NULL after adding errors. */
json_t *app_constraint_normalize(const json_t *c, const char *path, struct verrs *v);

/* True if s is a valid constraint pattern within the budget (app_regex_check). */
bool app_regex_valid(const char *s);
/* Compiles s as a constraint pattern (common/jregex.h: Java semantics, bounded cost); 0 or
 * -ERR_INVALID (syntax) or -E2BIG (over the budget) with *err saying why. */
int app_regex_check(const char *s, struct err *err);

/* ---- small JSON helpers --------------------------------------------------------------------- */

/* A number as jansson should store it canonically: integral values as integers (so that
 * json_equal() of 1 and 1.0 holds after normalisation), others as reals. */
json_t *json_number_canon(double d);
/* Numeric value of an integer or real (0 otherwise). */
double json_num(const json_t *j);
/* Integer value, or def if j is absent. */
long long json_int_or(const json_t *j, long long def);
/* Copies key from src to dst if present (new reference). */
void json_copy_key(json_t *dst, const json_t *src, const char *key);
/* Copies a string→string map; {} when absent. */
json_t *json_string_map_copy(const json_t *m);

/* ---- shared checks ---------------------------------------------------------------------------- */

/* Formats a double the way Scala prints it in messages: 1.0, 1.2, -3.0. */
void app_format_double(double d, char buf[static 32]);
/* True if uri parses as a URI (java.net.URI's syntax, roughly: no spaces, controls or
 * characters that must be escaped, and only well-formed %-escapes). */
bool app_uri_valid(const char *uri);
/* True if the path of uri ends in an archive extension the Mesos fetcher extracts. */
bool app_uri_is_archive(const char *uri);
/* Port names: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ */
bool app_port_name_valid(const char *s);
void app_check_port_name(const json_t *name, const char *path, struct verrs *v);
/* 0..65535 */
void app_check_port_range(const json_t *port, const char *path, struct verrs *v);
/* "Port names must be unique." over the "name" members of an array of objects. */
void app_check_unique_names(const json_t *arr, const char *path, struct verrs *v);
