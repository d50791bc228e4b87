#include "compose/interpolate.h"

#include <stdint.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/banned.h"

/*
 * compose-go (v2.0.x, template/template.go) does not parse templates: it runs
 *
 *   \$(?i:(\$)|([_a-z][_a-z0-9]*)|{(?:([_a-z][_a-z0-9]*(?::?[-+?](.*))?)}|()))
 *
 * through Regexp.ReplaceAllStringFunc and patches the matches up afterwards.
 * Reproducing its results means reproducing what that regex and the patching
 * do, which a recursive-descent parser would not:
 *
 * - `.` stops at '\n' and `(.*)}` is greedy, so a ${NAME<op>...} match runs to
 *   the LAST '}' on its line. The match is then cut at the first brace that
 *   balances the opening one, counted by getFirstBraceClosingIndex(), which
 *   skips the character after every '{' (so "{}" counts as one opening). What
 *   follows the cut (the "rest") is interpolated as a template of its own.
 * - Without an operator the match is just ${NAME}; anything else after "${"
 *   (including a '}' only on a later line) is an invalid template.
 * - (?i) folds with Unicode simple folding: U+017F (long s) and U+212A (Kelvin
 *   sign) are name characters, as 's' and 'k' are.
 * - Defaults, alternatives and messages are interpolated before the variable
 *   is looked up, whether used or not: they warn and fail even when unused.
 * - After an error, compose-go keeps scanning (and warning) and reports the
 *   first error, except that the remainder of a failed ${...} match up to its
 *   last '}' is skipped. InvalidTemplateError quotes the template being scanned
 *   at the time: the whole value, a default, or a rest.
 *
 * Here one scan() call is one compose-go template; a rest is scanned in place
 * (it always ends where its match ended) with its own bounds kept for the
 * error message, so rests cost no recursion. Defaults recurse, bounded by
 * COMPOSE_INTERP_MAX_DEPTH.
 */

#define NONE SIZE_MAX

struct interp {
	const struct interp_options *opt;
	const char *in;
	struct strbuf *out;
	size_t base;	/* out->len on entry: the cap counts from here */
	bool failed;	/* a compose-go error is recorded: output no longer matters */
	struct berth_error *err;
	struct strbuf name; /* NUL-terminated copy of the variable being looked up */
	struct strbuf msg;
};

size_t compose_utf8_decode(const char *s, size_t len, uint32_t *rune)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char b0 = p[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;
	uint32_t r;

	if (b0 < 0x80) {
		*rune = b0;
		return 1;
	}
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		n = 2;
		r = b0 & 0x1F;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		n = 3;
		r = b0 & 0x0F;
		if (b0 == 0xE0)
			lo = 0xA0;
		else if (b0 == 0xED)
			hi = 0x9F; /* surrogates are invalid */
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		n = 4;
		r = b0 & 0x07;
		if (b0 == 0xF0)
			lo = 0x90;
		else if (b0 == 0xF4)
			hi = 0x8F;
	} else {
		goto invalid;
	}
	if (len < n || p[1] < lo || p[1] > hi)
		goto invalid;
	r = (r << 6) | (p[1] & 0x3F);
	for (size_t i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF)
			goto invalid;
		r = (r << 6) | (p[i] & 0x3F);
	}
	*rune = r;
	return n;
invalid:
	*rune = 0xFFFD;
	return 1;
}

/* strconv.IsPrint for non-ASCII code points: exact from U+20000 on, below that
 * the controls, format characters, separators and private use are refused but
 * unassigned code points pass (Go refuses them). Only messages depend on it. */
