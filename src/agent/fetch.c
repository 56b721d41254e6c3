/* fetch.c — downloads (libcurl easy, on a worker thread) and archive extraction (libarchive)
 * into a task's sandbox. */
#include "agent/fetch.h"

#include <curl/curl.h>
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "common/alloc.h"
#include "common/util.h"

#if defined(STRATA_LIBARCHIVE) && __has_include(<archive.h>)
#define HAVE_LIBARCHIVE 1
#include <archive.h>
#include <archive_entry.h>
#endif

#define CONNECT_TIMEOUT_S 30L
#define LOW_SPEED_TIME_S 60L /* abort a download that stalls below 1 byte/s this long */

static const char *const archive_suffixes[] = {
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".zip", ".gz",
};

static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool fetch_is_archive(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(archive_suffixes); i++)
                if (ends_with(name, archive_suffixes[i]))
                        return true;
        return false;
}

bool fetch_can_extract(void) {
#ifdef HAVE_LIBARCHIVE
        return true;
#else
        return false;
#endif
}

void fetch_result_free(struct fetch_result *r) {
        if (!r)
                return;
        free(r->message);
        free(r);
}

static int fail(struct fetch_result *res, int code, const char *fmt, ...) _printf_(3, 4);
static int fail(struct fetch_result *res, int code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        res->message = xvasprintf(fmt, ap);
        va_end(ap);
        res->code = code;
        return code;
}

/* The URI's last path segment, without query or fragment. */
static char *uri_basename(const char *uri) {
        const char *end = uri + strcspn(uri, "?#");
        const char *slash = end;
        while (slash > uri && slash[-1] != '/')
                slash--;
        return xstrndup(slash, (size_t)(end - slash));
}

/* dest_path must stay inside the sandbox. */
static bool safe_relative(const char *p) {
        if (!*p || p[0] == '/')
                return false;
        for (const char *s = p; s;) {
                const char *slash = strchr(s, '/');
                size_t len = slash ? (size_t)(slash - s) : strlen(s);
                if ((len == 2 && s[0] == '.' && s[1] == '.') || len == 0)
                        return false;
                s = slash ? slash + 1 : NULL;
        }
        return true;
}

static uv_once_t curl_once = UV_ONCE_INIT;
static void curl_init_once(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        int fd = *(int *)userdata;
        size_t n = size * nmemb;
        for (size_t done = 0; done < n;) {
                ssize_t w = write(fd, data + done, n - done);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return 0;
                }
                done += (size_t)w;
        }
        return n;
}

static int download(const char *uri, const char *path, struct fetch_result *res) {
        _cleanup_free_ char *url = uri[0] == '/' ? xasprintf("file://%s", uri) : xstrdup(uri);
        if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0 &&
            strncmp(url, "file://", 7) != 0)
                return fail(res, -EINVAL, "cannot fetch '%s': unsupported scheme (http, https, file)", uri);
        uv_once(&curl_once, curl_init_once);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return fail(res, -errno, "cannot fetch '%s': cannot create '%s': %s", uri, path,
                            strerror(errno));
        CURL *c = curl_easy_init();
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
        CURLcode cr = curl_easy_perform(c);
        curl_easy_cleanup(c);
        int r = close(fd) < 0 ? -errno : 0;
        if (cr != CURLE_OK) {
                (void)unlink(path);
                return fail(res, -EIO, "cannot fetch '%s': %s", uri,
                            errbuf[0] ? errbuf : curl_easy_strerror(cr));
        }
        if (r < 0)
                return fail(res, r, "cannot fetch '%s': cannot write '%s': %s", uri, path, strerror(-r));
        return 0;
}

#ifdef HAVE_LIBARCHIVE
static void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}
static void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}

/* A relative archive entry name without ".." components. */
static bool inside(const char *p) {
        if (p[0] == '/')
                return false;
        for (const char *s = p; s;) {
                const char *slash = strchr(s, '/');
                size_t len = slash ? (size_t)(slash - s) : strlen(s);
                if (len == 2 && s[0] == '.' && s[1] == '.')
                        return false;
                s = slash ? slash + 1 : NULL;
        }
        return true;
}

