#include "vm/quote.h"

#include <string.h>

#include "common/strbuf.h"
#include "common/banned.h"

/* Characters that are literal in every position of a POSIX shell word ('~'
 * and '#' are not: tilde expansion and comments at the start of a word). */
static int bare_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("_@%+=:,./-", c) != NULL;
}

static const char *const reserved[] = {
	"if",    "then",  "else", "elif", "fi",       "do",     "done", "case",   "esac",
	"while", "until", "for",  "in",   "function", "select", "time", "coproc",
};

static void quote(struct strbuf *out, const char *arg, int first)
{
	const unsigned char *s = (const unsigned char *)arg;
	int bare = *s != '\0';
	for (const unsigned char *p = s; bare && *p; p++)
		bare = bare_char(*p) && !(first && *p == '=');
	for (size_t i = 0; bare && first && i < sizeof(reserved) / sizeof(reserved[0]); i++)
		bare = strcmp(arg, reserved[i]) != 0;
	if (bare) {
		strbuf_addstr(out, arg);
		return;
	}
	strbuf_addch(out, '\'');
	for (const char *p = arg; *p; p++) {
		if (*p == '\'')
			strbuf_addstr(out, "'\\''");
		else
			strbuf_addch(out, *p);
	}
	strbuf_addch(out, '\'');
}

void vm_quote_arg(struct strbuf *out, const char *arg)
{
	quote(out, arg, 0);
}

void vm_quote_argv(struct strbuf *out, const char *const *argv)
{
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			strbuf_addch(out, ' ');
		quote(out, argv[i], i == 0);
	}
}
