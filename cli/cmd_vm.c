/* berth vm: init, start, stop, status, rm, ssh, list. Parses flags, calls
 * one function of vm/vm.h, prints its progress (a progress bar on a TTY) and
 * its result, and maps errors to exit statuses (`vm ssh` exits with the
 * remote command's status). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/error.h"
#include "common/parse.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "vm/instance.h"
#include "vm/ssh.h"
#include "vm/ssh_transport.h"
#include "vm/vm.h"
#include "common/banned.h"

static void vm_usage(FILE *f)
{
	fputs("usage: berth vm <command> [NAME] [flags]\n"
	      "\n"
	      "Manages berth's Linux VM (QEMU) that runs containerd and nerdctl. NAME defaults to \"default\".\n"
	      "\n"
	      "  init [NAME]     fetch the image, create the instance, boot it\n"
	      "      --image URL|PATH   the image (URL of berth.qcow2, or a file or directory); default\n"
	      "                         $BERTH_VM_IMAGE or the latest local vm/image/build output\n"
	      "      --sha256 HEX       the image's digest (default: the .sha256 file beside it)\n"
	      "      --cpus N           virtual CPUs (default 2)\n"
	      "      --memory SIZE      RAM, e.g. 2G or 2048M (default 2G)\n"
	      "      --disk SIZE        disk size, at least the image's (default: the image's)\n"
	      "      --mount DIR[:ro]   share a host directory at the same path (repeatable;\n"
	      "                         default: the home directory, writable)\n"
	      "      --no-start         create only\n"
	      "  start [NAME]    boot it and wait until it is ready\n"
	      "  stop [NAME]     ACPI power-down, then terminate after --timeout (default 90s); -f kills\n"
	      "  status [NAME]   Running, Stopped or Broken (with the reason); --format text|json\n"
	      "  rm [-f] [NAME]  delete the instance (-f: also when running)\n"
	      "  ssh [NAME] [-t] [-- CMD...]  a shell, or CMD with its exit status\n"
	      "  list            all instances; --format text|json\n"
	      "\n"
	      "Environment: BERTH_HOME (instances in $BERTH_HOME/vm), XDG_CACHE_HOME (image cache),\n"
	      "BERTH_VM_ACCEL=tcg|kvm|hvf, BERTH_VM_READY_TIMEOUT (e.g. 600s), BERTH_VM_QEMU, BERTH_VM_QEMU_IMG,\n"
	      "BERTH_VM_DOWNLOAD_ATTEMPTS. See docs/vm.md.\n",
	      f);
}

/* --- progress output ------------------------------------------------------------------------ */

struct ui_state {
	bool tty;
	bool bar_open; /* a progress line without its newline */
	int64_t t0_ms; /* start of the current download */
	const char *what;
};

static void end_bar(struct ui_state *u)
{
	if (u->bar_open) {
		fputc('\n', stderr);
		u->bar_open = false;
	}
}

static void ui_step(void *data, const char *msg)
{
	struct ui_state *u = data;
	end_bar(u);
	fprintf(stderr, "%s\n", msg);
}

