/* Unified diffs for `berth lint --diff`, in GNU diff's format with three lines
 * of context. Lines found exactly once in both texts anchor the alignment (as
 * patience diff does), so thousands of scattered fixes in a large file stay
 * cheap; between anchors, Myers' O(ND) algorithm. Past MAX_D differences a
 * stretch is shown as one replaced block: still a valid patch, and it bounds
 * Myers' trace, which grows as D squared. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint.h"
#include "common/banned.h"

#define CONTEXT 3
#define MAX_D 1024
#define MAX_DEPTH 8

struct line {
	const char *s;
	size_t len; /* with its '\n', if any */
	uint32_t hash;
};

struct lines {
	struct line *v;
	size_t nr, alloc;
};

static void split_lines(struct lines *out, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (s + i)) + 1 : len - i;
		uint32_t h = 2166136261u;
		for (size_t k = 0; k < n; k++)
			h = (h ^ (unsigned char)s[i + k]) * 16777619u;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = (struct line){ s + i, n, h };
		i += n;
	}
}

static bool line_eq(const struct line *a, const struct line *b)
{
	return a->hash == b->hash && a->len == b->len && !memcmp(a->s, b->s, a->len);
}

enum op_kind { OP_EQ, OP_DEL, OP_ADD };
struct op {
	enum op_kind kind;
	size_t a, b; /* line indexes in a and b */
};
struct ops {
	struct op *v;
	size_t nr, alloc;
};

static void push_op(struct ops *o, enum op_kind k, size_t a, size_t b)
{
	ALLOC_GROW(o->v, o->nr + 1, o->alloc);
	o->v[o->nr++] = (struct op){ k, a, b };
}

/* Myers' greedy algorithm on a[a0..a1) and b[b0..b1); appends ops in order. */
static void myers(struct ops *out, const struct lines *A, size_t a0, size_t a1, const struct lines *B, size_t b0,
		  size_t b1)
{
	long n = (long)(a1 - a0), m = (long)(b1 - b0), max = n + m;
	long dmax = max < MAX_D ? max : MAX_D;
	/* trace[d] holds V[-d..d] after step d */
	long **trace = xcalloc((size_t)dmax + 1, sizeof(*trace));
	long *v = xcalloc((size_t)(2 * dmax + 3), sizeof(*v));
	long off = dmax + 1, found = -1;
	for (long d = 0; d <= dmax && found < 0; d++) {
		for (long k = -d; k <= d; k += 2) {
			long x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1] : v[off + k - 1] + 1;
			long y = x - k;
			while (x < n && y < m && line_eq(&A->v[a0 + (size_t)x], &B->v[b0 + (size_t)y])) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
		trace[d] = xmalloc((size_t)(2 * d + 1) * sizeof(long));
		for (long k = -d; k <= d; k++)
			trace[d][k + d] = v[off + k];
	}
	if (found < 0) {
		for (size_t i = a0; i < a1; i++)
			push_op(out, OP_DEL, i, b0);
		for (size_t j = b0; j < b1; j++)
			push_op(out, OP_ADD, a1, j);
	} else {
		/* walk back from (n, m), collecting ops in reverse */
		struct ops rev = { NULL, 0, 0 };
		long x = n, y = m;
		for (long d = found; d > 0; d--) {
			long k = x - y;
			const long *pv = trace[d - 1];
			long prev_k = (k == -d || (k != d && pv[k - 1 + (d - 1)] < pv[k + 1 + (d - 1)])) ? k + 1 : k - 1;
			long px = pv[prev_k + (d - 1)], py = px - prev_k;
			while (x > px && y > py) {
				x--;
				y--;
				push_op(&rev, OP_EQ, a0 + (size_t)x, b0 + (size_t)y);
			}
			if (x == px)
				push_op(&rev, OP_ADD, a0 + (size_t)x, b0 + (size_t)(--y));
			else
				push_op(&rev, OP_DEL, a0 + (size_t)(--x), b0 + (size_t)y);
		}
		while (x > 0 && y > 0) {
			x--;
			y--;
			push_op(&rev, OP_EQ, a0 + (size_t)x, b0 + (size_t)y);
		}
		for (size_t i = rev.nr; i-- > 0;)
			push_op(out, rev.v[i].kind, rev.v[i].a, rev.v[i].b);
		free(rev.v);
	}
	for (long d = 0; d <= dmax; d++)
		free(trace[d]);
	free(trace);
	free(v);
}

