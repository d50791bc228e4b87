#include "vm/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "vm/dynlib.h"
#include "vm/fsutil.h"
#include "common/banned.h"

#define CONNECT_TIMEOUT_S   30
#define SMALL_GET_TIMEOUT_S 60
#define PROGRESS_EVERY_MS   100
#define META_CAP            4096
#define BACKOFF_MAX_MS      8000

/* --- libcurl, loaded on first use (vm/dynlib.h) --------------------------------------------- */

/* Every libcurl function used here, without its "curl_" prefix: the table's
 * field and the symbol's name both come from this list, and each field is
 * typed with curl.h's prototype. */
#define CURL_FUNCTIONS(X)                                                                                              \
	X(global_init)                                                                                                 \
	X(easy_init)                                                                                                   \
	X(easy_setopt)                                                                                                 \
	X(easy_perform)                                                                                                \
	X(easy_getinfo)                                                                                                \
	X(easy_cleanup)                                                                                                \
	X(easy_strerror)                                                                                               \
	X(slist_append)                                                                                                \
	X(slist_free_all)

static struct curl_api {
#define X(f) typeof(curl_##f) *f;
	CURL_FUNCTIONS(X)
#undef X
} curl;

static const struct vm_dynlib_sym curl_syms[] = {
#define X(f) {"curl_" #f, offsetof(struct curl_api, f)},
	CURL_FUNCTIONS(X)
#undef X
};

static int curl_global(struct berth_error *err)
{
	CURLcode rc = curl.global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		return berth_error_set(err, BERTH_E_INTERNAL, "libcurl: %s", curl.easy_strerror(rc));
	return 0;
}

static struct vm_dynlib curl_lib = {
	.soname = "libcurl.so.4",
	.purpose = "to download images",
	.package = "libcurl4",
	.syms = curl_syms,
	.syms_nr = ARRAY_SIZE(curl_syms),
	.table = &curl,
	.table_size = sizeof(curl),
	.init = curl_global,
	VM_DYNLIB_STATE_INIT,
};

int vm_http_load(struct berth_error *err)
{
	return vm_dynlib_load(&curl_lib, err);
}

/* curl_easy_setopt() and curl_easy_getinfo() are variadic: libcurl reads the
 * argument as the type the option's number says (CURLOPTTYPE_*, CURLINFO_*).
 * curl.h's type checker (typecheck-gcc.h) sees only calls made by name, so
 * calls through the table go through these instead: the option must be of
 * the kind named (checked at compile time) and the value converts to exactly
 * the type libcurl reads, or the build fails. */
