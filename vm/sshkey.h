/* sshkey: the instance's SSH client key, an ed25519 pair made with OpenSSL's
 * EVP interface and written in OpenSSH's own formats ("openssh-key-v1"
 * private key, unencrypted; "ssh-ed25519 AAAA... comment" public key), which
 * libssh2 reads and `ssh -i` accepts. Made in-process rather than by running
 * ssh-keygen so that a host without the OpenSSH client can still use the VM
 * (berth speaks SSH through libssh2). vm/sshkey.c is, with common/hash.c, the
 * only file that includes OpenSSL. */
#ifndef BERTH_VM_SSHKEY_H
#define BERTH_VM_SSHKEY_H

struct strbuf;
struct berth_error;

/* Generates a key pair: appends the private key file's text to priv and the
 * public key line (with comment, ending in '\n') to pub. BERTH_E_INTERNAL when
 * OpenSSL fails. */
int vm_sshkey_generate(struct strbuf *priv, struct strbuf *pub, const char *comment, struct berth_error *err);

/* Writes the pair to priv_path (mode 0600) and pub_path (0644), created
 * exclusively: an existing file is an error (BERTH_E_IO), never overwritten. */
int vm_sshkey_write_new(const char *priv_path, const char *pub_path, const char *comment, struct berth_error *err);

/* Fills random bytes from OpenSSL's CSPRNG (boot ids, check words). */
int vm_random_bytes(void *buf, int len, struct berth_error *err);

#endif
