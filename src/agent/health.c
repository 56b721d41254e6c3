/* health.c — scheduling and running health and readiness checks of tasks (health.h). */
#include "agent/health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/health_state.h"
#include "common/alloc.h"
#include "common/hashmap.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/util.h"
#include "net/http_client.h"

struct htask;

/* One check of one task. */
struct hcheck {
        struct htask *t;
        struct health_policy pol;
        int port;      /* 0: none resolvable */
        char *path;    /* HTTP */
        char *command; /* COMMAND */
        struct health_result r;
        struct hrun *run; /* in flight, or NULL */
};

/* One execution of a check (or of the readiness check). It outlives its check when the task
 * ends mid-check: c is then NULL and the run frees itself once its handles are closed. */
struct hrun {
        struct hcheck *c;   /* NULL: abandoned, or a readiness run (t set instead) */
        struct htask *t;    /* readiness runs only */
        struct health *h;
        uv_timer_t timeout; /* TCP and COMMAND */
        uv_tcp_t tcp;
        uv_connect_t conn;
        uv_process_t proc;
        struct transfer *xfer;
        int open; /* handles not yet closed */
        bool done;
};

struct htask {
        struct health *h;
        char *id;
        char *sandbox;
        char **env;
        char *user;
        pid_t pid;
        int64_t started_ms;
        size_t n;
        struct hcheck *checks;
        /* readiness (readinessChecks[0]) */
        bool has_readiness, ready;
        int r_port;
        char *r_url_path;
        bool r_https;
        int64_t r_interval_ms, r_timeout_ms;
        long codes[16];
        size_t n_codes;
        struct hrun *r_run;
        uv_timer_t timer; /* next due check or readiness poll */
        bool timer_open;
        int64_t *due; /* per check: next run (ms, wall clock); readiness is due[n] */
};

struct health {
        uv_loop_t *loop;
        char *dir;
        bool simulate;
        health_report_cb cb;
        void *data;
        struct http_client *client;
        struct hashmap tasks;     /* id → htask (running with checks) */
        struct hashmap simulated; /* id → (void *)flags, between launch and RUNNING */
        bool closing;
};

enum { SIM_HEALTH = 1, SIM_READINESS = 2 };

/* A simulated task between launch and RUNNING: what its RUNNING update reports. */
struct sim {
        unsigned flags;
        char id[]; /* the map's key */
};

static void schedule(struct htask *t);

/* ---- configuration ---- */

static long long jint(const json_t *o, const char *key, long long def) {
        const json_t *v = json_object_get(o, key);
        return json_is_integer(v) ? json_integer_value(v) : def;
}

static void check_init(struct hcheck *c, const json_t *hc, const int *ports, size_t n_ports) {
        const char *proto = json_string_value(json_object_get(hc, "protocol")) ?: "HTTP";
        c->pol.mesos = strncmp(proto, "MESOS_", 6) == 0 || streq(proto, "COMMAND");
        if (strstr(proto, "HTTPS"))
                c->pol.protocol = HEALTH_HTTPS;
        else if (strstr(proto, "HTTP"))
                c->pol.protocol = HEALTH_HTTP;
        else if (strstr(proto, "TCP"))
                c->pol.protocol = HEALTH_TCP;
        else
                c->pol.protocol = HEALTH_COMMAND;
        c->pol.ignore_1xx = json_is_true(json_object_get(hc, "ignoreHttp1xx"));
        c->pol.grace_ms = jint(hc, "gracePeriodSeconds", 300) * 1000;
        c->pol.interval_ms = MAX(jint(hc, "intervalSeconds", 60), 1) * 1000;
        c->pol.timeout_ms = MAX(jint(hc, "timeoutSeconds", 20) * 1000, 100);
        c->pol.delay_ms = jint(hc, "delaySeconds", 15) * 1000;
        c->pol.max_failures = (uint32_t)MAX(jint(hc, "maxConsecutiveFailures", 3), 0);
        long long port = jint(hc, "port", 0), idx = jint(hc, "portIndex", -1);
        if (port > 0 && port < 65536)
                c->port = (int)port;
        else if (idx >= 0 && (size_t)idx < n_ports)
                c->port = ports[idx];
        const char *path = json_string_value(json_object_get(hc, "path"));
        c->path = xstrdup(path && path[0] == '/' ? path : "/");
        const char *cmd = json_string_value(json_object_get(json_object_get(hc, "command"), "value"));
        c->command = cmd ? xstrdup(cmd) : NULL;
}

