/* Variable interpolation in compose files and .env values, as compose-go v2.0.x
 * (template/template.go, Docker Compose 2.26) performs it: $$, $NAME, ${NAME},
 * ${NAME:-def} ${NAME-def} ${NAME:+alt} ${NAME+alt} ${NAME:?msg} ${NAME?msg},
 * nested defaults, and the same results for compose-go's odd corners. */
#ifndef BERTH_COMPOSE_INTERPOLATE_H
#define BERTH_COMPOSE_INTERPOLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct berth_error;

/* Returns the value of name (borrowed until the next call), or NULL when unset. */
typedef const char *(*interp_lookup_fn)(void *ctx, const char *name);
/* msg is borrowed for the duration of the call. */
typedef void (*interp_warn_fn)(void *ctx, const char *msg);

struct interp_options {
	interp_lookup_fn lookup; /* NULL: every variable is unset */
	void *lookup_ctx;
	interp_warn_fn warn; /* NULL: warnings are dropped */
	void *warn_ctx;
};

/* Defaults and alternatives nest (${A:-${B:-x}}); compose-go has no bound, berth
 * stops here so that hostile input cannot exhaust the stack. */
#define COMPOSE_INTERP_MAX_DEPTH 64
/* Largest result of one compose_interpolate() call, in bytes. */
#define COMPOSE_INTERP_MAX_OUTPUT ((size_t)16 << 20)

/* Appends the interpolation of in[0..len) to out.
 *
 * Errors (out is left as it was; err gets the message only, the caller adds
 * file:line:col and the key path):
 *   BERTH_E_INVALID  invalid interpolation format for "<template>": you may need
 *                    to escape any $ with another $
 *                    (<template> is the string compose-go reports, which for a
 *                    fault inside a default or after a ${...} is that part only)
 *   BERTH_E_INVALID  required variable NAME is missing a value[: msg]
 *   BERTH_E_LIMIT    nesting deeper than COMPOSE_INTERP_MAX_DEPTH, or a result
 *                    larger than COMPOSE_INTERP_MAX_OUTPUT
 * When several errors occur, the first compose-go would meet is reported.
 *
 * Each reference to an unset variable without an operator substitutes "" and
 * calls opt->warn once with `The "NAME" variable is not set. Defaulting to a
 * blank string.` (once per reference: callers dedupe if they want). Like
 * compose-go, defaults, alternatives and messages are interpolated even when
 * unused, so they may warn or fail although the variable is set. */
int compose_interpolate(struct strbuf *out, const char *in, size_t len,
			const struct interp_options *opt, struct berth_error *err);

/* True if in[0..len) contains a '$', i.e. interpolation could change it. */
bool compose_needs_interpolation(const char *in, size_t len);

/* Appends s[0..len) quoted as Go's strconv.Quote (fmt %q, %#v) does, which is how
 * compose-go quotes subjects in its messages: ASCII escapes exact, invalid UTF-8
 * as \xNN; of non-ASCII code points, controls, format characters, separators
 * and private-use ones are escaped, others kept; Go also escapes the unassigned
 * code points below U+20000, which berth keeps. */
void compose_quote(struct strbuf *out, const char *s, size_t len);
/* compose_quote() for subjects in berth's messages: beyond COMPOSE_QUOTE_MAX bytes
 * the subject is cut (on a character boundary) and "..." follows the quotes;
 * compose-go prints it whole, however long. */
#define COMPOSE_QUOTE_MAX 256
void compose_quote_short(struct strbuf *out, const char *s, size_t len);

/* Decodes the rune at s[0..len) (len > 0) as Go's utf8.DecodeRune does: invalid
 * or truncated sequences, overlongs and surrogates give U+FFFD and length 1.
 * Returns the length consumed. */
size_t compose_utf8_decode(const char *s, size_t len, uint32_t *rune);

#endif
