/* berth compose [global flags] COMMAND [flags]: global flags as Docker
 * Compose has them, then one function per subcommand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/compose_cmds.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "compose/project.h"
#include "common/banned.h"

extern char **environ;

static void compose_usage(FILE *f)
{
	fputs("usage: berth compose [-f FILE]... [-p NAME] [--project-directory DIR] [--env-file FILE]...\n"
	      "                     [--profile NAME]... COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  config    print the canonical model (Docker Compose's `config` output)\n",
	      f);
	for (const struct compose_subcommand *c = compose_subcommands; c->name; c++)
		if (strcmp(c->name, "config"))
			fprintf(f, "  %-9s %s\n", c->name, c->summary);
}

int cmd_compose(int argc, char **argv)
{
	struct compose_cli cc = { .opt = COMPOSE_OPTIONS_INIT };
	cc.opt.environ = environ;
	int i = 1, rc = 2;
	const char *v;
	for (; i < argc; i++) {
		const char *a = argv[i];
		int m;
		if (a[0] != '-' || !strcmp(a, "-"))
			break;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if ((m = cli_flag_value(argc, argv, &i, "-f", "--file", &v))) {
			if (m < 0)
				goto out;
			strvec_push(&cc.opt.files, v);
		} else if ((m = cli_flag_value(argc, argv, &i, "-p", "--project-name", &v))) {
			if (m < 0)
				goto out;
			cc.opt.project_name = v;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--project-directory", &v))) {
			if (m < 0)
				goto out;
			cc.opt.project_dir = v;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--env-file", &v))) {
			if (m < 0)
				goto out;
			strvec_push(&cc.opt.env_files, v);
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--profile", &v))) {
			if (m < 0)
				goto out;
			strvec_push(&cc.opt.profiles, v);
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--engine", &v))) {
			if (m < 0)
				goto out;
			cc.engine = v;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--parallel", &v))) {
			if (m < 0)
				goto out;
			cc.parallel = v;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--progress", &v))) {
			if (m < 0)
				goto out;
			cc.progress = v;
		} else if (cli_flag(a, "-v", "--verbose")) {
			cc.verbose = true;
		} else if (cli_flag(a, "-h", "--help")) {
			compose_usage(stdout);
			rc = 0;
			goto out;
		} else {
			fprintf(stderr, "berth compose: unknown flag: %s\n", a);
			compose_usage(stderr);
			goto out;
		}
	}
	if (i >= argc) {
		compose_usage(stderr);
		goto out;
	}
	for (const struct compose_subcommand *c = compose_subcommands; c->name; c++) {
		if (!strcmp(c->name, argv[i])) {
			rc = c->run(&cc, argc - i, argv + i);
			goto out;
		}
	}
	fprintf(stderr, "berth compose: unknown command \"%s\"\n", argv[i]);
	compose_usage(stderr);
out:
	compose_options_release(&cc.opt);
	return rc;
}

int compose_cli_load(struct compose_cli *cc, struct compose_project *p)
{
	struct berth_error err = BERTH_ERROR_INIT;
	int rc = compose_project_load(p, &cc->opt, &err);
	for (size_t i = 0; i < p->warnings.nr; i++)
		fprintf(stderr, "berth: warning: %s\n", p->warnings.v[i]);
	if (rc) {
		cli_print_error(&err);
		berth_error_release(&err);
		return cli_exit_code(rc);
	}
	return 0;
}
