#include "strbuf.h"
#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

char strbuf_empty[1];

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		BUG("out of memory allocating %zu bytes", n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		BUG("out of memory allocating %zu x %zu bytes", nmemb, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		BUG("out of memory reallocating %zu bytes", n);
	return q;
}

void *xgrow(void *arr, size_t elsz, size_t need, size_t *alloc)
{
	if (need <= *alloc)
		return arr;
	size_t n = *alloc ? *alloc : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elsz)
			BUG("array size overflow");
		n *= 2;
	}
	*alloc = n;
	return xrealloc(arr, n * elsz);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrfmt(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb, NULL);
}

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->buf = strbuf_empty;
	sb->len = 0;
	sb->alloc = 0;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len_out)
{
	char *r;
	if (len_out)
		*len_out = sb->len;
	if (!sb->alloc)
		r = xstrdup("");
	else
		r = sb->buf;
	strbuf_init(sb, 0);
	return r;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->alloc)
		return;
	if (extra > SIZE_MAX / 2 - sb->len)
		BUG("strbuf size overflow");
	size_t want = sb->len + extra + 1;
	size_t n = sb->alloc ? sb->alloc : 32;
	while (n < want)
		n *= 2;
	if (!sb->alloc) {
		sb->buf = xmalloc(n);
		sb->buf[0] = '\0';
	} else {
		sb->buf = xrealloc(sb->buf, n);
	}
	sb->alloc = n;
}

void strbuf_reset(struct strbuf *sb)
{
	strbuf_setlen(sb, 0);
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (len > sb->len && len >= sb->alloc)
		BUG("strbuf_setlen beyond allocation");
	sb->len = len;
	if (sb->alloc)
		sb->buf[len] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (!len)
		return;
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len++] = (char)c;
	sb->buf[sb->len] = '\0';
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(sb->buf + sb->len, sb->alloc ? sb->alloc - sb->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		BUG("vsnprintf failed for format %s", fmt);
	if (sb->alloc && (size_t)n < sb->alloc - sb->len) {
		sb->len += (size_t)n;
		return;
	}
	strbuf_grow(sb, (size_t)n);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_insertstr(struct strbuf *sb, size_t pos, const char *s)
{
	size_t n = strlen(s);
	if (pos > sb->len)
		BUG("strbuf_insertstr past end");
	strbuf_grow(sb, n);
	memmove(sb->buf + pos + n, sb->buf + pos, sb->len - pos + 1);
	memcpy(sb->buf + pos, s, n);
	sb->len += n;
}

/* Bytes that need an escape in JSON output (controls, quote, backslash, and
 * <, >, & which Go's encoding/json escapes too). */
static const unsigned char json_special[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, ['<'] = 1, ['>'] = 1, ['&'] = 1,
};

void strbuf_add_json_string(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	strbuf_grow(sb, len + 2);
	strbuf_addch(sb, '"');
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && !json_special[(unsigned char)s[i]])
			i++;
		strbuf_add(sb, s + start, i - start);
		if (i == len)
			break;
		unsigned char c = (unsigned char)s[i++];
		switch (c) {
		case '"': strbuf_addstr(sb, "\\\""); break;
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		case '\r': strbuf_addstr(sb, "\\r"); break;
		case '\b': strbuf_addstr(sb, "\\b"); break;
		case '\f': strbuf_addstr(sb, "\\f"); break;
		case '<': strbuf_addstr(sb, "\\u003c"); break; /* as Go's encoding/json does */
		case '>': strbuf_addstr(sb, "\\u003e"); break;
		case '&': strbuf_addstr(sb, "\\u0026"); break;
		default: {
			char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0'};
			strbuf_addstr(sb, u);
		}
		}
	}
	strbuf_addch(sb, '"');
}

void strbuf_trim(struct strbuf *sb)
{
	size_t b = 0, e = sb->len;
	while (b < e && (sb->buf[b] == ' ' || sb->buf[b] == '\t' || sb->buf[b] == '\n' || sb->buf[b] == '\r'))
		b++;
	while (e > b &&
	       (sb->buf[e - 1] == ' ' || sb->buf[e - 1] == '\t' || sb->buf[e - 1] == '\n' || sb->buf[e - 1] == '\r'))
		e--;
	if (b)
		memmove(sb->buf, sb->buf + b, e - b);
	strbuf_setlen(sb, e - b);
}
