/* group.h — Marathon groups as pure functions on group trees: applying a GroupUpdate body,
 * scaleBy, the diff of two trees into app changes, and their dependency order (api.md §3).
 *
 * Nothing here touches the state: the store builds the current tree (store/groups.h), the API
 * turns the ordered changes into app commands that share one deploymentId.
 *
 * Group tree (JSON; what the store builds and what the functions here return):
 * | id            | absolute path of the group ("/" for the root)                          |
 * | apps          | [canonical app] — the group's direct apps (ids directly under id)     |
 * | groups        | [group tree] — direct subgroups                                         |
 * | dependencies  | [absolute path] — apply to every app under the group                   |
 * | enforceRole   | bool, top-level groups only; absent when never set                     |
 * | version       | ts; output only (the store sets it, the functions here ignore it)      |
 *
 * Change (one element of what group_diff returns):
 * | app    | app id                                                                            |
 * | action | "StopApplication" | "ScaleApplication" | "RestartApplication" (deployment.h)      |
 * | old    | the current canonical app, absent for a new one                                   |
 * | new    | the target canonical app (service ports of old reused), absent for a removed one  |
 * | layer  | dependency layer of new (set by group_order)                                      |
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "model/deployment.h"

/* Deepest nesting of groups one body may describe (422 beyond). */
#define GROUP_MAX_DEPTH 32
/* Most apps one group body may hold, all levels together (422 beyond). */
#define GROUP_MAX_APPS 1000
/* Most groups one group body may hold, all levels together (422 beyond). */
#define GROUP_MAX_GROUPS 1000
/* Most dependencies one group may list. */
#define GROUP_MAX_DEPENDENCIES 256

/* An empty group tree {"id": path, "apps": [], "groups": [], "dependencies": []} (new reference). */
json_t *group_tree_new(const char *path);

/* Applies a GroupUpdate body (untrusted) to the group at path, whose current tree is current
 * (NULL: the group does not exist yet). Marathon's rules: "apps" present replaces the direct
 * apps (each a full definition, id relative to the group, defaults applied); "groups" present
 * replaces the subgroups, each listed one updated recursively from its current tree; absent
 * keys keep what the group has; "dependencies" are stored absolute (relative ones resolve
 * against the group itself); "enforceRole" only on top-level groups. "id", "version" and
 * "scaleBy" of the top level are the caller's business and are ignored here.
 * Returns 0 and the target tree in *ret, or -ERR_INVALID / -ERR_BAD_JSON with Marathon's
 * message and details (paths like "/groups(0)/apps(1)/id"). */
int group_update_apply(const json_t *current, const char *path, const json_t *update, json_t **ret,
                       struct err *err);

/* {"scaleBy": f}: every app of the tree, transitively, gets instances = ceil(instances × f).
 * f must be finite and >= 0. Returns 0 and the new tree in *ret, or -ERR_INVALID. */
int group_scale(const json_t *current, double f, json_t **ret, struct err *err);

/* The app changes that turn tree current (NULL: empty) into target (NULL: everything removed):
 * removed apps first (in current's order), then new and changed apps (in target's order);
 * unchanged apps are left out. Target apps take over the service ports their current version
 * holds (app_reuse_service_ports) before they are compared, as the state machine does.
 * Returns a new array of changes (see the table above). */
json_t *group_diff(const json_t *current, const json_t *target);

/* Sets every change's "layer" from the dependencies in the target tree (the subtree at
 * target's id) and, outside it, in outside (may be NULL: nothing outside), and sorts the changes:
 * stops first, then by layer, otherwise keeping their order. Every app of target is checked
 * for cycles, changed or not. Returns 0, or -ERR_INVALID
 * "Dependency graph has cyclic dependencies." */
int group_order(json_t *changes, const json_t *target, const struct deploy_graph_ops *outside, struct err *err);

/* The plan steps of ordered changes, as a deployment would show them (dryRun). New reference. */
json_t *group_steps(const json_t *changes);

/* Every group of the tree as a record {path: {"dependencies": […], "enforceRole"?: b}} — what
 * the store keeps for groups beyond their apps. New reference. */
json_t *group_records(const json_t *tree);

/* Calls cb for every app of the tree, transitively (depth first, apps before subgroups). */
void group_apps_foreach(const json_t *tree, void (*cb)(const json_t *app, void *data), void *data);

/* True if path is under group ("/a/b" under "/a"; everything under "/"); not path == group. */
bool group_path_under(const char *path, const char *group);
