/* Log multiplexing for `logs` and attached `up`: one `<engine> logs` child
 * per container, each line written whole with a coloured "web-1  | " prefix
 * (Docker Compose's format), whatever thread it comes from. Attached `up`
 * also handles Ctrl-C: the first stops the containers gracefully, the second
 * kills them. */
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/proc.h"
#include "runtime/engine.h"
#include "runtime/exec.h"
#include "runtime/model.h"
#include "runtime/ops.h"
#include "runtime/progress.h"
#include "common/banned.h"

/* Docker Compose's rotation: cyan, yellow, green, magenta, blue, then bright. */
static const int palette[] = {36, 33, 32, 35, 34, 96, 93, 92, 95, 94};

struct mux {
	int fd;
	pthread_mutex_t lock;
};

struct stream {
	struct mux *mx;
	const struct engine *e;
	char *container; /* name */
	char *label;     /* "web-1" */
	char *prefix;    /* "web-1  | " possibly coloured; "" with --no-log-prefix */
	const char *tail;
	bool follow, timestamps;
	int stop_fd;  /* read end: readable when the stream must end */
	int event_fd; /* write end: a byte when this stream ended */
	pthread_t th;
	bool running;
	_Atomic bool done; /* set by the thread just before it signals event_fd */
	int rc;
};

static void write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static int on_line(void *data, int fd, const char *line, size_t len)
{
	struct stream *s = data;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, s->prefix);
	strbuf_add(&sb, line, len);
	strbuf_addch(&sb, '\n');
	pthread_mutex_lock(&s->mx->lock);
	write_all(s->mx->fd, sb.buf, sb.len);
	pthread_mutex_unlock(&s->mx->lock);
	strbuf_release(&sb);
	(void)fd;
	return 0;
}

static void *stream_main(void *arg)
{
	struct stream *s = arg;
	struct strvec args = STRVEC_INIT;
	struct proc p;
	strvec_push(&args, "logs");
	if (s->follow)
		strvec_push(&args, "--follow");
	if (s->timestamps)
		strvec_push(&args, "--timestamps");
	if (s->tail)
		strvec_pushf(&args, "--tail=%s", s->tail);
	strvec_push(&args, s->container);
	engine_proc_init(s->e, &p, &args);
	strvec_clear(&args);
	p.out.mode = PROC_LINES;
	p.out.line_fn = on_line;
	p.out.line_data = s;
	p.err.mode = PROC_LINES;
	p.err.line_fn = on_line;
	p.err.line_data = s;
	p.cancel_fd = s->stop_fd;
	p.grace_ms = 500;
	struct berth_error err = BERTH_ERROR_INIT;
	s->rc = engine_proc_run(s->e, &p, &err);
	berth_error_release(&err);
	proc_release(&p);
	atomic_store(&s->done, true);
	if (s->event_fd >= 0) {
		char b = 1;
		if (write(s->event_fd, &b, 1) < 0) {
			/* the reader is gone: nothing to tell */
		}
	}
	return NULL;
}

static int cmp_containers(const void *a, const void *b)
{
	const struct engine_container *x = a, *y = b;
	int c = strcmp(x->service ? x->service : "", y->service ? y->service : "");
	if (c)
		return c;
	return x->number - y->number;
}

/* The selected services' containers, ordered by service and number. */
static int pick(const struct rt_ctx *c, const struct strvec *services, bool running_only,
		struct engine_container_list *out, struct berth_error *err)
{
	int rc = engine_list_containers(c->e, c->m->project, out, err);
	if (rc)
		return rc;
	for (size_t i = 0; services && i < services->nr; i++)
		if (rt_model_find(c->m, services->v[i]) < 0)
			return berth_error_set(err, BERTH_E_NOTFOUND, "no such service: %s", services->v[i]);
	size_t w = 0;
	for (size_t i = 0; i < out->nr; i++) {
		struct engine_container *ct = &out->v[i];
		bool keep = ct->service && !ct->oneoff && rt_model_find(c->m, ct->service) >= 0 &&
			    (!services || !services->nr || strvec_find(services, ct->service) >= 0) &&
			    (!running_only || engine_container_running(ct));
		if (keep) {
			if (w != i) {
				struct engine_container tmp = out->v[w];
				out->v[w] = out->v[i];
				out->v[i] = tmp;
			}
			w++;
		}
	}
	/* the others stay past w, released with the list */
	qsort(out->v, w, sizeof(*out->v), cmp_containers);
	return (int)w;
}

