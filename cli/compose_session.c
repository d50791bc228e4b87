/* Shared setup for the runtime subcommands. */
#include "cli/compose_session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/log.h"
#include "common/parse.h"
#include "runtime/progress.h"
#include "runtime/transport.h"
#include "common/banned.h"

/* One byte per SIGINT/SIGTERM: the executor and the log follower poll the
 * read end; attached `up` counts the bytes (first: stop, second: kill). */
static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;
	if (signal_pipe[1] >= 0 && write(signal_pipe[1], &b, 1) < 0) {
		/* the pipe is full: enough signals are pending already */
	}
	errno = saved;
}

static int install_signals(void)
{
	if (signal_pipe[0] < 0) {
		if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK))
			return -1;
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	return signal_pipe[0];
}

int compose_session_fail(int rc, struct berth_error *err)
{
	if (rc == BERTH_E_INTERRUPTED) {
		berth_error_release(err);
		return 130;
	}
	cli_print_error(err);
	berth_error_release(err);
	return cli_exit_code(rc);
}

bool compose_parse_uint(const char *cmd, const char *flag, const char *v, int *out)
{
	int64_t n;
	if (parse_int64(&n, v, 0, 1000000000)) {
		fprintf(stderr, "berth compose %s: invalid value for %s: \"%s\" (a number of seconds or items)\n", cmd,
			flag, v);
		return false;
	}
	*out = (int)n;
	return true;
}

int compose_session_open(struct compose_session *s, struct compose_cli *cc, bool offline_ok)
{
	memset(s, 0, sizeof(*s));
	s->cc = cc;
	s->p = (struct compose_project)COMPOSE_PROJECT_INIT;
	s->all = (struct compose_project)COMPOSE_PROJECT_INIT;
	lock_init(&s->lock);
	/* -v shows notices; BERTH_LOG=debug every engine command with its time */
	const char *lv = getenv("BERTH_LOG");
	if (lv && !strcmp(lv, "debug"))
		log_set_level(LOG_LEVEL_DEBUG);
	else if (lv && !strcmp(lv, "info"))
		log_set_level(LOG_LEVEL_INFO);
	else
		log_set_verbosity(cc->verbose ? 1 : 0);
	int rc = compose_cli_load(cc, &s->p);
	if (rc)
		return rc;
	struct berth_error err = BERTH_ERROR_INIT;
	rc = rt_model_init(&s->m, &s->p, &err);
	if (rc)
		return compose_session_fail(rc, &err);
	enum progress_mode pm;
	if (progress_parse_mode(cc->progress, &pm)) {
		fprintf(stderr, "berth compose: invalid --progress \"%s\" (auto, tty, plain, json or quiet)\n",
			cc->progress);
		return 2;
	}
	int parallel = 0;
	if (cc->parallel) {
		int64_t n;
		if (parse_int64(&n, cc->parallel, -1, 1024) || n == 0) {
			fprintf(stderr, "berth compose: invalid --parallel \"%s\" (1 to 1024, or -1 for the default)\n",
				cc->parallel);
			return 2;
		}
		parallel = n < 0 ? 0 : (int)n;
	}
	/* an engine the user named is asked its version later, alongside the
	 * first state reads; otherwise detection asks each candidate now */
	rc = engine_init_named(&s->e, cc->engine, getenv("BERTH_ENGINE"), &runtime_transport_local, &err);
	if (rc == 1)
		rc = engine_detect(&s->e, cc->engine, getenv("BERTH_ENGINE"), &runtime_transport_local, &err);
	else if (!rc && offline_ok && (rc = engine_resolve_version(&s->e, &err)))
		engine_release(&s->e);
	if (rc == BERTH_E_USAGE)
		return compose_session_fail(rc, &err);
	if (rc) {
		if (!offline_ok)
			return compose_session_fail(rc, &err);
		log_warn("%s: planning against an empty engine", err.msg ? err.msg : "no engine");
		berth_error_release(&err);
		engine_init_static(&s->e, &engine_dialect_nerdctl, "1.7.7", &runtime_transport_local);
	} else {
		s->have_engine = true;
	}
	s->progress = progress_new(pm, 2);
	s->ctx.e = &s->e;
	s->ctx.m = &s->m;
	s->ctx.progress = s->progress;
	s->ctx.parallel = parallel;
	s->ctx.cancel_fd = install_signals();
	return 0;
}

void compose_session_close(struct compose_session *s)
{
	compose_session_unlock(s);
	progress_free(s->progress);
	engine_release(&s->e);
	rt_model_release(&s->m);
	compose_project_release(&s->p);
	if (s->all_state == 1)
		compose_project_release(&s->all);
}

static void say_waiting(void *data, const char *path, int pid)
{
	struct compose_session *s = data;
	if (pid > 0)
		fprintf(stderr, "berth: waiting for another berth (pid %d) working on project \"%s\" (lock %s)...\n",
			pid, s->m.project, path);
	else
		fprintf(stderr, "berth: waiting for another berth working on project \"%s\" (lock %s)...\n",
			s->m.project, path);
}

int compose_session_lock(struct compose_session *s)
{
	struct berth_error err = BERTH_ERROR_INIT;
	int rc = rt_project_lock(&s->lock, s->m.project, s->ctx.cancel_fd, say_waiting, s, &err);
	if (rc)
		return compose_session_fail(rc, &err);
	return 0;
}

void compose_session_unlock(struct compose_session *s)
{
	lock_release(&s->lock);
}

bool compose_session_known_service(void *data, const char *name)
{
	struct compose_session *s = data;
	const char *ignore = getenv("COMPOSE_IGNORE_ORPHANS");
	if (ignore && (!strcasecmp(ignore, "true") || !strcmp(ignore, "1")))
		return true;
	if (!s->all_state) {
		/* the same files under every profile: services that profiles
		 * disable are not orphans */
		struct compose_options o = s->cc->opt;
		struct strvec prof = STRVEC_INIT;
		strvec_push(&prof, "*");
		o.profiles = prof;
		struct berth_error err = BERTH_ERROR_INIT;
		s->all_state = compose_project_load(&s->all, &o, &err) ? -1 : 1;
		if (s->all_state < 0)
			compose_project_release(&s->all);
		berth_error_release(&err);
		strvec_clear(&prof);
	}
	if (s->all_state != 1)
		return false;
	const struct node *svcs = compose_services(&s->all);
	return svcs && node_map_find(svcs, name);
}
