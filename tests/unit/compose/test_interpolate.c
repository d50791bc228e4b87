#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "compose/envmap.h"
#include "compose/interpolate.h"
#include "common/banned.h"

/* Expected values were checked against compose-go v2.0.2's template.Substitute. */

static struct envmap env = ENVMAP_INIT;
static struct strvec warnings = STRVEC_INIT;

static void collect_warning(void *ctx, const char *msg)
{
	strvec_push(ctx, msg);
}

static const struct interp_options opts = {
	.lookup = envmap_lookup,
	.lookup_ctx = &env,
	.warn = collect_warning,
	.warn_ctx = &warnings,
};

static int setup(void **state)
{
	envmap_set(&env, "SET", "val");
	envmap_set(&env, "EMPTY", "");
	envmap_set(&env, "B", "bee");
	envmap_set(&env, "DOLLAR", "$HOME ${X}"); /* values are not re-interpolated */
	envmap_set(&env, "UNSET_DECLARED", NULL);
	return 0;
}

static int teardown(void **state)
{
	envmap_release(&env);
	strvec_clear(&warnings);
	return 0;
}

/* Interpolates in and checks the result. */
static void check_n(const char *in, size_t len, const char *want)
{
	struct strbuf out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	int rc = compose_interpolate(&out, in, len, &opts, &err);
	if (rc)
		fail_msg("interpolating \"%s\": unexpected error %s", in, err.msg);
	assert_string_equal(out.buf, want);
	assert_int_equal(out.len, strlen(want));
	strbuf_release(&out);
	berth_error_release(&err);
}

static void check(const char *in, const char *want)
{
	check_n(in, strlen(in), want);
}

static void check_error(const char *in, int code, const char *want_msg)
{
	struct strbuf out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	strbuf_addstr(&out, "keep");
	int rc = compose_interpolate(&out, in, strlen(in), &opts, &err);
	if (!rc)
		fail_msg("interpolating \"%s\": expected an error, got \"%s\"", in, out.buf);
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, want_msg);
	assert_null(err.file);
	assert_string_equal(out.buf, "keep"); /* untouched on error */
	assert_int_equal(out.len, 4);
	strbuf_release(&out);
	berth_error_release(&err);
}

#define INVALID(t) "invalid interpolation format for " t ": you may need to escape any $ with another $"

static void test_plain(void **state)
{
	check("", "");
	check("no dollars here", "no dollars here");
	check("$SET", "val");
	check("${SET}", "val");
	check("a${SET}b$SET.c", "avalbval.c");
	check("$SET_x", "");	 /* the name is SET_x */
	check("${SET}_x", "val_x");
	check("$EMPTY|${EMPTY}", "|");
	check("$DOLLAR", "$HOME ${X}");
	check("$_", "");
	check("${_9}", "");
	check("$set", ""); /* names are case-sensitive, lookup is by exact name */
	check("x\n$SET\ny", "x\nval\ny");
}

static void test_escapes_and_literals(void **state)
{
	check("$$", "$");
	check("$$SET", "$SET");
	check("$$$SET", "$val");
	check("$${SET}", "${SET}");
	check("$$$$", "$$");
	check("$", "$");
	check("a$", "a$");
	check("$1", "$1");
	check("$1abc", "$1abc");
	check("$ x", "$ x");
	check("$-", "$-");
	check("$}", "$}");
	check("100$", "100$");
	check("${SET}$", "val$");
	check("}{", "}{");
}

static void test_default_operators(void **state)
{
	strvec_clear(&warnings);
	/* :- unset or empty */
	check("${SET:-d}", "val");
	check("${EMPTY:-d}", "d");
	check("${NOPE:-d}", "d");
	check("${UNSET_DECLARED:-d}", "d");
	check("${NOPE:-}", "");
	/* - unset only */
	check("${SET-d}", "val");
	check("${EMPTY-d}", "");
	check("${NOPE-d}", "d");
	check("${NOPE-}", "");
	/* :+ set and non-empty */
	check("${SET:+alt}", "alt");
	check("${EMPTY:+alt}", "");
	check("${NOPE:+alt}", "");
	/* + set */
	check("${SET+alt}", "alt");
	check("${EMPTY+alt}", "alt");
	check("${NOPE+alt}", "");
	/* ? and :? pass the value through when satisfied */
	check("${SET?msg}", "val");
	check("${EMPTY?msg}", "");
	check("${SET:?msg}", "val");
	/* only the first operator counts */
	check("${NOPE:-a:-b}", "a:-b");
	check("${NOPE-x?y}", "x?y");
	check("${NOPE:-a b c}", "a b c");
	check("${NOPE:-$$}", "$");
	check("${NOPE:-$}", "$");
	check("${NOPE:-{}}", "{}");
	check("${NOPE:-{}", "{");
	check("${NOPE:-a}}", "a}");
	check("${NOPE:-x}-${B}", "x-bee");
	check("${NOPE-x}:-${B}", "x:-bee");
	assert_int_equal(warnings.nr, 0);
}

