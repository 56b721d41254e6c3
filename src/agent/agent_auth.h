/* agent_auth.h — who may call the agent's API (sandbox files, task exec, image GC, its state).
 *
 * The agent holds no key: it asks a master who the caller's token belongs to and what it may do
 * (GET /v1/auth/whoami with the caller's own Authorization header) and keeps the answer for up
 * to AGENT_AUTH_CACHE_S seconds (never past the token's expiry), so a revoked token stops
 * working here within that time. A master running with --auth off answers whoami without a
 * token; the agent then lets every caller in, following the masters' policy. */
#pragma once

#include <stdbool.h>

#include "common/perm.h"

#define AGENT_AUTH_CACHE_S 30
#define AGENT_AUTH_CACHE_MAX 1024

struct agent;
struct http_request;

/* Resources of the agent's routes (DC/OS's names). */
#define RID_AGENT_SANDBOX "dcos:mesos:agent:sandbox"
#define RID_AGENT_CONTAINER "dcos:mesos:agent:container" /* exec into a task */
#define RID_AGENT_IMAGES "dcos:mesos:agent:images"
#define RID_AGENT_STATE "dcos:mesos:agent:state"

typedef void (*agent_auth_ok_cb)(struct agent *a, struct http_request *req);

/* Runs ok(a, req) once the caller of req may do action on rid; otherwise answers 401/403 (or
 * 503 when no master can tell) itself. ok may run now or later on the loop. */
void agent_auth_check(struct agent *a, struct http_request *req, const char *rid, unsigned action,
                      agent_auth_ok_cb ok);
/* Frees the cache (agent_release). */
void agent_auth_release(struct agent *a);
