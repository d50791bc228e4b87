/* Helpers the lint tests share: files, temporary trees and running the lint
 * core on a fixture directory with options read from its `options` file. */
#ifndef BERTH_TESTS_LINT_UTIL_H
#define BERTH_TESTS_LINT_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "compose/yaml_load.h"
#include "lint/lint.h"

#define UNUSED_HELPER __attribute__((unused))

/* The source tree, absolute (ctest sets BERTH_SOURCE_DIR; by hand, run from it). */
UNUSED_HELPER static const char *source_dir(void)
{
	static char buf[4096];
	const char *s = getenv("BERTH_SOURCE_DIR");
	if (!realpath(s && *s ? s : ".", buf))
		return ".";
	return buf;
}

UNUSED_HELPER static int slurp(struct strbuf *out, const char *path)
{
	struct berth_error err = BERTH_ERROR_INIT;
	int rc = read_file_capped(out, path, 64u << 20, &err);
	berth_error_release(&err);
	return rc;
}

UNUSED_HELPER static int spit(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

UNUSED_HELPER static bool is_dir(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

UNUSED_HELPER static bool exists(const char *path)
{
	struct stat st;
	return !lstat(path, &st);
}

/* Names in dir, sorted; caller clears. */
UNUSED_HELPER static int list_dir(struct strvec *out, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			strvec_push(out, e->d_name);
	closedir(d);
	for (size_t i = 1; i < out->nr; i++)
		for (size_t j = i; j > 0 && strcmp(out->v[j - 1], out->v[j]) > 0; j--) {
			char *t = out->v[j];
			out->v[j] = out->v[j - 1];
			out->v[j - 1] = t;
		}
	return 0;
}

/* Copies the regular files and directories of src into dst (created),
 * leaving out the names a fixture uses for expectations. */
UNUSED_HELPER static int copy_tree(const char *src, const char *dst)
{
	struct strvec names = STRVEC_INIT;
	int rc = 0;
	if (mkdir(dst, 0755) && errno != EEXIST)
		return -1;
	if (list_dir(&names, src))
		return -1;
	for (size_t i = 0; i < names.nr && !rc; i++) {
		const char *n = names.v[i];
		if (!strcmp(n, "expected") || !strcmp(n, "options") || !strcmp(n, "fixed"))
			continue;
		char *s = xstrfmt("%s/%s", src, n), *d = xstrfmt("%s/%s", dst, n);
		if (is_dir(s)) {
			rc = copy_tree(s, d);
		} else {
			struct strbuf sb = STRBUF_INIT;
			rc = slurp(&sb, s) || spit(d, sb.buf, sb.len);
			strbuf_release(&sb);
		}
		free(s);
		free(d);
	}
	strvec_clear(&names);
	return rc;
}

UNUSED_HELPER static void remove_tree(const char *path)
{
	if (is_dir(path)) {
		struct strvec names = STRVEC_INIT;
		list_dir(&names, path);
		for (size_t i = 0; i < names.nr; i++) {
			char *p = xstrfmt("%s/%s", path, names.v[i]);
			remove_tree(p);
			free(p);
		}
		strvec_clear(&names);
		rmdir(path);
	} else {
		unlink(path);
	}
}

UNUSED_HELPER static char *make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t = xstrfmt("%s/berth-lint-test-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

/* A fixture's options, from its `options` file: key=value lines
 * (target, engine-version, mount, home, host-arch, file, select, env).
 * Values starting with "./" or equal to "." are relative to the fixture. */
struct fixture_opts {
	struct lint_options lo;
	struct strvec env;  /* the environment lint sees */
	struct strvec keep; /* strings lo borrows */
	bool select_all;
};

UNUSED_HELPER static const char *fixture_path(struct fixture_opts *fo, const char *dir, const char *v)
{
	if (!strcmp(v, "."))
		strvec_push(&fo->keep, dir);
	else if (!strncmp(v, "./", 2))
		strvec_pushf(&fo->keep, "%s/%s", dir, v + 2);
	else
		strvec_push(&fo->keep, v);
	return fo->keep.v[fo->keep.nr - 1];
}

/* Fills fo for the fixture in dir (lint runs there); code is the rule under
 * test (selected unless the options say select=all). Returns 0 or -1. */
UNUSED_HELPER static int fixture_opts_load(struct fixture_opts *fo, const char *dir, const char *code)
{
	struct lint_options init = LINT_OPTIONS_INIT;
	memset(fo, 0, sizeof(*fo));
	fo->lo = init;
	struct strbuf sb = STRBUF_INIT;
	char *path = xstrfmt("%s/options", dir);
	const char *home = "/home/lint-test";
	bool have_select = false;
	if (exists(path) && slurp(&sb, path)) {
		free(path);
		return -1;
	}
	free(path);
	strvec_push(&fo->keep, dir);
	fo->lo.compose.cwd = fo->keep.v[0];
	fo->lo.host_arch = "x86_64";
	for (char *line = sb.buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *eq = strchr(line, '=');
		if (eq && line[0] != '#') {
			*eq = '\0';
			const char *k = line, *v = eq + 1;
			if (!strcmp(k, "target")) {
				if (lint_target_parse(&fo->lo.target, v))
					return -1;
			} else if (!strcmp(k, "engine-version")) {
				fo->lo.engine_version = fixture_path(fo, dir, v);
			} else if (!strcmp(k, "mount")) {
				strvec_push(&fo->lo.mounts, fixture_path(fo, dir, v));
			} else if (!strcmp(k, "home")) {
				home = fixture_path(fo, dir, v);
			} else if (!strcmp(k, "host-arch")) {
				fo->lo.host_arch = fixture_path(fo, dir, v);
			} else if (!strcmp(k, "file")) {
				strvec_push(&fo->lo.compose.files, v);
			} else if (!strcmp(k, "select")) {
				have_select = true;
				if (!strcmp(v, "all"))
					fo->select_all = true;
				else
					strvec_push(&fo->lo.select, v);
			} else if (!strcmp(k, "env")) {
				strvec_push(&fo->env, v);
			} else {
				return -1;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	strbuf_release(&sb);
	if (!have_select && code)
		strvec_push(&fo->lo.select, code);
	fo->lo.home = home;
	strvec_pushf(&fo->env, "HOME=%s", home);
	fo->lo.compose.environ = fo->env.v;
	return 0;
}

UNUSED_HELPER static void fixture_opts_release(struct fixture_opts *fo)
{
	lint_options_release(&fo->lo);
	strvec_clear(&fo->env);
	strvec_clear(&fo->keep);
}

/* Replaces every occurrence of from in sb with to. */
UNUSED_HELPER static void replace_all(struct strbuf *sb, const char *from, const char *to)
{
	struct strbuf out = STRBUF_INIT;
	size_t n = strlen(from);
	const char *p = sb->buf, *hit;
	while (n && (hit = strstr(p, from))) {
		strbuf_add(&out, p, (size_t)(hit - p));
		strbuf_addstr(&out, to);
		p = hit + n;
	}
	strbuf_addstr(&out, p);
	strbuf_reset(sb);
	strbuf_add(sb, out.buf, out.len);
	strbuf_release(&out);
}

#endif
