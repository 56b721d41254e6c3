/* lb_haproxy.c — HAProxy master-worker supervision and its Runtime API (see lb_haproxy.h). */
#include "lb/lb_haproxy.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/macro.h"

#define POLL_MS 20
#define RELOAD_TIMEOUT_MS 15000
#define RESTART_MS 1000
#define MAX_CHECK_OUTPUT 4096

enum phase { IDLE, CHECKING, RELOADING };

struct lb_haproxy {
        struct lb_haproxy_config cfg; /* strings owned */
        char *check_path;             /* <config>.new */
        uv_process_t master;
        bool master_alive;
        uv_process_t check;
        uv_pipe_t check_err;
        struct strbuf check_out;
        int check_status;
        unsigned check_handles;
        uv_timer_t timer;
        enum phase phase;
        bool want;            /* a (re)load was asked for while one is in progress */
        bool started;         /* a worker has answered once */
        int old_worker;       /* the worker before this reload */
        uint64_t reload_start; /* uv_hrtime of the signal */
        struct strbuf held;   /* commands given while not IDLE */
        struct strbuf queue;  /* commands waiting for a connection */
        bool sending;         /* a command connection is open */
        bool polling;         /* a `show info` connection is open */
        unsigned handles;     /* open handles (timer, processes, connections) */
        bool freeing;
        struct lb_haproxy_status st;
        char *last_error;
};

struct conn {
        uv_pipe_t pipe;
        uv_connect_t connect;
        uv_write_t write;
        struct lb_haproxy *h;
        char *out;
        struct strbuf in;
        bool info; /* a `show info` poll, else a command batch */
        size_t n_cmds;
};

static void maybe_free(struct lb_haproxy *h) {
        if (!h->freeing || h->handles)
                return;
        free((char *)h->cfg.bin);
        free((char *)h->cfg.config_path);
        free((char *)h->cfg.socket_path);
        free(h->check_path);
        strbuf_release(&h->check_out);
        strbuf_release(&h->held);
        strbuf_release(&h->queue);
        free(h->last_error);
        free(h);
}

static void handle_closed(uv_handle_t *handle) {
        struct lb_haproxy *h = handle->data;
        h->handles--;
        maybe_free(h);
}

static void set_error(struct lb_haproxy *h, const char *fmt, ...) _printf_(2, 3);
static void set_error(struct lb_haproxy *h, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        free(h->last_error);
        h->last_error = xvasprintf(fmt, ap);
        va_end(ap);
        log_error("haproxy: %s", h->last_error);
}

static void start_next(struct lb_haproxy *h);
static void send_queue(struct lb_haproxy *h);
static void poll_info(struct lb_haproxy *h);

/* ---- Runtime API connections ---- */

static void conn_closed(uv_handle_t *handle) {
        struct conn *c = handle->data;
        struct lb_haproxy *h = c->h;
        strbuf_release(&c->in);
        free(c->out);
        free(c);
        h->handles--;
        maybe_free(h);
}

static void conn_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
        static char slab[65536];
        buf->base = slab;
        buf->len = sizeof(slab);
}

/* The pid of a `show info` answer, or 0. */
static int info_pid(const char *s) {
        const char *p = s ? strstr(s, "\nPid: ") : NULL;
        if (!p && s && strncmp(s, "Pid: ", 5) == 0)
                p = s - 1;
        return p ? atoi(p + 6) : 0;
}

static void confirmed(struct lb_haproxy *h, int pid) {
        if (h->phase == RELOADING) {
                h->st.last_reload_ms = (double)(uv_hrtime() - h->reload_start) / 1e6;
                if (h->started)
                        h->st.reloads++;
        }
        h->started = true;
        h->st.worker_pid = pid;
        h->phase = IDLE;
        uv_timer_stop(&h->timer);
        /* the new worker loaded the configuration written before these */
        if (h->held.len) {
                strbuf_append(&h->queue, h->held.buf, h->held.len);
                h->held.len = 0;
        }
        send_queue(h);
        if (h->want)
                start_next(h);
}

