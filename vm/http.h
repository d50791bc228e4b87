/* http: downloads through libcurl, converted to berth's errors here (the only
 * file that includes curl; libcurl is loaded on first use, see vm/dynlib.h).
 * A download goes to "<dest>.part"; an interrupted one resumes with a Range
 * request (If-Range with the ETag or Last-Modified the first response gave,
 * kept in "<dest>.part.meta"), after re-hashing the bytes already on disk,
 * and a server that ignores the range is handled by starting over. The
 * sha256 is computed while streaming and checked before the file is renamed
 * into place; a mismatch deletes the partial file. Transient failures
 * (connection lost, a 5xx, a stalled transfer) are retried a bounded number
 * of times with backoff. Only http and https are allowed, also across
 * redirects. */
#ifndef BERTH_VM_HTTP_H
#define BERTH_VM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct berth_error;

#define VM_HTTP_ATTEMPTS_DEFAULT  5
#define VM_HTTP_MAX_BYTES_DEFAULT (64LL << 30) /* no berth image comes near 64 GiB */
#define VM_HTTP_LOW_SPEED_SECONDS 60           /* below 1 KiB/s this long: stalled */

/* now/total in bytes of the whole file (total 0 when unknown); done once at the end. */
typedef void vm_http_progress_fn(void *data, const char *what, int64_t now, int64_t total, bool done);
/* A one-line remark ("connection lost at 40 MiB; resuming, attempt 2 of 5"). */
typedef void vm_http_note_fn(void *data, const char *msg);

struct vm_download {
	const char *url;
	const char *dest;          /* final path */
	const char *what;          /* name for progress and messages */
	const char *expect_sha256; /* 64 hex digits, or NULL: not checked here */
	int attempts;              /* 0 = VM_HTTP_ATTEMPTS_DEFAULT */
	int64_t max_bytes;         /* 0 = VM_HTTP_MAX_BYTES_DEFAULT */
	vm_http_progress_fn *progress;
	vm_http_note_fn *note;
	void *data; /* for progress and note */
};

/* Fetches d->url to d->dest (see above), appending the hex sha256 of the
 * file to sha256_out (may be NULL). BERTH_E_NOTFOUND for a 404/410;
 * BERTH_E_INVALID for a digest mismatch; BERTH_E_IO otherwise. */
int vm_http_download(const struct vm_download *d, struct strbuf *sha256_out, struct berth_error *err);

/* GETs a small document into out (at most cap bytes, else BERTH_E_LIMIT).
 * BERTH_E_NOTFOUND for a 404/410. out is untouched on error. */
int vm_http_get(struct strbuf *out, const char *url, size_t cap, struct berth_error *err);

/* Loads libcurl (vm/dynlib.h) unless it is loaded already; the functions
 * above do it themselves. BERTH_E_IO, saying what to install, without it. */
int vm_http_load(struct berth_error *err);

/* True for URLs this module fetches (http:// and https://). */
bool vm_http_is_url(const char *s);

#endif
