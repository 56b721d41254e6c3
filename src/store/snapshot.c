/* snapshot.c — Raft snapshots of the state machine as one JSON document. */
#include "store/snapshot.h"

#include <errno.h>
#include <raft.h>
#include <string.h>

#include "common/macro.h"

/* Appends to a raft_malloc'd buffer, so Raft can own the result without a copy. */
struct rbuf {
        char *base;
        size_t len, cap;
};

static int rbuf_put(const char *data, size_t n, void *p) {
        struct rbuf *b = p;
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : 64 * 1024;
                while (cap < b->len + n)
                        cap *= 2;
                char *nb = raft_realloc(b->base, cap);
                if (!nb)
                        return -1;
                b->base = nb;
                b->cap = cap;
        }
        memcpy(b->base + b->len, data, n);
        b->len += n;
        return 0;
}

int snapshot_encode(const struct state *s, void **ret, size_t *ret_len) {
        _cleanup_(json_decrefp) json_t *doc =
                json_pack("{s:i,s:o}", "format", SNAPSHOT_FORMAT, "state", state_to_json(s));
        struct rbuf b = {0};
        /* Padded with whitespace to a multiple of 8 bytes, like log entries (store_batch.c). */
        static const char spaces[8] = "        ";
        if (!doc || json_dump_callback(doc, rbuf_put, &b, JSON_COMPACT) < 0 || b.len == 0 ||
            (b.len % 8 && rbuf_put(spaces, 8 - b.len % 8, &b) < 0)) {
                raft_free(b.base);
                return -ENOMEM;
        }
        *ret = b.base;
        *ret_len = b.len;
        return 0;
}

int snapshot_restore(struct state *s, const void *buf, size_t len, struct err *err) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *doc = json_loadb(buf, len, 0, &jerr);
        if (!doc)
                return err_set(err, -EINVAL, "snapshot: not JSON: %s (byte %d)", jerr.text, jerr.position);
        json_t *format = json_object_get(doc, "format");
        if (!json_is_integer(format) || json_integer_value(format) != SNAPSHOT_FORMAT)
                return err_set(err, -EINVAL, "snapshot: unknown format (expected %d)", SNAPSHOT_FORMAT);
        int r = state_from_json(s, json_object_get(doc, "state"), err);
        if (r < 0)
                return err_wrap(err, "snapshot");
        return 0;
}
