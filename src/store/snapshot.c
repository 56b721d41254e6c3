/* snapshot.c — Raft snapshots of the state machine as one JSON document. */
#include "store/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <raft.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macro.h"
#include "store/cluster_internal.h"
#include "common/jscan.h"
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

/* In the child: nothing but encoding and writing. It must not run the parent's signal handlers
 * (libuv's write to a pipe the parent reads: a SIGTERM meant for the child's command line would
 * stop the master), keep its listening sockets open after the parent died, or outlive it. */
static _Noreturn void encode_child(const struct state *s, int fd) {
        static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2 };
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                signal(sigs[i], SIG_DFL);
        signal(SIGPIPE, SIG_DFL); /* the parent gave up reading: die quietly */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd != 3) {
                if (dup2(fd, 3) < 0)
                        _exit(2);
                fd = 3;
        }
        close_range(4, ~0U, 0);
        void *buf;
        size_t len;
        if (snapshot_encode(s, &buf, &len) < 0)
                _exit(3);
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(4);
                p += n;
                len -= (size_t)n;
        }
        _exit(0);
}

int snapshot_fork(const struct state *s, struct snapshot_job *job) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(fds[0]);
                close(fds[1]);
                return r;
        }
        if (pid == 0) {
                close(fds[0]);
                encode_child(s, fds[1]);
        }
        close(fds[1]);
        job->pid = pid;
        job->fd = fds[0];
        return 0;
}

int snapshot_collect(struct snapshot_job *job, void **ret, size_t *ret_len) {
        struct rbuf b = {0};
        bool ok = true;
        char chunk[64 * 1024];
        for (;;) {
                ssize_t n = read(job->fd, chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        ok = false;
                        break;
                }
                if (n == 0)
                        break;
                if (ok && rbuf_put(chunk, (size_t)n, &b) < 0)
                        ok = false; /* keep draining so the child can finish */
        }
        close(job->fd);
        int status = 0;
        while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
                ;
        *job = (struct snapshot_job){ .pid = 0, .fd = -1 };
        /* A complete snapshot is a non-empty multiple of 8 bytes (snapshot_encode pads it). */
        if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || b.len == 0 || b.len % 8) {
                raft_free(b.base);
                return -EIO;
        }
        *ret = b.base;
        *ret_len = b.len;
        return 0;
}

void snapshot_abort(struct snapshot_job *job) {
        if (job->pid == 0)
                return;
        close(job->fd);
        kill(job->pid, SIGKILL);
        while (waitpid(job->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        *job = (struct snapshot_job){ .pid = 0, .fd = -1 };
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
