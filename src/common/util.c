/* util.c — random ids, atomic file writes and JSON helpers. */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"

void uuid_random(char buf[static 37]) {
        uint8_t b[16];
        size_t got = 0;
        while (got < sizeof b) {
                ssize_t n = getrandom(b + got, sizeof b - got, 0);
                if (n > 0)
                        got += (size_t)n;
        }
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        snprintf(buf, 37,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
}

static void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

int file_write_atomic(const char *path, const void *data, size_t n, struct err *err) {
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
        _cleanup_(closep) int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return err_set(err, -errno, "cannot create '%s': %m", tmp);
        const char *p = data;
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return err_set(err, -errno, "cannot write '%s': %m", tmp);
                }
                p += w;
                n -= (size_t)w;
        }
        if (fsync(fd) < 0)
                return err_set(err, -errno, "cannot fsync '%s': %m", tmp);
        if (rename(tmp, path) < 0)
                return err_set(err, -errno, "cannot rename '%s': %m", tmp);
        _cleanup_free_ char *dir = xstrdup(path);
        _cleanup_(closep) int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void)fsync(dfd);
        return 0;
}

int file_read_all(const char *path, size_t max, char **ret, size_t *ret_len, struct err *err) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return err_set(err, -errno, "cannot open '%s': %m", path);
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > max)
                                return err_set(err, -EFBIG, "'%s' is larger than %zu bytes", path, max);
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                ssize_t r = read(fd, buf + len, cap - len - 1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return err_set(err, -errno, "cannot read '%s': %m", path);
                }
                if (r == 0)
                        break;
                len += (size_t)r;
        }
        if (len > max)
                return err_set(err, -EFBIG, "'%s' is larger than %zu bytes", path, max);
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int mkdir_p(const char *path, struct err *err) {
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return err_set(err, -errno, "cannot create directory '%s': %m", p);
                *s = '/';
        }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return err_set(err, -errno, "cannot create directory '%s': %m", p);
        return 0;
}

char *json_compact(const json_t *j) {
        /* 15 significant digits: 1.15 prints as 1.15, not 1.1499999999999999. */
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        if (!s)
                return xstrdup("null");
        return s;
}

int strv_from_json(const json_t *arr, char ***ret) {
        if (!arr) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_array(arr))
                return -EINVAL;
        size_t n = json_array_size(arr);
        for (size_t i = 0; i < n; i++)
                if (!json_is_string(json_array_get(arr, i)))
                        return -EINVAL;
        char **v = xcalloc(n + 1, sizeof *v);
        for (size_t i = 0; i < n; i++)
                v[i] = xstrdup(json_string_value(json_array_get(arr, i)));
        *ret = v;
        return 0;
}

void strv_free(char **v) {
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}
