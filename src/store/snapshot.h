/* snapshot.h — the Raft snapshot of the state machine: encoding and restore.
 *
 * | bytes | JSON {"format": 1, "state": state_to_json(...)}, UTF-8, no NUL, padded with spaces to 8n |
 *
 * The "instance_apps" member of "state" (cluster_json.c) is written and read streamed, never as a
 * jansson tree, so a snapshot of a million instances costs about its text in memory; the text
 * is the same JSON as state_to_json. Snapshots without the agent/instance members (older
 * masters) load with none. */
#pragma once

#include <stddef.h>

#include "common/err.h"
#include "store/state.h"

#define SNAPSHOT_FORMAT 1

/* Encodes the whole state into a new buffer allocated with raft_malloc (Raft frees it once the
 * snapshot is stored). Returns 0, or -ENOMEM. */
int snapshot_encode(const struct state *s, void **ret, size_t *ret_len);

/* Replaces the contents of s with the snapshot in buf. On failure s is unchanged. */
int snapshot_restore(struct state *s, const void *buf, size_t len, struct err *err);
