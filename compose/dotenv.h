/* .env files, read as compose-go v2.0.x's dotenv parser (Docker Compose 2.26)
 * reads them: `KEY=VAL`, `export KEY=VAL`, `KEY: VAL`, comments, single-quoted
 * (literal) and double-quoted (escapes, ${VAR}) values over several lines, bare
 * `KEY` lines that inherit from the environment, CRLF and a UTF-8 BOM. */
#ifndef BERTH_COMPOSE_DOTENV_H
#define BERTH_COMPOSE_DOTENV_H

#include <stddef.h>

#include "compose/envmap.h"
#include "compose/interpolate.h"

struct berth_error;

/* Largest .env file compose_dotenv_load() reads. */
#define COMPOSE_DOTENV_MAX_SIZE ((size_t)16 << 20)

/*
 * Parses data[0..len) of the file called `name` (used in messages only) and sets
 * each key into out, a later line overriding an earlier one. out is untouched
 * on error.
 *
 * ${VAR} in unquoted and double-quoted values is resolved as compose-go does:
 * lookup FIRST, then the entries out held on entry, then the keys parsed so far
 * from this data. A bare `KEY` line takes lookup(KEY), else out's entry, when
 * set, and is skipped otherwise; it never sees this data's own keys.
 *
 * Hence the project's .env files (compose-go GetEnvFromFile) come out exactly
 * right when parsed one after the other into one map with a lookup over the
 * process environment. A service's env_file list (compose-go resolves against
 * the files read before, THEN the project environment) needs a fresh out per
 * file and a lookup that chains those two in that order.
 *
 * Errors name file:line(:col): BERTH_E_PARSE for syntax (invalid key, unterminated
 * quote), BERTH_E_INVALID for interpolation errors (see compose_interpolate()),
 * and a value holding a NUL byte, which no environment can carry.
 */
int compose_dotenv_parse(struct envmap *out, const char *name, const char *data, size_t len,
			 interp_lookup_fn lookup, void *lookup_ctx, struct berth_error *err);

/* The same, with warnings: compose-go logs `The "X" variable is not set...` for
 * unset variables in values, and opt->warn receives those. opt may be NULL. */
int compose_dotenv_parse_opts(struct envmap *out, const char *name, const char *data, size_t len,
			      const struct interp_options *opt, struct berth_error *err);

/* Reads path (at most COMPOSE_DOTENV_MAX_SIZE bytes, else BERTH_E_LIMIT) and parses
 * it as above. BERTH_E_NOTFOUND when it does not exist, BERTH_E_IO when it cannot
 * be read or is a directory. */
int compose_dotenv_load(struct envmap *out, const char *path, interp_lookup_fn lookup, void *ctx,
			struct berth_error *err);

#endif
