#include "vm/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/banned.h"

#define COPY_CHUNK (1u << 20)

static int io_error(struct berth_error *err, const char *what, const char *path, int e)
{
	char eb[128];
	return berth_error_set(err, e == ENOENT ? BERTH_E_NOTFOUND : BERTH_E_IO, "cannot %s \"%s\": %s", what, path,
			       strerror_r(e, eb, sizeof(eb)));
}

int vm_fs_read(struct strbuf *out, const char *path, size_t cap, struct berth_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_error(err, "read", path, errno);
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			strbuf_release(&sb);
			return io_error(err, "read", path, e);
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > cap) {
			strbuf_release(&sb);
			return berth_error_set(err, BERTH_E_LIMIT, "\"%s\" is larger than %zu bytes", path, cap);
		}
		strbuf_add(&sb, buf, (size_t)n);
	}
	strbuf_add(out, sb.buf, sb.len);
	strbuf_release(&sb);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int vm_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct berth_error *err)
{
	_cleanup_free_ char *tmp = xstrfmt("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return io_error(err, "create", tmp, errno);
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return io_error(err, "write", tmp, e);
	}
	if (close(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return io_error(err, "write", tmp, e);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return io_error(err, "rename into place", path, e);
	}
	return 0;
}

int vm_fs_mkdir_p(const char *dir, mode_t mode, struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;
	strbuf_addstr(&sb, dir);
	for (size_t i = 1; i <= sb.len; i++) {
		if (i < sb.len && sb.buf[i] != '/')
			continue;
		char c = sb.buf[i];
		sb.buf[i] = '\0';
		if (mkdir(sb.buf, mode) < 0 && errno != EEXIST) {
			rc = io_error(err, "create directory", sb.buf, errno);
			break;
		}
		sb.buf[i] = c;
	}
	strbuf_release(&sb);
	return rc;
}

/* nftw has no user pointer: the first failure is kept here. The VM layer's
 * commands are single-threaded (they hold the instance lock). */
static __thread int rm_errno;
static __thread char rm_failed[4096];

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int r = type == FTW_DP ? rmdir(path) : unlink(path);
	if (r < 0 && errno != ENOENT) {
		rm_errno = errno;
		snprintf(rm_failed, sizeof(rm_failed), "%s", path);
		return 1;
	}
	return 0;
}

int vm_fs_remove_tree(const char *path, struct berth_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : io_error(err, "remove", path, errno);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? io_error(err, "remove", path, errno) : 0;
	rm_errno = 0;
	/* 64 fds at most: nftw's depth costs one descriptor per level. */
	if (nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
		if (rm_errno)
			return io_error(err, "remove", rm_failed, rm_errno);
		return io_error(err, "remove", path, errno);
	}
	return 0;
}

int vm_fs_copy(const char *src, const char *dst, mode_t mode, struct strbuf *sha256_out, struct berth_error *err)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return io_error(err, "read", src, errno);
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (out < 0)
		return io_error(err, "create", dst, errno);
	struct hash_sha256_ctx h;
	hash_sha256_init(&h);
	char *buf = xmalloc(COPY_CHUNK);
	int rc = 0;
	for (;;) {
		ssize_t n = read(in, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = io_error(err, "read", src, errno);
			break;
		}
		if (n == 0)
			break;
		hash_sha256_update(&h, buf, (size_t)n);
		if (write_all(out, buf, (size_t)n) < 0) {
			rc = io_error(err, "write", dst, errno);
			break;
		}
	}
	free(buf);
	if (!rc && fsync(out) < 0)
		rc = io_error(err, "write", dst, errno);
	if (close(out) < 0 && !rc)
		rc = io_error(err, "write", dst, errno);
	if (rc) {
		hash_sha256_release(&h);
		unlink(dst);
		return rc;
	}
	if (sha256_out)
		hash_sha256_final_hex(&h, sha256_out);
	else
		hash_sha256_release(&h);
	return 0;
}

int vm_fs_link_or_copy(const char *src, const char *dst, mode_t mode, struct berth_error *err)
{
	if (link(src, dst) == 0)
		return 0;
	if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP)
		return io_error(err, "link", dst, errno);
	return vm_fs_copy(src, dst, mode, NULL, err);
}

bool vm_fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int vm_fs_unlink(const char *path, struct berth_error *err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return io_error(err, "remove", path, errno);
	return 0;
}
