/* berth lint: parses flags, runs lint_run(), prints the findings (or a diff,
 * or applies the fixes) and maps the result to an exit status: 0 when no
 * finding is at or above --fail-on, 1 when one is (or --diff has changes),
 * 2 for usage errors and compose files that do not load. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "lint/lint.h"
#include "lint/rules.h"
#include "common/banned.h"

extern char **environ;

static void lint_usage(FILE *f)
{
	fputs("usage: berth lint [-f FILE]... [--target nerdctl|finch|docker|podman] [--engine-version V]\n"
	      "                  [--format text|json|sarif|github] [--fix] [--diff] [--select CODES]\n"
	      "                  [--ignore CODES] [--fail-on error|warning|info] [--mount DIR]... [--list-rules]\n"
	      "\n"
	      "Reports what in a compose project breaks or behaves differently when it moves from Docker\n"
	      "to nerdctl, Finch or Podman. Without -f, finds compose.yaml as `berth compose` does.\n"
	      "\n"
	      "  -f, --file FILE        compose file (repeatable; later files override earlier ones)\n"
	      "  --target ENGINE        nerdctl (default), finch, docker or podman\n"
	      "  --engine-version V     the target's version (default: the newest release)\n"
	      "  --format FORMAT        text (default), json, sarif or github\n"
	      "  --fix                  apply the safe fixes to the files, then report what is left\n"
	      "  --diff                 print the fixes as a unified diff; change nothing\n"
	      "  --select CODES         only these rules (comma-separated codes, prefixes or names)\n"
	      "  --ignore CODES         skip these rules\n"
	      "  --fail-on SEVERITY     exit 1 for findings at or above it (default: warning)\n"
	      "  --mount DIR            a directory the Finch VM shares besides ~ (repeatable)\n"
	      "  --list-rules           print the rules and exit\n",
	      f);
}

static void split_codes(struct strvec *out, const char *list)
{
	const char *s = list;
	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		while (n && (*s == ' ')) {
			s++;
			n--;
		}
		while (n && s[n - 1] == ' ')
			n--;
		if (n)
			strvec_push_nodup(out, xstrndup(s, n));
		if (!e)
			break;
		s = e + 1;
	}
}

static void list_rules(void)
{
	printf("%-6s %-8s %-28s %-20s %s\n", "CODE", "SEVERITY", "NAME", "TARGETS", "TITLE");
	for (size_t i = 0; i < R_COUNT; i++) {
		const struct lint_rule *r = &lint_rules[i];
		struct strbuf t = STRBUF_INIT;
		for (int k = 0; k < LINT_TARGET_COUNT; k++)
			if (r->targets & (1u << k))
				strbuf_addf(&t, "%s%s", t.len ? "," : "", lint_target_name((enum lint_target)k));
		printf("%-6s %-8s %-28s %-20s %s%s\n", r->code, lint_severity_name(r->severity), r->name, t.buf, r->title,
		       r->fixable ? " (fixable)" : "");
		strbuf_release(&t);
	}
}

static void print_warnings(const struct lint_result *r)
{
	for (size_t i = 0; i < r->warnings.nr; i++)
		if (!strstr(r->warnings.v[i], "attribute `version` is obsolete")) /* BL043 says it */
			fprintf(stderr, "berth: warning: %s\n", r->warnings.v[i]);
}

static void print_result(const struct lint_result *r, enum lint_format fmt)
{
	struct strbuf out = STRBUF_INIT;
	switch (fmt) {
	case LINT_FORMAT_TEXT: lint_format_text(&out, r); break;
	case LINT_FORMAT_JSON: lint_format_json(&out, r); break;
	case LINT_FORMAT_SARIF: lint_format_sarif(&out, r); break;
	case LINT_FORMAT_GITHUB: lint_format_github(&out, r); break;
	}
	fwrite(out.buf, 1, out.len, stdout);
	fflush(stdout);
	strbuf_release(&out);
	if (fmt == LINT_FORMAT_TEXT && r->nr) {
		size_t e = 0, w = 0, n = 0;
		for (size_t i = 0; i < r->nr; i++) {
			enum lint_severity s = r->findings[i].rule->severity;
			e += s == LINT_ERROR;
			w += s == LINT_WARNING;
			n += s == LINT_INFO;
		}
		size_t fixable = lint_count_fixable(r);
		fprintf(stderr, "%zu error%s, %zu warning%s, %zu info", e, e == 1 ? "" : "s", w, w == 1 ? "" : "s", n);
		if (fixable)
			fprintf(stderr, "; %zu fixable with --fix", fixable);
		fputc('\n', stderr);
	}
}

/* Prints err (a file inside the current directory shown relative to it, as
 * findings are) and returns the exit status for errors that stop lint. */
static int lint_failed(struct berth_error *err)
{
	char cwd[PATH_MAX];
	size_t n;
	if (err->file && getcwd(cwd, sizeof(cwd)) && (n = strlen(cwd)) > 1 && !strncmp(err->file, cwd, n) &&
	    err->file[n] == '/') {
		char *rel = xstrdup(err->file + n + 1);
		free(err->file);
		err->file = rel;
	}
	cli_print_error(err);
	return 2;
}

