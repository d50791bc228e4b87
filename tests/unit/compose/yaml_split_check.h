/* Shared by the split-parse unit test and fuzz harness: parses a text whole
 * and (where the loader agrees to) in two pieces, and tells whether the two
 * results are the same tree, positions included, or the same error. */
#ifndef BERTH_TESTS_YAML_SPLIT_CHECK_H
#define BERTH_TESTS_YAML_SPLIT_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "compose/node.h"
#include "compose/yaml_load.h"

/* Appends to why the first difference between a and b, under path. */
static bool split_tree_equal(const struct node *a, const struct node *b, const char *path, struct strbuf *why)
{
	if (a->kind != b->kind || a->tag != b->tag || a->quoted != b->quoted || a->flags != b->flags ||
	    a->line != b->line || a->col != b->col || (a->file == NULL) != (b->file == NULL) ||
	    (a->file && strcmp(a->file, b->file)) || (a->str == NULL) != (b->str == NULL) || a->len != b->len ||
	    (a->str && memcmp(a->str, b->str, a->len)) || a->nr != b->nr) {
		strbuf_addf(why, "%s: kind %d/%d line %d/%d col %d/%d nr %zu/%zu str \"%s\"/\"%s\"", path, a->kind,
			    b->kind, a->line, b->line, a->col, b->col, a->nr, b->nr, a->str ? a->str : "",
			    b->str ? b->str : "");
		return false;
	}
	if ((a->kind == NODE_INT && a->v.i != b->v.i) || (a->kind == NODE_BOOL && a->v.b != b->v.b) ||
	    (a->kind == NODE_FLOAT && memcmp(&a->v.f, &b->v.f, sizeof(a->v.f)))) {
		strbuf_addf(why, "%s: value differs", path);
		return false;
	}
	char sub[512];
	for (size_t i = 0; i < a->nr; i++) {
		if (a->kind == NODE_SEQ) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (!split_tree_equal(a->items[i], b->items[i], sub, why))
				return false;
		} else {
			snprintf(sub, sizeof(sub), "%s.%s", path, a->kvs[i].key->str);
			if (!split_tree_equal(a->kvs[i].key, b->kvs[i].key, sub, why) ||
			    !split_tree_equal(a->kvs[i].value, b->kvs[i].value, sub, why))
				return false;
			/* the lookup index must find every key of the merged map */
			if (node_map_find((struct node *)a, a->kvs[i].key->str) != &a->kvs[i]) {
				strbuf_addf(why, "%s: node_map_find misses the key", sub);
				return false;
			}
		}
	}
	return true;
}

/* 0: same result; otherwise why says how they differ. *split tells whether
 * the loader did split. */
static int split_check(const char *text, size_t len, bool *split, struct strbuf *why)
{
	struct arena a1 = ARENA_INIT, a2 = ARENA_INIT;
	struct berth_error e1 = BERTH_ERROR_INIT, e2 = BERTH_ERROR_INIT;
	struct node *t1 = NULL, *t2 = NULL;
	size_t saved = compose_yaml_split_min, before = compose_yaml_splits;
	compose_yaml_split_min = 0;
	int rc1 = compose_yaml_parse_docs(&t1, &a1, "s.yaml", text, len, &e1);
	*split = compose_yaml_splits != before;
	compose_yaml_split_min = SIZE_MAX;
	int rc2 = compose_yaml_parse_docs(&t2, &a2, "s.yaml", text, len, &e2);
	compose_yaml_split_min = saved;
	int bad = 0;
	if (rc1 != rc2) {
		strbuf_addf(why, "split rc %d (%s), whole rc %d (%s)", rc1, e1.msg ? e1.msg : "", rc2,
			    e2.msg ? e2.msg : "");
		bad = 1;
	} else if (rc1) {
		struct strbuf f1 = STRBUF_INIT, f2 = STRBUF_INIT;
		berth_error_format(&e1, &f1);
		berth_error_format(&e2, &f2);
		if (strcmp(f1.buf, f2.buf)) {
			strbuf_addf(why, "errors differ: split \"%s\", whole \"%s\"", f1.buf, f2.buf);
			bad = 1;
		}
		strbuf_release(&f1);
		strbuf_release(&f2);
	} else if (!split_tree_equal(t1, t2, "$", why)) {
		bad = 1;
	}
	berth_error_release(&e1);
	berth_error_release(&e2);
	arena_release(&a1);
	arena_release(&a2);
	return bad;
}

#endif
