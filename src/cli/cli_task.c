/* cli_task.c — noun `task`: running instances (GET /v2/tasks) and their sandbox logs, read
 * from the agent that runs them (Mesos-compatible /files/read). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_internal.h"
#include "cli/cli_output.h"
#include "common/alloc.h"

#define LOG_CHUNK (256 * 1024)

struct cli_table *cli_task_list_table(const json_t *tasks) {
        static const char *const headers[] = { "ID", "APP", "HOST", "STATE", "PORTS", "STARTED" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *k;
        json_array_foreach(tasks, i, k) {
                _cleanup_free_ char *ports = cli_json_cell(json_object_get(k, "ports"));
                cli_table_add(t, (const char *[]){ json_string_value(json_object_get(k, "id")),
                                                   json_string_value(json_object_get(k, "appId")),
                                                   json_string_value(json_object_get(k, "host")),
                                                   json_string_value(json_object_get(k, "state")), ports,
                                                   json_string_value(json_object_get(k, "startedAt")) });
        }
        return t;
}

static int task_list(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *app = cli_args_get(a, "app");
        _cleanup_free_ char *path = NULL;
        if (app) {
                _cleanup_free_ char *id = cli_url_escape(app[0] == '/' ? app + 1 : app, true);
                path = xasprintf("/v2/apps/%s/tasks", id);
        } else {
                path = xstrdup("/v2/tasks");
        }
        return cli_get_and_print(c, path, "tasks", JSON_ARRAY, "task list", cli_task_list_table, err);
}

/* Finds the task and the agent that runs it. */
static int locate(struct cli *c, const char *task_id, char **ret_agent_url, bool *ret_terminal, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        int r = cli_http_call(&c->http, "GET", "/v2/tasks", NULL, &reply, err);
        if (r < 0)
                return r;
        size_t i;
        const json_t *t, *found = NULL;
        json_array_foreach(json_object_get(reply.json, "tasks"), i, t)
                if (streq(json_string_value(json_object_get(t, "id")) ?: "", task_id))
                        found = t;
        if (!found)
                return err_set(err, -ERR_NOT_FOUND, "Task '%s' does not exist", task_id);
        const char *state = json_string_value(json_object_get(found, "state")) ?: "";
        *ret_terminal = strcmp(state, "TASK_RUNNING") && strcmp(state, "TASK_STARTING") &&
                        strcmp(state, "TASK_STAGING") && strcmp(state, "TASK_KILLING");
        const char *slave = json_string_value(json_object_get(found, "slaveId"));
        if (!slave)
                return err_set(err, -ERR_NOT_FOUND, "Task '%s' has no agent", task_id);
        _cleanup_free_ char *nid = cli_url_escape(slave, false);
        _cleanup_free_ char *npath = xasprintf("/v1/nodes/%s", nid);
        _cleanup_(http_reply_release) struct http_reply node = { 0 };
        r = cli_http_call(&c->http, "GET", npath, NULL, &node, err);
        if (r < 0)
                return r;
        const char *addr = json_string_value(json_object_get(json_object_get(node.json, "node"), "address"));
        if (!addr)
                return err_set(err, -EBADMSG, "agent %s has no address", slave);
        *ret_agent_url = xasprintf("http://%s", addr);
        return 0;
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
        interrupted = 1;
}

static int task_log(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *task_id = a->pos[0];
        const char *file = cli_args_get(a, "stderr") ? "stderr" : "stdout";
        bool follow = cli_args_get(a, "follow") != NULL;
        _cleanup_free_ char *agent_url = NULL;
        bool terminal = false;
        int r = locate(c, task_id, &agent_url, &terminal, err);
        if (r < 0)
                return r;
        struct cli_http agent = { 0 };
        r = cli_http_init(&agent, agent_url, err);
        if (r < 0)
                return r;
        agent.send = c->http.send;
        agent.auth_base = c->http.base; /* the agent checks the master's tokens */
        agent.data = c->http.data;
        _cleanup_free_ char *tid = cli_url_escape(task_id, false);
        long long offset = 0;
        const char *lines = cli_args_get(a, "lines");
        if (lines) {
                /* Start near the end: the size, less a generous estimate of N lines. */
                _cleanup_free_ char *p = xasprintf("/files/read?task=%s&file=%s&offset=-1", tid, file);
                _cleanup_(http_reply_release) struct http_reply size = { 0 };
                if (cli_http_call(&agent, "GET", p, NULL, &size, err) >= 0) {
                        long long n = (long long)json_integer_value(json_object_get(size.json, "offset"));
                        long long want = atoll(lines) * 200;
                        offset = n > want ? n - want : 0;
                }
        }
        if (follow)
                signal(SIGINT, on_sigint);
        int idle = 0;
        while (!interrupted) {
                _cleanup_free_ char *p = xasprintf("/files/read?task=%s&file=%s&offset=%lld&length=%d", tid, file,
                                                   offset, LOG_CHUNK);
                _cleanup_(http_reply_release) struct http_reply chunk = { 0 };
                r = cli_http_call(&agent, "GET", p, NULL, &chunk, err);
                if (r < 0) {
                        cli_http_release(&agent);
                        return err_wrap(err, "cannot read %s of %s", file, task_id);
                }
                const char *data = json_string_value(json_object_get(chunk.json, "data")) ?: "";
                size_t n = strlen(data);
                fwrite(data, 1, n, c->out);
                fflush(c->out);
                offset += (long long)n;
                if (n == LOG_CHUNK)
                        continue;
                if (!follow)
                        break;
                /* Like tail -f: poll the agent twice a second; stop when the task ended and its
                 * output has been read. */
                if (n == 0 && terminal && ++idle > 2)
                        break;
                struct timespec ts = { 0, 500 * 1000 * 1000 };
                nanosleep(&ts, NULL);
                if (n == 0 && !terminal) {
                        _cleanup_free_ char *ignored = NULL;
                        struct err e2 = { 0 };
                        if (locate(c, task_id, &ignored, &terminal, &e2) < 0)
                                terminal = true;
                        err_release(&e2);
                }
        }
        cli_http_release(&agent);
        return 0;
}

