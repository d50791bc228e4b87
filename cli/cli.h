/* The command table: each cli/cmd_<verb>.c parses its flags, calls one core
 * function, prints the error and maps it to an exit code. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

extern const struct cli_command cli_commands[];

/* Prints "berth: <diagnostic>" for err to stderr. */
struct berth_error;
void cli_print_error(const struct berth_error *err);
/* Maps an error code to an exit status. */
int cli_exit_code(int code);

int cmd_compose(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_vm(int argc, char **argv);

#endif
