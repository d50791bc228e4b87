/* vm/http.c and vm/image.c against a small HTTP server in a child process
 * (127.0.0.1 only): digests verified before use, a transfer cut mid-file
 * resumed with Range (in the same run and in the next one), a server that
 * ignores Range, a corrupted image refused, 404s, the image cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/strbuf.h"
#include "vm/fsutil.h"
#include "vm/http.h"
#include "vm/image.h"
#include "common/banned.h"

#define DISK_LEN (300 * 1024 + 17)

static char dir[] = "/tmp/berth-vm-image-XXXXXX";
static char *disk; /* the "image" bytes */
static struct strbuf disk_sha = STRBUF_INIT;

/* --- the server ----------------------------------------------------------------------------- */

struct server {
	pid_t pid;
	int port;
	char *log; /* one line per request: "PATH RANGE-START IF-RANGE?" */
};

struct server_opts {
	int cut_first_at;  /* > 0: the first GET of the disk stops after this many bytes */
	bool ignore_range; /* answer 200 with the whole file to range requests */
	bool corrupt;      /* flip a byte of the disk */
	bool no_sha_file;  /* 404 for berth.qcow2.sha256 */
};

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void serve_one(int c, const struct server_opts *o, int *cuts, const char *log)
{
	char req[8192];
	size_t len = 0;
	while (len < sizeof(req) - 1) {
		ssize_t n = read(c, req + len, sizeof(req) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	char path[512];
	if (sscanf(req, "GET %511s", path) != 1)
		return;
	long long start = -1;
	char *r = strcasestr(req, "\r\nRange: bytes=");
	if (r)
		start = strtoll(r + 15, NULL, 10);
	bool if_range = strcasestr(req, "\r\nIf-Range:") != NULL;
	FILE *lf = fopen(log, "a");
	fprintf(lf, "%s %lld%s\n", path, start, if_range ? " if-range" : "");
	fclose(lf);

	const char *body = NULL;
	size_t blen = 0;
	char small[256];
	char *body_copy = NULL;
	if (!strcmp(path, "/img/berth.qcow2")) {
		body_copy = xmalloc(DISK_LEN);
		memcpy(body_copy, disk, DISK_LEN);
		if (o->corrupt)
			body_copy[1000] ^= 1;
		body = body_copy;
		blen = DISK_LEN;
	} else if (!strcmp(path, "/img/berth.qcow2.sha256") && !o->no_sha_file) {
		snprintf(small, sizeof(small), "%s  berth.qcow2\n", disk_sha.buf);
		body = small;
		blen = strlen(small);
	} else if (!strcmp(path, "/img/vmlinuz")) {
		body = "KERNEL";
		blen = 6;
	} else if (!strcmp(path, "/img/initrd.img")) {
		body = "INITRD";
		blen = 6;
	} else if (!strcmp(path, "/img/cmdline")) {
		body = "root=/dev/vda rw console=ttyS0,115200\n";
		blen = strlen(body);
	}
	char hdr[512];
	if (!body) {
		const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		send_all(c, nf, strlen(nf));
		return;
	}
	if (start > (long long)blen) {
		const char *e = "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		send_all(c, e, strlen(e));
		free(body_copy);
		return;
	}
	if (start >= 0 && !o->ignore_range) {
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\nContent-Range: bytes %lld-%zu/%zu\r\n"
			 "ETag: \"v1\"\r\nConnection: close\r\n\r\n",
			 blen - (size_t)start, start, blen - 1, blen);
		body += start;
		blen -= (size_t)start;
	} else {
		snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nETag: \"v1\"\r\nAccept-Ranges: bytes\r\n"
			 "Connection: close\r\n\r\n",
			 blen);
	}
	send_all(c, hdr, strlen(hdr));
	size_t n = blen;
	if (!strcmp(path, "/img/berth.qcow2") && o->cut_first_at > 0 && !*cuts) {
		(*cuts)++;
		n = (size_t)o->cut_first_at;
	}
	send_all(c, body, n);
	free(body_copy);
}

