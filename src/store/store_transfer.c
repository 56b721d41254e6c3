/* store_transfer.c — leadership transfer on top of raft_transfer. */
#include <errno.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "store/store_internal.h"
#include "store/store_transfer.h"

struct transfer {
        struct raft_transfer req; /* first: raft hands it back */
        struct store *s;
        store_transfer_cb cb;
        void *data;
};

static void transferred(struct raft_transfer *req) {
        struct transfer *t = (struct transfer *)req;
        struct err e = { 0 };
        raft_id leader;
        const char *addr;
        raft_leader(&t->s->raft, &leader, &addr);
        /* "clients can check whether the operation was successful or not by calling
         * raft_leader() and checking if it returns the target server" — any other server will do. */
        if (raft_state(&t->s->raft) != RAFT_LEADER && leader != 0 && leader != t->s->id) {
                t->cb(t->data, 0, &e);
        } else {
                err_set(&e, -ETIMEDOUT, "leadership transfer did not complete");
                t->cb(t->data, e.code, &e);
        }
        err_release(&e);
        free(t);
}

int store_transfer_leadership(struct store *s, store_transfer_cb cb, void *data, struct err *err) {
        if (s->closing || raft_state(&s->raft) != RAFT_LEADER)
                return err_set(err, -ERR_NO_LEADER, "not the leader");
        struct transfer *t = xcalloc(1, sizeof *t);
        t->s = s;
        t->cb = cb;
        t->data = data;
        /* id 0: raft picks the voter whose log is most up to date. */
        int rv = raft_transfer(&s->raft, &t->req, 0, transferred);
        if (rv != 0) {
                free(t);
                return err_set(err, -ENOENT, "cannot hand leadership to another master: %s", raft_strerror(rv));
        }
        return 0;
}
