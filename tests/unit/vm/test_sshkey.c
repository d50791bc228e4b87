/* vm/sshkey.c and vm/base64.c: the generated key is what OpenSSH reads
 * (checked with ssh-keygen when it is installed), and files are created once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "vm/base64.h"
#include "vm/fsutil.h"
#include "vm/sshkey.h"
#include "common/banned.h"

static void test_base64(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct strbuf e = STRBUF_INIT, d = STRBUF_INIT;
		vm_base64_encode(&e, v[i].in, strlen(v[i].in));
		assert_string_equal(e.buf, v[i].out);
		assert_int_equal(vm_base64_decode(&d, e.buf, e.len), 0);
		assert_string_equal(d.buf, v[i].in);
		strbuf_release(&e);
		strbuf_release(&d);
	}
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	struct strbuf e = STRBUF_INIT, d = STRBUF_INIT;
	vm_base64_encode(&e, all, sizeof(all));
	assert_int_equal(vm_base64_decode(&d, e.buf, e.len), 0);
	assert_int_equal(d.len, 256);
	assert_memory_equal(d.buf, all, 256);
	strbuf_reset(&d);
	assert_int_equal(vm_base64_decode(&d, "Zm9", 3), -1);
	assert_int_equal(vm_base64_decode(&d, "Zm=v", 4), -1);
	assert_int_equal(vm_base64_decode(&d, "Z!9v", 4), -1);
	assert_int_equal(vm_base64_decode(&d, "Zg==Zg==", 8), -1);
	assert_int_equal(d.len, 0);
	strbuf_release(&e);
	strbuf_release(&d);
}

static void test_generate(void **state)
{
	struct strbuf priv = STRBUF_INIT, pub = STRBUF_INIT, blob = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(vm_sshkey_generate(&priv, &pub, "berth-test", &err), 0);
	assert_true(!strncmp(priv.buf, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36));
	assert_non_null(strstr(priv.buf, "\n-----END OPENSSH PRIVATE KEY-----\n"));
	assert_true(!strncmp(pub.buf, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 37));
	assert_non_null(strstr(pub.buf, " berth-test\n"));
	/* The public blob: string "ssh-ed25519", string of 32 bytes. */
	const char *b = pub.buf + 12;
	const char *sp = strchr(b, ' ');
	assert_int_equal(vm_base64_decode(&blob, b, (size_t)(sp - b)), 0);
	assert_int_equal(blob.len, 4 + 11 + 4 + 32);
	assert_memory_equal(blob.buf + 4, "ssh-ed25519", 11);
	/* Two keys differ. */
	struct strbuf priv2 = STRBUF_INIT, pub2 = STRBUF_INIT;
	assert_int_equal(vm_sshkey_generate(&priv2, &pub2, "berth-test", &err), 0);
	assert_string_not_equal(pub.buf, pub2.buf);
	strbuf_release(&priv);
	strbuf_release(&pub);
	strbuf_release(&priv2);
	strbuf_release(&pub2);
	strbuf_release(&blob);
}

static void test_files_and_ssh_keygen(void **state)
{
	char dir[] = "/tmp/berth-vm-sshkey-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *k = xstrfmt("%s/id_ed25519", dir), *kp = xstrfmt("%s/id_ed25519.pub", dir);
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(vm_sshkey_write_new(k, kp, "berth-vm-x", &err), 0);
	struct stat st;
	assert_int_equal(stat(k, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* Never overwritten. */
	assert_int_equal(vm_sshkey_write_new(k, kp, "berth-vm-x", &err), BERTH_E_IO);
	berth_error_release(&err);

	if (!access("/usr/bin/ssh-keygen", X_OK)) {
		struct strbuf derived = STRBUF_INIT, pub = STRBUF_INIT;
		const char *const argv[] = {"/usr/bin/ssh-keygen", "-y", "-f", k, NULL};
		assert_int_equal(proc_capture(&derived, argv, 10000, 0, &err), 0);
		assert_int_equal(vm_fs_read(&pub, kp, 4096, &err), 0);
		/* ssh-keygen -y prints "TYPE BASE64 COMMENT" from the private key. */
		assert_string_equal(derived.buf, pub.buf);
		strbuf_release(&derived);
		strbuf_release(&pub);
	}
	vm_fs_remove_tree(dir, NULL);
	free(k);
	free(kp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_files_and_ssh_keygen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
