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
#include "common/timeutil.h"

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

/* Every task the cluster knows: the master's (live) and, with finished, those whose sandboxes
 * the agents keep (GET /v1/sandboxes on each node). Each entry: {"id", "appId", "host", "state",
 * "ports"?, "startedAt"?, "endedAt"?, "agent": base URL or null, "live": bool, "when": ms}; "when"
 * orders tasks of an app (started, staged, or ended). */
struct task_set {
        json_t *tasks;
        int unreachable_agents;
};

static int64_t iso_ms(const char *s) {
        int64_t ms = 0;
        return s && time_parse_iso(s, &ms) == 0 ? ms : 0;
}

static int agent_call(struct cli *c, const char *url, const char *path, struct http_reply *ret, struct err *err) {
        struct cli_http agent = { 0 };
        int r = cli_http_init(&agent, url, err);
        if (r < 0)
                return r;
        agent.send = c->http.send;
        agent.auth_base = c->http.base; /* the agent checks the master's tokens */
        agent.data = c->http.data;
        agent.timeout_s = 10;
        r = cli_http_call(&agent, "GET", path, NULL, ret, err);
        cli_http_release(&agent);
        return r;
}

static int collect_tasks(struct cli *c, bool finished, struct task_set *ret, struct err *err) {
        _cleanup_(http_reply_release) struct http_reply tasks = { 0 }, nodes = { 0 };
        int r = cli_http_call(&c->http, "GET", "/v2/tasks", NULL, &tasks, err);
        if (r < 0)
                return r;
        r = cli_http_call(&c->http, "GET", "/v1/nodes", NULL, &nodes, err);
        if (r < 0)
                return r;
        json_t *agents = json_object(); /* agent id → {"url", "hostname"} */
        size_t i;
        const json_t *n, *t;
        json_array_foreach(json_object_get(nodes.json, "nodes"), i, n) {
                const char *id = str_field(n, "id"), *addr = str_field(n, "address");
                if (!id)
                        continue;
                _cleanup_free_ char *url = addr ? xasprintf("http://%s", addr) : NULL;
                json_object_set_new(agents, id, json_pack("{s:s?,s:s?,s:s?}", "url", url, "hostname",
                                                          str_field(n, "hostname"), "state", str_field(n, "state")));
        }
        json_t *out = json_array();
        json_array_foreach(json_object_get(tasks.json, "tasks"), i, t) {
                const json_t *agent = json_object_get(agents, str_field(t, "slaveId") ?: "");
                const char *started = str_field(t, "startedAt"), *staged = str_field(t, "stagedAt");
                json_array_append_new(out, json_pack("{s:s?,s:s?,s:s?,s:s?,s:O?,s:s?,s:s?,s:b,s:I}", "id",
                                                     str_field(t, "id"), "appId", str_field(t, "appId"), "host",
                                                     str_field(t, "host"), "state", str_field(t, "state"), "ports",
                                                     json_object_get(t, "ports"), "startedAt", started, "agent",
                                                     str_field(agent, "url"), "live", true, "when",
                                                     (json_int_t)iso_ms(started ? started : staged)));
        }
        int unreachable = 0;
        const char *agent_id;
        const json_t *agent;
        json_object_foreach(agents, agent_id, agent) {
                const char *url = str_field(agent, "url");
                if (!finished || !url || streq(str_field(agent, "state") ?: "", "gone"))
                        continue;
                _cleanup_(http_reply_release) struct http_reply sb = { 0 };
                struct err e = { 0 };
                if (agent_call(c, url, "/v1/sandboxes", &sb, &e) < 0) {
                        fprintf(stderr, "strata: agent %s: %s\n", str_field(agent, "hostname") ?: agent_id, err_msg(&e));
                        err_release(&e);
                        unreachable++;
                        continue;
                }
                json_array_foreach(json_object_get(sb.json, "sandboxes"), i, t) {
                        if (json_is_true(json_object_get(t, "live")))
                                continue; /* the master lists it */
                        json_int_t at = json_integer_value(json_object_get(t, "finishedAt"));
                        char ended[25];
                        time_format_ms(at, ended);
                        json_array_append_new(out, json_pack("{s:s?,s:s?,s:s?,s:s?,s:s,s:s?,s:s?,s:O?,s:b,s:I}", "id",
                                                             str_field(t, "taskId"), "appId", str_field(t, "appId"),
                                                             "host", str_field(agent, "hostname"), "state",
                                                             str_field(t, "state"), "endedAt", ended, "agent", url,
                                                             "message", str_field(t, "message"), "exitCode",
                                                             json_object_get(t, "exitCode"), "live", false, "when", at));
                }
        }
        json_decref(agents);
        ret->tasks = out;
        ret->unreachable_agents = unreachable;
        return 0;
}

