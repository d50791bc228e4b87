#include "compose/emit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/bgcall.h"
#include "common/error.h"
#include "common/parse.h"
#include "common/strbuf.h"
#include "compose/node.h"
#include "compose/schema.h"
#include "common/banned.h"

/* How a node is laid out: an object with a key table, a map whose values
 * (or a list whose items) are such objects, or a plain map with sorted keys. */
enum shape_kind { SH_NONE, SH_OBJ, SH_MAP_OF, SH_LIST_OF, SH_SORTED };
struct shape {
	enum shape_kind kind;
	const struct key_spec *table;
};

static struct shape shape_of(const struct key_spec *spec)
{
	struct shape s = {SH_NONE, NULL};
	if (!spec)
		return s;
	switch (spec->type) {
	case KT_OBJ:
		s.kind = SH_OBJ;
		s.table = spec->sub;
		break;
	case KT_MAP_OBJ:
		s.kind = SH_MAP_OF;
		s.table = spec->sub;
		break;
	case KT_LIST_OBJ:
		s.kind = SH_LIST_OF;
		s.table = spec->sub;
		break;
	case KT_KV:
	case KT_ENV:
	case KT_ANY: s.kind = SH_SORTED; break;
	case KT_SPECIAL:
		switch (spec->special) {
		case SP_PORTS:
		case SP_SERVICE_VOLUMES:
		case SP_SERVICE_SECRETS:
		case SP_SERVICE_CONFIGS:
		case SP_BUILD_SECRETS:
		case SP_ENV_FILE:
		case SP_INCLUDE:
		case SP_DEVICES:
		case SP_GPUS:
			s.kind = SH_LIST_OF;
			s.table = spec->sub;
			break;
		case SP_DEPENDS_ON:
		case SP_SERVICE_NETWORKS:
		case SP_ULIMITS:
		case SP_MODELS:
			s.kind = SH_MAP_OF;
			s.table = spec->sub;
			break;
		case SP_BUILD:
		case SP_EXTENDS:
			s.kind = SH_OBJ;
			s.table = spec->sub;
			break;
		default:
			s.kind = spec->sub ? SH_OBJ : SH_SORTED;
			s.table = spec->sub;
			break;
		}
		break;
	default: break;
	}
	return s;
}

/* One entry of a map as printed: its spec (or NULL) and its rank in the
 * key table, looked up once per entry. */
struct entry {
	const struct node_kv *kv;
	const struct key_spec *spec;
	size_t rank;
};

struct ordered {
	struct entry *e;
	size_t nr;
	struct entry small[24]; /* most maps fit: no allocation */
};

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return strcmp(a->kv->key->str, b->kv->key->str);
}

/* Entries of a map in print order: by the key table when there is one (then
 * x- keys by name), else by name; keep leaves the map's own order. */
static void order_map(struct ordered *o, const struct node *m, const struct key_spec *table, bool keep)
{
	o->nr = m->nr;
	o->e = m->nr <= sizeof(o->small) / sizeof(o->small[0]) ? o->small : xcalloc(m->nr, sizeof(*o->e));
	for (size_t i = 0; i < m->nr; i++) {
		o->e[i].kv = &m->kvs[i];
		o->e[i].spec = table ? schema_find(table, m->kvs[i].key->str) : NULL;
		o->e[i].rank = o->e[i].spec ? (size_t)(o->e[i].spec - table) : (size_t)-1;
	}
	if (keep || o->nr < 2)
		return;
	if (o->e != o->small) {
		qsort(o->e, o->nr, sizeof(*o->e), entry_cmp);
		return;
	}
	for (size_t i = 1; i < o->nr; i++) { /* insertion sort: maps here are small */
		struct entry x = o->e[i];
		size_t j = i;
		while (j && entry_cmp(&o->e[j - 1], &x) > 0) {
			o->e[j] = o->e[j - 1];
			j--;
		}
		o->e[j] = x;
	}
}

static void ordered_release(struct ordered *o)
{
	if (o->e != o->small)
		free(o->e);
}

static struct shape child_shape(struct shape parent, const struct entry *e)
{
	struct shape none = {SH_NONE, NULL};
	const char *key = e->kv->key->str;
	switch (parent.kind) {
	case SH_OBJ:
		if (!strncmp(key, "x-", 2))
			return (struct shape){SH_SORTED, NULL};
		return shape_of(e->spec);
	case SH_MAP_OF: return (struct shape){SH_OBJ, parent.table};
	case SH_SORTED: return (struct shape){SH_SORTED, NULL};
	default: return none;
	}
}

