/* layer_unpack.h — unpacking one image layer (a tar, plain, gzip or zstd) into a directory that
 * overlayfs can stack as a lowerdir.
 *
 * OCI whiteouts become overlayfs's form (image-spec layer.md "Whiteouts"; kernel
 * Documentation/filesystems/overlayfs.rst):
 *
 * | in the tar              | on disk                                                  |
 * | ----------------------- | -------------------------------------------------------- |
 * | dir/.wh.<name>          | dir/<name> as a character device 0/0                     |
 * | dir/.wh..wh..opq        | xattr trusted.overlay.opaque="y" on dir                   |
 *
 * Entries are refused (the whole layer fails) when absolute, when a component is "..", when a
 * hard link points outside the layer, or when they would be written through a symlink
 * (libarchive's SECURE_SYMLINKS); overlay xattrs in the tar itself are dropped. Blocking: run it
 * on the thread pool. */
#pragma once

#include "common/err.h"

/* Unpacks blob into dest, an existing empty directory on a path without symlinks. Ownership
 * is kept when running as root. */
int layer_unpack(const char *blob, const char *dest, struct err *err);

/* Normalizes a tar entry name for unpacking: strips "./" prefixes and repeated or trailing
 * slashes; "" for the layer's root. -EINVAL (with a reason) for absolute names, ".." components,
 * and names over PATH_MAX. The result is malloc'd. */
int layer_entry_path(const char *name, char **ret, struct err *err);