static int by_when_desc(const void *a, const void *b) {
        json_int_t x = json_integer_value(json_object_get(*(const json_t *const *)a, "when"));
        json_int_t y = json_integer_value(json_object_get(*(const json_t *const *)b, "when"));
        return x < y ? 1 : x > y ? -1 : 0;
}

static struct cli_table *task_all_table(const json_t *tasks) {
        static const char *const headers[] = { "ID", "APP", "HOST", "STATE", "STARTED", "ENDED" };
        struct cli_table *t = cli_table_new(ELEMENTSOF(headers), headers);
        size_t i;
        const json_t *k;
        json_array_foreach(tasks, i, k)
                cli_table_add(t, (const char *[]){ str_field(k, "id"), str_field(k, "appId"), str_field(k, "host"),
                                                   str_field(k, "state"), str_field(k, "startedAt"),
                                                   str_field(k, "endedAt") });
        return t;
}

static int task_list(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *app = cli_args_get(a, "app");
        _cleanup_free_ char *app_id = NULL;
        if (app) {
                int r = cli_id_absolute(app, &app_id, err);
                if (r < 0)
                        return r;
        }
        if (!cli_args_get(a, "all")) {
                _cleanup_free_ char *path = NULL;
                if (app_id) {
                        _cleanup_free_ char *id = cli_url_escape(app_id + 1, true);
                        path = xasprintf("/v2/apps/%s/tasks", id);
                } else {
                        path = xstrdup("/v2/tasks");
                }
                return cli_get_and_print(c, path, "tasks", JSON_ARRAY, "task list", cli_task_list_table, err);
        }
        struct task_set set = { 0 };
        int r = collect_tasks(c, true, &set, err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *all = set.tasks;
        _cleanup_(json_decrefp) json_t *shown = json_array();
        size_t n = json_array_size(all);
        _cleanup_free_ json_t **v = xcalloc(n ? n : 1, sizeof *v);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                json_t *t = json_array_get(all, i);
                if (!app_id || streq(str_field(t, "appId") ?: "", app_id))
                        v[k++] = t;
        }
        qsort(v, k, sizeof *v, by_when_desc);
        for (size_t i = 0; i < k; i++) {
                json_object_del(v[i], "when");
                json_array_append(shown, v[i]);
        }
        if (cli_structured(c)) {
                cli_print_data(c, shown);
                return 0;
        }
        _cleanup_(cli_table_freep) struct cli_table *t = task_all_table(shown);
        cli_table_print(t, c->out);
        return 0;
}

/* What a TASK argument names: a task id, a unique prefix of one, or an app id (its newest task,
 * or with previous the one before). *ret is a new reference to the entry of collect_tasks. */
static int find_task(struct cli *c, const char *arg, bool previous, bool finished, json_t **ret,
                     struct err *err);

static int resolve_task(struct cli *c, const char *arg, bool previous, json_t **ret, struct err *err) {
        /* A running task's id is answered by the master alone; everything else asks the agents. */
        if (!previous && strstr(arg, ".instance-")) {
                struct err e = { 0 };
                int r = find_task(c, arg, false, false, ret, &e);
                err_release(&e);
                if (r >= 0)
                        return r;
        }
        return find_task(c, arg, previous, true, ret, err);
}

