/* base64: RFC 4648 standard alphabet with padding, for OpenSSH key files and
 * the host keys the guest prints on its serial console. */
#ifndef BERTH_VM_BASE64_H
#define BERTH_VM_BASE64_H

#include <stddef.h>

struct strbuf;

/* Appends the encoding of data to out. */
void vm_base64_encode(struct strbuf *out, const void *data, size_t len);
/* Appends the decoded bytes of s (len bytes, no whitespace, padding required)
 * to out. Returns 0, or -1 on a malformed input (out is then untouched). */
int vm_base64_decode(struct strbuf *out, const char *s, size_t len);

#endif
