#include "cli/args.h"

#include <stdio.h>
#include <string.h>

#include "common/banned.h"

int cli_flag_value(int argc, char **argv, int *i, const char *shortf, const char *longf, const char **val)
{
	const char *a = argv[*i];
	size_t ll = longf ? strlen(longf) : 0;
	if ((shortf && !strcmp(a, shortf)) || (longf && !strcmp(a, longf))) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "berth: flag needs an argument: %s\n", a);
			return -1;
		}
		*val = argv[++*i];
		return 1;
	}
	if (longf && !strncmp(a, longf, ll) && a[ll] == '=') {
		*val = a + ll + 1;
		return 1;
	}
	if (shortf && strlen(shortf) == 2 && !strncmp(a, shortf, 2) && a[2] && a[1] != '-') {
		*val = a + 2;
		return 1;
	}
	return 0;
}

bool cli_flag(const char *arg, const char *shortf, const char *longf)
{
	return (shortf && !strcmp(arg, shortf)) || (longf && !strcmp(arg, longf));
}
