/* ssh: berth's SSH client for its VM, on libssh2 (the only files that include
 * it are vm/ssh*.c; its errors become berth_errors here; it is loaded on
 * first use, see vm/dynlib.h). Key authentication with the instance's key,
 * the guest's host key checked against the keys pinned at first boot
 * (vm/hostkeys.h), keepalives, and a deadline on every blocking step (the
 * session runs non-blocking under poll()).
 *
 * Commands are argv vectors: vm_ssh_run() takes the same struct proc a local
 * run takes (argv, env, cwd, stdin/stdout/stderr modes, line callbacks,
 * deadline, cancel_fd) and quotes argv once for the guest's shell
 * (vm/quote.h); env and cwd become `env [-i] [-u K] [-C DIR] K=V ... argv`.
 * Results come back in the same fields: exit_code, term_signal, timed_out,
 * cancelled; stdout and stderr stay separate. On a deadline or cancel the
 * channel is closed: sshd then hangs up the remote command (SIGHUP with a PTY;
 * without one, the command sees its pipes close), as libssh2 1.10 cannot send
 * a signal request. */
#ifndef BERTH_VM_SSH_H
#define BERTH_VM_SSH_H

#include <stdbool.h>
#include <stdint.h>

struct proc;
struct berth_error;
struct vm_ssh;

#define VM_SSH_KEEPALIVE_S        15
#define VM_SSH_CONNECT_TIMEOUT_MS 30000

struct vm_ssh_target {
	const char *host; /* "127.0.0.1" */
	int port;
	const char *user;
	const char *key;         /* private key file (OpenSSH format) */
	const char *pubkey;      /* its .pub */
	const char *known_hosts; /* pinned host keys (vm/hostkeys.h) */
	int keepalive_s;         /* 0 = VM_SSH_KEEPALIVE_S */
};

/* Loads libssh2 (vm/dynlib.h) unless it is loaded already; vm_ssh_connect()
 * does it itself. BERTH_E_IO, saying what to install, without it. */
int vm_ssh_load(struct berth_error *err);

/* Connects, checks the host key, authenticates. *out is the caller's, freed
 * with vm_ssh_free(). BERTH_E_TIMEOUT past deadline_ms; BERTH_E_INVALID for
 * a host key that is not pinned; BERTH_E_IO otherwise. */
int vm_ssh_connect(struct vm_ssh **out, const struct vm_ssh_target *t, int64_t deadline_ms, struct berth_error *err);
void vm_ssh_free(struct vm_ssh *s);
/* False once the connection failed: the session cannot be used again. */
bool vm_ssh_usable(const struct vm_ssh *s);
/* True when the last vm_ssh_run() got as far as starting its command on the
 * guest: a failure before that point can be retried on a new session without
 * running anything twice. */
bool vm_ssh_command_started(const struct vm_ssh *s);

/* Runs p->argv on the guest (see above). Returns as proc_wait() does: 0 when
 * the command ran to its end whatever its status; BERTH_E_TIMEOUT,
 * BERTH_E_INTERRUPTED, BERTH_E_LIMIT (a PROC_PIPE cap), BERTH_E_IO (the
 * connection failed: vm_ssh_usable() is then false). p->pid stays 0. */
int vm_ssh_run(struct vm_ssh *s, struct proc *p, struct berth_error *err);

/* An interactive session on berth's own terminal: a PTY (TERM and the
 * window size forwarded, resizes followed, the local terminal in raw mode
 * while it lasts) running argv, or the login shell when argv is NULL.
 * pty=false runs argv with plain pipes (stdout and stderr separate). The
 * remote exit status goes to *exit_code (128+N for a signal N). */
int vm_ssh_interactive(struct vm_ssh *s, const char *const *argv, bool pty, int *exit_code, struct berth_error *err);

/* Builds the remote command line for p (env/cwd wrapping + quoting). */
struct strbuf;
void vm_ssh_command_line(struct strbuf *out, const struct proc *p);

#endif
