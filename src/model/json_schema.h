/* json_schema.h — a small interpreter of JSON type tables: each field has a kind, and a value of
 * the wrong JSON type gets Play-JSON's error key at its path ("/container/docker/image":
 * "error.expected.jsstring"), as Marathon's generated readers report it. Shared by the app and
 * pod passes. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct verrs;

enum json_kind {
        JK_ANY,
        JK_STRING,
        JK_NUMBER,
        JK_INT,  /* Play Int: an integral number that fits 32 bits */
        JK_LONG, /* Play Long */
        JK_BOOL,
        JK_ARRAY,  /* items: elem */
        JK_OBJECT, /* fields */
        JK_MAP,    /* string keys, values: elem */
        JK_ENUM,   /* strings in enums, exactly */
        JK_ENUM_NOCASE, /* strings in enums, any case (RAML-generated readers lower-case both) */
        JK_CUSTOM,
};

struct json_field;

struct json_schema {
        enum json_kind kind;
        const struct json_schema *elem;
        const struct json_field *fields; /* NULL-name terminated */
        const char *const *enums;        /* NULL terminated */
        void (*custom)(const json_t *j, const char *path, struct verrs *v);
        /* JK_CUSTOM: the schema json_schema_prune follows inside it (NULL: keep all of it) */
        const struct json_schema *prune_as;
};

struct json_field {
        const char *name;
        const struct json_schema *schema;
        bool required;
};

/* Checks j against s, adding "error.expected.*" (and "error.path.missing") messages under path
 * to v. Absent or null optional fields are fine. */
void json_schema_check(const struct json_schema *s, const json_t *j, const char *path, struct verrs *v);

/* Removes the members of objects that s does not name, recursively, in place: Marathon's
 * generated readers ignore unknown fields, so they never reach what it stores or writes.
 * Values of JK_MAP and JK_ANY are kept whole. */
void json_schema_prune(const struct json_schema *s, json_t *j);
