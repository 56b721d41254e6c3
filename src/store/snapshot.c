/* snapshot.c — Raft snapshots of the state machine as one JSON document. */
#include "store/snapshot.h"

#include <errno.h>
#include <raft.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "store/cluster_internal.h"
#include "store/jscan.h"
#include "store/state_internal.h"

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

/* The document is written in pieces: the head (apps, masters, agents…) by jansson, then the
 * instances streamed straight into the buffer (cluster_dump_instance_apps), so a million
 * instances never exist as a jansson tree. The text is the same JSON state_to_json describes. */
int snapshot_encode(const struct state *s, void **ret, size_t *ret_len) {
        _cleanup_(json_decrefp) json_t *head = state_to_json_head(s);
        struct rbuf b = {0};
        static const char spaces[8] = "        ";
        char prefix[64];
        int n = snprintf(prefix, sizeof prefix, "{\"format\":%d,\"state\":", SNAPSHOT_FORMAT);
        bool ok = head && rbuf_put(prefix, (size_t)n, &b) == 0 &&
                  json_dump_callback(head, rbuf_put, &b, JSON_COMPACT) == 0 && b.len > 0 &&
                  b.base[b.len - 1] == '}';
        if (ok) {
                /* The head is a non-empty object: reopen it for one more member. */
                b.len--;
                ok = rbuf_put(",\"instance_apps\":", 17, &b) == 0 &&
                     cluster_dump_instance_apps(state_cluster(s), rbuf_put, &b) == 0 &&
                     rbuf_put("}}", 2, &b) == 0;
        }
        /* Padded with whitespace to a multiple of 8 bytes, like log entries (store_batch.c). */
        if (!ok || (b.len % 8 && rbuf_put(spaces, 8 - b.len % 8, &b) < 0)) {
                raft_free(b.base);
                return -ENOMEM;
        }
        *ret = b.base;
        *ret_len = b.len;
        return 0;
}

static int load_instances(struct cluster *c, void *data, struct err *err) {
        return cluster_load_instance_apps(c, data, err);
}

/* Walks the top level by hand: every member of "state" but "instance_apps" is parsed by jansson
 * into a head document; "instance_apps" (any size) is remembered and read last, streamed, once
 * the agents it refers to are known. */
int snapshot_restore(struct state *s, const void *buf, size_t len, struct err *err) {
        _cleanup_(json_decrefp) json_t *head = json_object();
        struct jscan sc, instances = {0};
        bool have_state = false, have_instances = false;
        json_int_t format = -1;
        char key[256];
        size_t klen;
        int more;

        jscan_init(&sc, buf, len);
        if (jscan_expect(&sc, '{') < 0)
                goto bad;
        more = jscan_peek(&sc) == '}' ? (sc.p++, 0) : 1;
        for (; more == 1; more = jscan_next(&sc, '}')) {
                if (jscan_string(&sc, key, sizeof key, &klen) < 0 || jscan_expect(&sc, ':') < 0)
                        goto bad;
                if (streq(key, "format")) {
                        double d;
                        int64_t i;
                        bool is_int;
                        if (jscan_number(&sc, &d, &i, &is_int) < 0 || !is_int)
                                goto bad;
                        format = i;
                } else if (streq(key, "state")) {
                        if (jscan_expect(&sc, '{') < 0)
                                goto bad;
                        have_state = true;
                        int m = jscan_peek(&sc) == '}' ? (sc.p++, 0) : 1;
                        for (; m == 1; m = jscan_next(&sc, '}')) {
                                json_t *v = NULL;
                                if (jscan_string(&sc, key, sizeof key, &klen) < 0 ||
                                    jscan_expect(&sc, ':') < 0)
                                        goto bad;
                                if (streq(key, "instance_apps")) {
                                        instances = sc;
                                        have_instances = true;
                                        if (jscan_skip(&sc) < 0)
                                                goto bad;
                                        continue;
                                }
                                if (jscan_value(&sc, &v) < 0)
                                        goto bad;
                                json_object_set_new(head, key, v);
                        }
                        if (m < 0)
                                goto bad;
                } else if (jscan_skip(&sc) < 0) {
                        goto bad;
                }
        }
        /* Only padding may follow. */
        if (more < 0 || jscan_peek(&sc) != 0)
                goto bad;
        if (format != SNAPSHOT_FORMAT)
                return err_set(err, -EINVAL, "snapshot: unknown format (expected %d)", SNAPSHOT_FORMAT);
        if (!have_state)
                return err_set(err, -EINVAL, "snapshot: no \"state\"");
        int r = state_from_json_ext(s, head, have_instances ? load_instances : NULL, &instances, err);
        if (r < 0)
                return err_wrap(err, "snapshot");
        return 0;
bad:
        return err_set(err, -EINVAL, "snapshot: not the expected JSON near byte %zu", jscan_offset(&sc));
}
