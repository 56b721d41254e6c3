/* cgroup.c — per-task cgroups on v1 and v2 hierarchies: detection, limits, OOM counters, kill
 * and removal. */
#include "agent/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"

/* "Requested" cpus map to cgroup numbers the way Mesos and runc do. */
#define CPU_SHARES_PER_CPU 1024
#define CPU_SHARES_MIN 2
#define CFS_PERIOD_US 100000
#define CFS_QUOTA_MIN_US 1000

static void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s) {
        char *w = s;
        for (char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
                    r[3] <= '7') {
                        *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
                        r += 4;
                } else {
                        *w++ = *r++;
                }
        }
        *w = 0;
}

static bool has_option(const char *opts, const char *name) {
        size_t n = strlen(name);
        for (const char *p = opts; p && *p;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                if (len == n && memcmp(p, name, n) == 0)
                        return true;
                p = comma ? comma + 1 : NULL;
        }
        return false;
}

static bool v2_has_memory(const char *mnt) {
        char buf[512];
        if (cgroup_read(mnt, "cgroup.controllers", buf, sizeof buf) < 0)
                return false;
        for (char *save = NULL, *tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
                if (streq(tok, "memory"))
                        return true;
        return false;
}

int cgroup_hier_detect(struct cgroup_hier *h, const char *mountinfo, struct err *err) {
        _cleanup_(fclosep) FILE *f = fopen(mountinfo, "re");
        if (!f)
                return err_set(err, -errno, "cannot read '%s': %m", mountinfo);
        struct cgroup_hier found = {0};
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                /* id parent maj:min root mountpoint opts [optional…] - fstype source superopts */
                char *save = NULL, *fields[5] = {0};
                char *tok = strtok_r(line, " \n", &save);
                for (int i = 0; i < 5 && tok; i++, tok = strtok_r(NULL, " \n", &save))
                        fields[i] = tok;
                if (!fields[4])
                        continue;
                while (tok && !streq(tok, "-"))
                        tok = strtok_r(NULL, " \n", &save);
                char *fstype = strtok_r(NULL, " \n", &save);
                (void)strtok_r(NULL, " \n", &save);
                char *super = strtok_r(NULL, " \n", &save);
                if (!fstype)
                        continue;
                char *mnt = fields[4];
                unescape_octal(mnt);
                if (streq(fstype, "cgroup2")) {
                        if (!found.unified)
                                found.unified = xstrdup(mnt);
                } else if (streq(fstype, "cgroup") && super) {
                        if (has_option(super, "cpu") && !found.cpu)
                                found.cpu = xstrdup(mnt);
                        if (has_option(super, "memory") && !found.memory)
                                found.memory = xstrdup(mnt);
                        if (has_option(super, "pids") && !found.pids)
                                found.pids = xstrdup(mnt);
                }
        }
        if (found.memory) {
                found.version = CGROUP_V1;
                free(found.unified);
                found.unified = NULL;
        } else if (found.unified && v2_has_memory(found.unified)) {
                found.version = CGROUP_V2;
                free(found.cpu);
                free(found.pids);
                found.cpu = found.pids = NULL;
        } else {
                cgroup_hier_release(&found);
                return err_set(err, -ENOENT,
                               "no cgroup memory controller: neither a cgroup v1 memory hierarchy nor a "
                               "cgroup2 mount offering 'memory' in '%s'",
                               mountinfo);
        }
        *h = found;
        return 0;
}

static char *dup_or_null(const char *s) {
        return s ? xstrdup(s) : NULL;
}

void cgroup_hier_set(struct cgroup_hier *h, enum cgroup_version v, const char *cpu, const char *memory,
                     const char *pids, const char *unified) {
        h->version = v;
        h->cpu = dup_or_null(cpu);
        h->memory = dup_or_null(memory);
        h->pids = dup_or_null(pids);
        h->unified = dup_or_null(unified);
}

void cgroup_hier_release(struct cgroup_hier *h) {
        free(h->cpu);
        free(h->memory);
        free(h->pids);
        free(h->unified);
        memset(h, 0, sizeof *h);
}

int cgroup_write(const char *dir, const char *file, const char *value) {
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        _cleanup_(closep) int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t n = strlen(value);
        ssize_t w = write(fd, value, n);
        if (w < 0)
                return -errno;
        return (size_t)w == n ? 0 : -EIO;
}

int cgroup_read(const char *dir, const char *file, char *buf, size_t size) {
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t len = 0;
        while (len + 1 < size) {
                ssize_t r = read(fd, buf + len, size - 1 - len);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                len += (size_t)r;
        }
        buf[len] = 0;
        return 0;
}

