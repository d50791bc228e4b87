#include "vm/ssh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <libssh2.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "vm/base64.h"
#include "vm/dynlib.h"
#include "vm/hostkeys.h"
#include "vm/quote.h"
#include "common/banned.h"

#define IO_CHUNK       32768
#define CLOSE_GRACE_MS 2000 /* waiting for the remote close after our own */
#define PTY_POLL_MS    250  /* how often an interactive session looks at the window size */

struct vm_ssh {
	int sock;
	LIBSSH2_SESSION *session;
	bool broken;
	bool started; /* the last run's command was started on the guest */
	int keepalive_s;
	char *desc; /* "root@127.0.0.1:PORT" for messages */
};

/* --- libssh2, loaded on first use (vm/dynlib.h) --------------------------------------------- */

/* Every libssh2 function used here, without its "libssh2_" prefix: the
 * table's field and the symbol's name both come from this list, and each
 * field is typed with libssh2.h's prototype. libssh2.h's convenience macros
 * (libssh2_channel_write, _open_session, ...) name these _ex functions. */
#define SSH2_FUNCTIONS(X)                                                                                              \
	X(init)                                                                                                        \
	X(free)                                                                                                        \
	X(session_init_ex)                                                                                             \
	X(session_free)                                                                                                \
	X(session_set_blocking)                                                                                        \
	X(session_method_pref)                                                                                         \
	X(session_handshake)                                                                                           \
	X(session_hostkey)                                                                                             \
	X(session_disconnect_ex)                                                                                       \
	X(session_block_directions)                                                                                    \
	X(session_last_error)                                                                                          \
	X(session_last_errno)                                                                                          \
	X(userauth_publickey_fromfile_ex)                                                                              \
	X(keepalive_config)                                                                                            \
	X(keepalive_send)                                                                                              \
	X(channel_open_ex)                                                                                             \
	X(channel_request_pty_ex)                                                                                      \
	X(channel_request_pty_size_ex)                                                                                 \
	X(channel_process_startup)                                                                                     \
	X(channel_read_ex)                                                                                             \
	X(channel_write_ex)                                                                                            \
	X(channel_send_eof)                                                                                            \
	X(channel_eof)                                                                                                 \
	X(channel_close)                                                                                               \
	X(channel_wait_closed)                                                                                         \
	X(channel_get_exit_status)                                                                                     \
	X(channel_get_exit_signal)                                                                                     \
	X(channel_free)

static struct ssh2_api {
#define X(f) typeof(libssh2_##f) *f;
	SSH2_FUNCTIONS(X)
#undef X
} ssh2;

static const struct vm_dynlib_sym ssh2_syms[] = {
#define X(f) {"libssh2_" #f, offsetof(struct ssh2_api, f)},
	SSH2_FUNCTIONS(X)
#undef X
};

/* libssh2_init() is not thread-safe: vm_dynlib_load() calls it once, under its lock. */
static int ssh2_global(struct berth_error *err)
{
	int rc = ssh2.init(0);
	if (rc)
		return berth_error_set(err, BERTH_E_INTERNAL, "libssh2_init failed (%d)", rc);
	return 0;
}

static struct vm_dynlib ssh2_lib = {
	.soname = "libssh2.so.1",
	.purpose = "for SSH to the VM",
	.package = "libssh2-1",
	.syms = ssh2_syms,
	.syms_nr = ARRAY_SIZE(ssh2_syms),
	.table = &ssh2,
	.table_size = sizeof(ssh2),
	.init = ssh2_global,
	VM_DYNLIB_STATE_INIT,
};

int vm_ssh_load(struct berth_error *err)
{
	return vm_dynlib_load(&ssh2_lib, err);
}

/* --- sessions ------------------------------------------------------------------------------- */

