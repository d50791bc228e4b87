/* The executor: a bounded pool of threads walking the plan graph. */
#include "runtime/exec.h"

#include <inttypes.h>
#include <stdarg.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "common/bgcall.h"
#include "common/error.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/proc.h"
#include "compose/node.h"
#include "compose/project.h"
#include "runtime/create.h"
#include "runtime/engine.h"
#include "runtime/model.h"
#include "runtime/plan.h"
#include "runtime/progress.h"
#include "common/banned.h"

/* Engine commands that create or start things can be slow on a loaded
 * machine (nerdctl sets up CNI, podman conmon): bounded but generous. */
#define CHANGE_TIMEOUT_MS (5 * 60 * 1000)
/* How often a wait looks at the engine's state. */
#define WAIT_POLL_MS 300
/* A berth-run healthcheck probes at most this often while waiting. */
#define PROBE_MIN_MS 1000

bool rt_cancelled(int fd)
{
	if (fd < 0)
		return false;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	return poll(&pfd, 1, 0) > 0;
}

void rt_sleep(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	if (fd < 0) {
		poll(NULL, 0, ms);
		return;
	}
	poll(&pfd, 1, ms);
}

void rt_health_cfg_release(struct rt_health_cfg *h)
{
	strvec_clear(&h->test);
	memset(h, 0, sizeof(*h));
}

static int64_t dur_ms(const struct node *n, int64_t def)
{
	int64_t ns;
	if (!n || !n->str || parse_duration(&ns, n->str))
		return def;
	return ns / 1000000;
}

void rt_health_cfg_from_node(struct rt_health_cfg *out, const struct node *hc)
{
	memset(out, 0, sizeof(*out));
	out->known = true;
	out->interval_ms = dur_ms(node_map_get(hc, "interval"), 30000);
	out->timeout_ms = dur_ms(node_map_get(hc, "timeout"), 30000);
	out->start_period_ms = dur_ms(node_map_get(hc, "start_period"), 0);
	const struct node *r = node_map_get(hc, "retries");
	out->retries = r && r->kind == NODE_INT ? (int)r->v.i : 3;
	const struct node *test = node_map_get(hc, "test");
	const struct node *dis = node_map_get(hc, "disable");
	if (dis && dis->kind == NODE_BOOL && dis->v.b)
		return;
	for (size_t i = 0; test && test->kind == NODE_SEQ && i < test->nr; i++)
		strvec_push(&out->test, test->items[i]->str);
	out->has = out->test.nr && strcmp(out->test.v[0], "NONE");
}

int rt_health_probe(const struct engine *e, const char *container, const struct rt_health_cfg *h, struct strbuf *out,
		    struct berth_error *err)
{
	struct strvec args = STRVEC_INIT;
	rt_health_exec_argv(&args, container, &h->test);
	if (!args.nr)
		return berth_error_set(err, BERTH_E_INVALID, "no healthcheck test");
	struct berth_error perr = BERTH_ERROR_INIT;
	int64_t t = h->timeout_ms > 0 ? h->timeout_ms : 30000;
	int rc = engine_run(e, out, &args, (int)t, true, &perr);
	strvec_clear(&args);
	if (!rc) {
		berth_error_release(&perr);
		return 1;
	}
	if (rc == BERTH_E_ENGINE || rc == BERTH_E_TIMEOUT) {
		if (out && perr.msg && !out->len)
			strbuf_addstr(out, perr.msg);
		berth_error_release(&perr);
		return 0;
	}
	berth_error_move(err, &perr);
	return rc;
}

/* ---- the pool ---- */

enum act_state { A_WAITING = 0, A_QUEUED, A_RUNNING, A_DONE, A_FAILED, A_SKIPPED };

struct pool {
	struct rt_exec *x;
	struct plan *p;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum act_state *st;
	size_t *pending; /* unfinished dependencies per action */
	size_t **rdeps;  /* dependents per action */
	size_t *rdeps_nr;
	size_t *queue;
	size_t qhead, qtail;
	size_t finished;
	bool stopping;
	int rc;
	struct berth_error err;
	pthread_mutex_t hosts_lock;
};

static void skip_dependents(struct pool *pl, size_t i)
{
	for (size_t k = 0; k < pl->rdeps_nr[i]; k++) {
		size_t d = pl->rdeps[i][k];
		if (pl->st[d] == A_WAITING) {
			pl->st[d] = A_SKIPPED;
			pl->finished++;
			skip_dependents(pl, d);
		}
	}
}

/* With the lock held: action i ended. */
static void finish(struct pool *pl, size_t i, bool ok)
{
	pl->st[i] = ok ? A_DONE : A_FAILED;
	pl->finished++;
	if (!ok) {
		skip_dependents(pl, i);
		return;
	}
	for (size_t k = 0; k < pl->rdeps_nr[i]; k++) {
		size_t d = pl->rdeps[i][k];
		if (pl->st[d] == A_WAITING && --pl->pending[d] == 0) {
			pl->st[d] = A_QUEUED;
			pl->queue[pl->qtail++] = d;
		}
	}
}

