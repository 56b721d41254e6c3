/* pod.h — Marathon's pod definition (POST/PUT /v2/pods): validation with Marathon's messages and
 * paths, and the canonical form with RAML's defaults filled in.
 *
 * A pod is several containers placed together as one instance (one agent, one network
 * namespace, shared volumes). Pods are kept as canonical jansson documents, like apps. */
#pragma once

#include <jansson.h>

#include "common/err.h"

/* Validates a pod definition as sent to POST /v2/pods and returns its canonical form in *ret
 * (new reference): absolute id, null fields dropped, enum values in their canonical spelling
 * (Marathon's generated readers match enums in any case), and the defaults of pod.raml,
 * podContainer.raml, resources.raml and healthCheck.raml filled in (scaling fixed/1, backoff
 * 1/1.15/300, upgrade 1/1, killSelection YOUNGEST_FIRST, resources disk 0 and
 * gpus 0, health check periods 300/60/3/20/15); unknown fields are dropped, as Marathon's reader
 * ignores them; absent networks stay absent (the host network). version is dropped (the master
 * sets it).
 * On failure *ret is untouched and err holds, like Marathon's PodsResource:
 *   -ERR_BAD_JSON  wrong JSON types and RAML facets: "Invalid JSON", details [{path, errors}]
 *   -ERR_INVALID   PodsValidation's rules: "Object is not valid", details [{path, errors}]
 * Paths are Marathon's: "/containers(0)/healthCheck/timeoutSeconds". */
int pod_normalize(const json_t *in, json_t **ret, struct err *err);