static void server_start(struct server *s, const struct server_opts *o)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 16), 0);
	socklen_t sl = sizeof(sa);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	s->log = xstrfmt("%s/requests-%d.log", dir, s->port);
	unlink(s->log);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		int cuts = 0;
		/* Never outlive the test (a failed assertion skips server_stop), and do
		 * not hold ctest's output pipe open. */
		alarm(60);
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		dup2(nul, 2);
		/* Bounded: a test makes far fewer requests; the parent kills us anyway. */
		for (int i = 0; i < 200; i++) {
			int c = accept(l, NULL, NULL);
			if (c < 0)
				_exit(1);
			serve_one(c, o, &cuts, s->log);
			shutdown(c, SHUT_RDWR);
			close(c);
		}
		_exit(0);
	}
	close(l);
}

static void server_stop(struct server *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	unlink(s->log);
	free(s->log);
}

static char *server_url(const struct server *s, const char *path)
{
	return xstrfmt("http://127.0.0.1:%d%s", s->port, path);
}

static void server_log(const struct server *s, struct strbuf *out)
{
	strbuf_reset(out);
	vm_fs_read(out, s->log, 1 << 20, NULL);
}

/* --- fixtures ------------------------------------------------------------------------------- */

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	disk = xmalloc(DISK_LEN);
	for (int i = 0; i < DISK_LEN; i++)
		disk[i] = (char)(i * 7 + i / 251);
	hash_sha256_hex(&disk_sha, disk, DISK_LEN);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int teardown(void **state)
{
	free(disk);
	strbuf_release(&disk_sha);
	return vm_fs_remove_tree(dir, NULL);
}

struct notes {
	int n;
	char last[512];
};

static void note(void *data, const char *msg)
{
	struct notes *nt = data;
	nt->n++;
	snprintf(nt->last, sizeof(nt->last), "%s", msg);
}

static int file_is_disk(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int ok = !vm_fs_read(&sb, path, DISK_LEN + 1, NULL) && sb.len == DISK_LEN && !memcmp(sb.buf, disk, DISK_LEN);
	strbuf_release(&sb);
	return ok;
}

/* --- tests ---------------------------------------------------------------------------------- */

static void test_download_and_resume(void **state)
{
	struct server s;
	struct server_opts o = {.cut_first_at = 100000};
	server_start(&s, &o);
	char *url = server_url(&s, "/img/berth.qcow2");
	char *dest = xstrfmt("%s/d1", dir);
	struct strbuf sha = STRBUF_INIT, log = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct notes nt = {0};
	struct vm_download d = {.url = url,
				.dest = dest,
				.what = "berth.qcow2",
				.expect_sha256 = disk_sha.buf,
				.attempts = 3,
				.note = note,
				.data = &nt};
	assert_int_equal(vm_http_download(&d, &sha, &err), 0);
	assert_string_equal(sha.buf, disk_sha.buf);
	assert_true(file_is_disk(dest));
	char *part = xstrfmt("%s.part", dest);
	assert_false(vm_fs_exists(part));
	server_log(&s, &log);
	/* The second request asked for the rest only, with the ETag as If-Range. */
	assert_string_equal(log.buf, "/img/berth.qcow2 -1\n/img/berth.qcow2 100000 if-range\n");
	assert_int_equal(nt.n, 1);
	assert_non_null(strstr(nt.last, "attempt 2 of 3"));
	server_stop(&s);
	free(url);
	free(dest);
	free(part);
	strbuf_release(&sha);
	strbuf_release(&log);
}

