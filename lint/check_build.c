/* Checks on builds, images and the project as a whole (BL039-BL044). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "compose/dotenv.h"
#include "lint/internal.h"
#include "common/banned.h"

static bool is_remote_context(const char *s)
{
	return strstr(s, "://") || !strncmp(s, "git@", 4) || !strncmp(s, "github.com/", 11);
}

void check_remote_build_context(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *b = node_map_get(svc, "build");
	const struct node *ctx = b && b->kind == NODE_MAP ? node_map_get(b, "context") : NULL;
	if (ctx && is_remote_context(lint_str(ctx)))
		lint_emit(c, ctx, "build.context",
			  "remote build context \"%s\" is not supported by nerdctl compose (\"URL-style context is not "
			  "supported yet\")",
			  ctx->str);
}

void check_build_option_ignored(struct lint_ctx *c, const char *name, const struct node *svc)
{
	static const char *const dropped[] = { "ssh", "cache_to", "platforms", "tags", "extra_hosts", "network",
					       "pull", "no_cache", "shm_size", "ulimits", "privileged" };
	const struct node *b = node_map_get(svc, "build");
	if (!b || b->kind != NODE_MAP)
		return;
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
		const struct node *k = lint_key(b, dropped[i]);
		const struct node *v = node_map_get(b, dropped[i]);
		if (!k || !v || (v->kind == NODE_BOOL && !v->v.b) || ((v->kind == NODE_SEQ || v->kind == NODE_MAP) && !v->nr))
			continue;
		struct strbuf path = STRBUF_INIT;
		strbuf_addf(&path, "build.%s", dropped[i]);
		lint_emit(c, k, path.buf, "build option \"%s\" is ignored by nerdctl compose", dropped[i]);
		strbuf_release(&path);
	}
}

/* "amd64", "arm64", "386", "arm" from a platform or uname -m; NULL if unknown. */
static const char *norm_arch(const char *a)
{
	if (!strcmp(a, "x86_64") || !strcmp(a, "amd64"))
		return "amd64";
	if (!strcmp(a, "aarch64") || !strcmp(a, "arm64") || !strncmp(a, "arm64/", 6))
		return "arm64";
	if (!strcmp(a, "386") || !strcmp(a, "i386") || !strcmp(a, "i686"))
		return "386";
	if (!strncmp(a, "arm", 3))
		return "arm";
	if (!strncmp(a, "amd64/", 6))
		return "amd64";
	return NULL;
}

void check_platform_emulation(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *p = node_map_get(svc, "platform");
	const char *host = c->opt->host_arch ? norm_arch(c->opt->host_arch) : NULL;
	if (!p || !host)
		return;
	const char *s = lint_str(p);
	const char *slash = strchr(s, '/');
	const char *arch = norm_arch(slash ? slash + 1 : s);
	if (!arch || !strcmp(arch, host) || (!strcmp(host, "amd64") && !strcmp(arch, "386")))
		return;
	struct lint_finding *f = lint_emit(c, p, "platform",
					   "\"%s\" runs under emulation on this %s host: slow, and qemu-user crashes in many "
					   "setups",
					   s, host);
	if (c->target != LINT_TARGET_FINCH)
		lint_help(f, "use a multi-architecture image and drop platform, or install binfmt emulation "
			     "(qemu-user-static)");
}

void check_pull_policy_rejected(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *pp = node_map_get(svc, "pull_policy");
	const char *s = lint_str(pp);
	if (strcmp(s, "daily") && strcmp(s, "weekly") && strcmp(s, "refresh") && strncmp(s, "every_", 6))
		return;
	lint_emit(c, pp, "pull_policy", "pull_policy \"%s\" is rejected by nerdctl (\"invalid --pull option\")", s);
}

/* ---- version -------------------------------------------------------------- */

/* Length of a top-level "version" key at t[i] ("version", quoted or not,
 * then blanks and ':'), or 0. */