/* ---- anchors: lines unique on both sides ----------------------------------- */

struct slot {
	const struct line *l; /* NULL: empty */
	size_t count_a, count_b, ia, ib;
};

static struct slot *slot_for(struct slot *tab, size_t mask, const struct line *l)
{
	size_t h = l->hash & mask;
	while (tab[h].l && !line_eq(tab[h].l, l))
		h = (h + 1) & mask;
	return &tab[h];
}

/* Pairs (ia, ib) of lines unique in a[a0..a1) and in b[b0..b1), equal, and
 * in increasing order on both sides (the longest such chain). */
static size_t anchors(size_t **out_a, size_t **out_b, const struct lines *A, size_t a0, size_t a1, const struct lines *B,
		      size_t b0, size_t b1)
{
	size_t n = (a1 - a0) + (b1 - b0), size = 16;
	while (size < 2 * n)
		size *= 2;
	struct slot *tab = xcalloc(size, sizeof(*tab));
	for (size_t i = a0; i < a1; i++) {
		struct slot *s = slot_for(tab, size - 1, &A->v[i]);
		s->l = &A->v[i];
		s->count_a++;
		s->ia = i;
	}
	for (size_t j = b0; j < b1; j++) {
		struct slot *s = slot_for(tab, size - 1, &B->v[j]);
		if (!s->l)
			s->l = &B->v[j];
		s->count_b++;
		s->ib = j;
	}
	/* candidates in a's order; then the longest increasing run of their b
	 * positions (patience sorting: tails[k] ends the best run of length k+1) */
	size_t k = 0, *ca = xmalloc((a1 - a0 + 1) * sizeof(size_t)), *cb = xmalloc((a1 - a0 + 1) * sizeof(size_t));
	for (size_t i = a0; i < a1; i++) {
		const struct slot *s = slot_for(tab, size - 1, &A->v[i]);
		if (s->count_a == 1 && s->count_b == 1) {
			ca[k] = i;
			cb[k] = s->ib;
			k++;
		}
	}
	free(tab);
	size_t *tails = xmalloc((k + 1) * sizeof(size_t)), *prev = xmalloc((k + 1) * sizeof(size_t)), len = 0;
	for (size_t c = 0; c < k; c++) {
		size_t lo = 0, hi = len;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (cb[tails[mid]] < cb[c])
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[c] = lo ? tails[lo - 1] : SIZE_MAX;
		tails[lo] = c;
		if (lo == len)
			len++;
	}
	size_t *ra = xmalloc((len + 1) * sizeof(size_t)), *rb = xmalloc((len + 1) * sizeof(size_t));
	for (size_t c = len ? tails[len - 1] : SIZE_MAX, w = len; c != SIZE_MAX; c = prev[c]) {
		w--;
		ra[w] = ca[c];
		rb[w] = cb[c];
	}
	free(tails);
	free(prev);
	free(ca);
	free(cb);
	*out_a = ra;
	*out_b = rb;
	return len;
}

