/* store_internal.h — struct store, shared by the Raft wiring (store.c) and the write/read paths
 * (store_batch.c). Nothing outside src/store/ includes it. */
#pragma once

#include <raft.h>
#include <raft/uv.h>

#include "store/snapshot.h"
#include "store/store.h"

/* Bounds on one Raft entry; a loop turn with more commands is split into several entries. */
#define STORE_MAX_ENTRY_BYTES (4u << 20)
#define STORE_MAX_ENTRY_CMDS 1024
/* Room left in an entry for its envelope ({"o":…,"n":…,"s":…,"c":[…]}). */
#define STORE_ENTRY_OVERHEAD 128
#define STORE_MAX_CMD_BYTES (STORE_MAX_ENTRY_BYTES - STORE_ENTRY_OVERHEAD)

/* A submitted command: encoded at submit time, its outcome recorded when its entry is applied. */
struct store_cmd {
        struct store_cmd *next;
        char *json;
        size_t len;
        store_submit_cb cb; /* NULL for the store's own commands (master_set) */
        void *data;
        int status;
        json_t *result;
        struct err err;
};

struct cmd_list {
        struct store_cmd *head, *tail;
        size_t n;
};

/* A linearizable read waiting for its barrier. */
struct store_read {
        struct store_read *next;
        store_read_cb cb;
        void *data;
        int status;
        struct err err;
};

struct read_list {
        struct store_read *head, *tail;
};

/* One Raft entry this master submitted and still waits for. */
struct store_batch {
        struct raft_apply req;
        struct store *store;
        uint64_t seq;
        struct cmd_list cmds;
        bool applied; /* outcomes recorded by the FSM */
        struct store_batch *prev, *next;
};

struct store {
        uv_loop_t *loop;
        struct raft raft;
        struct raft_io io;
        struct raft_uv_transport transport;
        struct raft_fsm fsm;
        uv_check_t check; /* runs after every loop iteration: flushes queues, notices role changes */
        uv_idle_t idle;   /* active while work waits, so the loop does not block before the check */
        struct state *state;
        struct snapshot_job snapshot_job; /* the snapshot being encoded by a child, if any */

        uint64_t id;
        char nonce[17]; /* random per process: tells this run's entries from an earlier run's */
        uint64_t next_seq;
        char *raft_addr; /* as Raft knows it (host resolved to IPv4) */
        char *http_addr;
        void (*on_change)(struct store *store, void *data);
        void *data;

        struct cmd_list queued;                          /* submitted during this loop turn */
        struct read_list reads;                          /* waiting for the next barrier */
        struct store_batch *pending_head, *pending_tail; /* in Raft, oldest first */
        struct cmd_list done;                            /* outcomes to deliver on the next check */
        struct read_list reads_done;

        int seen_state;
        uint64_t seen_leader, seen_term;
        bool seen_leader_http;

        bool raft_initialized, closing;
        int open_handles;
        void (*close_cb)(void *data);
        void *close_data;
};

/* store_batch.c */
void store_wake(struct store *s);
void store_flush(struct store *s);
bool store_deliver(struct store *s);
void store_fail_queued(struct store *s, const char *why);
void store_enqueue_own(struct store *s, json_t *cmd);
int store_fsm_apply_entry(struct store *s, const struct raft_buffer *buf);
const char *store_leader_http(struct store *s);
