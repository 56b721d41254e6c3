/* layer_unpack.c — libarchive extraction with path checks and whiteout conversion. */
#include "agent/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "common/util.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

int layer_entry_path(const char *name, char **ret, struct err *err) {
        if (!name)
                return err_set(err, -EINVAL, "layer entry without a name");
        if (strlen(name) >= PATH_MAX)
                return err_set(err, -EINVAL, "layer entry name longer than %d bytes", PATH_MAX);
        if (name[0] == '/')
                return err_set(err, -EINVAL, "layer entry '%.200s' is an absolute path", name);
        struct strbuf out = {0};
        const char *p = name;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t n = strcspn(p, "/");
                if (n == 1 && p[0] == '.') {
                        p += n;
                        continue;
                }
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        strbuf_release(&out);
                        return err_set(err, -EINVAL, "layer entry '%.200s' has a '..' component", name);
                }
                if (out.len)
                        strbuf_append(&out, "/", 1);
                strbuf_append(&out, p, n);
                p += n;
        }
        *ret = strbuf_steal(&out);
        return 0;
}

/* Creates dest/rel (a directory) component by component, refusing to go through a symlink
 * or anything else that is not a directory: a layer must not make us write outside of it. */
static int mkdir_inside(const char *dest, const char *rel, struct err *err) {
        _cleanup_free_ char *path = xasprintf("%s/%s", dest, rel);
        size_t start = strlen(dest) + 1;
        for (char *p = path + start;; p++) {
                if (*p != '/' && *p != 0)
                        continue;
                char c = *p;
                *p = 0;
                struct stat st;
                if (lstat(path, &st) == 0) {
                        if (!S_ISDIR(st.st_mode))
                                return err_set(
                                        err, -ENOTDIR,
                                        "layer entry under '%.200s' would leave the layer: not a directory",
                                        path + start);
                } else if (mkdir(path, 0755) < 0) {
                        return err_set(err, -errno, "cannot create '%.200s': %m", path + start);
                }
                if (!c)
                        return 0;
                *p = c;
        }
}

/* dir/.wh.<name> → dir/<name> as char device 0/0; dir/.wh..wh..opq → opaque xattr on dir. */
static int whiteout(const char *dest, const char *rel, struct err *err) {
        const char *base = strrchr(rel, '/');
        base = base ? base + 1 : rel;
        size_t dirlen = (size_t)(base - rel);
        _cleanup_free_ char *dir =
                dirlen ? xasprintf("%s/%.*s", dest, (int)(dirlen - 1), rel) : xstrdup(dest);
        if (dirlen) {
                _cleanup_free_ char *reldir = xstrndup(rel, dirlen - 1);
                int r = mkdir_inside(dest, reldir, err);
                if (r < 0)
                        return r;
        }
        if (streq(base, WH_OPAQUE)) {
                if (lsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return err_set(err, -errno, "cannot mark '%s' opaque (needs CAP_SYS_ADMIN): %m", rel);
                return 0;
        }
        const char *name = base + strlen(WH_PREFIX);
        if (!*name || streq(name, ".") || streq(name, ".."))
                return err_set(err, -EINVAL, "layer entry '%.200s' is an invalid whiteout", rel);
        _cleanup_free_ char *target = xasprintf("%s/%s", dir, name);
        struct stat st;
        if (lstat(target, &st) == 0) /* a layer should not both add and delete a name; the deletion wins */
                return err_set(err, -EINVAL, "layer has both '%.200s' and its whiteout",
                               target + strlen(dest) + 1);
        if (mknod(target, S_IFCHR | 0, makedev(0, 0)) < 0)
                return err_set(err, -errno, "cannot create whiteout for '%s' (needs CAP_MKNOD): %m", rel);
        return 0;
}

/* Overlay's own xattrs in a tar could forge opacity or redirects: keep every other xattr. */
static void drop_overlay_xattrs(struct archive_entry *e) {
        if (archive_entry_xattr_reset(e) == 0)
                return;
        struct kept {
                char *name;
                void *value;
                size_t size;
        } kept[64];
        size_t n = 0;
        bool dropped = false;
        const char *name;
        const void *value;
        size_t size;
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (strstr(name, "overlay.")) {
                        dropped = true;
                        continue;
                }
                if (n < ELEMENTSOF(kept)) {
                        kept[n].name = xstrdup(name);
                        kept[n].value = xmalloc(size ? size : 1);
                        memcpy(kept[n].value, value, size);
                        kept[n].size = size;
                        n++;
                }
        }
        if (dropped) {
                archive_entry_xattr_clear(e);
                for (size_t i = 0; i < n; i++)
                        archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
        }
        for (size_t i = 0; i < n; i++) {
                free(kept[i].name);
                free(kept[i].value);
        }
}

