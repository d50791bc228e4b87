/* The libyaml boundary: turns YAML text into a node tree (compose/node.h)
 * with positions, anchors and aliases expanded, merge keys (<<) applied,
 * !reset/!override kept as node tags, and duplicate keys refused. Limits
 * are part of the contract: input size, nesting depth and the number of
 * nodes that aliases may expand to (a "billion laughs" file fails fast). */
#ifndef BERTH_COMPOSE_YAML_LOAD_H
#define BERTH_COMPOSE_YAML_LOAD_H

#include <stddef.h>

struct arena;
struct node;
struct berth_error;

#define YAML_MAX_BYTES       (16u << 20)
#define YAML_MAX_DEPTH       200
#define YAML_MAX_ALIAS_NODES 1000000

/* Parses data[0..len). label names the file in positions and errors (copied
 * into the arena). *out is the document's root node, or a NODE_NULL node for
 * an empty document; borrowed from the arena. */
int compose_yaml_parse(struct node **out, struct arena *a, const char *label, const char *data, size_t len,
		       struct berth_error *err);
/* Parses every document of the stream, as compose-go does (its documents
 * merge in order like files): *out is a NODE_SEQ of document roots (at least
 * one; an empty stream gives one NODE_NULL root). */
int compose_yaml_parse_docs(struct node **out, struct arena *a, const char *label, const char *data, size_t len,
			    struct berth_error *err);
/* Reads path (BERTH_E_NOTFOUND when missing) and parses its first document; label as above. */
int compose_yaml_load_file(struct node **out, struct arena *a, const char *path, const char *label,
			   struct berth_error *err);
/* Reads path and parses all its documents, as compose_yaml_parse_docs. */
int compose_yaml_load_file_docs(struct node **out, struct arena *a, const char *path, const char *label,
				struct berth_error *err);
/* Inputs of at least this many bytes may be parsed in two pieces at once
 * (see "split parsing" in yaml_load.c); the result is the same tree. Tests
 * lower it to exercise the split on small inputs, or raise it to SIZE_MAX to
 * parse whole. compose_yaml_splits counts the parses that were split. */
extern size_t compose_yaml_split_min;
extern size_t compose_yaml_splits;
/* Reads a whole file into out with a size cap; the error names the path. */
struct strbuf;
int read_file_capped(struct strbuf *out, const char *path, size_t cap, struct berth_error *err);

#endif
