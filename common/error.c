#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "strbuf.h"

static void set_msg(struct berth_error *err, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void set_msg(struct berth_error *err, const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_vaddf(&sb, fmt, ap);
	free(err->msg);
	err->msg = strbuf_detach(&sb, NULL);
}

int berth_error_set(struct berth_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return code;
	berth_error_release(err);
	err->code = code;
	va_start(ap, fmt);
	set_msg(err, fmt, ap);
	va_end(ap);
	return code;
}

int berth_error_set_at(struct berth_error *err, int code, const char *file, int line, int col, const char *path,
		       const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return code;
	berth_error_release(err);
	err->code = code;
	va_start(ap, fmt);
	set_msg(err, fmt, ap);
	va_end(ap);
	berth_error_locate(err, file, line, col, path);
	return code;
}

void berth_error_prefix(struct berth_error *err, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	if (!err)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (err->msg) {
		strbuf_addstr(&sb, ": ");
		strbuf_addstr(&sb, err->msg);
	}
	free(err->msg);
	err->msg = strbuf_detach(&sb, NULL);
}

void berth_error_locate(struct berth_error *err, const char *file, int line, int col, const char *path)
{
	if (!err)
		return;
	if (file && !err->file) {
		err->file = xstrdup(file);
		err->line = line;
		err->col = col;
	}
	if (path && *path && !err->path)
		err->path = xstrdup(path);
}

void berth_error_format(const struct berth_error *err, struct strbuf *out)
{
	if (err->file) {
		strbuf_addstr(out, err->file);
		if (err->line > 0) {
			strbuf_addf(out, ":%d", err->line);
			if (err->col > 0)
				strbuf_addf(out, ":%d", err->col);
		}
		strbuf_addstr(out, ": ");
	}
	strbuf_addstr(out, "error: ");
	if (err->path)
		strbuf_addf(out, "%s: ", err->path);
	strbuf_addstr(out, err->msg ? err->msg : "unknown error");
}

void berth_error_release(struct berth_error *err)
{
	if (!err)
		return;
	free(err->msg);
	free(err->file);
	free(err->path);
	err->code = 0;
	err->msg = err->file = err->path = NULL;
	err->line = err->col = 0;
}

void berth_error_move(struct berth_error *dst, struct berth_error *src)
{
	berth_error_release(dst);
	*dst = *src;
	src->code = 0;
	src->msg = src->file = src->path = NULL;
	src->line = src->col = 0;
}

void berth_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
