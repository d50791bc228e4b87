#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "compose/dotenv.h"
#include "compose/envmap.h"
#include "common/banned.h"

static void collect_warning(void *ctx, const char *msg)
{
	strvec_push(ctx, msg);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, len);
}

static const char *code_name(int code)
{
	switch (code) {
	case BERTH_E_PARSE: return "parse";
	case BERTH_E_INVALID: return "invalid";
	case BERTH_E_LIMIT: return "limit";
	default: return "other";
	}
}

/* One fixtures/dotenv/<case>/: input.env and expected.json, whose "env" lists
 * the keys in order, or "error" the code, line, column and message; "lookup" is
 * the environment seen by the parser, "warnings" what it warns. */
static void run_fixture(const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	struct envmap lookup = ENVMAP_INIT, out = ENVMAP_INIT, loaded = ENVMAP_INIT;
	struct strvec warnings = STRVEC_INIT;
	struct berth_error err = BERTH_ERROR_INIT, err2 = BERTH_ERROR_INIT;
	size_t len;

	strbuf_addf(&path, "%s/%s/expected.json", dir, name);
	json_object *exp = json_object_from_file(path.buf);
	if (!exp)
		fail_msg("%s: cannot read %s", name, path.buf);
	json_object *jl, *jenv, *jerr, *jwarn;
	if (json_object_object_get_ex(exp, "lookup", &jl)) {
		json_object_object_foreach(jl, k, v) envmap_set(&lookup, k, json_object_get_string(v));
	}

	strbuf_reset(&path);
	strbuf_addf(&path, "%s/%s/input.env", dir, name);
	char *data = read_all(path.buf, &len);
	if (!data)
		fail_msg("%s: cannot read %s", name, path.buf);
	struct interp_options opt = {
		.lookup = envmap_lookup, .lookup_ctx = &lookup,
		.warn = collect_warning, .warn_ctx = &warnings,
	};
	int rc = compose_dotenv_parse_opts(&out, path.buf, data, len, &opt, &err);
	/* the file-reading entry point agrees */
	int rc2 = compose_dotenv_load(&loaded, path.buf, envmap_lookup, &lookup, &err2);
	assert_int_equal(rc, rc2);

	if (json_object_object_get_ex(exp, "error", &jerr)) {
		json_object *f;
		if (!rc)
			fail_msg("%s: expected an error", name);
		json_object_object_get_ex(jerr, "code", &f);
		assert_string_equal(code_name(rc), json_object_get_string(f));
		json_object_object_get_ex(jerr, "message", &f);
		assert_string_equal(err.msg, json_object_get_string(f));
		json_object_object_get_ex(jerr, "line", &f);
		assert_int_equal(err.line, json_object_get_int(f));
		json_object_object_get_ex(jerr, "col", &f);
		assert_int_equal(err.col, json_object_get_int(f));
		assert_string_equal(err.file, path.buf);
		assert_string_equal(err2.msg, err.msg);
		assert_int_equal(out.nr, 0);
		assert_int_equal(loaded.nr, 0);
	} else {
		if (rc)
			fail_msg("%s: unexpected error: %s:%d: %s", name, err.file, err.line, err.msg);
		assert_true(json_object_object_get_ex(exp, "env", &jenv));
		assert_int_equal(out.nr, (size_t)json_object_object_length(jenv));
		size_t i = 0;
		json_object_object_foreach(jenv, k, v) {
			assert_string_equal(out.items[i].key, k);
			assert_string_equal(out.items[i].value, json_object_get_string(v));
			assert_string_equal(loaded.items[i].key, k);
			assert_string_equal(loaded.items[i].value, json_object_get_string(v));
			i++;
		}
	}

	size_t nwarn = 0;
	if (json_object_object_get_ex(exp, "warnings", &jwarn)) {
		nwarn = json_object_array_length(jwarn);
		for (size_t i = 0; i < nwarn && i < warnings.nr; i++)
			assert_string_equal(warnings.v[i],
					    json_object_get_string(json_object_array_get_idx(jwarn, i)));
	}
	assert_int_equal(warnings.nr, nwarn);

	json_object_put(exp);
	free(data);
	strbuf_release(&path);
	envmap_release(&lookup);
	envmap_release(&out);
	envmap_release(&loaded);
	strvec_clear(&warnings);
	berth_error_release(&err);
	berth_error_release(&err2);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_fixtures(void **state)
{
	const char *src = getenv("BERTH_SOURCE_DIR");
	struct strbuf dir = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	strbuf_addf(&dir, "%s/fixtures/dotenv", src ? src : ".");
	DIR *d = opendir(dir.buf);
	if (!d)
		fail_msg("cannot open %s (is BERTH_SOURCE_DIR set?)", dir.buf);
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			strvec_push(&names, e->d_name);
	closedir(d);
	assert_true(names.nr >= 20);
	qsort(names.v, names.nr, sizeof(*names.v), cmp_names);
	for (size_t i = 0; i < names.nr; i++) {
		print_message("fixture %s\n", names.v[i]);
		run_fixture(dir.buf, names.v[i]);
	}
	strvec_clear(&names);
	strbuf_release(&dir);
}

static int parse(struct envmap *out, const char *data, struct berth_error *err)
{
	return compose_dotenv_parse(out, "t.env", data, strlen(data), NULL, NULL, err);
}

static void test_merge_into_out(void **state)
{
	struct envmap out = ENVMAP_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	envmap_set(&out, "KEEP", "old");
	envmap_set(&out, "A", "old");
	/* what out held (earlier files) resolves before this file's own keys, as
	 * compose-go's GetEnvFromFile does; a bare key inherits from it too */
	envmap_set(&out, "GONE", NULL);
	assert_int_equal(parse(&out, "A=new\nB=$KEEP|$A|$GONE\nKEEP\nGONE\nC=$C\n", &err), 0);
	assert_int_equal(out.nr, 5);
	assert_string_equal(envmap_get(&out, "KEEP"), "old");
	assert_string_equal(envmap_get(&out, "A"), "new");
	assert_string_equal(out.items[1].key, "A");
	assert_string_equal(envmap_get(&out, "B"), "old|old|");
	assert_string_equal(envmap_get(&out, "C"), "");
	assert_null(envmap_get(&out, "GONE"));
	envmap_remove(&out, "GONE");
	envmap_remove(&out, "C");

	/* on error out is untouched */
	assert_int_equal(parse(&out, "C=1\nD=\"open\n", &err), BERTH_E_PARSE);
	assert_int_equal(out.nr, 3);
	assert_null(envmap_find(&out, "C"));
	assert_string_equal(err.file, "t.env");
	assert_int_equal(err.line, 2);
	berth_error_release(&err);

	/* nothing at all */
	assert_int_equal(parse(&out, "", &err), 0);
	assert_int_equal(parse(&out, "\n\n  # only comments\n\t\n", &err), 0);
	assert_int_equal(compose_dotenv_parse(&out, "t", NULL, 0, NULL, NULL, &err), 0);
	assert_int_equal(out.nr, 3);
	envmap_release(&out);
}

static void test_lookup_precedence(void **state)
{
	struct envmap out = ENVMAP_INIT, shell = ENVMAP_INIT;
	envmap_set(&shell, "X", "shell");
	envmap_set(&shell, "BARE", "inherited");
	const char *data = "X=file\nY=$X\nBARE\nZ=${BARE}\nX\n";
	assert_int_equal(compose_dotenv_parse(&out, "t", data, strlen(data), envmap_lookup, &shell, NULL), 0);
	/* compose-go resolves against the lookup first, then this file */
	assert_string_equal(envmap_get(&out, "Y"), "shell");
	assert_string_equal(envmap_get(&out, "BARE"), "inherited");
	assert_string_equal(envmap_get(&out, "Z"), "inherited");
	/* a bare key takes the lookup's value, overriding the file's */
	assert_string_equal(envmap_get(&out, "X"), "shell");
	envmap_release(&out);
	envmap_release(&shell);
}

static void test_nul_byte(void **state)
{
	struct envmap out = ENVMAP_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	static const char raw[] = "A=1\nB=x\0y\n";
	assert_int_equal(compose_dotenv_parse(&out, "t", raw, sizeof(raw) - 1, NULL, NULL, &err),
			 BERTH_E_INVALID);
	assert_string_equal(err.msg, "value of \"B\" contains a NUL byte");
	assert_int_equal(err.line, 2);
	berth_error_release(&err);
	/* \0000 makes one too */
	assert_int_equal(parse(&out, "C=\"a\\0000b\"", &err), BERTH_E_INVALID);
	berth_error_release(&err);
	static const char key[] = "K\0=1\n";
	assert_int_equal(compose_dotenv_parse(&out, "t", key, sizeof(key) - 1, NULL, NULL, &err),
			 BERTH_E_PARSE);
	assert_string_equal(err.msg, "unexpected character \"\\x00\" in variable name \"K\\x00=1\"");
	berth_error_release(&err);
	assert_int_equal(out.nr, 0);
	envmap_release(&out);
}

static void test_error_positions(void **state)
{
	struct envmap out = ENVMAP_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	/* compose-go's line counter skips bare keys; berth's does not */
	assert_int_equal(parse(&out, "BARE\nOTHER\n  bad!key=1\n", &err), BERTH_E_PARSE);
	berth_error_format(&err, &sb);
	assert_string_equal(sb.buf, "t.env:3:6: error: unexpected character \"!\" in variable name \"bad!key=1\"");
	berth_error_release(&err);
	/* interpolation errors point at the value */
	assert_int_equal(parse(&out, "A=1\n\nB=  ${X?}\n", &err), BERTH_E_INVALID);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 5);
	berth_error_release(&err);
	assert_int_equal(parse(&out, "A='a\nb'\nB=\"x\n${}\"\n", &err), BERTH_E_INVALID);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 3);
	assert_string_equal(err.msg, "invalid interpolation format for \"x\\n${}\": you may need to escape any $ with another $");
	berth_error_release(&err);
	strbuf_release(&sb);
	envmap_release(&out);
}