static void human(char *buf, size_t n, int64_t b)
{
	if (b >= (1LL << 30))
		snprintf(buf, n, "%.2f GiB", (double)b / (double)(1LL << 30));
	else if (b >= (1LL << 20))
		snprintf(buf, n, "%.1f MiB", (double)b / (double)(1LL << 20));
	else if (b >= 1024)
		snprintf(buf, n, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(buf, n, "%lld B", (long long)b);
}

static void ui_progress(void *data, const char *what, int64_t now, int64_t total, bool done)
{
	struct ui_state *u = data;
	int64_t t = proc_now_ms();
	if (!u->what || strcmp(u->what, what)) {
		u->what = what;
		u->t0_ms = t;
	}
	double secs = (double)(t - u->t0_ms) / 1000.0;
	char a[32], b[32], sp[32];
	human(a, sizeof(a), now);
	human(b, sizeof(b), total);
	human(sp, sizeof(sp), secs > 0.2 ? (int64_t)((double)now / secs) : 0);
	if (done) {
		if (u->tty)
			fputc('\r', stderr);
		fprintf(stderr, "downloaded %s: %s in %.1f s%-30s\n", what, a, secs, "");
		u->bar_open = false;
		u->what = NULL;
		return;
	}
	if (!u->tty)
		return; /* not a terminal: just the line at the end */
	char bar[31];
	int pct = total > 0 ? (int)(now * 100 / total) : 0;
	int fill = total > 0 ? (int)(now * 30 / total) : 0;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	if (total > 0)
		fprintf(stderr, "\r%s [%s] %3d%% %s / %s  %s/s   ", what, bar, pct, a, b, sp);
	else
		fprintf(stderr, "\r%s %s  %s/s   ", what, a, sp);
	u->bar_open = true;
}

/* --- common flags and environment ------------------------------------------------------------- */

struct vm_cli {
	struct vm_env env;
	struct vm_ui ui;
	struct ui_state us;
	struct strbuf home, cache;
};

static int cli_env(struct vm_cli *c)
{
	struct berth_error err = BERTH_ERROR_INIT;
	memset(c, 0, sizeof(*c));
	strbuf_init(&c->home, 0);
	strbuf_init(&c->cache, 0);
	if (vm_home_dir(&c->home, &err) || vm_cache_dir(&c->cache, &err)) {
		cli_print_error(&err);
		berth_error_release(&err);
		return -1;
	}
	c->us.tty = isatty(STDERR_FILENO);
	c->ui.step = ui_step;
	c->ui.progress = ui_progress;
	c->ui.data = &c->us;
	c->env.home = c->home.buf;
	c->env.cache = c->cache.buf;
	c->env.qemu = getenv("BERTH_VM_QEMU");
	c->env.qemu_img = getenv("BERTH_VM_QEMU_IMG");
	c->env.accel = getenv("BERTH_VM_ACCEL");
	if (c->env.accel && !*c->env.accel)
		c->env.accel = NULL;
	c->env.ui = &c->ui;
	const char *t = getenv("BERTH_VM_READY_TIMEOUT");
	if (t && *t) {
		int64_t ns, secs;
		if (!parse_int64(&secs, t, 1, 86400))
			c->env.ready_timeout_ms = secs * 1000;
		else if (!parse_duration(&ns, t) && ns > 0)
			c->env.ready_timeout_ms = ns / 1000000;
		else {
			fprintf(stderr,
				"berth: BERTH_VM_READY_TIMEOUT=\"%s\": expected seconds or a duration such as 10m\n",
				t);
			return -1;
		}
	}
	const char *a = getenv("BERTH_VM_DOWNLOAD_ATTEMPTS");
	int64_t n;
	if (a && *a) {
		if (parse_int64(&n, a, 1, 100)) {
			fprintf(stderr, "berth: BERTH_VM_DOWNLOAD_ATTEMPTS=\"%s\": expected 1..100\n", a);
			return -1;
		}
		c->env.download_attempts = (int)n;
	}
	return 0;
}

static void cli_release(struct vm_cli *c)
{
	end_bar(&c->us);
	strbuf_release(&c->home);
	strbuf_release(&c->cache);
}

static int fail(struct vm_cli *c, struct berth_error *err)
{
	end_bar(&c->us);
	cli_print_error(err);
	int code = cli_exit_code(err->code);
	berth_error_release(err);
	return code;
}

/* "2G", "2048M", "10GiB": bytes. A bare number is refused (MiB or bytes?). */
static int parse_size(int64_t *out, const char *flag, const char *v)
{
	struct strbuf s = STRBUF_INIT;
	strbuf_addstr(&s, v);
	if (s.len > 2 && !strcasecmp(s.buf + s.len - 2, "iB"))
		strbuf_setlen(&s, s.len - 2);
	int64_t b;
	bool has_unit = s.len && !(s.buf[s.len - 1] >= '0' && s.buf[s.len - 1] <= '9');
	int rc = has_unit ? parse_bytes(&b, s.buf) : -1;
	strbuf_release(&s);
	if (rc || b <= 0) {
		fprintf(stderr, "berth: %s \"%s\": expected a size with a unit, such as 2G or 2048M\n", flag, v);
		return -1;
	}
	*out = b;
	return 0;
}

/* Takes the optional NAME: at most one positional argument. */
static int take_name(const char **name, const char *arg, const char *cmd)
{
	if (*name) {
		fprintf(stderr, "berth: vm %s: unexpected argument \"%s\"\n", cmd, arg);
		return -1;
	}
	*name = arg;
	return 0;
}

static bool is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

/* --- commands ------------------------------------------------------------------------------- */

static int vm_cmd_init(struct vm_cli *c, int argc, char **argv)
{
	struct vm_init_opts o;
	struct strvec mounts = STRVEC_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	const char *v;
	int m, rc = 2;
	memset(&o, 0, sizeof(o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			vm_usage(stdout);
			rc = 0;
			goto out;
		}
		if ((m = cli_flag_value(argc, argv, &i, NULL, "--cpus", &v))) {
			int64_t n;
			if (m < 0)
				goto out;
			if (parse_int64(&n, v, 1, 256)) {
				fprintf(stderr, "berth: --cpus \"%s\": expected 1..256\n", v);
				goto out;
			}
			o.cpus = (int)n;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--memory", &v))) {
			int64_t b;
			if (m < 0 || parse_size(&b, "--memory", v))
				goto out;
			o.memory_mib = b / (1024 * 1024);
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--disk", &v))) {
			if (m < 0 || parse_size(&o.disk_bytes, "--disk", v))
				goto out;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--image", &v))) {
			if (m < 0)
				goto out;
			o.image = v;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--sha256", &v))) {
			if (m < 0)
				goto out;
			o.sha256 = v;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--mount", &v))) {
			if (m < 0)
				goto out;
			strvec_push(&mounts, v);
		} else if (cli_flag(a, NULL, "--no-start")) {
			o.no_start = true;
		} else if (a[0] == '-') {
			fprintf(stderr, "berth: vm init: unknown flag \"%s\"\n", a);
			goto out;
		} else if (take_name(&o.name, a, "init")) {
			goto out;
		}
	}
	o.mounts = (const char *const *)mounts.v;
	o.mounts_nr = mounts.nr;
	rc = vm_init(&c->env, &o, &err) ? fail(c, &err) : 0;
out:
	strvec_clear(&mounts);
	return rc;
}

static int vm_cmd_start(struct vm_cli *c, int argc, char **argv)
{
	struct berth_error err = BERTH_ERROR_INIT;
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			vm_usage(stdout);
			return 0;
		}
		if (argv[i][0] == '-') {
			fprintf(stderr, "berth: vm start: unknown flag \"%s\"\n", argv[i]);
			return 2;
		}
		if (take_name(&name, argv[i], "start"))
			return 2;
	}
	return vm_start(&c->env, name, &err) ? fail(c, &err) : 0;
}

