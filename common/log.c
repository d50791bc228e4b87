#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

static _Atomic int log_level = LOG_LEVEL_WARN;

/* Guarded by log_lock. use_color is -1 until resolved for the current fd. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = 2;
static enum log_color color_mode = LOG_COLOR_AUTO;
static int use_color = -1;

static const struct {
	const char *name;
	const char *color;
} levels[] = {
	[LOG_LEVEL_ERROR] = {"error", "\033[1;31m"},
	[LOG_LEVEL_WARN] = {"warning", "\033[1;33m"},
	[LOG_LEVEL_NOTICE] = {"notice", "\033[1;36m"},
	[LOG_LEVEL_INFO] = {"info", "\033[1m"},
	[LOG_LEVEL_DEBUG] = {"debug", "\033[2m"},
};
#define COLOR_RESET "\033[0m"

void log_set_level(enum log_level level)
{
	if (level < LOG_LEVEL_ERROR)
		level = LOG_LEVEL_ERROR;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

void log_set_verbosity(int verbosity)
{
	long l = (long)LOG_LEVEL_WARN + verbosity;
	log_set_level(l < 0 ? LOG_LEVEL_ERROR : l > LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : (enum log_level)l);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

void log_set_color(enum log_color mode)
{
	pthread_mutex_lock(&log_lock);
	color_mode = mode;
	use_color = -1;
	pthread_mutex_unlock(&log_lock);
}

void log_set_fd(int fd)
{
	pthread_mutex_lock(&log_lock);
	log_fd = fd;
	use_color = -1;
	pthread_mutex_unlock(&log_lock);
}

/* Called with log_lock held. */
static bool color_locked(void)
{
	if (use_color < 0) {
		if (color_mode == LOG_COLOR_AUTO) {
			const char *nc = getenv("NO_COLOR");
			use_color = isatty(log_fd) && !(nc && *nc);
		} else {
			use_color = color_mode == LOG_COLOR_ALWAYS;
		}
	}
	return use_color;
}

/* Called with log_lock held. Short writes and EINTR are retried; other errors
 * are dropped: there is nowhere left to report them. */
static void write_locked(const struct strbuf *sb)
{
	size_t off = 0;
	while (off < sb->len) {
		ssize_t n = write(log_fd, sb->buf + off, sb->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static void add_prefix(struct strbuf *sb, enum log_level level, bool color)
{
	if (color)
		strbuf_addf(sb, "%s%s:" COLOR_RESET " ", levels[level].color, levels[level].name);
	else
		strbuf_addf(sb, "%s: ", levels[level].name);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (level < LOG_LEVEL_ERROR || level > LOG_LEVEL_DEBUG)
		BUG("log level %d", (int)level);
	if (!log_enabled(level))
		return;
	/* Formatted outside the lock; only the prefix depends on locked state. */
	struct strbuf msg = STRBUF_INIT;
	strbuf_vaddf(&msg, fmt, ap);
	if (msg.len && msg.buf[msg.len - 1] == '\n')
		strbuf_setlen(&msg, msg.len - 1);

	struct strbuf line = STRBUF_INIT;
	pthread_mutex_lock(&log_lock);
	add_prefix(&line, level, color_locked());
	strbuf_add(&line, msg.buf, msg.len);
	strbuf_addch(&line, '\n');
	write_locked(&line);
	pthread_mutex_unlock(&log_lock);
	strbuf_release(&line);
	strbuf_release(&msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_report_error(const struct berth_error *err)
{
	struct strbuf line = STRBUF_INIT;
	pthread_mutex_lock(&log_lock);
	bool color = color_locked();
	if (err->file) {
		strbuf_addstr(&line, err->file);
		if (err->line > 0) {
			strbuf_addf(&line, ":%d", err->line);
			if (err->col > 0)
				strbuf_addf(&line, ":%d", err->col);
		}
		strbuf_addstr(&line, ": ");
	}
	add_prefix(&line, LOG_LEVEL_ERROR, color);
	if (err->path)
		strbuf_addf(&line, "%s: ", err->path);
	strbuf_addstr(&line, err->msg ? err->msg : "unknown error");
	strbuf_addch(&line, '\n');
	write_locked(&line);
	pthread_mutex_unlock(&log_lock);
	strbuf_release(&line);
}