/* Builds a task from its checkpoint document (see health.h). */
static struct htask *htask_from_json(struct health *h, const char *id, const json_t *doc) {
        const json_t *checks = json_object_get(doc, "checks");
        const json_t *readiness = json_array_get(json_object_get(doc, "readiness"), 0);
        const json_t *jports = json_object_get(doc, "ports");
        size_t n_ports = MIN(json_array_size(jports), (size_t)64);
        int ports[64];
        for (size_t i = 0; i < n_ports; i++)
                ports[i] = (int)json_integer_value(json_array_get(jports, i));
        struct htask *t = xcalloc(1, sizeof *t);
        t->h = h;
        t->id = xstrdup(id);
        t->n = MIN(json_array_size(checks), (size_t)HEALTH_MAX_CHECKS);
        t->checks = xcalloc(t->n + 1, sizeof *t->checks);
        t->due = xcalloc(t->n + 1, sizeof *t->due);
        for (size_t i = 0; i < t->n; i++) {
                t->checks[i].t = t;
                check_init(&t->checks[i], json_array_get(checks, i), ports, n_ports);
        }
        if (strv_from_json(json_object_get(doc, "env"), &t->env) < 0)
                t->env = NULL; /* a damaged checkpoint: the check runs with the agent's environment */
        const char *user = json_string_value(json_object_get(doc, "user"));
        t->user = user ? xstrdup(user) : NULL;
        if (json_is_object(readiness)) {
                t->has_readiness = true;
                const char *name = json_string_value(json_object_get(readiness, "portName"));
                const json_t *names = json_object_get(doc, "portNames");
                for (size_t i = 0; name && i < json_array_size(names) && i < n_ports; i++)
                        if (streq(json_string_value(json_array_get(names, i)) ?: "", name))
                                t->r_port = ports[i];
                const char *path = json_string_value(json_object_get(readiness, "path"));
                t->r_url_path = xstrdup(path && path[0] == '/' ? path : "/");
                t->r_https = streq(json_string_value(json_object_get(readiness, "protocol")) ?: "", "HTTPS");
                t->r_interval_ms = MAX(jint(readiness, "intervalSeconds", 30), 1) * 1000;
                t->r_timeout_ms = MAX(jint(readiness, "timeoutSeconds", 10) * 1000, 100);
                const json_t *codes = json_object_get(readiness, "httpStatusCodesForReady");
                for (size_t i = 0; i < json_array_size(codes) && t->n_codes < ELEMENTSOF(t->codes); i++)
                        t->codes[t->n_codes++] = (long)json_integer_value(json_array_get(codes, i));
                if (t->n_codes == 0)
                        t->codes[t->n_codes++] = 200;
        }
        return t;
}

static char *checkpoint_path(struct health *h, const char *id) {
        return xasprintf("%s/%s.json", h->dir, id);
}

/* ---- lifecycle of runs and tasks ---- */

static void run_closed_cb(uv_handle_t *hd) {
        struct hrun *run = hd->data;
        if (--run->open == 0)
                free(run);
}

static void run_close(struct hrun *run, uv_handle_t *hd) {
        if (!uv_is_closing(hd))
                uv_close(hd, run_closed_cb);
}

/* Ends a run: its handles close, it frees itself when they have. */
static void run_end(struct hrun *run) {
        run->done = true;
        run->c = NULL;
        run->t = NULL;
        if (run->xfer) {
                http_client_cancel(run->h->client, run->xfer);
                run->xfer = NULL;
        }
        if (run->proc.data && run->proc.pid > 0 && !uv_is_closing((uv_handle_t *)&run->proc))
                kill(-run->proc.pid, SIGKILL); /* its exit callback closes the handle */
        if (run->tcp.data)
                run_close(run, (uv_handle_t *)&run->tcp);
        if (run->timeout.data)
                run_close(run, (uv_handle_t *)&run->timeout);
        if (run->open == 0)
                free(run);
}

static void task_timer_closed_cb(uv_handle_t *hd) {
        struct htask *t = hd->data;
        for (size_t i = 0; i < t->n; i++) {
                free(t->checks[i].path);
                free(t->checks[i].command);
        }
        free(t->checks);
        free(t->due);
        strv_free(t->env);
        free(t->user);
        free(t->sandbox);
        free(t->r_url_path);
        free(t->id);
        free(t);
}

