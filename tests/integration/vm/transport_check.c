/* Exercises vm/ssh_transport.c against a running berth VM, the way the
 * runtime will use it: argv vectors, separate stdout/stderr, exit statuses,
 * stdin from a string, line callbacks, a deadline, and several threads at
 * once on pooled connections. Built by tests/integration/vm/run against the
 * core library; prints TAP-style "ok -" / "not ok -" lines.
 *
 * usage: transport_check NAME   (BERTH_HOME / XDG_CACHE_HOME as for berth) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "runtime/transport.h"
#include "vm/instance.h"
#include "vm/ssh_transport.h"
#include "vm/vm.h"

static int failed;

static void check(int ok, const char *what, const char *detail)
{
	printf("%s - transport: %s%s%s\n", ok ? "ok" : "not ok", what, detail && *detail ? ": " : "",
	       detail ? detail : "");
	if (!ok)
		failed++;
}

static int run(struct runtime_transport *t, struct proc *p, struct berth_error *err)
{
	return t->run(t, p, err);
}

struct lines {
	struct strvec got;
};

static int on_line(void *data, int fd, const char *line, size_t len)
{
	struct lines *l = data;
	strvec_pushf(&l->got, "%d:%.*s", fd, (int)len, line);
	return 0;
}

struct job {
	struct runtime_transport *t;
	int i;
	int ok;
	char why[256];
};

static void *parallel(void *arg)
{
	struct job *j = arg;
	struct proc p;
	struct strbuf out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	proc_init(&p);
	strvec_pushl(&p.argv, "sh", "-c", "sleep 1; echo job-$0", NULL);
	strvec_pushf(&p.argv, "%d", j->i);
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	p.in.mode = PROC_NULL;
	p.deadline_ms = proc_deadline_in(120000);
	char want[32];
	snprintf(want, sizeof(want), "job-%d\n", j->i);
	int rc = run(j->t, &p, &err);
	j->ok = !rc && p.exit_code == 0 && !strcmp(out.buf, want);
	if (!j->ok)
		snprintf(j->why, sizeof(j->why), "job %d: rc %d exit %d out \"%s\" %s", j->i, rc, p.exit_code, out.buf,
			 err.msg ? err.msg : "");
	proc_release(&p);
	strbuf_release(&out);
	berth_error_release(&err);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "default";
	struct strbuf home = STRBUF_INIT, cache = STRBUF_INIT, out = STRBUF_INIT, errb = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	if (vm_home_dir(&home, &err) || vm_cache_dir(&cache, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	struct vm_env e = {.home = home.buf, .cache = cache.buf};
	struct runtime_transport *t = NULL;
	int64_t t0 = proc_now_ms();
	int rc = vm_ssh_transport_open(&t, &e, name, 4, &err);
	check(!rc, "open (connect, host key, auth)", rc ? err.msg : NULL);
	if (rc)
		return 1;
	printf("# first connection: %lld ms\n", (long long)(proc_now_ms() - t0));

	/* stdout, stderr and the exit status, apart; awkward arguments intact. */
	struct proc p;
	proc_init(&p);
	strvec_pushl(&p.argv, "sh", "-c", "printf '%s|' \"$@\"; echo oops >&2; exit 3", "sh", "a b", "", "$HOME",
		     "it's", "ünï", "x\ny", NULL);
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	p.err.mode = PROC_PIPE;
	p.err.buf = &errb;
	p.in.mode = PROC_NULL;
	t0 = proc_now_ms();
	rc = run(t, &p, &err);
	int good =
		!rc && p.exit_code == 3 && !strcmp(out.buf, "a b||$HOME|it's|ünï|x\ny|") && !strcmp(errb.buf, "oops\n");
	check(good, "argv quoted once; stdout, stderr, exit status 3", rc ? err.msg : good ? NULL : out.buf);
	printf("# one command on a pooled connection: %lld ms\n", (long long)(proc_now_ms() - t0));
	proc_release(&p);

	/* stdin from a string; env and cwd. */
	strbuf_reset(&out);
	proc_init(&p);
	strvec_pushl(&p.argv, "sh", "-c", "cat; echo \"[$GREETING] $(pwd)\"", NULL);
	strvec_push(&p.env, "GREETING=hello there");
	p.cwd = "/tmp";
	p.in.mode = PROC_STRING;
	p.in.data = "from stdin\n";
	p.in.len = 11;
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	rc = run(t, &p, &err);
	good = !rc && p.exit_code == 0 && !strcmp(out.buf, "from stdin\n[hello there] /tmp\n");
	check(good, "stdin, env and cwd", rc ? err.msg : good ? NULL : out.buf);
	proc_release(&p);

	/* Line callbacks on both streams. */
	struct lines l = {STRVEC_INIT};
	proc_init(&p);
	strvec_pushl(&p.argv, "sh", "-c", "echo one; echo two >&2; printf three", NULL);
	p.out.mode = PROC_LINES;
	p.out.line_fn = on_line;
	p.out.line_data = &l;
	p.err.mode = PROC_LINES;
	p.err.line_fn = on_line;
	p.err.line_data = &l;
	rc = run(t, &p, &err);
	int has = l.got.nr == 3 && strvec_find(&l.got, "1:one") >= 0 && strvec_find(&l.got, "2:two") >= 0 &&
		  strvec_find(&l.got, "1:three") >= 0;
	check(!rc && has, "line callbacks", rc ? err.msg : NULL);
	strvec_clear(&l.got);
	proc_release(&p);

	/* A deadline. */
	proc_init(&p);
	strvec_pushl(&p.argv, "sleep", "30", NULL);
	p.deadline_ms = proc_deadline_in(2000);
	t0 = proc_now_ms();
	rc = run(t, &p, &err);
	int64_t took = proc_now_ms() - t0;
	check(rc == BERTH_E_TIMEOUT && p.timed_out && took < 10000, "a 2 s deadline ends `sleep 30`", NULL);
	berth_error_release(&err);
	proc_release(&p);

	/* A PROC_PIPE cap. */
	strbuf_reset(&out);
	proc_init(&p);
	strvec_pushl(&p.argv, "head", "-c", "100000", "/dev/zero", NULL);
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	p.out.cap = 1000;
	rc = run(t, &p, &err);
	check(rc == BERTH_E_LIMIT && out.len == 1000, "a 1000-byte output cap is enforced", NULL);
	berth_error_release(&err);
	proc_release(&p);

	/* A command that does not exist: 127 from the guest's shell. */
	proc_init(&p);
	strvec_pushl(&p.argv, "no-such-command-berth", NULL);
	p.err.mode = PROC_NULL;
	rc = run(t, &p, &err);
	check(!rc && p.exit_code == 127, "missing command exits 127", rc ? err.msg : NULL);
	proc_release(&p);

	/* Four threads at once on up to four pooled connections. */
	pthread_t th[4];
	struct job jobs[4];
	t0 = proc_now_ms();
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct job){t, i, 0, ""};
		pthread_create(&th[i], NULL, parallel, &jobs[i]);
	}
	int all = 1;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		all &= jobs[i].ok;
		if (!jobs[i].ok)
			printf("# %s\n", jobs[i].why);
	}
	char d[64];
	snprintf(d, sizeof(d), "%lld ms for 4 x (sleep 1)", (long long)(proc_now_ms() - t0));
	check(all, "4 threads in parallel", d);

	vm_ssh_transport_free(t);
	strbuf_release(&home);
	strbuf_release(&cache);
	strbuf_release(&out);
	strbuf_release(&errb);
	return failed ? 1 : 0;
}
