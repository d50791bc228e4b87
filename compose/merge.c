#include "compose/merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "compose/canonical.h"
#include "compose/node.h"
#include "compose/schema.h"
#include "common/banned.h"

/* The identity a list entry is de-duplicated by (compose-go's uncity indexers). */
static const char *entry_key(struct arena *a, const struct key_spec *spec, const struct node *n)
{
	if (spec->special == SP_EXTRA_HOSTS && node_is_scalar(n) && !(n->flags & NODE_FLAG_EQ_FORM))
		return scalar_go_text(a, n); /* "host:ip" entries are keyed by their whole text */
	if (node_is_scalar(n)) {
		const char *s = scalar_go_text(a, n);
		const char *eq = strchr(s, '=');
		return eq ? arena_strndup(a, s, (size_t)(eq - s)) : s;
	}
	if (n->kind != NODE_MAP)
		return "";
	switch (spec->special) {
	case SP_PORTS: {
		const struct node *ip = node_map_get(n, "host_ip"), *pub = node_map_get(n, "published");
		const struct node *tgt = node_map_get(n, "target"), *proto = node_map_get(n, "protocol");
		return arena_strfmt(a, "%s:%s:%s/%s", ip ? ip->str : "0.0.0.0", pub ? pub->str : "",
				    tgt ? scalar_go_text(a, tgt) : "", proto ? proto->str : "tcp");
	}
	case SP_SERVICE_VOLUMES: {
		const struct node *t = node_map_get(n, "target");
		return t ? t->str : "";
	}
	case SP_SERVICE_SECRETS:
	case SP_SERVICE_CONFIGS:
	case SP_BUILD_SECRETS: {
		const struct node *t = node_map_get(n, "target"), *s = node_map_get(n, "source");
		return t ? t->str : arena_strfmt(a, "/%s", s ? s->str : "");
	}
	case SP_ENV_FILE: {
		const struct node *p = node_map_get(n, "path");
		return p ? p->str : "";
	}
	default: return NULL; /* maps in other lists are never de-duplicated */
	}
}

/* Appends over's items to base's, then removes duplicates: a later entry
 * replaces the earlier one with the same key, at the earlier position. */
static struct node *append_unique(struct arena *a, const struct key_spec *spec, struct node *base,
				  const struct node *over, bool unique)
{
	struct node *out = node_new(a, NODE_SEQ, base);
	size_t total = base->nr + over->nr;
	const char **keys = calloc(total ? total : 1, sizeof(*keys));
	if (!keys)
		BUG("out of memory");
	for (size_t i = 0; i < total; i++) {
		struct node *it = i < base->nr ? base->items[i] : over->items[i - base->nr];
		const char *k = unique ? entry_key(a, spec, it) : NULL;
		bool replaced = false;
		for (size_t j = 0; k && j < out->nr; j++) {
			if (keys[j] && !strcmp(keys[j], k)) {
				out->items[j] = it;
				replaced = true;
				break;
			}
		}
		if (!replaced) {
			keys[out->nr] = k;
			node_seq_push(a, out, it);
		}
	}
	free(keys);
	return out;
}

static int str_node_cmp(const void *x, const void *y)
{
	return strcmp((*(struct node *const *)x)->str, (*(struct node *const *)y)->str);
}

static struct node *merge_value(struct arena *a, const struct key_spec *spec, struct node *base,
				const struct node *over);

/* Merges map entries key by key (name -> object maps, KV maps). */
static void merge_map_entries(struct arena *a, struct node *base, const struct node *over,
			      const struct key_spec *entry_spec)
{
	for (size_t i = 0; i < over->nr; i++) {
		const char *k = over->kvs[i].key->str;
		struct node *ov = over->kvs[i].value;
		struct node_kv *kv = node_map_find(base, k);
		if (ov->tag == NODE_TAG_RESET) {
			node_map_remove(base, k);
			continue;
		}
		if (!kv || !entry_spec || ov->tag == NODE_TAG_OVERRIDE) {
			node_map_set_kv(a, base, over->kvs[i].key, ov);
			continue;
		}
		kv->value = merge_value(a, entry_spec, kv->value, ov);
	}
}