#define setopt_as(c, opt, kind, type, val)                                                                             \
	({                                                                                                             \
		_Static_assert((opt) - (opt) % 10000 == CURLOPTTYPE_##kind, #opt " is not a " #kind " option");        \
		type val_ = (val);                                                                                     \
		curl.easy_setopt((c), (opt), val_);                                                                    \
	})
#define setopt_long(c, opt, val)     setopt_as(c, opt, LONG, long, val)
#define setopt_str(c, opt, val)      setopt_as(c, opt, STRINGPOINT, const char *, val)
#define setopt_ptr(c, opt, val)      setopt_as(c, opt, OBJECTPOINT, void *, val)
#define setopt_slist(c, opt, val)    setopt_as(c, opt, SLISTPOINT, struct curl_slist *, val)
#define setopt_fn(c, opt, type, val) setopt_as(c, opt, FUNCTIONPOINT, type, val)
#define getinfo_long(c, info, out)                                                                                     \
	({                                                                                                             \
		_Static_assert(((info)&CURLINFO_TYPEMASK) == CURLINFO_LONG, #info " is not a long");                   \
		long *out_ = (out);                                                                                    \
		curl.easy_getinfo((c), (info), out_);                                                                  \
	})

/* --- requests ------------------------------------------------------------------------------- */

bool vm_http_is_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

/* Call vm_http_load() first. */
static CURL *new_handle(const char *url, char *errbuf, struct berth_error *err)
{
	CURL *c = curl.easy_init();
	if (!c) {
		berth_error_set(err, BERTH_E_INTERNAL, "libcurl: cannot create a handle");
		return NULL;
	}
	errbuf[0] = '\0';
	setopt_str(c, CURLOPT_URL, url);
	setopt_ptr(c, CURLOPT_ERRORBUFFER, errbuf);
	setopt_long(c, CURLOPT_NOSIGNAL, 1L);
	setopt_long(c, CURLOPT_FOLLOWLOCATION, 1L);
	setopt_long(c, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
	setopt_str(c, CURLOPT_PROTOCOLS_STR, "http,https");
	setopt_str(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	setopt_long(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	setopt_long(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	setopt_long(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	setopt_long(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	setopt_long(c, CURLOPT_LOW_SPEED_TIME, (long)VM_HTTP_LOW_SPEED_SECONDS);
	setopt_long(c, CURLOPT_FAILONERROR, 1L);
	setopt_str(c, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
	return c;
}

static const char *curl_msg(CURLcode rc, const char *errbuf)
{
	return errbuf && errbuf[0] ? errbuf : curl.easy_strerror(rc);
}

/* --- small GET ------------------------------------------------------------------------------ */

struct mem_sink {
	struct strbuf *buf;
	size_t cap;
	bool over;
};

static size_t mem_write(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct mem_sink *m = data;
	size_t n = size * nmemb;
	if (m->buf->len + n > m->cap) {
		m->over = true;
		return 0;
	}
	strbuf_add(m->buf, ptr, n);
	return n;
}

int vm_http_get(struct strbuf *out, const char *url, size_t cap, struct berth_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	int ret = vm_http_load(err);
	if (ret)
		return ret;
	struct strbuf body = STRBUF_INIT;
	struct mem_sink m = {&body, cap, false};
	CURL *c = new_handle(url, errbuf, err);
	if (!c)
		return BERTH_E_INTERNAL;
	setopt_fn(c, CURLOPT_WRITEFUNCTION, curl_write_callback, mem_write);
	setopt_ptr(c, CURLOPT_WRITEDATA, &m);
	setopt_long(c, CURLOPT_TIMEOUT, (long)SMALL_GET_TIMEOUT_S);
	CURLcode rc = curl.easy_perform(c);
	long code = 0;
	getinfo_long(c, CURLINFO_RESPONSE_CODE, &code);
	if (m.over)
		ret = berth_error_set(err, BERTH_E_LIMIT, "%s: larger than %zu bytes", url, cap);
	else if (rc == CURLE_HTTP_RETURNED_ERROR && (code == 404 || code == 410))
		ret = berth_error_set(err, BERTH_E_NOTFOUND, "%s: HTTP %ld", url, code);
	else if (rc == CURLE_HTTP_RETURNED_ERROR)
		ret = berth_error_set(err, BERTH_E_IO, "%s: HTTP %ld", url, code);
	else if (rc != CURLE_OK)
		ret = berth_error_set(err, BERTH_E_IO, "%s: %s", url, curl_msg(rc, errbuf));
	else
		strbuf_add(out, body.buf, body.len);
	curl.easy_cleanup(c);
	strbuf_release(&body);
	return ret;
}

/* --- resumable download --------------------------------------------------------------------- */

struct xfer {
	const struct vm_download *d;
	CURL *c;
	int fd;         /* the .part file */
	int64_t have;   /* bytes in the .part file (and in hash) */
	int64_t offset; /* where this attempt's body starts in the file */
	int64_t max_bytes;
	struct hash_sha256_ctx hash;
	bool started;   /* the first body byte of this attempt arrived */
	bool over;      /* max_bytes exceeded */
	int io_errno;   /* a write to the .part file failed */
	bool bad_range; /* 206 with a Content-Range not starting at offset */
	char *meta_path;
	struct strbuf etag, last_modified;
	int64_t range_start; /* from Content-Range; -1 when none */
	int64_t last_progress_ms;
};

static void reset_headers(struct xfer *x)
{
	strbuf_reset(&x->etag);
	strbuf_reset(&x->last_modified);
	x->range_start = -1;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct xfer *x = data;
	size_t n = size * nmemb;
	struct strbuf h = STRBUF_INIT;
	strbuf_add(&h, ptr, n);
	strbuf_trim(&h);
	if (!strncmp(h.buf, "HTTP/", 5)) {
		reset_headers(x); /* a new response (after a redirect or a 100) */
	} else if (!strncasecmp(h.buf, "ETag:", 5)) {
		strbuf_addstr(&x->etag, h.buf + 5);
		strbuf_trim(&x->etag);
	} else if (!strncasecmp(h.buf, "Last-Modified:", 14)) {
		strbuf_addstr(&x->last_modified, h.buf + 14);
		strbuf_trim(&x->last_modified);
	} else if (!strncasecmp(h.buf, "Content-Range:", 14)) {
		/* "bytes START-END/TOTAL" */
		const char *v = h.buf + 14;
		while (*v == ' ')
			v++;
		long long s;
		if (!strncasecmp(v, "bytes ", 6) && sscanf(v + 6, "%lld-", &s) == 1)
			x->range_start = s;
	}
	strbuf_release(&h);
	return n;
}

/* The validator for If-Range: a strong ETag, else Last-Modified. */
static void save_meta(struct xfer *x)
{
	struct strbuf m = STRBUF_INIT;
	if (x->etag.len && strncmp(x->etag.buf, "W/", 2))
		strbuf_addf(&m, "%s\n", x->etag.buf);
	else if (x->last_modified.len)
		strbuf_addf(&m, "%s\n", x->last_modified.buf);
	if (m.len)
		vm_fs_write_atomic(x->meta_path, m.buf, m.len, 0644, NULL);
	else
		vm_fs_unlink(x->meta_path, NULL);
	strbuf_release(&m);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct xfer *x = data;
	size_t n = size * nmemb;
	if (!x->started) {
		long code = 0;
		x->started = true;
		getinfo_long(x->c, CURLINFO_RESPONSE_CODE, &code);
		if (code == 206) {
			if (x->range_start != x->offset) {
				x->bad_range = true;
				return 0;
			}
		} else {
			/* A 200: the whole file (the server ignored Range, or If-Range
			 * said the file changed). Start over. */
			if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0) {
				x->io_errno = errno;
				return 0;
			}
			hash_sha256_release(&x->hash);
			hash_sha256_init(&x->hash);
			x->have = 0;
			x->offset = 0;
			save_meta(x);
		}
	}
	if (x->have + (int64_t)n > x->max_bytes) {
		x->over = true;
		return 0;
	}
	if (write_all(x->fd, ptr, n) < 0) {
		x->io_errno = errno;
		return 0;
	}
	hash_sha256_update(&x->hash, ptr, n);
	x->have += (int64_t)n;
	return n;
}

static int on_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = data;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	int64_t now = proc_now_ms();
	if (x->d->progress && now - x->last_progress_ms >= PROGRESS_EVERY_MS) {
		x->last_progress_ms = now;
		x->d->progress(x->d->data, x->d->what, x->have, dltotal > 0 ? x->offset + (int64_t)dltotal : 0, false);
	}
	return 0;
}

/* Hashes the bytes already in the .part file (a resumed download). */
static int rehash(struct xfer *x, struct berth_error *err)
{
	char eb[128];
	char *buf = xmalloc(1u << 20);
	int64_t done = 0;
	int rc = 0;
	if (lseek(x->fd, 0, SEEK_SET) < 0)
		rc = -1;
	while (!rc && done < x->have) {
		ssize_t n = read(x->fd, buf, 1u << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		hash_sha256_update(&x->hash, buf, (size_t)n);
		done += n;
	}
	free(buf);
	if (rc || done != x->have || lseek(x->fd, 0, SEEK_END) != x->have)
		return berth_error_set(err, BERTH_E_IO, "cannot read the partial download \"%s.part\": %s", x->d->dest,
				       strerror_r(errno ? errno : EIO, eb, sizeof(eb)));
	return 0;
}

enum { ATTEMPT_DONE = 0, ATTEMPT_RETRY = 1 };

/* One request. Returns ATTEMPT_DONE, ATTEMPT_RETRY (err holds why), or an error. */
static int attempt(struct xfer *x, struct berth_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	char eb[128];
	const struct vm_download *d = x->d;
	struct curl_slist *hdrs = NULL;
	x->c = new_handle(d->url, errbuf, err);
	if (!x->c)
		return BERTH_E_INTERNAL;
	x->started = false;
	x->offset = x->have;
	reset_headers(x);
	setopt_fn(x->c, CURLOPT_WRITEFUNCTION, curl_write_callback, on_body);
	setopt_ptr(x->c, CURLOPT_WRITEDATA, x);
	setopt_fn(x->c, CURLOPT_HEADERFUNCTION, curl_write_callback, on_header);
	setopt_ptr(x->c, CURLOPT_HEADERDATA, x);
	setopt_fn(x->c, CURLOPT_XFERINFOFUNCTION, curl_xferinfo_callback, on_progress);
	setopt_ptr(x->c, CURLOPT_XFERINFODATA, x);
	setopt_long(x->c, CURLOPT_NOPROGRESS, 0L);
	if (x->have > 0) {
		struct strbuf meta = STRBUF_INIT;
		/* CURLOPT_RANGE rather than RESUME_FROM: libcurl then hands over a 200
		 * (a server without ranges, or an If-Range that failed) instead of
		 * failing with CURLE_RANGE_ERROR, and on_body starts the file over. */
		char range[32];
		snprintf(range, sizeof(range), "%lld-", (long long)x->have);
		setopt_str(x->c, CURLOPT_RANGE, range);
		if (!vm_fs_read(&meta, x->meta_path, META_CAP, NULL)) {
			strbuf_trim(&meta);
			if (meta.len && !strchr(meta.buf, '\n')) {
				char *h = xstrfmt("If-Range: %s", meta.buf);
				hdrs = curl.slist_append(hdrs, h);
				free(h);
			}
		}
		strbuf_release(&meta);
		setopt_slist(x->c, CURLOPT_HTTPHEADER, hdrs);
	}
	CURLcode rc = curl.easy_perform(x->c);
	long code = 0;
	getinfo_long(x->c, CURLINFO_RESPONSE_CODE, &code);
	curl.easy_cleanup(x->c);
	x->c = NULL;
	curl.slist_free_all(hdrs);

	if (x->over)
		return berth_error_set(err, BERTH_E_LIMIT, "%s: larger than %lld bytes", d->url,
				       (long long)x->max_bytes);
	if (x->io_errno)
		return berth_error_set(err, BERTH_E_IO, "cannot write \"%s.part\": %s", d->dest,
				       strerror_r(x->io_errno, eb, sizeof(eb)));
	if (x->bad_range) {
		x->bad_range = false;
		/* Not the bytes asked for: drop the partial file and start over. */
		if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0)
			return berth_error_set(err, BERTH_E_IO, "cannot truncate \"%s.part\"", d->dest);
		hash_sha256_release(&x->hash);
		hash_sha256_init(&x->hash);
		x->have = 0;
		berth_error_set(err, BERTH_E_IO, "%s: the server sent another range than asked for", d->url);
		return ATTEMPT_RETRY;
	}
	if (rc == CURLE_OK)
		return ATTEMPT_DONE;
	if (rc == CURLE_HTTP_RETURNED_ERROR && code == 416 && x->have > 0)
		return ATTEMPT_DONE; /* asked past the end: the partial file is whole (the digest decides) */
	if (rc == CURLE_HTTP_RETURNED_ERROR && (code == 404 || code == 410))
		return berth_error_set(err, BERTH_E_NOTFOUND, "%s: HTTP %ld", d->url, code);
	if (rc == CURLE_HTTP_RETURNED_ERROR && (code >= 500 || code == 408 || code == 429)) {
		berth_error_set(err, BERTH_E_IO, "%s: HTTP %ld", d->url, code);
		return ATTEMPT_RETRY;
	}
	if (rc == CURLE_HTTP_RETURNED_ERROR)
		return berth_error_set(err, BERTH_E_IO, "%s: HTTP %ld", d->url, code);
	switch (rc) {
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		berth_error_set(err, BERTH_E_IO, "%s: %s", d->url, curl_msg(rc, errbuf));
		return ATTEMPT_RETRY;
	default: return berth_error_set(err, BERTH_E_IO, "%s: %s", d->url, curl_msg(rc, errbuf));
	}
}

static void human(char *buf, size_t n, int64_t bytes)
{
	if (bytes >= (1LL << 30))
		snprintf(buf, n, "%.1f GiB", (double)bytes / (double)(1LL << 30));
	else if (bytes >= (1LL << 20))
		snprintf(buf, n, "%.1f MiB", (double)bytes / (double)(1LL << 20));
	else
		snprintf(buf, n, "%lld bytes", (long long)bytes);
}

int vm_http_download(const struct vm_download *d, struct strbuf *sha256_out, struct berth_error *err)
{
	char eb[128];
	struct xfer x;
	/* Before the .part file is created: no libcurl, nothing on disk. */
	int load = vm_http_load(err);
	if (load)
		return load;
	memset(&x, 0, sizeof(x));
	x.d = d;
	x.max_bytes = d->max_bytes > 0 ? d->max_bytes : VM_HTTP_MAX_BYTES_DEFAULT;
	x.range_start = -1;
	strbuf_init(&x.etag, 0);
	strbuf_init(&x.last_modified, 0);
	_cleanup_free_ char *part = xstrfmt("%s.part", d->dest);
	x.meta_path = xstrfmt("%s.part.meta", d->dest);
	x.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (x.fd < 0) {
		int rc = berth_error_set(err, BERTH_E_IO, "cannot open \"%s\": %s", part,
					 strerror_r(errno, eb, sizeof(eb)));
		free(x.meta_path);
		return rc;
	}
	hash_sha256_init(&x.hash);
	struct stat st;
	int rc = fstat(x.fd, &st) < 0 ? berth_error_set(err, BERTH_E_IO, "cannot stat \"%s\"", part) : 0;
	if (!rc) {
		x.have = st.st_size;
		if (x.have > 0) {
			rc = rehash(&x, err);
			if (!rc && d->note) {
				char h[32];
				human(h, sizeof(h), x.have);
				char *m = xstrfmt("resuming %s from %s already downloaded", d->what, h);
				d->note(d->data, m);
				free(m);
			}
		}
	}
	int attempts = d->attempts > 0 ? d->attempts : VM_HTTP_ATTEMPTS_DEFAULT;
	int64_t backoff = 500;
	for (int i = 1; !rc; i++) {
		int r = attempt(&x, err);
		if (r == ATTEMPT_DONE)
			break;
		if (r != ATTEMPT_RETRY) {
			rc = r;
			break;
		}
		if (i >= attempts) {
			berth_error_prefix(err,
					   "giving up after %d attempts (the partial file \"%s\" is kept: run the "
					   "command again to resume)",
					   attempts, part);
			rc = err ? err->code : BERTH_E_IO;
			if (!rc)
				rc = BERTH_E_IO;
			break;
		}
		if (d->note) {
			char h[32];
			human(h, sizeof(h), x.have);
			char *m = xstrfmt("%s; resuming at %s (attempt %d of %d)",
					  err && err->msg ? err->msg : "transfer failed", h, i + 1, attempts);
			d->note(d->data, m);
			free(m);
		}
		berth_error_release(err);
		struct timespec ts = {(time_t)(backoff / 1000), (long)(backoff % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	if (d->progress && !rc)
		d->progress(d->data, d->what, x.have, x.have, true);

	struct strbuf got = STRBUF_INIT;
	if (!rc) {
		hash_sha256_final_hex(&x.hash, &got);
		if (d->expect_sha256 && strcmp(got.buf, d->expect_sha256)) {
			rc = berth_error_set(err, BERTH_E_INVALID,
					     "%s: sha256 mismatch: expected %s, got %s (the download was deleted)",
					     d->url, d->expect_sha256, got.buf);
			close(x.fd);
			x.fd = -1;
			unlink(part);
			unlink(x.meta_path);
		}
	} else {
		hash_sha256_release(&x.hash);
	}
	if (!rc && (fsync(x.fd) < 0 || close(x.fd) < 0)) {
		x.fd = -1;
		rc = berth_error_set(err, BERTH_E_IO, "cannot write \"%s\": %s", part,
				     strerror_r(errno, eb, sizeof(eb)));
	} else if (!rc) {
		x.fd = -1;
	}
	if (!rc && rename(part, d->dest) < 0)
		rc = berth_error_set(err, BERTH_E_IO, "cannot rename \"%s\": %s", part,
				     strerror_r(errno, eb, sizeof(eb)));
	if (!rc) {
		unlink(x.meta_path);
		if (sha256_out)
			strbuf_add(sha256_out, got.buf, got.len);
	}
	if (x.fd >= 0)
		close(x.fd);
	strbuf_release(&got);
	strbuf_release(&x.etag);
	strbuf_release(&x.last_modified);
	free(x.meta_path);
	return rc;
}
