/* Short syntax to long syntax, type checks and relative paths, for one
 * compose file's tree, driven by compose/schema.c. Runs after interpolation
 * and before files are merged, as compose-go's transform.Canonical does (it
 * also resolves paths here, against the directory each file is relative to). */
#ifndef BERTH_COMPOSE_CANONICAL_H
#define BERTH_COMPOSE_CANONICAL_H

#include <stdbool.h>

struct arena;
struct node;
struct berth_error;
struct strbuf;

struct canon_ctx {
	struct arena *a;
	const char *base_dir; /* relative paths resolve against this (absolute) */
	const char *home;     /* for ~ (may be NULL) */
	struct berth_error *err;
	struct strbuf *path;                      /* key path being converted (for messages) */
	void (*warn)(void *ctx, const char *msg); /* may be NULL */
	void *warn_ctx;
	/* --no-interpolate: a port or volume string holding a variable cannot be
	 * parsed yet and is kept as written, as compose-go does */
	bool keep_unparsed;
};

/* Converts a whole file's root mapping in place. */
int compose_canonicalize(struct canon_ctx *c, struct node *root);

/* Joins base and rel and cleans the result lexically (as Go's filepath.Join). */
char *path_join_clean(struct arena *a, const char *base, const char *rel);
/* Expands ~ and makes p absolute against base. */
char *path_resolve(struct arena *a, const char *base, const char *home, const char *p);
/* Go-style text for a scalar: ints in decimal, floats shortest, bools true/false, null "". */
const char *scalar_go_text(struct arena *a, const struct node *n);
/* Splits a command line as go-shellwords does (quotes, backslashes; no expansion). */
int shell_split(struct arena *a, struct node *out_seq, const char *s, struct berth_error *err);

#endif
