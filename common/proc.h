/* proc: the one way berth runs a child process (after git's run-command.c).
 * Everything the child needs is built before fork(); every fd berth opens is
 * close-on-exec; an exec failure comes back through a pipe as a clear error;
 * deadlines are poll events (pidfd where the kernel has it), then SIGTERM, then
 * SIGKILL after a grace period; the child is always reaped.
 *
 * Thread safety: any number of threads may run their own struct proc at once.
 * There is no global state, no SIGCHLD handler and no process-wide signal
 * disposition change (SIGPIPE is blocked per thread around each write). Each
 * child is reaped by pid, so nothing else in berth may call waitpid(-1) or set
 * SIGCHLD to SIG_IGN. Reading environ races with setenv(): berth never calls
 * setenv() once threads exist.
 *
 * Lifecycle: proc_init(); fill argv/env/cwd/io/deadline; proc_start();
 * proc_wait(); read the results; proc_release(). proc_run() is start+wait.
 * proc_release() on a started, unwaited child kills it with SIGKILL and reaps it. */
#ifndef BERTH_PROC_H
#define BERTH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "strbuf.h"
#include "strvec.h"

struct berth_error;

#define PROC_CAP_DEFAULT (16u << 20)  /* 16 MiB: the largest engine JSON seen is ~1 MiB */
#define PROC_GRACE_DEFAULT_MS 2000    /* SIGTERM to SIGKILL, as `docker stop`'s spirit */
#define PROC_WAIT_DELAY_DEFAULT_MS 500 /* see proc.wait_delay_ms */
#define PROC_LINE_MAX (64u << 10)     /* longer lines reach a line_fn in pieces */
#define PROC_CAPTURE_STDERR_CAP (64u << 10)
#define PROC_CAPTURE_STDERR_LINES 20

enum proc_io {
	PROC_INHERIT = 0, /* the child shares berth's own fd 0/1/2 */
	PROC_NULL,        /* /dev/null */
	PROC_FD,          /* .fd, borrowed: berth dup2()s it into the child, never closes it */
	PROC_PIPE,        /* stdout/stderr only: appended to .buf, at most .cap bytes */
	PROC_LINES,       /* stdout/stderr only: each line goes to .line_fn as it arrives */
	PROC_STRING,      /* stdin only: .data/.len fed to the child, then EOF */
};

/* Called from proc_wait() in the waiting thread for each line, without its '\n'
 * ("\r" is kept). line is NUL-terminated and borrowed for the call only. fd is 1
 * or 2. A final line without '\n' is delivered at EOF. A line longer than
 * PROC_LINE_MAX arrives in pieces of PROC_LINE_MAX bytes, the last one
 * shorter, wherever the reads happened to split it. Return 0 to go on; any other
 * value stops: the child is terminated as on a deadline and proc_wait() returns
 * BERTH_E_INTERRUPTED. */
typedef int proc_line_fn(void *data, int fd, const char *line, size_t len);

struct proc_stdio {
	enum proc_io mode;
	int fd;                /* PROC_FD */
	struct strbuf *buf;    /* PROC_PIPE: borrowed until proc_wait returns; appended to */
	size_t cap;            /* PROC_PIPE: most bytes appended; 0 = PROC_CAP_DEFAULT */
	/* PROC_PIPE: what happens past the cap. false (the default): the rest is read
	 * and dropped, and proc_wait() returns BERTH_E_LIMIT naming the cap once the
	 * child has finished (truncated JSON is worse than no JSON). true: the rest is
	 * dropped silently and .truncated tells. */
	bool truncate;
	proc_line_fn *line_fn; /* PROC_LINES */
	void *line_data;
	const void *data;      /* PROC_STRING: borrowed until proc_wait returns */
	size_t len;
	bool truncated;        /* result: PROC_PIPE output went past the cap */
};

