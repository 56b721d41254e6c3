/* app.h — the Marathon app definition: validation, normalisation to the canonical 1.5+ form,
 * partial updates, and helpers on ids.
 *
 * Apps are kept as canonical jansson documents (what GET /v2/apps/{id} emits, minus the status
 * fields the master adds). "Canonical" means: absolute id, every default filled in, legacy
 * fields (ports, uris, ipAddress, container.docker.network/portMappings, partial
 * upgradeStrategy) translated, output-only fields (version, versionInfo) left as given. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

/* Largest number of stored versions per app (Marathon's zk_max_versions default is 50). */
#define APP_MAX_VERSIONS 50

/* Removes null members of objects in doc, recursively (at most 16 levels deep), in place: Play
 * reads an optional field that is null as absent, so clients that send every attribute of their
 * app object ({"version": null, "cmd": null, …}) mean "not given". API handlers call it on app
 * and group bodies before anything reads them. */
void app_json_drop_nulls(json_t *doc);

/* Validates an app definition as sent to POST /v2/apps (or as a full PUT with
 * partialUpdate=false) and returns its canonical form in *ret (new reference).
 * parent is the group that relative ids resolve against ("/" for the root).
 * On failure *ret is untouched and err holds, like Marathon:
 *   -ERR_BAD_JSON  wrong JSON types: msg "Invalid JSON", details [{path, errors:["error.expected.jsstring"]}]
 *   -ERR_INVALID   semantic errors: msg "Object is not valid", details [{path:"/healthChecks(0)/portIndex", errors:[…]}]
 * version/versionInfo in the input are dropped (the master sets them). */
int app_normalize(const json_t *in, const char *parent, json_t **ret, struct err *err);

/* Applies a partial update (PUT with partialUpdate=true, PATCH) to a stored canonical app:
 * every top-level key in update replaces the stored one wholesale, "id" and "version" in the
 * update are ignored, then the result is validated and normalised like app_normalize. Service
 * ports the current app held are handed back to zero ports first (app_reuse_service_ports), and
 * an app with persistent volumes may not change its volumes, resources or host ports (Marathon's
 * resident update rules; -ERR_INVALID). */
int app_apply_update(const json_t *current, const json_t *update, json_t **ret, struct err *err);

/* True if b differs from a only in "instances" (and output-only fields): a scale, not a restart. */
bool app_is_scale_only(const json_t *a, const json_t *b);

/* Checks an app id (absolute or relative) against Marathon's path rules and resolves it against
 * parent into an absolute, normalised path ("/a/b"). Returns 0 and a new string in *ret, or
 * -ERR_INVALID with the Marathon message in err. */
int app_id_resolve(const char *id, const char *parent, char **ret, struct err *err);

/* Service ports (Marathon's cluster-unique ports from [min,max]): calls cb for each non-zero service
 * port the app holds, in order: portDefinitions[].port in host networking (with requirePorts too:
 * that port is then also the host port), container.portMappings[].servicePort otherwise. */
void app_service_ports_foreach(const json_t *app, void (*cb)(int port, void *data), void *data);
/* Replaces every service port that is 0 with a free one from [min,max], lowest first; taken(port,
 * data) says whether a port is already used (a port it calls free is then used). Returns 0, or
 * -ENOSPC if the range is exhausted, and then app is unchanged. */
int app_assign_service_ports(json_t *app, int min, int max, bool (*taken)(int port, void *data),
                             void *data, struct err *err);
/* Marathon's first step of assignment: zero service ports of app take, in order, the service ports
 * old held that app does not name (so re-posting a definition with port 0 keeps its ports).
 * app_apply_update already does this against the current app; callers replacing an app wholesale
 * (PUT with partialUpdate=false) should call it with the stored app before assigning. */
void app_reuse_service_ports(json_t *app, const json_t *old);
