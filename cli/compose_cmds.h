/* The `berth compose` subcommands and what they share: the parsed global
 * flags and a loader that prints warnings and errors. */
#ifndef BERTH_CLI_COMPOSE_CMDS_H
#define BERTH_CLI_COMPOSE_CMDS_H

#include <stdbool.h>

#include "compose/project.h"

struct compose_cli {
	struct compose_options opt;
	const char *engine;   /* --engine, or NULL */
	const char *parallel; /* --parallel, or NULL */
	const char *progress; /* --progress, or NULL */
	bool verbose;
};

struct compose_subcommand {
	const char *name;
	const char *summary;
	int (*run)(struct compose_cli *cc, int argc, char **argv); /* argv[0] is the subcommand */
};

extern const struct compose_subcommand compose_subcommands[];

/* Loads the project; prints warnings and any error. Returns 0 or an exit code. */
int compose_cli_load(struct compose_cli *cc, struct compose_project *p);

int compose_cmd_config(struct compose_cli *cc, int argc, char **argv);
int compose_cmd_up(struct compose_cli *cc, int argc, char **argv);
int compose_cmd_down(struct compose_cli *cc, int argc, char **argv);
int compose_cmd_ps(struct compose_cli *cc, int argc, char **argv);
int compose_cmd_logs(struct compose_cli *cc, int argc, char **argv);
int compose_cmd_start(struct compose_cli *cc, int argc, char **argv);
int compose_cmd_stop(struct compose_cli *cc, int argc, char **argv);
int compose_cmd_restart(struct compose_cli *cc, int argc, char **argv);

#endif
