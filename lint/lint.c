/* The lint driver: loads the project once (every profile active, unused
 * resources kept), runs the enabled rules' checks over the canonical model,
 * then sorts and de-duplicates the findings. Checks look at the source text
 * only through lint/source.c, read on demand, so a project is parsed once. */
#include "lint/lint.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/error.h"
#include "lint/internal.h"
#include "common/banned.h"

/* ---- names ---------------------------------------------------------------- */

static const char *const severity_names[] = { "info", "warning", "error" };
static const char *const target_names[LINT_TARGET_COUNT] = { "nerdctl", "finch", "docker", "podman" };

const char *lint_severity_name(enum lint_severity s)
{
	return severity_names[s];
}

int lint_severity_parse(enum lint_severity *out, const char *s)
{
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(s, severity_names[i])) {
			*out = (enum lint_severity)i;
			return 0;
		}
	return BERTH_E_INVALID;
}

const char *lint_target_name(enum lint_target t)
{
	return target_names[t];
}

int lint_target_parse(enum lint_target *out, const char *s)
{
	for (size_t i = 0; i < LINT_TARGET_COUNT; i++)
		if (!strcmp(s, target_names[i])) {
			*out = (enum lint_target)i;
			return 0;
		}
	return BERTH_E_INVALID;
}

int lint_format_parse(enum lint_format *out, const char *s)
{
	static const char *const names[] = { "text", "json", "sarif", "github" };
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum lint_format)i;
			return 0;
		}
	return BERTH_E_INVALID;
}

int lint_version_parse(struct lint_version *out, const char *s)
{
	struct lint_version v = { { 0, 0, 0 } };
	if (*s == 'v' || *s == 'V')
		s++;
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*s))
			return BERTH_E_INVALID;
		long n = 0;
		while (isdigit((unsigned char)*s)) {
			n = n * 10 + (*s++ - '0');
			if (n > 100000000)
				return BERTH_E_INVALID;
		}
		v.part[i] = (int)n;
		if (*s != '.')
			break;
		s++;
	}
	if (*s && *s != '-' && *s != '+')
		return BERTH_E_INVALID;
	*out = v;
	return 0;
}

int lint_version_cmp(const struct lint_version *a, const struct lint_version *b)
{
	for (int i = 0; i < 3; i++)
		if (a->part[i] != b->part[i])
			return a->part[i] < b->part[i] ? -1 : 1;
	return 0;
}

/* ---- options and results ---------------------------------------------------- */

void lint_options_release(struct lint_options *o)
{
	compose_options_release(&o->compose);
	strvec_clear(&o->select);
	strvec_clear(&o->ignore);
	strvec_clear(&o->mounts);
}

/* A selector is a code ("BL003"), a code prefix ("BL0"), or a rule name. */
static bool selector_matches(const char *sel, const struct lint_rule *r)
{
	size_t n = strlen(sel);
	return (n && !strncasecmp(r->code, sel, n)) || !strcmp(r->name, sel);
}

static bool selected(const struct strvec *sv, const struct lint_rule *r)
{
	for (size_t i = 0; i < sv->nr; i++)
		if (selector_matches(sv->v[i], r))
			return true;
	return false;
}

int lint_options_check(const struct lint_options *o, struct berth_error *err)
{
	const struct strvec *lists[2] = { &o->select, &o->ignore };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < lists[k]->nr; i++) {
			bool any = false;
			for (size_t r = 0; r < R_COUNT && !any; r++)
				any = selector_matches(lists[k]->v[i], &lint_rules[r]);
			if (!any)
				return berth_error_set(err, BERTH_E_USAGE, "no rule matches \"%s\" (codes are BL001 to BL%03d)",
						       lists[k]->v[i], (int)R_COUNT);
		}
	struct lint_version v;
	if (o->engine_version && lint_version_parse(&v, o->engine_version))
		return berth_error_set(err, BERTH_E_USAGE, "invalid engine version \"%s\" (expected such as 2.1.5)",
				       o->engine_version);
	return 0;
}

static void finding_release(struct lint_finding *f)
{
	free(f->file);
	free(f->service);
	free(f->path);
	free(f->message);
	free(f->help);
	for (size_t i = 0; i < f->edits_nr; i++)
		free(f->edits[i].text);
	free(f->edits);
}

void lint_result_release(struct lint_result *r)
{
	for (size_t i = 0; i < r->nr; i++)
		finding_release(&r->findings[i]);
	free(r->findings);
	strvec_clear(&r->files);
	strvec_clear(&r->warnings);
	free(r->cwd);
	free(r->engine_version);
	free(r->rules);
	if (r->sources) {
		lint_sources_release(r->sources);
		free(r->sources);
	}
	memset(r, 0, sizeof(*r));
}

size_t lint_count_at_least(const struct lint_result *r, enum lint_severity min)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nr; i++)
		if (r->findings[i].rule->severity >= min)
			n++;
	return n;
}

size_t lint_count_fixable(const struct lint_result *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nr; i++)
		if (r->findings[i].edits_nr)
			n++;
	return n;
}

