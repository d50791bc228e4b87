#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "common/banned.h"

static const char abc_hex[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char million_a_hex[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

/* FIPS 180-2 / NIST test vectors */
static void test_vectors(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	hash_sha256_hex(&sb, "", 0);
	assert_string_equal(sb.buf, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	strbuf_reset(&sb);
	hash_sha256_hex(&sb, "abc", 3);
	assert_string_equal(sb.buf, abc_hex);
	strbuf_reset(&sb);
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hash_sha256_hex(&sb, two, strlen(two));
	assert_string_equal(sb.buf, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

	/* appends */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "sha256:");
	hash_sha256_hex(&sb, "abc", 3);
	assert_int_equal(sb.len, 7 + HASH_SHA256_HEX_LEN);
	assert_string_equal(sb.buf + 7, abc_hex);

	unsigned char raw[HASH_SHA256_LEN];
	hash_sha256(raw, "abc", 3);
	assert_int_equal(raw[0], 0xba);
	assert_int_equal(raw[31], 0xad);
	strbuf_release(&sb);
}

static void test_incremental(void **state)
{
	const size_t n = 1000000;
	char *a = malloc(n);
	memset(a, 'a', n);
	struct hash_sha256_ctx h;
	struct strbuf sb = STRBUF_INIT;
	hash_sha256_init(&h);
	for (size_t off = 0; off < n;) {
		size_t chunk = off % 7 == 0 ? 1 : 4093; /* odd sizes across block boundaries */
		if (chunk > n - off)
			chunk = n - off;
		hash_sha256_update(&h, a + off, chunk);
		off += chunk;
	}
	hash_sha256_final_hex(&h, &sb);
	assert_null(h.ctx);
	assert_string_equal(sb.buf, million_a_hex);
	hash_sha256_release(&h); /* safe after final */

	strbuf_reset(&sb);
	hash_sha256_hex(&sb, a, n);
	assert_string_equal(sb.buf, million_a_hex);

	hash_sha256_init(&h); /* abandoned: no leak */
	hash_sha256_update(&h, "x", 1);
	hash_sha256_release(&h);
	strbuf_release(&sb);
	free(a);
}

static void test_file(void **state)
{
	char path[] = "/tmp/berth-hash-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	assert_int_equal(write(fd, a, 1000000), 1000000); /* several read chunks */
	close(fd);

	struct strbuf sb = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(hash_sha256_file_hex(&sb, path, &err), 0);
	assert_string_equal(sb.buf, million_a_hex);
	unlink(path);

	strbuf_reset(&sb);
	strbuf_addstr(&sb, "keep");
	assert_int_equal(hash_sha256_file_hex(&sb, path, &err), BERTH_E_NOTFOUND);
	assert_string_equal(sb.buf, "keep");
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file or directory"));
	berth_error_release(&err);

	assert_int_equal(hash_sha256_file_hex(&sb, "/", &err), BERTH_E_IO); /* EISDIR on read */
	assert_string_equal(sb.buf, "keep");
	berth_error_release(&err);
	strbuf_release(&sb);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