static void conn_done(struct conn *c, bool ok) {
        struct lb_haproxy *h = c->h;
        if (c->info) {
                h->polling = false;
                int pid = ok ? info_pid(c->in.buf) : 0;
                if (!h->freeing && h->phase == RELOADING && pid > 0 && pid != h->old_worker)
                        confirmed(h, pid);
        } else {
                h->sending = false;
                if (ok)
                        h->st.commands += c->n_cmds;
                else
                        set_error(h, "runtime API on %s failed: %zu commands lost", h->cfg.socket_path, c->n_cmds);
                /* answers are empty or informational; an error names the command */
                if (ok && c->in.buf && (strstr(c->in.buf, "No such") || strstr(c->in.buf, "Unknown command") ||
                                        strstr(c->in.buf, "equire")))
                        set_error(h, "runtime API: %.300s", c->in.buf);
                if (!h->freeing)
                        send_queue(h);
        }
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
        struct conn *c = s->data;
        if (n > 0) {
                if (c->in.len < (1u << 20))
                        strbuf_append(&c->in, buf->base, (size_t)n);
                return;
        }
        if (n < 0)
                conn_done(c, n == UV_EOF);
}

static void conn_written(uv_write_t *w, int status) {
        struct conn *c = w->data;
        if (status < 0) {
                conn_done(c, false);
                return;
        }
        uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_read);
}

static void conn_connected(uv_connect_t *req, int status) {
        struct conn *c = req->data;
        if (status < 0) {
                conn_done(c, false);
                return;
        }
        uv_buf_t b = uv_buf_init(c->out, (unsigned)strlen(c->out));
        c->write.data = c;
        if (uv_write(&c->write, (uv_stream_t *)&c->pipe, &b, 1, conn_written) < 0)
                conn_done(c, false);
}

static void conn_open(struct lb_haproxy *h, char *out, bool info, size_t n_cmds) {
        struct conn *c = xcalloc(1, sizeof(*c));
        c->h = h;
        c->out = out;
        c->info = info;
        c->n_cmds = n_cmds;
        uv_pipe_init(h->cfg.loop, &c->pipe, 0);
        c->pipe.data = c;
        c->connect.data = c;
        h->handles++;
        uv_pipe_connect(&c->connect, &c->pipe, h->cfg.socket_path, conn_connected);
}

/* Sends the next batch of queued commands: whole lines, joined with ';'. */
static void send_queue(struct lb_haproxy *h) {
        if (h->sending || h->phase != IDLE || !h->queue.len || !h->started)
                return;
        struct strbuf batch = { 0 };
        size_t off = 0, n = 0;
        while (off < h->queue.len) {
                char *nl = memchr(h->queue.buf + off, '\n', h->queue.len - off);
                size_t len = nl ? (size_t)(nl - (h->queue.buf + off)) : h->queue.len - off;
                if (batch.len && batch.len + len + 2 > LB_HAPROXY_BATCH)
                        break;
                if (len) {
                        strbuf_printf(&batch, "%s%.*s", batch.len ? ";" : "", (int)len, h->queue.buf + off);
                        n++;
                }
                off += len + (nl != NULL);
        }
        memmove(h->queue.buf, h->queue.buf + off, h->queue.len - off);
        h->queue.len -= off;
        h->queue.buf[h->queue.len] = '\0';
        if (!n) {
                strbuf_release(&batch);
                return;
        }
        strbuf_puts(&batch, "\n");
        h->sending = true;
        conn_open(h, strbuf_steal(&batch), false, n);
}

void lb_haproxy_commands(struct lb_haproxy *h, const char *cmds, size_t len) {
        if (!len)
                return;
        strbuf_append(h->phase == IDLE ? &h->queue : &h->held, cmds, len);
        send_queue(h);
}

/* ---- reloads ---- */

static void poll_info(struct lb_haproxy *h) {
        if (h->polling)
                return;
        h->polling = true;
        conn_open(h, xstrdup("show info\n"), true, 0);
}

