#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "log.h"
#include "parse.h"
#include "banned.h"

extern char **environ;

enum { ST_IDLE = 0, ST_RUNNING, ST_REAPED };

/* One read or write moves at most this much: the default pipe capacity. */
#define IO_CHUNK (64u << 10)
/* Without pidfd, how often a child is polled with waitpid(WNOHANG) at most. */
#define FALLBACK_POLL_MAX_MS 50
#define DESCRIBE_MAX 200

/* What the child reports through the exec-error pipe before _exit(127). */
enum child_stage { STAGE_EXEC = 1, STAGE_CHDIR, STAGE_DUP, STAGE_PGROUP };
struct child_report {
	int stage;
	int err;
};

/* Everything the child needs, prepared before fork(): the child only makes
 * async-signal-safe calls on it (no malloc, no locks, no stdio). */
struct child_plan {
	const char *path;
	char *const *argv;
	char *const *envp;
	const char *cwd;
	int src[3]; /* dup2()ed onto 0/1/2; -1 = inherit. Always >= 3. */
	int report_fd;
	bool new_pgroup;
	int max_fd; /* for the CLOEXEC sweep when close_range() is missing */
};

int64_t proc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t proc_deadline_in(int64_t ms)
{
	return ms > 0 ? proc_now_ms() + ms : 0;
}

static const char *errstr(int e, char *buf, size_t len)
{
	/* GNU strerror_r (_GNU_SOURCE): thread-safe, returns the string to use. */
	return strerror_r(e, buf, len);
}

static int errno_code(int e)
{
	return e == ENOENT || e == ENOTDIR ? BERTH_E_NOTFOUND : BERTH_E_IO;
}

static struct proc_stdio *stdio_of(struct proc *p, int i)
{
	return i == 0 ? &p->in : i == 1 ? &p->out : &p->err;
}

