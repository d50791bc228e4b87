/* berth: Compose projects on containerd. Dispatches to cli/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/banned.h"

static void usage(FILE *f)
{
	fputs("usage: berth <command> [args]\n"
	      "\n"
	      "commands:\n"
	      "  compose   run Compose projects (config, up, down, ps, logs, start, stop, restart)\n"
	      "  lint      check compose files for Docker-to-containerd migration problems\n"
	      "  vm        manage berth's Linux VM\n"
	      "  version   print the version\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("berth version %s\n", BERTH_VERSION);
		return 0;
	}
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, cmd))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "berth: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