static void stop_all(struct pool *pl)
{
	if (pl->stopping)
		return;
	pl->stopping = true;
	for (size_t i = 0; i < pl->p->nr; i++) {
		if (pl->st[i] == A_WAITING || pl->st[i] == A_QUEUED) {
			pl->st[i] = A_SKIPPED;
			pl->finished++;
		}
	}
	pl->qhead = pl->qtail;
}

static void pl_warn(struct pool *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pl_warn(struct pool *pl, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&pl->lock);
	if (strvec_find(&pl->x->warnings, sb.buf) < 0)
		strvec_push(&pl->x->warnings, sb.buf);
	pthread_mutex_unlock(&pl->lock);
	strbuf_release(&sb);
}

static void ev(struct pool *pl, const char *kind, const char *name, const char *status, enum progress_state s)
{
	progress_event(pl->x->progress, kind, name, status, s, NULL);
}

static int run_args(struct pool *pl, struct strvec *args, int timeout_ms, struct berth_error *err)
{
	return engine_run(pl->x->e, NULL, args, timeout_ms, false, err);
}

/* stop / rm -f of one container, or of a batch in one engine command */
static int stop_ids(struct pool *pl, const struct strvec *ids, struct berth_error *err)
{
	struct strvec args = STRVEC_INIT;
	strvec_push(&args, "stop");
	if (pl->x->stop_timeout >= 0) {
		strvec_push(&args, "-t");
		strvec_pushf(&args, "%d", pl->x->stop_timeout);
	}
	for (size_t i = 0; i < ids->nr; i++)
		strvec_push(&args, ids->v[i]);
	int rc = run_args(pl, &args, CHANGE_TIMEOUT_MS, err);
	strvec_clear(&args);
	return rc;
}

static int remove_ids(struct pool *pl, const struct strvec *ids, bool volumes, struct berth_error *err)
{
	struct strvec args = STRVEC_INIT;
	strvec_pushl(&args, "rm", "-f", NULL);
	if (volumes)
		strvec_push(&args, "-v");
	for (size_t i = 0; i < ids->nr; i++)
		strvec_push(&args, ids->v[i]);
	int rc = run_args(pl, &args, CHANGE_TIMEOUT_MS, err);
	strvec_clear(&args);
	return rc;
}

static int stop_container(struct pool *pl, const char *id, struct berth_error *err)
{
	struct strvec one = STRVEC_INIT;
	strvec_push(&one, id);
	int rc = stop_ids(pl, &one, err);
	strvec_clear(&one);
	return rc;
}

static int remove_container(struct pool *pl, const char *id, bool volumes, struct berth_error *err)
{
	struct strvec one = STRVEC_INIT;
	strvec_push(&one, id);
	int rc = remove_ids(pl, &one, volumes, err);
	strvec_clear(&one);
	return rc;
}

/* A removal batch split across processes, for an engine whose CLI handles
 * the containers of one command one after the other (nerdctl). */
struct chunk {
	struct pool *pl;
	struct strvec ids;
	bool volumes;
	int rc;
	struct berth_error err;
	struct bg_call call;
};

static void *chunk_main(void *arg)
{
	struct chunk *c = arg;
	c->rc = remove_ids(c->pl, &c->ids, c->volumes, &c->err);
	return NULL;
}

static int remove_batch(struct pool *pl, const struct strvec *ids, bool volumes, struct berth_error *err)
{
	size_t k = 1;
	if (pl->x->e->caps.batch_serial && ids->nr > 1) {
		/* Measured on 2 cores, 30 containers: 1 command 5.4 s, 2 3.6 s, 4 3.3 s,
		 * 16 3.7 s (CLI start-ups compete). Stops stay one command: a stop
		 * is quick, a second process per container is not. */
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		size_t par = pl->x->parallel > 0 ? (size_t)pl->x->parallel : 1;
		size_t want = cpus > 0 ? 2 * (size_t)cpus : 2;
		if (want < par)
			par = want;
		k = ids->nr < par ? ids->nr : par;
	}
	if (k <= 1)
		return remove_ids(pl, ids, volumes, err);
	struct chunk *cs = xcalloc(k, sizeof(*cs));
	for (size_t i = 0; i < k; i++)
		cs[i] = (struct chunk){.pl = pl, .ids = STRVEC_INIT, .volumes = volumes, .err = BERTH_ERROR_INIT};
	for (size_t i = 0; i < ids->nr; i++)
		strvec_push(&cs[i % k].ids, ids->v[i]);
	for (size_t i = 1; i < k; i++)
		bg_call_start(&cs[i].call, chunk_main, &cs[i]);
	chunk_main(&cs[0]);
	int rc = 0;
	for (size_t i = 0; i < k; i++) {
		if (i)
			bg_call_wait(&cs[i].call);
		if (cs[i].rc && !rc) {
			rc = cs[i].rc;
			berth_error_move(err, &cs[i].err);
		}
		berth_error_release(&cs[i].err);
		strvec_clear(&cs[i].ids);
	}
	free(cs);
	return rc;
}

