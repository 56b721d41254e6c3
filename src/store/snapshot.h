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

/* A snapshot taken off the loop (copy-on-write through fork): the child process encodes the
 * state as it was at the fork, with snapshot_encode, and streams the text through a pipe while
 * the parent goes on applying entries and serving requests. Encoding 40,000 apps or a million
 * instances takes a second or more; on the loop that would cost the leader its heartbeats. */
struct snapshot_job {
        int pid; /* the encoding child, 0 when none */
        int fd;  /* read end of its pipe, -1 when none */
};

/* Forks the encoder. Costs the fork itself (copying page tables: about 1 ms per 100 MiB of
 * resident memory) on the calling thread. Returns 0 and fills *job, or -errno. */
int snapshot_fork(const struct state *s, struct snapshot_job *job);
/* Reads the child's whole output into a new raft_malloc'd buffer and reaps it; blocking, for a
 * worker thread. Returns 0, or -EIO when the child failed (then *ret is untouched); either way
 * the job is over (fd closed, child reaped). */
int snapshot_collect(struct snapshot_job *job, void **ret, size_t *ret_len);
/* Ends a job whose output nobody wants: kills and reaps the child without reading it (safe on
 * the loop thread). No-op without a job. */
void snapshot_abort(struct snapshot_job *job);

/* Replaces the contents of s with the snapshot in buf. On failure s is unchanged. */
int snapshot_restore(struct state *s, const void *buf, size_t len, struct err *err);