static char *label_of(const struct rt_ctx *c, const struct engine_container *ct)
{
	int si = rt_model_find(c->m, ct->service);
	if (si >= 0 && c->m->svcs[si].container_name)
		return xstrdup(ct->name);
	return xstrfmt("%s-%d", ct->service, ct->number);
}

struct streams {
	struct stream *v;
	size_t nr;
	struct mux mx;
	int stop[2];
	int event[2];
};

static void streams_setup(struct streams *ss, const struct rt_ctx *c, const struct engine_container_list *cl, size_t n,
			  bool no_color, bool no_prefix, int out_fd)
{
	memset(ss, 0, sizeof(*ss));
	ss->mx.fd = out_fd;
	pthread_mutex_init(&ss->mx.lock, NULL);
	ss->stop[0] = ss->stop[1] = ss->event[0] = ss->event[1] = -1;
	if (pipe2(ss->stop, O_CLOEXEC) || pipe2(ss->event, O_CLOEXEC | O_NONBLOCK)) {
		/* without pipes streams end on their own: fine for plain logs */
	}
	const char *nc = getenv("NO_COLOR");
	bool color = !no_color && isatty(out_fd) && !(nc && *nc);
	ss->v = xcalloc(n + 1, sizeof(*ss->v));
	ss->nr = n;
	size_t width = 0;
	for (size_t i = 0; i < n; i++) {
		ss->v[i].label = label_of(c, &cl->v[i]);
		if (strlen(ss->v[i].label) > width)
			width = strlen(ss->v[i].label);
	}
	for (size_t i = 0; i < n; i++) {
		struct stream *s = &ss->v[i];
		s->mx = &ss->mx;
		s->e = c->e;
		s->container = xstrdup(cl->v[i].name);
		s->stop_fd = ss->stop[0];
		s->event_fd = ss->event[1];
		int si = rt_model_find(c->m, cl->v[i].service);
		int col = palette[(si < 0 ? 0 : si) % (int)(sizeof(palette) / sizeof(palette[0]))];
		if (no_prefix)
			s->prefix = xstrdup("");
		else if (color)
			s->prefix = xstrfmt("\033[%dm%-*s |\033[0m ", col, (int)width, s->label);
		else
			s->prefix = xstrfmt("%-*s | ", (int)width, s->label);
	}
}

static void streams_start(struct streams *ss)
{
	for (size_t i = 0; i < ss->nr; i++)
		ss->v[i].running = !pthread_create(&ss->v[i].th, NULL, stream_main, &ss->v[i]);
}

static void streams_finish(struct streams *ss)
{
	if (ss->stop[1] >= 0) {
		char b = 1;
		if (write(ss->stop[1], &b, 1) < 0) {
			/* cannot happen with the read end open */
		}
	}
	for (size_t i = 0; i < ss->nr; i++) {
		if (ss->v[i].running)
			pthread_join(ss->v[i].th, NULL);
		free(ss->v[i].container);
		free(ss->v[i].label);
		free(ss->v[i].prefix);
	}
	free(ss->v);
	for (int i = 0; i < 2; i++) {
		if (ss->stop[i] >= 0)
			close(ss->stop[i]);
		if (ss->event[i] >= 0)
			close(ss->event[i]);
	}
	pthread_mutex_destroy(&ss->mx.lock);
}

int rt_logs(const struct rt_ctx *c, const struct rt_logs_options *o, struct berth_error *err)
{
	int vrc = engine_resolve_version(c->e, err);
	if (vrc)
		return vrc;
	struct engine_container_list cl = {0};
	int n = pick(c, o->services, false, &cl, err);
	if (n < 0) {
		engine_container_list_release(&cl);
		return n;
	}
	struct streams ss;
	streams_setup(&ss, c, &cl, (size_t)n, o->no_color, o->no_log_prefix, o->out_fd);
	for (size_t i = 0; i < ss.nr; i++) {
		ss.v[i].tail = o->tail;
		ss.v[i].follow = o->follow;
		ss.v[i].timestamps = o->timestamps;
	}
	if (!o->follow) {
		/* one after the other: each container's log reads in order;
		 * Ctrl-C ends the one being read and skips the rest */
		for (size_t i = 0; i < ss.nr && !rt_cancelled(c->cancel_fd); i++) {
			ss.v[i].event_fd = -1;
			ss.v[i].stop_fd = c->cancel_fd;
			stream_main(&ss.v[i]);
		}
	} else {
		streams_start(&ss);
		size_t ended = 0;
		while (ended < ss.nr) {
			struct pollfd pfd[2] = {{ss.event[0], POLLIN, 0}, {c->cancel_fd, POLLIN, 0}};
			if (poll(pfd, c->cancel_fd >= 0 ? 2 : 1, -1) < 0)
				continue;
			if (pfd[0].revents & POLLIN) {
				char buf[64];
				ssize_t r = read(ss.event[0], buf, sizeof(buf));
				if (r > 0)
					ended += (size_t)r;
			}
			if (c->cancel_fd >= 0 && (pfd[1].revents & POLLIN))
				break;
		}
	}
	streams_finish(&ss);
	engine_container_list_release(&cl);
	return 0;
}

