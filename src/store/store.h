/* store.h — replicated state for the masters: libraft (raft_uv_io + raft_uv_tcp) driving the
 * state machine of state.h through one command dispatch table (store_fsm.c).
 *
 * Commands are JSON objects {"type": "...", "v": 1, "ignorable": false, ...payload}. Commands
 * submitted during one loop turn are batched into one Raft entry (at most 1024 commands and
 * 4 MiB per entry; more are split over several entries). A command's callback fires once the
 * entry has been committed and applied on this master (or failed).
 *
 * Raft entry / snapshot formats:
 * | what        | bytes                                                                        |
 * | entry       | JSON {"o": origin raft id, "n": origin nonce, "s": seq, "c": [command, …]}  |
 * |             | (a bare JSON array of commands is accepted too), UTF-8, no NUL              |
 * | snapshot    | JSON {"format":1, "state": state_to_json(...)}                              |
 * | DIR/id      | this master's raft id, decimal, newline                                     |
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/err.h"
#include "store/state.h"

struct store;

struct store_config {
        uv_loop_t *loop;
        const char *data_dir;       /* raft log and snapshots live here (created if missing) */
        const char *raft_addr;      /* "host:port" this master listens on for Raft */
        const char *http_addr;      /* "host:port" clients reach this master's API on */
        const char *const *masters; /* initial voters' raft addresses; NULL/empty = cluster of one */
        size_t n_masters;
        unsigned election_timeout_ms;  /* 0 = default (800: failover under 2 s, see store.c) */
        unsigned heartbeat_timeout_ms; /* 0 = default (100) */
        unsigned snapshot_threshold;   /* 0 = default (8192 entries) */
        unsigned snapshot_trailing;    /* 0 = default (1024 entries kept after a snapshot) */
        /* Called on the loop whenever this master's role, the known leader or the term changes. */
        void (*on_change)(struct store *store, void *data);
        void *data;
};

/* Outcome of one command: status 0 with result (a JSON value the command returns, may be NULL),
 * or status < 0 with err (e.g. -ERR_CONFLICT "An app with id [/x] already exists.",
 * -ERR_NO_LEADER when this master is not the leader or lost leadership before commit).
 * result and err are borrowed for the duration of the callback (json_incref to keep result). */
typedef void (*store_submit_cb)(void *data, int status, json_t *result, struct err *err);
typedef void (*store_read_cb)(void *data, int status, struct err *err);

/* The raft id every master derives for a raft address ("host:port" as given to --masters):
 * FNV-1a, 53 bits (exact in any JSON parser), never 0. */
uint64_t store_id_from_address(const char *raft_addr);

/* Creates the store and starts Raft. Data dir layout: DIR/raft (libraft files), DIR/id. The
 * raft id is derived once and persisted. A cluster of one bootstraps itself; with masters, every
 * listed master bootstraps the same initial configuration (ids derived from addresses); the
 * master's own raft_addr must be in the list. Host names are resolved to IPv4 once, here (the
 * Raft transport takes addresses only). With a single voter, the stored log is applied before
 * this returns. On failure *ret is untouched; whatever had started is closed on the loop.
 * The process must ignore SIGPIPE: libraft writes to peers' sockets without MSG_NOSIGNAL.
 * On becoming leader the store commits master_set for itself (raft id, raft address as Raft
 * knows it — the resolved form store_servers_foreach reports — and http_addr). */
int store_new(const struct store_config *cfg, struct store **ret, struct err *err);
/* Stops Raft and frees the store once closed; cb (may be NULL) fires after. Commands and reads
 * still waiting fail with -ERR_NO_LEADER ("shutting down") before that. */
void store_close(struct store *s, void (*cb)(void *data), void *data);

/* Submits a command (takes ownership of cmd). cb is always called exactly once, on the loop,
 * never from inside this call. A command without "ts" gets this master's clock (ISO ms Z).
 * A command over 4 MiB encoded fails with -ERR_TOO_LARGE. */
void store_submit(struct store *s, json_t *cmd, store_submit_cb cb, void *data);
/* Linearizable read: cb fires once this master has confirmed it is still the leader and has
 * applied everything committed before the call (a batched raft barrier; immediate when this
 * master is the only voter). Fails with -ERR_NO_LEADER on a follower. */
void store_read_barrier(struct store *s, store_read_cb cb, void *data);

/* The in-memory state (as applied on this master). */
struct state *store_state(struct store *s);

struct store_status {
        bool is_leader;
        uint64_t id;
        const char *state;       /* "leader", "follower", "candidate", "unavailable" */
        uint64_t leader_id;      /* 0 if unknown */
        const char *leader_raft; /* NULL if unknown; borrowed */
        const char *leader_http; /* NULL if unknown (from the masters registry); borrowed */
        uint64_t term, commit_index, last_applied, last_index;
};
void store_status(struct store *s, struct store_status *st);
/* Calls cb for every server of the current Raft configuration. */
void store_servers_foreach(struct store *s,
                           void (*cb)(uint64_t id, const char *raft_addr, bool voter, void *data),
                           void *data);