static void add_string(struct strbuf *out, const char *s, size_t len, const struct emit_options *o)
{
	if (o->escape_dollar && memchr(s, '$', len)) {
		struct strbuf t = STRBUF_INIT;
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '$')
				strbuf_addch(&t, '$');
			strbuf_addch(&t, s[i]);
		}
		strbuf_add_json_string(out, t.buf, t.len);
		strbuf_release(&t);
		return;
	}
	strbuf_add_json_string(out, s, len);
}

/* compose-go's structs mark most fields omitempty: a false boolean or an
 * empty string of a known key is not printed (depends_on's "required" is
 * the exception: it is always printed). */
static bool omitted(struct shape parent, const struct entry *e)
{
	if (parent.kind != SH_OBJ || !parent.table)
		return false;
	const struct key_spec *spec = e->spec;
	const struct node_kv *kv = e->kv;
	if (!spec)
		return false;
	const struct node *v = kv->value;
	if (v->kind == NODE_BOOL && !v->v.b)
		return strcmp(kv->key->str, "required") != 0;
	if (v->kind == NODE_STR && !v->len && spec->type == KT_STR)
		return true;
	return false;
}

static void indent(struct strbuf *out, int level)
{
	static const char spaces[] = "                                                                ";
	size_t n = (size_t)level * 2;
	while (n > sizeof(spaces) - 1) {
		strbuf_add(out, spaces, sizeof(spaces) - 1);
		n -= sizeof(spaces) - 1;
	}
	strbuf_add(out, spaces, n);
}

static void json_scalar(struct strbuf *out, const struct node *n, const struct emit_options *o)
{
	switch (n->kind) {
	case NODE_NULL: strbuf_addstr(out, "null"); break;
	case NODE_BOOL: strbuf_addstr(out, n->v.b ? "true" : "false"); break;
	case NODE_INT: strbuf_addf(out, "%lld", (long long)n->v.i); break;
	case NODE_FLOAT: format_double(out, n->v.f); break;
	case NODE_STR: add_string(out, n->str, n->len, o); break;
	default: BUG("json_scalar on a collection");
	}
}

size_t compose_emit_json_split_min = 256;

struct json_part {
	const struct ordered *ord;
	size_t from, to;
	struct shape sh;
	int level;
	const struct emit_options *o;
	struct strbuf out;
};

static void json_entries(struct strbuf *out, const struct ordered *ord, size_t from, size_t to, struct shape sh,
			 int level, const struct emit_options *o);
static void *json_part_main(void *arg);

static void json_value(struct strbuf *out, const struct node *n, struct shape sh, int level,
		       const struct emit_options *o)
{
	if (n->kind == NODE_SEQ) {
		if (!n->nr) {
			strbuf_addstr(out, "[]");
			return;
		}
		struct shape item =
			sh.kind == SH_LIST_OF ? (struct shape){SH_OBJ, sh.table} : (struct shape){SH_SORTED, NULL};
		strbuf_addstr(out, "[\n");
		for (size_t i = 0; i < n->nr; i++) {
			indent(out, level + 1);
			json_value(out, n->items[i], item, level + 1, o);
			strbuf_addstr(out, i + 1 < n->nr ? ",\n" : "\n");
		}
		indent(out, level);
		strbuf_addch(out, ']');
		return;
	}
	if (n->kind != NODE_MAP) {
		json_scalar(out, n, o);
		return;
	}
	if (!n->nr) {
		strbuf_addstr(out, "{}");
		return;
	}
	struct ordered ord;
	order_map(&ord, n, sh.kind == SH_OBJ ? sh.table : NULL, sh.kind == SH_NONE && level == 0);
	size_t w = 0;
	/* extensions below the top level are json:"-" in compose-go's structs */
	for (size_t i = 0; i < ord.nr; i++)
		if (!omitted(sh, &ord.e[i]) && !(sh.kind == SH_OBJ && !strncmp(ord.e[i].kv->key->str, "x-", 2)))
			ord.e[w++] = ord.e[i];
	ord.nr = w;
	if (!ord.nr) {
		ordered_release(&ord);
		strbuf_addstr(out, "{}");
		return;
	}
	strbuf_addstr(out, "{\n");
	/* A big project's services are printed by two threads, each into its
	 * own buffer: printing reads the tree only (schema_find is thread-safe). */
	struct json_part part = {.ord = &ord, .sh = sh, .level = level, .o = o, .out = STRBUF_INIT};
	size_t cut = level == 1 && ord.nr >= compose_emit_json_split_min && ord.nr >= 2 ? ord.nr / 2 : ord.nr;
	struct bg_call call;
	if (cut < ord.nr) {
		part.from = cut;
		part.to = ord.nr;
		bg_call_start(&call, json_part_main, &part);
	}
	json_entries(out, &ord, 0, cut, sh, level, o);
	if (cut < ord.nr) {
		bg_call_wait(&call);
		strbuf_add(out, part.out.buf, part.out.len);
		strbuf_release(&part.out);
	}
	ordered_release(&ord);
	indent(out, level);
	strbuf_addch(out, '}');
}

