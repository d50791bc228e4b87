/* vm/config.c: the instance config file, written and read back; errors at file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "vm/config.h"
#include "common/banned.h"

static const char *const HEX = "2ab1e0fcda344eaf3879f1df6798ab1bca05378999bf34066afd99d0f5c77b71";

static void fill(struct vm_config *c)
{
	vm_config_init(c);
	c->name = xstrdup("default");
	c->cpus = 2;
	c->memory_mib = 2048;
	c->disk_bytes = 10737418240LL;
	c->image = xstrdup("http://127.0.0.1:8080/img/berth.qcow2");
	c->image_sha256 = xstrdup(HEX);
	c->cmdline = xstrdup("root=/dev/vda rw console=ttyS0,115200 loglevel=4");
	c->user = xstrdup("root");
	c->created = 1795356371;
}

static void test_round_trip(void **state)
{
	struct vm_config c, d;
	struct berth_error err = BERTH_ERROR_INIT;
	fill(&c);
	assert_int_equal(vm_config_add_mount(&c, "/home/ann", &err), 0);
	assert_int_equal(vm_config_add_mount(&c, "/srv/data:ro", &err), 0);
	assert_int_equal(vm_config_add_mount(&c, "/srv/x:y:rw", &err), 0);
	struct strbuf sb = STRBUF_INIT;
	vm_config_format(&sb, &c);
	assert_non_null(strstr(sb.buf, "\nversion=1\nname=default\ncpus=2\nmemory_mib=2048\ndisk_bytes=10737418240\n"));
	assert_non_null(strstr(sb.buf, "\nmount=rw:/home/ann\nmount=ro:/srv/data\nmount=rw:/srv/x:y\n"));
	assert_int_equal(vm_config_parse(&d, sb.buf, sb.len, "config", &err), 0);
	assert_string_equal(d.name, "default");
	assert_int_equal(d.cpus, 2);
	assert_int_equal(d.memory_mib, 2048);
	assert_int_equal(d.disk_bytes, 10737418240LL);
	assert_string_equal(d.image, c.image);
	assert_string_equal(d.image_sha256, HEX);
	assert_string_equal(d.cmdline, c.cmdline);
	assert_string_equal(d.user, "root");
	assert_int_equal(d.created, 1795356371);
	assert_int_equal(d.mounts_nr, 3);
	assert_string_equal(d.mounts[1].path, "/srv/data");
	assert_true(d.mounts[1].ro);
	assert_string_equal(d.mounts[2].path, "/srv/x:y");
	assert_false(d.mounts[2].ro);

	/* Through a file. */
	char dir[] = "/tmp/berth-vm-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xstrfmt("%s/config", dir);
	vm_config_release(&d);
	assert_int_equal(vm_config_save(&c, path, &err), 0);
	assert_int_equal(vm_config_load(&d, path, &err), 0);
	assert_string_equal(d.image, c.image);
	unlink(path);
	rmdir(dir);
	free(path);
	vm_config_release(&c);
	vm_config_release(&d);
	strbuf_release(&sb);
}

static void expect_parse_error(const char *text, int line, const char *path, const char *msg_part)
{
	struct vm_config c;
	struct berth_error err = BERTH_ERROR_INIT;
	vm_config_init(&c);
	c.cpus = 99; /* must stay untouched */
	int rc = vm_config_parse(&c, text, strlen(text), "cfg", &err);
	assert_true(rc < 0);
	assert_int_equal(c.cpus, 99);
	assert_string_equal(err.file, "cfg");
	assert_int_equal(err.line, line);
	if (path)
		assert_string_equal(err.path, path);
	if (!strstr(err.msg, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg_part);
	berth_error_release(&err);
}

#define GOOD_REST                                                                                                      \
	"name=a\ncpus=1\nmemory_mib=512\ndisk_bytes=0\nimage=/x\nimage_sha256="                                        \
	"2ab1e0fcda344eaf3879f1df6798ab1bca05378999bf34066afd99d0f5c77b71\ncmdline=root=/dev/vda\nuser=root\n"

static void test_errors(void **state)
{
	expect_parse_error("version=1\n" GOOD_REST "colour=blue\n", 10, "colour", "unknown key");
	expect_parse_error("version=1\n" GOOD_REST "cpus=x\n", 10, "cpus", "invalid number");
	expect_parse_error("version=1\n" GOOD_REST "name=b\n", 10, "name", "duplicate");
	expect_parse_error("version=2\n", 1, "version", "not supported");
	expect_parse_error("# comment\n\nversion=1\njunk\n", 4, NULL, "expected key=value");
	expect_parse_error(GOOD_REST, 0, NULL, "no version");
	expect_parse_error("version=1\n" GOOD_REST "mount=xx:/a\n", 10, "mount", "ro:PATH");
	expect_parse_error("version=1\nname=Bad!\ncpus=1\nmemory_mib=512\nimage=/x\nimage_sha256="
			   "2ab1e0fcda344eaf3879f1df6798ab1bca05378999bf34066afd99d0f5c77b71\ncmdline=c\nuser=root\n",
			   0, NULL, "invalid VM name");
	expect_parse_error("version=1\nname=a\ncpus=1\nmemory_mib=512\nimage=/x\nimage_sha256=abc\ncmdline=c\n"
			   "user=root\n",
			   0, NULL, "image_sha256");
	expect_parse_error("version=1\n" GOOD_REST "mount=rw:/etc/ssh\n", 0, NULL, "hide the guest's /etc");
}

static void expect_mount_error(const char *spec, const char *msg_part)
{
	struct vm_config c;
	struct berth_error err = BERTH_ERROR_INIT;
	vm_config_init(&c);
	assert_int_equal(vm_config_add_mount(&c, "/home/ann", &err), 0);
	assert_true(vm_config_add_mount(&c, spec, &err) < 0);
	if (!strstr(err.msg, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg_part);
	assert_int_equal(c.mounts_nr, 1);
	berth_error_release(&err);
	vm_config_release(&c);
}

static void test_mounts(void **state)
{
	expect_mount_error("relative/dir", "absolute");
	expect_mount_error("/", "root cannot be shared");
	expect_mount_error("/usr/local/src", "/usr");
	expect_mount_error("/proc", "/proc");
	expect_mount_error("/var/lib/containerd", "/var/lib/containerd");
	expect_mount_error("/home/ann/projects", "overlaps");
	expect_mount_error("/home", "overlaps");
	expect_mount_error("/srv/a\tb", "tabs, newlines");
	expect_mount_error("/srv/a\nb", "tabs, newlines");
	expect_mount_error("/srv/trailing ", "spaces at the start or end");
	expect_mount_error("/srv/ lead/x", "spaces at the start or end");
	expect_mount_error("/srv/a/../b", "clean");
	expect_mount_error("/srv/a/", "clean");
	/* Neighbours are fine: /home/annex is not under /home/ann. */
	struct vm_config c;
	struct berth_error err = BERTH_ERROR_INIT;
	vm_config_init(&c);
	assert_int_equal(vm_config_add_mount(&c, "/home/ann", &err), 0);
	assert_int_equal(vm_config_add_mount(&c, "/home/annex:ro", &err), 0);
	assert_int_equal(vm_config_add_mount(&c, "/var/lib/data", &err), 0);
	assert_int_equal(vm_config_add_mount(&c, "/srv/my projects/x y", &err), 0);
	assert_int_equal(c.mounts_nr, 4);
	assert_true(c.mounts[1].ro);
	vm_config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_mounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