/* The session's last error as berth's error. */
static int ssh_error(struct vm_ssh *s, struct berth_error *err, int code, const char *what)
{
	char *msg = NULL;
	int len = 0;
	if (s->session)
		ssh2.session_last_error(s->session, &msg, &len, 0);
	return berth_error_set(err, code, "ssh %s: %s: %s", s->desc, what, msg && *msg ? msg : "failed");
}

bool vm_ssh_usable(const struct vm_ssh *s)
{
	return s && !s->broken;
}

bool vm_ssh_command_started(const struct vm_ssh *s)
{
	return s && s->started;
}

/* Waits until the socket is ready for what libssh2 is blocked on, or one of
 * the extra fds is readable, or the deadline passes. Sends keepalives on the
 * way. Returns 1 when something is ready, 0 on the deadline, -1 on a poll
 * error. extra_ready[i] tells which extra fds are readable. */
static int ssh_wait(struct vm_ssh *s, int64_t deadline_ms, const int *extra, int extra_nr, bool *extra_ready,
		    int cap_ms)
{
	struct pollfd pfd[4];
	int dir = ssh2.session_block_directions(s->session);
	pfd[0].fd = s->sock;
	pfd[0].events = POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd[0].events |= POLLOUT;
	for (int i = 0; i < extra_nr; i++) {
		pfd[1 + i].fd = extra[i];
		pfd[1 + i].events = POLLIN;
		extra_ready[i] = false;
	}
	int next_ka = 0;
	ssh2.keepalive_send(s->session, &next_ka);
	int64_t now = proc_now_ms();
	int64_t wait = deadline_ms ? deadline_ms - now : 3600 * 1000;
	if (wait <= 0)
		return 0;
	if (next_ka > 0 && wait > (int64_t)next_ka * 1000)
		wait = (int64_t)next_ka * 1000;
	if (cap_ms > 0 && wait > cap_ms)
		wait = cap_ms;
	int r = poll(pfd, (nfds_t)(1 + extra_nr), (int)wait);
	if (r < 0)
		return errno == EINTR ? 1 : -1;
	for (int i = 0; i < extra_nr; i++)
		extra_ready[i] = pfd[1 + i].revents != 0;
	return 1;
}

static bool past(int64_t deadline_ms)
{
	return deadline_ms && proc_now_ms() >= deadline_ms;
}

static int tcp_connect(struct vm_ssh *s, const char *host, int port, int64_t deadline_ms, struct berth_error *err)
{
	char eb[128];
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return berth_error_set(err, BERTH_E_INVALID, "ssh: \"%s\" is not an IPv4 address", host);
	s->sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->sock < 0)
		return berth_error_set(err, BERTH_E_IO, "ssh: socket: %s", strerror_r(errno, eb, sizeof(eb)));
	int one = 1;
	setsockopt(s->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return berth_error_set(err, BERTH_E_IO, "ssh %s: connect: %s", s->desc,
				       strerror_r(errno, eb, sizeof(eb)));
	for (;;) {
		int64_t left = deadline_ms ? deadline_ms - proc_now_ms() : 60000;
		if (left <= 0)
			return berth_error_set(err, BERTH_E_TIMEOUT, "ssh %s: connect timed out", s->desc);
		struct pollfd pfd = {.fd = s->sock, .events = POLLOUT};
		int r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return berth_error_set(err, BERTH_E_IO, "ssh: poll: %s", strerror_r(errno, eb, sizeof(eb)));
		if (r == 0)
			continue;
		int e = 0;
		socklen_t sl = sizeof(e);
		getsockopt(s->sock, SOL_SOCKET, SO_ERROR, &e, &sl);
		if (e)
			return berth_error_set(err, BERTH_E_IO, "ssh %s: connect: %s", s->desc,
					       strerror_r(e, eb, sizeof(eb)));
		return 0;
	}
}

static const char *hostkey_type_name(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
	case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
	default: return "unknown";
	}
}

