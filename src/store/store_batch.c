/* store_batch.c — the write and read paths: commands of one loop turn become one Raft entry,
 * reads of one loop turn wait behind one barrier, and outcomes are delivered on the loop.
 *
 * Entry format (Raft RAFT_COMMAND payload):
 * | key | value                                                                        |
 * | o   | raft id of the master that submitted the entry                               |
 * | n   | that master's per-process nonce (16 hex digits)                              |
 * | s   | that master's sequence number for the entry                                  |
 * | c   | [command, …] applied in order, each independently (one failing spoils none)   |
 *
 * libraft 0.15 hands fsm->apply's result to the raft_apply callback only on the master that
 * submitted the entry, and drops it elsewhere. So results are built only for entries whose
 * (o, n, s) name a batch this process is still waiting for, and they are kept in that batch,
 * never passed through Raft. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "store/store_fsm.h"
#include "store/store_internal.h"

static void cmd_push(struct cmd_list *l, struct store_cmd *c) {
        c->next = NULL;
        if (l->tail)
                l->tail->next = c;
        else
                l->head = c;
        l->tail = c;
        l->n++;
}

static struct store_cmd *cmd_pop(struct cmd_list *l) {
        struct store_cmd *c = l->head;
        if (!c)
                return NULL;
        l->head = c->next;
        if (!l->head)
                l->tail = NULL;
        l->n--;
        c->next = NULL;
        return c;
}

static void cmd_splice(struct cmd_list *to, struct cmd_list *from) {
        if (!from->head)
                return;
        if (to->tail)
                to->tail->next = from->head;
        else
                to->head = from->head;
        to->tail = from->tail;
        to->n += from->n;
        *from = (struct cmd_list){0};
}

static void cmd_free(struct store_cmd *c) {
        free(c->json);
        json_decref(c->result);
        err_release(&c->err);
        free(c);
}

static void read_push(struct read_list *l, struct store_read *r) {
        r->next = NULL;
        if (l->tail)
                l->tail->next = r;
        else
                l->head = r;
        l->tail = r;
}

static void read_splice(struct read_list *to, struct read_list *from) {
        if (!from->head)
                return;
        if (to->tail)
                to->tail->next = from->head;
        else
                to->head = from->head;
        to->tail = from->tail;
        *from = (struct read_list){0};
}

/* The idle handle does nothing itself: while it is active the loop polls without blocking, so
 * the check handle runs at the end of this iteration even if no I/O arrives. */
static void idle_cb(uv_idle_t *h) {
        (void)h;
}

void store_wake(struct store *s) {
        if (!s->closing && !uv_is_active((uv_handle_t *)&s->idle))
                uv_idle_start(&s->idle, idle_cb);
}

const char *store_leader_http(struct store *s) {
        raft_id id = 0;
        const char *addr = NULL;
        if (s->closing)
                return NULL;
        raft_leader(&s->raft, &id, &addr);
        if (id == 0)
                return NULL;
        if (id == s->id)
                return s->http_addr;
        const struct state_master *m = state_master_by_id(s->state, id);
        return m ? m->http_addr : NULL;
}

/* The error a command or read gets when this master cannot commit it. */
static void set_no_leader(struct store *s, struct err *err, const char *why) {
        const char *leader = store_leader_http(s);
        if (leader)
                err_set(err, -ERR_NO_LEADER, "no leader: %s; leader is http://%s", why, leader);
        else
                err_set(err, -ERR_NO_LEADER, "no leader: %s", why);
}

static void fail_cmds(struct store *s, struct cmd_list *l, const char *why) {
        for (struct store_cmd *c = l->head; c; c = c->next) {
                json_decref(c->result);
                c->result = NULL;
                c->status = -ERR_NO_LEADER;
                set_no_leader(s, &c->err, why);
        }
        cmd_splice(&s->done, l);
}

static void fail_reads(struct store *s, struct read_list *l, const char *why) {
        for (struct store_read *r = l->head; r; r = r->next) {
                r->status = -ERR_NO_LEADER;
                set_no_leader(s, &r->err, why);
        }
        read_splice(&s->reads_done, l);
}

void store_fail_queued(struct store *s, const char *why) {
        fail_cmds(s, &s->queued, why);
        fail_reads(s, &s->reads, why);
}

static struct store_cmd *cmd_new(store_submit_cb cb, void *data) {
        struct store_cmd *c = xcalloc(1, sizeof *c);
        c->cb = cb;
        c->data = data;
        return c;
}