void lint_display_path(struct strbuf *out, const struct lint_result *r, const char *file)
{
	size_t n = r->cwd ? strlen(r->cwd) : 0;
	if (n && !strncmp(file, r->cwd, n) && (file[n] == '/' || (n == 1 && r->cwd[0] == '/')) && file[n + (n > 1)]) {
		strbuf_addstr(out, file + n + (n > 1));
		return;
	}
	strbuf_addstr(out, file);
}

/* ---- reporting -------------------------------------------------------------- */

struct lint_finding *lint_emit(struct lint_ctx *c, const struct node *at, const char *key, const char *fmt, ...)
{
	struct lint_result *r = c->res;
	ALLOC_GROW(r->findings, r->nr + 1, r->alloc);
	struct lint_finding *f = &r->findings[r->nr++];
	memset(f, 0, sizeof(*f));
	f->rule = c->rule;
	const struct node *pos = at && at->file && at->line ? at : c->svc_key;
	if (pos && pos->file && pos->line) {
		f->file = xstrdup(pos->file);
		f->line = pos->line;
		f->col = pos->col;
	} else {
		f->file = xstrdup(c->proj->config_files.nr ? c->proj->config_files.v[0] : "compose.yaml");
		f->line = f->col = 1;
	}
	f->service = c->svc_name ? xstrdup(c->svc_name) : NULL;
	if (c->svc_name)
		f->path = key ? xstrfmt("services.%s.%s", c->svc_name, key) : xstrfmt("services.%s", c->svc_name);
	else
		f->path = xstrdup(key ? key : "");
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	f->message = strbuf_detach(&sb, NULL);
	f->help = xstrdup(c->rule->help);
	return f;
}

void lint_help(struct lint_finding *f, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(f->help);
	f->help = strbuf_detach(&sb, NULL);
}

void lint_add_edit(struct lint_finding *f, size_t start, size_t end, const char *text)
{
	ALLOC_GROW(f->edits, f->edits_nr + 1, f->edits_alloc);
	f->edits[f->edits_nr].start = start;
	f->edits[f->edits_nr].end = end;
	f->edits[f->edits_nr].text = xstrdup(text);
	f->edits_nr++;
}

/* ---- helpers for checks ----------------------------------------------------- */

struct lint_source *lint_src(struct lint_ctx *c, const struct node *n)
{
	return n && n->file ? lint_source_get(&c->sources, n->file) : NULL;
}

bool lint_is_flow(struct lint_ctx *c, const struct node *n)
{
	char ch = lint_source_char_at(lint_src(c, n), n);
	return ch == '[' || ch == '{';
}

const char *lint_shown(struct lint_ctx *c, const struct node *n, struct strbuf *buf)
{
	struct lint_scalar s = LINT_SCALAR_INIT;
	strbuf_reset(buf);
	if (n && lint_scalar_at(lint_src(c, n), n, true, &s) && s.style != LINT_SCALAR_BLOCK && s.value.len)
		strbuf_add(buf, s.value.buf, s.value.len);
	else
		strbuf_addstr(buf, lint_str(n));
	lint_scalar_release(&s);
	return buf->buf;
}

const char *lint_str(const struct node *n)
{
	return n && node_is_scalar(n) && n->kind != NODE_NULL && n->str ? n->str : "";
}

bool lint_is_true(const struct node *n)
{
	return n && n->kind == NODE_BOOL && n->v.b;
}

const struct node *lint_key(const struct node *map, const char *key)
{
	const struct node_kv *kv = map && map->kind == NODE_MAP ? node_map_find(map, key) : NULL;
	return kv ? kv->key : NULL;
}

bool lint_path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

bool lint_version_before(const struct lint_ctx *c, const char *v)
{
	struct lint_version want;
	return c->have_version && !lint_version_parse(&want, v) && lint_version_cmp(&c->version, &want) < 0;
}

static bool fix_scalar(struct lint_ctx *c, struct lint_finding *f, const struct node *n, bool flow, const char *text,
		       bool token)
{
	struct lint_source *src = lint_src(c, n);
	if (!src || strcmp(n->file, f->file))
		return false;
	struct lint_scalar s = LINT_SCALAR_INIT;
	bool ok = lint_scalar_verified(src, n, flow, &s);
	if (ok) {
		struct strbuf repl = STRBUF_INIT;
		if (token) {
			strbuf_addstr(&repl, text);
		} else if (s.style == LINT_SCALAR_SINGLE && !strchr(text, '\'') && !strchr(text, '\n')) {
			strbuf_addf(&repl, "'%s'", text);
		} else if (s.style == LINT_SCALAR_PLAIN && lint_yaml_plain_ok(text) &&
			   !(flow && strpbrk(text, ",[]{}"))) {
			strbuf_addstr(&repl, text);
		} else {
			lint_yaml_quote(&repl, text);
		}
		lint_add_edit(f, s.start, s.end, repl.buf);
		strbuf_release(&repl);
	}
	lint_scalar_release(&s);
	return ok;
}

