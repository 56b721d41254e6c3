/* agent_proto.h — the agent's side of the master → agent wire format (docs/AGENT_PROTOCOL.md):
 * decodes one event record of the subscription stream without building a JSON tree, and encodes
 * JSON strings for the status update bodies agents build by hand.
 *
 * Events come from the network: every field is bounded and checked; a malformed record is an
 * error, never a crash. The decoder keeps what an agent acts on (type, term, agent id, heartbeat
 * interval, kill grace, task ids); a LAUNCH's "apps" and "ports" are skipped (a caller that needs
 * the app definitions decodes the record with jansson).
 *
 * | event      | fields decoded                                            |
 * | ---------- | --------------------------------------------------------- |
 * | SUBSCRIBED | term, agentId, heartbeatIntervalSeconds                   |
 * | LAUNCH     | term, tasks[].taskId (in order)                           |
 * | KILL       | term, taskIds[], gracePeriodSeconds                       |
 * | HEARTBEAT  | term                                                      |
 * | other      | term (type AGENT_EVENT_OTHER: ignored, for newer masters) | */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/strbuf.h"

#define AGENT_EVENT_MAX_ID 256        /* task and agent ids, bytes */
#define AGENT_EVENT_MAX_TASKS 1000000 /* task ids in one event */

enum agent_event_type { AGENT_EVENT_OTHER, AGENT_EVENT_SUBSCRIBED, AGENT_EVENT_LAUNCH, AGENT_EVENT_KILL,
                        AGENT_EVENT_HEARTBEAT };

struct agent_event {
        enum agent_event_type type;
        uint64_t term;
        char agent_id[AGENT_EVENT_MAX_ID + 1]; /* SUBSCRIBED; "" otherwise */
        int64_t heartbeat_s;                   /* SUBSCRIBED; 0 when absent */
        int64_t grace_s;                       /* KILL; -1 when absent */
        size_t n_ids;                          /* task ids of LAUNCH or KILL */
        struct strbuf ids;                     /* the ids, each NUL-terminated, back to back */
};

/* An event whose buffers are reused from one decode to the next. */
void agent_event_init(struct agent_event *ev);
void agent_event_release(struct agent_event *ev);
/* Decodes one record. Returns 0, or -EBADMSG with err saying what is wrong (no type, no integer
 * term, a field of the wrong type or over its bound, malformed JSON). */
int agent_event_decode(struct agent_event *ev, const char *data, size_t len, struct err *err);
/* Iterates the task ids: start with *pos = 0; returns NULL at the end. */
const char *agent_event_next_id(const struct agent_event *ev, size_t *pos);

/* Appends s as a JSON string literal (quotes included, escaped). */
void agent_proto_json_string(struct strbuf *sb, const char *s);
