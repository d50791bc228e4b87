#include "vm/base64.h"

#include "common/strbuf.h"
#include "common/banned.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void vm_base64_encode(struct strbuf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	strbuf_grow(out, (len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		strbuf_addch(out, alphabet[(v >> 18) & 63]);
		strbuf_addch(out, alphabet[(v >> 12) & 63]);
		strbuf_addch(out, i + 1 < len ? alphabet[(v >> 6) & 63] : '=');
		strbuf_addch(out, i + 2 < len ? alphabet[v & 63] : '=');
	}
}

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int vm_base64_decode(struct strbuf *out, const char *s, size_t len)
{
	if (len % 4)
		return -1;
	size_t start = out->len;
	for (size_t i = 0; i < len; i += 4) {
		int last = i + 4 == len;
		int a = value(s[i]), b = value(s[i + 1]);
		int c = s[i + 2] == '=' && last ? -2 : value(s[i + 2]);
		int d = s[i + 3] == '=' && last ? -2 : value(s[i + 3]);
		if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2))
			goto bad;
		unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)(c < 0 ? 0 : c) << 6 |
			     (unsigned)(d < 0 ? 0 : d);
		strbuf_addch(out, (char)(v >> 16));
		if (c >= 0)
			strbuf_addch(out, (char)(v >> 8 & 0xff));
		if (d >= 0)
			strbuf_addch(out, (char)(v & 0xff));
	}
	return 0;
bad:
	strbuf_setlen(out, start);
	return -1;
}