static size_t version_key(const char *t, size_t i, size_t len)
{
	if (i >= len || (t[i] != 'v' && t[i] != '"' && t[i] != '\''))
		return 0;
	static const char *const forms[] = { "version", "\"version\"", "'version'" };
	for (size_t k = 0; k < 3; k++) {
		size_t n = strlen(forms[k]);
		if (i + n > len || memcmp(t + i, forms[k], n))
			continue;
		size_t j = i + n;
		while (j < len && (t[j] == ' ' || t[j] == '\t'))
			j++;
		if (j < len && t[j] == ':' && (j + 1 == len || strchr(" \t\r\n", t[j + 1])))
			return j + 1 - i;
	}
	return 0;
}

static bool blank_line(const struct lint_source *src, size_t ls)
{
	const char *t = src->text.buf;
	size_t e = lint_source_line_end(src, ls);
	for (size_t i = ls; i < e; i++)
		if (!strchr(" \t\r", t[i]))
			return false;
	return ls < src->text.len;
}

void check_obsolete_version(struct lint_ctx *c)
{
	for (size_t f = 0; f < c->proj->config_files.nr; f++) {
		struct lint_source *src = lint_source_get(&c->sources, c->proj->config_files.v[f]);
		if (!src)
			continue;
		const char *t = src->text.buf;
		bool content = false;
		for (size_t l = 0; l < src->nlines; l++) {
			size_t ls = src->lines[l];
			if (!strncmp(t + ls, "---", 3) && (ls + 3 == src->text.len || strchr(" \t\r\n", t[ls + 3]))) {
				if (content)
					break; /* a second document: compose reads the first only */
				continue;
			}
			if (!content && t[ls] != '#' && !blank_line(src, ls))
				content = true;
			size_t kl = version_key(t, ls, src->text.len);
			if (!kl)
				continue;
			struct node at = { .kind = NODE_NULL, .file = src->file, .line = (int)l + 1, .col = 1 };
			size_t v = ls + kl;
			while (v < src->text.len && (t[v] == ' ' || t[v] == '\t'))
				v++;
			struct lint_scalar s = LINT_SCALAR_INIT;
			int vl, vc;
			lint_source_linecol(src, v, &vl, &vc);
			struct node vn = { .kind = NODE_STR, .file = src->file, .line = vl, .col = vc };
			bool one_line = v < src->text.len && !strchr("\r\n#", t[v]) && lint_scalar_at(src, &vn, false, &s) &&
					s.style != LINT_SCALAR_BLOCK && lint_source_line_end(src, s.end) == lint_source_line_end(src, ls);
			size_t next = lint_source_line_next(src, ls);
			/* a plain value continued on the next, indented line is not one line */
			if (one_line && s.style == LINT_SCALAR_PLAIN && next < src->text.len && (t[next] == ' ' || t[next] == '\t') &&
			    !blank_line(src, next))
				one_line = false;
			struct lint_finding *fi = lint_emit(c, &at, "version",
							    "the top-level \"version\"%s%s%s is obsolete: Docker Compose v2, nerdctl "
							    "and Podman ignore it",
							    one_line ? " (" : "", one_line ? s.value.buf : "", one_line ? ")" : "");
			if (one_line) {
				size_t end = next;
				/* at the top of the file, the blank line after it goes too */
				bool first = true;
				for (size_t k = 0; k < l && first; k++)
					first = blank_line(src, src->lines[k]) || t[src->lines[k]] == '#';
				if (first && end < src->text.len && blank_line(src, end))
					end = lint_source_line_next(src, end);
				lint_add_edit(fi, ls, end, "");
			}
			lint_scalar_release(&s);
			break;
		}
	}
}

/* ---- variables Finch does not forward ---------------------------------------- */

