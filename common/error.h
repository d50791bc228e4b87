/* The one error type: a negative code, a message, and where it happened
 * (file:line:col and the key path inside a compose document). Functions
 * return 0 or a negative BERTH_E_* code and fill a struct berth_error;
 * callers add context with berth_error_prefix(), never replace it. */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <stddef.h>

enum berth_errcode {
	BERTH_OK = 0,
	BERTH_E_USAGE = -1,    /* bad flags or arguments */
	BERTH_E_PARSE = -2,    /* input that does not parse (YAML, .env, JSON) */
	BERTH_E_INVALID = -3,  /* input that parses but breaks a rule */
	BERTH_E_IO = -4,       /* a file or socket operation failed */
	BERTH_E_LIMIT = -5,    /* an input limit was hit */
	BERTH_E_ENGINE = -6,   /* the container engine said no */
	BERTH_E_NOTFOUND = -7, /* a named thing does not exist */
	BERTH_E_TIMEOUT = -8,  /* a deadline passed */
	BERTH_E_INTERRUPTED = -9,
	BERTH_E_INTERNAL = -10,
};

struct berth_error {
	int code;   /* 0 when no error is set */
	char *msg;  /* owned; the message without location */
	char *file; /* owned; may be NULL */
	int line;   /* 1-based; 0 when unknown */
	int col;    /* 1-based; 0 when unknown */
	char *path; /* owned; key path such as services.web.ports[0]; may be NULL */
};

#define BERTH_ERROR_INIT                                                                                               \
	{                                                                                                              \
		0, NULL, NULL, 0, 0, NULL                                                                              \
	}

/* Sets code and message; returns code so that `return berth_error_set(...)` works.
 * An error already set is replaced (the caller asked for it). */
int berth_error_set(struct berth_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int berth_error_set_at(struct berth_error *err, int code, const char *file, int line, int col, const char *path,
		       const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Prepends "context: " to the message. */
void berth_error_prefix(struct berth_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets the location if none is set yet. */
void berth_error_locate(struct berth_error *err, const char *file, int line, int col, const char *path);
/* Formats as a compiler diagnostic: "file:line:col: error: path: msg". Appends to out. */
struct strbuf;
void berth_error_format(const struct berth_error *err, struct strbuf *out);
void berth_error_release(struct berth_error *err);
/* Moves src into dst (dst released first); src is left empty. */
void berth_error_move(struct berth_error *dst, struct berth_error *src);

/* Programming errors: print and abort. */
#define BUG(...) berth_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void berth_bug(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