static int vm_cmd_stop(struct vm_cli *c, int argc, char **argv)
{
	struct berth_error err = BERTH_ERROR_INIT;
	const char *name = NULL, *v;
	bool force = false;
	int64_t timeout_ms = 0;
	int m;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			vm_usage(stdout);
			return 0;
		}
		if ((m = cli_flag_value(argc, argv, &i, "-t", "--timeout", &v))) {
			int64_t ns, secs;
			if (m < 0)
				return 2;
			if (!parse_int64(&secs, v, 0, 86400))
				timeout_ms = secs * 1000;
			else if (!parse_duration(&ns, v) && ns >= 0)
				timeout_ms = ns / 1000000;
			else {
				fprintf(stderr, "berth: --timeout \"%s\": expected seconds or a duration such as 2m\n",
					v);
				return 2;
			}
			if (!timeout_ms)
				force = true;
		} else if (cli_flag(a, "-f", "--force")) {
			force = true;
		} else if (a[0] == '-') {
			fprintf(stderr, "berth: vm stop: unknown flag \"%s\"\n", a);
			return 2;
		} else if (take_name(&name, a, "stop")) {
			return 2;
		}
	}
	return vm_stop(&c->env, name, timeout_ms, force, &err) ? fail(c, &err) : 0;
}

static int parse_format(const char *v, bool *json)
{
	if (!strcmp(v, "json"))
		*json = true;
	else if (!strcmp(v, "text"))
		*json = false;
	else {
		fprintf(stderr, "berth: --format \"%s\": expected text or json\n", v);
		return -1;
	}
	return 0;
}