static void json_entries(struct strbuf *out, const struct ordered *ord, size_t from, size_t to, struct shape sh,
			 int level, const struct emit_options *o)
{
	for (size_t i = from; i < to; i++) {
		indent(out, level + 1);
		add_string(out, ord->e[i].kv->key->str, ord->e[i].kv->key->len, o);
		strbuf_addstr(out, ": ");
		json_value(out, ord->e[i].kv->value, child_shape(sh, &ord->e[i]), level + 1, o);
		strbuf_addstr(out, i + 1 < ord->nr ? ",\n" : "\n");
	}
}

static void *json_part_main(void *arg)
{
	struct json_part *p = arg;
	json_entries(&p->out, p->ord, p->from, p->to, p->sh, p->level, p->o);
	return NULL;
}

/* The top level keeps the order the loader gave it (name, services, ...). */
static struct shape top_child(const char *key)
{
	if (!strncmp(key, "x-", 2))
		return (struct shape){SH_SORTED, NULL};
	return shape_of(schema_find(schema_top, key));
}

void compose_emit_json(struct strbuf *out, const struct node *model, const struct emit_options *o)
{
	strbuf_addstr(out, "{\n");
	for (size_t i = 0; i < model->nr; i++) {
		indent(out, 1);
		add_string(out, model->kvs[i].key->str, model->kvs[i].key->len, o);
		strbuf_addstr(out, ": ");
		json_value(out, model->kvs[i].value, top_child(model->kvs[i].key->str), 1, o);
		strbuf_addstr(out, i + 1 < model->nr ? ",\n" : "\n");
	}
	strbuf_addstr(out, "}\n");
}

/* ---- YAML -------------------------------------------------------------- */

static bool yaml_plain_ok(const char *s, size_t len)
{
	if (!len)
		return false;
	if (strlen(s) != len)
		return false;
	struct node probe = {0};
	probe.str = (char *)s;
	probe.len = len;
	node_resolve_plain(&probe);
	if (probe.kind != NODE_STR)
		return false;
	/* words YAML 1.1 readers take as booleans or merge keys stay quoted, as yaml.v3 does */
	static const char *const yaml11[] = {"y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no", "No",
					     "NO", "on", "On",  "ON",  "off", "Off", "OFF", "<<", "="};
	for (size_t i = 0; i < sizeof(yaml11) / sizeof(yaml11[0]); i++)
		if (!strcmp(s, yaml11[i]))
			return false;
	/* YAML 1.1 base-60 numbers such as 1:20 */
	{
		const char *p = s;
		bool sexagesimal = isdigit((unsigned char)*p);
		while (isdigit((unsigned char)*p))
			p++;
		if (*p != ':')
			sexagesimal = false;
		while (sexagesimal && *p == ':') {
			p++;
			if (!isdigit((unsigned char)*p) || (*p > '5' && isdigit((unsigned char)p[1])))
				sexagesimal = false;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (sexagesimal && !*p)
			return false;
	}
	/* an indicator first is only plain for "-x", "?x", ":x" (not followed by a space) */
	if (strchr("?:-", s[0]) && len > 1 && s[1] != ' ')
		;
	else if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]))
		return false;
	if (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == ':')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == ':' && (s[i + 1] == ' ' || s[i + 1] == '\0'))
			return false;
		if (c == '#' && i && s[i - 1] == ' ')
			return false;
	}
	return true;
}