static int find_task(struct cli *c, const char *arg, bool previous, bool finished, json_t **ret,
                     struct err *err) {
        struct task_set set = { 0 };
        int r = collect_tasks(c, finished, &set, err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *all = set.tasks;
        size_t i, n_prefix = 0;
        json_t *t, *exact = NULL, *prefixed = NULL;
        json_array_foreach(all, i, t) {
                const char *id = str_field(t, "id") ?: "";
                if (streq(id, arg))
                        exact = t;
                else if (strncmp(id, arg, strlen(arg)) == 0) {
                        prefixed = t;
                        n_prefix++;
                }
        }
        if (!exact && n_prefix == 1 && strlen(arg) >= 4)
                exact = prefixed;
        if (exact && !previous) {
                *ret = json_incref(exact);
                return 0;
        }
        /* An app: its tasks, newest first. */
        _cleanup_free_ char *app_id = NULL;
        if (cli_id_absolute(arg, &app_id, err) < 0)
                return -ERR_USAGE;
        if (exact)
                app_id = (free(app_id), xstrdup(str_field(exact, "appId") ?: ""));
        size_t n = json_array_size(all), k = 0;
        _cleanup_free_ json_t **v = xcalloc(n ? n : 1, sizeof *v);
        json_array_foreach(all, i, t)
                if (streq(str_field(t, "appId") ?: "", app_id))
                        v[k++] = t;
        qsort(v, k, sizeof *v, by_when_desc);
        size_t want = 0;
        if (exact) /* --previous of a task: the app's task before it */
                for (size_t j = 0; j < k; j++)
                        if (v[j] == exact)
                                want = j + 1;
        if (!exact && previous)
                want = 1;
        if (k == 0) {
                if (n_prefix > 1)
                        return err_set(err, -ERR_USAGE, "'%s' is the start of %zu task ids: give more of it", arg,
                                       n_prefix);
                return err_set(err, -ERR_NOT_FOUND,
                               "Task '%s' does not exist (no task of that id, id prefix or app, running or kept by "
                               "an agent)%s",
                               arg, set.unreachable_agents ? "; some agents did not answer" : "");
        }
        if (want >= k)
                return err_set(err, -ERR_NOT_FOUND, "%s has no task before %s", app_id,
                               str_field(v[k - 1], "id") ?: "?");
        *ret = json_incref(v[want]);
        return 0;
}

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
        interrupted = 1;
}

static bool is_terminal(const json_t *task) {
        const char *state = str_field(task, "state") ?: "";
        return !json_is_true(json_object_get(task, "live")) ||
               (strcmp(state, "TASK_RUNNING") && strcmp(state, "TASK_STARTING") && strcmp(state, "TASK_STAGING") &&
                strcmp(state, "TASK_KILLING"));
}

static int read_at(struct cli_http *agent, const char *tid, const char *file, long long offset, long long length,
                   struct http_reply *ret, struct err *err) {
        _cleanup_free_ char *p = xasprintf("/files/read?task=%s&file=%s&offset=%lld&length=%lld", tid, file, offset,
                                           length);
        return cli_http_call(agent, "GET", p, NULL, ret, err);
}

/* The offset where the last n lines of the file begin (tail -n: a last line without '\n' counts),
 * reading backwards in chunks; size is the file's size. */
static int tail_offset(struct cli_http *agent, const char *tid, const char *file, long long size, long long n,
                       long long *ret, struct err *err) {
        long long pos = size, found = 0;
        bool last_byte = true;
        while (pos > 0) {
                long long len = MIN(pos, (long long)LOG_CHUNK);
                _cleanup_(http_reply_release) struct http_reply chunk = { 0 };
                int r = read_at(agent, tid, file, pos - len, len, &chunk, err);
                if (r < 0)
                        return r;
                const char *data = str_field(chunk.json, "data") ?: "";
                long long got = (long long)json_string_length(json_object_get(chunk.json, "data"));
                if (got != len)
                        return err_set(err, -EBADMSG, "the agent sent %lld bytes of %s for %lld asked", got, file, len);
                for (long long i = got - 1; i >= 0; i--) {
                        if (data[i] != '\n')
                                continue;
                        if (last_byte && pos - len + i == size - 1)
                                continue; /* the newline that ends the last line */
                        if (++found == n) {
                                *ret = pos - len + i + 1;
                                return 0;
                        }
                }
                last_byte = false;
                pos -= len;
        }
        *ret = 0;
        return 0;
}