static void test_nesting(void **state)
{
	strvec_clear(&warnings);
	check("${NOPE:-${B}}", "bee");
	check("${NOPE:-${ALSO:-x}}", "x");
	check("${NOPE:-${EMPTY:-${SET}}}", "val");
	check("${SET:+<${B:-z}>}", "<bee>");
	check("${NOPE:-${B}x}", "beex");
	check("${NOPE:-a${B}b${SET}c}", "abeebvalc");
	check("${NOPE:-$B}", "bee");
	check("${A:-${B:-x}} and ${C:-y}", "bee and y");
	check("[${NOPE:-${ALSO:-{x}}}]", "[{x}]");
	assert_int_equal(warnings.nr, 0);
}

static void test_required(void **state)
{
	check_error("${NOPE?}", BERTH_E_INVALID, "required variable NOPE is missing a value");
	check_error("${NOPE:?}", BERTH_E_INVALID, "required variable NOPE is missing a value");
	check_error("${EMPTY:?}", BERTH_E_INVALID, "required variable EMPTY is missing a value");
	check_error("${NOPE?set NOPE}", BERTH_E_INVALID,
		    "required variable NOPE is missing a value: set NOPE");
	check_error("${EMPTY:?must not be empty}", BERTH_E_INVALID,
		    "required variable EMPTY is missing a value: must not be empty");
	check_error("${UNSET_DECLARED?}", BERTH_E_INVALID,
		    "required variable UNSET_DECLARED is missing a value");
	/* the message is interpolated; a blank one still counts */
	check_error("${NOPE:?see ${B}}", BERTH_E_INVALID,
		    "required variable NOPE is missing a value: see bee");
	check_error("${NOPE:?  }", BERTH_E_INVALID, "required variable NOPE is missing a value:   ");
	check_error("x ${SET} ${NOPE:?a} ${ALSO:?b}", BERTH_E_INVALID,
		    "required variable NOPE is missing a value: a");
	/* compose-go interpolates a default before looking at the variable, so an
	 * unused default can still fail */
	check_error("${SET:-${NOPE:?boom}}", BERTH_E_INVALID,
		    "required variable NOPE is missing a value: boom");
	check_error("${NOPE:-${ALSO?}}", BERTH_E_INVALID, "required variable ALSO is missing a value");
}

static void test_invalid(void **state)
{
	check_error("${}", BERTH_E_INVALID, INVALID("\"${}\""));
	check_error("${ X}", BERTH_E_INVALID, INVALID("\"${ X}\""));
	check_error("${1X}", BERTH_E_INVALID, INVALID("\"${1X}\""));
	check_error("${X", BERTH_E_INVALID, INVALID("\"${X\""));
	check_error("${", BERTH_E_INVALID, INVALID("\"${\""));
	check_error("a ${ b", BERTH_E_INVALID, INVALID("\"a ${ b\""));
	check_error("${X:y}", BERTH_E_INVALID, INVALID("\"${X:y}\""));
	check_error("${X::-y}", BERTH_E_INVALID, INVALID("\"${X::-y}\""));
	check_error("${X!}", BERTH_E_INVALID, INVALID("\"${X!}\""));
	check_error("${X-y", BERTH_E_INVALID, INVALID("\"${X-y\""));
	check_error("${SET}${", BERTH_E_INVALID, INVALID("\"${SET}${\""));
	/* a braced expression ends on its line */
	check_error("${X:-a\n}", BERTH_E_INVALID, INVALID("\"${X:-a\\n}\""));
	check_error("${X\n}", BERTH_E_INVALID, INVALID("\"${X\\n}\""));
	/* compose-go quotes the part it was scanning: a default ... */
	check_error("${NOPE:-${}}", BERTH_E_INVALID, INVALID("\"${}\""));
	/* ... or, after "{}" upset its brace counting, the whole rest of the line */
	check_error("${A:-{}} x ${B}", BERTH_E_INVALID, INVALID("\"{}} x ${B\""));
	/* ... or what follows a ${...} up to the last '}' of the line */
	check_error("${A-x}${ }", BERTH_E_INVALID, INVALID("\"${ }\""));
	check_error("${A-x}${B-${C", BERTH_E_INVALID, INVALID("\"${A-x}${B-${C\""));
	/* the first error wins */
	check_error("${ } ${NOPE?}", BERTH_E_INVALID, INVALID("\"${ } ${NOPE?}\""));
	check_error("${NOPE?} ${ }", BERTH_E_INVALID, "required variable NOPE is missing a value");
	/* long subjects are cut in the message */
	struct strbuf in = STRBUF_INIT, want = STRBUF_INIT;
	strbuf_addstr(&in, "${");
	for (int i = 0; i < 300; i++)
		strbuf_addstr(&in, "\xc3\xa9");
	strbuf_addstr(&want, "invalid interpolation format for \"${");
	for (int i = 0; i < 127; i++)
		strbuf_addstr(&want, "\xc3\xa9");
	strbuf_addstr(&want, "\"...: you may need to escape any $ with another $");
	check_error(in.buf, BERTH_E_INVALID, want.buf);
	strbuf_release(&in);
	strbuf_release(&want);
	/* quoting as Go's %#v */
	check_error("\t\"q\"\\ \x01 ${", BERTH_E_INVALID, INVALID("\"\\t\\\"q\\\"\\\\ \\x01 ${\""));
}

