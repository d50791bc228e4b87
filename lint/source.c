#include "lint/source.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "compose/node.h"
#include "compose/yaml_load.h"
#include "common/banned.h"

static void index_lines(struct lint_source *src)
{
	const char *t = src->text.buf;
	size_t len = src->text.len, alloc = 0;
	size_t start = len >= 3 && !memcmp(t, "\xEF\xBB\xBF", 3) ? 3 : 0;
	ALLOC_GROW(src->lines, 1, alloc);
	src->lines[0] = start;
	src->nlines = 1;
	for (const char *p = t + start; (p = memchr(p, '\n', (size_t)(t + len - p))); p++) {
		ALLOC_GROW(src->lines, src->nlines + 1, alloc);
		src->lines[src->nlines++] = (size_t)(p - t) + 1;
	}
}

void lint_source_init_text(struct lint_source *src, const char *file, const char *text, size_t len)
{
	memset(src, 0, sizeof(*src));
	src->file = xstrdup(file);
	strbuf_init(&src->text, len + 1);
	strbuf_add(&src->text, text, len);
	index_lines(src);
	src->ok = true;
}

void lint_source_release(struct lint_source *src)
{
	free((char *)src->file);
	strbuf_release(&src->text);
	free(src->lines);
	memset(src, 0, sizeof(*src));
}

struct lint_source *lint_source_get(struct lint_sources *s, const char *file)
{
	if (!file)
		return NULL;
	if (s->last && (s->last->file == file || !strcmp(s->last->file, file)))
		return s->last->ok ? s->last : NULL;
	struct lint_source *src = NULL;
	for (size_t i = 0; i < s->nr && !src; i++)
		if (!strcmp(s->v[i]->file, file))
			src = s->v[i];
	if (!src) {
		src = xcalloc(1, sizeof(*src));
		src->file = xstrdup(file);
		struct berth_error err = BERTH_ERROR_INIT;
		if (!read_file_capped(&src->text, file, YAML_MAX_BYTES, &err)) {
			index_lines(src);
			src->ok = true;
		}
		berth_error_release(&err);
		ALLOC_GROW(s->v, s->nr + 1, s->alloc);
		s->v[s->nr++] = src;
	}
	s->last = src;
	return src->ok ? src : NULL;
}

void lint_sources_release(struct lint_sources *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		lint_source_release(s->v[i]);
		free(s->v[i]);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool is_cont(unsigned char ch)
{
	return (ch & 0xC0) == 0x80;
}

bool lint_source_offset(const struct lint_source *src, int line, int col, size_t *out)
{
	if (!src || line < 1 || col < 1 || (size_t)line > src->nlines)
		return false;
	const char *t = src->text.buf;
	size_t off = src->lines[line - 1], len = src->text.len;
	for (int c = 1; c < col; c++) {
		if (off >= len || t[off] == '\n')
			return false;
		off++;
		while (off < len && is_cont((unsigned char)t[off]))
			off++;
	}
	*out = off;
	return true;
}

void lint_source_linecol(const struct lint_source *src, size_t off, int *line, int *col)
{
	size_t lo = 0, hi = src->nlines;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (src->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	int c = 1;
	for (size_t i = src->lines[lo]; i < off && i < src->text.len; i++)
		if (!is_cont((unsigned char)src->text.buf[i]))
			c++;
	*line = (int)lo + 1;
	*col = c;
}

size_t lint_source_line_start(const struct lint_source *src, size_t off)
{
	const char *t = src->text.buf;
	while (off > 0 && t[off - 1] != '\n')
		off--;
	return off;
}

size_t lint_source_line_end(const struct lint_source *src, size_t off)
{
	const char *nl = memchr(src->text.buf + off, '\n', src->text.len - off);
	return nl ? (size_t)(nl - src->text.buf) : src->text.len;
}

size_t lint_source_line_next(const struct lint_source *src, size_t off)
{
	size_t e = lint_source_line_end(src, off);
	return e < src->text.len ? e + 1 : e;
}

char lint_source_char_at(const struct lint_source *src, const struct node *n)
{
	size_t off;
	if (!src || !n || !lint_source_offset(src, n->line, n->col, &off) || off >= src->text.len)
		return 0;
	return src->text.buf[off];
}

void lint_scalar_release(struct lint_scalar *s)
{
	strbuf_release(&s->value);
}

/* ---- decoding ------------------------------------------------------------- */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void add_utf8(struct strbuf *sb, uint32_t cp)
{
	if (cp < 0x80) {
		strbuf_addch(sb, (int)cp);
	} else if (cp < 0x800) {
		strbuf_addch(sb, (int)(0xC0 | (cp >> 6)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		strbuf_addch(sb, (int)(0xE0 | (cp >> 12)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3F)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3F)));
	} else {
		strbuf_addch(sb, (int)(0xF0 | (cp >> 18)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 12) & 0x3F)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3F)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3F)));
	}
}

