/* fetch.h — Marathon's `fetch` (the Mesos fetcher): download URIs into a task's sandbox before
 * its command starts, unpack archives, mark files executable.
 *
 * Blocking: the native runtime runs fetch_run() on libuv's thread pool (uv_queue_work) and
 * applies the result back on the loop. It touches no runtime state.
 *
 * URIs: http://, https:// (libcurl, redirects followed, HTTP errors fail), file:// and bare
 * absolute paths. The file is stored as <sandbox>/<dest_path or the URI's last segment>. With
 * extract, names ending in .tar .tar.gz .tgz .tar.bz2 .tbz2 .tar.xz .txz .zip .gz are unpacked
 * into the sandbox (libarchive, when the build has it: -DSTRATA_LIBARCHIVE and -larchive;
 * without it such an entry fails with a clear message). Entries may not escape the sandbox. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "agent/runtime.h"

struct fetch_result {
        int code;      /* 0 or -errno / -EIO */
        char *message; /* why it failed, or NULL */
};

/* Fetches every entry in order; stops at the first failure. *ret is always set (free it with
 * fetch_result_free). Files are given to uid:gid when chown_to is set. */
void fetch_run(const struct task_fetch *f, size_t n, const char *sandbox, bool chown_to, uid_t uid, gid_t gid,
               struct fetch_result **ret);
void fetch_result_free(struct fetch_result *r);
/* True when the name has an extension fetch can unpack. */
bool fetch_is_archive(const char *name);
/* True when this build can unpack archives. */
bool fetch_can_extract(void);
