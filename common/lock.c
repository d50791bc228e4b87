#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "parse.h"
#include "proc.h"
#include "strbuf.h"
#include "banned.h"

#define RETRY_MIN_MS 2
#define RETRY_MAX_MS 100

void lock_init(struct lock *lk)
{
	lk->fd = -1;
	lk->path = NULL;
}

static int mkdir_p(const char *dir, struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char eb[128];
	int rc = 0;
	strbuf_addstr(&sb, dir);
	for (size_t i = 1; i <= sb.len; i++) {
		if (i < sb.len && sb.buf[i] != '/')
			continue;
		char c = sb.buf[i];
		sb.buf[i] = '\0';
		if (mkdir(sb.buf, 0700) < 0 && errno != EEXIST) {
			int e = errno;
			rc = berth_error_set(err, BERTH_E_IO, "cannot create directory \"%s\": %s", sb.buf,
					     strerror_r(e, eb, sizeof(eb)));
			break;
		}
		sb.buf[i] = c;
	}
	strbuf_release(&sb);
	return rc;
}

/* Opens the lock file, creating dir and file when missing. */
static int open_lock(int *fd_out, char **path_out, const char *dir, const char *name,
		     struct berth_error *err)
{
	char eb[128];
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return berth_error_set(err, BERTH_E_INVALID, "invalid lock name \"%s\"", name);
	char *path = xstrfmt("%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT) {
		int rc = mkdir_p(dir, err);
		if (rc) {
			free(path);
			return rc;
		}
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0) {
		int e = errno;
		int rc = berth_error_set(err, BERTH_E_IO, "cannot open lock file \"%s\": %s", path,
					 strerror_r(e, eb, sizeof(eb)));
		free(path);
		return rc;
	}
	*fd_out = fd;
	*path_out = path;
	return 0;
}

/* Returns 0 when locked, LOCK_BUSY, or an error. */
static int try_flock(int fd, const char *path, struct berth_error *err)
{
	char eb[128];
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return LOCK_BUSY;
		int e = errno;
		return berth_error_set(err, BERTH_E_IO, "cannot lock \"%s\": %s", path,
				       strerror_r(e, eb, sizeof(eb)));
	}
}

/* Best effort: the pid is only for messages. */
static void write_holder(int fd)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, sb.buf, sb.len, 0) < 0) {
		/* nothing to do: the lock is held all the same */
	}
	strbuf_release(&sb);
}

static pid_t read_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	int64_t v;
	if (parse_int64(&v, buf, 1, INT32_MAX))
		return 0;
	return (pid_t)v;
}

static void take(struct lock *lk, int fd, char *path)
{
	write_holder(fd);
	lk->fd = fd;
	lk->path = path;
}

int lock_try(struct lock *lk, const char *dir, const char *name, struct berth_error *err)
{
	int fd, rc;
	char *path;
	if (lk->fd >= 0)
		BUG("lock_try on a held lock (%s)", lk->path);
	if ((rc = open_lock(&fd, &path, dir, name, err)))
		return rc;
	rc = try_flock(fd, path, err);
	if (rc) {
		close(fd);
		free(path);
		return rc;
	}
	take(lk, fd, path);
	return 0;
}

int lock_acquire(struct lock *lk, const char *dir, const char *name, int64_t deadline_ms,
		 lock_wait_fn *on_wait, void *data, struct berth_error *err)
{
	int fd, rc;
	char *path;
	int64_t sleep_ms = RETRY_MIN_MS;
	bool told = false;

	if (lk->fd >= 0)
		BUG("lock_acquire on a held lock (%s)", lk->path);
	if ((rc = open_lock(&fd, &path, dir, name, err)))
		return rc;
	/* flock(2) has no timeout; polling with backoff keeps deadlines exact
	 * without a helper thread or signal. */
	while ((rc = try_flock(fd, path, err)) == LOCK_BUSY) {
		int64_t now = proc_now_ms();
		if (deadline_ms && now >= deadline_ms) {
			pid_t holder = read_holder(fd);
			if (holder)
				rc = berth_error_set(err, BERTH_E_TIMEOUT,
						     "timed out waiting for lock \"%s\" held by pid %ld", path,
						     (long)holder);
			else
				rc = berth_error_set(err, BERTH_E_TIMEOUT, "timed out waiting for lock \"%s\"",
						     path);
			break;
		}
		if (!told) {
			told = true;
			if (on_wait)
				on_wait(data, path, read_holder(fd));
		}
		int64_t nap = sleep_ms;
		if (deadline_ms && deadline_ms - now < nap)
			nap = deadline_ms - now;
		struct timespec ts = {(time_t)(nap / 1000), (long)(nap % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		sleep_ms = sleep_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : sleep_ms * 2;
	}
	if (rc) {
		close(fd);
		free(path);
		return rc;
	}
	take(lk, fd, path);
	return 0;
}

void lock_release(struct lock *lk)
{
	if (lk->fd >= 0) {
		/* Clear the pid while still holding the lock. */
		if (ftruncate(lk->fd, 0) < 0) {
			/* harmless: the next holder rewrites it */
		}
		close(lk->fd);
	}
	free(lk->path);
	lock_init(lk);
}
