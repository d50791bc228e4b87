#include "common/bgcall.h"

#include "common/banned.h"

void bg_call_start(struct bg_call *c, void *(*fn)(void *), void *arg)
{
	c->threaded = pthread_create(&c->th, NULL, fn, arg) == 0;
	if (!c->threaded)
		fn(arg);
}

void bg_call_wait(struct bg_call *c)
{
	if (c->threaded)
		pthread_join(c->th, NULL);
	c->threaded = false;
}
