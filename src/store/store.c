/* store.c — the Raft wiring of the masters' replicated state: ids, bootstrap, libraft on the
 * daemon's uv loop, the FSM callbacks, role-change notices, status and shutdown. */
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/util.h"
#include "net/http_server.h"
#include "store/snapshot.h"
#include "store/store_internal.h"

/* A new leader must take writes within 2 s of the old one dying. In libraft a follower that
 * still believes in a leader refuses votes until its own election timer runs out (Raft §4.2.3),
 * so failover waits for the *later* of the followers' timers, drawn from [T, 2T) and checked on
 * heartbeat ticks: about 2T + 100 ms in the worst case. T = 800 ms keeps that under 1.8 s;
 * T = 1000 ms exceeds 2 s in about a quarter of failovers. */
#define DEFAULT_ELECTION_TIMEOUT_MS 800
#define DEFAULT_HEARTBEAT_TIMEOUT_MS 100
#define DEFAULT_SNAPSHOT_THRESHOLD 8192
#define DEFAULT_SNAPSHOT_TRAILING 1024
/* How soon Raft retries a peer it could not reach (libraft's default is a full second). */
#define CONNECT_RETRY_MS 250

uint64_t store_id_from_address(const char *raft_addr) {
        /* FNV-1a over the address, kept to 53 bits so ids survive a trip through any JSON
         * parser as exact positive numbers. Every master computes the same id for a name. */
        uint64_t h = 0xcbf29ce484222325ULL;
        for (const char *p = raft_addr; *p; p++) {
                h ^= (unsigned char)*p;
                h *= 0x100000001b3ULL;
        }
        h &= (UINT64_C(1) << 53) - 1;
        return h ? h : 1;
}

/* DIR/id holds this master's raft id in decimal: derived once, then kept. */
static int load_id(const char *dir, const char *raft_addr, uint64_t *ret, struct err *err) {
        _cleanup_free_ char *path = xasprintf("%s/id", dir);
        _cleanup_free_ char *text = NULL;
        int r = file_read_all(path, 64, &text, NULL, err);
        if (r == -ENOENT) {
                err_release(err);
                uint64_t id = store_id_from_address(raft_addr);
                char buf[32];
                int n = snprintf(buf, sizeof buf, "%" PRIu64 "\n", id);
                r = file_write_atomic(path, buf, (size_t)n, err);
                if (r < 0)
                        return r;
                *ret = id;
                return 0;
        }
        if (r < 0)
                return r;
        char *end;
        errno = 0;
        unsigned long long id = strtoull(text, &end, 10);
        if (errno || end == text || id == 0 || (*end && *end != '\n'))
                return err_set(err, -EINVAL, "'%s' does not hold a raft id", path);
        *ret = id;
        return 0;
}

/* libraft's TCP transport takes IPv4 "a.b.c.d:port" only: resolve a host name once, here. */
static int resolve(const char *addr, char **ret, struct err *err) {
        const char *colon = strrchr(addr, ':');
        if (!colon || !colon[1])
                return err_set(err, -EINVAL, "raft address '%s' is not host:port", addr);
        _cleanup_free_ char *host =
                colon == addr ? xstrdup("127.0.0.1") : xstrndup(addr, (size_t)(colon - addr));
        struct in_addr in;
        if (inet_pton(AF_INET, host, &in) == 1) {
                *ret = xasprintf("%s%s", host, colon);
                return 0;
        }
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
        int g = getaddrinfo(host, NULL, &hints, &res);
        if (g != 0 || !res)
                return err_set(err, -EHOSTUNREACH, "cannot resolve '%s': %s", host, gai_strerror(g));
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, sizeof ip);
        freeaddrinfo(res);
        *ret = xasprintf("%s%s", ip, colon);
        return 0;
}