static void on_timer(uv_timer_t *t) {
        struct lb_haproxy *h = t->data;
        if (h->phase == RELOADING) {
                if ((uv_hrtime() - h->reload_start) / 1000000 > RELOAD_TIMEOUT_MS) {
                        h->st.failed++;
                        set_error(h, "no new worker %d s after the reload signal: the old configuration keeps serving",
                                  RELOAD_TIMEOUT_MS / 1000);
                        h->phase = IDLE;
                        uv_timer_stop(&h->timer);
                        strbuf_append(&h->queue, h->held.buf ?: "", h->held.len);
                        h->held.len = 0;
                        send_queue(h);
                        if (h->want)
                                start_next(h);
                        return;
                }
                poll_info(h);
                return;
        }
        if (h->phase == IDLE && !h->master_alive) /* restart after an exit */
                start_next(h);
}

static void master_exited(uv_process_t *p, int64_t status, int sig) {
        struct lb_haproxy *h = p->data;
        h->master_alive = false;
        h->st.master_pid = 0;
        h->st.worker_pid = 0;
        uv_close((uv_handle_t *)p, handle_closed);
        if (h->freeing)
                return;
        set_error(h, "haproxy exited (status %lld, signal %d): restarting in %d ms", (long long)status, sig, RESTART_MS);
        h->started = false;
        h->phase = IDLE;
        h->want = true;
        uv_timer_start(&h->timer, on_timer, RESTART_MS, 0);
}

#define SETPRIV "/usr/bin/setpriv"

static int spawn_master(struct lb_haproxy *h) {
        /* util-linux's setpriv sets PR_SET_PDEATHSIG and execs HAProxy (same pid): if strata lb is
         * killed outright, HAProxy stops too instead of holding the ports with a stale set */
        char *args[] = { SETPRIV, "--pdeathsig", "TERM", "--", (char *)h->cfg.bin, "-W", "-db", "-f",
                         (char *)h->cfg.config_path, NULL };
        char **argv = access(SETPRIV, X_OK) == 0 ? args : args + 4;
        uv_stdio_container_t stdio[3] = { { .flags = UV_IGNORE }, { .flags = UV_INHERIT_FD, .data.fd = 2 },
                                          { .flags = UV_INHERIT_FD, .data.fd = 2 } };
        uv_process_options_t o = { .exit_cb = master_exited, .file = argv[0], .args = argv, .stdio_count = 3,
                                   .stdio = stdio };
        h->master.data = h;
        int r = uv_spawn(h->cfg.loop, &h->master, &o);
        if (r < 0) {
                uv_close((uv_handle_t *)&h->master, NULL);
                return r;
        }
        h->handles++;
        h->master_alive = true;
        h->st.master_pid = h->master.pid;
        return 0;
}

static void begin_reload(struct lb_haproxy *h) {
        if (rename(h->check_path, h->cfg.config_path) < 0) {
                set_error(h, "cannot rename %s: %s", h->check_path, strerror(errno));
                h->phase = IDLE;
                return;
        }
        h->phase = RELOADING;
        h->old_worker = h->st.worker_pid;
        h->reload_start = uv_hrtime();
        if (!h->master_alive) {
                int r = spawn_master(h);
                if (r < 0) {
                        set_error(h, "cannot run %s: %s", h->cfg.bin, uv_strerror(r));
                        h->phase = IDLE;
                        h->want = true;
                        uv_timer_start(&h->timer, on_timer, RESTART_MS, 0);
                        return;
                }
        } else {
                uv_process_kill(&h->master, SIGUSR2);
        }
        uv_timer_start(&h->timer, on_timer, POLL_MS, POLL_MS);
}

static void check_closed(uv_handle_t *handle) {
        struct lb_haproxy *h = handle->data;
        h->handles--;
        if (--h->check_handles > 0 || h->freeing) {
                maybe_free(h);
                return;
        }
        if (h->check_status == 0) {
                begin_reload(h);
                return;
        }
        h->st.failed++;
        set_error(h, "configuration refused by haproxy -c (the running one stays): %.1000s",
                  h->check_out.buf ? h->check_out.buf : "");
        h->phase = IDLE;
        strbuf_append(&h->queue, h->held.buf ?: "", h->held.len);
        h->held.len = 0;
        send_queue(h);
        if (h->want)
                start_next(h);
}