bool lint_fix_scalar(struct lint_ctx *c, struct lint_finding *f, const struct node *n, bool flow, const char *text)
{
	return fix_scalar(c, f, n, flow, text, false);
}

bool lint_fix_token(struct lint_ctx *c, struct lint_finding *f, const struct node *n, bool flow, const char *token)
{
	return fix_scalar(c, f, n, flow, token, true);
}

/* ---- the run ---------------------------------------------------------------- */

static int finding_cmp(const void *a, const void *b)
{
	const struct lint_finding *x = a, *y = b;
	int d = strcmp(x->file, y->file);
	if (d)
		return d;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	if ((d = strcmp(x->rule->code, y->rule->code)))
		return d;
	if ((d = strcmp(x->path, y->path)))
		return d;
	return strcmp(x->message, y->message);
}

/* Sorts and drops exact duplicates (the same node reached twice, e.g. through
 * a YAML alias or a port range expanded into one entry per port). */
static void sort_and_dedupe(struct lint_result *r)
{
	if (r->nr > 1)
		qsort(r->findings, r->nr, sizeof(*r->findings), finding_cmp);
	size_t w = 0;
	for (size_t i = 0; i < r->nr; i++) {
		if (w && !finding_cmp(&r->findings[w - 1], &r->findings[i])) {
			finding_release(&r->findings[i]);
			continue;
		}
		r->findings[w++] = r->findings[i];
	}
	r->nr = w;
}

static const char *env_home(char **environ_)
{
	for (char **e = environ_; e && *e; e++)
		if (!strncmp(*e, "HOME=", 5))
			return *e + 5;
	return NULL;
}

int lint_run(struct lint_result *out, const struct lint_options *opt, struct berth_error *err)
{
	int rc = lint_options_check(opt, err);
	if (rc)
		return rc;

	struct compose_options co = opt->compose; /* shallow: only the profiles and keep_unused differ */
	struct strvec all = STRVEC_INIT;
	strvec_push(&all, "*");
	co.profiles = all;
	co.keep_unused = true;
	struct compose_project proj = COMPOSE_PROJECT_INIT;
	rc = compose_project_load(&proj, &co, err);
	strvec_clear(&all);
	if (rc) {
		compose_project_release(&proj);
		return rc;
	}

	struct lint_result res = LINT_RESULT_INIT;
	struct lint_ctx c = { .opt = opt, .proj = &proj, .res = &res, .sources = LINT_SOURCES_INIT,
			      .target = opt->target, .dotenv = ENVMAP_INIT, .scanned_files = ENVMAP_INIT };
	if (opt->engine_version) {
		c.have_version = true;
		lint_version_parse(&c.version, opt->engine_version);
		res.engine_version = xstrdup(opt->engine_version);
	}
	c.home = opt->home ? opt->home : env_home(opt->compose.environ);
	res.target = opt->target;
	if (opt->compose.cwd) {
		res.cwd = xstrdup(opt->compose.cwd);
	} else {
		char buf[PATH_MAX];
		res.cwd = xstrdup(getcwd(buf, sizeof(buf)) ? buf : "");
	}

	res.rules = xcalloc(R_COUNT, sizeof(*res.rules));
	for (size_t i = 0; i < R_COUNT; i++) {
		const struct lint_rule *r = &lint_rules[i];
		if (!lint_rule_applies(r, opt->target, c.have_version ? &c.version : NULL))
			continue;
		if (opt->select.nr && !selected(&opt->select, r))
			continue;
		if (selected(&opt->ignore, r))
			continue;
		res.rules[res.rules_nr++] = r;
	}

	for (size_t i = 0; i < res.rules_nr; i++) {
		if (!res.rules[i]->project)
			continue;
		c.rule = res.rules[i];
		res.rules[i]->project(&c);
	}
	const struct node *services = compose_services(&proj);
	for (size_t s = 0; services && s < services->nr; s++) {
		c.svc_name = services->kvs[s].key->str;
		c.svc_key = services->kvs[s].key;
		const struct node *svc = services->kvs[s].value;
		if (!svc || svc->kind != NODE_MAP)
			continue;
		for (size_t i = 0; i < res.rules_nr; i++) {
			if (!res.rules[i]->service)
				continue;
			c.rule = res.rules[i];
			res.rules[i]->service(&c, c.svc_name, svc);
		}
	}
	c.svc_name = NULL;
	c.svc_key = NULL;
	sort_and_dedupe(&res);

	for (size_t i = 0; i < proj.config_files.nr; i++)
		strvec_push(&res.files, proj.config_files.v[i]);
	for (size_t i = 0; i < proj.warnings.nr; i++)
		strvec_push(&res.warnings, proj.warnings.v[i]);
	res.sources = xmalloc(sizeof(*res.sources));
	*res.sources = c.sources;
	envmap_release(&c.dotenv);
	envmap_release(&c.scanned_files);
	compose_project_release(&proj);
	*out = res;
	return 0;
}
