/* lint/diff.c and lint/fix.c: unified diffs that patch back exactly (checked
 * with a small hunk applier here and against GNU diff where it exists),
 * overlapping edits, and the atomic replacement of a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/proc.h"
#include "lint/rules.h"
#include "lint/source.h"
#include "tests/unit/lint/util.h"
#include "common/banned.h"

/* Applies a unified diff (as lint_diff_unified writes it) to a; returns the result. */
static char *apply_patch(const char *a, const char *patch)
{
	struct strvec lines = STRVEC_INIT;
	for (const char *p = a; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		strvec_push_nodup(&lines, xstrndup(p, n));
		p += n;
	}
	struct strbuf out = STRBUF_INIT;
	size_t next = 0; /* next line of a not yet copied */
	const char *p = strstr(patch, "\n@@");
	while (p) {
		p++;
		unsigned long start = strtoul(p + 4, NULL, 10);
		/* "-0,0" inserts before line 1; "-N,0" after line N; else starts at N */
		const char *comma = strchr(p + 4, ',');
		const char *space = strchr(p + 4, ' ');
		bool empty = comma && comma < space && !strncmp(comma, ",0 ", 3);
		size_t from = empty ? start : (start ? start - 1 : 0);
		while (next < from)
			strbuf_addstr(&out, lines.v[next++]);
		p = strchr(p, '\n') + 1;
		while (*p && strncmp(p, "@@", 2)) {
			const char *nl = strchr(p, '\n');
			size_t n = (size_t)(nl - p) + 1;
			bool no_newline = !strncmp(nl + 1, "\\ No newline", 12);
			if (*p == ' ' || *p == '-') {
				next++;
			}
			if (*p == ' ' || *p == '+')
				strbuf_add(&out, p + 1, n - 1 - (no_newline ? 1 : 0));
			p = nl + 1;
			if (no_newline)
				p = strchr(p, '\n') + 1;
		}
		p = *p ? p - 1 : NULL;
	}
	while (next < lines.nr)
		strbuf_addstr(&out, lines.v[next++]);
	strvec_clear(&lines);
	return strbuf_detach(&out, NULL);
}

static void roundtrip(const char *a, const char *b)
{
	struct strbuf d = STRBUF_INIT;
	lint_diff_unified(&d, "a/x", "b/x", a, strlen(a), b, strlen(b));
	if (!strcmp(a, b)) {
		assert_int_equal(d.len, 0);
	} else {
		char *got = apply_patch(a, d.buf);
		if (strcmp(got, b))
			fail_msg("patch does not reproduce b\n--- a\n%s--- b\n%s--- diff\n%s--- got\n%s", a, b, d.buf, got);
		free(got);
	}
	strbuf_release(&d);
}

static void test_diff_format(void **state)
{
	struct strbuf d = STRBUF_INIT;
	const char *a = "version: \"3\"\n\nservices:\n  a:\n    image: x\n    tty: true\n    command: sh\n";
	const char *b = "services:\n  a:\n    image: x\n    tty: true\n    stdin_open: true\n    command: sh\n";
	lint_diff_unified(&d, "a/compose.yaml", "b/compose.yaml", a, strlen(a), b, strlen(b));
	assert_string_equal(d.buf, "--- a/compose.yaml\n"
				   "+++ b/compose.yaml\n"
				   "@@ -1,7 +1,6 @@\n"
				   "-version: \"3\"\n"
				   "-\n"
				   " services:\n"
				   "   a:\n"
				   "     image: x\n"
				   "     tty: true\n"
				   "+    stdin_open: true\n"
				   "     command: sh\n");
	strbuf_reset(&d);
	lint_diff_unified(&d, "a", "b", "x\ny", 3, "x\nz", 3);
	assert_string_equal(d.buf, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+z\n"
				   "\\ No newline at end of file\n");
	strbuf_reset(&d);
	lint_diff_unified(&d, "a", "b", "same\n", 5, "same\n", 5);
	assert_int_equal(d.len, 0);
	strbuf_release(&d);
}

static void test_diff_roundtrips(void **state)
{
	roundtrip("", "a\n");
	roundtrip("a\n", "");
	roundtrip("a\nb\nc\n", "a\nc\n");
	roundtrip("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
		  "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\nY\n20\n21\n");
	/* random edits of a 200-line file, deterministic */
	uint32_t seed = 12345;
	for (int round = 0; round < 200; round++) {
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
		int n = 1 + (int)(seed % 60);
		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			int line = (int)((seed >> 16) % 7);
			strbuf_addf(&a, "line %d\n", line);
			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 16) % 6) {
			case 0: break; /* deleted */
			case 1: strbuf_addf(&b, "new %d\nline %d\n", i, line); break;
			case 2: strbuf_addf(&b, "changed %d\n", line); break;
			default: strbuf_addf(&b, "line %d\n", line);
			}
		}
		if (round % 5 == 0 && a.len)
			strbuf_setlen(&a, a.len - 1); /* no newline at the end */
		roundtrip(a.buf, b.buf);
		strbuf_release(&a);
		strbuf_release(&b);
	}
}