static bool hex_value(const char *s, int n, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
		v = v * 16 + (uint32_t)(isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10));
	}
	*out = v;
	return true;
}

/* At a line break inside a quoted scalar: trims the blanks written before it,
 * skips the break and any empty lines, and folds them as YAML does (one space,
 * or one '\n' per empty line). Returns the offset after the next line's indent. */
static size_t fold_break(const char *t, size_t len, size_t i, struct strbuf *v, size_t keep)
{
	if (v->len > keep) {
		size_t l = v->len;
		while (l > keep && is_blank(v->buf[l - 1]))
			l--;
		strbuf_setlen(v, l);
	}
	int empty = 0;
	for (;;) {
		if (t[i] == '\r')
			i++;
		if (i < len && t[i] == '\n')
			i++;
		while (i < len && is_blank(t[i]))
			i++;
		if (i < len && (t[i] == '\n' || (t[i] == '\r' && i + 1 < len && t[i + 1] == '\n'))) {
			empty++;
			continue;
		}
		break;
	}
	if (!empty)
		strbuf_addch(v, ' ');
	for (int k = 0; k < empty; k++)
		strbuf_addch(v, '\n');
	return i;
}

static bool read_double(const char *t, size_t len, size_t p, struct lint_scalar *out)
{
	struct strbuf *v = &out->value;
	size_t i = p + 1, keep = 0; /* keep: bytes of v that blank-trimming must not touch */
	while (i < len) {
		char ch = t[i];
		if (ch == '"') {
			out->end = i + 1;
			return true;
		}
		if (ch == '\n' || ch == '\r') {
			i = fold_break(t, len, i, v, keep);
			keep = v->len;
			continue;
		}
		if (ch != '\\') {
			strbuf_addch(v, ch);
			i++;
			continue;
		}
		if (i + 1 >= len)
			return false;
		char e = t[i + 1];
		uint32_t cp;
		i += 2;
		switch (e) {
		case '0': strbuf_addch(v, '\0'); break;
		case 'a': strbuf_addch(v, '\a'); break;
		case 'b': strbuf_addch(v, '\b'); break;
		case 't': case '\t': strbuf_addch(v, '\t'); break;
		case 'n': strbuf_addch(v, '\n'); break;
		case 'v': strbuf_addch(v, '\v'); break;
		case 'f': strbuf_addch(v, '\f'); break;
		case 'r': strbuf_addch(v, '\r'); break;
		case 'e': strbuf_addch(v, 0x1B); break;
		case ' ': strbuf_addch(v, ' '); break;
		case '"': strbuf_addch(v, '"'); break;
		case '/': strbuf_addch(v, '/'); break;
		case '\\': strbuf_addch(v, '\\'); break;
		case 'N': add_utf8(v, 0x85); break;
		case '_': add_utf8(v, 0xA0); break;
		case 'L': add_utf8(v, 0x2028); break;
		case 'P': add_utf8(v, 0x2029); break;
		case 'x': case 'u': case 'U': {
			int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
			if (i + (size_t)n > len || !hex_value(t + i, n, &cp))
				return false;
			add_utf8(v, cp);
			i += (size_t)n;
			break;
		}
		case '\r': case '\n':
			/* an escaped line break: joined without a space */
			if (e == '\r' && i < len && t[i] == '\n')
				i++;
			while (i < len && is_blank(t[i]))
				i++;
			break;
		default:
			return false;
		}
		keep = v->len;
	}
	return false;
}

static bool read_single(const char *t, size_t len, size_t p, struct lint_scalar *out)
{
	struct strbuf *v = &out->value;
	size_t i = p + 1, keep = 0;
	while (i < len) {
		char ch = t[i];
		if (ch == '\'') {
			if (i + 1 < len && t[i + 1] == '\'') {
				strbuf_addch(v, '\'');
				i += 2;
				keep = v->len;
				continue;
			}
			out->end = i + 1;
			return true;
		}
		if (ch == '\n' || ch == '\r') {
			i = fold_break(t, len, i, v, keep);
			keep = v->len;
			continue;
		}
		strbuf_addch(v, ch);
		i++;
	}
	return false;
}