static struct node *merge_value(struct arena *a, const struct key_spec *spec, struct node *base,
				const struct node *over)
{
	if (over->tag == NODE_TAG_OVERRIDE || spec->merge == KM_REPLACE)
		return (struct node *)over;
	if (over->kind == NODE_NULL)
		return base;
	if (base->kind == NODE_NULL)
		return (struct node *)over;
	switch (spec->type) {
	case KT_KV:
	case KT_ENV:
		if (base->kind == NODE_MAP && over->kind == NODE_MAP) {
			merge_map_entries(a, base, over, NULL);
			return base;
		}
		return (struct node *)over;
	case KT_STRLIST:
	case KT_STR_OR_LIST:
	case KT_LIST_OBJ:
		if (base->kind == NODE_SEQ && over->kind == NODE_SEQ)
			return append_unique(a, spec, base, over, spec->merge == KM_UNIQUE);
		return (struct node *)over;
	case KT_OBJ:
		if (base->kind == NODE_MAP && over->kind == NODE_MAP) {
			if (spec->merge == KM_LOGGING) {
				const struct node *bd = node_map_get(base, "driver"),
						  *od = node_map_get(over, "driver");
				if (bd && od && strcmp(bd->str, od->str))
					return (struct node *)over;
			}
			compose_merge_obj(a, base, over, spec->sub);
			return base;
		}
		return (struct node *)over;
	case KT_MAP_OBJ: {
		static const struct key_spec obj = {"", KT_OBJ, NULL, KM_DEFAULT, 0};
		struct key_spec entry = obj;
		entry.sub = spec->sub;
		if (base->kind == NODE_MAP && over->kind == NODE_MAP) {
			merge_map_entries(a, base, over, &entry);
			return base;
		}
		return (struct node *)over;
	}
	case KT_SPECIAL: break;
	default: return (struct node *)over; /* scalars */
	}
	switch (spec->special) {
	case SP_PORTS:
	case SP_SERVICE_VOLUMES:
	case SP_SERVICE_SECRETS:
	case SP_SERVICE_CONFIGS:
	case SP_BUILD_SECRETS:
	case SP_ENV_FILE:
	case SP_EXPOSE:
	case SP_LABEL_FILE:
	case SP_DEVICES:
	case SP_INCLUDE:
		if (base->kind == NODE_SEQ && over->kind == NODE_SEQ)
			return append_unique(a, spec, base, over, spec->merge == KM_UNIQUE);
		return (struct node *)over;
	case SP_EXTRA_HOSTS: {
		if (base->kind != NODE_SEQ || over->kind != NODE_SEQ)
			return (struct node *)over;
		struct node *m = append_unique(a, spec, base, over, true);
		if (m->nr > 1)
			qsort(m->items, m->nr, sizeof(*m->items), str_node_cmp);
		return m;
	}
	case SP_DEPENDS_ON:
	case SP_SERVICE_NETWORKS:
	case SP_MODELS: {
		struct key_spec entry = {"", KT_OBJ, spec->sub, KM_DEFAULT, 0};
		if (base->kind == NODE_MAP && over->kind == NODE_MAP) {
			merge_map_entries(a, base, over, &entry);
			return base;
		}
		return (struct node *)over;
	}
	case SP_BUILD:
	case SP_EXTENDS:
		if (base->kind == NODE_MAP && over->kind == NODE_MAP) {
			compose_merge_obj(a, base, over, spec->sub);
			return base;
		}
		return (struct node *)over;
	case SP_ULIMITS:
		if (base->kind == NODE_MAP && over->kind == NODE_MAP) {
			merge_map_entries(a, base, over, NULL);
			return base;
		}
		return (struct node *)over;
	default: return (struct node *)over;
	}
}

void compose_merge_obj(struct arena *a, struct node *base, const struct node *over, const struct key_spec *table)
{
	for (size_t i = 0; i < over->nr; i++) {
		const char *k = over->kvs[i].key->str;
		struct node *ov = over->kvs[i].value;
		if (ov->tag == NODE_TAG_RESET) {
			node_map_remove(base, k);
			continue;
		}
		struct node_kv *kv = node_map_find(base, k);
		const struct key_spec *spec = strncmp(k, "x-", 2) ? schema_find(table, k) : NULL;
		if (!kv || !spec) {
			node_map_set_kv(a, base, over->kvs[i].key, ov);
			continue;
		}
		kv->value = merge_value(a, spec, kv->value, ov);
	}
}

void compose_strip_tags(struct node *n)
{
	if (!n)
		return;
	n->tag = NODE_TAG_NONE;
	if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->nr; i++)
			compose_strip_tags(n->items[i]);
	} else if (n->kind == NODE_MAP) {
		size_t w = 0;
		for (size_t i = 0; i < n->nr; i++) {
			if (n->kvs[i].value->tag == NODE_TAG_RESET)
				continue;
			compose_strip_tags(n->kvs[i].value);
			n->kvs[w++] = n->kvs[i];
		}
		n->nr = w;
		node_map_invalidate(n);
	}
}