void store_submit(struct store *s, json_t *cmd, store_submit_cb cb, void *data) {
        struct store_cmd *c = cmd_new(cb, data);
        if (!json_is_object(cmd) || !json_is_string(json_object_get(cmd, "type"))) {
                c->status = err_set(&c->err, -EINVAL, "a command is a JSON object with a \"type\"");
                json_decref(cmd);
                cmd_push(&s->done, c);
                store_wake(s);
                return;
        }
        if (!json_object_get(cmd, "ts")) {
                /* The leader's clock; the state machine never reads one. */
                char ts[25];
                time_format_ms(time_now_ms(), ts);
                json_object_set_new(cmd, "ts", json_string(ts));
        }
        c->json = json_compact(cmd);
        c->len = strlen(c->json);
        json_decref(cmd);
        if (s->closing) {
                c->status = -ERR_NO_LEADER;
                set_no_leader(s, &c->err, "shutting down");
                cmd_push(&s->done, c);
        } else if (c->len > STORE_MAX_CMD_BYTES) {
                c->status =
                        err_set(&c->err, -ERR_TOO_LARGE, "command of %zu bytes exceeds the limit of %u bytes",
                                c->len, STORE_MAX_CMD_BYTES);
                cmd_push(&s->done, c);
        } else {
                cmd_push(&s->queued, c);
        }
        store_wake(s);
}

void store_enqueue_own(struct store *s, json_t *cmd) {
        store_submit(s, cmd, NULL, NULL);
}

void store_read_barrier(struct store *s, store_read_cb cb, void *data) {
        struct store_read *r = xcalloc(1, sizeof *r);
        r->cb = cb;
        r->data = data;
        if (s->closing) {
                r->status = -ERR_NO_LEADER;
                set_no_leader(s, &r->err, "shutting down");
                read_push(&s->reads_done, r);
        } else {
                read_push(&s->reads, r);
        }
        store_wake(s);
}

static void pending_unlink(struct store *s, struct store_batch *b) {
        if (b->prev)
                b->prev->next = b->next;
        else
                s->pending_head = b->next;
        if (b->next)
                b->next->prev = b->prev;
        else
                s->pending_tail = b->prev;
        b->prev = b->next = NULL;
}

static void apply_cb(struct raft_apply *req, int status, void *result) {
        struct store_batch *b = req->data;
        struct store *s = b->store;
        (void)result; /* outcomes are in the batch */
        pending_unlink(s, b);
        if (status != 0) {
                fail_cmds(s, &b->cmds, status == RAFT_SHUTDOWN ? "shutting down" : raft_strerror(status));
        } else {
                if (!b->applied)
                        /* Cannot happen (the FSM saw our entry); still answer every command. */
                        for (struct store_cmd *c = b->cmds.head; c; c = c->next)
                                c->status = 0;
                cmd_splice(&s->done, &b->cmds);
        }
        free(b);
        store_wake(s);
}

/* Encodes up to the entry limits from s->queued into one entry and hands it to Raft. */
static void submit_one_entry(struct store *s) {
        struct store_batch *b = xcalloc(1, sizeof *b);
        b->store = s;
        b->seq = s->next_seq++;
        b->req.data = b;
        size_t bytes = STORE_ENTRY_OVERHEAD;
        while (s->queued.head && b->cmds.n < STORE_MAX_ENTRY_CMDS &&
               (b->cmds.n == 0 || bytes + s->queued.head->len + 1 <= STORE_MAX_ENTRY_BYTES)) {
                struct store_cmd *c = cmd_pop(&s->queued);
                bytes += c->len + 1;
                cmd_push(&b->cmds, c);
        }

        char head[STORE_ENTRY_OVERHEAD];
        int hn = snprintf(head, sizeof head, "{\"o\":%" PRIu64 ",\"n\":\"%s\",\"s\":%" PRIu64 ",\"c\":[",
                          s->id, s->nonce, b->seq);
        size_t len = (size_t)hn + 2;
        for (struct store_cmd *c = b->cmds.head; c; c = c->next)
                len += c->len + 1;
        /* libraft's disk format needs entry lengths that are multiples of 8 (it asserts that only
         * in debug builds, and writes a segment it later finds corrupt otherwise): pad with
         * JSON whitespace. */
        struct raft_buffer buf = {.len = (len + 7) & ~(size_t)7};
        buf.base = raft_malloc(buf.len);
        if (!buf.base)
                abort();
        char *p = buf.base;
        memcpy(p, head, (size_t)hn);
        p += hn;
        for (struct store_cmd *c = b->cmds.head; c; c = c->next) {
                if (c != b->cmds.head)
                        *p++ = ',';
                memcpy(p, c->json, c->len);
                p += c->len;
                /* The entry holds it now; the command waits for its outcome only. */
                free(c->json);
                c->json = NULL;
        }
        *p++ = ']';
        *p++ = '}';
        memset(p, ' ', (size_t)((char *)buf.base + buf.len - p));

        int rv = raft_apply(&s->raft, &b->req, &buf, 1, apply_cb);
        if (rv != 0) {
                /* Raft owns the buffer once the entry reached its log; it did not if we are no
                 * longer the leader. (Out of memory inside Raft leaks it: never free twice.) */
                if (rv == RAFT_NOTLEADER)
                        raft_free(buf.base);
                fail_cmds(s, &b->cmds, raft_strerror(rv));
                free(b);
                return;
        }
        b->prev = s->pending_tail;
        if (s->pending_tail)
                s->pending_tail->next = b;
        else
                s->pending_head = b;
        s->pending_tail = b;
}

