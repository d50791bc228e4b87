/* log: leveled diagnostics on stderr (error, warning, notice, info, debug).
 * The verbosity, set once by the CLI from -q/-v, is the one piece of global
 * state berth allows; each line is written whole under a mutex, so lines from
 * several threads never interleave. Colour only when the output is a TTY and
 * NO_COLOR is unset or empty (https://no-color.org), unless forced. */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <stdarg.h>
#include <stdbool.h>

struct berth_error;

/* Not LOG_ERR & co: <syslog.h> owns those names. */
enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,   /* the default: errors and warnings are shown */
	LOG_LEVEL_NOTICE, /* -v: one-line normalisation notices ("ports[0]: \"80\" read as 80/tcp") */
	LOG_LEVEL_INFO,   /* -vv */
	LOG_LEVEL_DEBUG,  /* -vvv: every engine command line, timings */
};

enum log_color {
	LOG_COLOR_AUTO = 0, /* a TTY and no NO_COLOR */
	LOG_COLOR_NEVER,
	LOG_COLOR_ALWAYS,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* -q is -1 (errors only), 0 the default (warnings), each -v one level more. */
void log_set_verbosity(int verbosity);
bool log_enabled(enum log_level level);
void log_set_color(enum log_color mode);
/* Where lines go: 2 unless changed (tests, --log-file). fd is borrowed. */
void log_set_fd(int fd);

/* Writes "<level>: <message>\n" when level is enabled. A trailing newline in
 * fmt is not doubled. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Writes err as berth_error_format() does ("file:12:7: error: path: msg"),
 * with "error:" coloured. Always shown. */
void log_report_error(const struct berth_error *err);

/* The arguments are evaluated only when the level is enabled. */
#define log_at_(level, ...)                      \
	do {                                     \
		if (log_enabled(level))          \
			log_msg(level, __VA_ARGS__); \
	} while (0)
#define log_error(...) log_at_(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_at_(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_at_(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_at_(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_at_(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