/* nerdctl_remote.go passedEnvs: what Finch passes from the Mac into the VM. */
static bool finch_forwards(const char *name, size_t n)
{
	static const char *const vars[] = { "COSIGN_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
					    "AWS_SESSION_TOKEN", "COMPOSE_FILE", "SOURCE_DATE_EPOCH", "AWS_PROFILE" };
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i]) == n && !memcmp(vars[i], name, n))
			return true;
	return n >= 8 && !memcmp(name, "AWS_ECR_", 8);
}

struct var_walk {
	struct lint_ctx *c;
	struct strbuf path;
	const struct node *last;
};

static void report_vars(struct var_walk *w, const struct node *n, const char *text)
{
	struct lint_ctx *c = w->c;
	for (const char *p = strchr(text, '$'); p; p = strchr(p, '$')) {
		if (p[1] == '$') {
			p += 2;
			continue;
		}
		bool braced = p[1] == '{';
		const char *name = p + 1 + braced;
		size_t len = 0;
		if (isalpha((unsigned char)name[0]) || name[0] == '_')
			while (isalnum((unsigned char)name[len]) || name[len] == '_')
				len++;
		p = name + len;
		if (!len)
			continue;
		/* with a default or an alternative the value does not come from the shell alone */
		if (braced && (*p == '-' || *p == '+' || (*p == ':' && (p[1] == '-' || p[1] == '+'))))
			continue;
		if (finch_forwards(name, len))
			continue;
		char *var = xstrndup(name, len);
		if (!envmap_find(&c->dotenv, var)) {
			bool required = braced && (*p == '?' || (*p == ':' && p[1] == '?'));
			struct lint_finding *f = lint_emit(
				c, n, w->path.buf,
				"\"%s\" comes from your shell, which Finch does not pass into its VM: %s", var,
				required ? "loading fails (\"required variable is missing a value\")" : "it is empty there");
			lint_help(f, "define %s in the project's .env file, or give it a default (${%s:-value})", var, var);
		}
		free(var);
	}
}

static void walk_vars(struct var_walk *w, const struct node *n, bool flow)
{
	if (!n)
		return;
	if (n->kind == NODE_MAP || n->kind == NODE_SEQ) {
		bool f = lint_is_flow(w->c, n);
		for (size_t i = 0; i < n->nr; i++) {
			size_t old = w->path.len;
			if (n->kind == NODE_MAP) {
				strbuf_addf(&w->path, "%s%s", old ? "." : "", n->kvs[i].key->str);
				walk_vars(w, n->kvs[i].value, f);
			} else {
				walk_vars(w, n->items[i], f);
			}
			strbuf_setlen(&w->path, old);
		}
		return;
	}
	if (!n->file || !n->line)
		return;
	/* nodes made from one scalar (a port range, a split command) share its position */
	if (w->last && w->last->file == n->file && w->last->line == n->line && w->last->col == n->col)
		return;
	w->last = n;
	struct lint_scalar s = LINT_SCALAR_INIT;
	if (lint_scalar_at(lint_src(w->c, n), n, flow, &s) && memchr(s.value.buf, '$', s.value.len))
		report_vars(w, n, s.value.buf);
	lint_scalar_release(&s);
}

void check_host_variable_not_forwarded(struct lint_ctx *c)
{
	if (!c->dotenv_loaded && c->proj->dir) {
		struct strbuf p = STRBUF_INIT;
		struct berth_error err = BERTH_ERROR_INIT;
		struct envmap none = ENVMAP_INIT;
		struct stat st;
		strbuf_addf(&p, "%s/.env", c->proj->dir);
		if (!stat(p.buf, &st) && S_ISREG(st.st_mode))
			compose_dotenv_load(&c->dotenv, p.buf, envmap_lookup, &none, &err);
		berth_error_release(&err);
		envmap_release(&none);
		strbuf_release(&p);
		c->dotenv_loaded = true;
	}
	struct var_walk w = { c, STRBUF_INIT, NULL };
	walk_vars(&w, c->proj->model, false);
	strbuf_release(&w.path);
}