static void test_warnings(void **state)
{
	strvec_clear(&warnings);
	check("a $NOPE b ${NOPE} ${SET}", "a  b  val");
	assert_int_equal(warnings.nr, 2);
	assert_string_equal(warnings.v[0],
			    "The \"NOPE\" variable is not set. Defaulting to a blank string.");
	assert_string_equal(warnings.v[1], warnings.v[0]);
	strvec_clear(&warnings);

	/* operators never warn for their own variable */
	check("${NOPE:-} ${NOPE-} ${NOPE:+x} ${NOPE+x}", "   ");
	assert_int_equal(warnings.nr, 0);
	/* declared without a value counts as unset */
	check("$UNSET_DECLARED", "");
	assert_int_equal(warnings.nr, 1);
	assert_string_equal(warnings.v[0],
			    "The \"UNSET_DECLARED\" variable is not set. Defaulting to a blank string.");
	strvec_clear(&warnings);

	/* an unused default is still interpolated, so it warns */
	check("${SET:-$MISSING}", "val");
	assert_int_equal(warnings.nr, 1);
	assert_string_equal(warnings.v[0],
			    "The \"MISSING\" variable is not set. Defaulting to a blank string.");
	strvec_clear(&warnings);

	/* after an error compose-go keeps scanning, and warning */
	check_error("${NOPE?} $LATER", BERTH_E_INVALID, "required variable NOPE is missing a value");
	assert_int_equal(warnings.nr, 1);
	strvec_clear(&warnings);
	/* ... except for the rest of a failed ${...}, which runs to the line's last '}' */
	check_error("${NOPE?} ${LATER}", BERTH_E_INVALID, "required variable NOPE is missing a value");
	assert_int_equal(warnings.nr, 0);

	/* no callback, no lookup: everything is unset, nothing breaks */
	struct strbuf out = STRBUF_INIT;
	struct interp_options none = { 0 };
	assert_int_equal(compose_interpolate(&out, "<$A${B:-d}>", 11, &none, NULL), 0);
	assert_string_equal(out.buf, "<d>");
	strbuf_reset(&out);
	assert_int_equal(compose_interpolate(&out, "${A?}", 5, NULL, NULL), BERTH_E_INVALID);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

static void test_go_case_folding(void **state)
{
	/* (?i)[a-z] matches U+017F and U+212A, so they start and continue names */
	strvec_clear(&warnings);
	check("$\xc5\xbf!", "!");
	check("${\xe2\x84\xaa}", "");
	check("$A\xe2\x84\xaa!", "!");
	assert_int_equal(warnings.nr, 3);
	assert_string_equal(warnings.v[0],
			    "The \"\xc5\xbf\" variable is not set. Defaulting to a blank string.");
	assert_string_equal(warnings.v[2],
			    "The \"A\xe2\x84\xaa\" variable is not set. Defaulting to a blank string.");
	strvec_clear(&warnings);
	check("$\xc3\xa9", "$\xc3\xa9"); /* other letters do not */
	check("$\xe2\x84", "$\xe2\x84");
}

static void test_binary_and_append(void **state)
{
	struct strbuf out = STRBUF_INIT;
	strbuf_addstr(&out, "prefix:");
	assert_int_equal(compose_interpolate(&out, "a\0$SET\0b", 8, &opts, NULL), 0);
	assert_int_equal(out.len, 7 + 7);
	assert_memory_equal(out.buf, "prefix:a\0val\0b", 14);
	strbuf_release(&out);
}

static void test_depth_limit(void **state)
{
	struct strbuf in = STRBUF_INIT, want = STRBUF_INIT;
	for (int i = 0; i < COMPOSE_INTERP_MAX_DEPTH; i++)
		strbuf_addstr(&in, "${NOPE:-");
	strbuf_addstr(&in, "deep");
	for (int i = 0; i < COMPOSE_INTERP_MAX_DEPTH; i++)
		strbuf_addch(&in, '}');
	check(in.buf, "deep");

	strbuf_reset(&in);
	for (int i = 0; i < COMPOSE_INTERP_MAX_DEPTH + 1; i++)
		strbuf_addstr(&in, "${NOPE:-");
	strbuf_addstr(&in, "deep");
	for (int i = 0; i < COMPOSE_INTERP_MAX_DEPTH + 1; i++)
		strbuf_addch(&in, '}');
	check_error(in.buf, BERTH_E_LIMIT, "interpolation nested deeper than 64 levels");

	/* long chains side by side are not nesting */
	strbuf_reset(&in);
	for (int i = 0; i < 10000; i++) {
		strbuf_addstr(&in, "${NOPE-x}");
		strbuf_addch(&want, 'x');
	}
	check(in.buf, want.buf);
	strbuf_release(&in);
	strbuf_release(&want);
}

static void test_size_limit(void **state)
{
	struct envmap big = ENVMAP_INIT;
	struct interp_options o = { .lookup = envmap_lookup, .lookup_ctx = &big };
	struct strbuf val = STRBUF_INIT, out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;

	for (size_t i = 0; i < ((size_t)1 << 20); i++)
		strbuf_addch(&val, 'x');
	envmap_set(&big, "MB", val.buf);
	/* exactly 16 MiB fits */
	const char *sixteen = "$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB";
	assert_int_equal(compose_interpolate(&out, sixteen, strlen(sixteen), &o, &err), 0);
	assert_int_equal(out.len, COMPOSE_INTERP_MAX_OUTPUT);
	strbuf_reset(&out);
	/* one more byte does not */
	const char *over = "$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB!";
	assert_int_equal(compose_interpolate(&out, over, strlen(over), &o, &err), BERTH_E_LIMIT);
	assert_string_equal(err.msg, "interpolation result larger than 16 MiB");
	assert_int_equal(out.len, 0);
	berth_error_release(&err);
	/* also when the growth happens inside a default */
	const char *nested = "${NOPE:-$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB$MB}";
	assert_int_equal(compose_interpolate(&out, nested, strlen(nested), &o, &err), BERTH_E_LIMIT);
	assert_int_equal(out.len, 0);
	berth_error_release(&err);
	strbuf_release(&out);
	strbuf_release(&val);
	envmap_release(&big);
}

static void test_needs_interpolation(void **state)
{
	assert_false(compose_needs_interpolation("", 0));
	assert_false(compose_needs_interpolation("plain", 5));
	assert_true(compose_needs_interpolation("a$", 2));
	assert_false(compose_needs_interpolation("a$", 1));
	assert_true(compose_needs_interpolation("$$", 2));
	assert_true(compose_needs_interpolation("\0$", 2));
}

static void test_quote(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	compose_quote(&sb, "a\"b\\c\n\t\r\a\b\f\v\x01\x7f", 14);
	assert_string_equal(sb.buf, "\"a\\\"b\\\\c\\n\\t\\r\\a\\b\\f\\v\\x01\\x7f\"");
	strbuf_reset(&sb);
	/* printable UTF-8 kept; invalid bytes, NBSP, BOM, C1 and U+2028 escaped */
	static const char utf8[] = "\xc3\xa9\xe2\x82\xac\xff\xc2\xa0\xef\xbb\xbf\xc2\x85\xe2\x80\xa8\xed\xa0\x80";
	compose_quote(&sb, utf8, sizeof(utf8) - 1);
	assert_string_equal(sb.buf,
			    "\"\xc3\xa9\xe2\x82\xac\\xff\\u00a0\\ufeff\\u0085\\u2028\\xed\\xa0\\x80\"");
	strbuf_reset(&sb);
	compose_quote(&sb, "\xf3\xb0\x80\x80", 4); /* plane 15 private use */
	assert_string_equal(sb.buf, "\"\\U000f0000\"");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_escapes_and_literals),
		cmocka_unit_test(test_default_operators),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_go_case_folding),
		cmocka_unit_test(test_binary_and_append),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_needs_interpolation),
		cmocka_unit_test(test_quote),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
