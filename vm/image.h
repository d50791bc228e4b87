/* image: the guest image an instance boots, as vm/image/build lays it out:
 *
 *   <dir>/berth.qcow2          the disk (any name ending the URL or path)
 *   <dir>/berth.qcow2.sha256   "HEX  berth.qcow2" (sha256sum format) or just HEX
 *   <dir>/vmlinuz <dir>/initrd.img <dir>/cmdline   direct kernel boot
 *
 * fetched from an http(s) URL (libcurl, resumable, see vm/http.h) or copied
 * from a local file or directory, into a content-addressed cache:
 *
 *   <cache>/images/<sha256>/{berth.qcow2,vmlinuz,initrd.img,cmdline,source}
 *
 * The disk's sha256 comes from --sha256 or the sibling ".sha256" file and is
 * verified before the cache entry is complete; an entry that is complete is
 * used without touching the network. vmlinuz and initrd.img are checked
 * against "<name>.sha256" siblings when the server has them (vm/image/build
 * does not write them yet: see docs/vm.md). Concurrent fetches of one image
 * serialise on <cache>/images/<sha256>.lock. */
#ifndef BERTH_VM_IMAGE_H
#define BERTH_VM_IMAGE_H

#include "vm/http.h"

struct strbuf;
struct berth_error;

#define VM_IMAGE_DISK_NAME   "berth.qcow2"
#define VM_IMAGE_CMDLINE_MAX 1024

struct vm_image {
	char *dir; /* the cache entry */
	char *qcow2, *kernel, *initrd;
	char *cmdline; /* the kernel command line, one line */
	char *sha256;  /* the disk's, verified */
	char *source;  /* URL or absolute path, as given */
	bool cached;   /* the entry was complete before this fetch */
};

struct vm_image_opts {
	const char *source;    /* URL, file or directory */
	const char *sha256;    /* expected digest, or NULL to read the sibling file */
	const char *cache_dir; /* berth's cache root (vm_cache_dir) */
	int attempts;          /* per download; 0 = VM_HTTP_ATTEMPTS_DEFAULT */
	vm_http_progress_fn *progress;
	vm_http_note_fn *note;
	void *data;
};

int vm_image_fetch(struct vm_image *out, const struct vm_image_opts *o, struct berth_error *err);
void vm_image_release(struct vm_image *img);

/* Parses a sha256 file's first word (64 hex digits, either case) into out
 * (lowercase). BERTH_E_PARSE otherwise. */
int vm_image_parse_sha256(struct strbuf *out, const char *text, size_t len, struct berth_error *err);

/* The image used when `vm init` gets no --image: $BERTH_VM_IMAGE, else the
 * latest local build (${BERTH_IMAGE_CACHE:-/var/cache/berth/image}/latest).
 * BERTH_E_NOTFOUND when there is neither. */
int vm_image_default_source(struct strbuf *out, struct berth_error *err);

#endif
