/* audit.h — every write and every denied request, as JSON lines (issue 13).
 *
 * File: <data-dir>/audit.log (mode 0600, append-only, one object per line):
 *   {"ts": ISO ms, "uid": caller or null, "from": peer IP, "method", "path", "query"?,
 *    "status": HTTP status, "result": "allowed" | "denied" | "failed"}
 * Written by the master whose handler ran the call (a follower that forwards a write leaves it to
 * the leader), never with a request body (no password or secret reaches it). Lines are small
 * appends to the page cache: done on the loop. GET /v1/audit?limit=N returns the newest N of this
 * master's file (read from its last MiB). */
#pragma once

struct master;
struct api_call;

/* Opens the file (a failure is logged once; the master runs without an audit trail then). */
void audit_open(struct master *m);
void audit_close(struct master *m);
/* Records call with the status it is answered with. */
void audit_record(struct api_call *call, int status);
/* GET /v1/audit */
void api_audit(struct api_call *call);