static void status_json(struct strbuf *out, const char *name, const char *dir, const struct vm_status *s)
{
	strbuf_addstr(out, "{\"name\":");
	strbuf_add_json_string(out, name, strlen(name));
	strbuf_addf(out, ",\"status\":\"%s\",\"ready\":%s,\"detail\":", vm_state_name(s->state),
		    s->ready ? "true" : "false");
	if (s->detail)
		strbuf_add_json_string(out, s->detail, strlen(s->detail));
	else
		strbuf_addstr(out, "null");
	strbuf_addf(out, ",\"pid\":%d,\"ssh_port\":%d,\"accel\":", (int)s->pid, s->ssh_port);
	if (s->accel)
		strbuf_add_json_string(out, s->accel, strlen(s->accel));
	else
		strbuf_addstr(out, "null");
	strbuf_addstr(out, ",\"dir\":");
	strbuf_add_json_string(out, dir, strlen(dir));
	strbuf_addch(out, '}');
}

static int vm_cmd_status(struct vm_cli *c, int argc, char **argv)
{
	struct berth_error err = BERTH_ERROR_INIT;
	const char *name = NULL, *v;
	bool json = false;
	int m;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			vm_usage(stdout);
			return 0;
		}
		if ((m = cli_flag_value(argc, argv, &i, NULL, "--format", &v))) {
			if (m < 0 || parse_format(v, &json))
				return 2;
		} else if (a[0] == '-') {
			fprintf(stderr, "berth: vm status: unknown flag \"%s\"\n", a);
			return 2;
		} else if (take_name(&name, a, "status")) {
			return 2;
		}
	}
	if (!name)
		name = VM_DEFAULT_NAME;
	struct vm_status s;
	if (vm_status(&c->env, name, &s, &err))
		return fail(c, &err);
	struct strbuf out = STRBUF_INIT;
	char *dir = xstrfmt("%s/%s", c->env.home, name);
	if (json) {
		status_json(&out, name, dir, &s);
		strbuf_addch(&out, '\n');
	} else {
		strbuf_addf(&out, "%s: %s", name, vm_state_name(s.state));
		if (s.detail)
			strbuf_addf(&out, " (%s)", s.detail);
		strbuf_addch(&out, '\n');
		if (s.state == VM_STATE_RUNNING)
			strbuf_addf(&out, "  ssh:    127.0.0.1:%d (berth vm ssh%s%s)\n  accel:  %s\n  pid:    %d\n",
				    s.ssh_port, strcmp(name, VM_DEFAULT_NAME) ? " " : "",
				    strcmp(name, VM_DEFAULT_NAME) ? name : "", s.accel ? s.accel : "?", (int)s.pid);
		strbuf_addf(&out, "  dir:    %s\n", dir);
	}
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
	free(dir);
	vm_status_release(&s);
	return 0;
}

static int vm_cmd_rm(struct vm_cli *c, int argc, char **argv)
{
	struct berth_error err = BERTH_ERROR_INIT;
	const char *name = NULL;
	bool force = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			vm_usage(stdout);
			return 0;
		}
		if (cli_flag(a, "-f", "--force"))
			force = true;
		else if (a[0] == '-') {
			fprintf(stderr, "berth: vm rm: unknown flag \"%s\"\n", a);
			return 2;
		} else if (take_name(&name, a, "rm"))
			return 2;
	}
	return vm_remove(&c->env, name, force, &err) ? fail(c, &err) : 0;
}

