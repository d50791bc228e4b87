/* hash: SHA-256 through OpenSSL's EVP interface, as raw bytes or lowercase hex,
 * for config-hash labels, image digests and downloaded VM images. Only hash.c
 * includes OpenSSL. */
#ifndef BERTH_HASH_H
#define BERTH_HASH_H

#include <stddef.h>

struct strbuf;
struct berth_error;

#define HASH_SHA256_LEN 32
#define HASH_SHA256_HEX_LEN 64

/* OpenSSL failing to hash bytes in memory means it is out of memory or broken:
 * these BUG() rather than return an error. */
void hash_sha256(unsigned char out[HASH_SHA256_LEN], const void *data, size_t len);
/* Appends 64 lowercase hex digits to out. */
void hash_sha256_hex(struct strbuf *out, const void *data, size_t len);
/* Appends the hex digest of the file's contents; out is untouched on error
 * (BERTH_E_NOTFOUND when it does not exist, BERTH_E_IO otherwise). */
int hash_sha256_file_hex(struct strbuf *out, const char *path, struct berth_error *err);

/* Incremental hashing (e.g. a download as it arrives). ctx is an EVP_MD_CTX,
 * owned: hash_sha256_final_hex() or hash_sha256_release() frees it. */
struct hash_sha256_ctx {
	void *ctx;
};
void hash_sha256_init(struct hash_sha256_ctx *h);
void hash_sha256_update(struct hash_sha256_ctx *h, const void *data, size_t len);
/* Appends the hex digest and releases h. */
void hash_sha256_final_hex(struct hash_sha256_ctx *h, struct strbuf *out);
/* Drops an unfinished hash; safe on a released or finished one. */
void hash_sha256_release(struct hash_sha256_ctx *h);

#endif
