#include "vm/image.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/lock.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "vm/fsutil.h"
#include "common/banned.h"

#define SHA_FILE_CAP 4096
#define KERNEL_MAX   (256LL << 20)
#define LOCK_WAIT_MS (60LL * 60 * 1000) /* another berth downloading the same image */

void vm_image_release(struct vm_image *img)
{
	free(img->dir);
	free(img->qcow2);
	free(img->kernel);
	free(img->initrd);
	free(img->cmdline);
	free(img->sha256);
	free(img->source);
	memset(img, 0, sizeof(*img));
}

int vm_image_parse_sha256(struct strbuf *out, const char *text, size_t len, struct berth_error *err)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)text[i]))
		i++;
	size_t start = i;
	while (i < len && isxdigit((unsigned char)text[i]))
		i++;
	if (i - start != 64 || (i < len && !isspace((unsigned char)text[i])))
		return berth_error_set(err, BERTH_E_PARSE, "not a sha256 digest (64 hex digits)");
	for (size_t k = start; k < i; k++)
		strbuf_addch(out, (char)tolower((unsigned char)text[k]));
	return 0;
}

int vm_image_default_source(struct strbuf *out, struct berth_error *err)
{
	const char *v = getenv("BERTH_VM_IMAGE");
	if (v && *v) {
		strbuf_addstr(out, v);
		return 0;
	}
	const char *c = getenv("BERTH_IMAGE_CACHE");
	char *latest = xstrfmt("%s/latest", c && *c ? c : "/var/cache/berth/image");
	char *disk = xstrfmt("%s/" VM_IMAGE_DISK_NAME, latest);
	int rc = 0;
	if (vm_fs_exists(disk))
		strbuf_addstr(out, latest);
	else
		rc = berth_error_set(err, BERTH_E_NOTFOUND,
				     "no image given: pass --image URL|PATH or set BERTH_VM_IMAGE (a local build with "
				     "vm/image/build would be found in %s)",
				     latest);
	free(latest);
	free(disk);
	return rc;
}

/* Splits source into the directory part (URL or path, no trailing '/') and
 * the disk's file name. */
static void split_source(const char *src, bool is_dir, char **dir, char **file)
{
	size_t n = strlen(src);
	if (is_dir || (n && src[n - 1] == '/')) {
		while (n > 1 && src[n - 1] == '/')
			n--;
		*dir = xstrndup(src, n);
		*file = xstrdup(VM_IMAGE_DISK_NAME);
		return;
	}
	const char *slash = strrchr(src, '/');
	if (!slash) {
		*dir = xstrdup(".");
		*file = xstrdup(src);
		return;
	}
	*dir = xstrndup(src, (size_t)(slash - src));
	*file = xstrdup(slash + 1);
}

static bool entry_complete(const char *entry)
{
	static const char *const files[] = {VM_IMAGE_DISK_NAME, "vmlinuz", "initrd.img", "cmdline"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *p = xstrfmt("%s/%s", entry, files[i]);
		bool ok = vm_fs_exists(p);
		free(p);
		if (!ok)
			return false;
	}
	return true;
}

static int check_cmdline(struct strbuf *cl, const char *where, struct berth_error *err)
{
	strbuf_trim(cl);
	if (!cl->len || strchr(cl->buf, '\n') || cl->len > VM_IMAGE_CMDLINE_MAX)
		return berth_error_set(err, BERTH_E_INVALID,
				       "%s: the kernel command line must be one line of at most %d bytes", where,
				       VM_IMAGE_CMDLINE_MAX);
	for (size_t i = 0; i < cl->len; i++)
		if ((unsigned char)cl->buf[i] < 0x20 && cl->buf[i] != '\t')
			return berth_error_set(err, BERTH_E_INVALID, "%s: control character in the kernel command line",
					       where);
	return 0;
}

/* The optional "<url>.sha256" of a kernel or initrd; NULL when the server has none. */
static char *optional_sha256_url(const char *url, struct berth_error *err, int *rc)
{
	struct strbuf t = STRBUF_INIT, hex = STRBUF_INIT;
	char *u = xstrfmt("%s.sha256", url);
	*rc = vm_http_get(&t, u, SHA_FILE_CAP, err);
	if (*rc == BERTH_E_NOTFOUND) {
		*rc = 0;
		berth_error_release(err);
	} else if (!*rc) {
		*rc = vm_image_parse_sha256(&hex, t.buf, t.len, err);
		if (*rc)
			berth_error_prefix(err, "%s", u);
	}
	free(u);
	strbuf_release(&t);
	if (*rc || !hex.len) {
		strbuf_release(&hex);
		return NULL;
	}
	return strbuf_detach(&hex, NULL);
}

static char *optional_sha256_file(const char *path, struct berth_error *err, int *rc)
{
	struct strbuf t = STRBUF_INIT, hex = STRBUF_INIT;
	char *f = xstrfmt("%s.sha256", path);
	*rc = vm_fs_read(&t, f, SHA_FILE_CAP, err);
	if (*rc == BERTH_E_NOTFOUND) {
		*rc = 0;
		berth_error_release(err);
	} else if (!*rc) {
		*rc = vm_image_parse_sha256(&hex, t.buf, t.len, err);
		if (*rc)
			berth_error_prefix(err, "%s", f);
	}
	free(f);
	strbuf_release(&t);
	if (*rc || !hex.len) {
		strbuf_release(&hex);
		return NULL;
	}
	return strbuf_detach(&hex, NULL);
}

