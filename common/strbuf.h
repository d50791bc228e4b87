/* strbuf: a growable, always NUL-terminated byte buffer (after git's strbuf).
 * Every string berth builds goes through one of these. Allocation failure
 * aborts: berth has no meaningful way to continue without memory. */
#ifndef BERTH_STRBUF_H
#define BERTH_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;    /* never NULL: points at strbuf_empty until first growth */
	size_t len;   /* bytes used, excluding the NUL */
	size_t alloc; /* 0 while buf is strbuf_empty */
};

extern char strbuf_empty[];
#define STRBUF_INIT                                                                                                    \
	{                                                                                                              \
		.buf = strbuf_empty, .len = 0, .alloc = 0                                                              \
	}

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Caller frees the returned string with free(); sb is left empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len_out);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void strbuf_insertstr(struct strbuf *sb, size_t pos, const char *s);
/* Appends s as a JSON string literal, quotes included. */
void strbuf_add_json_string(struct strbuf *sb, const char *s, size_t len);
void strbuf_trim(struct strbuf *sb);

/* Duplicates with abort on failure. Caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *arr (element size elsz) so that it holds at least need elements. */
void *xgrow(void *arr, size_t elsz, size_t need, size_t *alloc);
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ALLOC_GROW(arr, need, alloc) ((arr) = xgrow((arr), sizeof(*(arr)), (need), &(alloc)))

#endif