/* Replays the agent's exec records (agent_exec.c) and returns the command's exit code. */
static int replay_exec(struct cli *c, const char *body, size_t len, struct err *err) {
        int code = -1;
        const char *p = body, *end = body + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                _cleanup_(json_decrefp) json_t *rec = json_loadb(p, n, 0, NULL);
                const char *out = json_string_value(json_object_get(rec, "stdout"));
                const char *errs = json_string_value(json_object_get(rec, "stderr"));
                if (out)
                        fwrite(out, 1, json_string_length(json_object_get(rec, "stdout")), c->out);
                if (errs) {
                        fflush(c->out);
                        fwrite(errs, 1, json_string_length(json_object_get(rec, "stderr")), stderr);
                }
                if (json_is_integer(json_object_get(rec, "exitCode")))
                        code = (int)json_integer_value(json_object_get(rec, "exitCode"));
                p += n + 1;
        }
        if (code < 0)
                return err_set(err, -EBADMSG, "the agent ended the stream without the command's exit code");
        return code;
}

static int task_exec(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *task_id = a->pos[0];
        _cleanup_free_ char *agent_url = NULL;
        bool terminal = false;
        int r = locate(c, task_id, &agent_url, &terminal, err);
        if (r < 0)
                return r;
        if (terminal)
                return err_set(err, -ERR_CONFLICT, "Task '%s' is not running", task_id);
        struct cli_http agent = { 0 };
        r = cli_http_init(&agent, agent_url, err);
        if (r < 0)
                return r;
        agent.send = c->http.send;
        agent.auth_base = c->http.base; /* the agent checks the master's tokens */
        agent.data = c->http.data;
        _cleanup_(json_decrefp) json_t *cmd = json_array();
        for (int i = 1; i < a->n_pos; i++)
                json_array_append_new(cmd, json_string(a->pos[i]));
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:O}", "cmd", cmd);
        _cleanup_free_ char *tid = cli_url_escape(task_id, false);
        _cleanup_free_ char *path = xasprintf("/v1/tasks/%s/exec", tid);
        _cleanup_(http_reply_release) struct http_reply reply = { 0 };
        r = cli_http_call(&agent, "POST", path, body, &reply, err);
        cli_http_release(&agent);
        /* Several records are not one JSON document: a 200 whose body "is not JSON" is normal. */
        if (r < 0 && !(r == -EBADMSG && reply.status == 200))
                return err_wrap(err, "cannot exec in %s", task_id);
        err_release(err);
        r = replay_exec(c, reply.body ? reply.body : "", reply.body_len, err);
        if (r < 0)
                return r;
        c->exit_status = r;
        return 0;
}

static const struct cli_flag list_flags[] = {
        { "app", 'a', "ID", "only the tasks of this app" },
        { NULL },
};

static const struct cli_flag log_flags[] = {
        { "follow", 'f', NULL, "keep printing as the task writes, like tail -f" },
        { "stderr", 0, NULL, "the task's stderr instead of its stdout" },
        { "lines", 'n', "N", "start with about the last N lines" },
        { NULL },
};

static const struct cli_verb task_verbs[] = {
        {
                .name = "list",
                .summary = "List tasks: id, app, host, state, ports",
                .max_args = 0,
                .flags = list_flags,
                .run = task_list,
        },
        {
                .name = "log",
                .synopsis = "TASK",
                .summary = "Print a task's stdout (or --stderr), -f to follow",
                .description = "Reads the file from the sandbox on the agent that runs the task (Mesos-compatible\n"
                               "/files/read on the agent's API).\n",
                .min_args = 1,
                .max_args = 1,
                .flags = log_flags,
                .run = task_log,
        },
        {
                .name = "exec",
                .synopsis = "TASK -- CMD [ARG...]",
                .summary = "Run a command inside a running task; exits with its exit code",
                .description = "Containers: the command runs in the container (runc exec). Native tasks: in the\n"
                               "task's cgroups, sandbox directory, environment and user. Output is printed when\n"
                               "the command ends.\n",
                .min_args = 2,
                .max_args = -1,
                .run = task_exec,
        },
        { NULL },
};

const struct cli_noun cli_noun_task = {
        .name = "task",
        .summary = "List tasks, read their logs, run commands in them",
        .verbs = task_verbs,
};
