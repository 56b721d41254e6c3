/* sandbox.c — task directories and the checkpoint files of the native runtime. */
#include "agent/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/util.h"

#define META_FILE_MAX (4u << 20) /* a checkpoint larger than this is corrupt */

static void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

char *sandbox_meta_root(const char *work_dir) {
        return xasprintf("%s/meta/tasks", work_dir);
}

char *sandbox_meta_dir(const char *work_dir, const char *task_id) {
        return xasprintf("%s/meta/tasks/%s", work_dir, task_id);
}

char *sandbox_default_dir(const char *work_dir, const char *task_id) {
        return xasprintf("%s/sandboxes/%s", work_dir, task_id);
}

/* tmp + rename; fsync of the file and the directory only when durable. */
static int write_json(const char *meta, const char *name, json_t *j, bool durable, struct err *err) {
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
        _cleanup_free_ char *path = xasprintf("%s/%s", meta, name);
        if (!text)
                return err_set(err, -ENOMEM, "cannot encode '%s'", path);
        if (durable)
                return file_write_atomic(path, text, strlen(text), err);
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
        _cleanup_(closep) int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return err_set(err, -errno, "cannot create '%s': %m", tmp);
        size_t n = strlen(text);
        for (const char *p = text; n > 0;) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return err_set(err, -errno, "cannot write '%s': %m", tmp);
                }
                p += w;
                n -= (size_t)w;
        }
        if (rename(tmp, path) < 0)
                return err_set(err, -errno, "cannot rename '%s': %m", tmp);
        return 0;
}

