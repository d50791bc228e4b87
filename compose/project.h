/* Loading a compose project the way Docker Compose v2 does: file discovery,
 * environment (.env, --env-file, shell), interpolation, canonical form,
 * extends, include, merging of several files, profiles, defaults and
 * consistency checks. The result is the canonical model as a node tree. */
#ifndef BERTH_COMPOSE_PROJECT_H
#define BERTH_COMPOSE_PROJECT_H

#include <stdbool.h>

#include "common/strvec.h"
#include "compose/envmap.h"
#include "compose/node.h"

struct berth_error;

struct compose_options {
	struct strvec files;      /* -f, in order; "-" is standard input */
	const char *project_name; /* -p */
	const char *project_dir;  /* --project-directory */
	struct strvec env_files;  /* --env-file */
	struct strvec profiles;   /* --profile */
	bool no_interpolate;
	bool keep_unused; /* keep networks/volumes/... no service uses */
	char **environ;   /* the process environment (borrowed) */
	const char *cwd;  /* NULL: getcwd() */
};
#define COMPOSE_OPTIONS_INIT                                                                                           \
	{                                                                                                              \
		STRVEC_INIT, NULL, NULL, STRVEC_INIT, STRVEC_INIT, false, false, NULL, NULL                            \
	}
void compose_options_release(struct compose_options *o);

struct compose_project {
	struct arena arena;
	struct node *model;         /* canonical top-level mapping; borrowed from arena */
	const char *name;           /* in arena */
	const char *dir;            /* absolute project directory, in arena */
	struct strvec config_files; /* absolute paths as loaded ("-" for stdin) */
	struct envmap env;          /* environment used for interpolation */
	struct strvec warnings;     /* messages Docker Compose prints as warnings */
	struct strvec active_profiles;
};
#define COMPOSE_PROJECT_INIT                                                                                           \
	{                                                                                                              \
		ARENA_INIT, NULL, NULL, NULL, STRVEC_INIT, ENVMAP_INIT, STRVEC_INIT, STRVEC_INIT                       \
	}

int compose_project_load(struct compose_project *out, const struct compose_options *opt, struct berth_error *err);
void compose_project_release(struct compose_project *p);

/* Docker Compose's project name normalisation: lowercase, [a-z0-9_-] only,
 * no leading '_' or '-'. Returns a new arena string. */
char *compose_normalize_project_name(struct arena *a, const char *s);

/* Service names in dependency order (a service after everything it depends
 * on), ties by name: the order `config --services` prints. Appends to out. */
void compose_service_order(const struct compose_project *p, struct strvec *out);

/* The services map of the model (never NULL after a successful load). */
struct node *compose_services(const struct compose_project *p);

#endif
