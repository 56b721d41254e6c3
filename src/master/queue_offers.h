/* queue_offers.h — Marathon's `lastUnusedOffers` for GET /v2/queue?embed=lastUnusedOffers: for
 * each waiting app, which agents cannot take its next instance right now, and why.
 *
 * Strata has no offers: the scheduler looks at the committed state directly. Each agent that is
 * not gone or unreachable stands for one "offer" of what it has free (total less what its live
 * instances hold), evaluated against the app at request time:
 *
 * | reason                  | when                                                           |
 * | AgentMaintenance        | the agent is draining                                          |
 * | UnfulfilledRole         | acceptedResourceRoles does not name "*" (agents offer "*" only)  |
 * | InsufficientCpus/Memory/Disk/Gpus | free cpus/mem/disk/gpus below the app's              |
 * | InsufficientPorts       | the app's host ports outnumber the agent's free port range     |
 * | UnfulfilledConstraint   | none of the above, and the last pass declined for constraints   |
 *
 * Agents with no reason are left out (the app may be waiting on its backoff). At most
 * QUEUE_OFFERS_MAX_AGENTS agents are listed per app, in registration order. */
#pragma once

#include <jansson.h>

struct state;

#define QUEUE_OFFERS_MAX_AGENTS 100

/* The lastUnusedOffers array for one queue entry (its "app" and "processedOffersSummary"), new
 * reference; ts is the ISO-8601 time written as each offer's timestamp. */
json_t *queue_offers_last_unused(const struct state *st, const json_t *entry, const char *ts);

/* Adds "lastUnusedOffers" to every entry of a {"queue": […]} body. */
void queue_offers_embed(const struct state *st, json_t *queue_body);