static int read_json(const char *meta, const char *name, json_t **ret) {
        _cleanup_free_ char *path = xasprintf("%s/%s", meta, name);
        _cleanup_free_ char *text = NULL;
        int r = file_read_all(path, META_FILE_MAX, &text, NULL, NULL);
        if (r < 0)
                return r;
        json_t *j = json_loads(text, 0, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

static json_t *strv_to_json(char **v) {
        json_t *a = json_array();
        for (char **p = v; p && *p; p++)
                json_array_append_new(a, json_string(*p));
        return a;
}

void sandbox_checkpoint_release(struct sandbox_checkpoint *c) {
        task_spec_release(&c->spec);
        free(c->groups);
        cgroup_release(&c->cgroup);
        memset(c, 0, sizeof *c);
}

int sandbox_write_checkpoint(const char *meta, const struct sandbox_checkpoint *c, struct err *err) {
        const struct task_spec *s = &c->spec;
        _cleanup_(json_decrefp) json_t *j =
                json_pack("{s:s, s:s, s:o, s:f, s:f, s:f, s:i, s:I, s:I, s:o, s:I}", "task_id", s->task_id,
                          "sandbox", s->sandbox, "env", strv_to_json(s->env), "cpus", s->cpus, "mem_mib",
                          s->mem_mib, "disk_mib", s->disk_mib, "gpus", (int)s->gpus, "pids_max",
                          (json_int_t)s->pids_max, "kill_grace_ms", (json_int_t)s->kill_grace_ms, "cgroup",
                          cgroup_to_json(&c->cgroup), "launched_ms", (json_int_t)c->launched_ms);
        if (s->cmd)
                json_object_set_new(j, "cmd", json_string(s->cmd));
        else
                json_object_set_new(j, "argv", strv_to_json(s->argv));
        if (s->user)
                json_object_set_new(j, "user", json_string(s->user));
        if (c->has_user) {
                json_object_set_new(j, "uid", json_integer(c->uid));
                json_object_set_new(j, "gid", json_integer(c->gid));
                json_t *g = json_array();
                for (size_t i = 0; i < c->n_groups; i++)
                        json_array_append_new(g, json_integer(c->groups[i]));
                json_object_set_new(j, "groups", g);
        }
        if (s->n_fetch) {
                json_t *f = json_array();
                for (size_t i = 0; i < s->n_fetch; i++) {
                        json_t *e = json_pack("{s:s, s:b, s:b}", "uri", s->fetch[i].uri, "extract",
                                              s->fetch[i].extract, "executable", s->fetch[i].executable);
                        if (s->fetch[i].dest_path)
                                json_object_set_new(e, "dest_path", json_string(s->fetch[i].dest_path));
                        json_array_append_new(f, e);
                }
                json_object_set_new(j, "fetch", f);
        }
        return write_json(meta, "task.json", j, true, err);
}

static char *str_or_null(const json_t *j, const char *key) {
        const char *s = json_string_value(json_object_get(j, key));
        return s ? xstrdup(s) : NULL;
}

int sandbox_read_checkpoint(const char *meta, struct sandbox_checkpoint *ret, struct err *err) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        int r = read_json(meta, "task.json", &j);
        if (r == -ENOENT)
                return err_set(err, r, "no checkpoint in '%s'", meta);
        if (r < 0)
                return err_set(err, -EINVAL, "unreadable checkpoint '%s/task.json'", meta);
        struct sandbox_checkpoint c = {0};
        struct task_spec *s = &c.spec;
        s->task_id = str_or_null(j, "task_id");
        s->sandbox = str_or_null(j, "sandbox");
        s->cmd = str_or_null(j, "cmd");
        s->user = str_or_null(j, "user");
        s->cpus = json_number_value(json_object_get(j, "cpus"));
        s->mem_mib = json_number_value(json_object_get(j, "mem_mib"));
        s->disk_mib = json_number_value(json_object_get(j, "disk_mib"));
        s->gpus = (unsigned)json_integer_value(json_object_get(j, "gpus"));
        s->pids_max = json_integer_value(json_object_get(j, "pids_max"));
        s->kill_grace_ms = json_integer_value(json_object_get(j, "kill_grace_ms"));
        c.launched_ms = json_integer_value(json_object_get(j, "launched_ms"));
        r = strv_from_json(json_object_get(j, "env"), &s->env);
        if (r >= 0)
                r = strv_from_json(json_object_get(j, "argv"), &s->argv);
        if (r >= 0)
                r = cgroup_from_json(json_object_get(j, "cgroup"), &c.cgroup);
        if (r >= 0 && json_object_get(j, "uid")) {
                c.has_user = true;
                c.uid = (uid_t)json_integer_value(json_object_get(j, "uid"));
                c.gid = (gid_t)json_integer_value(json_object_get(j, "gid"));
                json_t *g = json_object_get(j, "groups");
                c.n_groups = json_array_size(g);
                c.groups = xcalloc(c.n_groups + 1, sizeof *c.groups);
                for (size_t i = 0; i < c.n_groups; i++)
                        c.groups[i] = (gid_t)json_integer_value(json_array_get(g, i));
        }
        json_t *f = json_object_get(j, "fetch");
        if (r >= 0 && json_array_size(f)) {
                s->n_fetch = json_array_size(f);
                s->fetch = xcalloc(s->n_fetch, sizeof *s->fetch);
                for (size_t i = 0; i < s->n_fetch; i++) {
                        json_t *e = json_array_get(f, i);
                        s->fetch[i].uri = str_or_null(e, "uri");
                        s->fetch[i].dest_path = str_or_null(e, "dest_path");
                        s->fetch[i].extract = json_is_true(json_object_get(e, "extract"));
                        s->fetch[i].executable = json_is_true(json_object_get(e, "executable"));
                }
        }
        if (r < 0 || !s->task_id || !s->sandbox || (!s->cmd && !(s->argv && s->argv[0]))) {
                sandbox_checkpoint_release(&c);
                return err_set(err, -EINVAL, "malformed checkpoint '%s/task.json'", meta);
        }
        *ret = c;
        return 0;
}

int sandbox_write_shim(const char *meta, pid_t pid, uint64_t start_time, struct err *err) {
        _cleanup_(json_decrefp) json_t *j =
                json_pack("{s:i, s:I}", "pid", (int)pid, "start_time", (json_int_t)start_time);
        return write_json(meta, "shim.json", j, false, err);
}

int sandbox_read_shim(const char *meta, pid_t *ret_pid, uint64_t *ret_start_time) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        int r = read_json(meta, "shim.json", &j);
        if (r < 0)
                return r;
        json_int_t pid = json_integer_value(json_object_get(j, "pid"));
        if (pid <= 0)
                return -EINVAL;
        *ret_pid = (pid_t)pid;
        *ret_start_time = (uint64_t)json_integer_value(json_object_get(j, "start_time"));
        return 0;
}

int sandbox_write_running(const char *meta, pid_t pid, int64_t started_ms, struct err *err) {
        _cleanup_(json_decrefp) json_t *j =
                json_pack("{s:i, s:I}", "pid", (int)pid, "started_ms", (json_int_t)started_ms);
        return write_json(meta, "running.json", j, false, err);
}