static void ev_all(struct pool *pl, const struct strvec *names, const char *status, enum progress_state s)
{
	for (size_t i = 0; i < names->nr; i++)
		ev(pl, "Container", names->v[i], status, s);
}

/* STOP or REMOVE of a batch (or of one container) */
static int do_stop_remove(struct pool *pl, const struct plan_action *a, bool remove, struct berth_error *err)
{
	struct strvec ids = STRVEC_INIT, names = STRVEC_INIT;
	if (a->batch_ids.nr) {
		strvec_pushv(&ids, (const char *const *)a->batch_ids.v);
		strvec_pushv(&names, (const char *const *)a->batch_names.v);
	} else {
		strvec_push(&ids, a->old_id);
		strvec_push(&names, a->name);
	}
	int rc = 0;
	if (!a->already_stopped) {
		ev_all(pl, &names, "Stopping", PROGRESS_WORKING);
		rc = stop_ids(pl, &ids, err);
	}
	if (rc && remove && rc != BERTH_E_TIMEOUT) {
		/* one of them may have gone meanwhile: rm -f settles the rest */
		berth_error_release(err);
		rc = 0;
	}
	if (!rc) {
		if (!a->already_stopped)
			ev_all(pl, &names, "Stopped", PROGRESS_DONE);
		if (remove) {
			ev_all(pl, &names, "Removing", PROGRESS_WORKING);
			rc = remove_batch(pl, &ids, a->remove_volumes, err);
		}
	}
	if (rc) {
		struct strbuf list = STRBUF_INIT;
		strvec_join(&names, ", ", &list);
		berth_error_prefix(err, "%s container%s %s", remove ? "removing" : "stopping", names.nr > 1 ? "s" : "",
				   list.buf);
		strbuf_release(&list);
		ev_all(pl, &names, "Error", PROGRESS_ERROR);
	} else if (remove) {
		ev_all(pl, &names, "Removed", PROGRESS_DONE);
	}
	strvec_clear(&ids);
	strvec_clear(&names);
	return rc;
}

static void hosts_after_start(struct pool *pl)
{
	if (!pl->x->hosts_aliases)
		return;
	struct berth_error herr = BERTH_ERROR_INIT;
	pthread_mutex_lock(&pl->hosts_lock);
	struct strvec w = STRVEC_INIT;
	if (rt_hosts_sync(pl->x->e, pl->x->m, &w, &herr))
		strvec_pushf(&w, "writing network aliases: %s", herr.msg ? herr.msg : "failed");
	pthread_mutex_unlock(&pl->hosts_lock);
	pthread_mutex_lock(&pl->lock);
	for (size_t i = 0; i < w.nr; i++)
		if (strvec_find(&pl->x->warnings, w.v[i]) < 0)
			strvec_push(&pl->x->warnings, w.v[i]);
	pthread_mutex_unlock(&pl->lock);
	strvec_clear(&w);
	berth_error_release(&herr);
}

static int do_create(struct pool *pl, const struct plan_action *a, struct berth_error *err)
{
	struct rt_exec *x = pl->x;
	const struct rt_service *s = &x->m->svcs[a->service];
	struct strbuf name = STRBUF_INIT;
	rt_container_name(&name, x->m, s, a->number);
	struct rt_create_spec spec = {
		.m = x->m,
		.s = s,
		.number = a->number,
		.name = name.buf,
		.image_id = x->image_ids ? x->image_ids[a->service] : NULL,
		.start = !x->no_start && !a->create_only,
	};
	struct rt_create_cmds cmds;
	int rc = rt_create_argv(&cmds, x->e, &spec, err);
	if (!rc) {
		ev(pl, "Container", name.buf, "Creating", PROGRESS_WORKING);
		rc = run_args(pl, &cmds.argv, CHANGE_TIMEOUT_MS, err);
		if (rc)
			berth_error_prefix(err, "creating container \"%s\"", name.buf);
	}
	for (size_t i = 0; !rc && i < cmds.connect_nr; i++) {
		rc = run_args(pl, &cmds.connect[i], CHANGE_TIMEOUT_MS, err);
		if (rc)
			berth_error_prefix(err, "connecting container \"%s\" to network \"%s\"", name.buf,
					   cmds.connect[i].v[cmds.connect[i].nr - 2]);
	}
	if (!rc) {
		ev(pl, "Container", name.buf, "Created", PROGRESS_DONE);
		if (!cmds.runs && !x->no_start && !a->create_only) {
			struct strvec args = STRVEC_INIT;
			strvec_pushl(&args, "start", name.buf, NULL);
			ev(pl, "Container", name.buf, "Starting", PROGRESS_WORKING);
			rc = run_args(pl, &args, CHANGE_TIMEOUT_MS, err);
			strvec_clear(&args);
			if (rc)
				berth_error_prefix(err, "starting container \"%s\"", name.buf);
		}
		if (!rc && !x->no_start && !a->create_only) {
			ev(pl, "Container", name.buf, "Started", PROGRESS_DONE);
			hosts_after_start(pl);
		}
	}
	if (rc)
		ev(pl, "Container", name.buf, "Error", PROGRESS_ERROR);
	rt_create_cmds_release(&cmds);
	strbuf_release(&name);
	return rc;
}

