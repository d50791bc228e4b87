/* The `berth compose` subcommands, in the order `berth compose --help` lists them. */
#include <stddef.h>

#include "cli/compose_cmds.h"
#include "common/banned.h"

const struct compose_subcommand compose_subcommands[] = {
	{ "config", "print the canonical model", compose_cmd_config },
	{ "up", "create and start containers (converging from what runs)", compose_cmd_up },
	{ "down", "stop and remove containers, networks (and volumes with -v)", compose_cmd_down },
	{ "ps", "list the project's containers", compose_cmd_ps },
	{ "logs", "show container output", compose_cmd_logs },
	{ "start", "start existing containers", compose_cmd_start },
	{ "stop", "stop running containers", compose_cmd_stop },
	{ "restart", "restart containers", compose_cmd_restart },
	{ NULL, NULL, NULL },
};
