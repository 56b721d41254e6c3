/* cgroup.h — one cgroup per task with CPU, memory and pids limits, on cgroup v2 (unified) or
 * v1 (separate cpu, memory and pids hierarchies, as on hybrid systems).
 *
 * Files written per task (v1 → v2):
 *
 * | limit                | v1 file                                   | v2 file             |
 * | -------------------- | ----------------------------------------- | ------------------- |
 * | cpus × 1024 shares   | cpu.shares                                | cpu.weight (scaled) |
 * | cpus × 100 ms / 100 ms | cpu.cfs_period_us, cpu.cfs_quota_us     | cpu.max             |
 * | mem MiB, no swap     | memory.limit_in_bytes, memory.memsw.limit_in_bytes | memory.max, memory.swap.max |
 * | pids                 | pids.max                                  | pids.max            |
 *
 * OOM kills are read from memory.oom_control's oom_kill counter (v1; memory.failcnt and
 * under_oom on old kernels) or memory.events' oom_kill (v2). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

enum cgroup_version { CGROUP_NONE = 0, CGROUP_V1 = 1, CGROUP_V2 = 2 };

/* Where the hierarchies are mounted. */
struct cgroup_hier {
        enum cgroup_version version;
        char *cpu, *memory, *pids; /* v1 mount points (NULL if that controller is missing) */
        char *unified;             /* v2 mount point */
};

/* Finds the hierarchies in a mountinfo file (/proc/self/mountinfo): v1 when a v1 memory
 * hierarchy exists (legacy and hybrid systems), else v2 when the unified hierarchy offers the
 * memory controller. -ENOENT with a clear message otherwise. */
int cgroup_hier_detect(struct cgroup_hier *h, const char *mountinfo, struct err *err);
/* Sets the hierarchy by hand (tests with a fake tree). Copies the strings. */
void cgroup_hier_set(struct cgroup_hier *h, enum cgroup_version v, const char *cpu, const char *memory,
                     const char *pids, const char *unified);
void cgroup_hier_release(struct cgroup_hier *h);
/* Creates the parent cgroup (e.g. "strata") in every hierarchy; on v2 enables the cpu,
 * memory and pids controllers for its children. */
int cgroup_hier_prepare(const struct cgroup_hier *h, const char *parent, struct err *err);

struct cgroup_limits {
        double cpus;        /* 0: no shares/quota written */
        uint64_t mem_bytes; /* 0: unlimited */
        int64_t pids_max;   /* 0: unlimited */
        bool cfs_quota;     /* also write a hard CFS quota from cpus */
};

/* One task's cgroup: a directory per controller (on v2 the three are the same directory). */
struct cgroup {
        enum cgroup_version version;
        char *cpu, *memory, *pids; /* owned; any may be NULL (controller absent) */
};

/* Creates <mount>/<parent>/<name> for every controller and writes the limits. An existing
 * directory is reused. On failure the directories created are removed again. */
int cgroup_create(const struct cgroup_hier *h, const char *parent, const char *name,
                  const struct cgroup_limits *lim, struct cgroup *ret, struct err *err);
void cgroup_release(struct cgroup *cg);
/* The distinct cgroup.procs files a process writes "0" into to join the cgroup; returns how
 * many (at most 3) were stored in ret (each malloc'd). */
size_t cgroup_procs_files(const struct cgroup *cg, char *ret[static 3]);
/* Sends sig to every process in the cgroup; returns how many were signalled. */
int cgroup_signal(const struct cgroup *cg, int sig);
/* True when some process is still in the cgroup. */
bool cgroup_populated(const struct cgroup *cg);

struct cgroup_memory {
        uint64_t oom_kills;   /* OOM kills inside the cgroup */
        uint64_t limit_bytes; /* 0 when unlimited/unknown */
        uint64_t max_usage_bytes;
};
/* Reads the memory controller's counters. -ENOENT without a memory cgroup. */
int cgroup_read_memory(const struct cgroup *cg, struct cgroup_memory *ret);
/* SIGKILLs whatever is left and removes the directories. -EBUSY while processes remain
 * (killed ones not yet reaped); other directories are still removed. */
int cgroup_destroy(const struct cgroup *cg, struct err *err);

/* Checkpoint codec: {"version": 1, "cpu": "...", "memory": "...", "pids": "..."}. */
json_t *cgroup_to_json(const struct cgroup *cg);
int cgroup_from_json(const json_t *j, struct cgroup *ret);

/* Writes a string to a control file (no O_CREAT). Returns 0 or -errno. */
int cgroup_write(const char *dir, const char *file, const char *value);
/* Reads a control file into buf (NUL-terminated). Returns 0 or -errno. */
int cgroup_read(const char *dir, const char *file, char *buf, size_t size);