static int do_start(struct pool *pl, const struct plan_action *a, bool restart, struct berth_error *err)
{
	int rc = 0;
	if (restart) {
		ev(pl, "Container", a->name, "Restarting", PROGRESS_WORKING);
		rc = stop_container(pl, a->old_id, err);
	} else {
		ev(pl, "Container", a->name, "Starting", PROGRESS_WORKING);
	}
	if (!rc) {
		struct strvec args = STRVEC_INIT;
		strvec_pushl(&args, "start", a->old_id, NULL);
		rc = run_args(pl, &args, CHANGE_TIMEOUT_MS, err);
		strvec_clear(&args);
	}
	if (rc) {
		berth_error_prefix(err, "%s container \"%s\"", restart ? "restarting" : "starting", a->name);
		ev(pl, "Container", a->name, "Error", PROGRESS_ERROR);
		return rc;
	}
	ev(pl, "Container", a->name, restart ? "Restarted" : "Started", PROGRESS_DONE);
	hosts_after_start(pl);
	return 0;
}

/* The container names of service si, as `up` made them. */
static void service_names(struct pool *pl, int si, struct strvec *out)
{
	const struct rt_service *s = &pl->x->m->svcs[si];
	for (int n = 1; n <= s->replicas; n++) {
		struct strbuf name = STRBUF_INIT;
		rt_container_name(&name, pl->x->m, s, n);
		strvec_push(out, name.buf);
		strbuf_release(&name);
	}
}

static bool deadline_passed(struct pool *pl)
{
	return pl->x->wait_deadline_ms && proc_now_ms() >= pl->x->wait_deadline_ms;
}

static bool interrupted(struct pool *pl)
{
	if (!rt_cancelled(pl->x->cancel_fd))
		return false;
	pl->x->cancelled = true;
	return true;
}

/* Waits for every container of a service to be healthy (HEALTHY) or
 * running-or-healthy (RUNNING). */
static int do_wait_health(struct pool *pl, const struct plan_action *a, struct berth_error *err)
{
	struct rt_exec *x = pl->x;
	const struct engine *e = x->e;
	struct strvec names = STRVEC_INIT;
	service_names(pl, a->service, &names);
	bool need_health = a->op == PLAN_SERVICE_HEALTHY;
	const struct rt_health_cfg *hc = x->health ? &x->health[a->service] : NULL;
	size_t n = names.nr;
	bool *ok = xcalloc(n + 1, sizeof(bool));
	int *fails = xcalloc(n + 1, sizeof(int));
	int64_t *last_probe = xcalloc(n + 1, sizeof(int64_t));
	int64_t *last_fail = xcalloc(n + 1, sizeof(int64_t));
	int64_t started = proc_now_ms();
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		ev(pl, "Container", names.v[i], "Waiting", PROGRESS_WORKING);
	for (;;) {
		if (interrupted(pl)) {
			rc = berth_error_set(err, BERTH_E_INTERRUPTED, "interrupted");
			break;
		}
		if (deadline_passed(pl)) {
			rc = berth_error_set(err, BERTH_E_TIMEOUT, "application not healthy after %d s",
					     x->wait_timeout_s);
			break;
		}
		struct engine_container_list cl = {0};
		rc = engine_inspect_containers(e, &names, &cl, err);
		if (rc)
			break;
		for (size_t i = 0; i < n && !rc; i++) {
			if (ok[i])
				continue;
			const struct engine_container *c = NULL;
			for (size_t k = 0; k < cl.nr; k++)
				if (!strcmp(cl.v[k].name, names.v[i]))
					c = &cl.v[k];
			if (!c) {
				rc = berth_error_set(err, BERTH_E_NOTFOUND, "container %s is gone", names.v[i]);
				break;
			}
			if (!strcmp(c->state, "exited") || !strcmp(c->state, "dead")) {
				rc = berth_error_set(err, BERTH_E_ENGINE, "container %s exited (%d)", c->name,
						     c->exit_code);
				break;
			}
			if (!engine_container_running(c))
				continue;
			if (e->caps.health == ENGINE_HEALTH_BERTH) {
				bool has = hc && hc->has;
				if (!has) {
					if (need_health) {
						rc = berth_error_set(err, BERTH_E_INVALID,
								     "container %s has no healthcheck configured",
								     c->name);
						break;
					}
					ok[i] = true;
					continue;
				}
				int64_t now = proc_now_ms();
				int64_t period = hc->interval_ms < PROBE_MIN_MS ? hc->interval_ms : PROBE_MIN_MS;
				if (last_probe[i] && now - last_probe[i] < period)
					continue;
				last_probe[i] = now;
				struct strbuf out = STRBUF_INIT;
				int h = rt_health_probe(e, c->name, hc, &out, err);
				if (h < 0) {
					rc = h;
					strbuf_release(&out);
					break;
				}
				if (h == 1) {
					ok[i] = true;
				} else {
					/* failures count at the check's own interval, and not
					 * during its start period, as the engine would */
					if (now - started >= hc->start_period_ms &&
					    (!last_fail[i] || now - last_fail[i] >= hc->interval_ms)) {
						last_fail[i] = now;
						if (++fails[i] >= (hc->retries > 0 ? hc->retries : 3)) {
							strbuf_trim(&out);
							rc = berth_error_set(err, BERTH_E_ENGINE,
									     "container %s is unhealthy%s%s", c->name,
									     out.len ? ": " : "", out.buf);
						}
					}
				}
				strbuf_release(&out);
				continue;
			}
			/* the engine keeps the state */
			if (!*c->health) {
				if (need_health) {
					rc = berth_error_set(err, BERTH_E_INVALID,
							     "container %s has no healthcheck configured", c->name);
					break;
				}
				ok[i] = true;
			} else if (!strcmp(c->health, "healthy")) {
				ok[i] = true;
			} else if (!strcmp(c->health, "unhealthy")) {
				rc = berth_error_set(err, BERTH_E_ENGINE, "container %s is unhealthy", c->name);
			} else {
				if (e->caps.health == ENGINE_HEALTH_TRIGGERED && e->d->health_run_argv) {
					int64_t now = proc_now_ms();
					int64_t iv = hc && hc->known && hc->interval_ms > 0 ? hc->interval_ms : 30000;
					int64_t period = iv < PROBE_MIN_MS ? iv : PROBE_MIN_MS;
					if (!last_probe[i] || now - last_probe[i] >= period) {
						last_probe[i] = now;
						struct strvec args = STRVEC_INIT;
						e->d->health_run_argv(&args, c->name);
						struct berth_error ign = BERTH_ERROR_INIT;
						/* its verdict lands in the container's state */
						engine_run(e, NULL, &args,
							   hc && hc->timeout_ms > 0 ? (int)hc->timeout_ms + 5000
										    : 35000,
							   false, &ign);
						berth_error_release(&ign);
						strvec_clear(&args);
					}
				}
			}
		}
		engine_container_list_release(&cl);
		if (rc)
			break;
		bool done = true;
		for (size_t i = 0; i < n; i++)
			done &= ok[i];
		if (done)
			break;
		rt_sleep(x->cancel_fd, WAIT_POLL_MS);
	}
	if (!rc) {
		for (size_t i = 0; i < n; i++)
			ev(pl, "Container", names.v[i], need_health || (hc && hc->has) ? "Healthy" : "Running",
			   PROGRESS_DONE);
	} else if (rc != BERTH_E_INTERRUPTED) {
		berth_error_prefix(err, "service \"%s\"", pl->x->m->svcs[a->service].name);
	}
	free(ok);
	free(fails);
	free(last_probe);
	free(last_fail);
	strvec_clear(&names);
	return rc;
}

