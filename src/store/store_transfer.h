/* store_transfer.h — hands Raft leadership to another master (DELETE /v2/leader, Marathon's
 * abdication). */
#pragma once

#include "common/err.h"

struct store;

typedef void (*store_transfer_cb)(void *data, int status, struct err *err);

/* Asks Raft to make the most up-to-date other voter leader (raft_transfer: this master stops
 * accepting writes, catches the target up and tells it to start an election at once). cb runs
 * once, on the loop, unless the store closes first: status 0 once another master leads, or < 0
 * with err (not the leader, no other voter, the transfer timed out). Returns 0 when the transfer
 * started; -ERR_NO_LEADER / -ENOENT with err set and cb never called otherwise. */
int store_transfer_leadership(struct store *s, store_transfer_cb cb, void *data, struct err *err);
