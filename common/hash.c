#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

#define READ_CHUNK (64u << 10)

static void add_hex(struct strbuf *out, const unsigned char *md, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	strbuf_grow(out, len * 2);
	for (size_t i = 0; i < len; i++) {
		strbuf_addch(out, hex[md[i] >> 4]);
		strbuf_addch(out, hex[md[i] & 15]);
	}
}

void hash_sha256(unsigned char out[HASH_SHA256_LEN], const void *data, size_t len)
{
	unsigned int n = 0;
	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) || n != HASH_SHA256_LEN)
		BUG("EVP_Digest(sha256) failed");
}

void hash_sha256_hex(struct strbuf *out, const void *data, size_t len)
{
	unsigned char md[HASH_SHA256_LEN];
	hash_sha256(md, data, len);
	add_hex(out, md, sizeof(md));
}

void hash_sha256_init(struct hash_sha256_ctx *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		BUG("EVP_DigestInit_ex(sha256) failed");
	h->ctx = ctx;
}

void hash_sha256_update(struct hash_sha256_ctx *h, const void *data, size_t len)
{
	if (!h->ctx)
		BUG("hash_sha256_update on a released hash");
	if (len && !EVP_DigestUpdate(h->ctx, data, len))
		BUG("EVP_DigestUpdate failed");
}

void hash_sha256_final_hex(struct hash_sha256_ctx *h, struct strbuf *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!h->ctx)
		BUG("hash_sha256_final_hex on a released hash");
	if (!EVP_DigestFinal_ex(h->ctx, md, &n) || n != HASH_SHA256_LEN)
		BUG("EVP_DigestFinal_ex failed");
	hash_sha256_release(h);
	add_hex(out, md, n);
}

void hash_sha256_release(struct hash_sha256_ctx *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int hash_sha256_file_hex(struct strbuf *out, const char *path, struct berth_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		char eb[128];
		return berth_error_set(err, e == ENOENT ? BERTH_E_NOTFOUND : BERTH_E_IO,
				       "cannot open \"%s\": %s", path, strerror_r(e, eb, sizeof(eb)));
	}
	struct hash_sha256_ctx h;
	struct strbuf buf = STRBUF_INIT;
	int rc = 0;
	hash_sha256_init(&h);
	strbuf_grow(&buf, READ_CHUNK);
	for (;;) {
		ssize_t n = read(fd, buf.buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			char eb[128];
			rc = berth_error_set(err, BERTH_E_IO, "cannot read \"%s\": %s", path,
					     strerror_r(e, eb, sizeof(eb)));
			break;
		}
		if (n == 0)
			break;
		hash_sha256_update(&h, buf.buf, (size_t)n);
	}
	close(fd);
	strbuf_release(&buf);
	if (rc) {
		hash_sha256_release(&h);
		return rc;
	}
	hash_sha256_final_hex(&h, out);
	return 0;
}