/* The initial voters: every master computes the same list from --masters. */
static int build_configuration(const struct store_config *cfg, uint64_t self, const char *self_resolved,
                               struct raft_configuration *conf, struct err *err) {
        raft_configuration_init(conf);
        if (cfg->n_masters == 0) {
                if (raft_configuration_add(conf, self, self_resolved, RAFT_VOTER) != 0)
                        return err_set(err, -ENOMEM, "cannot build the raft configuration");
                return 0;
        }
        bool found = false;
        for (size_t i = 0; i < cfg->n_masters; i++) {
                const char *m = cfg->masters[i];
                _cleanup_free_ char *resolved = NULL;
                int r = resolve(m, &resolved, err);
                if (r < 0)
                        return err_wrap(err, "--masters");
                bool me = streq(m, cfg->raft_addr);
                found |= me;
                uint64_t id = me ? self : store_id_from_address(m);
                int rv = raft_configuration_add(conf, id, resolved, RAFT_VOTER);
                if (rv == RAFT_DUPLICATEID || rv == RAFT_DUPLICATEADDRESS)
                        return err_set(err, -EINVAL,
                                       "--masters lists '%s' twice (or two names for one address)", m);
                if (rv != 0)
                        return err_set(err, -EINVAL, "--masters: '%s': %s", m, raft_strerror(rv));
        }
        if (!found)
                return err_set(err, -EINVAL, "--masters must include this master's raft address %s",
                               cfg->raft_addr);
        return 0;
}

static int fsm_apply_cb(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result) {
        *result = NULL;
        return store_fsm_apply_entry(fsm->data, buf);
}

/* Snapshots (fsm version 3): libraft calls fsm_snapshot_cb on the loop, then
 * fsm_snapshot_async_cb through io->async_work on the thread pool, then fsm_snapshot_finalize_cb
 * back on the loop (whatever the async step returned). The loop only pays for a fork: the child
 * holds the state as of this applied index, copy-on-write, and encodes it while the parent keeps
 * applying entries. (Encoding on the loop blocked the leader for 1.1-1.3 s at 40,000 apps, longer
 * than the election timeout.) One snapshot at a time: libraft takes no other while one is
 * pending. */
static int fsm_snapshot_cb(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs) {
        struct store *s = fsm->data;
        if (s->snapshot_job.pid != 0)
                return RAFT_BUSY;
        struct raft_buffer *b = raft_calloc(1, sizeof *b);
        if (!b)
                return RAFT_NOMEM;
        int r = snapshot_fork(s->state, &s->snapshot_job);
        if (r < 0) {
                log_warn("store: cannot fork the snapshot encoder: %s", strerror(-r));
                raft_free(b);
                return RAFT_NOMEM;
        }
        *bufs = b;
        *n_bufs = 1;
        return 0;
}

/* On a worker thread: touches only the job and the buffer, never the state. */
static int fsm_snapshot_async_cb(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs) {
        struct store *s = fsm->data;
        if (*n_bufs != 1)
                return RAFT_INVALID;
        if (snapshot_collect(&s->snapshot_job, &(*bufs)[0].base, &(*bufs)[0].len) < 0)
                return RAFT_IOERR;
        return 0;
}

static int fsm_snapshot_finalize_cb(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs) {
        struct store *s = fsm->data;
        /* The async step never ran (libraft failed to queue it): its output is not wanted, and
         * reading it here would block the loop for the whole encode. */
        snapshot_abort(&s->snapshot_job);
        for (unsigned i = 0; *bufs && i < *n_bufs; i++)
                raft_free((*bufs)[i].base);
        raft_free(*bufs);
        *bufs = NULL;
        *n_bufs = 0;
        return 0;
}

/* libraft 0.15's raft_uv has no io->async_work (io version 1); the fsm's snapshot_async needs
 * one. This is the obvious one: the request's work on libuv's thread pool, its callback back on
 * the loop. */
struct async_work {
        uv_work_t work; /* first: the uv_work_t is the struct */
        struct raft_io_async_work *req;
        int status;
};