static int do_wait_completed(struct pool *pl, const struct plan_action *a, struct berth_error *err)
{
	struct rt_exec *x = pl->x;
	struct strvec names = STRVEC_INIT;
	service_names(pl, a->service, &names);
	int rc = 0;
	for (size_t i = 0; i < names.nr && !rc; i++) {
		ev(pl, "Container", names.v[i], "Waiting", PROGRESS_WORKING);
		struct proc p;
		struct strvec args = STRVEC_INIT;
		struct strbuf o = STRBUF_INIT, eb = STRBUF_INIT;
		strvec_pushl(&args, "wait", names.v[i], NULL);
		engine_proc_init(x->e, &p, &args);
		strvec_clear(&args);
		p.out.mode = PROC_PIPE;
		p.out.buf = &o;
		p.err.mode = PROC_PIPE;
		p.err.buf = &eb;
		p.err.truncate = true;
		p.err.cap = 4096;
		p.cancel_fd = x->cancel_fd;
		if (x->wait_deadline_ms)
			p.deadline_ms = x->wait_deadline_ms;
		rc = engine_proc_run(x->e, &p, err);
		proc_release(&p);
		strbuf_release(&o);
		strbuf_release(&eb);
		if (rc == BERTH_E_INTERRUPTED) {
			x->cancelled = true;
			rc = berth_error_set(err, BERTH_E_INTERRUPTED, "interrupted");
			break;
		}
		if (rc == BERTH_E_TIMEOUT) {
			rc = berth_error_set(err, BERTH_E_TIMEOUT, "service \"%s\" did not complete within %d s",
					     x->m->svcs[a->service].name, x->wait_timeout_s);
			break;
		}
		if (rc)
			break;
		struct strvec one = STRVEC_INIT;
		strvec_push(&one, names.v[i]);
		struct engine_container_list cl = {0};
		rc = engine_inspect_containers(x->e, &one, &cl, err);
		strvec_clear(&one);
		if (!rc && !cl.nr)
			rc = berth_error_set(err, BERTH_E_NOTFOUND, "container %s is gone", names.v[i]);
		if (!rc && cl.v[0].exit_code != 0) {
			ev(pl, "Container", names.v[i], "Error", PROGRESS_ERROR);
			rc = berth_error_set(err, BERTH_E_ENGINE,
					     "service \"%s\" didn't complete successfully: exit %d",
					     x->m->svcs[a->service].name, cl.v[0].exit_code);
		}
		if (!rc)
			ev(pl, "Container", names.v[i], "Exited", PROGRESS_DONE);
		engine_container_list_release(&cl);
	}
	strvec_clear(&names);
	return rc;
}

