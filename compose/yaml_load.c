#include "compose/yaml_load.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/bgcall.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/parse.h"
#include "common/strbuf.h"
#include "compose/node.h"
#include "common/banned.h"

struct anchor {
	char *name;
	struct node *node;
	size_t count; /* nodes in the subtree, for the alias budget */
};

struct frame {
	struct node *node;
	struct node *pending_key; /* MAP: key waiting for its value */
	struct node **merges;     /* MAP: values of << keys, applied at the end */
	size_t merges_nr, merges_alloc;
	size_t count; /* nodes created in this subtree */
	char *anchor; /* anchor to register when the node completes */
};

struct loader {
	struct arena *a;
	const char *file;
	struct frame *stack;
	size_t depth, stack_alloc;
	struct anchor *anchors;
	size_t anchors_nr, anchors_alloc;
	size_t alias_nodes;
	struct node *root;
	struct berth_error *err;
	int max_depth;
	/* Where the text came from, for a piece of a split file (see "split
	 * parsing"): line numbers get base_line added, and from buffer line
	 * shift_from on (0-based, 0 = never) also shift. */
	int base_line, shift_from, shift;
	int last_alias_line; /* 1-based line of the last alias, 0 if none */
};

static int line_of(const struct loader *l, const yaml_mark_t *m)
{
	int line = (int)m->line + 1 + l->base_line;
	if (l->shift_from && (int)m->line >= l->shift_from)
		line += l->shift;
	return line;
}

static void set_pos(struct loader *l, struct node *n, const yaml_mark_t *m)
{
	n->file = l->file;
	n->line = line_of(l, m);
	n->col = (int)m->column + 1;
}

static int fail_at(struct loader *l, const yaml_mark_t *m, const char *msg, const char *arg)
{
	return berth_error_set_at(l->err, BERTH_E_PARSE, l->file, line_of(l, m), (int)m->column + 1, NULL,
				  "yaml: %s%s%s%s", msg, arg ? " \"" : "", arg ? arg : "", arg ? "\"" : "");
}

static enum node_tag tag_of(const yaml_char_t *tag)
{
	if (!tag)
		return NODE_TAG_NONE;
	if (!strcmp((const char *)tag, "!reset"))
		return NODE_TAG_RESET;
	if (!strcmp((const char *)tag, "!override"))
		return NODE_TAG_OVERRIDE;
	return NODE_TAG_NONE;
}

static void apply_merges(struct loader *l, struct frame *f)
{
	/* Explicit keys win over merged ones; among merged maps the first wins. */
	struct node *map = f->node;
	for (size_t m = 0; m < f->merges_nr; m++) {
		struct node *src = f->merges[m];
		for (size_t i = 0; i < src->nr; i++) {
			if (node_map_find(map, src->kvs[i].key->str))
				continue;
			node_map_set_kv(l->a, map, src->kvs[i].key, src->kvs[i].value);
		}
	}
}

/* Attaches a finished node to its parent (or makes it the root). */
static int attach(struct loader *l, struct node *n, size_t count, const yaml_mark_t *mark)
{
	if (!l->depth) {
		l->root = n;
		return 0;
	}
	struct frame *p = &l->stack[l->depth - 1];
	p->count += count;
	if (p->node->kind == NODE_SEQ) {
		node_seq_push(l->a, p->node, n);
		return 0;
	}
	if (!p->pending_key) {
		if (!node_is_scalar(n))
			return fail_at(l, mark, "mapping keys must be scalars", NULL);
		if (n->kind != NODE_STR) {
			/* keys are strings in compose: keep the source text */
			n->kind = NODE_STR;
		}
		p->pending_key = n;
		return 0;
	}
	struct node *key = p->pending_key;
	p->pending_key = NULL;
	if (!key->quoted && !strcmp(key->str, "<<")) {
		if (n->kind == NODE_MAP) {
			ALLOC_GROW(p->merges, p->merges_nr + 1, p->merges_alloc);
			p->merges[p->merges_nr++] = n;
			return 0;
		}
		if (n->kind == NODE_SEQ) {
			for (size_t i = 0; i < n->nr; i++) {
				if (n->items[i]->kind != NODE_MAP)
					return berth_error_set_at(
						l->err, BERTH_E_PARSE, l->file, n->items[i]->line, n->items[i]->col,
						NULL, "yaml: map merge requires map or sequence of maps as the value");
				ALLOC_GROW(p->merges, p->merges_nr + 1, p->merges_alloc);
				p->merges[p->merges_nr++] = n->items[i];
			}
			return 0;
		}
		return berth_error_set_at(l->err, BERTH_E_PARSE, l->file, n->line, n->col, NULL,
					  "yaml: map merge requires map or sequence of maps as the value");
	}
	struct node_kv *dup = node_map_find(p->node, key->str);
	if (dup)
		return berth_error_set_at(l->err, BERTH_E_PARSE, l->file, key->line, key->col, NULL,
					  "yaml: mapping key \"%s\" already defined at line %d", key->str,
					  dup->key->line);
	node_map_set_kv(l->a, p->node, key, n);
	return 0;
}