static void async_work_run(uv_work_t *w) {
        struct async_work *a = (struct async_work *)w;
        a->status = a->req->work(a->req);
}

static void async_work_done(uv_work_t *w, int uv_status) {
        struct async_work *a = (struct async_work *)w;
        struct raft_io_async_work *req = a->req;
        int status = uv_status == UV_ECANCELED ? RAFT_CANCELED : a->status;
        free(a);
        req->cb(req, status);
}

static int io_async_work(struct raft_io *io, struct raft_io_async_work *req, raft_io_async_work_cb cb) {
        struct store *s = (struct store *)((char *)io - offsetof(struct store, io));
        req->cb = cb;
        struct async_work *a = xcalloc(1, sizeof *a);
        a->req = req;
        if (uv_queue_work(s->loop, &a->work, async_work_run, async_work_done) != 0) {
                free(a);
                return RAFT_IOERR;
        }
        return 0;
}

static int fsm_restore_cb(struct raft_fsm *fsm, struct raft_buffer *buf) {
        struct store *s = fsm->data;
        struct err err = {0};
        int r = snapshot_restore(s->state, buf->base, buf->len, &err);
        if (r < 0) {
                log_error("store: %s", err_msg(&err));
                err_release(&err);
                return RAFT_MALFORMED;
        }
        /* On success the buffer is ours. */
        raft_free(buf->base);
        return 0;
}

static const char *state_name(int st) {
        switch (st) {
        case RAFT_FOLLOWER:
                return "follower";
        case RAFT_CANDIDATE:
                return "candidate";
        case RAFT_LEADER:
                return "leader";
        default:
                return "unavailable";
        }
}

/* Compares (role, leader, term, leader's HTTP address known) with what the last loop iteration
 * saw. libraft 0.15 has no callback for these, and a check handle costs nothing per turn. */
static bool note_change(struct store *s) {
        int st = raft_state(&s->raft);
        raft_id leader = 0;
        const char *addr = NULL;
        raft_leader(&s->raft, &leader, &addr);
        bool http = store_leader_http(s) != NULL;
        uint64_t term = s->raft.current_term;
        if (st == s->seen_state && leader == s->seen_leader && term == s->seen_term &&
            http == s->seen_leader_http)
                return false;
        bool became_leader = st == RAFT_LEADER && s->seen_state != RAFT_LEADER;
        s->seen_state = st;
        s->seen_leader = leader;
        s->seen_term = term;
        s->seen_leader_http = http;
        if (became_leader) {
                /* Followers map the leader's raft id to its HTTP address through the registry.
                 * Its commit is also the first entry of the new term, which is what lets Raft
                 * commit (and apply) everything earlier terms left behind. */
                store_enqueue_own(s, json_pack("{s:s,s:i,s:I,s:s,s:s?}", "type", "master_set", "v", 1,
                                               "raft_id", (json_int_t)s->id, "raft_addr", s->raft_addr,
                                               "http_addr", s->http_addr));
        }
        return true;
}

static void check_cb(uv_check_t *h) {
        struct store *s = h->data;
        if (s->closing)
                return;
        bool changed = note_change(s);
        store_flush(s);
        if (!store_deliver(s))
                return;
        if (changed && s->on_change) {
                s->on_change(s, s->data);
                if (s->closing)
                        return;
        }
        if (!s->queued.head && !s->reads.head && !s->done.head && !s->reads_done.head)
                uv_idle_stop(&s->idle);
}

static void store_finalize(struct store *s) {
        void (*cb)(void *) = s->close_cb;
        void *data = s->close_data;
        state_free(s->state);
        free(s->raft_addr);
        free(s->http_addr);
        free(s);
        if (cb)
                cb(data);
}

static void handle_closed(uv_handle_t *h) {
        struct store *s = h->data;
        if (--s->open_handles == 0)
                store_finalize(s);
}