static void yaml_string(struct strbuf *out, const char *s, size_t len, const struct emit_options *o)
{
	struct strbuf t = STRBUF_INIT;
	if (o->escape_dollar && memchr(s, '$', len)) {
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '$')
				strbuf_addch(&t, '$');
			strbuf_addch(&t, s[i]);
		}
		s = t.buf;
		len = t.len;
	}
	if (yaml_plain_ok(s, len)) {
		strbuf_add(out, s, len);
	} else {
		/* JSON string syntax is valid YAML double-quoted syntax */
		strbuf_add_json_string(out, s, len);
	}
	strbuf_release(&t);
}

static void yaml_scalar(struct strbuf *out, const struct node *n, const struct emit_options *o)
{
	if (n->kind == NODE_STR)
		yaml_string(out, n->str, n->len, o);
	else
		json_scalar(out, n, o);
}

static bool yaml_inline(const struct node *n)
{
	return node_is_scalar(n) || !n->nr;
}

static void yaml_value(struct strbuf *out, const struct node *n, struct shape sh, int level,
		       const struct emit_options *o);

static void yaml_inline_value(struct strbuf *out, const struct node *n, const struct emit_options *o)
{
	if (n->kind == NODE_SEQ)
		strbuf_addstr(out, "[]");
	else if (n->kind == NODE_MAP)
		strbuf_addstr(out, "{}");
	else
		yaml_scalar(out, n, o);
}

static void yaml_map_entries(struct strbuf *out, const struct node *n, struct shape sh, int level,
			     const struct emit_options *o, bool first_inline)
{
	struct ordered ord;
	order_map(&ord, n, sh.kind == SH_OBJ ? sh.table : NULL, false);
	size_t w = 0;
	for (size_t i = 0; i < ord.nr; i++)
		if (!omitted(sh, &ord.e[i]))
			ord.e[w++] = ord.e[i];
	ord.nr = w;
	if (!ord.nr && first_inline)
		strbuf_addstr(out, "{}\n");
	for (size_t i = 0; i < ord.nr; i++) {
		if (i || !first_inline)
			indent(out, level);
		yaml_string(out, ord.e[i].kv->key->str, ord.e[i].kv->key->len, o);
		strbuf_addch(out, ':');
		const struct node *v = ord.e[i].kv->value;
		if (yaml_inline(v)) {
			strbuf_addch(out, ' ');
			yaml_inline_value(out, v, o);
			strbuf_addch(out, '\n');
		} else {
			strbuf_addch(out, '\n');
			yaml_value(out, v, child_shape(sh, &ord.e[i]), level + 1, o);
		}
	}
	ordered_release(&ord);
}

static void yaml_value(struct strbuf *out, const struct node *n, struct shape sh, int level,
		       const struct emit_options *o)
{
	if (n->kind == NODE_MAP) {
		yaml_map_entries(out, n, sh, level, o, false);
		return;
	}
	if (n->kind != NODE_SEQ) {
		indent(out, level);
		yaml_scalar(out, n, o);
		strbuf_addch(out, '\n');
		return;
	}
	struct shape item = sh.kind == SH_LIST_OF ? (struct shape){SH_OBJ, sh.table} : (struct shape){SH_SORTED, NULL};
	for (size_t i = 0; i < n->nr; i++) {
		const struct node *it = n->items[i];
		indent(out, level);
		strbuf_addstr(out, "- ");
		if (yaml_inline(it)) {
			yaml_inline_value(out, it, o);
			strbuf_addch(out, '\n');
		} else if (it->kind == NODE_MAP) {
			yaml_map_entries(out, it, item, level + 1, o, true);
		} else {
			strbuf_addch(out, '\n');
			yaml_value(out, it, item, level + 1, o);
		}
	}
}

void compose_emit_yaml(struct strbuf *out, const struct node *model, const struct emit_options *o)
{
	for (size_t i = 0; i < model->nr; i++) {
		const struct node *v = model->kvs[i].value;
		yaml_string(out, model->kvs[i].key->str, model->kvs[i].key->len, o);
		strbuf_addch(out, ':');
		if (yaml_inline(v)) {
			strbuf_addch(out, ' ');
			yaml_inline_value(out, v, o);
			strbuf_addch(out, '\n');
		} else {
			strbuf_addch(out, '\n');
			yaml_value(out, v, top_child(model->kvs[i].key->str), 1, o);
		}
	}
}