static void register_anchor(struct loader *l, char *name, struct node *n, size_t count)
{
	for (size_t i = 0; i < l->anchors_nr; i++) {
		if (!strcmp(l->anchors[i].name, name)) {
			free(name);
			l->anchors[i].node = n;
			l->anchors[i].count = count;
			return;
		}
	}
	ALLOC_GROW(l->anchors, l->anchors_nr + 1, l->anchors_alloc);
	l->anchors[l->anchors_nr].name = name;
	l->anchors[l->anchors_nr].node = n;
	l->anchors[l->anchors_nr].count = count;
	l->anchors_nr++;
}

static int push(struct loader *l, struct node *n, const yaml_char_t *anchor, const yaml_mark_t *mark)
{
	if (l->depth >= (size_t)l->max_depth)
		return berth_error_set_at(l->err, BERTH_E_LIMIT, l->file, line_of(l, mark), (int)mark->column + 1, NULL,
					  "yaml: nesting deeper than %d levels", YAML_MAX_DEPTH);
	ALLOC_GROW(l->stack, l->depth + 1, l->stack_alloc);
	struct frame *f = &l->stack[l->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->count = 1;
	f->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
	return 0;
}

static int pop(struct loader *l, const yaml_mark_t *mark)
{
	struct frame f = l->stack[--l->depth];
	if (f.node->kind == NODE_MAP && f.merges_nr)
		apply_merges(l, &f);
	free(f.merges);
	if (f.anchor)
		register_anchor(l, f.anchor, f.node, f.count);
	return attach(l, f.node, f.count, mark);
}

static int on_scalar(struct loader *l, yaml_event_t *ev)
{
	struct node *n = node_new(l->a, NODE_STR, NULL);
	set_pos(l, n, &ev->start_mark);
	n->str = arena_strndup(l->a, (const char *)ev->data.scalar.value, ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	n->tag = (unsigned char)tag_of(ev->data.scalar.tag);
	if (strlen(n->str) != n->len)
		return fail_at(l, &ev->start_mark, "NUL character in scalar", NULL);
	const char *tag = (const char *)ev->data.scalar.tag;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (tag && !strcmp(tag, YAML_STR_TAG))
		plain = false;
	if (tag && !strcmp(tag, "!"))
		plain = false;
	n->quoted = !plain;
	if (plain)
		node_resolve_plain(n);
	if (ev->data.scalar.anchor)
		register_anchor(l, xstrdup((const char *)ev->data.scalar.anchor), n, 1);
	return attach(l, n, 1, &ev->start_mark);
}

static int on_alias(struct loader *l, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	l->last_alias_line = line_of(l, &ev->start_mark);
	for (size_t i = l->anchors_nr; i-- > 0;) {
		if (strcmp(l->anchors[i].name, name))
			continue;
		l->alias_nodes += l->anchors[i].count;
		if (l->alias_nodes > YAML_MAX_ALIAS_NODES)
			return berth_error_set_at(l->err, BERTH_E_LIMIT, l->file, line_of(l, &ev->start_mark),
						  (int)ev->start_mark.column + 1, NULL,
						  "yaml: aliases expand to more than %d nodes (excessive aliasing, "
						  "as in a \"billion laughs\" document)",
						  YAML_MAX_ALIAS_NODES);
		struct node *n = node_clone(l->a, l->anchors[i].node);
		return attach(l, n, l->anchors[i].count, &ev->start_mark);
	}
	return fail_at(l, &ev->start_mark, "unknown anchor referenced:", name);
}

/* What libyaml said when it failed, copied out of the parser (which may
 * belong to another thread). Its strings are libyaml's static literals. */
struct yaml_failure {
	yaml_error_type_t error;
	const char *problem, *context;
	yaml_mark_t problem_mark, context_mark;
	size_t problem_offset;
};

static void capture_failure(struct yaml_failure *f, const yaml_parser_t *p)
{
	f->error = p->error;
	f->problem = p->problem;
	f->context = p->context;
	f->problem_mark = p->problem_mark;
	f->context_mark = p->context_mark;
	f->problem_offset = p->problem_offset;
}

static int parse_error(struct loader *l, const struct yaml_failure *p, const char *data, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "yaml: %s", p->problem ? p->problem : "syntax error");
	if (p->context)
		strbuf_addf(&sb, " (%s at line %zu)", p->context, p->context_mark.line + 1);
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
	if (p->error == YAML_READER_ERROR) {
		/* the reader reports a byte offset: turn it into line and column */
		line = col = 1;
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (data[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
	}
	berth_error_set_at(l->err, BERTH_E_PARSE, l->file, line, col, NULL, "%s", sb.buf);
	strbuf_release(&sb);
	return BERTH_E_PARSE;
}

/* ---- event sources --------------------------------------------------------
 * Large inputs are parsed by libyaml in a second thread while this one builds
 * the tree: libyaml is most of the cost of loading, and the two overlap. Events
 * travel in chunks; the consumer owns and deletes them. */

#define EVENT_CHUNK        256
#define THREADED_MIN_BYTES (128u << 10)
#define QUEUE_CHUNKS       8

struct event_chunk {
	yaml_event_t ev[EVENT_CHUNK];
	size_t nr;
	bool last; /* the stream ended (or failed) after these */
	bool failed;
	struct yaml_failure failure;
};

struct event_source {
	const char *data;
	size_t len;
	yaml_parser_t parser;
	bool threaded;
	/* threaded */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct event_chunk *queue[QUEUE_CHUNKS];
	size_t q_head, q_nr;
	bool stop;               /* the consumer gave up: the producer exits */
	struct event_chunk *cur; /* consumer's chunk being read */
	size_t cur_pos;
	bool ended;
};

static void *producer_main(void *arg)
{
	struct event_source *s = arg;
	bool done = false;
	while (!done) {
		struct event_chunk *c = xcalloc(1, sizeof(*c));
		while (c->nr < EVENT_CHUNK) {
			if (!yaml_parser_parse(&s->parser, &c->ev[c->nr])) {
				capture_failure(&c->failure, &s->parser);
				c->failed = c->last = done = true;
				break;
			}
			if (c->ev[c->nr++].type == YAML_STREAM_END_EVENT) {
				c->last = done = true;
				break;
			}
		}
		pthread_mutex_lock(&s->mu);
		while (s->q_nr == QUEUE_CHUNKS && !s->stop)
			pthread_cond_wait(&s->cond, &s->mu);
		bool stop = s->stop;
		if (!stop) {
			s->queue[(s->q_head + s->q_nr) % QUEUE_CHUNKS] = c;
			s->q_nr++;
			pthread_cond_broadcast(&s->cond);
		}
		pthread_mutex_unlock(&s->mu);
		if (stop) {
			for (size_t i = 0; i < c->nr; i++)
				yaml_event_delete(&c->ev[i]);
			free(c);
			break;
		}
	}
	return NULL;
}

static void source_open(struct event_source *s, const char *data, size_t len, bool may_thread)
{
	memset(s, 0, sizeof(*s));
	s->data = data;
	s->len = len;
	if (!yaml_parser_initialize(&s->parser))
		BUG("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&s->parser, (const unsigned char *)data, len);
	if (!may_thread || len < THREADED_MIN_BYTES)
		return;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->threaded = pthread_create(&s->thread, NULL, producer_main, s) == 0;
	if (!s->threaded) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cond);
	}
}

/* 1 with *ev filled (the caller deletes it), 0 at a parse failure (*f filled). */
static int source_next(struct event_source *s, yaml_event_t *ev, struct yaml_failure *f)
{
	if (!s->threaded) {
		if (yaml_parser_parse(&s->parser, ev))
			return 1;
		capture_failure(f, &s->parser);
		return 0;
	}
	for (;;) {
		if (s->cur && s->cur_pos < s->cur->nr) {
			*ev = s->cur->ev[s->cur_pos++];
			return 1;
		}
		if (s->cur) {
			bool failed = s->cur->failed, last = s->cur->last;
			if (failed)
				*f = s->cur->failure;
			free(s->cur);
			s->cur = NULL;
			if (failed)
				return 0;
			if (last) {
				/* nothing follows STREAM_END; the parser stays consistent */
				memset(f, 0, sizeof(*f));
				f->problem = "unexpected end of stream";
				return 0;
			}
		}
		pthread_mutex_lock(&s->mu);
		while (!s->q_nr)
			pthread_cond_wait(&s->cond, &s->mu);
		s->cur = s->queue[s->q_head];
		s->q_head = (s->q_head + 1) % QUEUE_CHUNKS;
		s->q_nr--;
		s->cur_pos = 0;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->mu);
	}
}

static void source_close(struct event_source *s)
{
	if (s->threaded) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
		/* events the consumer did not take */
		if (s->cur) {
			for (size_t i = s->cur_pos; i < s->cur->nr; i++)
				yaml_event_delete(&s->cur->ev[i]);
			free(s->cur);
		}
		for (size_t k = 0; k < s->q_nr; k++) {
			struct event_chunk *c = s->queue[(s->q_head + k) % QUEUE_CHUNKS];
			for (size_t i = 0; i < c->nr; i++)
				yaml_event_delete(&c->ev[i]);
			free(c);
		}
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cond);
	}
	yaml_parser_delete(&s->parser);
}