static void archive_readp(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}
static void archive_writep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}

int layer_unpack(const char *blob, const char *dest, struct err *err) {
        _cleanup_(archive_readp) struct archive *in = archive_read_new();
        _cleanup_(archive_writep) struct archive *out = archive_write_disk_new();
        archive_read_support_filter_gzip(in);
        archive_read_support_filter_zstd(in);
        archive_read_support_filter_none(in);
        archive_read_support_format_tar(in);
        int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_XATTR |
                    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
        if (geteuid() == 0)
                flags |= ARCHIVE_EXTRACT_OWNER;
        archive_write_disk_set_options(out, flags);
        archive_write_disk_set_standard_lookup(out);
        if (archive_read_open_filename(in, blob, 64 * 1024) != ARCHIVE_OK)
                return err_set(err, -EIO, "cannot read layer: %s", archive_error_string(in));
        for (;;) {
                struct archive_entry *e;
                int r = archive_read_next_header(in, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return err_set(err, -EIO, "layer is not a valid tar: %s", archive_error_string(in));
                _cleanup_free_ char *rel = NULL;
                r = layer_entry_path(archive_entry_pathname(e), &rel, err);
                if (r < 0)
                        return r;
                if (!*rel)
                        continue; /* the layer's root: its mode is ours */
                const char *base = strrchr(rel, '/');
                base = base ? base + 1 : rel;
                if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
                        r = whiteout(dest, rel, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                _cleanup_free_ char *full = xasprintf("%s/%s", dest, rel);
                archive_entry_set_pathname(e, full);
                const char *link = archive_entry_hardlink(e);
                if (link) {
                        _cleanup_free_ char *lrel = NULL;
                        r = layer_entry_path(link, &lrel, err);
                        if (r < 0)
                                return err_wrap(err, "hard link '%.200s'", rel);
                        if (!*lrel)
                                return err_set(err, -EINVAL, "hard link '%.200s' points at the layer's root",
                                               rel);
                        _cleanup_free_ char *lfull = xasprintf("%s/%s", dest, lrel);
                        archive_entry_set_hardlink(e, lfull);
                }
                drop_overlay_xattrs(e);
                r = archive_write_header(out, e);
                if (r < ARCHIVE_WARN)
                        return err_set(err, -EIO, "cannot unpack '%.200s': %s", rel,
                                       archive_error_string(out));
                if (archive_entry_size(e) > 0 && r >= ARCHIVE_WARN) {
                        const void *buf;
                        size_t size;
                        la_int64_t off;
                        while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
                                if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
                                        return err_set(err, -EIO, "cannot write '%.200s': %s", rel,
                                                       archive_error_string(out));
                        if (r != ARCHIVE_EOF)
                                return err_set(err, -EIO, "layer is truncated or corrupt at '%.200s': %s",
                                               rel, archive_error_string(in));
                }
                if (archive_write_finish_entry(out) < ARCHIVE_WARN)
                        return err_set(err, -EIO, "cannot finish '%.200s': %s", rel,
                                       archive_error_string(out));
        }
        if (archive_write_close(out) != ARCHIVE_OK)
                return err_set(err, -EIO, "cannot finish layer: %s", archive_error_string(out));
        return 0;
}
