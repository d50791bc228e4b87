#include "vm/ssh_transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "vm/ssh.h"
#include "vm/vm.h"
#include "common/banned.h"

#define CONNECT_TIMEOUT_MS 30000

struct pool {
	struct runtime_transport t;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vm_env env; /* copies of what vm_connect needs */
	char *home, *cache, *name;
	struct vm_ssh **idle;
	size_t idle_nr, idle_alloc;
	int open, max;
};

/* Takes an idle session, or the right to open one; waits for a free slot
 * until deadline_ms (0 = no deadline). */
static int take(struct pool *pl, struct vm_ssh **s, int64_t deadline_ms, struct berth_error *err)
{
	pthread_mutex_lock(&pl->mu);
	while (!pl->idle_nr && pl->open >= pl->max) {
		if (deadline_ms) {
			int64_t left = deadline_ms - proc_now_ms();
			if (left <= 0) {
				pthread_mutex_unlock(&pl->mu);
				return berth_error_set(err, BERTH_E_TIMEOUT,
						       "no free SSH connection to the VM before the deadline");
			}
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += left / 1000;
			ts.tv_nsec += (left % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&pl->cv, &pl->mu, &ts);
		} else {
			pthread_cond_wait(&pl->cv, &pl->mu);
		}
	}
	if (pl->idle_nr) {
		*s = pl->idle[--pl->idle_nr];
	} else {
		*s = NULL;
		pl->open++;
	}
	pthread_mutex_unlock(&pl->mu);
	if (*s)
		return 0;
	int rc = vm_connect(&pl->env, pl->name, s, err);
	if (rc) {
		pthread_mutex_lock(&pl->mu);
		pl->open--;
		pthread_cond_signal(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
	}
	return rc;
}

static void give_back(struct pool *pl, struct vm_ssh *s)
{
	pthread_mutex_lock(&pl->mu);
	if (vm_ssh_usable(s)) {
		ALLOC_GROW(pl->idle, pl->idle_nr + 1, pl->idle_alloc);
		pl->idle[pl->idle_nr++] = s;
		s = NULL;
	} else {
		pl->open--;
	}
	pthread_cond_signal(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	vm_ssh_free(s);
}

static int ssh_transport_run(const struct runtime_transport *t, struct proc *p, struct berth_error *err)
{
	struct pool *pl = t->data;
	for (int attempt = 0;; attempt++) {
		struct vm_ssh *s = NULL;
		int rc = take(pl, &s, p->deadline_ms, err);
		if (rc)
			return rc;
		rc = vm_ssh_run(s, p, err);
		bool retry = rc == BERTH_E_IO && !vm_ssh_usable(s) && !vm_ssh_command_started(s) && attempt == 0;
		give_back(pl, s);
		if (!retry)
			return rc;
		/* An idle connection that died (the guest restarted, a long sleep): once more on a new one. */
		berth_error_release(err);
	}
}

int vm_ssh_transport_open(struct runtime_transport **out, const struct vm_env *e, const char *name, int max_sessions,
			  struct berth_error *err)
{
	struct pool *pl = xcalloc(1, sizeof(*pl));
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->cv, NULL);
	pl->home = xstrdup(e->home);
	pl->cache = xstrdup(e->cache);
	pl->name = xstrdup(name ? name : "default");
	pl->env = *e;
	pl->env.home = pl->home;
	pl->env.cache = pl->cache;
	pl->env.ui = NULL;
	pl->max = max_sessions > 0 ? max_sessions : VM_SSH_POOL_MAX;
	pl->t.name = "ssh";
	pl->t.run = ssh_transport_run;
	pl->t.same_host = false;
	pl->t.data = pl;
	/* One connection now: a VM that is not running fails here, not at the first command. */
	struct vm_ssh *s = NULL;
	int rc = take(pl, &s, proc_deadline_in(CONNECT_TIMEOUT_MS), err);
	if (rc) {
		vm_ssh_transport_free(&pl->t);
		return rc;
	}
	give_back(pl, s);
	*out = &pl->t;
	return 0;
}

void vm_ssh_transport_free(struct runtime_transport *t)
{
	if (!t)
		return;
	struct pool *pl = t->data;
	for (size_t i = 0; i < pl->idle_nr; i++)
		vm_ssh_free(pl->idle[i]);
	free(pl->idle);
	free(pl->home);
	free(pl->cache);
	free(pl->name);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->cv);
	free(pl);
}