static int extract(const char *file, const char *name, const char *dir, struct fetch_result *res) {
        _cleanup_(archive_read_freep) struct archive *in = archive_read_new();
        _cleanup_(archive_write_freep) struct archive *out = archive_write_disk_new();
        archive_read_support_filter_all(in);
        /* A plain .gz holds one file ("raw"); guessing among all formats could take its
         * content for something else (mtree matches plain text). */
        if (ends_with(name, ".gz") && !ends_with(name, ".tar.gz"))
                archive_read_support_format_raw(in);
        else
                archive_read_support_format_all(in);
        /* Entries must land inside the sandbox: no absolute names or ".." (checked below, as
         * every name gets the sandbox's real path put in front: a worker thread cannot chdir),
         * and nothing written through a symlink the archive planted. */
        archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                    ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                    ARCHIVE_EXTRACT_SECURE_SYMLINKS);
        _cleanup_free_ char *root = realpath(dir, NULL);
        if (!root)
                return fail(res, -errno, "cannot extract '%s': '%s': %s", name, dir, strerror(errno));
        if (archive_read_open_filename(in, file, 64 * 1024) != ARCHIVE_OK)
                return fail(res, -EIO, "cannot extract '%s': %s", name, archive_error_string(in));
        struct archive_entry *e;
        int r;
        while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
                const char *entry = archive_entry_pathname(e);
                _cleanup_free_ char *raw_name = NULL;
                if (archive_format(in) == ARCHIVE_FORMAT_RAW) {
                        raw_name = xstrndup(name, strlen(name) - (ends_with(name, ".gz") ? 3 : 0));
                        entry = raw_name;
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_filetype(e, AE_IFREG);
                }
                if (!entry || !*entry)
                        continue;
                const char *hardlink = archive_entry_hardlink(e);
                if (!inside(entry) || (hardlink && !inside(hardlink)))
                        return fail(res, -EINVAL,
                                    "cannot extract '%s': entry '%s' points outside the sandbox", name,
                                    entry);
                _cleanup_free_ char *dest = xasprintf("%s/%s", root, entry);
                archive_entry_set_pathname(e, dest);
                _cleanup_free_ char *link_dest = hardlink ? xasprintf("%s/%s", root, hardlink) : NULL;
                if (link_dest)
                        archive_entry_set_hardlink(e, link_dest);
                if (archive_write_header(out, e) != ARCHIVE_OK)
                        return fail(res, -EIO, "cannot extract '%s': %s", name, archive_error_string(out));
                const void *buf;
                size_t size;
                int64_t off;
                while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
                        if (archive_write_data_block(out, buf, size, off) != ARCHIVE_OK)
                                return fail(res, -EIO, "cannot extract '%s': %s", name,
                                            archive_error_string(out));
                if (r != ARCHIVE_EOF)
                        return fail(res, -EIO, "cannot extract '%s': %s", name, archive_error_string(in));
                if (archive_write_finish_entry(out) != ARCHIVE_OK)
                        return fail(res, -EIO, "cannot extract '%s': %s", name, archive_error_string(out));
        }
        if (r != ARCHIVE_EOF)
                return fail(res, -EIO, "cannot extract '%s': %s", name, archive_error_string(in));
        return 0;
}
#else
static int extract(const char *file, const char *name, const char *dir, struct fetch_result *res) {
        return fail(res, -ENOTSUP, "cannot extract '%s': this strata was built without libarchive", name);
}
#endif

/* Gives everything under path to uid:gid (files the fetcher created as root). */
static void chown_tree(const char *path, uid_t uid, gid_t gid) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return;
        (void)lchown(path, uid, gid);
        if (!S_ISDIR(st.st_mode))
                return;
        DIR *d = opendir(path);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", path, de->d_name);
                        chown_tree(p, uid, gid);
                }
        closedir(d);
}

void fetch_run(const struct task_fetch *f, size_t n, const char *sandbox, bool chown_to, uid_t uid, gid_t gid,
               struct fetch_result **ret) {
        struct fetch_result *res = xcalloc(1, sizeof *res);
        *ret = res;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = f[i].dest_path ? xstrdup(f[i].dest_path) : uri_basename(f[i].uri);
                if (!safe_relative(name)) {
                        fail(res, -EINVAL,
                             "cannot fetch '%s': destination '%s' is not a path inside the sandbox", f[i].uri,
                             name);
                        return;
                }
                _cleanup_free_ char *path = xasprintf("%s/%s", sandbox, name);
                /* destPath may name a subdirectory. */
                char *slash = strrchr(path, '/');
                if (slash && slash > path + strlen(sandbox)) {
                        *slash = 0;
                        struct err err = {0};
                        int r = mkdir_p(path, &err);
                        *slash = '/';
                        if (r < 0) {
                                fail(res, r, "cannot fetch '%s': %s", f[i].uri, err_msg(&err));
                                err_release(&err);
                                return;
                        }
                }
                if (download(f[i].uri, path, res) < 0)
                        return;
                if (f[i].extract && fetch_is_archive(name)) {
                        _cleanup_free_ char *dir = xstrdup(path);
                        *strrchr(dir, '/') = 0;
                        if (extract(path, name, dir, res) < 0)
                                return;
                } else if (f[i].executable && chmod(path, 0755) < 0) {
                        fail(res, -errno, "cannot make '%s' executable: %s", path, strerror(errno));
                        return;
                }
        }
        if (chown_to)
                chown_tree(sandbox, uid, gid);
}