static void test_resume_in_next_run(void **state)
{
	struct server s;
	struct server_opts o = {.cut_first_at = 123457};
	server_start(&s, &o);
	char *url = server_url(&s, "/img/berth.qcow2");
	char *dest = xstrfmt("%s/d2", dir);
	char *part = xstrfmt("%s.part", dest);
	struct strbuf log = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct notes nt = {0};
	struct vm_download d = {.url = url,
				.dest = dest,
				.what = "berth.qcow2",
				.expect_sha256 = disk_sha.buf,
				.attempts = 1,
				.note = note,
				.data = &nt};
	/* One attempt only: the cut ends this run, the partial file stays. */
	assert_int_equal(vm_http_download(&d, NULL, &err), BERTH_E_IO);
	assert_non_null(strstr(err.msg, "run the command again to resume"));
	berth_error_release(&err);
	struct stat st;
	assert_int_equal(stat(part, &st), 0);
	assert_int_equal(st.st_size, 123457);
	assert_false(vm_fs_exists(dest));
	/* The next run re-hashes what is there and asks for the rest. */
	assert_int_equal(vm_http_download(&d, NULL, &err), 0);
	assert_true(file_is_disk(dest));
	assert_non_null(strstr(nt.last, "resuming berth.qcow2 from"));
	server_log(&s, &log);
	assert_string_equal(log.buf, "/img/berth.qcow2 -1\n/img/berth.qcow2 123457 if-range\n");

	/* A partial file that is in fact whole: the server says 416, the digest decides. */
	char *dest3 = xstrfmt("%s/d2b", dir), *part3 = xstrfmt("%s/d2b.part", dir);
	assert_int_equal(vm_fs_write_atomic(part3, disk, DISK_LEN, 0644, NULL), 0);
	d.dest = dest3;
	assert_int_equal(vm_http_download(&d, NULL, &err), 0);
	assert_true(file_is_disk(dest3));
	free(dest3);
	free(part3);
	server_stop(&s);
	free(url);
	free(dest);
	free(part);
	strbuf_release(&log);
}

static void test_server_ignores_range(void **state)
{
	struct server s;
	struct server_opts o = {.cut_first_at = 5000, .ignore_range = true};
	server_start(&s, &o);
	char *url = server_url(&s, "/img/berth.qcow2");
	char *dest = xstrfmt("%s/d3", dir);
	struct strbuf sha = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct vm_download d = {.url = url, .dest = dest, .what = "x", .expect_sha256 = disk_sha.buf, .attempts = 2};
	/* The 200 that answers the range request restarts the file: no duplicated bytes. */
	assert_int_equal(vm_http_download(&d, &sha, &err), 0);
	assert_true(file_is_disk(dest));
	assert_string_equal(sha.buf, disk_sha.buf);
	server_stop(&s);
	free(url);
	free(dest);
	strbuf_release(&sha);
}

static void test_bad_digest_and_404(void **state)
{
	struct server s;
	struct server_opts o = {.corrupt = true};
	server_start(&s, &o);
	char *url = server_url(&s, "/img/berth.qcow2");
	char *dest = xstrfmt("%s/d4", dir);
	char *part = xstrfmt("%s.part", dest);
	struct berth_error err = BERTH_ERROR_INIT;
	struct vm_download d = {.url = url, .dest = dest, .what = "x", .expect_sha256 = disk_sha.buf};
	assert_int_equal(vm_http_download(&d, NULL, &err), BERTH_E_INVALID);
	assert_non_null(strstr(err.msg, "sha256 mismatch"));
	assert_non_null(strstr(err.msg, disk_sha.buf));
	berth_error_release(&err);
	assert_false(vm_fs_exists(dest));
	assert_false(vm_fs_exists(part));

	char *missing = server_url(&s, "/img/nope");
	d.url = missing;
	assert_int_equal(vm_http_download(&d, NULL, &err), BERTH_E_NOTFOUND);
	berth_error_release(&err);
	struct strbuf small = STRBUF_INIT;
	assert_int_equal(vm_http_get(&small, missing, 100, &err), BERTH_E_NOTFOUND);
	berth_error_release(&err);
	char *cmd = server_url(&s, "/img/cmdline");
	assert_int_equal(vm_http_get(&small, cmd, 10, &err), BERTH_E_LIMIT);
	berth_error_release(&err);
	assert_int_equal(vm_http_get(&small, cmd, 100, &err), 0);
	assert_string_equal(small.buf, "root=/dev/vda rw console=ttyS0,115200\n");
	/* Only http(s). */
	d.url = "file:///etc/passwd";
	assert_true(vm_http_download(&d, NULL, &err) < 0);
	berth_error_release(&err);
	assert_false(vm_http_is_url("file:///etc/passwd"));
	assert_true(vm_http_is_url("HTTPS://x/y"));
	server_stop(&s);
	free(url);
	free(dest);
	free(part);
	free(missing);
	free(cmd);
	strbuf_release(&small);
}