static void htask_free(struct htask *t) {
        for (size_t i = 0; i < t->n; i++)
                if (t->checks[i].run)
                        run_end(t->checks[i].run);
        if (t->r_run)
                run_end(t->r_run);
        if (t->timer_open)
                uv_close((uv_handle_t *)&t->timer, task_timer_closed_cb);
        else
                task_timer_closed_cb((uv_handle_t *)&(uv_timer_t){ .data = t });
}

/* ---- reporting ---- */

static void report(struct htask *t) {
        struct health_result rs[HEALTH_MAX_CHECKS];
        for (size_t i = 0; i < t->n; i++)
                rs[i] = t->checks[i].r;
        int healthy = health_results_healthy(rs, t->n);
        t->h->cb(t->h->data, t->id, healthy, !t->has_readiness || t->ready, rs, t->n);
}

/* A check finished with outcome o at now. */
static void check_done(struct hcheck *c, enum health_outcome o, const char *cause) {
        struct htask *t = c->t;
        struct hrun *run = c->run;
        c->run = NULL;
        if (run)
                run_end(run);
        int64_t now = time_now_ms();
        unsigned changed = health_apply(&c->r, &c->pol, t->started_ms, now, o, cause);
        if (o == HEALTH_FAILURE && changed)
                log_debug("task %s: health check failed (%u in a row): %s", t->id, c->r.consecutive_failures,
                          cause ? cause : "");
        if (changed)
                report(t);
        schedule(t);
}

static void readiness_done(struct htask *t, bool ready) {
        struct hrun *run = t->r_run;
        t->r_run = NULL;
        if (run)
                run_end(run);
        if (ready && !t->ready) {
                t->ready = true;
                report(t);
        }
        schedule(t);
}

/* ---- HTTP ---- */

static void http_cb(void *data, int status, const struct http_client_response *resp, struct err *err) {
        struct hrun *run = data;
        run->xfer = NULL; /* the client frees it after this callback */
        if (run->t) {
                struct htask *t = run->t;
                bool ready = false;
                for (size_t i = 0; status >= 0 && i < t->n_codes; i++)
                        ready |= resp->status == t->codes[i];
                readiness_done(t, ready);
                return;
        }
        struct hcheck *c = run->c;
        if (!c) {
                run_end(run);
                return;
        }
        char cause[HEALTH_MAX_CAUSE_LEN + 1];
        if (status < 0) {
                snprintf(cause, sizeof cause, "%s", err_msg(err));
                check_done(c, HEALTH_FAILURE, cause);
                return;
        }
        enum health_outcome o = health_http_outcome(resp->status, c->pol.ignore_1xx, cause, sizeof cause);
        check_done(c, o, o == HEALTH_FAILURE ? cause : NULL);
}

static struct hrun *run_new(struct health *h) {
        struct hrun *run = xcalloc(1, sizeof *run);
        run->h = h;
        return run;
}

static void start_http(struct hrun *run, bool https, int port, const char *path, int64_t timeout_ms) {
        _cleanup_free_ char *url = xasprintf("%s://127.0.0.1:%d%s", https ? "https" : "http", port, path);
        run->xfer = http_client_stream(run->h->client, "GET", url, NULL, NULL, 0, (long)timeout_ms, NULL, http_cb, run);
}

/* ---- TCP ---- */

static void timeout_cb(uv_timer_t *tm) {
        struct hrun *run = tm->data;
        struct hcheck *c = run->c;
        if (c)
                check_done(c, HEALTH_FAILURE, "timed out");
}

static void connect_cb(uv_connect_t *req, int status) {
        struct hrun *run = req->data;
        struct hcheck *c = run->c;
        if (!c || run->done)
                return;
        char cause[HEALTH_MAX_CAUSE_LEN + 1];
        snprintf(cause, sizeof cause, "connect to port %d: %s", c->port, uv_strerror(status));
        check_done(c, status == 0 ? HEALTH_SUCCESS : HEALTH_FAILURE, status == 0 ? NULL : cause);
}

static void arm_timeout(struct hrun *run, int64_t ms) {
        uv_timer_init(run->h->loop, &run->timeout);
        run->timeout.data = run;
        run->open++;
        uv_timer_start(&run->timeout, timeout_cb, (uint64_t)ms, 0);
}