/* Runs the events of src into l: one root per document, pushed onto docs
 * (stops after the first when !all). */
static int build_tree(struct loader *l, struct event_source *src, const char *data, size_t len, bool all,
		      struct node *docs)
{
	struct arena *a = l->a;
	struct yaml_failure failure;
	yaml_event_t ev;
	int rc = 0;
	bool done = false;

	while (!done && !rc) {
		if (!source_next(src, &ev, &failure)) {
			rc = parse_error(l, &failure, data, len);
			break;
		}
		switch (ev.type) {
		case YAML_SCALAR_EVENT: rc = on_scalar(l, &ev); break;
		case YAML_ALIAS_EVENT: rc = on_alias(l, &ev); break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			bool seq = ev.type == YAML_SEQUENCE_START_EVENT;
			struct node *n = node_new(a, seq ? NODE_SEQ : NODE_MAP, NULL);
			set_pos(l, n, &ev.start_mark);
			n->tag = (unsigned char)tag_of(seq ? ev.data.sequence_start.tag : ev.data.mapping_start.tag);
			rc = push(l, n, seq ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor,
				  &ev.start_mark);
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: rc = pop(l, &ev.start_mark); break;
		case YAML_DOCUMENT_START_EVENT:
			/* anchors belong to their document */
			for (size_t i = 0; i < l->anchors_nr; i++)
				free(l->anchors[i].name);
			l->anchors_nr = 0;
			l->alias_nodes = 0;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (!l->root) {
				l->root = node_new(a, NODE_NULL, NULL);
				l->root->file = l->file;
				l->root->line = line_of(l, &ev.start_mark);
				l->root->col = 1;
			}
			node_seq_push(a, docs, l->root);
			l->root = NULL;
			done = !all;
			break;
		case YAML_STREAM_END_EVENT: done = true; break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	return rc;
}

static void loader_release(struct loader *l)
{
	for (size_t i = 0; i < l->depth; i++) {
		free(l->stack[i].merges);
		free(l->stack[i].anchor);
	}
	free(l->stack);
	for (size_t i = 0; i < l->anchors_nr; i++)
		free(l->anchors[i].name);
	free(l->anchors);
}

/* ---- split parsing ----------------------------------------------------------
 * A big compose file is mostly its top-level services: mapping, and libyaml
 * is most of the cost of loading it. Such a file is parsed in two pieces at
 * once: B, the second half of the services block (from a line that starts a
 * service key), in a second thread, and A, the rest of the file (the text
 * before B followed by the text after the services block), in this one; B's
 * services are then appended to A's. The result must be exactly the tree of
 * a whole-file parse, positions included, so the split is only tried where it
 * cannot change the meaning, and checked afterwards; on any doubt or any
 * error in a piece the file is parsed whole (which also gives the error its
 * exact text). A test (tests/unit/compose/test_yaml_split.c) and a fuzz
 * harness compare both ways. Refused up front: a BOM, NUL or CR, document
 * markers or directives, a services block not in block style, anything in it
 * that looks like an anchor, alias or merge key at service level. */

#define SPLIT_MIN_BYTES (256u << 10)

size_t compose_yaml_split_min = SPLIT_MIN_BYTES;
size_t compose_yaml_splits;

struct split_plan {
	size_t split, end; /* B is data[split, end) */
	int indent;        /* columns before a service key */
	int split_line;    /* 0-based line of data[split] */
	int b_lines;       /* lines in B */
	int suffix_line;   /* 1-based line of data[end], 0 when end == len */
};

static bool key_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool anchor_char(char c)
{
	return key_start(c) || c == '-' || c == '.';
}

static int count_lines(const char *from, const char *to)
{
	int n = 0;
	for (const char *q = from; (q = memchr(q, '\n', (size_t)(to - q))); q++)
		n++;
	return n;
}

/* "services:" at column 0, then only blanks or a comment. */
static bool services_line(const char *p, const char *eol)
{
	if ((size_t)(eol - p) < 9 || memcmp(p, "services:", 9))
		return false;
	for (p += 9; p < eol && *p == ' '; p++)
		;
	return p == eol || *p == '#';
}

static bool find_split(const char *d, size_t len, struct split_plan *sp)
{
	if (len < compose_yaml_split_min || len < 2)
		return false;
	unsigned char c0 = (unsigned char)d[0];
	if (c0 == 0xef || c0 == 0xfe || c0 == 0xff || !d[0] || !d[1])
		return false;
	if (memchr(d, '\r', len) || memchr(d, '\0', len))
		return false;
	const char *end = d + len, *p = d, *first = NULL, *stop = NULL;
	int line = 0, first_line = 0, indent = -1;
	bool in_services = false;
	/* line by line: find the services block [first, stop) */
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (*p == '%' || ((eol - p) >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)) &&
				  (eol - p == 3 || p[3] == ' ' || p[3] == '\t')))
			return false;
		if (!in_services) {
			if (!first && services_line(p, eol))
				in_services = true;
		} else if (*p != ' ' && *p != '#' && p != eol) {
			stop = p;
			break;
		} else if (!first) {
			const char *q = p;
			while (q < eol && *q == ' ')
				q++;
			if (q < eol && *q != '#') {
				if (q == p || !key_start(*q))
					return false;
				first = p;
				first_line = line;
				indent = (int)(q - p);
			}
		}
		line++;
		p = eol < end ? eol + 1 : end;
	}
	if (!first)
		return false;
	if (!stop)
		stop = end;
	/* nothing anchor-, alias- or merge-like in the block */
	static const char marks[] = {'&', '*', '<'};
	for (size_t m = 0; m < sizeof(marks); m++) {
		for (const char *q = first; (q = memchr(q, marks[m], (size_t)(stop - q))); q++) {
			if (q + 1 >= stop)
				break;
			if (marks[m] == '<' ? q[1] == '<'
					    : anchor_char(q[1]) && (q[-1] == ' ' || q[-1] == '[' || q[-1] == '{' ||
								    q[-1] == ',' || q[-1] == '\n'))
				return false;
		}
	}
	/* the first line at the middle or after that starts a service key */
	const char *mid = first + (stop - first) / 2;
	p = memchr(mid, '\n', (size_t)(stop - mid));
	while (p && p + 1 < stop) {
		p++;
		int k = 0;
		while (p + k < stop && p[k] == ' ')
			k++;
		if (k == indent && p + k < stop && key_start(p[k]))
			break;
		p = memchr(p, '\n', (size_t)(stop - p));
	}
	if (!p || p + 1 >= stop || p <= first)
		return false;
	sp->split = (size_t)(p - d);
	sp->end = (size_t)(stop - d);
	sp->indent = indent;
	sp->split_line = first_line + count_lines(first, p);
	sp->b_lines = count_lines(p, stop);
	sp->suffix_line = stop < end ? sp->split_line + sp->b_lines + 1 : 0;
	return true;
}

