/* strvec: a growable NULL-terminated array of owned strings, used for argv
 * vectors and string lists everywhere (after git's strvec). */
#ifndef BERTH_STRVEC_H
#define BERTH_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v; /* NULL-terminated once anything is pushed; NULL before */
	size_t nr;
	size_t alloc;
};

#define STRVEC_INIT                                                                                                    \
	{                                                                                                              \
		NULL, 0, 0                                                                                             \
	}

void strvec_init(struct strvec *sv);
/* Pushes a copy of s. */
void strvec_push(struct strvec *sv, const char *s);
/* Takes ownership of s (which must come from malloc). */
void strvec_push_nodup(struct strvec *sv, char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strvec_pushv(struct strvec *sv, const char *const *items);
void strvec_pushl(struct strvec *sv, ...) __attribute__((sentinel));
void strvec_pop(struct strvec *sv);
void strvec_clear(struct strvec *sv);
/* Index of s, or -1. */
long strvec_find(const struct strvec *sv, const char *s);
/* Joins with sep into out (appends). */
struct strbuf;
void strvec_join(const struct strvec *sv, const char *sep, struct strbuf *out);

#endif
