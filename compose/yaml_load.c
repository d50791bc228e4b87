#include "compose/yaml_load.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

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
};

static void set_pos(struct loader *l, struct node *n, const yaml_mark_t *m)
{
	n->file = l->file;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
}

static int fail_at(struct loader *l, const yaml_mark_t *m, const char *msg, const char *arg)
{
	return berth_error_set_at(l->err, BERTH_E_PARSE, l->file, (int)m->line + 1, (int)m->column + 1, NULL,
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
	if (l->depth >= YAML_MAX_DEPTH)
		return berth_error_set_at(l->err, BERTH_E_LIMIT, l->file, (int)mark->line + 1, (int)mark->column + 1,
					  NULL, "yaml: nesting deeper than %d levels", YAML_MAX_DEPTH);
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
	for (size_t i = l->anchors_nr; i-- > 0;) {
		if (strcmp(l->anchors[i].name, name))
			continue;
		l->alias_nodes += l->anchors[i].count;
		if (l->alias_nodes > YAML_MAX_ALIAS_NODES)
			return berth_error_set_at(l->err, BERTH_E_LIMIT, l->file, (int)ev->start_mark.line + 1,
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

static void source_open(struct event_source *s, const char *data, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->data = data;
	s->len = len;
	if (!yaml_parser_initialize(&s->parser))
		BUG("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&s->parser, (const unsigned char *)data, len);
	if (len < THREADED_MIN_BYTES)
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

static int parse_stream(struct node **out, struct arena *a, const char *label, const char *data, size_t len,
			struct berth_error *err, bool all)
{
	struct loader l = {.a = a, .err = err};
	struct node *docs = node_new(a, NODE_SEQ, NULL);
	struct event_source src;
	struct yaml_failure failure;
	yaml_event_t ev;
	int rc = 0;
	bool done = false;

	l.file = arena_strdup(a, label);
	if (len > YAML_MAX_BYTES)
		return berth_error_set_at(err, BERTH_E_LIMIT, l.file, 0, 0, NULL,
					  "file is larger than the %u MiB limit", YAML_MAX_BYTES >> 20);
	source_open(&src, data, len);

	while (!done && !rc) {
		if (!source_next(&src, &ev, &failure)) {
			rc = parse_error(&l, &failure, data, len);
			break;
		}
		switch (ev.type) {
		case YAML_SCALAR_EVENT: rc = on_scalar(&l, &ev); break;
		case YAML_ALIAS_EVENT: rc = on_alias(&l, &ev); break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			bool seq = ev.type == YAML_SEQUENCE_START_EVENT;
			struct node *n = node_new(a, seq ? NODE_SEQ : NODE_MAP, NULL);
			set_pos(&l, n, &ev.start_mark);
			n->tag = (unsigned char)tag_of(seq ? ev.data.sequence_start.tag : ev.data.mapping_start.tag);
			rc = push(&l, n, seq ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor,
				  &ev.start_mark);
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: rc = pop(&l, &ev.start_mark); break;
		case YAML_DOCUMENT_START_EVENT:
			/* anchors belong to their document */
			for (size_t i = 0; i < l.anchors_nr; i++)
				free(l.anchors[i].name);
			l.anchors_nr = 0;
			l.alias_nodes = 0;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (!l.root) {
				l.root = node_new(a, NODE_NULL, NULL);
				l.root->file = l.file;
				l.root->line = (int)ev.start_mark.line + 1;
				l.root->col = 1;
			}
			node_seq_push(a, docs, l.root);
			l.root = NULL;
			done = !all;
			break;
		case YAML_STREAM_END_EVENT: done = true; break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	source_close(&src);
	for (size_t i = 0; i < l.depth; i++) {
		free(l.stack[i].merges);
		free(l.stack[i].anchor);
	}
	free(l.stack);
	for (size_t i = 0; i < l.anchors_nr; i++)
		free(l.anchors[i].name);
	free(l.anchors);
	if (rc)
		return rc;
	if (!docs->nr) {
		struct node *empty = node_new(a, NODE_NULL, NULL);
		empty->file = l.file;
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