static void close_handles(struct store *s) {
        s->open_handles = 2;
        uv_close((uv_handle_t *)&s->check, handle_closed);
        uv_close((uv_handle_t *)&s->idle, handle_closed);
}

static void raft_closed(struct raft *r) {
        struct store *s = r->data;
        raft_uv_close(&s->io);
        raft_uv_tcp_close(&s->transport);
        s->raft_initialized = false;
        /* Every request Raft held has failed by now; answer them (callbacks may submit more:
         * those fail at once and are answered in this same loop). */
        while (s->done.head || s->reads_done.head)
                store_deliver(s);
        close_handles(s);
}

/* Starts the asynchronous teardown; the store is freed once libuv has closed its handles. */
static void teardown(struct store *s) {
        s->closing = true;
        store_fail_queued(s, "shutting down");
        uv_check_stop(&s->check);
        uv_idle_stop(&s->idle);
        if (s->raft_initialized) {
                raft_close(&s->raft, raft_closed);
                return;
        }
        while (s->done.head || s->reads_done.head)
                store_deliver(s);
        close_handles(s);
}

void store_close(struct store *s, void (*cb)(void *data), void *data) {
        if (!s) {
                if (cb)
                        cb(data);
                return;
        }
        if (s->closing)
                return;
        s->close_cb = cb;
        s->close_data = data;
        teardown(s);
}

static int start_raft(struct store *s, const struct store_config *cfg, const char *raft_dir,
                      const struct raft_configuration *conf, struct err *err) {
        /* libraft reports a listener it cannot bind with an empty message: check first */
        int rv = net_listen_probe(s->raft_addr, "Raft", err);
        if (rv < 0)
                return rv;
        rv = raft_uv_tcp_init(&s->transport, s->loop);
        if (rv != 0)
                return err_set(err, -EIO, "raft transport: %s", raft_strerror(rv));
        rv = raft_uv_init(&s->io, s->loop, raft_dir, &s->transport);
        if (rv != 0) {
                err_set(err, -EIO, "raft storage '%s': %s", raft_dir, s->io.errmsg);
                raft_uv_tcp_close(&s->transport);
                return -EIO;
        }
        raft_uv_set_connect_retry_delay(&s->io, CONNECT_RETRY_MS);
        if (s->io.version < 2 || !s->io.async_work) {
                s->io.version = 2;
                s->io.async_work = io_async_work;
        }
        s->fsm = (struct raft_fsm){
                .version = 3,
                .data = s,
                .apply = fsm_apply_cb,
                .snapshot = fsm_snapshot_cb,
                .restore = fsm_restore_cb,
                .snapshot_finalize = fsm_snapshot_finalize_cb,
                .snapshot_async = fsm_snapshot_async_cb,
        };
        rv = raft_init(&s->raft, &s->io, &s->fsm, s->id, s->raft_addr);
        if (rv != 0) {
                err_set(err, -EIO, "raft: %s", raft_errmsg(&s->raft));
                raft_uv_close(&s->io);
                raft_uv_tcp_close(&s->transport);
                return -EIO;
        }
        s->raft.data = s;
        s->raft_initialized = true;

        rv = raft_bootstrap(&s->raft, conf);
        if (rv != 0 && rv != RAFT_CANTBOOTSTRAP)
                return err_set(err, -EIO, "raft bootstrap in '%s': %s", raft_dir, raft_strerror(rv));

        unsigned election = cfg->election_timeout_ms ?: DEFAULT_ELECTION_TIMEOUT_MS;
        unsigned heartbeat = cfg->heartbeat_timeout_ms ?: DEFAULT_HEARTBEAT_TIMEOUT_MS;
        if (heartbeat >= election)
                return err_set(err, -EINVAL,
                               "heartbeat timeout (%u ms) must be below the election timeout (%u ms)",
                               heartbeat, election);
        raft_set_election_timeout(&s->raft, election);
        raft_set_heartbeat_timeout(&s->raft, heartbeat);
        raft_set_snapshot_threshold(&s->raft, cfg->snapshot_threshold ?: DEFAULT_SNAPSHOT_THRESHOLD);
        raft_set_snapshot_trailing(&s->raft, cfg->snapshot_trailing ?: DEFAULT_SNAPSHOT_TRAILING);
        /* Pre-vote: a master coming back from a partition does not depose a healthy leader. */
        raft_set_pre_vote(&s->raft, true);

        rv = raft_start(&s->raft);
        if (rv != 0)
                return err_set(err, -EIO, "raft start in '%s': %s", raft_dir, raft_errmsg(&s->raft));
        return 0;
}

