/* The source text behind the node tree: lint reads a compose file's bytes
 * to see what the canonical model has lost (a `~` before path resolution, a
 * `${VAR}` before interpolation, a key the loader dropped) and to compute
 * fixes as byte edits at node positions. Scalars are read back from their
 * line:col and decoded, so that an edit is made only when the text there is
 * exactly the value the node holds. */
#ifndef BERTH_LINT_SOURCE_H
#define BERTH_LINT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"

struct node;

struct lint_source {
	const char *file;   /* owned copy of the path (the nodes' label) */
	struct strbuf text;
	size_t *lines;      /* byte offset where each line starts; lines[0] is after a BOM */
	size_t nlines;
	bool ok;            /* false: unreadable, every lookup fails */
};

struct lint_sources {
	struct lint_source **v;
	size_t nr, alloc;
	struct lint_source *last; /* the last one looked up: nodes come in runs */
};
#define LINT_SOURCES_INIT { NULL, 0, 0, NULL }

/* The source of file, read on first use (at most YAML_MAX_BYTES). NULL when
 * file is NULL or unreadable. Borrowed until lint_sources_release(). */
struct lint_source *lint_source_get(struct lint_sources *s, const char *file);
void lint_sources_release(struct lint_sources *s);
/* Builds a source from text already in memory (tests). */
void lint_source_init_text(struct lint_source *src, const char *file, const char *text, size_t len);
void lint_source_release(struct lint_source *src);

/* Byte offset of line:col (1-based; col counts characters as libyaml does). */
bool lint_source_offset(const struct lint_source *src, int line, int col, size_t *out);
/* The inverse: 1-based line and character column of a byte offset. */
void lint_source_linecol(const struct lint_source *src, size_t off, int *line, int *col);
/* Start of the line holding off, and the offset of its '\n' (or the end). */
size_t lint_source_line_start(const struct lint_source *src, size_t off);
size_t lint_source_line_end(const struct lint_source *src, size_t off);
/* Offset just past the line holding off (after its '\n'). */
size_t lint_source_line_next(const struct lint_source *src, size_t off);
/* The byte at the node's position, or 0. */
char lint_source_char_at(const struct lint_source *src, const struct node *n);

enum lint_scalar_style {
	LINT_SCALAR_PLAIN = 0,
	LINT_SCALAR_SINGLE,
	LINT_SCALAR_DOUBLE,
	LINT_SCALAR_BLOCK, /* | or >: value holds the raw lines, not the YAML value */
};

struct lint_scalar {
	size_t start, end; /* the scalar's bytes, quotes included; end excludes trailing blanks and comments */
	enum lint_scalar_style style;
	struct strbuf value; /* the decoded value */
};
#define LINT_SCALAR_INIT { 0, 0, LINT_SCALAR_PLAIN, STRBUF_INIT }
void lint_scalar_release(struct lint_scalar *s);

/* Reads the scalar that starts at n's position. flow: the scalar is inside
 * [...] or {...}, where ',', ']' and '}' end a plain scalar. Plain scalars
 * are read to the end of their line. False when the position is unknown or
 * the text there is not a scalar. */
bool lint_scalar_at(const struct lint_source *src, const struct node *n, bool flow, struct lint_scalar *out);
/* lint_scalar_at() that also requires the decoded value to equal n's string:
 * the guard every fix uses before it edits a scalar. */
bool lint_scalar_verified(const struct lint_source *src, const struct node *n, bool flow, struct lint_scalar *out);

/* Appends s as a YAML double-quoted scalar. */
void lint_yaml_quote(struct strbuf *out, const char *s);
/* True if s can be written as a plain YAML scalar and reads back as the same string. */
bool lint_yaml_plain_ok(const char *s);

#endif