/* Repeats call while libssh2 says EAGAIN, waiting on the socket in between. */
#define SSH_RETRY(s, deadline, call)                                                                                   \
	({                                                                                                             \
		int _r;                                                                                                \
		while ((_r = (call)) == LIBSSH2_ERROR_EAGAIN) {                                                        \
			if (past(deadline) || ssh_wait((s), (deadline), NULL, 0, NULL, 0) < 0)                         \
				break;                                                                                 \
		}                                                                                                      \
		_r;                                                                                                    \
	})

int vm_ssh_connect(struct vm_ssh **out, const struct vm_ssh_target *t, int64_t deadline_ms, struct berth_error *err)
{
	int rc = vm_ssh_load(err);
	if (rc)
		return rc;
	struct vm_ssh *s = xcalloc(1, sizeof(*s));
	s->sock = -1;
	s->keepalive_s = t->keepalive_s > 0 ? t->keepalive_s : VM_SSH_KEEPALIVE_S;
	s->desc = xstrfmt("%s@%s:%d", t->user, t->host, t->port);
	struct strvec pinned = STRVEC_INIT;
	rc = vm_hostkeys_load(&pinned, t->known_hosts, err);
	if (rc == BERTH_E_NOTFOUND)
		berth_error_prefix(err, "no pinned host key for the guest (the first boot pins it)");
	if (!rc)
		rc = tcp_connect(s, t->host, t->port, deadline_ms, err);
	if (!rc) {
		s->session = ssh2.session_init_ex(NULL, NULL, NULL, NULL);
		if (!s->session)
			rc = berth_error_set(err, BERTH_E_INTERNAL, "libssh2: cannot create a session");
	}
	if (!rc) {
		ssh2.session_set_blocking(s->session, 0);
		/* The guest has ed25519 and ECDSA keys (vm/image's berth-seed). */
		ssh2.session_method_pref(s->session, LIBSSH2_METHOD_HOSTKEY, "ssh-ed25519,ecdsa-sha2-nistp256");
		int r = SSH_RETRY(s, deadline_ms, ssh2.session_handshake(s->session, s->sock));
		if (r == LIBSSH2_ERROR_EAGAIN)
			rc = berth_error_set(err, BERTH_E_TIMEOUT, "ssh %s: no SSH handshake before the deadline",
					     s->desc);
		else if (r)
			rc = ssh_error(s, err, BERTH_E_IO, "handshake");
	}
	if (!rc) {
		size_t klen = 0;
		int ktype = 0;
		const char *key = ssh2.session_hostkey(s->session, &klen, &ktype);
		struct strbuf b64 = STRBUF_INIT;
		if (key)
			vm_base64_encode(&b64, key, klen);
		if (!key || !vm_hostkeys_contains(&pinned, hostkey_type_name(ktype), b64.buf))
			rc = berth_error_set(err, BERTH_E_INVALID,
					     "ssh %s: the server's %s host key is not the guest's key pinned in %s: "
					     "refusing to log in (another program may own the port)",
					     s->desc, hostkey_type_name(ktype), t->known_hosts);
		strbuf_release(&b64);
	}
	if (!rc) {
		int r = SSH_RETRY(s, deadline_ms,
				  ssh2.userauth_publickey_fromfile_ex(s->session, t->user, (unsigned)strlen(t->user),
								      t->pubkey, t->key, NULL));
		if (r == LIBSSH2_ERROR_EAGAIN)
			rc = berth_error_set(err, BERTH_E_TIMEOUT, "ssh %s: authentication timed out", s->desc);
		else if (r)
			rc = ssh_error(s, err, BERTH_E_IO, "key authentication");
	}
	strvec_clear(&pinned);
	if (rc) {
		vm_ssh_free(s);
		return rc;
	}
	ssh2.keepalive_config(s->session, 1, (unsigned)s->keepalive_s);
	*out = s;
	return 0;
}