static bool go_isprint(uint32_t r)
{
	static const uint32_t nonprint[][2] = {
		{0x80, 0xA0}, {0xAD, 0xAD}, {0x600, 0x605}, {0x61C, 0x61C}, {0x6DD, 0x6DD},
		{0x70F, 0x70F}, {0x890, 0x891}, {0x8E2, 0x8E2}, {0x1680, 0x1680},
		{0x180E, 0x180E}, {0x2000, 0x200F}, {0x2028, 0x202F}, {0x205F, 0x2064},
		{0x2066, 0x206F}, {0x3000, 0x3000}, {0xD800, 0xF8FF}, {0xFEFF, 0xFEFF},
		{0xFFF9, 0xFFFB}, {0xFFFE, 0xFFFF}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
		{0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
		/* from U+20000 on, exactly Go's (Unicode 15.0.0) */
		{0x2A6E0, 0x2A6FF}, {0x2B73A, 0x2B73F}, {0x2B81E, 0x2B81F}, {0x2CEA2, 0x2CEAF},
		{0x2EBE1, 0x2F7FF}, {0x2FA1E, 0x2FFFF}, {0x3134B, 0x3134F}, {0x323B0, 0xE00FF},
		{0xE01F0, 0x10FFFF},
	};
	for (size_t i = 0; i < sizeof(nonprint) / sizeof(nonprint[0]); i++)
		if (r >= nonprint[i][0] && r <= nonprint[i][1])
			return false;
	return true;
}

void compose_quote(struct strbuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	strbuf_addch(out, '"');
	for (size_t i = 0; i < len;) {
		uint32_t r;
		size_t w = compose_utf8_decode(s + i, len - i, &r);
		unsigned char b = (unsigned char)s[i];
		if (w == 1 && r == 0xFFFD) {
			strbuf_addf(out, "\\x%c%c", hex[b >> 4], hex[b & 15]);
		} else if (r == '"' || r == '\\') {
			strbuf_addch(out, '\\');
			strbuf_addch(out, (int)r);
		} else if (r >= 0x20 && r < 0x7F) {
			strbuf_addch(out, (int)r);
		} else if (r >= 0x80 && go_isprint(r)) {
			strbuf_add(out, s + i, w);
		} else {
			switch (r) {
			case '\a': strbuf_addstr(out, "\\a"); break;
			case '\b': strbuf_addstr(out, "\\b"); break;
			case '\f': strbuf_addstr(out, "\\f"); break;
			case '\n': strbuf_addstr(out, "\\n"); break;
			case '\r': strbuf_addstr(out, "\\r"); break;
			case '\t': strbuf_addstr(out, "\\t"); break;
			case '\v': strbuf_addstr(out, "\\v"); break;
			default:
				if (r < 0x80)
					strbuf_addf(out, "\\x%c%c", hex[r >> 4], hex[r & 15]);
				else if (r < 0x10000)
					strbuf_addf(out, "\\u%04x", (unsigned)r);
				else
					strbuf_addf(out, "\\U%08x", (unsigned)r);
			}
		}
		i += w;
	}
	strbuf_addch(out, '"');
}

void compose_quote_short(struct strbuf *out, const char *s, size_t len)
{
	if (len <= COMPOSE_QUOTE_MAX) {
		compose_quote(out, s, len);
		return;
	}
	size_t cut = COMPOSE_QUOTE_MAX;
	for (int i = 0; i < 3 && ((unsigned char)s[cut] & 0xC0) == 0x80; i++)
		cut--;
	compose_quote(out, s, cut);
	strbuf_addstr(out, "...");
}

bool compose_needs_interpolation(const char *in, size_t len)
{
	return len && memchr(in, '$', len) != NULL;
}

/* Length of the name character at in[i..end), 0 if none. digits: [0-9] allowed. */
static size_t name_char(const char *in, size_t i, size_t end, bool digits)
{
	unsigned char c = (unsigned char)in[i];
	if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	if (digits && c >= '0' && c <= '9')
		return 1;
	/* (?i)[a-z] also matches what 's' and 'k' fold to. */
	if (c == 0xC5 && end - i >= 2 && (unsigned char)in[i + 1] == 0xBF)
		return 2; /* U+017F */
	if (c == 0xE2 && end - i >= 3 && (unsigned char)in[i + 1] == 0x84 &&
	    (unsigned char)in[i + 2] == 0xAA)
		return 3; /* U+212A */
	return 0;
}

/* End of the name starting at in[i], or i when there is none. */
static size_t name_end(const char *in, size_t i, size_t end)
{
	size_t w;
	if (i >= end || !(w = name_char(in, i, end, false)))
		return i;
	i += w;
	while (i < end && (w = name_char(in, i, end, true)))
		i += w;
	return i;
}

/* getFirstBraceClosingIndex() over in[from..to): the '}' that balances the
 * first '{', where each '{' also skips the character after it. */
static size_t closing_brace(const char *in, size_t from, size_t to)
{
	long long open = 0;
	for (size_t i = from; i < to; i++) {
		if (in[i] == '}' && --open == 0)
			return i;
		if (in[i] == '{') {
			open++;
			i++;
		}
	}
	return NONE;
}

enum limit { LIMIT_DEPTH, LIMIT_OUTPUT };

static int limit_error(struct interp *st, enum limit which)
{
	/* compose-go would have reported the error already recorded, if any. */
	if (st->failed)
		return BERTH_E_LIMIT;
	st->failed = true;
	if (which == LIMIT_DEPTH)
		return berth_error_set(st->err, BERTH_E_LIMIT,
				       "interpolation nested deeper than %d levels",
				       COMPOSE_INTERP_MAX_DEPTH);
	return berth_error_set(st->err, BERTH_E_LIMIT, "interpolation result larger than %zu MiB",
			       COMPOSE_INTERP_MAX_OUTPUT >> 20);
}

static int emit(struct interp *st, const char *s, size_t n)
{
	if (st->failed || !n)
		return 0;
	if (n > COMPOSE_INTERP_MAX_OUTPUT - (st->out->len - st->base))
		return limit_error(st, LIMIT_OUTPUT);
	strbuf_add(st->out, s, n);
	return 0;
}

static void truncate_to(struct interp *st, size_t mark)
{
	if (mark <= st->out->len)
		strbuf_setlen(st->out, mark);
}

static const char *lookup(struct interp *st, const char *name, size_t len)
{
	strbuf_reset(&st->name);
	strbuf_add(&st->name, name, len);
	if (!st->opt || !st->opt->lookup)
		return NULL;
	return st->opt->lookup(st->opt->lookup_ctx, st->name.buf);
}

/* $NAME or ${NAME}: the value, or "" and a warning. */
static int substitute_plain(struct interp *st, size_t ns, size_t ne)
{
	const char *v = lookup(st, st->in + ns, ne - ns);
	if (v)
		return emit(st, v, strlen(v));
	if (st->opt && st->opt->warn) {
		strbuf_reset(&st->msg);
		strbuf_addstr(&st->msg, "The ");
		compose_quote(&st->msg, st->name.buf, st->name.len);
		strbuf_addstr(&st->msg, " variable is not set. Defaulting to a blank string.");
		st->opt->warn(st->opt->warn_ctx, st->msg.buf);
	}
	return 0;
}

static void record_invalid(struct interp *st, size_t ts, size_t te)
{
	if (st->failed)
		return;
	struct strbuf sb = STRBUF_INIT;
	compose_quote_short(&sb, st->in + ts, te - ts);
	berth_error_set(st->err, BERTH_E_INVALID,
			"invalid interpolation format for %s: you may need to escape any $ with another $",
			sb.buf);
	strbuf_release(&sb);
	st->failed = true;
}

static void record_required(struct interp *st, size_t ns, size_t ne, size_t mark)
{
	if (st->failed)
		return;
	const char *reason = st->out->buf + mark;
	size_t rlen = st->out->len - mark;
	int n = (int)(ne - ns);
	if (rlen)
		berth_error_set(st->err, BERTH_E_INVALID, "required variable %.*s is missing a value: %.*s",
				n, st->in + ns, (int)rlen, reason);
	else
		berth_error_set(st->err, BERTH_E_INVALID, "required variable %.*s is missing a value", n,
				st->in + ns);
	st->failed = true;
}

/* Interpolates the template in[fs..fe) into st->out. Returns 0, or a limit error
 * that ends everything. *frame_failed tells whether compose-go's call for this
 * template would have returned an error. */
static int scan(struct interp *st, size_t fs, size_t fe, int depth, bool *frame_failed)
{
	const char *in = st->in;
	size_t pos = fs;
	size_t tmpl_s = fs, tmpl_e = fe; /* the template compose-go is scanning */
	size_t line_end = fs, last_brace = NONE; /* last '}' of the line before line_end */
	int rc;

	while (pos < fe) {
		const char *dollar = memchr(in + pos, '$', fe - pos);
		size_t d = dollar ? (size_t)(dollar - in) : fe;
		if (d >= tmpl_e) { /* past the rest: back in the template proper */
			tmpl_s = fs;
			tmpl_e = fe;
		}
		if ((rc = emit(st, in + pos, d - pos)))
			return rc;
		if (d >= fe)
			break;
		if (d + 1 >= fe) {
			rc = emit(st, "$", 1);
			pos = fe;
			if (rc)
				return rc;
			break;
		}
		if (in[d + 1] == '$') {
			if ((rc = emit(st, "$", 1)))
				return rc;
			pos = d + 2;
			continue;
		}
		size_t ns = d + 1, ne = name_end(in, ns, fe);
		if (ne > ns) {
			if ((rc = substitute_plain(st, ns, ne)))
				return rc;
			pos = ne;
			continue;
		}
		if (in[d + 1] != '{') {
			if ((rc = emit(st, "$", 1)))
				return rc;
			pos = d + 1;
			continue;
		}

		/* "${" */
		ns = d + 2;
		ne = name_end(in, ns, fe);
		if (ne == ns)
			goto invalid;
		if (ne < fe && in[ne] == '}') {
			if ((rc = substitute_plain(st, ns, ne)))
				return rc;
			pos = ne + 1;
			continue;
		}
		size_t o = ne;
		bool colon = false;
		if (o < fe && in[o] == ':') {
			colon = true;
			o++;
		}
		if (o >= fe || (in[o] != '-' && in[o] != '+' && in[o] != '?'))
			goto invalid;
		char op = in[o];
		size_t arg_s = o + 1;

		if (arg_s >= line_end) {
			const char *nl = arg_s < fe ? memchr(in + arg_s, '\n', fe - arg_s) : NULL;
			line_end = nl ? (size_t)(nl - in) : fe;
			last_brace = NONE;
			for (size_t i = line_end; i > arg_s; i--) {
				if (in[i - 1] == '}') {
					last_brace = i - 1;
					break;
				}
			}
		}
		if (last_brace == NONE || last_brace < arg_s)
			goto invalid;
		size_t match_end = last_brace + 1;
		size_t close = closing_brace(in, d, match_end);
		if (close == NONE)
			close = last_brace;

		if (depth >= COMPOSE_INTERP_MAX_DEPTH)
			return limit_error(st, LIMIT_DEPTH);
		size_t mark = st->out->len;
		bool arg_failed = false;
		if ((rc = scan(st, arg_s, close, depth + 1, &arg_failed)))
			return rc;
		if (arg_failed) {
			/* The error skips the rest of the match. */
			truncate_to(st, mark);
			*frame_failed = true;
			pos = match_end;
			continue;
		}

		const char *v = lookup(st, in + ns, ne - ns);
		bool set = v != NULL, nonempty = v && *v;
		bool use_arg = false, ok = true;
		if (op == '-')
			use_arg = colon ? !nonempty : !set;
		else if (op == '+')
			use_arg = colon ? nonempty : set;
		else
			ok = colon ? nonempty : set;
		if (!ok) {
			record_required(st, ns, ne, mark);
			truncate_to(st, mark);
			*frame_failed = true;
			pos = match_end;
			continue;
		}
		if (!use_arg) {
			truncate_to(st, mark);
			if (v && (rc = emit(st, v, strlen(v))))
				return rc;
		}
		pos = close + 1;
		if (pos < match_end) {
			tmpl_s = pos;
			tmpl_e = match_end;
		}
		continue;

	invalid:
		record_invalid(st, tmpl_s, tmpl_e);
		*frame_failed = true;
		pos = d + 2;
	}
	return 0;
}

int compose_interpolate(struct strbuf *out, const char *in, size_t len,
			const struct interp_options *opt, struct berth_error *err)
{
	struct berth_error local = BERTH_ERROR_INIT;
	struct interp st = {
		.opt = opt,
		.in = in,
		.out = out,
		.base = out->len,
		.err = &local,
		.name = STRBUF_INIT,
		.msg = STRBUF_INIT,
	};
	bool failed = false;
	int rc = scan(&st, 0, len, 0, &failed);
	strbuf_release(&st.name);
	strbuf_release(&st.msg);
	if (rc || failed || st.failed) {
		truncate_to(&st, st.base);
		rc = local.code ? local.code : BERTH_E_INTERNAL;
		if (err)
			berth_error_move(err, &local);
		berth_error_release(&local);
		return rc;
	}
	return 0;
}