static int vm_cmd_list(struct vm_cli *c, int argc, char **argv)
{
	struct berth_error err = BERTH_ERROR_INIT;
	struct strvec names = STRVEC_INIT;
	const char *v;
	bool json = false;
	int m;
	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			vm_usage(stdout);
			return 0;
		}
		if ((m = cli_flag_value(argc, argv, &i, NULL, "--format", &v))) {
			if (m < 0 || parse_format(v, &json))
				return 2;
		} else {
			fprintf(stderr, "berth: vm list: unexpected argument \"%s\"\n", argv[i]);
			return 2;
		}
	}
	if (vm_instance_names(&names, c->env.home, &err))
		return fail(c, &err);
	struct strbuf out = STRBUF_INIT;
	if (json)
		strbuf_addch(&out, '[');
	else
		strbuf_addf(&out, "%-16s %-8s %-6s %s\n", "NAME", "STATUS", "SSH", "DETAIL");
	for (size_t i = 0; i < names.nr; i++) {
		struct vm_status s;
		if (vm_status(&c->env, names.v[i], &s, &err)) {
			berth_error_release(&err);
			continue; /* removed meanwhile */
		}
		if (json) {
			char *dir = xstrfmt("%s/%s", c->env.home, names.v[i]);
			if (i)
				strbuf_addch(&out, ',');
			status_json(&out, names.v[i], dir, &s);
			free(dir);
		} else {
			char port[16] = "-";
			if (s.state == VM_STATE_RUNNING)
				snprintf(port, sizeof(port), "%d", s.ssh_port);
			strbuf_addf(&out, "%-16s %-8s %-6s %s\n", names.v[i], vm_state_name(s.state), port,
				    s.detail ? s.detail : "");
		}
		vm_status_release(&s);
	}
	if (json)
		strbuf_addstr(&out, "]\n");
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&out);
	strvec_clear(&names);
	return 0;
}

static int vm_cmd_ssh(struct vm_cli *c, int argc, char **argv)
{
	struct berth_error err = BERTH_ERROR_INIT;
	const char *name = NULL;
	int force_pty = -1; /* -1 auto, 0 -T, 1 -t */
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (is_help(a)) {
			vm_usage(stdout);
			return 0;
		}
		if (cli_flag(a, "-t", "--tty"))
			force_pty = 1;
		else if (cli_flag(a, "-T", "--no-tty"))
			force_pty = 0;
		else if (a[0] == '-') {
			fprintf(stderr, "berth: vm ssh: unknown flag \"%s\"\n", a);
			return 2;
		} else if (name) {
			fprintf(stderr, "berth: vm ssh: put the command after \"--\": berth vm ssh [NAME] -- %s ...\n",
				a);
			return 2;
		} else {
			name = a;
		}
	}
	const char *const *cmd = i < argc ? (const char *const *)argv + i : NULL;
	/* Like ssh(1): a PTY for an interactive shell on a terminal, none for a command. */
	bool pty = force_pty >= 0 ? force_pty == 1 : (!cmd && isatty(STDIN_FILENO));
	int status = 255, rc;
	if (cmd && !pty) {
		/* A command without a terminal goes the way the runtime's engine
		 * commands go: the SSH transport, argv quoted once, stdout and
		 * stderr kept apart. */
		struct runtime_transport *t = NULL;
		if (vm_ssh_transport_open(&t, &c->env, name, 1, &err))
			return fail(c, &err);
		struct proc p;
		proc_init(&p);
		strvec_pushv(&p.argv, cmd);
		rc = t->run(t, &p, &err);
		if (!rc)
			status = p.term_signal ? 128 + p.term_signal : p.exit_code;
		proc_release(&p);
		vm_ssh_transport_free(t);
	} else {
		struct vm_ssh *s = NULL;
		if (vm_connect(&c->env, name, &s, &err))
			return fail(c, &err);
		rc = vm_ssh_interactive(s, cmd, pty, &status, &err);
		vm_ssh_free(s);
	}
	if (rc) {
		fail(c, &err);
		return 255; /* as ssh(1): 255 for its own failures */
	}
	return status;
}

int cmd_vm(int argc, char **argv)
{
	if (argc < 2 || is_help(argv[1]) || !strcmp(argv[1], "help")) {
		vm_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	static const struct {
		const char *name;
		int (*fn)(struct vm_cli *, int, char **);
	} cmds[] = {
		{"init", vm_cmd_init}, {"start", vm_cmd_start}, {"stop", vm_cmd_stop}, {"status", vm_cmd_status},
		{"rm", vm_cmd_rm},     {"ssh", vm_cmd_ssh},     {"list", vm_cmd_list}, {"ls", vm_cmd_list},
	};
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		if (strcmp(argv[1], cmds[k].name))
			continue;
		struct vm_cli c;
		if (cli_env(&c)) {
			cli_release(&c);
			return 2;
		}
		int rc = cmds[k].fn(&c, argc - 1, argv + 1);
		cli_release(&c);
		return rc;
	}
	fprintf(stderr, "berth: vm: unknown command \"%s\"\n", argv[1]);
	vm_usage(stderr);
	return 2;
}
