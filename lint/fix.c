/* Applying fixes: every finding's edits are byte ranges in the text lint read;
 * they are applied per file from the end so that offsets stay valid, and a
 * finding whose edits collide with an earlier one waits for the next run.
 * Files are replaced atomically: temporary file, fsync, rename, fsync dir. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "compose/yaml_load.h"
#include "lint/lint.h"
#include "lint/source.h"
#include "common/banned.h"

static bool edits_conflict(const struct lint_edit *a, const struct lint_edit *b)
{
	size_t lo = a->start > b->start ? a->start : b->start;
	size_t hi = a->end < b->end ? a->end : b->end;
	if (lo < hi)
		return true; /* overlapping ranges */
	if (a->start == a->end && b->start < a->start && a->start < b->end)
		return true; /* insertion inside a replaced range */
	if (b->start == b->end && a->start < b->start && b->start < a->end)
		return true;
	if (a->start == a->end && b->start == b->end && a->start == b->start)
		return strcmp(a->text, b->text) != 0; /* two insertions at one point: order unknown */
	return false;
}

static bool same_edit(const struct lint_edit *a, const struct lint_edit *b)
{
	return a->start == b->start && a->end == b->end && !strcmp(a->text, b->text);
}

static int edit_order(const struct lint_edit *a, const struct lint_edit *b)
{
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	return 0;
}

/* The accepted edits of one file, sorted by position and never overlapping,
 * so that an edit is checked against its neighbours only. */
struct accepted {
	const struct lint_edit **v;
	size_t nr, alloc;
};

/* First index whose edit does not come before e. */
static size_t lower_bound(const struct accepted *acc, const struct lint_edit *e)
{
	size_t lo = 0, hi = acc->nr;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (edit_order(acc->v[mid], e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* 1: e is already accepted; 0: it fits; -1: it conflicts. */
static int check_edit(const struct accepted *acc, const struct lint_edit *e)
{
	size_t i = lower_bound(acc, e);
	/* a predecessor may reach into e; successors start at or after e->start */
	for (size_t j = i ? i - 1 : 0; j < acc->nr && acc->v[j]->start <= e->end; j++) {
		if (same_edit(acc->v[j], e))
			return 1;
		if (edits_conflict(acc->v[j], e))
			return -1;
	}
	return 0;
}

static void plan_file(struct lint_file_change *ch, const struct lint_result *r, const struct lint_source *src)
{
	struct accepted acc = { NULL, 0, 0 };
	for (size_t i = 0; i < r->nr; i++) {
		const struct lint_finding *f = &r->findings[i];
		if (!f->edits_nr || strcmp(f->file, ch->path))
			continue;
		bool ok = true;
		for (size_t k = 0; k < f->edits_nr && ok; k++) {
			const struct lint_edit *e = &f->edits[k];
			ok = e->start <= e->end && e->end <= src->text.len && check_edit(&acc, e) >= 0;
			/* a finding's own edits must not collide either */
			for (size_t j = 0; j < k && ok; j++)
				ok = !edits_conflict(&f->edits[j], e);
		}
		if (!ok) {
			ch->skipped++;
			continue;
		}
		for (size_t k = 0; k < f->edits_nr; k++) {
			const struct lint_edit *e = &f->edits[k];
			if (check_edit(&acc, e) == 1)
				continue;
			size_t at = lower_bound(&acc, e);
			ALLOC_GROW(acc.v, acc.nr + 1, acc.alloc);
			memmove(&acc.v[at + 1], &acc.v[at], (acc.nr - at) * sizeof(*acc.v));
			acc.v[at] = e;
			acc.nr++;
		}
		ch->applied++;
	}
	size_t pos = 0;
	for (size_t j = 0; j < acc.nr; j++) {
		const struct lint_edit *e = acc.v[j];
		strbuf_add(&ch->after, src->text.buf + pos, e->start - pos);
		strbuf_addstr(&ch->after, e->text);
		pos = e->end;
	}
	strbuf_add(&ch->after, src->text.buf + pos, src->text.len - pos);
	free(acc.v);
}

int lint_fix_plan(struct lint_file_change **out, size_t *nr, const struct lint_result *r, struct berth_error *err)
{
	struct lint_file_change *v = NULL;
	size_t n = 0, alloc = 0;
	for (size_t i = 0; i < r->nr; i++) {
		const struct lint_finding *f = &r->findings[i];
		if (!f->edits_nr)
			continue;
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(v[k].path, f->file);
		if (seen)
			continue;
		const struct lint_source *src = r->sources ? lint_source_get(r->sources, f->file) : NULL;
		if (!src) {
			lint_file_changes_free(v, n);
			return berth_error_set(err, BERTH_E_IO, "cannot fix \"%s\": its text is no longer available", f->file);
		}
		ALLOC_GROW(v, n + 1, alloc);
		struct lint_file_change *ch = &v[n++];
		memset(ch, 0, sizeof(*ch));
		ch->path = xstrdup(f->file);
		strbuf_init(&ch->before, src->text.len + 1);
		strbuf_add(&ch->before, src->text.buf, src->text.len);
		strbuf_init(&ch->after, src->text.len + 64);
		plan_file(ch, r, src);
	}
	*out = v;
	*nr = n;
	return 0;
}

void lint_file_changes_free(struct lint_file_change *c, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(c[i].path);
		strbuf_release(&c[i].before);
		strbuf_release(&c[i].after);
	}
	free(c);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int lint_fix_write(const struct lint_file_change *c, struct berth_error *err)
{
	/* write through a symlink to the file it names, as an editor would */
	char real[PATH_MAX];
	if (!realpath(c->path, real))
		return berth_error_set(err, BERTH_E_IO, "cannot resolve \"%s\": %s", c->path, strerror(errno));
	struct strbuf now = STRBUF_INIT;
	int rc = read_file_capped(&now, real, YAML_MAX_BYTES, err);
	if (!rc && (now.len != c->before.len || memcmp(now.buf, c->before.buf, now.len)))
		rc = berth_error_set(err, BERTH_E_IO, "\"%s\" changed since it was linted; not fixed", c->path);
	strbuf_release(&now);
	if (rc)
		return rc;
	struct stat st;
	if (stat(real, &st))
		return berth_error_set(err, BERTH_E_IO, "cannot stat \"%s\": %s", c->path, strerror(errno));

	const char *slash = strrchr(real, '/');
	size_t dlen = slash ? (size_t)(slash - real) : 0;
	_cleanup_free_ char *dir = slash ? xstrndup(real, dlen ? dlen : 1) : xstrdup(".");
	_cleanup_free_ char *tmp = xstrfmt("%s/.%s.berth-lint-XXXXXX", dir, slash ? slash + 1 : real);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return berth_error_set(err, BERTH_E_IO, "cannot create a temporary file next to \"%s\": %s", c->path,
				       strerror(errno));
	const char *what = NULL;
	if (write_all(fd, c->after.buf, c->after.len))
		what = "write";
	else if (fchmod(fd, st.st_mode & 07777))
		what = "chmod";
	else if (fsync(fd))
		what = "fsync";
	if (close(fd) && !what)
		what = "close";
	if (!what && rename(tmp, real))
		what = "rename";
	if (what) {
		int e = errno;
		unlink(tmp);
		return berth_error_set(err, BERTH_E_IO, "cannot replace \"%s\" (%s): %s", c->path, what, strerror(e));
	}
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd); /* the rename is durable once the directory is */
	return 0;
}