static void test_expansion_cap(void **state)
{
	struct envmap out = ENVMAP_INIT, big = ENVMAP_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < (1 << 20); i++)
		strbuf_addch(&sb, 'x');
	envmap_set(&big, "MB", sb.buf);
	strbuf_reset(&sb);
	for (int i = 0; i < 17; i++)
		strbuf_addf(&sb, "K%d=$MB\n", i);
	assert_int_equal(compose_dotenv_parse(&out, "t", sb.buf, sb.len, envmap_lookup, &big, &err),
			 BERTH_E_LIMIT);
	assert_string_equal(err.msg, "values expand to more than 16 MiB in total");
	assert_int_equal(err.line, 17);
	assert_int_equal(out.nr, 0);
	berth_error_release(&err);
	strbuf_release(&sb);
	envmap_release(&big);
}

static void test_load_errors(void **state)
{
	struct envmap out = ENVMAP_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	char tmpl[] = "/tmp/berth-dotenv-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s/missing.env", dir);
	assert_int_equal(compose_dotenv_load(&out, path.buf, NULL, NULL, &err), BERTH_E_NOTFOUND);
	assert_string_equal(err.file, path.buf);
	assert_string_equal(err.msg, "couldn't find env file");
	berth_error_release(&err);

	assert_int_equal(compose_dotenv_load(&out, dir, NULL, NULL, &err), BERTH_E_IO);
	assert_string_equal(err.msg, "env file is a directory");
	berth_error_release(&err);

	/* exactly the cap is read; one byte more is refused */
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/big.env", dir);
	FILE *f = fopen(path.buf, "wb");
	assert_non_null(f);
	fputs("A=1\n#", f);
	for (size_t i = 5; i < COMPOSE_DOTENV_MAX_SIZE; i++)
		fputc('x', f);
	fclose(f);
	assert_int_equal(compose_dotenv_load(&out, path.buf, NULL, NULL, &err), 0);
	assert_string_equal(envmap_get(&out, "A"), "1");
	f = fopen(path.buf, "ab");
	fputc('x', f);
	fclose(f);
	assert_int_equal(compose_dotenv_load(&out, path.buf, NULL, NULL, &err), BERTH_E_LIMIT);
	assert_string_equal(err.msg, "env file is larger than 16 MiB");
	berth_error_release(&err);
	unlink(path.buf);
	rmdir(dir);
	strbuf_release(&path);
	envmap_release(&out);
}

static void test_many_lines(void **state)
{
	struct envmap out = ENVMAP_INIT;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "FIRST=1\n");
	for (int i = 0; i < 100000; i++)
		strbuf_addf(&sb, "KEY_%d=\"v${FIRST:-none}${KEY_%d}\" # c\n", i, 100000 + i);
	assert_int_equal(compose_dotenv_parse(&out, "t", sb.buf, sb.len, NULL, NULL, NULL), 0);
	assert_int_equal(out.nr, 100001);
	assert_string_equal(envmap_get(&out, "KEY_99999"), "v1");
	strbuf_release(&sb);
	envmap_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_merge_into_out),
		cmocka_unit_test(test_lookup_precedence),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_error_positions),
		cmocka_unit_test(test_expansion_cap),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_many_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