/* Resources named by compose labels, so that `docker compose` knows them. */
static int do_network_create(struct pool *pl, const struct plan_action *a, struct berth_error *err)
{
	const struct rt_model *m = pl->x->m;
	long idx = strvec_find(&m->net_names, a->name);
	const char *key = idx >= 0 ? m->net_keys.v[idx] : a->name;
	const struct node *nets = node_map_get(m->p->model, "networks");
	const struct node *cfg = nets ? node_map_get(nets, key) : NULL;
	struct strvec args = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	strvec_pushl(&args, "network", "create", NULL);
	strvec_pushf(&args, "--label=%s=%s", LABEL_NETWORK, key);
	strvec_pushf(&args, "--label=%s=%s", LABEL_PROJECT, m->project);
	strvec_pushf(&args, "--label=%s=%s", LABEL_VERSION, BERTH_VERSION);
	if (cfg && cfg->kind == NODE_MAP) {
		const struct node *drv = node_map_get(cfg, "driver");
		if (drv && drv->str && *drv->str)
			strvec_pushf(&args, "--driver=%s", drv->str);
		const struct node *opts = node_map_get(cfg, "driver_opts");
		for (size_t i = 0; opts && opts->kind == NODE_MAP && i < opts->nr; i++)
			strvec_pushf(&args, "--opt=%s=%s", opts->kvs[i].key->str, node_scalar_text(opts->kvs[i].value));
		const struct node *labels = node_map_get(cfg, "labels");
		for (size_t i = 0; labels && labels->kind == NODE_MAP && i < labels->nr; i++)
			strvec_pushf(&args, "--label=%s=%s", labels->kvs[i].key->str,
				     node_scalar_text(labels->kvs[i].value));
		const struct node *internal = node_map_get(cfg, "internal");
		if (internal && internal->kind == NODE_BOOL && internal->v.b) {
			if (pl->x->e->d->kind == ENGINE_NERDCTL)
				pl_warn(pl, "network \"%s\": internal is not supported by nerdctl; ignored", key);
			else
				strvec_push(&args, "--internal");
		}
		const struct node *v6 = node_map_get(cfg, "enable_ipv6");
		if (v6 && v6->kind == NODE_BOOL && v6->v.b)
			strvec_push(&args, "--ipv6");
		const struct node *ipam = node_map_get(cfg, "ipam");
		const struct node *conf = ipam ? node_map_get(ipam, "config") : NULL;
		for (size_t i = 0; conf && conf->kind == NODE_SEQ && i < conf->nr; i++) {
			const struct node *c = conf->items[i];
			const struct node *sub = node_map_get(c, "subnet"), *gw = node_map_get(c, "gateway");
			const struct node *rng = node_map_get(c, "ip_range");
			if (sub && sub->str)
				strvec_pushf(&args, "--subnet=%s", sub->str);
			if (gw && gw->str)
				strvec_pushf(&args, "--gateway=%s", gw->str);
			if (rng && rng->str)
				strvec_pushf(&args, "--ip-range=%s", rng->str);
		}
	}
	strvec_push(&args, a->name);
	ev(pl, "Network", a->name, "Creating", PROGRESS_WORKING);
	int rc = run_args(pl, &args, CHANGE_TIMEOUT_MS, err);
	if (rc == BERTH_E_ENGINE) {
		/* another `up` may have made it meanwhile (Docker Compose retries
		 * once for the same reason): fine if it exists now */
		struct strvec names = STRVEC_INIT;
		struct berth_error lerr = BERTH_ERROR_INIT;
		if (!engine_list_names(pl->x->e, "network", &names, &lerr) && strvec_find(&names, a->name) >= 0) {
			berth_error_release(err);
			rc = 0;
		}
		berth_error_release(&lerr);
		strvec_clear(&names);
	}
	if (rc) {
		berth_error_prefix(err, "creating network \"%s\"", a->name);
		ev(pl, "Network", a->name, "Error", PROGRESS_ERROR);
	} else {
		ev(pl, "Network", a->name, "Created", PROGRESS_DONE);
	}
	strvec_clear(&args);
	strbuf_release(&sb);
	return rc;
}

