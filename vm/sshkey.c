#include "vm/sshkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "vm/base64.h"
#include "common/banned.h"

#define ED25519_LEN 32

static void put_u32(struct strbuf *sb, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			      (unsigned char)v};
	strbuf_add(sb, b, 4);
}

/* An SSH "string": uint32 length, then the bytes (RFC 4251 section 5). */
static void put_string(struct strbuf *sb, const void *data, size_t len)
{
	put_u32(sb, (uint32_t)len);
	strbuf_add(sb, data, len);
}

static void put_cstring(struct strbuf *sb, const char *s)
{
	put_string(sb, s, strlen(s));
}

int vm_random_bytes(void *buf, int len, struct berth_error *err)
{
	if (RAND_bytes(buf, len) != 1)
		return berth_error_set(err, BERTH_E_INTERNAL, "OpenSSL cannot produce random bytes");
	return 0;
}

int vm_sshkey_generate(struct strbuf *priv, struct strbuf *pub, const char *comment, struct berth_error *err)
{
	unsigned char sk[ED25519_LEN], pk[ED25519_LEN];
	size_t sklen = sizeof(sk), pklen = sizeof(pk);
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	int ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1 &&
		 EVP_PKEY_get_raw_private_key(key, sk, &sklen) == 1 &&
		 EVP_PKEY_get_raw_public_key(key, pk, &pklen) == 1 && sklen == ED25519_LEN && pklen == ED25519_LEN;
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return berth_error_set(err, BERTH_E_INTERNAL, "OpenSSL cannot generate an ed25519 key");

	uint32_t check;
	int rc = vm_random_bytes(&check, sizeof(check), err);
	if (rc) {
		OPENSSL_cleanse(sk, sizeof(sk));
		return rc;
	}

	struct strbuf blob = STRBUF_INIT, sec = STRBUF_INIT, file = STRBUF_INIT, b64 = STRBUF_INIT;
	put_cstring(&blob, "ssh-ed25519");
	put_string(&blob, pk, sizeof(pk));

	/* PROTOCOL.key: the private section, padded to the cipher block size (8
	 * for "none") with the bytes 1, 2, 3... */
	put_u32(&sec, check);
	put_u32(&sec, check);
	put_cstring(&sec, "ssh-ed25519");
	put_string(&sec, pk, sizeof(pk));
	put_u32(&sec, 2 * ED25519_LEN); /* OpenSSH keeps seed || public key */
	strbuf_add(&sec, sk, sizeof(sk));
	strbuf_add(&sec, pk, sizeof(pk));
	put_cstring(&sec, comment);
	for (unsigned char pad = 1; sec.len % 8; pad++)
		strbuf_addch(&sec, (char)pad);
	OPENSSL_cleanse(sk, sizeof(sk));

	strbuf_add(&file, "openssh-key-v1", sizeof("openssh-key-v1")); /* with its NUL */
	put_cstring(&file, "none");
	put_cstring(&file, "none");
	put_cstring(&file, "");
	put_u32(&file, 1);
	put_string(&file, blob.buf, blob.len);
	put_string(&file, sec.buf, sec.len);
	OPENSSL_cleanse(sec.buf, sec.len);

	vm_base64_encode(&b64, file.buf, file.len);
	OPENSSL_cleanse(file.buf, file.len);
	strbuf_addstr(priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	for (size_t i = 0; i < b64.len; i += 70) {
		size_t n = b64.len - i < 70 ? b64.len - i : 70;
		strbuf_add(priv, b64.buf + i, n);
		strbuf_addch(priv, '\n');
	}
	strbuf_addstr(priv, "-----END OPENSSH PRIVATE KEY-----\n");
	OPENSSL_cleanse(b64.buf, b64.len);

	strbuf_addstr(pub, "ssh-ed25519 ");
	vm_base64_encode(pub, blob.buf, blob.len);
	strbuf_addf(pub, " %s\n", comment);

	strbuf_release(&blob);
	strbuf_release(&sec);
	strbuf_release(&file);
	strbuf_release(&b64);
	return 0;
}

static int write_excl(const char *path, const struct strbuf *sb, mode_t mode, struct berth_error *err)
{
	char eb[128];
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return berth_error_set(err, BERTH_E_IO, "cannot create \"%s\": %s", path,
				       strerror_r(errno, eb, sizeof(eb)));
	size_t off = 0;
	while (off < sb->len) {
		ssize_t n = write(fd, sb->buf + off, sb->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return berth_error_set(err, BERTH_E_IO, "cannot write \"%s\": %s", path,
					       strerror_r(errno, eb, sizeof(eb)));
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		return berth_error_set(err, BERTH_E_IO, "cannot write \"%s\": %s", path,
				       strerror_r(errno, eb, sizeof(eb)));
	return 0;
}

int vm_sshkey_write_new(const char *priv_path, const char *pub_path, const char *comment, struct berth_error *err)
{
	struct strbuf priv = STRBUF_INIT, pub = STRBUF_INIT;
	int rc = vm_sshkey_generate(&priv, &pub, comment, err);
	if (!rc)
		rc = write_excl(priv_path, &priv, 0600, err);
	if (!rc) {
		rc = write_excl(pub_path, &pub, 0644, err);
		if (rc)
			unlink(priv_path);
	}
	OPENSSL_cleanse(priv.buf, priv.len);
	strbuf_release(&priv);
	strbuf_release(&pub);
	return rc;
}
