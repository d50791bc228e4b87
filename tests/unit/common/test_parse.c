#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/parse.h"
#include "common/strbuf.h"

static void check_duration(const char *in, const char *want)
{
	int64_t ns;
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(parse_duration(&ns, in), 0);
	format_duration(&sb, ns);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_durations_as_go(void **state)
{
	check_duration("30s", "30s");
	check_duration("90s", "1m30s");
	check_duration("1h", "1h0m0s");
	check_duration("1.5s", "1.5s");
	check_duration("500ms", "500ms");
	check_duration("1m30s", "1m30s");
	check_duration("2us", "2\xc2\xb5s");
	check_duration("0", "0s");
	check_duration("1h2m3.5s", "1h2m3.5s");
	int64_t ns;
	assert_int_not_equal(parse_duration(&ns, "5 minutes"), 0);
	assert_int_not_equal(parse_duration(&ns, "10"), 0);
	assert_int_not_equal(parse_duration(&ns, ""), 0);
	assert_int_not_equal(parse_duration(&ns, "s"), 0);
}

static void test_bytes_as_docker_units(void **state)
{
	int64_t v;
	assert_int_equal(parse_bytes(&v, "512m"), 0);
	assert_int_equal(v, 536870912);
	assert_int_equal(parse_bytes(&v, "50M"), 0);
	assert_int_equal(v, 52428800);
	assert_int_equal(parse_bytes(&v, "1.5g"), 0);
	assert_int_equal(v, 1610612736);
	assert_int_equal(parse_bytes(&v, "100"), 0);
	assert_int_equal(v, 100);
	assert_int_equal(parse_bytes(&v, "1kb"), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(parse_bytes(&v, "2GiB"), 0);
	assert_int_equal(v, 2147483648LL);
	assert_int_not_equal(parse_bytes(&v, "lots"), 0);
	assert_int_not_equal(parse_bytes(&v, "12q"), 0);
}

static void test_ports_and_ints(void **state)
{
	int p;
	int64_t v;
	assert_int_equal(parse_port(&p, "65535"), 0);
	assert_int_equal(p, 65535);
	assert_int_not_equal(parse_port(&p, "65536"), 0);
	assert_int_not_equal(parse_port(&p, "-1"), 0);
	assert_int_not_equal(parse_port(&p, "80a"), 0);
	assert_int_equal(parse_int64(&v, "-12", -100, 100), 0);
	assert_int_not_equal(parse_int64(&v, " 12", -100, 100), 0);
}

static void test_double_format(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	format_double(&sb, 0.5);
	strbuf_addch(&sb, ' ');
	format_double(&sb, 1.5);
	strbuf_addch(&sb, ' ');
	format_double(&sb, 2.0);
	strbuf_addch(&sb, ' ');
	format_double(&sb, 0.1);
	assert_string_equal(sb.buf, "0.5 1.5 2 0.1");
	strbuf_release(&sb);
}

static void test_utf8(void **state)
{
	assert_true(utf8_valid("h\xc3\xa9llo", 6));
	assert_false(utf8_valid("\xff", 1));
	assert_false(utf8_valid("\xc3", 1));
	assert_false(utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(utf8_valid("\xc0\xaf", 2));     /* overlong */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations_as_go),
		cmocka_unit_test(test_bytes_as_docker_units),
		cmocka_unit_test(test_ports_and_ints),
		cmocka_unit_test(test_double_format),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