void vm_ssh_free(struct vm_ssh *s)
{
	if (!s)
		return;
	if (s->session) {
		if (!s->broken) {
			/* A polite goodbye, bounded: the guest may be gone already. */
			int64_t dl = proc_now_ms() + 1000;
			SSH_RETRY(s, dl,
				  ssh2.session_disconnect_ex(s->session, SSH_DISCONNECT_BY_APPLICATION, "bye", ""));
		}
		ssh2.session_free(s->session);
	}
	if (s->sock >= 0)
		close(s->sock);
	free(s->desc);
	free(s);
}

/* --- the remote command line ---------------------------------------------------------------- */

void vm_ssh_command_line(struct strbuf *out, const struct proc *p)
{
	struct strvec argv = STRVEC_INIT;
	bool wrap = p->clean_env || p->env.nr || p->cwd;
	if (wrap) {
		strvec_push(&argv, "env");
		if (p->clean_env)
			strvec_push(&argv, "-i");
		for (size_t i = 0; i < p->env.nr; i++)
			if (!strchr(p->env.v[i], '='))
				strvec_pushl(&argv, "-u", p->env.v[i], NULL);
		if (p->cwd)
			strvec_pushl(&argv, "-C", p->cwd, NULL);
		for (size_t i = 0; i < p->env.nr; i++)
			if (strchr(p->env.v[i], '='))
				strvec_push(&argv, p->env.v[i]);
		/* A command whose name has '=' would read as one more assignment. */
		if (p->argv.nr && strchr(p->argv.v[0], '='))
			strvec_push(&argv, "--");
	}
	for (size_t i = 0; i < p->argv.nr; i++)
		strvec_push(&argv, p->argv.v[i]);
	vm_quote_argv(out, (const char *const *)argv.v);
	strvec_clear(&argv);
}

/* --- output sinks: the proc_stdio modes for data arriving from the channel ---------------------- */

struct sink {
	struct proc_stdio *io;
	int fd_no;          /* 1 or 2: the fd a line_fn is told, and the one PROC_INHERIT writes to */
	struct strbuf line; /* PROC_LINES partial line */
	size_t added;
	bool over; /* PROC_PIPE cap exceeded without truncate */
	bool stop; /* a line_fn asked to stop */
	bool write_failed;
};

static void sink_init(struct sink *k, struct proc_stdio *io, int fd_no)
{
	memset(k, 0, sizeof(*k));
	k->io = io;
	k->fd_no = fd_no;
	strbuf_init(&k->line, 0);
}