static int task_log(struct cli *c, const struct cli_args *a, struct err *err) {
        const char *file = cli_args_get(a, "stderr") ? "stderr" : "stdout";
        bool follow = cli_args_get(a, "follow") != NULL;
        bool previous = cli_args_get(a, "previous") != NULL;
        long long lines = -1;
        const char *lines_s = cli_args_get(a, "lines");
        if (lines_s) {
                char *end;
                errno = 0;
                lines = strtoll(lines_s, &end, 10);
                if (errno || end == lines_s || *end || lines < 0)
                        return err_set(err, -ERR_USAGE, "-n wants a number of lines from 0, not '%s'", lines_s);
        }
        _cleanup_(json_decrefp) json_t *task = NULL;
        int r = resolve_task(c, a->pos[0], previous, &task, err);
        if (r < 0)
                return r;
        /* Following an app (not one task id): a replacement task is followed too. */
        bool by_app = !streq(str_field(task, "id") ?: "", a->pos[0]);
        if (follow)
                signal(SIGINT, on_sigint);
        for (;;) {
                const char *task_id = str_field(task, "id") ?: "";
                const char *url = str_field(task, "agent");
                if (!url)
                        return err_set(err, -ERR_NOT_FOUND, "Task '%s' has no agent address", task_id);
                struct cli_http agent = { 0 };
                r = cli_http_init(&agent, url, err);
                if (r < 0)
                        return r;
                agent.send = c->http.send;
                agent.auth_base = c->http.base; /* the agent checks the master's tokens */
                agent.data = c->http.data;
                _cleanup_free_ char *tid = cli_url_escape(task_id, false);
                long long offset = 0;
                if (lines >= 0) {
                        _cleanup_free_ char *p = xasprintf("/files/read?task=%s&file=%s&offset=-1", tid, file);
                        _cleanup_(http_reply_release) struct http_reply size = { 0 };
                        r = cli_http_call(&agent, "GET", p, NULL, &size, err);
                        if (r >= 0) {
                                long long total = (long long)json_integer_value(json_object_get(size.json, "offset"));
                                r = lines == 0 ? (offset = total, 0)
                                               : tail_offset(&agent, tid, file, total, lines, &offset, err);
                        }
                        if (r < 0) {
                                cli_http_release(&agent);
                                return err_wrap(err, "cannot read %s of %s", file, task_id);
                        }
                        lines = -1; /* a replacement task is printed from its start */
                }
                bool terminal = is_terminal(task);
                int idle = 0;
                while (!interrupted) {
                        _cleanup_(http_reply_release) struct http_reply chunk = { 0 };
                        r = read_at(&agent, tid, file, offset, LOG_CHUNK, &chunk, err);
                        if (r == -ERR_NOT_FOUND && follow && !terminal && offset == 0) {
                                /* A task just placed has no sandbox yet: wait for it. */
                                err_release(err);
                                struct timespec ts = { 0, 500 * 1000 * 1000 };
                                nanosleep(&ts, NULL);
                                _cleanup_(json_decrefp) json_t *now = NULL;
                                struct err e2 = { 0 };
                                if (resolve_task(c, task_id, false, &now, &e2) < 0 || is_terminal(now))
                                        terminal = true;
                                err_release(&e2);
                                continue;
                        }
                        if (r < 0) {
                                cli_http_release(&agent);
                                return err_wrap(err, "cannot read %s of %s", file, task_id);
                        }
                        const json_t *data = json_object_get(chunk.json, "data");
                        size_t n = json_string_length(data);
                        fwrite(json_string_value(data) ?: "", 1, n, c->out);
                        fflush(c->out);
                        offset += (long long)n;
                        if (n == LOG_CHUNK)
                                continue;
                        if (!follow)
                                break;
                        /* Like tail -f: poll the agent twice a second; stop when the task ended and
                         * its output has been read. */
                        if (n == 0 && terminal && ++idle > 2)
                                break;
                        struct timespec ts = { 0, 500 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                        if (n == 0 && !terminal) {
                                _cleanup_(json_decrefp) json_t *now = NULL;
                                struct err e2 = { 0 };
                                if (resolve_task(c, task_id, false, &now, &e2) < 0 || is_terminal(now))
                                        terminal = true;
                                err_release(&e2);
                        }
                }
                cli_http_release(&agent);
                if (!follow || !by_app || interrupted)
                        return 0;
                /* The task ended: follow the app's next one (a restart) once it exists. */
                _cleanup_(json_decrefp) json_t *next = NULL;
                while (!interrupted) {
                        struct err e2 = { 0 };
                        json_t *cand = NULL;
                        if (resolve_task(c, str_field(task, "appId") ?: a->pos[0], false, &cand, &e2) == 0 &&
                            !streq(str_field(cand, "id") ?: "", task_id)) {
                                next = cand;
                                break;
                        }
                        json_decref(cand);
                        err_release(&e2);
                        struct timespec ts = { 0, 500 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
                if (!next)
                        return 0;
                fprintf(stderr, "strata: task %s ended (%s); following %s\n", task_id, str_field(task, "state") ?: "?",
                        str_field(next, "id") ?: "?");
                json_decref(task);
                task = TAKE_PTR(next);
        }
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
        _cleanup_(json_decrefp) json_t *task = NULL;
        int r = resolve_task(c, a->pos[0], false, &task, err);
        if (r < 0)
                return r;
        const char *task_id = str_field(task, "id") ?: a->pos[0];
        if (is_terminal(task))
                return err_set(err, -ERR_CONFLICT, "Task '%s' is not running", task_id);
        if (!str_field(task, "agent"))
                return err_set(err, -ERR_NOT_FOUND, "Task '%s' has no agent address", task_id);
        struct cli_http agent = { 0 };
        r = cli_http_init(&agent, str_field(task, "agent"), err);
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
        { "all", 0, NULL, "also finished tasks whose sandboxes the agents keep (asks every agent)" },
        { NULL },
};

static const struct cli_flag log_flags[] = {
        { "follow", 'f', NULL, "keep printing as the task writes, like tail -f; for an APP, across restarts" },
        { "stderr", 0, NULL, "the task's stderr instead of its stdout" },
        { "lines", 'n', "N", "start with exactly the last N lines" },
        { "previous", 'p', NULL, "the app's task before the newest (or before TASK): what crashed" },
        { NULL },
};

static const struct cli_verb task_verbs[] = {
        {
                .name = "list",
                .summary = "List tasks: id, app, host, state, ports (--all: finished ones too)",
                .description = "Without --all: the master's tasks (GET /v2/tasks). With --all: also the finished tasks\n"
                               "whose sandboxes the agents keep (GET /v1/sandboxes on each agent), newest first.\n",
                .examples = "strata task list\nstrata task ls --app /web\nstrata task list --all -a /web\n",
                .max_args = 0,
                .flags = list_flags,
                .run = task_list,
        },
        {
                .name = "log",
                .synopsis = "TASK|APP",
                .summary = "Print a task's stdout (or --stderr), -f to follow; finished tasks too",
                .description = "TASK is a task id or a unique prefix of one (4 characters or more); APP means the\n"
                               "app's newest task, --previous the one before. Finished tasks are read from the\n"
                               "sandboxes agents keep (see --sandbox-keep and --sandbox-max-age of 'strata agent').\n"
                               "Reads the file on the task's agent (Mesos-compatible /files/read).\n",
                .examples = "strata task log /web\nstrata task logs /web --previous --stderr\n"
                            "strata task log web.instance-4f2a -n 20\nstrata task log /web -f\n",
                .min_args = 1,
                .max_args = 1,
                .flags = log_flags,
                .run = task_log,
        },
        {
                .name = "exec",
                .synopsis = "TASK -- CMD [ARG...]",
                .summary = "Run a command inside a running task; exits with its exit code",
                .examples = "strata task exec web.instance-4f2a -- ls -l\n",
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