int store_new(const struct store_config *cfg, struct store **ret, struct err *err) {
        if (!cfg->loop || !cfg->data_dir || !cfg->raft_addr)
                return err_set(err, -EINVAL, "store: loop, data_dir and raft_addr are required");
        _cleanup_free_ char *raft_dir = xasprintf("%s/raft", cfg->data_dir);
        int r = mkdir_p(raft_dir, err);
        if (r < 0)
                return r;

        struct store *s = xcalloc(1, sizeof *s);
        s->loop = cfg->loop;
        s->on_change = cfg->on_change;
        s->data = cfg->data;
        s->http_addr = cfg->http_addr ? xstrdup(cfg->http_addr) : NULL;
        s->state = state_new();
        s->seen_state = RAFT_UNAVAILABLE;
        uint64_t nonce = 0;
        while (getrandom(&nonce, sizeof nonce, 0) != sizeof nonce)
                ;
        snprintf(s->nonce, sizeof s->nonce, "%016" PRIx64, nonce);

        struct raft_configuration conf;
        raft_configuration_init(&conf);
        r = load_id(cfg->data_dir, cfg->raft_addr, &s->id, err);
        if (r >= 0)
                r = resolve(cfg->raft_addr, &s->raft_addr, err);
        if (r >= 0)
                r = build_configuration(cfg, s->id, s->raft_addr, &conf, err);
        if (r < 0) {
                raft_configuration_close(&conf);
                s->close_cb = NULL;
                store_finalize(s);
                return r;
        }

        uv_check_init(s->loop, &s->check);
        uv_idle_init(s->loop, &s->idle);
        s->check.data = s->idle.data = s;
        r = start_raft(s, cfg, raft_dir, &conf, err);
        raft_configuration_close(&conf);
        if (r < 0) {
                /* Whatever started is closed on the loop; the caller need not wait. */
                teardown(s);
                return r;
        }
        uv_check_start(&s->check, check_cb);
        /* The check handle alone must not keep a loop alive. */
        uv_unref((uv_handle_t *)&s->check);
        store_wake(s);
        *ret = s;
        return 0;
}

struct state *store_state(struct store *s) {
        return s->state;
}

void store_status(struct store *s, struct store_status *st) {
        *st = (struct store_status){.id = s->id, .state = "unavailable"};
        if (s->closing)
                return;
        int rs = raft_state(&s->raft);
        raft_id leader = 0;
        const char *addr = NULL;
        raft_leader(&s->raft, &leader, &addr);
        st->is_leader = rs == RAFT_LEADER;
        st->state = state_name(rs);
        st->leader_id = leader;
        st->leader_raft = addr;
        st->leader_http = store_leader_http(s);
        st->term = s->raft.current_term;
        st->commit_index = s->raft.commit_index;
        st->last_applied = raft_last_applied(&s->raft);
        st->last_index = raft_last_index(&s->raft);
}

void store_servers_foreach(struct store *s,
                           void (*cb)(uint64_t id, const char *raft_addr, bool voter, void *data),
                           void *data) {
        if (s->closing)
                return;
        for (unsigned i = 0; i < s->raft.configuration.n; i++) {
                const struct raft_server *srv = &s->raft.configuration.servers[i];
                cb(srv->id, srv->address, srv->role == RAFT_VOTER, data);
        }
}
