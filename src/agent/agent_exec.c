/* agent_exec.c — POST /v1/tasks/{id}/exec: runs a command inside a running task (`runc exec`
 * for containers; for native tasks, in the task's cgroups, sandbox, user and environment) and
 * streams its output back.
 *
 * Request body: {"cmd": ["ls", "-l"]} (argv, 1–256 strings). Response: 200, chunked
 * application/x-ndjson, one JSON object per line, as output arrives:
 *
 *     {"stdout": "text"}   {"stderr": "text"}   …   {"exitCode": 3}        (last line)
 *
 * Output that is not UTF-8 has its non-ASCII bytes replaced by '?'. A command killed by a
 * signal ends with {"exitCode": 128 + signal, "signal": N}. When the client goes away the
 * command is killed. 404 for an unknown task, 409 for a task that is not running. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/runtime_oci.h"
#include "agent/sandbox.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/util.h"

#define MAX_ARGS 256

struct exec_session {
        struct http_request *req; /* NULL once the client is gone */
        uv_process_t proc;
        uv_pipe_t out, err;
        unsigned open_handles;
        bool exited;
        int64_t exit_status;
        int term_signal;
};

static void reply_error(struct http_request *req, int status, const char *msg) {
        _cleanup_(json_decrefp) json_t *j = json_pack("{s:s}", "message", msg);
        _cleanup_free_ char *s = json_compact(j);
        http_respond(req, status, "application/json", s, strlen(s));
}

static void send_record(struct exec_session *s, json_t *rec) {
        if (!s->req) {
                json_decref(rec);
                return;
        }
        _cleanup_free_ char *text = json_compact(rec);
        json_decref(rec);
        size_t n = strlen(text);
        text[n] = '\n';
        if (http_stream_write(s->req, text, n + 1) < 0) {
                /* Aborted by the server (too much unsent): its close callback still comes later,
                 * after this session may be gone — detach from it, and stop the command. */
                http_stream_forget(s->req);
                s->req = NULL;
                if (!s->exited)
                        (void)uv_process_kill(&s->proc, SIGKILL);
        }
}

static void session_handle_closed(uv_handle_t *h) {
        struct exec_session *s = h->data;
        if (--s->open_handles > 0)
                return;
        if (s->req) {
                json_t *end = json_pack("{s:I}", "exitCode", (json_int_t)s->exit_status);
                if (s->term_signal)
                        json_object_set_new(end, "signal", json_integer(s->term_signal));
                send_record(s, end);
                if (s->req) {
                        http_stream_forget(s->req);
                        http_stream_end(s->req);
                }
        }
        free(s);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
        buf->base = xmalloc(65536);
        buf->len = 65536;
}

static void read_cb(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf) {
        struct exec_session *s = stream->data;
        if (n > 0) {
                json_t *data = json_stringn(buf->base, (size_t)n);
                if (!data) {
                        for (ssize_t i = 0; i < n; i++)
                                if ((unsigned char)buf->base[i] >= 0x80)
                                        buf->base[i] = '?';
                        data = json_stringn(buf->base, (size_t)n);
                }
                json_t *rec = json_object();
                json_object_set_new(rec, stream == (uv_stream_t *)&s->out ? "stdout" : "stderr", data);
                send_record(s, rec);
        } else if (n < 0) {
                uv_close((uv_handle_t *)stream, session_handle_closed);
        }
        free(buf->base);
}

static void exit_cb(uv_process_t *p, int64_t status, int sig) {
        struct exec_session *s = p->data;
        s->exited = true;
        s->exit_status = sig ? 128 + sig : status;
        s->term_signal = sig;
        uv_close((uv_handle_t *)p, session_handle_closed);
}

static void client_gone_cb(struct http_request *req, void *data) {
        struct exec_session *s = data;
        s->req = NULL;
        if (!s->exited)
                (void)uv_process_kill(&s->proc, SIGKILL);
}

/* For a native task: join the task's cgroups (the shell's pid, then exec keeps it), then run. */
static const char join_script[] = "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 126; shift; done; shift; "
                                  "exec \"$@\"";