static void check_exited(uv_process_t *p, int64_t status, int sig) {
        struct lb_haproxy *h = p->data;
        h->check_status = status == 0 && sig == 0 ? 0 : -1;
        uv_close((uv_handle_t *)p, check_closed);
}

static void check_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
        struct lb_haproxy *h = s->data;
        if (n > 0 && h->check_out.len < MAX_CHECK_OUTPUT)
                strbuf_append(&h->check_out, buf->base, MIN((size_t)n, MAX_CHECK_OUTPUT - h->check_out.len));
        if (n < 0)
                uv_close((uv_handle_t *)s, check_closed);
}

static int write_file(const char *path, const char *data, size_t len) {
        /* no fsync: the file is derived from the cluster's state and rewritten on every start */
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (len) {
                ssize_t n = write(fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                data += n;
                len -= (size_t)n;
        }
        return close(fd) < 0 ? -errno : 0;
}

/* Renders, writes <config>.new and checks it with `haproxy -c` in a child process. */
static void start_next(struct lb_haproxy *h) {
        if (h->phase != IDLE || h->freeing)
                return;
        h->want = false;
        _cleanup_free_ char *text = h->cfg.render(h->cfg.data);
        /* everything held is in this text: the slots it was rendered from are current */
        h->held.len = 0;
        if (h->held.buf)
                h->held.buf[0] = '\0';
        int r = write_file(h->check_path, text, strlen(text));
        if (r < 0) {
                set_error(h, "cannot write %s: %s", h->check_path, strerror(-r));
                return;
        }
        char *args[] = { (char *)h->cfg.bin, "-c", "-f", h->check_path, NULL };
        uv_pipe_init(h->cfg.loop, &h->check_err, 0);
        h->check_err.data = h;
        /* haproxy -c says what is wrong on stderr */
        uv_stdio_container_t stdio[3] = { { .flags = UV_IGNORE }, { .flags = UV_IGNORE },
                                          { .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
                                            .data.stream = (uv_stream_t *)&h->check_err } };
        uv_process_options_t o = { .exit_cb = check_exited, .file = h->cfg.bin, .args = args, .stdio_count = 3,
                                   .stdio = stdio };
        h->check.data = h;
        h->check_out.len = 0;
        h->phase = CHECKING;
        r = uv_spawn(h->cfg.loop, &h->check, &o);
        h->handles += 2;
        h->check_handles = 2;
        if (r < 0) {
                uv_close((uv_handle_t *)&h->check, handle_closed);
                uv_close((uv_handle_t *)&h->check_err, handle_closed);
                h->check_handles = 0;
                h->phase = IDLE;
                set_error(h, "cannot run %s -c: %s", h->cfg.bin, uv_strerror(r));
                h->want = true;
                uv_timer_start(&h->timer, on_timer, RESTART_MS, 0);
                return;
        }
        uv_read_start((uv_stream_t *)&h->check_err, conn_alloc, check_read);
}

void lb_haproxy_reload(struct lb_haproxy *h) {
        h->want = true;
        start_next(h);
}

struct lb_haproxy *lb_haproxy_new(const struct lb_haproxy_config *cfg) {
        struct lb_haproxy *h = xcalloc(1, sizeof(*h));
        h->cfg = *cfg;
        h->cfg.bin = xstrdup(cfg->bin);
        h->cfg.config_path = xstrdup(cfg->config_path);
        h->cfg.socket_path = xstrdup(cfg->socket_path);
        h->check_path = xasprintf("%s.new", cfg->config_path);
        uv_timer_init(cfg->loop, &h->timer);
        h->timer.data = h;
        h->handles = 1;
        return h;
}

void lb_haproxy_free(struct lb_haproxy *h) {
        if (!h)
                return;
        h->freeing = true;
        if (h->master_alive)
                uv_process_kill(&h->master, SIGTERM);
        uv_close((uv_handle_t *)&h->timer, handle_closed);
}

void lb_haproxy_status(const struct lb_haproxy *h, struct lb_haproxy_status *ret) {
        *ret = h->st;
        ret->running = h->started && h->master_alive;
        ret->last_error = h->last_error;
}
