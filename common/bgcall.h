/* bgcall: a function run in a second thread when one can be had. Where
 * pthread_create fails (thread limits), the function runs in the caller,
 * at once, so callers need no second code path: start, do their own part,
 * wait. */
#ifndef BERTH_BGCALL_H
#define BERTH_BGCALL_H

#include <pthread.h>
#include <stdbool.h>

struct bg_call {
	pthread_t th;
	bool threaded; /* false: fn already ran in bg_call_start */
};

/* Starts fn(arg) in a new thread, or runs it here and now when none can be made. */
void bg_call_start(struct bg_call *c, void *(*fn)(void *), void *arg);
/* Returns once the call started by bg_call_start has ended. */
void bg_call_wait(struct bg_call *c);

#endif