static void read_plain(const char *t, size_t len, size_t p, bool flow, struct lint_scalar *out)
{
	size_t i = p;
	while (i < len && t[i] != '\n') {
		char ch = t[i];
		if (ch == '#' && i > p && is_blank(t[i - 1]))
			break;
		if (ch == ':' && (i + 1 >= len || is_blank(t[i + 1]) || t[i + 1] == '\n' || t[i + 1] == '\r' ||
				  (flow && strchr(",[]{}", t[i + 1]))))
			break;
		if (flow && (ch == ',' || ch == ']' || ch == '}'))
			break;
		i++;
	}
	while (i > p && (is_blank(t[i - 1]) || t[i - 1] == '\r'))
		i--;
	out->end = i;
	strbuf_add(&out->value, t + p, i - p);
}

static void read_block(const struct lint_source *src, size_t p, struct lint_scalar *out)
{
	const char *t = src->text.buf;
	size_t len = src->text.len;
	size_t ls = lint_source_line_start(src, p), indent = 0;
	while (ls + indent < len && t[ls + indent] == ' ')
		indent++;
	size_t i = lint_source_line_next(src, p), end = lint_source_line_end(src, p);
	while (i < len) {
		size_t e = lint_source_line_end(src, i), k = i;
		while (k < e && t[k] == ' ')
			k++;
		bool blank = k == e || (t[k] == '\r' && k + 1 == e);
		if (!blank && k - i <= indent)
			break;
		strbuf_add(&out->value, t + i, e - i);
		strbuf_addch(&out->value, '\n');
		end = e;
		i = e < len ? e + 1 : e;
	}
	out->end = end;
}

bool lint_scalar_at(const struct lint_source *src, const struct node *n, bool flow, struct lint_scalar *out)
{
	size_t p;
	if (!src || !n || !n->file || !lint_source_offset(src, n->line, n->col, &p))
		return false;
	const char *t = src->text.buf;
	size_t len = src->text.len;
	/* an event starts at its anchor or tag: step over them */
	while (p < len && (t[p] == '&' || t[p] == '!')) {
		while (p < len && !is_blank(t[p]) && t[p] != '\n')
			p++;
		while (p < len && is_blank(t[p]))
			p++;
	}
	if (p >= len)
		return false;
	strbuf_reset(&out->value);
	out->start = p;
	switch (t[p]) {
	case '"':
		out->style = LINT_SCALAR_DOUBLE;
		return read_double(t, len, p, out);
	case '\'':
		out->style = LINT_SCALAR_SINGLE;
		return read_single(t, len, p, out);
	case '|': case '>':
		out->style = LINT_SCALAR_BLOCK;
		read_block(src, p, out);
		return true;
	case '[': case '{': case '\n': case '#':
		return false;
	default:
		if (t[p] == '-' && (p + 1 >= len || is_blank(t[p + 1]) || t[p + 1] == '\n'))
			return false;
		out->style = LINT_SCALAR_PLAIN;
		read_plain(t, len, p, flow, out);
		return true;
	}
}

bool lint_scalar_verified(const struct lint_source *src, const struct node *n, bool flow, struct lint_scalar *out)
{
	if (!n || !node_is_scalar(n) || !lint_scalar_at(src, n, flow, out) || out->style == LINT_SCALAR_BLOCK)
		return false;
	const char *want = n->str ? n->str : "";
	size_t wlen = n->str ? n->len : 0;
	return out->value.len == wlen && !memcmp(out->value.buf, want, wlen);
}

void lint_yaml_quote(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '"': strbuf_addstr(out, "\\\""); break;
		case '\\': strbuf_addstr(out, "\\\\"); break;
		case '\n': strbuf_addstr(out, "\\n"); break;
		case '\t': strbuf_addstr(out, "\\t"); break;
		case '\r': strbuf_addstr(out, "\\r"); break;
		default:
			if (ch < 0x20 || ch == 0x7F)
				strbuf_addf(out, "\\x%02X", ch);
			else
				strbuf_addch(out, ch);
		}
	}
	strbuf_addch(out, '"');
}

bool lint_yaml_plain_ok(const char *s)
{
	if (!*s)
		return false;
	if (!isalpha((unsigned char)s[0]) && s[0] != '/' && s[0] != '_')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_./-+=@", *p))
			return false;
	/* words YAML would read as something else than a string */
	static const char *const special[] = { "true", "false", "null", "True", "False", "Null", "TRUE", "FALSE",
					       "NULL", "yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off",
					       "YES", "NO", "ON", "OFF", "Y", "N" };
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (!strcmp(s, special[i]))
			return false;
	return true;
}