void proc_init(struct proc *p)
{
	memset(p, 0, sizeof(*p));
	strvec_init(&p->argv);
	strvec_init(&p->env);
	p->in.fd = p->out.fd = p->err.fd = -1;
	p->cancel_fd = -1;
	p->priv.pidfd = -1;
	for (int i = 0; i < 3; i++) {
		p->priv.fd[i] = -1;
		strbuf_init(&p->priv.line[i], 0);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void set_status(struct proc *p, int status)
{
	if (WIFEXITED(status)) {
		p->exit_code = WEXITSTATUS(status);
		p->term_signal = 0;
	} else if (WIFSIGNALED(status)) {
		p->exit_code = -1;
		p->term_signal = WTERMSIG(status);
	}
}

/* Returns true once the child is reaped. flags is 0 (block) or WNOHANG. */
static bool reap(struct proc *p, int flags)
{
	int status = 0;
	pid_t r;
	if (p->priv.state != ST_RUNNING)
		return p->priv.state == ST_REAPED;
	do
		r = waitpid(p->pid, &status, flags);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	if (r < 0) {
		/* ECHILD: someone reaped it behind our back (SIGCHLD set to SIG_IGN,
		 * or waitpid(-1) elsewhere). The status is lost. */
		p->exit_code = -1;
		p->term_signal = 0;
	} else {
		set_status(p, status);
	}
	p->priv.state = ST_REAPED;
	close_fd(&p->priv.pidfd);
	return true;
}

static int send_signal(struct proc *p, int sig)
{
	if (p->priv.state != ST_RUNNING)
		return 0;
	if (p->new_pgroup) {
		if (kill(-p->pid, sig) == 0)
			return 0;
		/* ESRCH: the child left its group (setsid); signal it alone. */
		if (errno != ESRCH)
			return -errno;
	}
#ifdef SYS_pidfd_send_signal
	if (p->priv.pidfd >= 0 && syscall(SYS_pidfd_send_signal, p->priv.pidfd, sig, NULL, 0) == 0)
		return 0;
#endif
	if (kill(p->pid, sig) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

int proc_kill(struct proc *p, int sig, struct berth_error *err)
{
	int r = send_signal(p, sig);
	if (r < 0) {
		char eb[128];
		return berth_error_set(err, BERTH_E_IO, "cannot signal process %d: %s", (int)p->pid,
				       errstr(-r, eb, sizeof(eb)));
	}
	return 0;
}

void proc_release(struct proc *p)
{
	if (p->priv.state == ST_RUNNING) {
		send_signal(p, SIGKILL);
		reap(p, 0);
	}
	for (int i = 0; i < 3; i++) {
		close_fd(&p->priv.fd[i]);
		strbuf_release(&p->priv.line[i]);
	}
	close_fd(&p->priv.pidfd);
	strvec_clear(&p->argv);
	strvec_clear(&p->env);
}

static bool is_plain_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+,-", *s))
			return false;
	return true;
}

void proc_describe(const struct proc *p, struct strbuf *out)
{
	size_t start = out->len;
	for (size_t i = 0; i < p->argv.nr; i++) {
		const char *a = p->argv.v[i];
		if (i)
			strbuf_addch(out, ' ');
		if (is_plain_word(a)) {
			strbuf_addstr(out, a);
		} else {
			strbuf_addch(out, '\'');
			for (; *a; a++) {
				if (*a == '\'')
					strbuf_addstr(out, "'\\''");
				else
					strbuf_addch(out, *a);
			}
			strbuf_addch(out, '\'');
		}
		if (out->len - start > DESCRIBE_MAX) {
			strbuf_setlen(out, start + DESCRIBE_MAX);
			strbuf_addstr(out, "...");
			return;
		}
	}
}

/* Removes every entry of env whose key is key[0..klen). */
static void env_unset(struct strvec *env, const char *key, size_t klen)
{
	size_t j = 0;
	for (size_t i = 0; i < env->nr; i++) {
		const char *e = env->v[i];
		if (!strncmp(e, key, klen) && (e[klen] == '=' || e[klen] == '\0'))
			free(env->v[i]);
		else
			env->v[j++] = env->v[i];
	}
	env->nr = j;
	if (env->v)
		env->v[j] = NULL;
}

static void build_env(const struct proc *p, struct strvec *out)
{
	if (!p->clean_env)
		for (char **e = environ; e && *e; e++)
			strvec_push(out, *e);
	for (size_t i = 0; i < p->env.nr; i++) {
		const char *kv = p->env.v[i];
		const char *eq = strchr(kv, '=');
		env_unset(out, kv, eq ? (size_t)(eq - kv) : strlen(kv));
		if (eq)
			strvec_push(out, kv);
	}
	if (!out->v) { /* execve wants an array even when it is empty */
		ALLOC_GROW(out->v, 1, out->alloc);
		out->v[0] = NULL;
	}
}

/* PATH search as execvp does, before fork: the child's PATH if it has one,
 * else berth's, else the usual default. */
static int find_program(struct strbuf *out, const char *name, const struct strvec *env)
{
	if (strchr(name, '/')) {
		strbuf_addstr(out, name);
		return 0;
	}
	if (!*name)
		return ENOENT;
	const char *path = NULL;
	for (size_t i = 0; i < env->nr; i++)
		if (!strncmp(env->v[i], "PATH=", 5))
			path = env->v[i] + 5;
	if (!path)
		path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";

	int found_err = ENOENT;
	struct strbuf cand = STRBUF_INIT;
	for (const char *dir = path;;) {
		const char *end = strchrnul(dir, ':');
		strbuf_reset(&cand);
		if (end == dir)
			strbuf_addch(&cand, '.');
		else
			strbuf_add(&cand, dir, (size_t)(end - dir));
		strbuf_addch(&cand, '/');
		strbuf_addstr(&cand, name);
		struct stat st;
		if (stat(cand.buf, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand.buf, X_OK) == 0) {
				strbuf_add(out, cand.buf, cand.len);
				strbuf_release(&cand);
				return 0;
			}
			found_err = EACCES;
		}
		if (!*end)
			break;
		dir = end + 1;
	}
	strbuf_release(&cand);
	return found_err;
}

static _Noreturn void child_fail(int fd, int stage)
{
	struct child_report r = {stage, errno};
	ssize_t n;
	do
		n = write(fd, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	_exit(127);
}

/* Runs in the child between fork() and execve(): async-signal-safe calls only. */
static _Noreturn void child_exec(const struct child_plan *c)
{
	if (c->new_pgroup && setpgid(0, 0) < 0)
		child_fail(c->report_fd, STAGE_PGROUP);
	for (int i = 0; i < 3; i++)
		if (c->src[i] >= 0 && dup2(c->src[i], i) < 0)
			child_fail(c->report_fd, STAGE_DUP);
	if (c->cwd && chdir(c->cwd) < 0)
		child_fail(c->report_fd, STAGE_CHDIR);

	/* berth's own fds are all O_CLOEXEC; this also catches fds that libraries
	 * opened without it. Only 0, 1 and 2 reach the program. */
	bool swept = false;
#ifdef SYS_close_range
	swept = syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */) == 0;
#endif
	for (int fd = 3; !swept && fd < c->max_fd; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}

	/* Handlers must not run in the child once signals are unblocked, and
	 * berth's own SIG_IGN of SIGPIPE must not leak into `yes | head`-style
	 * children. Other ignored signals are inherited as a shell would. */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;
		if (sigaction(sig, NULL, &old) < 0)
			continue;
		if (sig == SIGPIPE || (old.sa_handler != SIG_IGN && old.sa_handler != SIG_DFL)) {
			struct sigaction dfl;
			memset(&dfl, 0, sizeof(dfl));
			dfl.sa_handler = SIG_DFL;
			sigaction(sig, &dfl, NULL);
		}
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	execve(c->path, c->argv, c->envp);
	child_fail(c->report_fd, STAGE_EXEC);
}

/* The child's fds must be >= 3 so that dup2() onto 0..2 never overwrites a
 * source (berth itself may run with 0..2 closed). */
static int fd_high(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int e = errno;
	close(fd);
	errno = e;
	return n;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void check_stdio(const struct proc *p)
{
	if (p->in.mode == PROC_PIPE || p->in.mode == PROC_LINES)
		BUG("stdin cannot be PROC_PIPE or PROC_LINES");
	if (p->in.mode == PROC_STRING && !p->in.data && p->in.len)
		BUG("PROC_STRING stdin without data");
	for (int i = 0; i < 3; i++) {
		const struct proc_stdio *s = i == 0 ? &p->in : i == 1 ? &p->out : &p->err;
		if (i && s->mode == PROC_STRING)
			BUG("PROC_STRING is for stdin only");
		if (s->mode == PROC_PIPE && !s->buf)
			BUG("PROC_PIPE without a buffer");
		if (s->mode == PROC_LINES && !s->line_fn)
			BUG("PROC_LINES without a line_fn");
		if (s->mode == PROC_FD && s->fd < 0)
			BUG("PROC_FD without an fd");
	}
}

int proc_start(struct proc *p, struct berth_error *err)
{
	struct strvec envv = STRVEC_INIT;
	struct strbuf path = STRBUF_INIT;
	int child_fd[3] = {-1, -1, -1}, parent_fd[3] = {-1, -1, -1};
	int report[2] = {-1, -1}, devnull = -1, rc = 0, e = 0;
	const char *what = NULL;
	char eb[128];

	if (!p->argv.nr)
		BUG("proc_start without argv");
	if (p->priv.state != ST_IDLE)
		BUG("proc_start on a started proc");
	check_stdio(p);
	const char *name = p->argv.v[0];
	p->priv.start_ms = proc_now_ms();

	build_env(p, &envv);
	if ((e = find_program(&path, name, &envv))) {
		rc = berth_error_set(err, errno_code(e), "cannot run \"%s\": %s", name,
				     errstr(e, eb, sizeof(eb)));
		goto out;
	}

	for (int i = 0; i < 3; i++) {
		struct proc_stdio *s = stdio_of(p, i);
		switch (s->mode) {
		case PROC_INHERIT:
			break;
		case PROC_NULL:
			if (devnull < 0) {
				devnull = fd_high(open("/dev/null", O_RDWR | O_CLOEXEC));
				if (devnull < 0) {
					what = "open /dev/null";
					goto fail_errno;
				}
			}
			child_fd[i] = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
			if (child_fd[i] < 0) {
				what = "dup";
				goto fail_errno;
			}
			break;
		case PROC_FD:
			child_fd[i] = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
			if (child_fd[i] < 0) {
				what = "dup";
				goto fail_errno;
			}
			break;
		case PROC_PIPE:
		case PROC_LINES:
		case PROC_STRING: {
			int fds[2];
			if (pipe2(fds, O_CLOEXEC) < 0) {
				what = "pipe";
				goto fail_errno;
			}
			child_fd[i] = i == 0 ? fds[0] : fds[1];
			parent_fd[i] = i == 0 ? fds[1] : fds[0];
			if ((child_fd[i] = fd_high(child_fd[i])) < 0 || set_nonblock(parent_fd[i]) < 0) {
				what = "pipe";
				goto fail_errno;
			}
			break;
		}
		default:
			BUG("stdio mode %d", (int)s->mode);
		}
	}
	if (pipe2(report, O_CLOEXEC) < 0 || (report[1] = fd_high(report[1])) < 0) {
		what = "pipe";
		goto fail_errno;
	}

	long open_max = sysconf(_SC_OPEN_MAX);
	struct child_plan plan = {
		.path = path.buf,
		.argv = p->argv.v,
		.envp = envv.v,
		.cwd = p->cwd,
		.src = {child_fd[0], child_fd[1], child_fd[2]},
		.report_fd = report[1],
		.new_pgroup = p->new_pgroup,
		.max_fd = open_max < 0 || open_max > 65536 ? 65536 : (int)open_max,
	};

	if (log_enabled(LOG_LEVEL_DEBUG)) {
		struct strbuf d = STRBUF_INIT;
		proc_describe(p, &d);
		log_debug("run: %s%s%s", d.buf, p->cwd ? " in " : "", p->cwd ? p->cwd : "");
		strbuf_release(&d);
	}

	/* All signals blocked across fork() so that no handler runs in the child
	 * before child_exec() has reset them; the child unblocks before execve(). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		child_exec(&plan);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		errno = e;
		what = "fork";
		goto fail_errno;
	}
	/* Also in the parent, so the group exists when proc_start returns (as shells
	 * do); EACCES once the child has exec'd is harmless: it did it itself. */
	if (p->new_pgroup)
		setpgid(pid, pid);

	close_fd(&report[1]);
	for (int i = 0; i < 3; i++)
		close_fd(&child_fd[i]);
	close_fd(&devnull);

	struct child_report cr;
	ssize_t n;
	do
		n = read(report[0], &cr, sizeof(cr));
	while (n < 0 && errno == EINTR);
	close_fd(&report[0]);
	if (n == (ssize_t)sizeof(cr)) {
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		const char *msg = errstr(cr.err, eb, sizeof(eb));
		if (cr.stage == STAGE_CHDIR)
			rc = berth_error_set(err, errno_code(cr.err),
					     "cannot run \"%s\": cannot change to directory \"%s\": %s", name,
					     p->cwd, msg);
		else if (cr.stage == STAGE_EXEC)
			rc = berth_error_set(err, errno_code(cr.err), "cannot run \"%s\": %s", name, msg);
		else
			rc = berth_error_set(err, BERTH_E_IO, "cannot run \"%s\": %s in the child: %s", name,
					     cr.stage == STAGE_DUP ? "dup2" : "setpgid", msg);
		goto out;
	}

	p->pid = pid;
	p->priv.state = ST_RUNNING;
	p->priv.pidfd = -1;
#ifdef SYS_pidfd_open
	/* Safe against pid reuse: the child cannot be reaped before we wait.
	 * pidfd_open sets O_CLOEXEC itself. Fails with ENOSYS before Linux 5.3. */
	if (!p->no_pidfd)
		p->priv.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	for (int i = 0; i < 3; i++) {
		p->priv.fd[i] = parent_fd[i];
		parent_fd[i] = -1;
	}
	p->priv.in_off = 0;
	p->priv.added[0] = p->priv.added[1] = p->priv.added[2] = 0;
	p->exit_code = -1;
	p->term_signal = 0;
	p->timed_out = p->cancelled = false;
	p->out.truncated = p->err.truncated = false;
	goto out;

fail_errno:
	e = errno;
	rc = berth_error_set(err, BERTH_E_IO, "cannot run \"%s\": %s: %s", name, what, errstr(e, eb, sizeof(eb)));
out:
	for (int i = 0; i < 3; i++) {
		close_fd(&child_fd[i]);
		close_fd(&parent_fd[i]);
	}
	close_fd(&report[0]);
	close_fd(&report[1]);
	close_fd(&devnull);
	strvec_clear(&envv);
	strbuf_release(&path);
	return rc;
}

/* write() that cannot raise SIGPIPE, without touching the process-wide
 * disposition (other threads may rely on it): block SIGPIPE in this thread,
 * and if the write raised one, take it back before unblocking. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE);
	ssize_t n = write(fd, buf, len);
	int e = errno;
	if (n < 0 && e == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

struct waiter {
	struct proc *p;
	int64_t kill_at;   /* when SIGKILL follows the SIGTERM; 0 = not pending */
	int64_t exit_at;   /* when the child was reaped */
	bool stopping;     /* SIGTERM (or SIGKILL) sent */
	bool killed;       /* SIGKILL sent after the grace period */
	bool lines_off;    /* a line_fn asked to stop: no more callbacks */
	bool overflow[3];
};

static void begin_stop(struct waiter *w, int64_t now)
{
	struct proc *p = w->p;
	if (w->stopping || p->priv.state != ST_RUNNING)
		return;
	w->stopping = true;
	int grace = p->grace_ms ? p->grace_ms : PROC_GRACE_DEFAULT_MS;
	if (grace < 0) {
		send_signal(p, SIGKILL); /* asked for: not "killed after the grace period" */
	} else {
		send_signal(p, SIGTERM);
		w->kill_at = now + grace;
	}
}

static void emit_line(struct waiter *w, int i, char *line, size_t len)
{
	struct proc_stdio *s = stdio_of(w->p, i);
	if (w->lines_off)
		return;
	char saved = line[len];
	line[len] = '\0';
	int r = s->line_fn(s->line_data, i, line, len);
	line[len] = saved;
	if (r) {
		w->lines_off = true;
		w->p->cancelled = true;
		begin_stop(w, proc_now_ms());
	}
}

/* A line of length L reaches the line_fn as ceil(L / PROC_LINE_MAX) pieces,
 * all PROC_LINE_MAX long but the last, however the reads fell. */
static void emit_pieces(struct waiter *w, int i, char *line, size_t len)
{
	while (len > PROC_LINE_MAX) {
		emit_line(w, i, line, PROC_LINE_MAX);
		line += PROC_LINE_MAX;
		len -= PROC_LINE_MAX;
	}
	emit_line(w, i, line, len);
}

/* Hands complete lines of priv.line[i] to the line_fn, scanning from byte
 * `from` on; at eof, also the final partial line. The partial line kept is at
 * most PROC_LINE_MAX bytes. */
static void split_lines(struct waiter *w, int i, size_t from, bool eof)
{
	struct strbuf *lb = &w->p->priv.line[i];
	size_t start = 0;
	for (size_t pos = from; pos < lb->len; pos++) {
		if (lb->buf[pos] != '\n')
			continue;
		emit_pieces(w, i, lb->buf + start, pos - start);
		start = pos + 1;
	}
	while (lb->len - start > PROC_LINE_MAX) {
		emit_line(w, i, lb->buf + start, PROC_LINE_MAX);
		start += PROC_LINE_MAX;
	}
	if (eof && lb->len > start) {
		emit_line(w, i, lb->buf + start, lb->len - start);
		start = lb->len;
	}
	if (start) {
		memmove(lb->buf, lb->buf + start, lb->len - start);
		strbuf_setlen(lb, lb->len - start);
	}
}

static void close_output(struct waiter *w, int i)
{
	struct proc *p = w->p;
	if (p->priv.fd[i] < 0)
		return;
	close_fd(&p->priv.fd[i]);
	if (stdio_of(p, i)->mode == PROC_LINES)
		split_lines(w, i, p->priv.line[i].len, true);
}

/* One read from stdout (i = 1) or stderr (i = 2). */
static void read_output(struct waiter *w, int i)
{
	struct proc *p = w->p;
	struct proc_stdio *s = stdio_of(p, i);
	int fd = p->priv.fd[i];
	ssize_t n;

	if (s->mode == PROC_PIPE) {
		size_t cap = s->cap ? s->cap : PROC_CAP_DEFAULT;
		size_t room = cap - p->priv.added[i];
		if (room) {
			size_t want = room < IO_CHUNK ? room : IO_CHUNK;
			strbuf_grow(s->buf, want);
			n = read(fd, s->buf->buf + s->buf->len, want);
			if (n > 0) {
				strbuf_setlen(s->buf, s->buf->len + (size_t)n);
				p->priv.added[i] += (size_t)n;
			}
		} else {
			/* Past the cap: drain into the unused line buffer and drop. */
			strbuf_grow(&p->priv.line[i], IO_CHUNK);
			n = read(fd, p->priv.line[i].buf, IO_CHUNK);
			if (n > 0) {
				s->truncated = true;
				w->overflow[i] = !s->truncate;
			}
		}
	} else {
		struct strbuf *lb = &p->priv.line[i];
		size_t from = lb->len;
		strbuf_grow(lb, IO_CHUNK);
		n = read(fd, lb->buf + lb->len, IO_CHUNK);
		if (n > 0) {
			strbuf_setlen(lb, lb->len + (size_t)n);
			split_lines(w, i, from, false);
		}
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		close_output(w, i);
}

static void feed_input(struct proc *p)
{
	size_t left = p->in.len - p->priv.in_off;
	if (left) {
		ssize_t n = write_nosigpipe(p->priv.fd[0], (const char *)p->in.data + p->priv.in_off,
					    left < IO_CHUNK ? left : IO_CHUNK);
		if (n > 0)
			left -= (size_t)n, p->priv.in_off += (size_t)n;
		else if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		else /* EPIPE: the child stopped reading, as `head` does; not an error */
			left = 0;
	}
	if (!left)
		close_fd(&p->priv.fd[0]);
}

static int64_t min_timeout(int64_t cur, int64_t at, int64_t now)
{
	int64_t t = at > now ? at - now : 0;
	return cur < 0 || t < cur ? t : cur;
}

int proc_wait(struct proc *p, struct berth_error *err)
{
	struct waiter w = {.p = p};
	int64_t slice = 1;
	int delay = p->wait_delay_ms > 0 ? p->wait_delay_ms : PROC_WAIT_DELAY_DEFAULT_MS;
	bool pidfd_ready = false, io_failed = false;
	int poll_errno = 0;

	if (p->priv.state == ST_IDLE)
		BUG("proc_wait before proc_start");
	if (p->priv.state == ST_REAPED)
		BUG("proc_wait twice");

	for (;;) {
		if (p->priv.state == ST_RUNNING) {
			if (p->priv.pidfd < 0 ? reap(p, WNOHANG) : pidfd_ready && reap(p, 0))
				w.exit_at = proc_now_ms();
		}
		int64_t now = proc_now_ms();
		if (p->priv.state == ST_REAPED) {
			/* Nobody is left to read stdin (or only a grandchild, which
			 * must not hold us up). */
			close_fd(&p->priv.fd[0]);
			if (p->priv.fd[1] < 0 && p->priv.fd[2] < 0)
				break;
			if (now >= w.exit_at + delay) {
				close_output(&w, 1);
				close_output(&w, 2);
				break;
			}
		} else {
			if (!w.stopping && p->deadline_ms && now >= p->deadline_ms) {
				p->timed_out = true;
				begin_stop(&w, now);
			}
			if (w.kill_at && now >= w.kill_at) {
				send_signal(p, SIGKILL);
				w.killed = true;
				w.kill_at = 0;
			}
		}

		struct pollfd pfd[5];
		int role[5], nfds = 0;
		int64_t timeout = -1;
		if (p->priv.fd[0] >= 0 && p->in.mode == PROC_STRING && p->in.len == p->priv.in_off)
			close_fd(&p->priv.fd[0]);
		if (p->priv.fd[0] >= 0)
			pfd[nfds] = (struct pollfd){p->priv.fd[0], POLLOUT, 0}, role[nfds++] = 0;
		for (int i = 1; i < 3; i++)
			if (p->priv.fd[i] >= 0)
				pfd[nfds] = (struct pollfd){p->priv.fd[i], POLLIN, 0}, role[nfds++] = i;
		if (p->priv.state == ST_RUNNING) {
			if (p->priv.pidfd >= 0) {
				pfd[nfds] = (struct pollfd){p->priv.pidfd, POLLIN, 0}, role[nfds++] = 3;
			} else {
				timeout = min_timeout(timeout, now + slice, now);
				slice = slice * 2 > FALLBACK_POLL_MAX_MS ? FALLBACK_POLL_MAX_MS : slice * 2;
			}
			if (!w.stopping && p->deadline_ms)
				timeout = min_timeout(timeout, p->deadline_ms, now);
			if (w.kill_at)
				timeout = min_timeout(timeout, w.kill_at, now);
			if (p->cancel_fd >= 0 && !w.stopping)
				pfd[nfds] = (struct pollfd){p->cancel_fd, POLLIN, 0}, role[nfds++] = 4;
		} else {
			timeout = min_timeout(timeout, w.exit_at + delay, now);
		}

		int n = poll(pfd, (nfds_t)nfds, (int)(timeout > 60000 ? 60000 : timeout));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			poll_errno = errno;
			io_failed = true;
			break;
		}
		if (n > 0)
			slice = 1;
		for (int k = 0; k < nfds; k++) {
			if (!pfd[k].revents)
				continue;
			switch (role[k]) {
			case 0:
				feed_input(p);
				break;
			case 1:
			case 2:
				if (p->priv.fd[role[k]] >= 0)
					read_output(&w, role[k]);
				break;
			case 3:
				pidfd_ready = true;
				break;
			case 4:
				p->cancelled = true;
				begin_stop(&w, proc_now_ms());
				break;
			}
		}
	}

	if (io_failed && p->priv.state == ST_RUNNING) {
		send_signal(p, SIGKILL);
		reap(p, 0);
	}
	for (int i = 0; i < 3; i++)
		close_fd(&p->priv.fd[i]);
	close_fd(&p->priv.pidfd);

	char eb[128];
	struct strbuf cmd = STRBUF_INIT;
	int rc = 0;
	proc_describe(p, &cmd);
	if (p->term_signal)
		log_debug("pid %d (%s) killed by signal %d after %lld ms", (int)p->pid, cmd.buf,
			  p->term_signal, (long long)(proc_now_ms() - p->priv.start_ms));
	else
		log_debug("pid %d (%s) exited with status %d after %lld ms", (int)p->pid, cmd.buf,
			  p->exit_code, (long long)(proc_now_ms() - p->priv.start_ms));
	if (io_failed) {
		rc = berth_error_set(err, BERTH_E_IO, "waiting for \"%s\": poll: %s", cmd.buf,
				     errstr(poll_errno, eb, sizeof(eb)));
	} else if (p->timed_out) {
		struct strbuf d = STRBUF_INIT;
		int64_t ms = p->deadline_ms - p->priv.start_ms;
		format_duration(&d, (ms > 0 ? ms : 0) * 1000000);
		rc = berth_error_set(err, BERTH_E_TIMEOUT, "\"%s\" timed out after %s%s", cmd.buf, d.buf,
				     w.killed ? "; killed with SIGKILL after the grace period" : "");
		strbuf_release(&d);
	} else if (p->cancelled) {
		rc = berth_error_set(err, BERTH_E_INTERRUPTED, "\"%s\" was interrupted", cmd.buf);
	} else if (w.overflow[1] || w.overflow[2]) {
		int i = w.overflow[1] ? 1 : 2;
		size_t cap = stdio_of(p, i)->cap ? stdio_of(p, i)->cap : PROC_CAP_DEFAULT;
		rc = berth_error_set(err, BERTH_E_LIMIT, "%s of \"%s\" exceeds the %zu-byte cap",
				     i == 1 ? "stdout" : "stderr", cmd.buf, cap);
	}
	strbuf_release(&cmd);
	return rc;
}

int proc_run(struct proc *p, struct berth_error *err)
{
	int rc = proc_start(p, err);
	return rc ? rc : proc_wait(p, err);
}

/* First PROC_CAPTURE_STDERR_LINES lines of trimmed stderr, and how many more. */
static void add_stderr_excerpt(struct strbuf *out, struct strbuf *errbuf)
{
	strbuf_trim(errbuf);
	if (!errbuf->len)
		return;
	size_t lines = 0, cut = errbuf->len, more = 0;
	for (size_t i = 0; i < errbuf->len; i++) {
		if (errbuf->buf[i] != '\n')
			continue;
		if (++lines == PROC_CAPTURE_STDERR_LINES)
			cut = i;
		else if (lines > PROC_CAPTURE_STDERR_LINES)
			more++;
	}
	if (cut < errbuf->len)
		more++;
	strbuf_addstr(out, ": ");
	strbuf_add(out, errbuf->buf, cut);
	if (more)
		strbuf_addf(out, "\n[%zu more line%s]", more, more == 1 ? "" : "s");
}

int proc_capture(struct strbuf *out, const char *const *argv, int timeout_ms, size_t cap,
		 struct berth_error *err)
{
	struct proc p;
	struct strbuf obuf = STRBUF_INIT, ebuf = STRBUF_INIT;
	int rc;

	proc_init(&p);
	strvec_pushv(&p.argv, argv);
	p.in.mode = PROC_NULL;
	p.out.mode = PROC_PIPE;
	p.out.buf = &obuf;
	p.out.cap = cap;
	p.err.mode = PROC_PIPE;
	p.err.buf = &ebuf;
	p.err.cap = PROC_CAPTURE_STDERR_CAP;
	p.err.truncate = true;
	p.deadline_ms = proc_deadline_in(timeout_ms);

	rc = proc_run(&p, err);
	if (!rc && (p.exit_code != 0 || p.term_signal)) {
		struct strbuf msg = STRBUF_INIT;
		strbuf_addch(&msg, '"');
		proc_describe(&p, &msg);
		strbuf_addch(&msg, '"');
		if (p.term_signal) {
			const char *abbrev = sigabbrev_np(p.term_signal);
			strbuf_addf(&msg, " was killed by signal %d", p.term_signal);
			if (abbrev)
				strbuf_addf(&msg, " (SIG%s)", abbrev);
		} else {
			strbuf_addf(&msg, " exited with status %d", p.exit_code);
		}
		add_stderr_excerpt(&msg, &ebuf);
		rc = berth_error_set(err, BERTH_E_ENGINE, "%s", msg.buf);
		strbuf_release(&msg);
	}
	if (!rc)
		strbuf_add(out, obuf.buf, obuf.len);
	proc_release(&p);
	strbuf_release(&obuf);
	strbuf_release(&ebuf);
	return rc;
}