static void test_diff_matches_gnu_diff(void **state)
{
	const char *argv0[] = { "diff", "--version", NULL };
	struct strbuf out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	if (proc_capture(&out, argv0, 10000, 0, &err)) {
		berth_error_release(&err);
		strbuf_release(&out);
		skip();
	}
	strbuf_release(&out);
	char *tmp = make_tmpdir();
	char *pa = xstrfmt("%s/a", tmp), *pb = xstrfmt("%s/b", tmp);
	const char *a = "services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n        mode: host\n"
			"    tty: true\n    command: x\n    labels:\n      a: b\n      c: d\n      e: f\n      g: h\n"
			"  db:\n    image: postgres\n    restart_policy: always\n";
	const char *b = "services:\n  web:\n    image: nginx\n    ports:\n      - target: 80\n        mode: ingress\n"
			"    tty: true\n    stdin_open: true\n    command: x\n    labels:\n      a: b\n      c: d\n      e: f\n"
			"      g: h\n  db:\n    image: postgres\n    restart_policy: any\n";
	spit(pa, a, strlen(a));
	spit(pb, b, strlen(b));
	const char *argv[] = { "diff", "-u", "--label", "a/x", "--label", "b/x", pa, pb, NULL };
	struct proc p;
	struct strbuf gnu = STRBUF_INIT, mine = STRBUF_INIT;
	proc_init(&p);
	strvec_pushv(&p.argv, argv);
	p.in.mode = PROC_NULL;
	p.out.mode = PROC_PIPE;
	p.out.buf = &gnu;
	assert_int_equal(proc_run(&p, &err), 0);
	proc_release(&p);
	lint_diff_unified(&mine, "a/x", "b/x", a, strlen(a), b, strlen(b));
	assert_string_equal(mine.buf, gnu.buf);
	strbuf_release(&gnu);
	strbuf_release(&mine);
	remove_tree(tmp);
	free(tmp);
	free(pa);
	free(pb);
}

/* A result over one in-memory file, with findings carrying the given edits. */
static void fake_result(struct lint_result *r, const char *path, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->sources = xcalloc(1, sizeof(*r->sources));
	/* put the text in the cache under path, as lint_run leaves it */
	struct lint_source *src = xcalloc(1, sizeof(*src));
	lint_source_init_text(src, path, text, strlen(text));
	ALLOC_GROW(r->sources->v, 1, r->sources->alloc);
	r->sources->v[r->sources->nr++] = src;
}

static struct lint_finding *fake_finding(struct lint_result *r, const char *path)
{
	ALLOC_GROW(r->findings, r->nr + 1, r->alloc);
	struct lint_finding *f = &r->findings[r->nr++];
	memset(f, 0, sizeof(*f));
	f->rule = &lint_rules[R_OBSOLETE_VERSION];
	f->file = xstrdup(path);
	f->message = xstrdup("m");
	f->help = xstrdup("h");
	f->path = xstrdup("p");
	return f;
}

static void add_edit(struct lint_finding *f, size_t s, size_t e, const char *t)
{
	ALLOC_GROW(f->edits, f->edits_nr + 1, f->edits_alloc);
	f->edits[f->edits_nr].start = s;
	f->edits[f->edits_nr].end = e;
	f->edits[f->edits_nr].text = xstrdup(t);
	f->edits_nr++;
}

static void test_overlapping_edits_wait_for_the_next_run(void **state)
{
	struct lint_result r;
	fake_result(&r, "/x/compose.yaml", "0123456789\n");
	add_edit(fake_finding(&r, "/x/compose.yaml"), 2, 4, "ab");     /* applied */
	add_edit(fake_finding(&r, "/x/compose.yaml"), 3, 6, "zz");     /* overlaps: skipped */
	add_edit(fake_finding(&r, "/x/compose.yaml"), 2, 4, "ab");     /* the same edit: applied once */
	struct lint_finding *two = fake_finding(&r, "/x/compose.yaml"); /* both or neither */
	add_edit(two, 8, 8, "+");
	add_edit(two, 0, 1, "");
	struct lint_file_change *ch;
	size_t nr;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(lint_fix_plan(&ch, &nr, &r, &err), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(ch[0].after.buf, "1ab4567+89\n");
	assert_int_equal(ch[0].applied, 3);
	assert_int_equal(ch[0].skipped, 1);
	lint_file_changes_free(ch, nr);
	lint_result_release(&r);
}

static void test_fix_write_is_atomic_and_checks_the_file(void **state)
{
	char *tmp = make_tmpdir();
	char *path = xstrfmt("%s/compose.yaml", tmp);
	char *link = xstrfmt("%s/link.yaml", tmp);
	assert_int_equal(spit(path, "old\n", 4), 0);
	chmod(path, 0640);
	assert_int_equal(symlink("compose.yaml", link), 0);
	struct lint_file_change c = { .path = link, .before = STRBUF_INIT, .after = STRBUF_INIT };
	strbuf_addstr(&c.before, "old\n");
	strbuf_addstr(&c.after, "new\n");
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(lint_fix_write(&c, &err), 0);
	struct strbuf sb = STRBUF_INIT;
	slurp(&sb, path);
	assert_string_equal(sb.buf, "new\n");
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode)); /* written through the link, the link kept */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* no temporary file left behind */
	struct strvec names = STRVEC_INIT;
	list_dir(&names, tmp);
	assert_int_equal(names.nr, 2);
	strvec_clear(&names);
	/* the file changed since it was read: refused, untouched */
	assert_int_equal(lint_fix_write(&c, &err), BERTH_E_IO);
	assert_non_null(strstr(err.msg, "changed since it was linted"));
	strbuf_reset(&sb);
	slurp(&sb, path);
	assert_string_equal(sb.buf, "new\n");
	strbuf_release(&sb);
	strbuf_release(&c.before);
	strbuf_release(&c.after);
	berth_error_release(&err);
	remove_tree(tmp);
	free(tmp);
	free(path);
	free(link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_format),
		cmocka_unit_test(test_diff_roundtrips),
		cmocka_unit_test(test_diff_matches_gnu_diff),
		cmocka_unit_test(test_overlapping_edits_wait_for_the_next_run),
		cmocka_unit_test(test_fix_write_is_atomic_and_checks_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