static int write_fd_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			poll(&pfd, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void sink_line(struct sink *k, const char *l, size_t n)
{
	if (k->stop)
		return;
	char *c = xstrndup(l, n);
	if (k->io->line_fn(k->io->line_data, k->fd_no, c, n))
		k->stop = true;
	free(c);
}

static void sink_write(struct sink *k, const char *data, size_t n)
{
	switch (k->io->mode) {
	case PROC_INHERIT:
		if (write_fd_all(k->fd_no, data, n) < 0)
			k->write_failed = true;
		break;
	case PROC_FD:
		if (write_fd_all(k->io->fd, data, n) < 0)
			k->write_failed = true;
		break;
	case PROC_PIPE: {
		size_t cap = k->io->cap ? k->io->cap : PROC_CAP_DEFAULT;
		size_t room = k->added < cap ? cap - k->added : 0;
		size_t take = n < room ? n : room;
		if (take && k->io->buf)
			strbuf_add(k->io->buf, data, take);
		k->added += take;
		if (take < n) {
			if (k->io->truncate)
				k->io->truncated = true;
			else
				k->over = true;
		}
		break;
	}
	case PROC_LINES:
		for (size_t i = 0; i < n; i++) {
			if (data[i] == '\n') {
				sink_line(k, k->line.buf, k->line.len);
				strbuf_reset(&k->line);
				continue;
			}
			strbuf_addch(&k->line, data[i]);
			if (k->line.len >= PROC_LINE_MAX) {
				sink_line(k, k->line.buf, k->line.len);
				strbuf_reset(&k->line);
			}
		}
		break;
	default: /* PROC_NULL, and modes that make no sense for output */ break;
	}
}

static void sink_finish(struct sink *k)
{
	if (k->io->mode == PROC_LINES && k->line.len)
		sink_line(k, k->line.buf, k->line.len);
	strbuf_release(&k->line);
}

/* --- one channel, one command --------------------------------------------------------------- */

static int signal_number(const char *name)
{
	static const struct {
		const char *n;
		int s;
	} sigs[] = {
		{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},
		{"ABRT", SIGABRT}, {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"SEGV", SIGSEGV},
		{"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
		{"USR2", SIGUSR2}, {"BUS", SIGBUS},   {"TRAP", SIGTRAP}, {"SYS", SIGSYS},
	};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (!strcmp(name, sigs[i].n))
			return sigs[i].s;
	return 0;
}

struct chan_opts {
	bool pty;
	bool shell;      /* a login shell instead of exec */
	const char *cmd; /* the exec command line */
};

/* The local terminal's window size, or 80x24. */
static void window_size(int *cols, int *rows)
{
	struct winsize ws;
	*cols = 80;
	*rows = 24;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

static int run_channel(struct vm_ssh *s, struct proc *p, const struct chan_opts *co, struct berth_error *err)
{
	int64_t deadline = p->deadline_ms;
	LIBSSH2_CHANNEL *ch = NULL;
	int rc = 0;
	p->exit_code = -1;
	p->term_signal = 0;
	p->timed_out = false;
	p->cancelled = false;
	s->started = false;
	if (s->broken)
		return berth_error_set(err, BERTH_E_IO, "ssh %s: the connection was lost earlier", s->desc);

	while (!(ch = ssh2.channel_open_ex(s->session, "session", sizeof("session") - 1, LIBSSH2_CHANNEL_WINDOW_DEFAULT,
					   LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0))) {
		if (ssh2.session_last_errno(s->session) != LIBSSH2_ERROR_EAGAIN) {
			s->broken = true;
			return ssh_error(s, err, BERTH_E_IO, "opening a channel");
		}
		if (past(deadline) || ssh_wait(s, deadline, NULL, 0, NULL, 0) < 0) {
			p->timed_out = true;
			return berth_error_set(err, BERTH_E_TIMEOUT, "ssh %s: opening a channel timed out", s->desc);
		}
	}

	int cols = 80, rows = 24;
	int r = 0;
	if (co->pty) {
		const char *term = getenv("TERM");
		if (!term || !*term)
			term = "xterm";
		window_size(&cols, &rows);
		r = SSH_RETRY(s, deadline,
			      ssh2.channel_request_pty_ex(ch, term, (unsigned)strlen(term), NULL, 0, cols, rows, 0, 0));
		if (r)
			rc = ssh_error(s, err, BERTH_E_IO, "requesting a terminal");
	}
	if (!rc) {
		if (co->shell)
			r = SSH_RETRY(s, deadline, ssh2.channel_process_startup(ch, "shell", 5, NULL, 0));
		else
			r = SSH_RETRY(s, deadline,
				      ssh2.channel_process_startup(ch, "exec", 4, co->cmd, (unsigned)strlen(co->cmd)));
		if (r == LIBSSH2_ERROR_EAGAIN) {
			p->timed_out = true;
			rc = berth_error_set(err, BERTH_E_TIMEOUT, "ssh %s: starting the command timed out", s->desc);
		} else if (r) {
			rc = ssh_error(s, err, BERTH_E_IO, "starting the command");
		} else {
			s->started = true;
		}
	}

	struct sink out, errs;
	sink_init(&out, &p->out, STDOUT_FILENO);
	sink_init(&errs, &p->err, STDERR_FILENO);
	/* stdin: a string, an fd (berth's own 0 or a given one), or nothing. */
	const char *in_data = NULL;
	size_t in_len = 0, in_off = 0;
	int in_fd = -1;
	bool in_eof_sent = false, in_done = false;
	char *in_buf = NULL;
	if (p->in.mode == PROC_STRING) {
		in_data = p->in.data;
		in_len = p->in.len;
	} else if (p->in.mode == PROC_INHERIT) {
		in_fd = STDIN_FILENO;
	} else if (p->in.mode == PROC_FD) {
		in_fd = p->in.fd;
	} else {
		in_done = true;
	}
	if (in_fd >= 0)
		in_buf = xmalloc(IO_CHUNK);
	bool out_eof = false, err_eof = false;
	char *buf = xmalloc(IO_CHUNK);

	while (!rc) {
		bool progress = false;
		/* stdin -> channel */
		if (!in_done && in_off < in_len) {
			ssize_t w = ssh2.channel_write_ex(ch, 0, in_data + in_off, in_len - in_off);
			if (w > 0) {
				in_off += (size_t)w;
				progress = true;
			} else if (w != LIBSSH2_ERROR_EAGAIN) {
				/* The remote closed its stdin (a command that reads nothing): drop the rest. */
				in_done = true;
			}
		}
		if (!in_done && in_off >= in_len && in_fd < 0)
			in_done = true;
		if (in_done && !in_eof_sent && !co->pty) {
			int e = ssh2.channel_send_eof(ch);
			if (e != LIBSSH2_ERROR_EAGAIN)
				in_eof_sent = true;
		}
		/* channel -> stdout / stderr */
		for (int stream = 0; stream < 2; stream++) {
			bool *eof = stream ? &err_eof : &out_eof;
			for (int k = 0; k < 64 && !*eof; k++) {
				ssize_t n =
					ssh2.channel_read_ex(ch, stream ? SSH_EXTENDED_DATA_STDERR : 0, buf, IO_CHUNK);
				if (n > 0) {
					sink_write(stream ? &errs : &out, buf, (size_t)n);
					progress = true;
					continue;
				}
				if (n == LIBSSH2_ERROR_EAGAIN)
					break;
				if (n == 0) {
					if (ssh2.channel_eof(ch))
						*eof = true;
					break;
				}
				s->broken = true;
				rc = ssh_error(s, err, BERTH_E_IO, "reading the command's output");
				break;
			}
		}
		if (rc)
			break;
		if (out_eof && err_eof)
			break;
		if (out.stop || errs.stop) {
			p->cancelled = true;
			rc = berth_error_set(err, BERTH_E_INTERRUPTED, "ssh %s: stopped by the output reader", s->desc);
			break;
		}
		if (past(deadline)) {
			p->timed_out = true;
			rc = berth_error_set(err, BERTH_E_TIMEOUT,
					     "ssh %s: the command did not finish before its deadline", s->desc);
			break;
		}
		if (progress)
			continue;
		/* Nothing moved: wait for the socket, stdin or cancel_fd. */
		int extra[2], nx = 0, in_idx = -1, cancel_idx = -1;
		bool ready[2];
		if (!in_done && in_fd >= 0 && in_off >= in_len) {
			in_idx = nx;
			extra[nx++] = in_fd;
		}
		if (p->cancel_fd >= 0) {
			cancel_idx = nx;
			extra[nx++] = p->cancel_fd;
		}
		int w = ssh_wait(s, deadline, extra, nx, ready, co->pty ? PTY_POLL_MS : 0);
		if (w < 0) {
			rc = berth_error_set(err, BERTH_E_IO, "ssh %s: poll failed", s->desc);
			break;
		}
		if (cancel_idx >= 0 && ready[cancel_idx]) {
			p->cancelled = true;
			rc = berth_error_set(err, BERTH_E_INTERRUPTED, "ssh %s: cancelled", s->desc);
			break;
		}
		if (in_idx >= 0 && ready[in_idx]) {
			ssize_t n = read(in_fd, in_buf, IO_CHUNK);
			if (n > 0) {
				in_data = in_buf;
				in_len = (size_t)n;
				in_off = 0;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_done = true;
			}
		}
		if (co->pty) {
			int c2, r2;
			window_size(&c2, &r2);
			if (c2 != cols || r2 != rows) {
				cols = c2;
				rows = r2;
				ssh2.channel_request_pty_size_ex(ch, cols, rows, 0, 0);
			}
		}
	}
	sink_finish(&out);
	sink_finish(&errs);
	free(buf);
	free(in_buf);

	/* Close our side and wait (briefly) for the remote close, which carries
	 * the exit status. After a timeout or cancel the grace is short. */
	if (!s->broken) {
		int64_t dl = proc_now_ms() +
			     (rc ? CLOSE_GRACE_MS : (deadline ? deadline - proc_now_ms() + CLOSE_GRACE_MS : 60000));
		int c = SSH_RETRY(s, dl, ssh2.channel_close(ch));
		if (!c)
			c = SSH_RETRY(s, dl, ssh2.channel_wait_closed(ch));
		if (!rc && c) {
			if (c == LIBSSH2_ERROR_EAGAIN) {
				p->timed_out = true;
				rc = berth_error_set(err, BERTH_E_TIMEOUT,
						     "ssh %s: the command did not close its channel", s->desc);
			} else {
				s->broken = true;
				rc = ssh_error(s, err, BERTH_E_IO, "closing the channel");
			}
		}
		if (!rc) {
			char *sig = NULL;
			size_t siglen = 0;
			ssh2.channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL);
			if (sig && siglen) {
				p->term_signal = signal_number(sig);
				if (!p->term_signal)
					p->term_signal = SIGTERM; /* an exotic name: still a signal death */
				p->exit_code = -1;
			} else {
				p->exit_code = ssh2.channel_get_exit_status(ch) & 0xff;
			}
			if (sig)
				ssh2.free(s->session, sig);
		}
	}
	ssh2.channel_free(ch);
	if (!rc && (out.over || errs.over)) {
		size_t cap = out.over ? (p->out.cap ? p->out.cap : PROC_CAP_DEFAULT)
				      : (p->err.cap ? p->err.cap : PROC_CAP_DEFAULT);
		rc = berth_error_set(err, BERTH_E_LIMIT, "ssh %s: the command's %s was larger than %zu bytes", s->desc,
				     out.over ? "output" : "error output", cap);
	}
	return rc;
}

int vm_ssh_run(struct vm_ssh *s, struct proc *p, struct berth_error *err)
{
	struct strbuf cmd = STRBUF_INIT;
	if (!p->argv.nr)
		return berth_error_set(err, BERTH_E_USAGE, "ssh: no command");
	vm_ssh_command_line(&cmd, p);
	struct chan_opts co = {.pty = false, .shell = false, .cmd = cmd.buf};
	int rc = run_channel(s, p, &co, err);
	strbuf_release(&cmd);
	return rc;
}

int vm_ssh_interactive(struct vm_ssh *s, const char *const *argv, bool pty, int *exit_code, struct berth_error *err)
{
	struct proc p;
	struct strbuf cmd = STRBUF_INIT;
	struct termios saved;
	bool raw = false;
	proc_init(&p);
	if (argv && argv[0])
		strvec_pushv(&p.argv, argv);
	vm_ssh_command_line(&cmd, &p);
	if (pty && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = !tcsetattr(STDIN_FILENO, TCSADRAIN, &t);
	}
	struct chan_opts co = {.pty = pty, .shell = !p.argv.nr, .cmd = cmd.buf};
	int rc = run_channel(s, &p, &co, err);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	if (!rc)
		*exit_code = p.term_signal ? 128 + p.term_signal : p.exit_code;
	strbuf_release(&cmd);
	proc_release(&p);
	return rc;
}