static int fetch_url(const struct vm_image_opts *o, const char *dir, const char *file, const char *sha,
		     const char *entry, struct berth_error *err)
{
	int rc = 0;
	struct strbuf cl = STRBUF_INIT;
	char *u_cmd = xstrfmt("%s/cmdline", dir);
	char *p_cmd = xstrfmt("%s/cmdline", entry);
	/* The small file first: a wrong directory fails before a long download. */
	rc = vm_http_get(&cl, u_cmd, VM_IMAGE_CMDLINE_MAX + 64, err);
	if (rc == BERTH_E_NOTFOUND)
		berth_error_prefix(err, "not a berth image directory (no cmdline beside %s)", file);
	if (!rc)
		rc = check_cmdline(&cl, u_cmd, err);
	static const char *const boot_files[] = {"vmlinuz", "initrd.img"};
	for (size_t i = 0; !rc && i < ARRAY_SIZE(boot_files); i++) {
		char *u = xstrfmt("%s/%s", dir, boot_files[i]);
		char *p = xstrfmt("%s/%s", entry, boot_files[i]);
		char *expect = optional_sha256_url(u, err, &rc);
		if (!rc) {
			struct vm_download d = {.url = u,
						.dest = p,
						.what = boot_files[i],
						.expect_sha256 = expect,
						.attempts = o->attempts,
						.max_bytes = KERNEL_MAX,
						.progress = o->progress,
						.note = o->note,
						.data = o->data};
			rc = vm_http_download(&d, NULL, err);
		}
		free(expect);
		free(u);
		free(p);
	}
	if (!rc) {
		char *u = xstrfmt("%s/%s", dir, file);
		char *p = xstrfmt("%s/" VM_IMAGE_DISK_NAME, entry);
		struct vm_download d = {.url = u,
					.dest = p,
					.what = file,
					.expect_sha256 = sha,
					.attempts = o->attempts,
					.progress = o->progress,
					.note = o->note,
					.data = o->data};
		rc = vm_http_download(&d, NULL, err);
		if (!rc)
			chmod(p, 0444);
		free(u);
		free(p);
	}
	/* cmdline last: with it, the entry is complete (entry_complete). */
	if (!rc) {
		strbuf_addch(&cl, '\n');
		rc = vm_fs_write_atomic(p_cmd, cl.buf, cl.len, 0644, err);
	}
	free(u_cmd);
	free(p_cmd);
	strbuf_release(&cl);
	return rc;
}

