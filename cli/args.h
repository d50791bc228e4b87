/* Small helpers for Docker-style flags: "-f x", "-fx", "--file x", "--file=x". */
#ifndef BERTH_CLI_ARGS_H
#define BERTH_CLI_ARGS_H

#include <stdbool.h>

/* If argv[*i] is the flag (short may be NULL), stores its value in *val,
 * advancing *i past a separate value. Returns 1 when matched, 0 when not,
 * -1 when the flag is missing its value (a message has been printed). */
int cli_flag_value(int argc, char **argv, int *i, const char *shortf, const char *longf, const char **val);
/* True if argv[i] is the boolean flag (short may be NULL). */
bool cli_flag(const char *arg, const char *shortf, const char *longf);

#endif
