/* vm/quote.c: argv -> one line for the guest's shell, quoted once. Exact
 * strings, then a round trip through real shells (dash and bash when
 * present): the shell must split the line back into the same argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "vm/quote.h"
#include "common/banned.h"

static void expect_arg(const char *arg, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	vm_quote_arg(&sb, arg);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_words(void **state)
{
	expect_arg("nerdctl", "nerdctl");
	expect_arg("--format=json", "--format=json");
	expect_arg("/usr/bin/x,y:z@1%2+3", "/usr/bin/x,y:z@1%2+3");
	expect_arg("", "''");
	expect_arg("a b", "'a b'");
	expect_arg("it's", "'it'\\''s'");
	expect_arg("'", "''\\'''");
	expect_arg("$HOME", "'$HOME'");
	expect_arg("`id`", "'`id`'");
	expect_arg("a\\b", "'a\\b'");
	expect_arg("line1\nline2", "'line1\nline2'");
	expect_arg("tab\there", "'tab\there'");
	expect_arg("*.c", "'*.c'");
	expect_arg("~", "'~'");
	expect_arg("#x", "'#x'");
	expect_arg("a;b&c|d>e<f", "'a;b&c|d>e<f'");
	expect_arg("{a,b}", "'{a,b}'");
	expect_arg("!x", "'!x'");
	expect_arg("héllo", "'héllo'");
	expect_arg("日本", "'日本'");
}

static void test_argv_first_word(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char *const a[] = {"FOO=bar", "x=y", NULL};
	vm_quote_argv(&sb, a);
	assert_string_equal(sb.buf, "'FOO=bar' x=y");
	strbuf_reset(&sb);
	const char *const b[] = {"if", "if", NULL};
	vm_quote_argv(&sb, b);
	assert_string_equal(sb.buf, "'if' if");
	strbuf_reset(&sb);
	const char *const c[] = {"nerdctl", "run", "--rm", "berth-test/busybox:1", "echo", "ok", NULL};
	vm_quote_argv(&sb, c);
	assert_string_equal(sb.buf, "nerdctl run --rm berth-test/busybox:1 echo ok");
	strbuf_reset(&sb);
	const char *const d[] = {NULL};
	vm_quote_argv(&sb, d);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
}

/* Runs `SHELL -c LINE` where LINE = quote(printf '%s\0' args...) and checks
 * the NUL-separated output is exactly args. */
static void round_trip(const char *shell, const char *const *args)
{
	struct strvec v = STRVEC_INIT;
	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT, want = STRBUF_INIT;
	strvec_pushl(&v, "printf", "%s\\0", NULL);
	for (size_t i = 0; args[i]; i++) {
		strvec_push(&v, args[i]);
		strbuf_add(&want, args[i], strlen(args[i]) + 1);
	}
	vm_quote_argv(&line, (const char *const *)v.v);
	const char *const argv[] = {shell, "-c", line.buf, NULL};
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(proc_capture(&out, argv, 10000, 0, &err), 0);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.buf, want.buf, want.len);
	strvec_clear(&v);
	strbuf_release(&line);
	strbuf_release(&out);
	strbuf_release(&want);
}

static void test_round_trip(void **state)
{
	static const char *const args[] = {
		"plain",      "",      "two words",   "it's",   "'",        "''",
		"\"double\"", "$HOME", "${X:-y}",     "$(id)",  "`id`",     "back\\slash",
		"new\nline",  "\ttab", "*",           "?",      "[a]",      "~root",
		"#hash",      "a;b",   "a&&b",        "a|b",    ">out",     "<in",
		"!",          "{a,b}", "héllo wörld", "日本語", "\x01\x7f", "--flag=va lue",
		"=",          "a=b",   "-",           "--",     "%",        NULL,
	};
	static const char *const shells[] = {"/bin/sh", "/bin/dash", "/bin/bash"};
	int ran = 0;
	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++) {
		if (access(shells[i], X_OK))
			continue;
		round_trip(shells[i], args);
		ran++;
	}
	assert_true(ran > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_argv_first_word),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