static bool single_voter(struct store *s) {
        unsigned voters = 0;
        bool self = false;
        for (unsigned i = 0; i < s->raft.configuration.n; i++) {
                const struct raft_server *srv = &s->raft.configuration.servers[i];
                if (srv->role == RAFT_VOTER) {
                        voters++;
                        self |= srv->id == s->id;
                }
        }
        return voters == 1 && self;
}

struct store_barrier {
        struct raft_barrier req;
        struct store *store;
        struct read_list reads;
};

static void barrier_cb(struct raft_barrier *req, int status) {
        struct store_barrier *b = req->data;
        struct store *s = b->store;
        if (status != 0)
                fail_reads(s, &b->reads, status == RAFT_SHUTDOWN ? "shutting down" : raft_strerror(status));
        else
                read_splice(&s->reads_done, &b->reads);
        free(b);
        store_wake(s);
}

static void flush_reads(struct store *s) {
        if (!s->reads.head)
                return;
        if (raft_state(&s->raft) != RAFT_LEADER) {
                fail_reads(s, &s->reads, "not the leader");
                return;
        }
        /* A single voter commits and applies an entry in the same step, and applies its whole
         * stored log when it elects itself: everything committed is already applied. */
        if (single_voter(s)) {
                read_splice(&s->reads_done, &s->reads);
                return;
        }
        struct store_barrier *b = xcalloc(1, sizeof *b);
        b->store = s;
        b->req.data = b;
        read_splice(&b->reads, &s->reads);
        int rv = raft_barrier(&s->raft, &b->req, barrier_cb);
        if (rv != 0) {
                fail_reads(s, &b->reads, raft_strerror(rv));
                free(b);
        }
}

void store_flush(struct store *s) {
        if (s->queued.head) {
                if (raft_state(&s->raft) != RAFT_LEADER)
                        fail_cmds(s, &s->queued, "not the leader");
                while (s->queued.head)
                        submit_one_entry(s);
        }
        flush_reads(s);
}

/* Calls the callbacks of finished commands and reads. Returns false if a callback closed the
 * store (the rest is then delivered by the close path). */
bool store_deliver(struct store *s) {
        bool closing = s->closing;
        for (;;) {
                struct store_cmd *c = cmd_pop(&s->done);
                if (c) {
                        if (c->cb)
                                c->cb(c->data, c->status, c->status < 0 ? NULL : c->result,
                                      c->status < 0 ? &c->err : NULL);
                        else if (c->status < 0)
                                log_warn("store: own command failed: %s", err_msg(&c->err));
                        cmd_free(c);
                } else if (s->reads_done.head) {
                        struct store_read *r = s->reads_done.head;
                        s->reads_done.head = r->next;
                        if (!s->reads_done.head)
                                s->reads_done.tail = NULL;
                        r->cb(r->data, r->status, r->status < 0 ? &r->err : NULL);
                        err_release(&r->err);
                        free(r);
                } else {
                        return true;
                }
                if (s->closing && !closing)
                        return false;
        }
}

/* Finds the batch an entry belongs to, if this process submitted it and still waits. */
static struct store_batch *find_batch(struct store *s, const json_t *entry) {
        json_t *o = json_object_get(entry, "o"), *seq = json_object_get(entry, "s");
        const char *nonce = json_string_value(json_object_get(entry, "n"));
        if (!json_is_integer(o) || (uint64_t)json_integer_value(o) != s->id || !nonce ||
            !streq(nonce, s->nonce) || !json_is_integer(seq))
                return NULL;
        uint64_t want = (uint64_t)json_integer_value(seq);
        for (struct store_batch *b = s->pending_head; b; b = b->next)
                if (b->seq == want)
                        return b;
        return NULL;
}

int store_fsm_apply_entry(struct store *s, const struct raft_buffer *buf) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *entry = json_loadb(buf->base, buf->len, 0, &jerr);
        /* Every master sees the same bytes, so skipping a malformed entry keeps them identical;
         * failing would stop this master applying anything ever again. */
        if (!entry) {
                log_warn("store: skipping an unreadable log entry: %s", jerr.text);
                return 0;
        }
        json_t *cmds = json_is_array(entry) ? entry : json_object_get(entry, "c");
        if (!json_is_array(cmds)) {
                log_warn("store: skipping a log entry without commands");
                return 0;
        }
        struct store_batch *b = json_is_object(entry) ? find_batch(s, entry) : NULL;
        if (b && b->cmds.n != json_array_size(cmds))
                b = NULL;
        struct store_cmd *c = b ? b->cmds.head : NULL;
        size_t i;
        json_t *cmd;
        json_array_foreach(cmds, i, cmd) {
                if (c) {
                        int r = store_fsm_apply(s->state, cmd, &c->result, &c->err);
                        c->status = r < 0 ? r : 0;
                        c = c->next;
                } else {
                        struct err scratch = {0};
                        (void)store_fsm_apply(s->state, cmd, NULL, &scratch);
                        err_release(&scratch);
                }
        }
        if (b)
                b->applied = true;
        return 0;
}
