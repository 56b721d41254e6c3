/* perm.h — permission strings and actions (DC/OS's shapes), and whether a grant covers a need.
 *
 * A permission (resource id, "rid") is colon-separated segments, optionally ending in a path:
 *   strata:<service>:<resource>[:<path>]           e.g. strata:cluster:masters
 *   dcos:service:marathon:marathon:services:/prod  (apps and groups under /prod)
 *   dcos:superuser                                 (everything)
 * Segments are [A-Za-z0-9_.-]+ (at least two, the first "strata" or "dcos"); the path, when
 * present, starts with '/' and is the rest of the string (Marathon ids hold no ':').
 * Actions: create, read, update, delete, and full (all four).
 *
 * A grant (rid G, actions A) covers a need (rid N at path P, action a) when a is in A and either
 * G is dcos:superuser / strata:superuser, or G's segments equal N's and G has no path, G's path
 * is "/", or P is G's path or below it (/prod covers /prod and /prod/web, not /production). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define PERM_MAX_LEN 512

enum perm_action {
        PERM_CREATE = 1 << 0,
        PERM_READ = 1 << 1,
        PERM_UPDATE = 1 << 2,
        PERM_DELETE = 1 << 3,
        PERM_FULL = PERM_CREATE | PERM_READ | PERM_UPDATE | PERM_DELETE,
};

struct perm {
        char *resource; /* the segments, "dcos:service:marathon:marathon:services" (owned) */
        char *path;     /* "/prod", or NULL (owned) */
};

/* Parses s; on failure -EINVAL with *err saying why, *ret untouched. */
int perm_parse(const char *s, struct perm *ret, struct err *err);
void perm_release(struct perm *p);

/* "create" … "full" → its bits; a comma-separated list is accepted ("read,update"). 0 when
 * anything in s is not an action. */
unsigned perm_actions_parse(const char *s);
/* The first action's name for one bit ("read"), "full" for PERM_FULL. */
const char *perm_action_name(unsigned action);

/* Whether the grant (as parsed) with the given action bits covers the need. need_path may be
 * NULL (a resource without paths). */
bool perm_covers(const struct perm *grant, unsigned grant_actions, const char *need_resource,
                 const char *need_path, unsigned need_action);

/* Whether the grant names need_resource at any path (or is a superuser grant) with the action:
 * for lists whose items are then filtered one by one. */
bool perm_covers_some(const struct perm *grant, unsigned grant_actions, const char *need_resource,
                      unsigned need_action);