static int copy_checked(const char *src, const char *dst, const char *expect, mode_t mode, struct berth_error *err)
{
	struct strbuf got = STRBUF_INIT;
	char *tmp = xstrfmt("%s.part", dst);
	unlink(tmp);
	int rc = vm_fs_copy(src, tmp, mode, &got, err);
	if (!rc && expect && strcmp(got.buf, expect))
		rc = berth_error_set(err, BERTH_E_INVALID, "%s: sha256 mismatch: expected %s, got %s", src, expect,
				     got.buf);
	if (!rc && rename(tmp, dst) < 0)
		rc = berth_error_set(err, BERTH_E_IO, "cannot rename \"%s\": %s", tmp, strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	strbuf_release(&got);
	return rc;
}

static int fetch_local(const char *dir, const char *file, const char *sha, const char *entry, struct berth_error *err)
{
	int rc = 0;
	struct strbuf cl = STRBUF_INIT;
	char *src_cmd = xstrfmt("%s/cmdline", dir);
	rc = vm_fs_read(&cl, src_cmd, VM_IMAGE_CMDLINE_MAX + 64, err);
	if (rc == BERTH_E_NOTFOUND)
		berth_error_prefix(err, "not a berth image directory (no cmdline beside %s)", file);
	if (!rc)
		rc = check_cmdline(&cl, src_cmd, err);
	static const char *const boot_files[] = {"vmlinuz", "initrd.img"};
	for (size_t i = 0; !rc && i < ARRAY_SIZE(boot_files); i++) {
		char *s = xstrfmt("%s/%s", dir, boot_files[i]);
		char *p = xstrfmt("%s/%s", entry, boot_files[i]);
		char *expect = optional_sha256_file(s, err, &rc);
		if (!rc)
			rc = copy_checked(s, p, expect, 0644, err);
		free(expect);
		free(s);
		free(p);
	}
	if (!rc) {
		char *s = xstrfmt("%s/%s", dir, file);
		char *p = xstrfmt("%s/" VM_IMAGE_DISK_NAME, entry);
		rc = copy_checked(s, p, sha, 0444, err);
		free(s);
		free(p);
	}
	if (!rc) {
		char *p = xstrfmt("%s/cmdline", entry);
		strbuf_addch(&cl, '\n');
		rc = vm_fs_write_atomic(p, cl.buf, cl.len, 0644, err);
		free(p);
	}
	free(src_cmd);
	strbuf_release(&cl);
	return rc;
}

int vm_image_fetch(struct vm_image *out, const struct vm_image_opts *o, struct berth_error *err)
{
	bool url = vm_http_is_url(o->source);
	struct stat st;
	bool is_dir = false;
	char *abs = NULL;
	if (!url) {
		if (stat(o->source, &st) < 0)
			return berth_error_set(err, BERTH_E_NOTFOUND, "image \"%s\": %s", o->source, strerror(errno));
		is_dir = S_ISDIR(st.st_mode);
		abs = realpath(o->source, NULL);
		if (!abs)
			return berth_error_set(err, BERTH_E_IO, "image \"%s\": %s", o->source, strerror(errno));
	}
	const char *src = url ? o->source : abs;
	char *dir = NULL, *file = NULL;
	split_source(src, is_dir, &dir, &file);
	if (!*file || strchr(file, '?') || strchr(file, '#')) {
		free(abs);
		free(dir);
		free(file);
		return berth_error_set(err, BERTH_E_INVALID,
				       "image \"%s\": expected a URL or path ending in the disk's file name",
				       o->source);
	}

	/* The expected digest: --sha256, else the sibling file. */
	struct strbuf sha = STRBUF_INIT, text = STRBUF_INIT;
	int rc = 0;
	char *sha_src = xstrfmt("%s/%s.sha256", dir, file);
	if (o->sha256) {
		rc = vm_image_parse_sha256(&sha, o->sha256, strlen(o->sha256), err);
		if (rc)
			berth_error_prefix(err, "--sha256 \"%s\"", o->sha256);
	} else if (url) {
		/* Without libcurl that error alone: --sha256 would not help. */
		rc = vm_http_load(err);
		if (!rc && (rc = vm_http_get(&text, sha_src, SHA_FILE_CAP, err)))
			berth_error_prefix(err, "cannot get the image's sha256 (pass --sha256 to give it)");
		else if (!rc && (rc = vm_image_parse_sha256(&sha, text.buf, text.len, err)))
			berth_error_prefix(err, "%s", sha_src);
	} else {
		rc = vm_fs_read(&text, sha_src, SHA_FILE_CAP, err);
		if (rc == BERTH_E_NOTFOUND) {
			/* A local file without a digest beside it: it is the user's own
			 * file, so its current contents are what they mean. */
			berth_error_release(err);
			char *disk = xstrfmt("%s/%s", dir, file);
			rc = hash_sha256_file_hex(&sha, disk, err);
			free(disk);
		} else if (!rc && (rc = vm_image_parse_sha256(&sha, text.buf, text.len, err))) {
			berth_error_prefix(err, "%s", sha_src);
		}
	}
	free(sha_src);
	strbuf_release(&text);

	char *images = xstrfmt("%s/images", o->cache_dir);
	char *entry = sha.len ? xstrfmt("%s/%s", images, sha.buf) : NULL;
	char *lockname = sha.len ? xstrfmt("%s.lock", sha.buf) : NULL;
	struct lock lk = LOCK_INIT;
	bool cached = false;
	if (!rc)
		rc = vm_fs_mkdir_p(images, 0755, err);
	if (!rc)
		rc = lock_acquire(&lk, images, lockname, proc_deadline_in(LOCK_WAIT_MS), NULL, NULL, err);
	if (!rc) {
		cached = entry_complete(entry);
		if (!cached) {
			rc = vm_fs_mkdir_p(entry, 0755, err);
			if (!rc)
				rc = url ? fetch_url(o, dir, file, sha.buf, entry, err)
					 : fetch_local(dir, file, sha.buf, entry, err);
			if (!rc) {
				char *s = xstrfmt("%s/source", entry);
				char *line = xstrfmt("%s\n", src);
				vm_fs_write_atomic(s, line, strlen(line), 0644, NULL);
				free(s);
				free(line);
			}
		}
	}
	lock_release(&lk);
	if (!rc) {
		struct strbuf cl = STRBUF_INIT;
		char *p = xstrfmt("%s/cmdline", entry);
		rc = vm_fs_read(&cl, p, VM_IMAGE_CMDLINE_MAX + 64, err);
		if (!rc)
			rc = check_cmdline(&cl, p, err);
		free(p);
		if (!rc) {
			memset(out, 0, sizeof(*out));
			out->dir = xstrdup(entry);
			out->qcow2 = xstrfmt("%s/" VM_IMAGE_DISK_NAME, entry);
			out->kernel = xstrfmt("%s/vmlinuz", entry);
			out->initrd = xstrfmt("%s/initrd.img", entry);
			out->cmdline = strbuf_detach(&cl, NULL);
			out->sha256 = xstrdup(sha.buf);
			out->source = xstrdup(src);
			out->cached = cached;
		}
		strbuf_release(&cl);
	}
	free(images);
	free(entry);
	free(lockname);
	free(dir);
	free(file);
	free(abs);
	strbuf_release(&sha);
	return rc;
}