struct proc {
	/* Inputs: set between proc_init() and proc_start(). */
	struct strvec argv;  /* argv[0] is searched in PATH unless it contains '/' */
	struct strvec env;   /* "KEY=VAL" sets or overrides, "KEY" unsets; later wins */
	bool clean_env;      /* start from an empty environment instead of environ */
	const char *cwd;     /* borrowed until proc_start returns; NULL = berth's own */
	struct proc_stdio in, out, err;
	int64_t deadline_ms; /* absolute, on proc_now_ms()'s clock; 0 = none */
	int grace_ms;        /* SIGTERM to SIGKILL; 0 = PROC_GRACE_DEFAULT_MS; <0 = SIGKILL at once */
	/* Once the child has exited, how long proc_wait() still waits for EOF on
	 * stdout/stderr pipes that a grandchild keeps open (Go's Cmd.WaitDelay);
	 * then the pipes are closed. 0 = PROC_WAIT_DELAY_DEFAULT_MS. */
	int wait_delay_ms;
	/* setpgid(0, 0) in the child: deadline kills and proc_kill() hit the whole
	 * group. The child then leaves the terminal's foreground group, so Ctrl-C
	 * reaches it only when berth forwards it with proc_kill(). */
	bool new_pgroup;
	/* -1 = none. Borrowed. When it becomes readable (e.g. a self-pipe written by a
	 * SIGINT handler or by an executor cancelling siblings), proc_wait()
	 * terminates the child as on a deadline and returns BERTH_E_INTERRUPTED.
	 * It is polled, never read. */
	int cancel_fd;
	bool no_pidfd;       /* tests: use the waitpid(WNOHANG) fallback even with pidfd_open */

	/* Results: valid after proc_wait() (also when it fails, once started). */
	pid_t pid;           /* 0 until proc_start succeeds */
	/* 0..255 when the child exited; -1 when a signal ended it, or (with
	 * term_signal 0) when the status was lost to a waitpid(-1) elsewhere. */
	int exit_code;
	int term_signal;     /* the signal that ended it, or 0 */
	bool timed_out;      /* the deadline passed and berth signalled the child */
	bool cancelled;      /* cancel_fd or a line_fn stopped it */

	/* Private to proc.c. */
	struct {
		int state;      /* 0 idle, 1 running, 2 reaped */
		int pidfd;
		int fd[3];      /* berth's ends of the pipes, or -1 */
		size_t in_off;  /* bytes of in.data written */
		size_t added[3];/* bytes appended to out/err .buf */
		struct strbuf line[3]; /* PROC_LINES partial line; PROC_PIPE drain space */
		int64_t start_ms;
	} priv;
};

/* Zeroes p, argv/env empty, cancel_fd -1, all streams PROC_INHERIT. Allocates nothing. */
void proc_init(struct proc *p);
/* Frees argv and env, closes berth's fds; kills (SIGKILL) and reaps a child
 * that was started and not waited for. p may be reused after proc_init(). */
void proc_release(struct proc *p);

/* Starts the child. On failure nothing is left running and err says why:
 * BERTH_E_NOTFOUND when the program or cwd does not exist
 * ("cannot run \"nerdctl\": No such file or directory"), BERTH_E_IO otherwise. */
int proc_start(struct proc *p, struct berth_error *err);
/* Feeds stdin, collects stdout/stderr, and reaps the child. Returns 0 when the
 * child ran to its end, whatever its exit status (see exit_code/term_signal);
 * BERTH_E_TIMEOUT when the deadline passed (the child was signalled and reaped);
 * BERTH_E_INTERRUPTED when cancel_fd or a line_fn stopped it; BERTH_E_LIMIT
 * when a PROC_PIPE cap was exceeded without .truncate; BERTH_E_IO when poll
 * itself failed (the child is SIGKILLed and reaped). */
int proc_wait(struct proc *p, struct berth_error *err);
/* proc_start() then proc_wait(). */
int proc_run(struct proc *p, struct berth_error *err);
/* Sends sig to the child (to its process group with new_pgroup). Call it from
 * the thread that owns p, between proc_start() and proc_wait() or from a
 * line_fn; to stop a proc_wait() in another thread, use cancel_fd. A child
 * already reaped is not signalled (returns 0). */
int proc_kill(struct proc *p, int sig, struct berth_error *err);

/* Runs argv with stdin from /dev/null and appends its stdout to out only when it
 * exits 0 (out is untouched otherwise). timeout_ms 0 = none; cap 0 =
 * PROC_CAP_DEFAULT, exceeding it is BERTH_E_LIMIT. A non-zero exit is
 * BERTH_E_ENGINE (berth's children are engines and their tools) with a message
 * such as `"nerdctl volume rm x" exited with status 1: Error: no such volume`,
 * quoting the first PROC_CAPTURE_STDERR_LINES lines of the trimmed stderr. */
int proc_capture(struct strbuf *out, const char *const *argv, int timeout_ms, size_t cap,
		 struct berth_error *err);

/* Appends the command line for messages: argv joined by spaces, words with
 * spaces or quotes single-quoted, cut at about 200 bytes with "...". */
void proc_describe(const struct proc *p, struct strbuf *out);

/* CLOCK_MONOTONIC in milliseconds: the clock of proc.deadline_ms. */
int64_t proc_now_ms(void);
/* proc_now_ms() + ms, or 0 (no deadline) when ms <= 0. */
int64_t proc_deadline_in(int64_t ms);

#endif
