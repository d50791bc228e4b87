/* Every key the Compose spec's JSON schema defines must be known to berth's
 * key table (compose/schema.c). Reads ../shared/schemas/compose-spec.json
 * beside the source tree at test time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "compose/schema.h"

static json_object *defs;
static int missing;
static int checked;

static json_object *resolve(json_object *o)
{
	json_object *ref;
	for (int i = 0; i < 16 && o && json_object_object_get_ex(o, "$ref", &ref); i++) {
		const char *r = json_object_get_string(ref);
		const char *slash = strrchr(r, '/');
		json_object *d = NULL;
		if (!slash || !json_object_object_get_ex(defs, slash + 1, &d))
			return NULL;
		o = d;
	}
	return o;
}

/* Which table describes the children of a key: objects and lists of objects
 * carry their sub table; "external" and other specials may have one too. */
static const struct key_spec *sub_of(const struct key_spec *k)
{
	return k ? k->sub : NULL;
}

static void walk(json_object *schema, const struct key_spec *table, const char *path, int depth);

static void walk_alternatives(json_object *s, const struct key_spec *table, const char *path, int depth)
{
	static const char *const alts[] = {"oneOf", "anyOf", "allOf"};
	for (size_t a = 0; a < 3; a++) {
		json_object *arr;
		if (!json_object_object_get_ex(s, alts[a], &arr))
			continue;
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			walk(json_object_array_get_idx(arr, i), table, path, depth + 1);
	}
}

static void walk(json_object *schema, const struct key_spec *table, const char *path, int depth)
{
	json_object *s = resolve(schema), *props, *items, *pattern, *addl;
	if (!s || depth > 12 || json_object_get_type(s) != json_type_object)
		return;
	walk_alternatives(s, table, path, depth);
	if (json_object_object_get_ex(s, "properties", &props)) {
		json_object_object_foreach(props, key, val)
		{
			struct strbuf p = STRBUF_INIT;
			strbuf_addf(&p, "%s.%s", path, key);
			const struct key_spec *k = schema_find(table, key);
			checked++;
			if (!k) {
				missing++;
				fprintf(stderr, "berth's key table lacks %s\n", p.buf);
			} else if (sub_of(k)) {
				walk(val, sub_of(k), p.buf, depth + 1);
			}
			strbuf_release(&p);
		}
	}
	if (json_object_object_get_ex(s, "items", &items))
		walk(items, table, path, depth + 1);
	if (json_object_object_get_ex(s, "patternProperties", &pattern)) {
		json_object_object_foreach(pattern, pat, val)
		{
			if (!strncmp(pat, "^x-", 3))
				continue;
			walk(val, table, path, depth + 1);
		}
	}
	if (json_object_object_get_ex(s, "additionalProperties", &addl) &&
	    json_object_get_type(addl) == json_type_object)
		walk(addl, table, path, depth + 1);
}

static void test_every_spec_key_is_known(void **state)
{
	const char *src = getenv("BERTH_SOURCE_DIR");
	assert_non_null(src);
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/../shared/schemas/compose-spec.json", src);
	json_object *root = json_object_from_file(path.buf);
	if (!root)
		fail_msg("cannot read %s", path.buf);
	assert_true(json_object_object_get_ex(root, "$defs", &defs));
	json_object *props;
	assert_true(json_object_object_get_ex(root, "properties", &props));
	/* the top level: services, networks, ... each a map of name -> object */
	json_object_object_foreach(props, key, val)
	{
		const struct key_spec *k = schema_find(schema_top, key);
		checked++;
		if (!k) {
			missing++;
			fprintf(stderr, "berth's key table lacks %s\n", key);
			continue;
		}
		if (k->sub)
			walk(val, k->sub, key, 0);
	}
	fprintf(stderr, "checked %d keys of the Compose spec\n", checked);
	assert_true(checked > 300);
	assert_int_equal(missing, 0);
	json_object_put(root);
	strbuf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_spec_key_is_known),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