static void test_parse_sha256(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	const char *a = "2AB1E0FCDA344EAF3879F1DF6798AB1BCA05378999BF34066AFD99D0F5C77B71  berth.qcow2\n";
	assert_int_equal(vm_image_parse_sha256(&out, a, strlen(a), &err), 0);
	assert_string_equal(out.buf, "2ab1e0fcda344eaf3879f1df6798ab1bca05378999bf34066afd99d0f5c77b71");
	strbuf_reset(&out);
	const char *b = "  2ab1e0fcda344eaf3879f1df6798ab1bca05378999bf34066afd99d0f5c77b71";
	assert_int_equal(vm_image_parse_sha256(&out, b, strlen(b), &err), 0);
	strbuf_reset(&out);
	const char *bad[] = {"", "abc", "2ab1e0fcda344eaf3879f1df6798ab1bca05378999bf34066afd99d0f5c77b7",
			     "2ab1e0fcda344eaf3879f1df6798ab1bca05378999bf34066afd99d0f5c77b71x", "<html>404</html>"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vm_image_parse_sha256(&out, bad[i], strlen(bad[i]), &err), BERTH_E_PARSE);
		berth_error_release(&err);
		assert_int_equal(out.len, 0);
	}
	strbuf_release(&out);
}

static void test_image_fetch_url_and_cache(void **state)
{
	struct server s;
	struct server_opts o = {0};
	server_start(&s, &o);
	char *url = server_url(&s, "/img/berth.qcow2");
	char *cache = xstrfmt("%s/cache1", dir);
	struct vm_image img;
	struct berth_error err = BERTH_ERROR_INIT;
	struct vm_image_opts io = {.source = url, .cache_dir = cache};
	assert_int_equal(vm_image_fetch(&img, &io, &err), 0);
	assert_false(img.cached);
	assert_string_equal(img.sha256, disk_sha.buf);
	assert_string_equal(img.cmdline, "root=/dev/vda rw console=ttyS0,115200");
	assert_true(file_is_disk(img.qcow2));
	char *want_dir = xstrfmt("%s/images/%s", cache, disk_sha.buf);
	assert_string_equal(img.dir, want_dir);
	struct stat st;
	assert_int_equal(stat(img.qcow2, &st), 0);
	assert_int_equal(st.st_mode & 0222, 0); /* read-only: overlays sit on it */
	vm_image_release(&img);

	/* Again: the digest is fetched, the disk is not. */
	struct strbuf log = STRBUF_INIT;
	server_log(&s, &log);
	size_t before = log.len;
	assert_int_equal(vm_image_fetch(&img, &io, &err), 0);
	assert_true(img.cached);
	server_log(&s, &log);
	assert_string_equal(log.buf + before, "/img/berth.qcow2.sha256 -1\n");
	vm_image_release(&img);

	/* A wrong --sha256 is refused and nothing is cached under it. */
	io.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	assert_int_equal(vm_image_fetch(&img, &io, &err), BERTH_E_INVALID);
	assert_non_null(strstr(err.msg, "sha256 mismatch"));
	berth_error_release(&err);
	char *bad_entry = xstrfmt("%s/images/%s/berth.qcow2", cache, io.sha256);
	assert_false(vm_fs_exists(bad_entry));
	server_stop(&s);

	/* No .sha256 on the server and no --sha256: refused, the user is told how. */
	struct server s2;
	struct server_opts o2 = {.no_sha_file = true};
	server_start(&s2, &o2);
	char *url2 = server_url(&s2, "/img/berth.qcow2");
	struct vm_image_opts io2 = {.source = url2, .cache_dir = cache};
	assert_int_equal(vm_image_fetch(&img, &io2, &err), BERTH_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "pass --sha256"));
	berth_error_release(&err);
	server_stop(&s2);

	free(url);
	free(url2);
	free(cache);
	free(want_dir);
	free(bad_entry);
	strbuf_release(&log);
}

