/* envmap: an ordered KEY -> VALUE map for environments (the shell's, .env files,
 * a service's `environment:`). Insertion order is kept so that output is stable;
 * a small open-addressing index keeps lookups O(1) for projects with thousands
 * of variables. A NULL value means "declared but unset" (`environment: [FOO]`). */
#ifndef BERTH_COMPOSE_ENVMAP_H
#define BERTH_COMPOSE_ENVMAP_H

#include <stddef.h>
#include <stdint.h>

struct envmap_entry {
	char *key;   /* owned, never NULL */
	char *value; /* owned; NULL when declared but unset */
};

struct envmap {
	struct envmap_entry *items; /* in insertion order */
	size_t nr, alloc;
	/* Open-addressing index: slot holds item position + 1, 0 when empty.
	 * Its size is a power of two, at least twice nr; NULL until first insert. */
	uint32_t *index;
	size_t index_size;
};

#define ENVMAP_INIT { NULL, 0, 0, NULL, 0 }

void envmap_init(struct envmap *m);
/* Frees every key and value and the index; m is left empty and reusable. */
void envmap_release(struct envmap *m);
/* Copies key and value (value may be NULL). An existing key keeps its position
 * and gets the new value. */
void envmap_set(struct envmap *m, const char *key, const char *value);
/* Borrowed until the next envmap_set/remove/release on m; NULL when absent. */
const struct envmap_entry *envmap_find(const struct envmap *m, const char *key);
/* Borrowed like envmap_find; NULL when absent or declared but unset. */
const char *envmap_get(const struct envmap *m, const char *key);
/* Removes key if present; the others keep their order. O(nr). */
void envmap_remove(struct envmap *m, const char *key);
/* Adds every "KEY=VALUE" of a NULL-terminated environ array; entries without
 * '=' are skipped. A key listed twice takes its last value, as compose-go's
 * map built from os.Environ() does. */
void envmap_from_environ(struct envmap *m, char **environ_);
/* Replaces the contents of dst (initialised, maybe non-empty) with a copy of src. */
void envmap_copy(struct envmap *dst, const struct envmap *src);
/* Adapter with the shape of interp_lookup_fn: ctx is a const struct envmap *. */
const char *envmap_lookup(void *ctx, const char *name);

#endif