/* ---- attached up ---- */

struct stopper {
	const struct rt_ctx *c;
	struct strvec names;
	int timeout;
	bool kill;
	pthread_t th;
	bool running;
};

struct one_stop {
	const struct rt_ctx *c;
	const char *name;
	int timeout;
	bool kill;
};

static void *one_stop_main(void *arg)
{
	struct one_stop *os = arg;
	struct strvec args = STRVEC_INIT;
	if (os->kill) {
		strvec_pushl(&args, "kill", os->name, NULL);
	} else {
		strvec_push(&args, "stop");
		if (os->timeout >= 0) {
			strvec_push(&args, "-t");
			strvec_pushf(&args, "%d", os->timeout);
		}
		strvec_push(&args, os->name);
	}
	struct berth_error err = BERTH_ERROR_INIT;
	/* "no such container" / "not running" are fine here */
	engine_run(os->c->e, NULL, &args, 5 * 60 * 1000, false, &err);
	berth_error_release(&err);
	strvec_clear(&args);
	return NULL;
}

static void *stopper_main(void *arg)
{
	struct stopper *st = arg;
	size_t n = st->names.nr;
	struct one_stop *os = xcalloc(n + 1, sizeof(*os));
	pthread_t *th = xcalloc(n + 1, sizeof(pthread_t));
	bool *ok = xcalloc(n + 1, sizeof(bool));
	for (size_t i = 0; i < n; i++) {
		os[i] = (struct one_stop){st->c, st->names.v[i], st->timeout, st->kill};
		if (!st->kill)
			progress_event(st->c->progress, "Container", st->names.v[i], "Stopping", PROGRESS_WORKING,
				       NULL);
		ok[i] = !pthread_create(&th[i], NULL, one_stop_main, &os[i]);
		if (!ok[i])
			one_stop_main(&os[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (ok[i])
			pthread_join(th[i], NULL);
		progress_event(st->c->progress, "Container", st->names.v[i], st->kill ? "Killed" : "Stopped",
			       PROGRESS_DONE, NULL);
	}
	free(os);
	free(th);
	free(ok);
	return NULL;
}

static void stopper_start(struct stopper *st, const struct rt_ctx *c, const struct streams *ss, int timeout, bool kill)
{
	memset(st, 0, sizeof(*st));
	st->c = c;
	st->timeout = timeout;
	st->kill = kill;
	for (size_t i = 0; i < ss->nr; i++)
		strvec_push(&st->names, ss->v[i].container);
	st->running = !pthread_create(&st->th, NULL, stopper_main, st);
	if (!st->running)
		stopper_main(st);
}

static void stopper_join(struct stopper *st)
{
	if (st->running)
		pthread_join(st->th, NULL);
	st->running = false;
	strvec_clear(&st->names);
}

static int exit_code_of(const struct rt_ctx *c, const char *name, int *code)
{
	struct strvec one = STRVEC_INIT;
	struct engine_container_list cl = {0};
	struct berth_error err = BERTH_ERROR_INIT;
	strvec_push(&one, name);
	int rc = engine_inspect_containers(c->e, &one, &cl, &err);
	int running = -1;
	if (!rc && cl.nr) {
		*code = cl.v[0].exit_code;
		running = engine_container_running(&cl.v[0]);
	}
	engine_container_list_release(&cl);
	berth_error_release(&err);
	strvec_clear(&one);
	return running;
}

int rt_attach(const struct rt_ctx *c, const struct rt_attach_options *o, int *exit_code, struct berth_error *err)
{
	int vrc = engine_resolve_version(c->e, err);
	if (vrc)
		return vrc;
	struct engine_container_list cl = {0};
	*exit_code = 0;
	int n = pick(c, o->services, false, &cl, err);
	if (n < 0) {
		engine_container_list_release(&cl);
		return n;
	}
	struct streams ss;
	streams_setup(&ss, c, &cl, (size_t)n, o->no_color, o->no_log_prefix, o->out_fd);
	bool *ended = xcalloc((size_t)n + 1, sizeof(bool));
	size_t live = 0;
	for (size_t i = 0; i < ss.nr; i++) {
		ss.v[i].follow = true;
		ss.v[i].timestamps = o->timestamps;
		/* a container this up did not start shows only what comes next */
		bool fresh = o->fresh && strvec_find(o->fresh, ss.v[i].container) >= 0;
		ss.v[i].tail = fresh ? NULL : "0";
		if (!fresh && !engine_container_running(&cl.v[i])) {
			ended[i] = true;
			continue;
		}
		live++;
	}
	for (size_t i = 0; i < ss.nr; i++)
		if (!ended[i])
			ss.v[i].running = !pthread_create(&ss.v[i].th, NULL, stream_main, &ss.v[i]);
	struct stopper st;
	memset(&st, 0, sizeof(st));
	bool stopping = false;
	int signals = 0;
	int rc = 0;
	bool have_code = false;
	while (live > 0) {
		struct pollfd pfd[2] = {{ss.event[0], POLLIN, 0}, {c->cancel_fd, POLLIN, 0}};
		if (poll(pfd, c->cancel_fd >= 0 ? 2 : 1, -1) < 0)
			continue;
		if (c->cancel_fd >= 0 && (pfd[1].revents & POLLIN)) {
			char b;
			if (read(c->cancel_fd, &b, 1) == 1)
				signals++;
			if (signals == 1) {
				const char msg[] = "Gracefully stopping... (press Ctrl+C again to force)\n";
				write_all(2, msg, sizeof(msg) - 1);
				if (!stopping) {
					stopping = true;
					stopper_start(&st, c, &ss, o->stop_timeout, false);
				}
			} else if (signals >= 2) {
				struct stopper kill;
				stopper_start(&kill, c, &ss, 0, true);
				stopper_join(&kill);
				rc = BERTH_E_INTERRUPTED;
				break;
			}
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		char buf[64];
		ssize_t r = read(ss.event[0], buf, sizeof(buf));
		if (r <= 0)
			continue;
		/* which streams ended: the threads that are done */
		for (size_t i = 0; i < ss.nr; i++) {
			if (ended[i] || !ss.v[i].running || !atomic_load(&ss.v[i].done))
				continue;
			pthread_join(ss.v[i].th, NULL);
			ss.v[i].running = false;
			ended[i] = true;
			live--;
			int code = 0;
			int running = exit_code_of(c, ss.v[i].container, &code);
			if (running == 1) {
				/* the log stream broke, not the container: follow again */
				ended[i] = false;
				live++;
				ss.v[i].tail = "0";
				atomic_store(&ss.v[i].done, false);
				ss.v[i].running = !pthread_create(&ss.v[i].th, NULL, stream_main, &ss.v[i]);
				continue;
			}
			struct strbuf line = STRBUF_INIT;
			strbuf_addf(&line, "%s exited with code %d\n", ss.v[i].label, code);
			pthread_mutex_lock(&ss.mx.lock);
			write_all(ss.mx.fd, line.buf, line.len);
			pthread_mutex_unlock(&ss.mx.lock);
			strbuf_release(&line);
			const char *svc = cl.v[i].service;
			if (o->exit_code_from && svc && !strcmp(svc, o->exit_code_from)) {
				*exit_code = code;
				have_code = true;
			} else if (!o->exit_code_from && o->abort_on_exit && !stopping) {
				*exit_code = code;
				have_code = true;
			}
			if (o->abort_on_exit && !stopping) {
				const char msg[] = "Aborting on container exit...\n";
				write_all(2, msg, sizeof(msg) - 1);
				stopping = true;
				stopper_start(&st, c, &ss, o->stop_timeout, false);
			}
		}
	}
	if (stopping)
		stopper_join(&st);
	if (signals && !rc)
		rc = BERTH_E_INTERRUPTED;
	if (rc == BERTH_E_INTERRUPTED)
		berth_error_set(err, BERTH_E_INTERRUPTED, "interrupted");
	if (!rc && o->exit_code_from && !have_code) {
		for (size_t i = 0; i < ss.nr; i++)
			if (cl.v[i].service && !strcmp(cl.v[i].service, o->exit_code_from))
				exit_code_of(c, ss.v[i].container, exit_code);
	}
	streams_finish(&ss);
	free(ended);
	engine_container_list_release(&cl);
	return rc;
}