static void test_image_fetch_local(void **state)
{
	char *src = xstrfmt("%s/build", dir);
	char *cache = xstrfmt("%s/cache2", dir);
	assert_int_equal(vm_fs_mkdir_p(src, 0755, NULL), 0);
	char *f;
	f = xstrfmt("%s/berth.qcow2", src);
	assert_int_equal(vm_fs_write_atomic(f, disk, DISK_LEN, 0644, NULL), 0);
	free(f);
	f = xstrfmt("%s/berth.qcow2.sha256", src);
	char *line = xstrfmt("%s  berth.qcow2\n", disk_sha.buf);
	assert_int_equal(vm_fs_write_atomic(f, line, strlen(line), 0644, NULL), 0);
	free(line);
	free(f);
	const char *names[] = {"vmlinuz", "initrd.img", "cmdline"};
	const char *texts[] = {"K", "I", "root=/dev/vda\n"};
	for (int i = 0; i < 3; i++) {
		f = xstrfmt("%s/%s", src, names[i]);
		assert_int_equal(vm_fs_write_atomic(f, texts[i], strlen(texts[i]), 0644, NULL), 0);
		free(f);
	}
	struct vm_image img;
	struct berth_error err = BERTH_ERROR_INIT;
	struct vm_image_opts io = {.source = src, .cache_dir = cache};
	assert_int_equal(vm_image_fetch(&img, &io, &err), 0);
	assert_string_equal(img.sha256, disk_sha.buf);
	assert_true(file_is_disk(img.qcow2));
	assert_string_equal(img.cmdline, "root=/dev/vda");
	assert_string_equal(img.source, src);
	vm_image_release(&img);

	/* A kernel with a .sha256 beside it that does not match: refused. */
	f = xstrfmt("%s/vmlinuz.sha256", src);
	const char *zeros = "0000000000000000000000000000000000000000000000000000000000000000  vmlinuz\n";
	assert_int_equal(vm_fs_write_atomic(f, zeros, strlen(zeros), 0644, NULL), 0);
	free(f);
	/* The disk changed on disk (corrupted after its .sha256 was written): refused. */
	f = xstrfmt("%s/berth.qcow2", src);
	disk[10] ^= 1;
	assert_int_equal(vm_fs_write_atomic(f, disk, DISK_LEN, 0644, NULL), 0);
	disk[10] ^= 1;
	free(f);
	char *cache3 = xstrfmt("%s/cache3", dir);
	io.cache_dir = cache3;
	assert_true(vm_image_fetch(&img, &io, &err) == BERTH_E_INVALID);
	assert_non_null(strstr(err.msg, "sha256 mismatch"));
	berth_error_release(&err);

	/* Not an image directory. */
	io.source = dir;
	assert_int_equal(vm_image_fetch(&img, &io, &err), BERTH_E_NOTFOUND);
	berth_error_release(&err);
	free(src);
	free(cache);
	free(cache3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_download_and_resume),  cmocka_unit_test(test_resume_in_next_run),
		cmocka_unit_test(test_server_ignores_range), cmocka_unit_test(test_bad_digest_and_404),
		cmocka_unit_test(test_parse_sha256),         cmocka_unit_test(test_image_fetch_url_and_cache),
		cmocka_unit_test(test_image_fetch_local),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