int sandbox_read_running(const char *meta, pid_t *ret_pid, int64_t *ret_started_ms) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        int r = read_json(meta, "running.json", &j);
        if (r < 0)
                return r;
        json_int_t pid = json_integer_value(json_object_get(j, "pid"));
        if (pid <= 0)
                return -EINVAL;
        *ret_pid = (pid_t)pid;
        if (ret_started_ms)
                *ret_started_ms = json_integer_value(json_object_get(j, "started_ms"));
        return 0;
}

void sandbox_exit_release(struct sandbox_exit *e) {
        free(e->error);
        free(e->stderr_tail);
        memset(e, 0, sizeof *e);
}

int sandbox_write_exit(const char *meta, const struct sandbox_exit *e, struct err *err) {
        _cleanup_(json_decrefp) json_t *j =
                json_pack("{s:b, s:i, s:i, s:i, s:b, s:I, s:I, s:I}", "started", e->started, "pid",
                          (int)e->pid, "exit_code", e->exit_code, "signal", e->signal, "oom", e->oom,
                          "mem_limit", (json_int_t)e->mem_limit, "mem_max_usage",
                          (json_int_t)e->mem_max_usage, "finished_ms", (json_int_t)e->finished_ms);
        if (e->error)
                json_object_set_new(j, "error", json_string(e->error));
        if (e->stderr_tail)
                json_object_set_new(j, "stderr_tail", json_string(e->stderr_tail));
        return write_json(meta, "exit.json", j, true, err);
}

int sandbox_read_exit(const char *meta, struct sandbox_exit *ret) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        int r = read_json(meta, "exit.json", &j);
        if (r < 0)
                return r;
        struct sandbox_exit e = {
                .started = json_is_true(json_object_get(j, "started")),
                .pid = (pid_t)json_integer_value(json_object_get(j, "pid")),
                .exit_code = (int)json_integer_value(json_object_get(j, "exit_code")),
                .signal = (int)json_integer_value(json_object_get(j, "signal")),
                .oom = json_is_true(json_object_get(j, "oom")),
                .mem_limit = (uint64_t)json_integer_value(json_object_get(j, "mem_limit")),
                .mem_max_usage = (uint64_t)json_integer_value(json_object_get(j, "mem_max_usage")),
                .finished_ms = json_integer_value(json_object_get(j, "finished_ms")),
                .error = str_or_null(j, "error"),
                .stderr_tail = str_or_null(j, "stderr_tail"),
        };
        *ret = e;
        return 0;
}

int sandbox_mark_kill(const char *meta) {
        _cleanup_free_ char *path = xasprintf("%s/kill", meta);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

bool sandbox_kill_requested(const char *meta) {
        _cleanup_free_ char *path = xasprintf("%s/kill", meta);
        return access(path, F_OK) == 0;
}

int sandbox_create(const char *sandbox, const char *meta, bool chown_to, uid_t uid, gid_t gid,
                   struct err *err) {
        int r = mkdir_p(meta, err);
        if (r < 0)
                return r;
        if (chmod(meta, 0700) < 0)
                return err_set(err, -errno, "cannot chmod '%s': %m", meta);
        r = mkdir_p(sandbox, err);
        if (r < 0)
                return r;
        if (chown_to && chown(sandbox, uid, gid) < 0)
                return err_set(err, -errno, "cannot give sandbox '%s' to %u:%u: %m", sandbox, (unsigned)uid,
                               (unsigned)gid);
        return 0;
}

int sandbox_remove_meta(const char *meta, struct err *err) {
        DIR *d = opendir(meta);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return err_set(err, -errno, "cannot open '%s': %m", meta);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", meta, de->d_name);
                (void)unlink(p);
        }
        closedir(d);
        if (rmdir(meta) < 0 && errno != ENOENT)
                return err_set(err, -errno, "cannot remove '%s': %m", meta);
        return 0;
}

int proc_start_time(pid_t pid, uint64_t *ret) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -ENOENT;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return -ENOENT;
        buf[n] = 0;
        /* "pid (comm) state ppid …": comm may hold spaces and parentheses, so parse after the
         * last ')'. Field 3 is the state, field 22 the start time. */
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return -EINVAL;
        p += 2;
        char state = *p;
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EINVAL;
                p++;
        }
        *ret = strtoull(p, NULL, 10);
        if (state == 'Z' || state == 'X')
                return -ESRCH;
        return 0;
}
