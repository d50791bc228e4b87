/* Line-oriented lint output: compiler-style text for people, and GitHub
 * Actions workflow commands (::warning file=...::) for CI annotations. */
#include <string.h>

#include "lint/lint.h"
#include "lint/rules.h"
#include "common/banned.h"

void lint_format_text(struct strbuf *out, const struct lint_result *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		const struct lint_finding *f = &r->findings[i];
		lint_display_path(out, r, f->file);
		strbuf_addf(out, ":%d:%d: %s[%s]: ", f->line, f->col, lint_severity_name(f->rule->severity), f->rule->code);
		if (f->path && *f->path)
			strbuf_addf(out, "%s: ", f->path);
		strbuf_addf(out, "%s\n", f->message);
		strbuf_addf(out, "    help: %s%s\n", f->help, f->edits_nr ? " (berth lint --fix does this)" : "");
	}
}

/* Workflow command escaping: data escapes %, CR and LF; properties also : and ,. */
static void gh_escape(struct strbuf *out, const char *s, bool property)
{
	for (; *s; s++) {
		switch (*s) {
		case '%': strbuf_addstr(out, "%25"); break;
		case '\r': strbuf_addstr(out, "%0D"); break;
		case '\n': strbuf_addstr(out, "%0A"); break;
		case ':':
			if (property) {
				strbuf_addstr(out, "%3A");
				break;
			}
			strbuf_addch(out, ':');
			break;
		case ',':
			if (property) {
				strbuf_addstr(out, "%2C");
				break;
			}
			strbuf_addch(out, ',');
			break;
		default: strbuf_addch(out, *s);
		}
	}
}

void lint_format_github(struct strbuf *out, const struct lint_result *r)
{
	static const char *const level[] = { "notice", "warning", "error" };
	struct strbuf tmp = STRBUF_INIT;
	for (size_t i = 0; i < r->nr; i++) {
		const struct lint_finding *f = &r->findings[i];
		strbuf_addf(out, "::%s file=", level[f->rule->severity]);
		strbuf_reset(&tmp);
		lint_display_path(&tmp, r, f->file);
		gh_escape(out, tmp.buf, true);
		strbuf_addf(out, ",line=%d,col=%d,title=", f->line, f->col);
		gh_escape(out, f->rule->code, true);
		strbuf_addstr(out, "::");
		strbuf_reset(&tmp);
		if (f->path && *f->path)
			strbuf_addf(&tmp, "%s: ", f->path);
		strbuf_addf(&tmp, "%s\nhelp: %s", f->message, f->help);
		gh_escape(out, tmp.buf, false);
		strbuf_addch(out, '\n');
	}
	strbuf_release(&tmp);
}