static int do_volume_create(struct pool *pl, const struct plan_action *a, struct berth_error *err)
{
	const struct rt_model *m = pl->x->m;
	long idx = strvec_find(&m->vol_names, a->name);
	const char *key = idx >= 0 ? m->vol_keys.v[idx] : a->name;
	const struct node *vols = node_map_get(m->p->model, "volumes");
	const struct node *cfg = vols ? node_map_get(vols, key) : NULL;
	struct strvec args = STRVEC_INIT;
	strvec_pushl(&args, "volume", "create", NULL);
	strvec_pushf(&args, "--label=%s=%s", LABEL_VOLUME, key);
	strvec_pushf(&args, "--label=%s=%s", LABEL_PROJECT, m->project);
	strvec_pushf(&args, "--label=%s=%s", LABEL_VERSION, BERTH_VERSION);
	if (cfg && cfg->kind == NODE_MAP) {
		const struct node *drv = node_map_get(cfg, "driver");
		const struct node *opts = node_map_get(cfg, "driver_opts");
		bool nerdctl = pl->x->e->d->kind == ENGINE_NERDCTL;
		if (nerdctl && ((drv && drv->str && strcmp(drv->str, "local")) || (opts && opts->nr)))
			pl_warn(pl, "volume \"%s\": driver and driver_opts are not supported by nerdctl; ignored", key);
		if (!nerdctl && drv && drv->str && *drv->str)
			strvec_pushf(&args, "--driver=%s", drv->str);
		for (size_t i = 0; !nerdctl && opts && opts->kind == NODE_MAP && i < opts->nr; i++)
			strvec_pushf(&args, "--opt=%s=%s", opts->kvs[i].key->str, node_scalar_text(opts->kvs[i].value));
		const struct node *labels = node_map_get(cfg, "labels");
		for (size_t i = 0; labels && labels->kind == NODE_MAP && i < labels->nr; i++)
			strvec_pushf(&args, "--label=%s=%s", labels->kvs[i].key->str,
				     node_scalar_text(labels->kvs[i].value));
	}
	strvec_push(&args, a->name);
	ev(pl, "Volume", a->name, "Creating", PROGRESS_WORKING);
	int rc = run_args(pl, &args, CHANGE_TIMEOUT_MS, err);
	if (rc) {
		berth_error_prefix(err, "creating volume \"%s\"", a->name);
		ev(pl, "Volume", a->name, "Error", PROGRESS_ERROR);
	} else {
		ev(pl, "Volume", a->name, "Created", PROGRESS_DONE);
	}
	strvec_clear(&args);
	return rc;
}

static int do_remove_named(struct pool *pl, const struct plan_action *a, const char *kind, const char *label,
			   struct berth_error *err)
{
	struct strvec args = STRVEC_INIT;
	if (!strcmp(kind, "image"))
		strvec_pushl(&args, "rmi", a->name, NULL);
	else
		strvec_pushl(&args, kind, "rm", a->name, NULL);
	ev(pl, label, a->name, "Removing", PROGRESS_WORKING);
	int rc = run_args(pl, &args, CHANGE_TIMEOUT_MS, err);
	strvec_clear(&args);
	if (rc) {
		berth_error_prefix(err, "removing %s \"%s\"", kind, a->name);
		ev(pl, label, a->name, "Error", PROGRESS_ERROR);
		return rc;
	}
	ev(pl, label, a->name, "Removed", PROGRESS_DONE);
	return 0;
}

