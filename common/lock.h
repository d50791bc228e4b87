/* lock: an advisory lock file, <dir>/<name>, held with flock(2): one per
 * project so that two berths do not run `up`/`down` on it at once, one per VM
 * instance. The lock belongs to the open file, so it goes when berth closes
 * it or dies: never stale. The holder's pid is written into the file for the
 * waiting message. Lock files are never deleted: unlinking a path that
 * another berth has open and is waiting on would give two holders. */
#ifndef BERTH_LOCK_H
#define BERTH_LOCK_H

#include <stdint.h>
#include <sys/types.h>

struct berth_error;

struct lock {
	int fd;     /* -1 when not held */
	char *path; /* owned; NULL when not held */
};

#define LOCK_INIT { -1, NULL }
#define LOCK_BUSY 1

void lock_init(struct lock *lk);

/* Tries once. Returns 0 when acquired, LOCK_BUSY when someone else holds it
 * (err untouched), or a negative code (the directory or file cannot be made
 * or opened). dir is created (mode 0700, with parents) when missing; name is
 * one path component. lk must not be held; it is written only on success. */
int lock_try(struct lock *lk, const char *dir, const char *name, struct berth_error *err);

/* Called once, before the first wait, so the CLI can say "waiting for another
 * berth (pid 1234) on project X...". holder is the pid in the lock file, or 0
 * when unknown. path is borrowed for the call. */
typedef void lock_wait_fn(void *data, const char *path, pid_t holder);

/* Waits until the lock is acquired or deadline_ms passes (the proc_now_ms()
 * clock; 0 = no deadline), retrying every few milliseconds up to 100 ms.
 * on_wait may be NULL. BERTH_E_TIMEOUT when the deadline passed. */
int lock_acquire(struct lock *lk, const char *dir, const char *name, int64_t deadline_ms,
		 lock_wait_fn *on_wait, void *data, struct berth_error *err);

/* Unlocks and closes; safe on a lock that is not held. */
void lock_release(struct lock *lk);

#endif