struct piece {
	struct loader l;
	struct event_source src;
	const char *data;
	size_t len;
	struct node *docs;
	struct berth_error err;
	int rc;
};

static void piece_run(struct piece *pc)
{
	pc->l.err = &pc->err;
	pc->docs = node_new(pc->l.a, NODE_SEQ, NULL);
	source_open(&pc->src, pc->data, pc->len, false);
	pc->rc = build_tree(&pc->l, &pc->src, pc->data, pc->len, true, pc->docs);
	source_close(&pc->src);
	loader_release(&pc->l);
}

static void *piece_main(void *arg)
{
	piece_run(arg);
	return NULL;
}

/* The services map of a piece-A document, if it is where the plan says. */
static struct node *services_of(struct node *docs, const struct split_plan *sp)
{
	if (docs->nr != 1 || docs->items[0]->kind != NODE_MAP)
		return NULL;
	struct node *root = docs->items[0];
	struct node_kv *kv = node_map_find(root, "services");
	if (!kv || kv->key->col != 1 || kv->value->kind != NODE_MAP || kv->value->col != sp->indent + 1)
		return NULL;
	if (sp->suffix_line) {
		/* the text after the block must begin with a top-level key of A */
		bool found = false;
		for (size_t i = 0; i < root->nr && !found; i++)
			found = root->kvs[i].key->line == sp->suffix_line && root->kvs[i].key->col == 1;
		if (!found)
			return NULL;
	}
	return kv->value;
}