static int run_action(struct pool *pl, size_t i, struct berth_error *err)
{
	const struct plan_action *a = &pl->p->v[i];
	int rc = 0;
	switch (a->op) {
	case PLAN_NETWORK_CREATE: return do_network_create(pl, a, err);
	case PLAN_VOLUME_CREATE: return do_volume_create(pl, a, err);
	case PLAN_CONTAINER_CREATE: return do_create(pl, a, err);
	case PLAN_CONTAINER_RECREATE:
		ev(pl, "Container", a->name, "Recreate", PROGRESS_WORKING);
		rc = stop_container(pl, a->old_id, err);
		if (!rc)
			rc = remove_container(pl, a->old_id, false, err);
		if (rc) {
			berth_error_prefix(err, "removing the old container \"%s\"", a->name);
			ev(pl, "Container", a->name, "Error", PROGRESS_ERROR);
			return rc;
		}
		ev(pl, "Container", a->name, "Recreated", PROGRESS_DONE);
		return do_create(pl, a, err);
	case PLAN_CONTAINER_START: return do_start(pl, a, false, err);
	case PLAN_CONTAINER_RESTART: return do_start(pl, a, true, err);
	case PLAN_CONTAINER_STOP: return do_stop_remove(pl, a, false, err);
	case PLAN_CONTAINER_REMOVE: return do_stop_remove(pl, a, true, err);
	case PLAN_SERVICE_STARTED: return 0;
	case PLAN_SERVICE_HEALTHY:
	case PLAN_SERVICE_RUNNING: return do_wait_health(pl, a, err);
	case PLAN_SERVICE_COMPLETED: return do_wait_completed(pl, a, err);
	case PLAN_NETWORK_REMOVE: return do_remove_named(pl, a, "network", "Network", err);
	case PLAN_VOLUME_REMOVE: return do_remove_named(pl, a, "volume", "Volume", err);
	case PLAN_IMAGE_REMOVE: {
		struct berth_error ierr = BERTH_ERROR_INIT;
		/* an image still used elsewhere stays: a warning, as in Compose */
		if (do_remove_named(pl, a, "image", "Image", &ierr))
			pl_warn(pl, "%s", ierr.msg ? ierr.msg : "removing an image failed");
		berth_error_release(&ierr);
		return 0;
	}
	}
	return 0;
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	pthread_mutex_lock(&pl->lock);
	for (;;) {
		while (pl->qhead == pl->qtail && pl->finished < pl->p->nr)
			pthread_cond_wait(&pl->cond, &pl->lock);
		if (pl->finished >= pl->p->nr)
			break;
		size_t i = pl->queue[pl->qhead++];
		if (pl->st[i] != A_QUEUED)
			continue;
		pl->st[i] = A_RUNNING;
		pthread_mutex_unlock(&pl->lock);

		struct berth_error aerr = BERTH_ERROR_INIT;
		int rc;
		if (rt_cancelled(pl->x->cancel_fd)) {
			pl->x->cancelled = true;
			rc = berth_error_set(&aerr, BERTH_E_INTERRUPTED, "interrupted");
		} else {
			rc = run_action(pl, i, &aerr);
			const struct plan_action *ra = &pl->p->v[i];
			if (rc && rc != BERTH_E_INTERRUPTED && ra->service >= 0 && ra->op >= PLAN_CONTAINER_CREATE &&
			    ra->op <= PLAN_CONTAINER_REMOVE)
				berth_error_prefix(&aerr, "service \"%s\"", pl->x->m->svcs[ra->service].name);
		}
		const struct plan_action *a = &pl->p->v[i];
		if (rc && a->optional && rc != BERTH_E_INTERRUPTED) {
			/* a `required: false` dependency: Compose warns and goes on */
			pl_warn(pl, "optional dependency: %s", aerr.msg ? aerr.msg : "failed");
			rc = 0;
		}

		pthread_mutex_lock(&pl->lock);
		if (rc) {
			if (!pl->rc || (pl->rc == BERTH_E_INTERRUPTED && rc != BERTH_E_INTERRUPTED)) {
				pl->rc = rc;
				berth_error_move(&pl->err, &aerr);
			}
			finish(pl, i, false);
			stop_all(pl);
		} else {
			finish(pl, i, true);
		}
		berth_error_release(&aerr);
		if (!pl->stopping && rt_cancelled(pl->x->cancel_fd)) {
			pl->x->cancelled = true;
			if (!pl->rc) {
				pl->rc = BERTH_E_INTERRUPTED;
				berth_error_set(&pl->err, BERTH_E_INTERRUPTED, "interrupted");
			}
			stop_all(pl);
		}
		pthread_cond_broadcast(&pl->cond);
	}
	pthread_cond_broadcast(&pl->cond);
	pthread_mutex_unlock(&pl->lock);
	return NULL;
}

int rt_exec_plan(struct rt_exec *x, struct plan *p, struct berth_error *err)
{
	if (!p->nr)
		return 0;
	struct pool pl;
	memset(&pl, 0, sizeof(pl));
	pl.x = x;
	pl.p = p;
	pthread_mutex_init(&pl.lock, NULL);
	pthread_mutex_init(&pl.hosts_lock, NULL);
	pthread_cond_init(&pl.cond, NULL);
	pl.st = xcalloc(p->nr, sizeof(*pl.st));
	pl.pending = xcalloc(p->nr, sizeof(size_t));
	pl.rdeps = xcalloc(p->nr, sizeof(size_t *));
	pl.rdeps_nr = xcalloc(p->nr, sizeof(size_t));
	pl.queue = xcalloc(p->nr, sizeof(size_t));
	size_t *alloc = xcalloc(p->nr, sizeof(size_t));
	for (size_t i = 0; i < p->nr; i++) {
		pl.pending[i] = p->v[i].deps_nr;
		for (size_t k = 0; k < p->v[i].deps_nr; k++) {
			size_t d = p->v[i].deps[k];
			ALLOC_GROW(pl.rdeps[d], pl.rdeps_nr[d] + 1, alloc[d]);
			pl.rdeps[d][pl.rdeps_nr[d]++] = i;
		}
	}
	free(alloc);
	for (size_t i = 0; i < p->nr; i++)
		if (!pl.pending[i]) {
			pl.st[i] = A_QUEUED;
			pl.queue[pl.qtail++] = i;
		}
	int n = x->parallel > 0 ? x->parallel : 1;
	if ((size_t)n > p->nr)
		n = (int)p->nr;
	pthread_t *th = xcalloc((size_t)n, sizeof(pthread_t));
	int started = 0;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&th[i], NULL, worker, &pl))
			break;
		started++;
	}
	if (!started)
		worker(&pl);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	int rc = pl.rc;
	if (rc)
		berth_error_move(err, &pl.err);
	berth_error_release(&pl.err);
	for (size_t i = 0; i < p->nr; i++)
		free(pl.rdeps[i]);
	free(pl.rdeps);
	free(pl.rdeps_nr);
	free(pl.st);
	free(pl.pending);
	free(pl.queue);
	pthread_cond_destroy(&pl.cond);
	pthread_mutex_destroy(&pl.lock);
	pthread_mutex_destroy(&pl.hosts_lock);
	return rc;
}