static int make_dir(const char *path, struct err *err) {
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return err_set(err, -errno, "cannot create cgroup '%s': %m", path);
        return 0;
}

int cgroup_hier_prepare(const struct cgroup_hier *h, const char *parent, struct err *err) {
        int r;
        if (h->version == CGROUP_V2) {
                /* "Enabling a controller in a cgroup indicates that the distribution of the target
                 * resource across its immediate children will be controlled" (cgroup-v2.rst): the
                 * mount root and our parent both delegate cpu, memory and pids. */
                static const char *const ctrls[] = {"+cpu", "+memory", "+pids"};
                _cleanup_free_ char *dir = xasprintf("%s/%s", h->unified, parent);
                for (size_t i = 0; i < ELEMENTSOF(ctrls); i++) {
                        r = cgroup_write(h->unified, "cgroup.subtree_control", ctrls[i]);
                        if (r < 0 && !(r == -EINVAL && streq(ctrls[i], "+cpu")))
                                return err_set(err, r, "cannot enable %s in '%s/cgroup.subtree_control': %s",
                                               ctrls[i] + 1, h->unified, strerror(-r));
                }
                r = make_dir(dir, err);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(ctrls); i++) {
                        r = cgroup_write(dir, "cgroup.subtree_control", ctrls[i]);
                        if (r < 0 && !(r == -EINVAL && streq(ctrls[i], "+cpu")))
                                return err_set(err, r, "cannot enable %s in '%s/cgroup.subtree_control': %s",
                                               ctrls[i] + 1, dir, strerror(-r));
                }
                return 0;
        }
        const char *mnts[] = {h->cpu, h->memory, h->pids};
        for (size_t i = 0; i < ELEMENTSOF(mnts); i++) {
                if (!mnts[i])
                        continue;
                _cleanup_free_ char *dir = xasprintf("%s/%s", mnts[i], parent);
                r = make_dir(dir, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void cgroup_release(struct cgroup *cg) {
        free(cg->cpu);
        free(cg->memory);
        free(cg->pids);
        memset(cg, 0, sizeof *cg);
}

static int write_limit(const char *dir, const char *file, const char *value, bool optional, struct err *err) {
        int r = cgroup_write(dir, file, value);
        if (r == -ENOENT && optional)
                return 0;
        if (r < 0)
                return err_set(err, r, "cannot write '%s' to '%s/%s': %s", value, dir, file, strerror(-r));
        return 0;
}

static int write_limits_v1(const struct cgroup *cg, const struct cgroup_limits *lim, struct err *err) {
        char v[64];
        int r;
        if (cg->cpu && lim->cpus > 0) {
                uint64_t shares = MAX((uint64_t)(lim->cpus * CPU_SHARES_PER_CPU), CPU_SHARES_MIN);
                snprintf(v, sizeof v, "%" PRIu64, shares);
                r = write_limit(cg->cpu, "cpu.shares", v, false, err);
                if (r < 0)
                        return r;
                if (lim->cfs_quota) {
                        snprintf(v, sizeof v, "%d", CFS_PERIOD_US);
                        r = write_limit(cg->cpu, "cpu.cfs_period_us", v, false, err);
                        if (r < 0)
                                return r;
                        uint64_t quota = MAX((uint64_t)(lim->cpus * CFS_PERIOD_US), CFS_QUOTA_MIN_US);
                        snprintf(v, sizeof v, "%" PRIu64, quota);
                        r = write_limit(cg->cpu, "cpu.cfs_quota_us", v, false, err);
                        if (r < 0)
                                return r;
                }
        }
        if (cg->memory && lim->mem_bytes) {
                snprintf(v, sizeof v, "%" PRIu64, lim->mem_bytes);
                /* memsw (memory+swap) must stay >= the memory limit: lowering a reused cgroup's
                 * limit needs memory first, raising it needs memsw first. */
                r = cgroup_write(cg->memory, "memory.limit_in_bytes", v);
                if (r == -EINVAL) {
                        r = write_limit(cg->memory, "memory.memsw.limit_in_bytes", v, true, err);
                        if (r < 0)
                                return r;
                        r = cgroup_write(cg->memory, "memory.limit_in_bytes", v);
                }
                if (r < 0)
                        return err_set(err, r, "cannot write '%s' to '%s/memory.limit_in_bytes': %s", v,
                                       cg->memory, strerror(-r));
                /* Equal memory and memory+swap limits: the task cannot swap. Absent when the
                 * kernel runs without swap accounting. */
                r = write_limit(cg->memory, "memory.memsw.limit_in_bytes", v, true, err);
                if (r < 0)
                        return r;
        }
        if (cg->pids) {
                if (lim->pids_max > 0)
                        snprintf(v, sizeof v, "%" PRId64, lim->pids_max);
                else
                        snprintf(v, sizeof v, "max");
                r = write_limit(cg->pids, "pids.max", v, false, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_limits_v2(const char *dir, const struct cgroup_limits *lim, struct err *err) {
        char v[64];
        int r;
        if (lim->cpus > 0) {
                /* Shares [2, 262144] map linearly onto weights [1, 10000] (the conversion runc and
                 * systemd use). */
                uint64_t shares = MAX((uint64_t)(lim->cpus * CPU_SHARES_PER_CPU), CPU_SHARES_MIN);
                shares = MIN(shares, 262144);
                uint64_t weight = 1 + ((shares - 2) * 9999) / 262142;
                snprintf(v, sizeof v, "%" PRIu64, weight);
                r = write_limit(dir, "cpu.weight", v, false, err);
                if (r < 0)
                        return r;
                if (lim->cfs_quota) {
                        uint64_t quota = MAX((uint64_t)(lim->cpus * CFS_PERIOD_US), CFS_QUOTA_MIN_US);
                        snprintf(v, sizeof v, "%" PRIu64 " %d", quota, CFS_PERIOD_US);
                        r = write_limit(dir, "cpu.max", v, false, err);
                        if (r < 0)
                                return r;
                }
        }
        if (lim->mem_bytes) {
                snprintf(v, sizeof v, "%" PRIu64, lim->mem_bytes);
                r = write_limit(dir, "memory.max", v, false, err);
                if (r < 0)
                        return r;
                r = write_limit(dir, "memory.swap.max", "0", true, err);
                if (r < 0)
                        return r;
                /* Kill the whole task on OOM, not one random process of it. */
                r = write_limit(dir, "memory.oom.group", "1", true, err);
                if (r < 0)
                        return r;
        }
        if (lim->pids_max > 0)
                snprintf(v, sizeof v, "%" PRId64, lim->pids_max);
        else
                snprintf(v, sizeof v, "max");
        return write_limit(dir, "pids.max", v, false, err);
}

static void remove_dirs(const struct cgroup *cg) {
        const char *dirs[] = {cg->cpu, cg->memory, cg->pids};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup |= dirs[j] && dirs[i] && streq(dirs[j], dirs[i]);
                if (dirs[i] && !dup)
                        (void)rmdir(dirs[i]);
        }
}

int cgroup_create(const struct cgroup_hier *h, const char *parent, const char *name,
                  const struct cgroup_limits *lim, struct cgroup *ret, struct err *err) {
        struct cgroup cg = {.version = h->version};
        int r;
        if (h->version == CGROUP_V2) {
                cg.cpu = xasprintf("%s/%s/%s", h->unified, parent, name);
                cg.memory = xstrdup(cg.cpu);
                cg.pids = xstrdup(cg.cpu);
                r = make_dir(cg.cpu, err);
                if (r >= 0)
                        r = write_limits_v2(cg.cpu, lim, err);
        } else if (h->version == CGROUP_V1) {
                if (h->cpu)
                        cg.cpu = xasprintf("%s/%s/%s", h->cpu, parent, name);
                if (h->memory)
                        cg.memory = xasprintf("%s/%s/%s", h->memory, parent, name);
                if (h->pids)
                        cg.pids = xasprintf("%s/%s/%s", h->pids, parent, name);
                const char *dirs[] = {cg.cpu, cg.memory, cg.pids};
                r = 0;
                for (size_t i = 0; i < ELEMENTSOF(dirs) && r >= 0; i++)
                        if (dirs[i])
                                r = make_dir(dirs[i], err);
                if (r >= 0)
                        r = write_limits_v1(&cg, lim, err);
        } else {
                return err_set(err, -EINVAL, "no cgroup hierarchy");
        }
        if (r < 0) {
                remove_dirs(&cg);
                cgroup_release(&cg);
                return r;
        }
        *ret = cg;
        return 0;
}

size_t cgroup_procs_files(const struct cgroup *cg, char *ret[static 3]) {
        const char *dirs[] = {cg->cpu, cg->memory, cg->pids};
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup |= dirs[j] && dirs[i] && streq(dirs[j], dirs[i]);
                if (dirs[i] && !dup)
                        ret[n++] = xasprintf("%s/cgroup.procs", dirs[i]);
        }
        return n;
}

/* The directory whose cgroup.procs lists the task's processes. */
static const char *procs_dir(const struct cgroup *cg) {
        return cg->memory ? cg->memory : cg->pids ? cg->pids : cg->cpu;
}

int cgroup_signal(const struct cgroup *cg, int sig) {
        const char *dir = procs_dir(cg);
        if (!dir)
                return 0;
        _cleanup_free_ char *path = xasprintf("%s/cgroup.procs", dir);
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        int n = 0;
        long pid;
        while (fscanf(f, "%ld", &pid) == 1)
                if (pid > 0 && kill((pid_t)pid, sig) == 0)
                        n++;
        return n;
}

bool cgroup_populated(const struct cgroup *cg) {
        const char *dir = procs_dir(cg);
        char buf[32];
        if (!dir || cgroup_read(dir, "cgroup.procs", buf, sizeof buf) < 0)
                return false;
        return buf[0] != 0;
}

/* Finds "key value" in a flat keyed file (memory.oom_control, memory.events). */
static bool keyed_value(const char *text, const char *key, uint64_t *ret) {
        size_t n = strlen(key);
        for (const char *p = text; p && *p;) {
                if (strncmp(p, key, n) == 0 && p[n] == ' ') {
                        *ret = strtoull(p + n + 1, NULL, 10);
                        return true;
                }
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return false;
}

static uint64_t read_u64(const char *dir, const char *file) {
        char buf[64];
        if (cgroup_read(dir, file, buf, sizeof buf) < 0 || strncmp(buf, "max", 3) == 0)
                return 0;
        return strtoull(buf, NULL, 10);
}

int cgroup_read_memory(const struct cgroup *cg, struct cgroup_memory *ret) {
        char buf[1024];
        struct cgroup_memory m = {0};
        if (!cg->memory)
                return -ENOENT;
        if (cg->version == CGROUP_V2) {
                if (cgroup_read(cg->memory, "memory.events", buf, sizeof buf) < 0)
                        return -ENOENT;
                (void)keyed_value(buf, "oom_kill", &m.oom_kills);
                m.limit_bytes = read_u64(cg->memory, "memory.max");
                m.max_usage_bytes = read_u64(cg->memory, "memory.peak");
                if (!m.max_usage_bytes)
                        m.max_usage_bytes = read_u64(cg->memory, "memory.current");
        } else {
                if (cgroup_read(cg->memory, "memory.oom_control", buf, sizeof buf) < 0)
                        return -ENOENT;
                if (!keyed_value(buf, "oom_kill", &m.oom_kills)) {
                        /* Kernels before 4.13 have no counter: under_oom or a failed charge is the
                         * best evidence left. */
                        uint64_t under = 0;
                        (void)keyed_value(buf, "under_oom", &under);
                        m.oom_kills = under || read_u64(cg->memory, "memory.failcnt") ? 1 : 0;
                }
                m.limit_bytes = read_u64(cg->memory, "memory.limit_in_bytes");
                if (m.limit_bytes >= (UINT64_C(1) << 62))
                        m.limit_bytes = 0;
                m.max_usage_bytes = read_u64(cg->memory, "memory.max_usage_in_bytes");
        }
        *ret = m;
        return 0;
}

int cgroup_destroy(const struct cgroup *cg, struct err *err) {
        if (cg->version == CGROUP_NONE)
                return 0;
        if (cg->version == CGROUP_V2 && cg->cpu)
                (void)cgroup_write(cg->cpu, "cgroup.kill", "1");
        (void)cgroup_signal(cg, SIGKILL);
        const char *dirs[] = {cg->cpu, cg->memory, cg->pids};
        int ret = 0;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup |= dirs[j] && dirs[i] && streq(dirs[j], dirs[i]);
                if (!dirs[i] || dup)
                        continue;
                if (rmdir(dirs[i]) < 0 && errno != ENOENT && ret == 0)
                        ret = err_set(err, -errno, "cannot remove cgroup '%s': %m", dirs[i]);
        }
        return ret;
}

json_t *cgroup_to_json(const struct cgroup *cg) {
        json_t *j = json_pack("{s:i}", "version", (int)cg->version);
        if (cg->cpu)
                json_object_set_new(j, "cpu", json_string(cg->cpu));
        if (cg->memory)
                json_object_set_new(j, "memory", json_string(cg->memory));
        if (cg->pids)
                json_object_set_new(j, "pids", json_string(cg->pids));
        return j;
}

int cgroup_from_json(const json_t *j, struct cgroup *ret) {
        json_int_t v = json_integer_value(json_object_get(j, "version"));
        if (!json_is_object(j) || v < CGROUP_NONE || v > CGROUP_V2)
                return -EINVAL;
        struct cgroup cg = {.version = (enum cgroup_version)v};
        const char *s;
        if ((s = json_string_value(json_object_get(j, "cpu"))))
                cg.cpu = xstrdup(s);
        if ((s = json_string_value(json_object_get(j, "memory"))))
                cg.memory = xstrdup(s);
        if ((s = json_string_value(json_object_get(j, "pids"))))
                cg.pids = xstrdup(s);
        *ret = cg;
        return 0;
}
