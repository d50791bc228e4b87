#include "compose/node.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/parse.h"
#include "common/strbuf.h"
#include "common/banned.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

#define ARENA_CHUNK 65536

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct arena_chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t sz = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + sz);
		c->size = sz;
		c->used = 0;
		if (n > ARENA_CHUNK / 4 && a->head) {
			/* keep the current chunk in front: it still has room */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	a->used_bytes += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_strfmt(struct arena *a, const char *fmt, ...)
{
	/* most results are short: format on the stack, fall back to the heap */
	char small[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		BUG("vsnprintf failed for format %s", fmt);
	if ((size_t)n < sizeof(small))
		return arena_strndup(a, small, (size_t)n);
	char *r = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(r, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return r;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used_bytes = 0;
}

void arena_adopt(struct arena *dst, struct arena *src)
{
	if (!src->head)
		return;
	/* src's chunks go behind dst's first one, which keeps serving allocations */
	struct arena_chunk *tail = src->head;
	while (tail->next)
		tail = tail->next;
	if (dst->head) {
		tail->next = dst->head->next;
		dst->head->next = src->head;
	} else {
		dst->head = src->head;
	}
	dst->used_bytes += src->used_bytes;
	src->head = NULL;
	src->used_bytes = 0;
}

void node_rehome(struct node *n, struct arena *a)
{
	if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->nr; i++)
			node_rehome(n->items[i], a);
	} else if (n->kind == NODE_MAP) {
		n->idx_arena = a;
		for (size_t i = 0; i < n->nr; i++)
			node_rehome(n->kvs[i].value, a);
	}
}

struct node *node_new(struct arena *a, enum node_kind kind, const struct node *pos_from)
{
	struct node *n = arena_alloc(a, sizeof(*n));
	n->kind = kind;
	if (pos_from) {
		n->file = pos_from->file;
		n->line = pos_from->line;
		n->col = pos_from->col;
	}
	return n;
}

struct node *node_new_strn(struct arena *a, const char *s, size_t len, const struct node *pos_from)
{
	struct node *n = node_new(a, NODE_STR, pos_from);
	n->str = arena_strndup(a, s, len);
	n->len = len;
	n->quoted = true;
	return n;
}

struct node *node_new_str(struct arena *a, const char *s, const struct node *pos_from)
{
	return node_new_strn(a, s, strlen(s), pos_from);
}

struct node *node_new_int(struct arena *a, int64_t v, const struct node *pos_from)
{
	struct node *n = node_new(a, NODE_INT, pos_from);
	n->v.i = v;
	n->str = arena_strfmt(a, "%lld", (long long)v);
	n->len = strlen(n->str);
	return n;
}

struct node *node_new_bool(struct arena *a, bool v, const struct node *pos_from)
{
	struct node *n = node_new(a, NODE_BOOL, pos_from);
	n->v.b = v;
	n->str = v ? "true" : "false";
	n->len = strlen(n->str);
	return n;
}

struct node *node_new_float(struct arena *a, double v, const struct node *pos_from)
{
	struct node *n = node_new(a, NODE_FLOAT, pos_from);
	struct strbuf sb = STRBUF_INIT;
	n->v.f = v;
	format_double(&sb, v);
	n->str = arena_strndup(a, sb.buf, sb.len);
	n->len = sb.len;
	strbuf_release(&sb);
	return n;
}

struct node *node_clone(struct arena *a, const struct node *src)
{
	if (!src)
		return NULL;
	struct node *n = arena_alloc(a, sizeof(*n));
	*n = *src;
	n->items = NULL;
	n->kvs = NULL;
	n->alloc = 0;
	n->idx = NULL;
	n->idx_cap = n->idx_nr = 0;
	n->idx_kvs = NULL;
	n->idx_arena = a;
	if (src->kind == NODE_SEQ && src->nr) {
		n->items = arena_alloc(a, src->nr * sizeof(*n->items));
		n->alloc = src->nr;
		for (size_t i = 0; i < src->nr; i++)
			n->items[i] = node_clone(a, src->items[i]);
	} else if (src->kind == NODE_MAP && src->nr) {
		n->kvs = arena_alloc(a, src->nr * sizeof(*n->kvs));
		n->alloc = src->nr;
		for (size_t i = 0; i < src->nr; i++) {
			n->kvs[i].key = src->kvs[i].key; /* keys are never mutated in place */
			n->kvs[i].value = node_clone(a, src->kvs[i].value);
		}
	}
	return n;
}

static void *arena_grow(struct arena *a, void *arr, size_t elsz, size_t need, size_t *alloc)
{
	if (need <= *alloc)
		return arr;
	size_t n = *alloc ? *alloc * 2 : 4;
	while (n < need)
		n *= 2;
	void *p = arena_alloc(a, n * elsz);
	if (arr)
		memcpy(p, arr, *alloc * elsz);
	*alloc = n;
	return p;
}

void node_seq_push(struct arena *a, struct node *seq, struct node *item)
{
	seq->items = arena_grow(a, seq->items, sizeof(*seq->items), seq->nr + 1, &seq->alloc);
	seq->items[seq->nr++] = item;
}

/* Maps up to this size are searched linearly; larger ones get a hash index. */
#define MAP_INDEX_MIN 16

static uint32_t key_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

void node_map_invalidate(struct node *map)
{
	map->idx_nr = 0;
	map->idx_kvs = NULL;
}

static void index_insert(struct node *map, size_t pos)
{
	uint32_t mask = map->idx_cap - 1;
	uint32_t h = key_hash(map->kvs[pos].key->str) & mask;
	while (map->idx[h])
		h = (h + 1) & mask;
	map->idx[h] = (uint32_t)pos + 1;
}

static void index_build(struct node *map)
{
	uint32_t cap = 64;
	while (cap < map->nr * 2)
		cap *= 2;
	if (cap != map->idx_cap || !map->idx)
		map->idx = arena_alloc(map->idx_arena, cap * sizeof(*map->idx));
	else
		memset(map->idx, 0, cap * sizeof(*map->idx));
	map->idx_cap = cap;
	for (size_t i = 0; i < map->nr; i++)
		index_insert(map, i);
	map->idx_nr = (uint32_t)map->nr;
	map->idx_kvs = map->kvs;
}

struct node_kv *node_map_find(const struct node *cmap, const char *key)
{
	if (!cmap || cmap->kind != NODE_MAP)
		return NULL;
	if (cmap->nr <= MAP_INDEX_MIN || !cmap->idx_arena) {
		/* most keys differ in the first byte: skip the call for them */
		for (size_t i = 0; i < cmap->nr; i++) {
			const char *k = cmap->kvs[i].key->str;
			if (k[0] == key[0] && !strcmp(k, key))
				return &cmap->kvs[i];
		}
		return NULL;
	}
	/* the index is a cache: rebuilding it does not change the map's contents */
	struct node *map = (struct node *)cmap;
	if (map->idx_nr != map->nr || map->idx_kvs != map->kvs)
		index_build(map);
	uint32_t mask = map->idx_cap - 1;
	for (uint32_t h = key_hash(key) & mask; map->idx[h]; h = (h + 1) & mask) {
		struct node_kv *kv = &map->kvs[map->idx[h] - 1];
		if (!strcmp(kv->key->str, key))
			return kv;
	}
	return NULL;
}

struct node *node_map_get(const struct node *map, const char *key)
{
	struct node_kv *kv = node_map_find(map, key);
	return kv ? kv->value : NULL;
}

void node_map_set_kv(struct arena *a, struct node *map, struct node *key, struct node *value)
{
	struct node_kv *kv = node_map_find(map, key->str);
	if (kv) {
		kv->value = value;
		return;
	}
	const struct node_kv *old = map->kvs;
	map->kvs = arena_grow(a, map->kvs, sizeof(*map->kvs), map->nr + 1, &map->alloc);
	map->kvs[map->nr].key = key;
	map->kvs[map->nr].value = value;
	map->nr++;
	map->idx_arena = a;
	if (map->idx && map->idx_nr + 1 == map->nr && map->idx_kvs == old && map->nr * 2 <= map->idx_cap) {
		index_insert(map, map->nr - 1);
		map->idx_nr = (uint32_t)map->nr;
		map->idx_kvs = map->kvs;
	}
}

struct node *node_map_set(struct arena *a, struct node *map, const char *key, struct node *value)
{
	struct node_kv *kv = node_map_find(map, key);
	if (kv) {
		kv->value = value;
		return value;
	}
	node_map_set_kv(a, map, node_new_str(a, key, value), value);
	return value;
}

bool node_map_remove(struct node *map, const char *key)
{
	struct node_kv *kv = node_map_find(map, key);
	if (!kv)
		return false;
	size_t i = (size_t)(kv - map->kvs);
	memmove(&map->kvs[i], &map->kvs[i + 1], (map->nr - i - 1) * sizeof(*map->kvs));
	map->nr--;
	node_map_invalidate(map);
	return true;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct node_kv *x = a, *y = b;
	return strcmp(x->key->str, y->key->str);
}

void node_map_sort(struct node *map)
{
	if (map && map->kind == NODE_MAP && map->nr > 1) {
		qsort(map->kvs, map->nr, sizeof(*map->kvs), kv_cmp);
		node_map_invalidate(map);
	}
}

bool node_is_scalar(const struct node *n)
{
	return n && n->kind != NODE_SEQ && n->kind != NODE_MAP;
}

const char *node_kind_name(enum node_kind k)
{
	switch (k) {
	case NODE_NULL: return "null";
	case NODE_BOOL: return "boolean";
	case NODE_INT: return "integer";
	case NODE_FLOAT: return "number";
	case NODE_STR: return "string";
	case NODE_SEQ: return "array";
	case NODE_MAP: return "object";
	}
	return "?";
}

const char *node_scalar_text(const struct node *n)
{
	if (!node_is_scalar(n))
		return NULL;
	if (n->kind == NODE_NULL)
		return "";
	return n->str ? n->str : "";
}

/* Go's strconv.ParseInt(s, 0, 64): sign, 0x/0o/0b prefixes, a leading 0 means
 * octal, underscores allowed only with a base prefix or leading 0. */
static bool go_parse_int(const char *s, int64_t *out)
{
	const char *p = s;
	bool neg = false;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	int base = 10;
	bool prefixed = false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		prefixed = true;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
		prefixed = true;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
		prefixed = true;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p += 1;
		prefixed = true;
	}
	if (!*p)
		return false;
	uint64_t v = 0;
	bool last_us = prefixed; /* an underscore may follow a base prefix */
	bool any = false;
	for (; *p; p++) {
		if (*p == '_') {
			if (!prefixed || last_us)
				return false;
			last_us = true;
			continue;
		}
		int d;
		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (isxdigit((unsigned char)*p))
			d = tolower((unsigned char)*p) - 'a' + 10;
		else
			return false;
		if (d >= base)
			return false;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
		last_us = false;
		any = true;
	}
	if (!any || last_us)
		return false;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		*out = (int64_t)(0 - v);
	} else {
		if (v > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)v;
	}
	return true;
}