/* 1: *out is the parse; 0: not split (or the pieces disagree), parse whole. */
static int parse_split(struct node **out, struct arena *a, const char *file, const char *data, size_t len)
{
	struct split_plan sp;
	if (!find_split(data, len, &sp))
		return 0;
	struct strbuf abuf = STRBUF_INIT;
	strbuf_add(&abuf, data, sp.split);
	strbuf_add(&abuf, data + sp.end, len - sp.end);

	struct piece pa = {.data = abuf.buf, .len = abuf.len, .err = BERTH_ERROR_INIT};
	struct piece pb = {.data = data + sp.split, .len = sp.end - sp.split, .err = BERTH_ERROR_INIT};
	struct arena barena = ARENA_INIT;
	pa.l = (struct loader){.a = a, .file = file, .max_depth = YAML_MAX_DEPTH};
	if (sp.suffix_line) {
		pa.l.shift_from = sp.split_line;
		pa.l.shift = sp.b_lines;
	}
	/* B's root is the services map, one level down in the whole file */
	pb.l = (struct loader){.a = &barena, .file = file, .max_depth = YAML_MAX_DEPTH - 1, .base_line = sp.split_line};

	struct bg_call call;
	bg_call_start(&call, piece_main, &pb);
	piece_run(&pa);
	bg_call_wait(&call);

	int ok = 0;
	struct node *svcs = NULL, *broot = NULL;
	if (!pa.rc && !pb.rc && !(sp.suffix_line && pa.l.last_alias_line > sp.split_line) &&
	    pa.l.alias_nodes + pb.l.alias_nodes <= YAML_MAX_ALIAS_NODES && pb.docs->nr == 1)
		svcs = services_of(pa.docs, &sp);
	if (svcs)
		broot = pb.docs->items[0];
	if (broot && broot->kind == NODE_MAP && broot->nr && broot->line == sp.split_line + 1 &&
	    broot->col == sp.indent + 1 && broot->tag == NODE_TAG_NONE) {
		ok = 1;
		for (size_t i = 0; i < broot->nr && ok; i++)
			ok = !node_map_find(svcs, broot->kvs[i].key->str);
	}
	if (ok) {
		arena_adopt(a, &barena);
		node_rehome(broot, a);
		for (size_t i = 0; i < broot->nr; i++)
			node_map_set_kv(a, svcs, broot->kvs[i].key, broot->kvs[i].value);
		*out = pa.docs;
		__atomic_add_fetch(&compose_yaml_splits, 1, __ATOMIC_RELAXED);
	}
	arena_release(&barena);
	berth_error_release(&pa.err);
	berth_error_release(&pb.err);
	strbuf_release(&abuf);
	return ok;
}

