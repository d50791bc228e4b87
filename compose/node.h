/* The document tree every compose stage works on: YAML scalars, sequences
 * and mappings with the file:line:col they came from. All nodes and strings
 * of a project live in one arena and are freed together, so stages may share
 * or drop subtrees freely; a stage that mutates a subtree it did not create
 * copies it first (node_clone). */
#ifndef BERTH_COMPOSE_NODE_H
#define BERTH_COMPOSE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

struct arena_chunk;
struct arena {
	struct arena_chunk *head;
	size_t used_bytes; /* for limits and measurements */
};
#define ARENA_INIT                                                                                                     \
	{                                                                                                              \
		NULL, 0                                                                                                \
	}
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strfmt(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_release(struct arena *a);
/* Moves every chunk of src into dst (src is left empty); what was allocated
 * from src stays where it is, now owned by dst. */
void arena_adopt(struct arena *dst, struct arena *src);

enum node_kind { NODE_NULL, NODE_BOOL, NODE_INT, NODE_FLOAT, NODE_STR, NODE_SEQ, NODE_MAP };
enum node_tag { NODE_TAG_NONE, NODE_TAG_RESET, NODE_TAG_OVERRIDE };
/* An extra_hosts entry written "host=ip" (merges replace by host) rather
 * than "host:ip" (merges replace only the same text), as compose-go does. */
#define NODE_FLAG_EQ_FORM 1

struct node;
struct node_kv {
	struct node *key; /* always NODE_STR */
	struct node *value;
};

struct node {
	enum node_kind kind;
	unsigned char tag;   /* enum node_tag */
	bool quoted;         /* scalar was quoted in the source: never retyped */
	unsigned char flags; /* NODE_FLAG_* */
	int line, col;       /* 1-based; 0 for synthesized nodes */
	const char *file;    /* borrowed from the arena; NULL for synthesized nodes */
	char *str;           /* scalar text (NUL-terminated; all scalar kinds keep it) */
	size_t len;
	union {
		bool b;
		int64_t i;
		double f;
	} v;
	size_t nr, alloc; /* SEQ: items; MAP: kvs */
	struct node **items;
	struct node_kv *kvs;
	/* MAP lookup index for large maps (built lazily, in the arena). It is
	 * trusted only while idx_nr == nr and idx_kvs == kvs; code that moves
	 * entries in place calls node_map_invalidate(). */
	uint32_t *idx;
	uint32_t idx_cap, idx_nr;
	const struct node_kv *idx_kvs;
	struct arena *idx_arena;
};

struct node *node_new(struct arena *a, enum node_kind kind, const struct node *pos_from);
struct node *node_new_str(struct arena *a, const char *s, const struct node *pos_from);
struct node *node_new_strn(struct arena *a, const char *s, size_t n, const struct node *pos_from);
struct node *node_new_int(struct arena *a, int64_t v, const struct node *pos_from);
struct node *node_new_bool(struct arena *a, bool v, const struct node *pos_from);
struct node *node_new_float(struct arena *a, double v, const struct node *pos_from);
/* Deep copy into a. */
struct node *node_clone(struct arena *a, const struct node *n);
/* After arena_adopt: makes the maps of n's tree grow in a, their new arena. */
void node_rehome(struct node *n, struct arena *a);

void node_seq_push(struct arena *a, struct node *seq, struct node *item);
/* Map operations. Keys are compared as strings. */
struct node *node_map_get(const struct node *map, const char *key);
struct node_kv *node_map_find(const struct node *map, const char *key);
/* Sets key (replacing the value in place when present, else appending). Returns value. */
struct node *node_map_set(struct arena *a, struct node *map, const char *key, struct node *value);
void node_map_set_kv(struct arena *a, struct node *map, struct node *key, struct node *value);
bool node_map_remove(struct node *map, const char *key);
/* Drops the lookup index after entries were moved, removed or replaced in place. */
void node_map_invalidate(struct node *map);
/* Sorts a map's entries by key (byte order). */
void node_map_sort(struct node *map);

bool node_is_scalar(const struct node *n);
const char *node_kind_name(enum node_kind k);
/* Scalar text for NULL/BOOL/INT/FLOAT/STR as it would print; NULL for collections. */
const char *node_scalar_text(const struct node *n);

/* Resolves a plain YAML scalar the way yaml.v3 does (null, bool, int incl.
 * 0x/0o/leading-0 octal, float, .inf/.nan) and sets kind/v. */
void node_resolve_plain(struct node *n);

#endif