/* yaml.v3's float pattern: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_float_syntax(const char *s)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	} else {
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

void node_resolve_plain(struct node *n)
{
	const char *s = n->str;
	n->kind = NODE_STR;
	/* most plain scalars are words: only these first characters can start
	 * anything but a string */
	if (s && *s && !strchr("+-.0123456789~nNtTfF", s[0]))
		return;
	if (!s || !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")) {
		n->kind = NODE_NULL;
		return;
	}
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		n->kind = NODE_BOOL;
		n->v.b = true;
		return;
	}
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		n->kind = NODE_BOOL;
		n->v.b = false;
		return;
	}
	if (!strchr("+-0123456789.", s[0]))
		return;
	if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF") || !strcmp(s, "+.inf") ||
	    !strcmp(s, "+.Inf") || !strcmp(s, "+.INF")) {
		n->kind = NODE_FLOAT;
		n->v.f = INFINITY;
		return;
	}
	if (!strcmp(s, "-.inf") || !strcmp(s, "-.Inf") || !strcmp(s, "-.INF")) {
		n->kind = NODE_FLOAT;
		n->v.f = -INFINITY;
		return;
	}
	if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
		n->kind = NODE_FLOAT;
		n->v.f = NAN;
		return;
	}
	int64_t iv;
	if (go_parse_int(s, &iv)) {
		n->kind = NODE_INT;
		n->v.i = iv;
		return;
	}
	if (yaml_float_syntax(s)) {
		errno = 0;
		double d = strtod(s, NULL);
		if (errno != ERANGE) {
			n->kind = NODE_FLOAT;
			n->v.f = d;
		}
		return;
	}
}