static int start_tcp(struct hrun *run, int port) {
        struct sockaddr_in addr;
        uv_ip4_addr("127.0.0.1", port, &addr);
        uv_tcp_init(run->h->loop, &run->tcp);
        run->tcp.data = run;
        run->open++;
        run->conn.data = run;
        return uv_tcp_connect(&run->conn, &run->tcp, (const struct sockaddr *)&addr, connect_cb);
}

/* ---- COMMAND ---- */

static void exit_cb(uv_process_t *p, int64_t exit_status, int term_signal) {
        struct hrun *run = p->data;
        run_close(run, (uv_handle_t *)p);
        struct hcheck *c = run->c;
        if (!c || run->done)
                return;
        char cause[HEALTH_MAX_CAUSE_LEN + 1];
        if (term_signal)
                snprintf(cause, sizeof cause, "command terminated by signal %d", term_signal);
        else
                snprintf(cause, sizeof cause, "command exited with status %lld", (long long)exit_status);
        bool ok = exit_status == 0 && term_signal == 0;
        check_done(c, ok ? HEALTH_SUCCESS : HEALTH_FAILURE, ok ? NULL : cause);
}

/* Moves pid into the cgroups of the task's process (best effort: the check may run briefly
 * outside, and not at all inside when the task's pid is unknown). */
static void join_task_cgroup(pid_t task_pid, pid_t pid) {
        if (task_pid <= 0)
                return;
        _cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)task_pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        char line[1024];
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                char *ctrl = strchr(line, ':');
                char *rel = ctrl ? strchr(ctrl + 1, ':') : NULL;
                if (!rel || streq(rel + 1, "/"))
                        continue;
                *rel++ = 0;
                ctrl++;
                const char *mount = NULL;
                _cleanup_free_ char *v1 = NULL;
                if (!*ctrl) {
                        mount = "/sys/fs/cgroup";
                } else if (strstr(ctrl, "memory") || strstr(ctrl, "cpu") || strstr(ctrl, "pids")) {
                        v1 = xasprintf("/sys/fs/cgroup/%s", ctrl);
                        mount = v1;
                }
                if (!mount)
                        continue;
                _cleanup_free_ char *procs = xasprintf("%s%s/cgroup.procs", mount, rel);
                int fd = open(procs, O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        char buf[32];
                        int n = snprintf(buf, sizeof buf, "%d", (int)pid);
                        (void)!write(fd, buf, (size_t)n);
                        close(fd);
                }
        }
        fclose(f);
}