static int parse_stream(struct node **out, struct arena *a, const char *label, const char *data, size_t len,
			struct berth_error *err, bool all)
{
	const char *file = arena_strdup(a, label);
	if (len > YAML_MAX_BYTES)
		return berth_error_set_at(err, BERTH_E_LIMIT, file, 0, 0, NULL, "file is larger than the %u MiB limit",
					  YAML_MAX_BYTES >> 20);
	struct node *docs = NULL;
	if (parse_split(&docs, a, file, data, len)) {
		*out = all ? docs : docs->items[0];
		return 0;
	}

	struct loader l = {.a = a, .err = err, .file = file, .max_depth = YAML_MAX_DEPTH};
	struct event_source src;
	docs = node_new(a, NODE_SEQ, NULL);
	source_open(&src, data, len, true);
	int rc = build_tree(&l, &src, data, len, all, docs);
	source_close(&src);
	loader_release(&l);
	if (rc)
		return rc;
	if (!docs->nr) {
		struct node *empty = node_new(a, NODE_NULL, NULL);
		empty->file = file;
		empty->line = empty->col = 1;
		node_seq_push(a, docs, empty);
	}
	*out = all ? docs : docs->items[0];
	return 0;
}

int compose_yaml_parse(struct node **out, struct arena *a, const char *label, const char *data, size_t len,
		       struct berth_error *err)
{
	return parse_stream(out, a, label, data, len, err, false);
}