int cmd_lint(int argc, char **argv)
{
	struct lint_options opt = LINT_OPTIONS_INIT;
	struct lint_result res = LINT_RESULT_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct lint_file_change *changes = NULL;
	size_t changes_nr = 0;
	enum lint_format fmt = LINT_FORMAT_TEXT;
	enum lint_severity fail_on = LINT_WARNING;
	bool fix = false, diff = false;
	struct utsname un;
	int rc = 2;
	const char *v;

	opt.compose.environ = environ;
	if (!uname(&un))
		opt.host_arch = un.machine;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int m;
		if ((m = cli_flag_value(argc, argv, &i, "-f", "--file", &v))) {
			if (m < 0)
				goto out;
			if (!strcmp(v, "-")) {
				fprintf(stderr, "berth lint: reading standard input is not supported: lint needs the file to "
						"point at it and to fix it\n");
				goto out;
			}
			strvec_push(&opt.compose.files, v);
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--target", &v))) {
			if (m < 0)
				goto out;
			if (lint_target_parse(&opt.target, v)) {
				fprintf(stderr, "berth lint: unknown target \"%s\" (nerdctl, finch, docker or podman)\n", v);
				goto out;
			}
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--engine-version", &v))) {
			if (m < 0)
				goto out;
			opt.engine_version = v;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--format", &v))) {
			if (m < 0)
				goto out;
			if (lint_format_parse(&fmt, v)) {
				fprintf(stderr, "berth lint: unknown format \"%s\" (text, json, sarif or github)\n", v);
				goto out;
			}
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--select", &v))) {
			if (m < 0)
				goto out;
			split_codes(&opt.select, v);
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--ignore", &v))) {
			if (m < 0)
				goto out;
			split_codes(&opt.ignore, v);
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--fail-on", &v))) {
			if (m < 0)
				goto out;
			if (lint_severity_parse(&fail_on, v)) {
				fprintf(stderr, "berth lint: unknown severity \"%s\" (error, warning or info)\n", v);
				goto out;
			}
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--mount", &v))) {
			if (m < 0)
				goto out;
			strvec_push(&opt.mounts, v);
		} else if (cli_flag(a, NULL, "--fix")) {
			fix = true;
		} else if (cli_flag(a, NULL, "--diff")) {
			diff = true;
		} else if (cli_flag(a, NULL, "--list-rules")) {
			list_rules();
			rc = 0;
			goto out;
		} else if (cli_flag(a, "-h", "--help")) {
			lint_usage(stdout);
			rc = 0;
			goto out;
		} else {
			fprintf(stderr, "berth lint: %s \"%s\"\n", a[0] == '-' ? "unknown flag" : "unexpected argument", a);
			lint_usage(stderr);
			goto out;
		}
	}
	if (lint_options_check(&opt, &err)) {
		rc = lint_failed(&err);
		goto out;
	}
	if (lint_run(&res, &opt, &err)) {
		rc = lint_failed(&err);
		goto out;
	}
	print_warnings(&res);

	if (diff || fix) {
		if (lint_fix_plan(&changes, &changes_nr, &res, &err)) {
			rc = lint_failed(&err);
			goto out;
		}
	}
	if (diff) {
		struct strbuf out = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
		bool any = false;
		for (size_t i = 0; i < changes_nr; i++) {
			strbuf_reset(&a);
			strbuf_reset(&b);
			strbuf_addstr(&a, "a/");
			lint_display_path(&a, &res, changes[i].path);
			strbuf_addstr(&b, "b/");
			lint_display_path(&b, &res, changes[i].path);
			size_t before = out.len;
			lint_diff_unified(&out, a.buf[2] == '/' ? a.buf + 2 : a.buf, b.buf[2] == '/' ? b.buf + 2 : b.buf,
					  changes[i].before.buf, changes[i].before.len, changes[i].after.buf,
					  changes[i].after.len);
			any |= out.len > before;
		}
		fwrite(out.buf, 1, out.len, stdout);
		strbuf_release(&out);
		strbuf_release(&a);
		strbuf_release(&b);
		rc = any ? 1 : 0;
		goto out;
	}
	if (fix) {
		size_t fixed = 0;
		for (size_t i = 0; i < changes_nr; i++) {
			const struct lint_file_change *c = &changes[i];
			if (c->before.len == c->after.len && !memcmp(c->before.buf, c->after.buf, c->before.len))
				continue;
			if (lint_fix_write(c, &err)) {
				rc = lint_failed(&err);
				goto out;
			}
			struct strbuf p = STRBUF_INIT;
			lint_display_path(&p, &res, c->path);
			fprintf(stderr, "berth lint: fixed %zu finding%s in %s\n", c->applied, c->applied == 1 ? "" : "s",
				p.buf);
			strbuf_release(&p);
			fixed += c->applied;
		}
		if (fixed) {
			/* report what is left, from the files as they are now */
			lint_result_release(&res);
			if (lint_run(&res, &opt, &err)) {
				rc = lint_failed(&err);
				goto out;
			}
		}
	}
	print_result(&res, fmt);
	rc = lint_count_at_least(&res, fail_on) ? 1 : 0;
out:
	lint_file_changes_free(changes, changes_nr);
	lint_result_release(&res);
	berth_error_release(&err);
	lint_options_release(&opt);
	return rc;
}