static int start_command(struct hrun *run, struct htask *t, const char *command) {
        const char *args[] = { "/bin/sh", "-c", command, NULL };
        uv_stdio_container_t stdio[3] = { { .flags = UV_IGNORE }, { .flags = UV_IGNORE }, { .flags = UV_IGNORE } };
        /* The task's environment, its sandbox as MESOS_SANDBOX, and a PATH if it has none. */
        size_t n = 0;
        while (t->env && t->env[n])
                n++;
        _cleanup_free_ char **env = xcalloc(n + 3, sizeof *env);
        _cleanup_free_ char *sb = xasprintf("MESOS_SANDBOX=%s", t->sandbox ? t->sandbox : "/");
        size_t k = 0;
        bool has_path = false;
        for (size_t i = 0; i < n; i++) {
                has_path |= strncmp(t->env[i], "PATH=", 5) == 0;
                env[k++] = t->env[i];
        }
        env[k++] = sb;
        if (!has_path)
                env[k++] = (char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        uv_process_options_t o = {
                .exit_cb = exit_cb,
                .file = args[0],
                .args = (char **)args,
                .env = env,
                .cwd = t->sandbox,
                .flags = UV_PROCESS_DETACHED,
                .stdio_count = 3,
                .stdio = stdio,
        };
        if (t->user && geteuid() == 0) {
                struct passwd *pw = getpwnam(t->user);
                if (!pw)
                        return -ENOENT;
                o.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
                o.uid = pw->pw_uid;
                o.gid = pw->pw_gid;
        }
        run->proc.data = run;
        int r = uv_spawn(run->h->loop, &run->proc, &o);
        if (r < 0) {
                /* libuv initialised the handle; it still has to be closed */
                run->open++;
                run_close(run, (uv_handle_t *)&run->proc); /* its close callback needs run in data */
                return r;
        }
        run->open++;
        join_task_cgroup(t->pid, run->proc.pid);
        return 0;
}

/* ---- scheduling ---- */

static void start_check(struct hcheck *c) {
        struct htask *t = c->t;
        struct hrun *run = run_new(t->h);
        run->c = c;
        c->run = run;
        char cause[HEALTH_MAX_CAUSE_LEN + 1];
        int r;
        if (c->pol.protocol != HEALTH_COMMAND && c->port == 0) {
                check_done(c, HEALTH_FAILURE, "no port to check");
                return;
        }
        switch (c->pol.protocol) {
        case HEALTH_HTTP:
        case HEALTH_HTTPS:
                start_http(run, c->pol.protocol == HEALTH_HTTPS, c->port, c->path, c->pol.timeout_ms);
                return;
        case HEALTH_TCP:
                arm_timeout(run, c->pol.timeout_ms);
                r = start_tcp(run, c->port);
                if (r < 0) {
                        snprintf(cause, sizeof cause, "connect to port %d: %s", c->port, uv_strerror(r));
                        check_done(c, HEALTH_FAILURE, cause);
                }
                return;
        case HEALTH_COMMAND:
                arm_timeout(run, c->pol.timeout_ms);
                r = c->command ? start_command(run, t, c->command) : -EINVAL;
                if (r < 0) {
                        snprintf(cause, sizeof cause, "cannot run the command: %s", uv_strerror(r));
                        check_done(c, HEALTH_FAILURE, cause);
                }
                return;
        }
}

static void timer_cb(uv_timer_t *tm) {
        struct htask *t = tm->data;
        int64_t now = time_now_ms();
        for (size_t i = 0; i < t->n; i++) {
                struct hcheck *c = &t->checks[i];
                if (!c->run && t->due[i] <= now) {
                        t->due[i] = now + c->pol.interval_ms;
                        start_check(c);
                        if (!hashmap_get(&t->h->tasks, t->id))
                                return; /* cannot happen today; keeps the loop safe */
                }
        }
        if (t->has_readiness && !t->ready && !t->r_run && t->due[t->n] <= now) {
                t->due[t->n] = now + t->r_interval_ms;
                if (t->r_port == 0) {
                        log_warn("task %s: readiness check names no port of the task", t->id);
                } else {
                        struct hrun *run = run_new(t->h);
                        run->t = t;
                        t->r_run = run;
                        start_http(run, t->r_https, t->r_port, t->r_url_path, t->r_timeout_ms);
                }
        }
        schedule(t);
}

/* Arms the task's timer for its earliest due check. */
static void schedule(struct htask *t) {
        int64_t next = INT64_MAX;
        for (size_t i = 0; i < t->n; i++)
                if (!t->checks[i].run)
                        next = MIN(next, t->due[i]);
        if (t->has_readiness && !t->ready && !t->r_run)
                next = MIN(next, t->due[t->n]);
        if (next == INT64_MAX) {
                uv_timer_stop(&t->timer);
                return;
        }
        int64_t now = time_now_ms();
        uv_timer_start(&t->timer, timer_cb, next > now ? (uint64_t)(next - now) : 0, 0);
}

/* ---- public ---- */

int health_new(const struct health_config *cfg, struct health **ret, struct err *err) {
        struct health *h = xcalloc(1, sizeof *h);
        h->loop = cfg->loop;
        h->simulate = cfg->simulate;
        h->cb = cfg->cb;
        h->data = cfg->data;
        h->dir = xstrdup(cfg->dir);
        hashmap_init(&h->tasks);
        hashmap_init(&h->simulated);
        if (!h->simulate) {
                int r = mkdir_p(h->dir, err);
                if (r < 0) {
                        free(h->dir);
                        free(h);
                        return r;
                }
                h->client = http_client_new(cfg->loop);
                http_client_set_insecure(h->client, true);
        }
        *ret = h;
        return 0;
}

void health_free(struct health *h) {
        if (!h)
                return;
        size_t pos = 0;
        void *v;
        while (hashmap_next(&h->tasks, &pos, NULL, &v))
                htask_free(v);
        hashmap_release(&h->tasks);
        pos = 0;
        while (hashmap_next(&h->simulated, &pos, NULL, &v))
                free(v);
        hashmap_release(&h->simulated);
        /* after the runs: cancelling their transfers needs the client */
        if (h->client)
                http_client_free(h->client);
        free(h->dir);
        free(h);
}

static json_t *port_names(const json_t *app) {
        const json_t *pm = json_object_get(json_object_get(app, "container"), "portMappings");
        const json_t *list = json_array_size(pm) > 0 ? pm : json_object_get(app, "portDefinitions");
        json_t *names = json_array();
        size_t i;
        const json_t *p;
        json_array_foreach(list, i, p) {
                const json_t *name = json_object_get(p, "name");
                json_array_append_new(names, json_is_string(name) ? json_copy((json_t *)name) : json_null());
        }
        return names;
}

int health_task_add(struct health *h, const char *task_id, const json_t *app, const int *ports, size_t n_ports,
                    char *const *env, const char *user, struct err *err) {
        const json_t *checks = json_object_get(app, "healthChecks");
        const json_t *readiness = json_object_get(app, "readinessChecks");
        if (json_array_size(checks) == 0 && json_array_size(readiness) == 0)
                return 0;
        if (h->simulate) {
                if (hashmap_get(&h->simulated, task_id))
                        return 0;
                size_t len = strlen(task_id);
                struct sim *sm = xmalloc(sizeof *sm + len + 1);
                sm->flags = (json_array_size(checks) ? SIM_HEALTH : 0) | (json_array_size(readiness) ? SIM_READINESS : 0);
                memcpy(sm->id, task_id, len + 1);
                hashmap_put(&h->simulated, sm->id, sm);
                return 0;
        }
        json_t *jports = json_array();
        for (size_t i = 0; i < n_ports; i++)
                json_array_append_new(jports, json_integer(ports[i]));
        json_t *jenv = json_array();
        for (char *const *e = env; e && *e; e++)
                json_array_append_new(jenv, json_string(*e));
        _cleanup_(json_decrefp) json_t *doc =
                json_pack("{s:O,s:O,s:o,s:o,s:o,s:s?}", "checks", checks ? checks : json_null(), "readiness",
                          readiness ? readiness : json_null(), "portNames", port_names(app), "ports", jports, "env",
                          jenv, "user", user);
        _cleanup_free_ char *text = json_compact(doc);
        _cleanup_free_ char *path = checkpoint_path(h, task_id);
        return file_write_atomic(path, text, strlen(text), err);
}

bool health_task_running(struct health *h, const char *task_id, const char *sandbox, pid_t pid, int *ret_healthy,
                         bool *ret_ready) {
        *ret_healthy = -1;
        *ret_ready = false;
        if (h->simulate) {
                struct sim *sm = hashmap_remove(&h->simulated, task_id);
                if (!sm)
                        return false;
                *ret_healthy = (sm->flags & SIM_HEALTH) ? 1 : -1;
                *ret_ready = true;
                free(sm);
                return true;
        }
        struct htask *t = hashmap_get(&h->tasks, task_id);
        if (t)
                return true; /* RUNNING again (resubscription): checks are already running */
        _cleanup_free_ char *path = checkpoint_path(h, task_id);
        _cleanup_(json_decrefp) json_t *doc = json_load_file(path, 0, NULL);
        if (!json_is_object(doc))
                return false;
        t = htask_from_json(h, task_id, doc);
        t->sandbox = sandbox ? xstrdup(sandbox) : NULL;
        t->pid = pid;
        t->started_ms = time_now_ms();
        for (size_t i = 0; i < t->n; i++)
                t->due[i] = health_first_check_ms(&t->checks[i].pol, t->started_ms);
        t->due[t->n] = t->started_ms;
        uv_timer_init(h->loop, &t->timer);
        t->timer.data = t;
        t->timer_open = true;
        hashmap_put(&h->tasks, t->id, t);
        *ret_ready = !t->has_readiness;
        schedule(t);
        return true;
}

bool health_task_ended(struct health *h, const char *task_id, char *why, size_t cap) {
        if (h->simulate) {
                free(hashmap_remove(&h->simulated, task_id));
                return false;
        }
        _cleanup_free_ char *path = checkpoint_path(h, task_id);
        unlink(path);
        struct htask *t = hashmap_remove(&h->tasks, task_id);
        if (!t)
                return false;
        bool failed = false;
        for (size_t i = 0; i < t->n && !failed; i++) {
                struct hcheck *c = &t->checks[i];
                if (health_failed(&c->r, &c->pol)) {
                        failed = true;
                        snprintf(why, cap, "Task was killed since health check failed %u times in a row. Reason: %s",
                                 c->r.consecutive_failures, c->r.cause[0] ? c->r.cause : "unknown");
                }
        }
        htask_free(t);
        return failed;
}