void agent_exec_handle(struct agent *a, struct http_request *req, const char *task_id) {
        struct runtime_task_info info;
        if (runtime_get(a->rt, task_id, &info) < 0) {
                reply_error(req, 404, "Task does not exist on this agent");
                return;
        }
        if (info.state != TASK_RUNNING) {
                _cleanup_free_ char *m = xasprintf("Task is %s, not running", task_state_to_string(info.state));
                reply_error(req, 409, m);
                return;
        }
        size_t len;
        const char *body = http_request_body(req, &len);
        _cleanup_(json_decrefp) json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
        const json_t *cmd = json_object_get(j, "cmd");
        size_t n = json_array_size(cmd);
        if (n == 0 || n > MAX_ARGS) {
                reply_error(req, 400, "Body must be {\"cmd\": [\"program\", \"arg\", …]} with 1-256 strings");
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (!json_is_string(json_array_get(cmd, i)) || (i == 0 && !*json_string_value(json_array_get(cmd, 0)))) {
                        reply_error(req, 400, "cmd must be a list of strings, the first not empty");
                        return;
                }

        _cleanup_free_ char *bundle = xasprintf("%s/containers/%s/config.json", a->cfg.data_dir, task_id);
        bool container = access(bundle, F_OK) == 0;
        _cleanup_free_ char *meta = sandbox_meta_dir(a->cfg.data_dir, task_id);
        _cleanup_(sandbox_checkpoint_release) struct sandbox_checkpoint ck = { 0 };
        struct err e = { 0 };
        if (sandbox_read_checkpoint(meta, &ck, &e) < 0) {
                reply_error(req, 500, err_msg(&e));
                err_release(&e);
                return;
        }

        /* argv: container → runc --root R exec ID cmd…; native → sh -c JOIN sh procs… -- cmd… */
        char **argv = xcalloc(n + 16, sizeof *argv);
        size_t k = 0;
        _cleanup_free_ char *root = NULL;
        char *procs[3] = { 0 };
        _cleanup_free_ char *uid_arg = NULL;
        _cleanup_free_ char *gid_arg = NULL;
        size_t n_procs = 0;
        if (container) {
                const char *bin = a->cfg.oci_runtime ? a->cfg.oci_runtime : "runc";
                root = runtime_oci_state_root(a->cfg.data_dir, bin);
                argv[k++] = (char *)bin;
                argv[k++] = "--root";
                argv[k++] = root;
                argv[k++] = "exec";
                argv[k++] = (char *)task_id;
        } else {
                argv[k++] = "/bin/sh";
                argv[k++] = "-c";
                argv[k++] = (char *)join_script;
                argv[k++] = "sh";
                if (ck.cgroup.version != CGROUP_NONE)
                        n_procs = cgroup_procs_files(&ck.cgroup, procs);
                for (size_t i = 0; i < n_procs; i++)
                        argv[k++] = procs[i];
                argv[k++] = "--";
                if (ck.has_user) {
                        /* Joining the cgroups takes root: drop to the task's user after it. */
                        uid_arg = xasprintf("--reuid=%u", (unsigned)ck.uid);
                        gid_arg = xasprintf("--regid=%u", (unsigned)ck.gid);
                        argv[k++] = "setpriv";
                        argv[k++] = uid_arg;
                        argv[k++] = gid_arg;
                        argv[k++] = "--init-groups";
                        argv[k++] = "--";
                }
        }
        for (size_t i = 0; i < n; i++)
                argv[k++] = (char *)json_string_value(json_array_get(cmd, i));
        argv[k] = NULL;

        struct exec_session *s = xcalloc(1, sizeof *s);
        s->req = req;
        uv_pipe_init(a->loop, &s->out, 0);
        uv_pipe_init(a->loop, &s->err, 0);
        s->out.data = s->err.data = s->proc.data = s;
        uv_stdio_container_t stdio[3] = {
                { .flags = UV_IGNORE },
                { .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&s->out },
                { .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&s->err },
        };
        uv_process_options_t opts = {
                .exit_cb = exit_cb,
                .file = argv[0],
                .args = argv,
                .stdio_count = 3,
                .stdio = stdio,
        };
        if (!container) {
                /* The task's own environment, directory and user. */
                opts.env = ck.spec.env;
                opts.cwd = ck.spec.sandbox;
        }
        int r = uv_spawn(a->loop, &s->proc, &opts);
        free(argv);
        for (size_t i = 0; i < n_procs; i++)
                free(procs[i]);
        if (r < 0) {
                s->open_handles = 2;
                s->req = NULL;
                uv_close((uv_handle_t *)&s->out, session_handle_closed);
                uv_close((uv_handle_t *)&s->err, session_handle_closed);
                _cleanup_free_ char *m = xasprintf("cannot run the command: %s", uv_strerror(r));
                reply_error(req, 500, m);
                return;
        }
        s->open_handles = 3;
        http_respond_stream(req, 200, "application/x-ndjson", client_gone_cb, s);
        uv_read_start((uv_stream_t *)&s->out, alloc_cb, read_cb);
        uv_read_start((uv_stream_t *)&s->err, alloc_cb, read_cb);
}
