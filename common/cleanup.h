/* Scope-bound cleanup for locals (GCC/Clang cleanup attribute), as crun and
 * systemd use: `_cleanup_free_ char *s = NULL;` frees s when it leaves scope. */
#ifndef BERTH_CLEANUP_H
#define BERTH_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(fn)    __attribute__((cleanup(fn)))
#define _cleanup_free_   _cleanup_(cleanup_freep)
#define _cleanup_close_  _cleanup_(cleanup_closep)
#define _cleanup_fclose_ _cleanup_(cleanup_fclosep)

/* Hands ownership out of a _cleanup_ local. */
#define TAKE_PTR(p)                                                                                                    \
	({                                                                                                             \
		__typeof__(p) _p = (p);                                                                                \
		(p) = NULL;                                                                                            \
		_p;                                                                                                    \
	})
#define TAKE_FD(fd)                                                                                                    \
	({                                                                                                             \
		int _fd = (fd);                                                                                        \
		(fd) = -1;                                                                                             \
		_fd;                                                                                                   \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
