/* fsutil: the file operations the VM layer needs on its instance and cache
 * directories: capped reads, atomic writes (temp file, fsync, rename), mkdir
 * -p, a bounded recursive delete and a copy that hashes as it goes. Every
 * error names the path. */
#ifndef BERTH_VM_FSUTIL_H
#define BERTH_VM_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct strbuf;
struct berth_error;

/* Appends the file's contents to out. More than cap bytes is BERTH_E_LIMIT
 * (the message names the cap); a missing file is BERTH_E_NOTFOUND. out is
 * untouched on error. */
int vm_fs_read(struct strbuf *out, const char *path, size_t cap, struct berth_error *err);
/* Writes data to path through "<path>.tmp" + fsync + rename, so a reader sees
 * the old or the new contents, never a mix. */
int vm_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct berth_error *err);
/* Creates dir and its parents (mode for the new ones). */
int vm_fs_mkdir_p(const char *dir, mode_t mode, struct berth_error *err);
/* Removes path and everything under it without following symlinks. A missing
 * path is not an error. Stops at the first failure. */
int vm_fs_remove_tree(const char *path, struct berth_error *err);
/* Copies src to dst (created exclusively, mode), appending the sha256 hex of
 * the bytes copied to sha256_out when not NULL. dst is removed on failure. */
int vm_fs_copy(const char *src, const char *dst, mode_t mode, struct strbuf *sha256_out, struct berth_error *err);
/* link(2), or a copy when src and dst are on different filesystems. */
int vm_fs_link_or_copy(const char *src, const char *dst, mode_t mode, struct berth_error *err);
/* True when path exists (lstat). */
bool vm_fs_exists(const char *path);
/* Removes path if it exists; other errors are returned. */
int vm_fs_unlink(const char *path, struct berth_error *err);

#endif