int compose_yaml_parse_docs(struct node **out, struct arena *a, const char *label, const char *data, size_t len,
			    struct berth_error *err)
{
	return parse_stream(out, a, label, data, len, err, true);
}

int read_file_capped(struct strbuf *out, const char *path, size_t cap, struct berth_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_set(err, errno == ENOENT ? BERTH_E_NOTFOUND : BERTH_E_IO, "cannot open \"%s\": %s",
				       path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return berth_error_set(err, BERTH_E_IO, "\"%s\" is a directory, not a file", path);
	for (;;) {
		strbuf_grow(out, 65536);
		ssize_t n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berth_error_set(err, BERTH_E_IO, "cannot read \"%s\": %s", path, strerror(errno));
		}
		if (n == 0)
			break;
		strbuf_setlen(out, out->len + (size_t)n);
		if (out->len > cap)
			return berth_error_set(err, BERTH_E_LIMIT, "\"%s\" is larger than the %zu MiB limit", path,
					       cap >> 20);
	}
	return 0;
}

int compose_yaml_load_file_docs(struct node **out, struct arena *a, const char *path, const char *label,
				struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = read_file_capped(&sb, path, YAML_MAX_BYTES, err);
	if (!rc)
		rc = compose_yaml_parse_docs(out, a, label, sb.buf, sb.len, err);
	strbuf_release(&sb);
	return rc;
}

int compose_yaml_load_file(struct node **out, struct arena *a, const char *path, const char *label,
			   struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = read_file_capped(&sb, path, YAML_MAX_BYTES, err);
	if (!rc)
		rc = compose_yaml_parse(out, a, label, sb.buf, sb.len, err);
	strbuf_release(&sb);
	return rc;
}
