#include <stdio.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "common/banned.h"

const struct cli_command cli_commands[] = {
	{ "compose", cmd_compose },
	{ "lint", cmd_lint },
	{ "vm", cmd_vm },
	{ NULL, NULL },
};

void cli_print_error(const struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	berth_error_format(err, &sb);
	fprintf(stderr, "%s\n", sb.buf);
	strbuf_release(&sb);
}

int cli_exit_code(int code)
{
	switch (code) {
	case 0: return 0;
	case BERTH_E_USAGE: return 2;
	case BERTH_E_INTERRUPTED: return 130;
	default: return 1;
	}
}