/* Ops for a[a0..a1) against b[b0..b1): common ends, then anchors, then Myers. */
static void diff_range(struct ops *out, const struct lines *A, size_t a0, size_t a1, const struct lines *B, size_t b0,
		       size_t b1, int depth)
{
	while (a0 < a1 && b0 < b1 && line_eq(&A->v[a0], &B->v[b0]))
		push_op(out, OP_EQ, a0++, b0++);
	size_t suf = 0;
	while (a1 - suf > a0 && b1 - suf > b0 && line_eq(&A->v[a1 - 1 - suf], &B->v[b1 - 1 - suf]))
		suf++;
	a1 -= suf;
	b1 -= suf;
	size_t *ra = NULL, *rb = NULL, n = 0;
	if (a0 < a1 && b0 < b1 && depth < MAX_DEPTH)
		n = anchors(&ra, &rb, A, a0, a1, B, b0, b1);
	if (n) {
		for (size_t k = 0; k < n; k++) {
			diff_range(out, A, a0, ra[k], B, b0, rb[k], depth + 1);
			push_op(out, OP_EQ, ra[k], rb[k]);
			a0 = ra[k] + 1;
			b0 = rb[k] + 1;
		}
		diff_range(out, A, a0, a1, B, b0, b1, depth + 1);
	} else {
		myers(out, A, a0, a1, B, b0, b1);
	}
	free(ra);
	free(rb);
	for (size_t i = 0; i < suf; i++)
		push_op(out, OP_EQ, a1 + i, b1 + i);
}

static void add_line(struct strbuf *out, char mark, const struct line *l)
{
	strbuf_addch(out, mark);
	strbuf_add(out, l->s, l->len);
	if (!l->len || l->s[l->len - 1] != '\n')
		strbuf_addstr(out, "\n\\ No newline at end of file\n");
}

static void range(struct strbuf *out, size_t start, size_t count)
{
	/* GNU diff: an empty range names the line before it; a count of 1 is omitted */
	if (count == 1)
		strbuf_addf(out, "%zu", start + 1);
	else
		strbuf_addf(out, "%zu,%zu", count ? start + 1 : start, count);
}

void lint_diff_unified(struct strbuf *out, const char *label_a, const char *label_b, const char *a, size_t alen,
		       const char *b, size_t blen)
{
	if (alen == blen && !memcmp(a, b, alen))
		return;
	struct lines A = { NULL, 0, 0 }, B = { NULL, 0, 0 };
	split_lines(&A, a, alen);
	split_lines(&B, b, blen);
	struct ops ops = { NULL, 0, 0 };
	diff_range(&ops, &A, 0, A.nr, &B, 0, B.nr, 0);

	strbuf_addf(out, "--- %s\n+++ %s\n", label_a, label_b);
	size_t i = 0;
	while (i < ops.nr) {
		while (i < ops.nr && ops.v[i].kind == OP_EQ)
			i++;
		if (i == ops.nr)
			break;
		/* a hunk: from CONTEXT lines before this change to CONTEXT after the
		 * last change that is at most 2*CONTEXT equal lines from the previous */
		size_t start = i >= CONTEXT ? i - CONTEXT : 0, end = i;
		for (;;) {
			while (end < ops.nr && ops.v[end].kind != OP_EQ)
				end++;
			size_t eq = end;
			while (eq < ops.nr && ops.v[eq].kind == OP_EQ)
				eq++;
			if (eq < ops.nr && eq - end <= 2 * CONTEXT) {
				end = eq;
				continue;
			}
			end = end + CONTEXT < ops.nr ? end + CONTEXT : ops.nr;
			if (end > eq)
				end = eq;
			break;
		}
		size_t a_start = ops.v[start].a, b_start = ops.v[start].b, na = 0, nb = 0;
		for (size_t k = start; k < end; k++) {
			na += ops.v[k].kind != OP_ADD;
			nb += ops.v[k].kind != OP_DEL;
		}
		strbuf_addstr(out, "@@ -");
		range(out, a_start, na);
		strbuf_addstr(out, " +");
		range(out, b_start, nb);
		strbuf_addstr(out, " @@\n");
		for (size_t k = start; k < end; k++) {
			const struct op *o = &ops.v[k];
			if (o->kind == OP_EQ)
				add_line(out, ' ', &A.v[o->a]);
			else if (o->kind == OP_DEL)
				add_line(out, '-', &A.v[o->a]);
			else
				add_line(out, '+', &B.v[o->b]);
		}
		i = end;
	}
	free(ops.v);
	free(A.v);
	free(B.v);
}
