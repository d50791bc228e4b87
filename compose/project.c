#include "compose/project.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "compose/canonical.h"
#include "compose/dotenv.h"
#include "compose/interpolate.h"
#include "compose/merge.h"
#include "compose/schema.h"
#include "compose/yaml_load.h"
#include "common/banned.h"

/* Limits on indirection: nested include / extends chains. */
#define MAX_INCLUDE_DEPTH 32
#define MAX_EXTENDS_DEPTH 64

struct loaded_file {
	char *path;
	struct node *root; /* canonical, extends resolved */
	bool busy;         /* extends resolution in progress (cycle check) */
};

struct loader {
	struct compose_project *p;
	const struct compose_options *opt;
	struct berth_error *err;
	struct strbuf path;
	const char *home;
	struct loaded_file *files; /* files reached through extends */
	size_t files_nr, files_alloc;
	struct strvec include_stack;
	struct strvec extends_stack; /* "file#service" being resolved, for cycles */
	int extends_depth;
};

static void warn_cb(void *ctx, const char *msg)
{
	struct compose_project *p = ctx;
	if (strvec_find(&p->warnings, msg) < 0)
		strvec_push(&p->warnings, msg);
}

void compose_options_release(struct compose_options *o)
{
	strvec_clear(&o->files);
	strvec_clear(&o->env_files);
	strvec_clear(&o->profiles);
}

void compose_project_release(struct compose_project *p)
{
	arena_release(&p->arena);
	strvec_clear(&p->config_files);
	envmap_release(&p->env);
	strvec_clear(&p->warnings);
	strvec_clear(&p->active_profiles);
	p->model = NULL;
}

void compose_service_order(const struct compose_project *p, struct strvec *out)
{
	/* Kahn's algorithm; services are sorted by name, so scanning them in order
	 * for the first ready one gives ties by name. The loader refused cycles. */
	struct node *services = compose_services(p);
	size_t n = services->nr;
	bool *done = xcalloc(n ? n : 1, sizeof(*done));
	for (size_t emitted = 0; emitted < n;) {
		size_t pick = n;
		for (size_t i = 0; i < n && pick == n; i++) {
			if (done[i])
				continue;
			struct node *deps = node_map_get(services->kvs[i].value, "depends_on");
			bool ready = true;
			for (size_t k = 0; deps && k < deps->nr && ready; k++) {
				struct node_kv *d = node_map_find(services, deps->kvs[k].key->str);
				if (d && !done[d - services->kvs])
					ready = false;
			}
			if (ready)
				pick = i;
		}
		if (pick == n)
			BUG("dependency cycle after validation");
		done[pick] = true;
		strvec_push(out, services->kvs[pick].key->str);
		emitted++;
	}
	free(done);
}

struct node *compose_services(const struct compose_project *p)
{
	return node_map_get(p->model, "services");
}

char *compose_normalize_project_name(struct arena *a, const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (; *s; s++) {
		char ch = (char)tolower((unsigned char)*s);
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-') {
			if (!sb.len && (ch == '_' || ch == '-'))
				continue;
			strbuf_addch(&sb, ch);
		}
	}
	char *r = arena_strndup(a, sb.buf, sb.len);
	strbuf_release(&sb);
	return r;
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *dir_of(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return arena_strdup(a, ".");
	if (slash == path)
		return arena_strdup(a, "/");
	return arena_strndup(a, path, (size_t)(slash - path));
}

/* ---- interpolation over a tree ------------------------------------------ */

/* The key path of the node being interpolated, as a chain of segments on the
 * stack: it is formatted only when an error needs it. */
struct path_seg {
	const struct path_seg *up;
	const char *key; /* NULL for a list index */
	size_t idx;
};

static void format_path(struct strbuf *out, const struct path_seg *seg)
{
	if (!seg)
		return;
	format_path(out, seg->up);
	if (seg->key)
		strbuf_addf(out, "%s%s", out->len ? "." : "", seg->key);
	else
		strbuf_addf(out, "[%zu]", seg->idx);
}

static int interpolate_tree(struct loader *l, struct node *n, const struct path_seg *path)
{
	if (n->kind == NODE_STR) {
		if (!compose_needs_interpolation(n->str, n->len))
			return 0;
		struct strbuf out = STRBUF_INIT;
		struct interp_options io = {envmap_lookup, &l->p->env, warn_cb, l->p};
		struct berth_error e = BERTH_ERROR_INIT;
		int rc = compose_interpolate(&out, n->str, n->len, &io, &e);
		if (rc) {
			strbuf_reset(&l->path);
			format_path(&l->path, path);
			berth_error_set_at(l->err, rc, n->file, n->line, n->col, l->path.buf, "%s", e.msg);
			berth_error_release(&e);
			strbuf_release(&out);
			return rc;
		}
		n->str = arena_strndup(&l->p->arena, out.buf, out.len);
		n->len = out.len;
		strbuf_release(&out);
		return 0;
	}
	if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->nr; i++) {
			struct path_seg seg = {path, NULL, i};
			int rc = interpolate_tree(l, n->items[i], &seg);
			if (rc)
				return rc;
		}
	} else if (n->kind == NODE_MAP) {
		for (size_t i = 0; i < n->nr; i++) {
			struct path_seg seg = {path, n->kvs[i].key->str, 0};
			int rc = interpolate_tree(l, n->kvs[i].value, &seg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- loading one file --------------------------------------------------- */

static int read_source(struct loader *l, const char *path, struct node **out)
{
	struct arena *a = &l->p->arena;
	if (!strcmp(path, "-")) {
		struct strbuf sb = STRBUF_INIT;
		int rc = read_file_capped(&sb, "/dev/stdin", YAML_MAX_BYTES, l->err);
		if (!rc)
			rc = compose_yaml_parse_docs(out, a, "-", sb.buf, sb.len, l->err);
		strbuf_release(&sb);
		return rc;
	}
	return compose_yaml_load_file_docs(out, a, path, path, l->err);
}

static int resolve_extends_in(struct loader *l, struct node *root, const char *file, const char *name);

/* Interpolates and canonicalises one document against base_dir, then resolves its extends. */
static int load_doc(struct loader *l, struct node *root, const char *path, const char *base_dir, struct node **out)
{
	int rc;
	if (root->kind == NODE_NULL)
		root = node_new(&l->p->arena, NODE_MAP, root);
	if (root->kind != NODE_MAP)
		return berth_error_set_at(l->err, BERTH_E_INVALID, root->file, root->line, root->col, NULL,
					  "top-level object must be a mapping, not %s", node_kind_name(root->kind));
	strbuf_reset(&l->path);
	if (!l->opt->no_interpolate && (rc = interpolate_tree(l, root, NULL)))
		return rc;
	struct canon_ctx c = {&l->p->arena, base_dir, l->home, l->err, &l->path, warn_cb, l->p, l->opt->no_interpolate};
	strbuf_reset(&l->path);
	if ((rc = compose_canonicalize(&c, root)))
		return rc;
	struct node *services = node_map_get(root, "services");
	for (size_t i = 0; services && i < services->nr; i++)
		if ((rc = resolve_extends_in(l, root, path, services->kvs[i].key->str)))
			return rc;
	*out = root;
	return 0;
}

/* Parses a file and loads each of its documents; documents merge in order. */
static int load_tree(struct loader *l, const char *path, const char *base_dir, struct node **out)
{
	struct node *docs;
	int rc = read_source(l, path, &docs);
	if (rc)
		return rc;
	struct node *model = NULL;
	for (size_t i = 0; i < docs->nr; i++) {
		struct node *doc = NULL;
		if ((rc = load_doc(l, docs->items[i], path, base_dir, &doc)))
			return rc;
		if (!model)
			model = doc;
		else
			compose_merge_obj(&l->p->arena, model, doc, schema_top);
	}
	*out = model;
	return 0;
}

static struct loaded_file *find_loaded(struct loader *l, const char *path)
{
	for (size_t i = 0; i < l->files_nr; i++)
		if (!strcmp(l->files[i].path, path))
			return &l->files[i];
	return NULL;
}

/* Replaces services[name] by its base service merged with itself. */
static int resolve_extends_in(struct loader *l, struct node *root, const char *file, const char *name)
{
	struct arena *a = &l->p->arena;
	struct node *services = node_map_get(root, "services");
	struct node_kv *kv = node_map_find(services, name);
	if (!kv)
		return 0;
	struct node *svc = kv->value;
	struct node *ext = node_map_get(svc, "extends");
	if (!ext)
		return 0;
	if (++l->extends_depth > MAX_EXTENDS_DEPTH) {
		l->extends_depth--;
		return berth_error_set_at(l->err, BERTH_E_LIMIT, ext->file, ext->line, ext->col,
					  arena_strfmt(a, "services.%s.extends", name),
					  "extends chain deeper than %d (circular reference?)", MAX_EXTENDS_DEPTH);
	}
	char *me = arena_strfmt(a, "%s#%s", file, name);
	if (strvec_find(&l->extends_stack, me) >= 0) {
		struct strbuf chain = STRBUF_INIT;
		for (size_t i = (size_t)strvec_find(&l->extends_stack, me); i < l->extends_stack.nr; i++)
			strbuf_addf(&chain, "%s -> ", strchr(l->extends_stack.v[i], '#') + 1);
		strbuf_addstr(&chain, name);
		int crc = berth_error_set_at(l->err, BERTH_E_INVALID, ext->file, ext->line, ext->col,
					     arena_strfmt(a, "services.%s.extends", name),
					     "circular reference with extends: %s", chain.buf);
		strbuf_release(&chain);
		l->extends_depth--;
		return crc;
	}
	strvec_push(&l->extends_stack, me);
	const struct node *target_name = node_map_get(ext, "service");
	const struct node *target_file = node_map_get(ext, "file");
	struct node *base = NULL;
	int rc = 0;
	if (target_file) {
		char *p = path_resolve(a, dir_of(a, file), l->home, target_file->str);
		struct loaded_file *lf = find_loaded(l, p);
		if (lf && lf->busy) {
			rc = berth_error_set_at(l->err, BERTH_E_INVALID, ext->file, ext->line, ext->col,
						arena_strfmt(a, "services.%s.extends", name),
						"circular reference with extends: file \"%s\"", p);
			goto out;
		}
		if (!lf) {
			ALLOC_GROW(l->files, l->files_nr + 1, l->files_alloc);
			lf = &l->files[l->files_nr++];
			lf->path = xstrdup(p);
			lf->root = NULL;
			lf->busy = true;
			size_t idx = l->files_nr - 1;
			struct node *r;
			rc = load_tree(l, p, dir_of(a, p), &r);
			lf = &l->files[idx];
			lf->busy = false;
			if (rc) {
				berth_error_prefix(l->err, "loading \"%s\" extended by service \"%s\"", p, name);
				goto out;
			}
			lf->root = r;
		}
		struct node *bs = node_map_get(lf->root, "services");
		base = bs ? node_map_get(bs, target_name->str) : NULL;
		if (!base) {
			rc = berth_error_set_at(l->err, BERTH_E_NOTFOUND, target_name->file, target_name->line,
						target_name->col, arena_strfmt(a, "services.%s.extends", name),
						"cannot extend service \"%s\": no such service in \"%s\"",
						target_name->str, p);
			goto out;
		}
	} else {
		struct node *bsvc = node_map_get(services, target_name->str);
		if (!bsvc) {
			rc = berth_error_set_at(l->err, BERTH_E_NOTFOUND, target_name->file, target_name->line,
						target_name->col, arena_strfmt(a, "services.%s.extends", name),
						"cannot extend service \"%s\": no such service", target_name->str);
			goto out;
		}
		if ((rc = resolve_extends_in(l, root, file, target_name->str)))
			goto out;
		base = node_map_get(services, target_name->str);
	}
	{
		struct node *merged = node_clone(a, base);
		node_map_remove(merged, "extends");
		struct node *own = node_clone(a, svc);
		node_map_remove(own, "extends");
		compose_merge_obj(a, merged, own, schema_service);
		kv = node_map_find(services, name);
		kv->value = merged;
	}
out:
	strvec_pop(&l->extends_stack);
	l->extends_depth--;
	return rc;
}

/* ---- include ------------------------------------------------------------ */

static int load_files(struct loader *l, const struct strvec *files, const char *project_dir, struct node **out);

static int apply_include(struct loader *l, struct node *root, const char *file)
{
	struct arena *a = &l->p->arena;
	struct node *inc = node_map_get(root, "include");
	if (!inc)
		return 0;
	node_map_remove(root, "include");
	if (l->include_stack.nr >= MAX_INCLUDE_DEPTH)
		return berth_error_set_at(l->err, BERTH_E_LIMIT, inc->file, inc->line, inc->col, "include",
					  "include nesting deeper than %d", MAX_INCLUDE_DEPTH);
	for (size_t i = 0; i < inc->nr; i++) {
		struct node *entry = inc->items[i];
		struct node *paths = node_map_get(entry, "path");
		struct node *pd = node_map_get(entry, "project_directory");
		struct strvec files = STRVEC_INIT;
		for (size_t k = 0; k < paths->nr; k++) {
			const char *p = paths->items[k]->str;
			if (strvec_find(&l->include_stack, p) >= 0 || !strcmp(p, file)) {
				strvec_clear(&files);
				return berth_error_set_at(l->err, BERTH_E_INVALID, paths->items[k]->file,
							  paths->items[k]->line, paths->items[k]->col,
							  arena_strfmt(a, "include[%zu]", i),
							  "include cycle detected: \"%s\"", p);
			}
			strvec_push(&files, p);
		}
		const char *dir = pd ? pd->str : dir_of(a, files.v[0]);
		strvec_push(&l->include_stack, file);
		struct node *sub;
		int rc = load_files(l, &files, dir, &sub);
		strvec_pop(&l->include_stack);
		if (rc) {
			berth_error_prefix(l->err, "included from \"%s\"", file);
			strvec_clear(&files);
			return rc;
		}
		strvec_clear(&files);
		/* included resources are added; a resource defined twice is a conflict */
		static const char *const kinds[] = {"services", "networks", "volumes", "secrets", "configs", "models"};
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			struct node *from = node_map_get(sub, kinds[k]);
			if (!from || !from->nr)
				continue;
			struct node *to = node_map_get(root, kinds[k]);
			if (!to)
				to = node_map_set(a, root, kinds[k], node_new(a, NODE_MAP, from));
			for (size_t j = 0; j < from->nr; j++) {
				if (node_map_find(to, from->kvs[j].key->str)) {
					const struct node *key = from->kvs[j].key;
					return berth_error_set_at(l->err, BERTH_E_INVALID, key->file, key->line,
								  key->col, kinds[k],
								  "imported compose file defines conflicting %s \"%s\"",
								  k == 0 ? "service" : kinds[k], key->str);
				}
				node_map_set_kv(a, to, from->kvs[j].key, from->kvs[j].value);
			}
		}
	}
	return 0;
}

/* Loads and merges files (the -f list, or one include entry). */
static int load_files(struct loader *l, const struct strvec *files, const char *project_dir, struct node **out)
{
	struct node *model = NULL;
	for (size_t i = 0; i < files->nr; i++) {
		struct node *tree;
		int rc = load_tree(l, files->v[i], project_dir, &tree);
		if (!rc)
			rc = apply_include(l, tree, files->v[i]);
		if (rc)
			return rc;
		if (!model)
			model = tree;
		else
			compose_merge_obj(&l->p->arena, model, tree, schema_top);
	}
	*out = model;
	return 0;
}

/* ---- environment and file discovery ------------------------------------ */

static int load_env_files(struct loader *l, const char *workdir)
{
	const struct compose_options *opt = l->opt;
	struct envmap fromfile = ENVMAP_INIT;
	struct envmap osenv = ENVMAP_INIT;
	int rc = 0;
	envmap_from_environ(&osenv, opt->environ);
	if (opt->env_files.nr) {
		for (size_t i = 0; i < opt->env_files.nr && !rc; i++) {
			char *p = path_resolve(&l->p->arena, l->opt->cwd, l->home, opt->env_files.v[i]);
			rc = compose_dotenv_load(&fromfile, p, envmap_lookup, &osenv, l->err);
			if (rc == BERTH_E_NOTFOUND)
				berth_error_set(l->err, rc, "env file \"%s\" not found", p);
		}
	} else {
		char *p = arena_strfmt(&l->p->arena, "%s/.env", workdir);
		if (file_exists(p))
			rc = compose_dotenv_load(&fromfile, p, envmap_lookup, &osenv, l->err);
	}
	if (!rc) {
		/* the shell's environment wins over .env */
		envmap_copy(&l->p->env, &fromfile);
		for (size_t i = 0; i < osenv.nr; i++)
			envmap_set(&l->p->env, osenv.items[i].key, osenv.items[i].value);
	}
	envmap_release(&fromfile);
	envmap_release(&osenv);
	return rc;
}

static const char *const default_files[] = {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"};
static const char *const override_files[] = {"compose.override.yaml", "compose.override.yml",
					     "docker-compose.override.yaml", "docker-compose.override.yml"};

static int discover_files(struct loader *l, const char *start, struct strvec *out)
{
	struct arena *a = &l->p->arena;
	char *dir = arena_strdup(a, start);
	for (int depth = 0; depth < 256; depth++) {
		const char *found = NULL;
		for (size_t i = 0; i < 4; i++) {
			char *p = arena_strfmt(a, "%s/%s", strcmp(dir, "/") ? dir : "", default_files[i]);
			if (!file_exists(p))
				continue;
			if (!found)
				found = p;
			else
				warn_cb(l->p, arena_strfmt(a,
							   "Found multiple config files with supported names: %s, %s\n"
							   "Using %s",
							   found, p, found));
		}
		if (found) {
			strvec_push(out, found);
			for (size_t i = 0; i < 4; i++) {
				char *p = arena_strfmt(a, "%s/%s", strcmp(dir, "/") ? dir : "", override_files[i]);
				if (file_exists(p)) {
					strvec_push(out, p);
					break;
				}
			}
			return 0;
		}
		if (!strcmp(dir, "/"))
			break;
		dir = dir_of(a, dir);
	}
	return berth_error_set(l->err, BERTH_E_NOTFOUND,
			       "no configuration file provided: not found (looked for compose.yaml, compose.yml, "
			       "docker-compose.yaml or docker-compose.yml in %s and its parents)",
			       start);
}

/* ---- normalisation (compose-go's Normalize and friends) ----------------- */

static struct node *new_depends(struct arena *a, const struct node *pos, bool restart)
{
	struct node *m = node_new(a, NODE_MAP, pos);
	node_map_set(a, m, "condition", node_new_str(a, "service_started", pos));
	node_map_set(a, m, "restart", node_new_bool(a, restart, pos));
	node_map_set(a, m, "required", node_new_bool(a, true, pos));
	return m;
}

static void add_implicit_dep(struct arena *a, struct node *svc, const char *dep, const struct node *pos, bool restart)
{
	struct node *d = node_map_get(svc, "depends_on");
	if (!d)
		d = node_map_set(a, svc, "depends_on", node_new(a, NODE_MAP, pos));
	if (!node_map_find(d, dep))
		node_map_set(a, d, dep, new_depends(a, pos, restart));
}

/* Lookup for a service's env_file values: the files read before, then the
 * project environment, as compose-go resolves them. */
struct env_chain {
	const struct envmap *first, *second;
};

static const char *env_chain_lookup(void *ctx, const char *name)
{
	const struct env_chain *c = ctx;
	const char *v = envmap_get(c->first, name);
	return v ? v : envmap_get(c->second, name);
}

static int fold_env_files(struct loader *l, const char *svc_name, struct node *svc)
{
	struct arena *a = &l->p->arena;
	struct node *files = node_map_get(svc, "env_file");
	if (!files)
		return 0;
	struct envmap vars = ENVMAP_INIT;
	for (size_t i = 0; i < files->nr; i++) {
		struct node *path = node_map_get(files->items[i], "path");
		struct node *req = node_map_get(files->items[i], "required");
		bool required = !req || req->v.b;
		struct envmap one = ENVMAP_INIT;
		struct env_chain chain = {&vars, &l->p->env};
		int rc = compose_dotenv_load(&one, path->str, env_chain_lookup, &chain, l->err);
		if (rc == BERTH_E_NOTFOUND && !required) {
			berth_error_release(l->err); /* an optional file may be missing */
			envmap_release(&one);
			continue;
		}
		if (rc) {
			if (rc == BERTH_E_NOTFOUND)
				berth_error_set_at(l->err, rc, path->file, path->line, path->col,
						   arena_strfmt(a, "services.%s.env_file", svc_name),
						   "env file \"%s\" not found", path->str);
			envmap_release(&one);
			envmap_release(&vars);
			return rc;
		}
		for (size_t k = 0; k < one.nr; k++)
			envmap_set(&vars, one.items[k].key, one.items[k].value);
		envmap_release(&one);
	}
	struct node *env = node_map_get(svc, "environment");
	struct node *merged = node_new(a, NODE_MAP, files);
	for (size_t k = 0; k < vars.nr; k++) {
		struct node *v = vars.items[k].value ? node_new_str(a, vars.items[k].value, files)
						     : node_new(a, NODE_NULL, files);
		node_map_set(a, merged, vars.items[k].key, v);
	}
	for (size_t k = 0; env && k < env->nr; k++)
		node_map_set_kv(a, merged, env->kvs[k].key, env->kvs[k].value);
	node_map_set(a, svc, "environment", merged);
	node_map_remove(svc, "env_file");
	envmap_release(&vars);
	return 0;
}

/* Bare keys take the value of the environment; unresolved build args are dropped. */
static void resolve_env(struct loader *l, struct node *map, bool drop_unset)
{
	if (!map || map->kind != NODE_MAP)
		return;
	size_t w = 0;
	for (size_t i = 0; i < map->nr; i++) {
		struct node *v = map->kvs[i].value;
		if (v->kind == NODE_NULL) {
			const char *val = envmap_get(&l->p->env, map->kvs[i].key->str);
			if (val)
				map->kvs[i].value = node_new_str(&l->p->arena, val, v);
			else if (drop_unset)
				continue;
		}
		map->kvs[w++] = map->kvs[i];
	}
	map->nr = w;
	node_map_invalidate(map);
}

static int normalize_services(struct loader *l, struct node *model)
{
	struct arena *a = &l->p->arena;
	struct node *services = node_map_get(model, "services");
	for (size_t i = 0; i < services->nr; i++) {
		const char *name = services->kvs[i].key->str;
		struct node *svc = services->kvs[i].value;
		if (!node_map_get(svc, "networks") && !node_map_get(svc, "network_mode")) {
			struct node *m = node_new(a, NODE_MAP, svc);
			node_map_set(a, m, "default", node_new(a, NODE_NULL, svc));
			node_map_set(a, svc, "networks", m);
		}
		struct node *pp = node_map_get(svc, "pull_policy");
		if (pp && !strcmp(pp->str, "if_not_present"))
			node_map_set(a, svc, "pull_policy", node_new_str(a, "missing", pp));
		struct node *build = node_map_get(svc, "build");
		if (build) {
			if (!node_map_get(build, "context"))
				node_map_set(a, build, "context", node_new_str(a, l->p->dir, build));
			if (!node_map_get(build, "dockerfile") && !node_map_get(build, "dockerfile_inline"))
				node_map_set(a, build, "dockerfile", node_new_str(a, "Dockerfile", build));
			resolve_env(l, node_map_get(build, "args"), true);
		}
		int rc = fold_env_files(l, name, svc);
		if (rc)
			return rc;
		resolve_env(l, node_map_get(svc, "environment"), false);
		struct node *links = node_map_get(svc, "links");
		for (size_t k = 0; links && k < links->nr; k++) {
			const char *link = links->items[k]->str;
			const char *colon = strchr(link, ':');
			char *dep = colon ? arena_strndup(a, link, (size_t)(colon - link)) : (char *)link;
			add_implicit_dep(a, svc, dep, links->items[k], true);
		}
		static const char *const ns[] = {"network_mode", "ipc", "pid", "uts", "cgroup"};
		for (size_t k = 0; k < 5; k++) {
			struct node *v = node_map_get(svc, ns[k]);
			if (v && !strncmp(v->str, "service:", 8))
				add_implicit_dep(a, svc, v->str + 8, v, true);
		}
		struct node *vf = node_map_get(svc, "volumes_from");
		for (size_t k = 0; vf && k < vf->nr; k++) {
			const char *s = vf->items[k]->str;
			if (!strncmp(s, "container:", 10))
				continue;
			const char *colon = strchr(s, ':');
			add_implicit_dep(a, svc, colon ? arena_strndup(a, s, (size_t)(colon - s)) : s, vf->items[k],
					 false);
		}
		struct node *scale = node_map_get(svc, "scale");
		struct node *deploy = node_map_get(svc, "deploy");
		if (scale && deploy) {
			struct node *rep = node_map_get(deploy, "replicas");
			if (rep && rep->v.i != scale->v.i)
				return berth_error_set_at(l->err, BERTH_E_INVALID, scale->file, scale->line, scale->col,
							  arena_strfmt(a, "services.%s", name),
							  "can't set distinct values on 'scale' and 'deploy.replicas'");
			node_map_set(a, deploy, "replicas", scale);
		}
	}
	return 0;
}

static bool profile_active(const struct strvec *active, const struct node *profiles)
{
	if (!profiles || !profiles->nr)
		return true;
	if (strvec_find(active, "*") >= 0)
		return true;
	for (size_t i = 0; i < profiles->nr; i++)
		if (strvec_find(active, profiles->items[i]->str) >= 0)
			return true;
	return false;
}

static int svc_fail(struct loader *l, const struct node *pos, const char *svc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int svc_fail(struct loader *l, const struct node *pos, const char *svc, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	int rc = berth_error_set_at(l->err, BERTH_E_INVALID, pos ? pos->file : NULL, pos ? pos->line : 0,
				    pos ? pos->col : 0, arena_strfmt(&l->p->arena, "services.%s", svc), "%s", sb.buf);
	strbuf_release(&sb);
	return rc;
}

/* Depth-first search for a depends_on cycle; reports it as compose-go does. */
static int check_cycles(struct loader *l, struct node *services)
{
	size_t n = services->nr;
	unsigned char *state = calloc(n ? n : 1, 1); /* 0 new, 1 on stack, 2 done */
	size_t *stack = calloc(n ? n : 1, sizeof(*stack)), *iter = calloc(n ? n : 1, sizeof(*iter));
	int rc = 0;
	if (!state || !stack || !iter)
		BUG("out of memory");
	for (size_t root = 0; root < n && !rc; root++) {
		if (state[root])
			continue;
		size_t sp = 0;
		stack[sp] = root;
		iter[sp] = 0;
		state[root] = 1;
		sp++;
		while (sp && !rc) {
			size_t cur = stack[sp - 1];
			struct node *deps = node_map_get(services->kvs[cur].value, "depends_on");
			if (!deps || iter[sp - 1] >= deps->nr) {
				state[cur] = 2;
				sp--;
				continue;
			}
			const char *dn = deps->kvs[iter[sp - 1]++].key->str;
			struct node_kv *dkv = node_map_find(services, dn);
			size_t d = dkv ? (size_t)(dkv - services->kvs) : n;
			if (d == n || state[d] == 2)
				continue;
			if (state[d] == 1) {
				struct strbuf sb = STRBUF_INIT;
				size_t from = 0;
				while (stack[from] != d)
					from++;
				for (size_t k = from; k < sp; k++)
					strbuf_addf(&sb, "%s -> ", services->kvs[stack[k]].key->str);
				strbuf_addstr(&sb, dn);
				const struct node *pos = deps;
				rc = berth_error_set_at(l->err, BERTH_E_INVALID, pos->file, pos->line, pos->col,
							arena_strfmt(&l->p->arena, "services.%s.depends_on",
								     services->kvs[cur].key->str),
							"dependency cycle detected: %s", sb.buf);
				strbuf_release(&sb);
				break;
			}
			state[d] = 1;
			stack[sp] = d;
			iter[sp] = 0;
			sp++;
		}
	}
	free(state);
	free(stack);
	free(iter);
	return rc;
}

static int check_consistency(struct loader *l, struct node *model, const struct node *disabled)
{
	struct node *services = node_map_get(model, "services");
	struct node *networks = node_map_get(model, "networks");
	struct node *volumes = node_map_get(model, "volumes");
	struct node *secrets = node_map_get(model, "secrets");
	struct node *configs = node_map_get(model, "configs");
	for (size_t i = 0; i < services->nr; i++) {
		const char *name = services->kvs[i].key->str;
		struct node *svc = services->kvs[i].value;
		const struct node *key = services->kvs[i].key;
		struct node *build = node_map_get(svc, "build");
		if (!build && !node_map_get(svc, "image"))
			return svc_fail(l, key, name,
					"service \"%s\" has neither an image nor a build context specified", name);
		if (build && node_map_get(build, "dockerfile_inline") && node_map_get(build, "dockerfile") &&
		    strcmp(node_map_get(build, "dockerfile")->str, "Dockerfile"))
			return svc_fail(l, build, name,
					"service \"%s\" declares mutually exclusive dockerfile and "
					"dockerfile_inline",
					name);
		struct node *nets = node_map_get(svc, "networks");
		struct node *nm = node_map_get(svc, "network_mode");
		if (nm && nets && nets->nr)
			return svc_fail(l, nm, name,
					"service \"%s\" declares mutually exclusive `network_mode` and "
					"`networks`",
					name);
		for (size_t k = 0; nets && k < nets->nr; k++)
			if (!node_map_find(networks, nets->kvs[k].key->str))
				return svc_fail(l, nets->kvs[k].key, name,
						"service \"%s\" refers to undefined network %s", name,
						nets->kvs[k].key->str);
		struct node *hc = node_map_get(svc, "healthcheck");
		struct node *test = hc ? node_map_get(hc, "test") : NULL;
		if (test && test->nr && strcmp(test->items[0]->str, "CMD") &&
		    strcmp(test->items[0]->str, "CMD-SHELL") && strcmp(test->items[0]->str, "NONE"))
			return svc_fail(l, test, name,
					"healthcheck.test must start either by \"CMD\", \"CMD-SHELL\" or "
					"\"NONE\"");
		struct node *deps = node_map_get(svc, "depends_on");
		for (size_t k = 0; deps && k < deps->nr; k++) {
			const char *dn = deps->kvs[k].key->str;
			if (node_map_find(services, dn))
				continue;
			struct node *req = node_map_get(deps->kvs[k].value, "required");
			if (node_map_find(disabled, dn) && req && !req->v.b)
				continue; /* an optional dependency on a disabled service stays, unused */
			return svc_fail(l, deps->kvs[k].key, name, "service \"%s\" depends on undefined service \"%s\"",
					name, dn);
		}
		if (nm && !strncmp(nm->str, "service:", 8) && !node_map_find(services, nm->str + 8))
			return svc_fail(l, nm, name, "service \"%s\" not found for network_mode 'service:%s'",
					nm->str + 8, nm->str + 8);
		struct node *vols = node_map_get(svc, "volumes");
		for (size_t k = 0; vols && k < vols->nr; k++) {
			struct node *t = node_map_get(vols->items[k], "type"),
				    *s = node_map_get(vols->items[k], "source");
			if (t && !strcmp(t->str, "volume") && s && *s->str && !node_map_find(volumes, s->str))
				return svc_fail(l, s, name, "service \"%s\" refers to undefined volume %s", name,
						s->str);
		}
		struct node *lists[3] = {node_map_get(svc, "secrets"), node_map_get(svc, "configs"),
					 build ? node_map_get(build, "secrets") : NULL};
		struct node *defs[3] = {secrets, configs, secrets};
		static const char *const what[3] = {"secret", "config", "build secret"};
		for (int w = 0; w < 3; w++)
			for (size_t k = 0; lists[w] && k < lists[w]->nr; k++) {
				struct node *s = node_map_get(lists[w]->items[k], "source");
				if (s && !node_map_find(defs[w], s->str))
					return svc_fail(l, s, name, "service \"%s\" refers to undefined %s %s", name,
							what[w], s->str);
			}
	}
	return check_cycles(l, services);
}

/* Drops networks, volumes, secrets and configs that no service uses, as
 * `docker compose config` does. */
static void drop_unused(struct compose_project *p, struct node *model)
{
	struct arena *a = &p->arena;
	struct node *services = node_map_get(model, "services");
	struct node *used[4];
	static const char *const kinds[4] = {"networks", "volumes", "secrets", "configs"};
	for (int k = 0; k < 4; k++)
		used[k] = node_new(a, NODE_MAP, NULL);
	for (size_t i = 0; i < services->nr; i++) {
		struct node *svc = services->kvs[i].value;
		struct node *nets = node_map_get(svc, "networks");
		for (size_t k = 0; nets && k < nets->nr; k++)
			node_map_set(a, used[0], nets->kvs[k].key->str, nets->kvs[k].value);
		struct node *vols = node_map_get(svc, "volumes");
		for (size_t k = 0; vols && k < vols->nr; k++) {
			struct node *t = node_map_get(vols->items[k], "type"),
				    *s = node_map_get(vols->items[k], "source");
			if (t && !strcmp(t->str, "volume") && s)
				node_map_set(a, used[1], s->str, s);
		}
		struct node *build = node_map_get(svc, "build");
		struct node *lists[3] = {node_map_get(svc, "secrets"), node_map_get(svc, "configs"),
					 build ? node_map_get(build, "secrets") : NULL};
		int idx[3] = {2, 3, 2};
		for (int w = 0; w < 3; w++)
			for (size_t k = 0; lists[w] && k < lists[w]->nr; k++) {
				struct node *s = node_map_get(lists[w]->items[k], "source");
				if (s)
					node_map_set(a, used[idx[w]], s->str, s);
			}
	}
	for (int k = 0; k < 4; k++) {
		struct node *defs = node_map_get(model, kinds[k]);
		if (!defs)
			continue;
		size_t w = 0;
		for (size_t i = 0; i < defs->nr; i++)
			if (node_map_find(used[k], defs->kvs[i].key->str))
				defs->kvs[w++] = defs->kvs[i];
		defs->nr = w;
		node_map_invalidate(defs);
		if (!w)
			node_map_remove(model, kinds[k]);
	}
}

static void name_resources(struct compose_project *p, struct node *model)
{
	struct arena *a = &p->arena;
	static const char *const kinds[] = {"networks", "volumes", "secrets", "configs"};
	for (size_t k = 0; k < 4; k++) {
		struct node *defs = node_map_get(model, kinds[k]);
		for (size_t i = 0; defs && i < defs->nr; i++) {
			struct node *r = defs->kvs[i].value;
			if (r->kind != NODE_MAP)
				defs->kvs[i].value = r = node_new(a, NODE_MAP, r);
			if (node_map_get(r, "name"))
				continue;
			struct node *ext = node_map_get(r, "external");
			const char *key = defs->kvs[i].key->str;
			const char *name = ext && ext->kind == NODE_BOOL && ext->v.b
						   ? key
						   : arena_strfmt(a, "%s_%s", p->name, key);
			struct node *nn = node_new_str(a, name, r);
			/* name goes first, as compose-go prints it */
			node_map_set(a, r, "name", nn);
			memmove(&r->kvs[1], &r->kvs[0], (r->nr - 1) * sizeof(*r->kvs));
			node_map_invalidate(r);
			r->kvs[0].key = node_new_str(a, "name", r);
			r->kvs[0].value = nn;
		}
	}
}

static int choose_name(struct loader *l, struct node *model, const struct strvec *files)
{
	struct compose_project *p = l->p;
	struct arena *a = &p->arena;
	const char *explicit = l->opt->project_name;
	if (!explicit || !*explicit)
		explicit = envmap_get(&p->env, "COMPOSE_PROJECT_NAME");
	if (explicit && *explicit) {
		char *norm = compose_normalize_project_name(a, explicit);
		if (strcmp(norm, explicit))
			return berth_error_set(
				l->err, BERTH_E_USAGE,
				"invalid project name \"%s\": must consist only of lowercase alphanumeric "
				"characters, hyphens and underscores as well as start with a letter or number",
				explicit);
		p->name = norm;
		return 0;
	}
	struct node *n = node_map_get(model, "name");
	if (n && n->kind == NODE_STR && *n->str) {
		p->name = compose_normalize_project_name(a, n->str);
		if (*p->name)
			return 0;
	}
	(void)files;
	const char *slash = strrchr(p->dir, '/');
	p->name = compose_normalize_project_name(a, slash ? slash + 1 : p->dir);
	if (!*p->name)
		return berth_error_set(l->err, BERTH_E_INVALID,
				       "project name must not be empty: set one with -p or a top-level \"name\"");
	return 0;
}

static void order_top_level(struct compose_project *p, struct node *model)
{
	/* name first, then services, networks, volumes, secrets, configs, models, extensions */
	static const char *const order[] = {"name", "services", "networks", "volumes", "secrets", "configs", "models"};
	struct node *m = node_new(&p->arena, NODE_MAP, model);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct node_kv *kv = node_map_find(model, order[i]);
		if (kv)
			node_map_set_kv(&p->arena, m, kv->key, kv->value);
	}
	for (size_t i = 0; i < model->nr; i++)
		if (!node_map_find(m, model->kvs[i].key->str))
			node_map_set_kv(&p->arena, m, model->kvs[i].key, model->kvs[i].value);
	*model = *m;
}

int compose_project_load(struct compose_project *p, const struct compose_options *opt, struct berth_error *err)
{
	struct loader l = {.p = p, .opt = opt, .err = err, .path = STRBUF_INIT};
	struct compose_options local = *opt;
	struct strvec files = STRVEC_INIT;
	struct arena *a = &p->arena;
	char cwdbuf[PATH_MAX];
	int rc = 0;

	if (!local.cwd) {
		if (!getcwd(cwdbuf, sizeof(cwdbuf)))
			return berth_error_set(err, BERTH_E_IO, "cannot read the current directory: %s",
					       strerror(errno));
		local.cwd = cwdbuf;
	}
	local.cwd = arena_strdup(a, local.cwd);
	l.opt = &local;
	{
		struct envmap osenv = ENVMAP_INIT;
		envmap_from_environ(&osenv, opt->environ);
		const char *h = envmap_get(&osenv, "HOME");
		l.home = h ? arena_strdup(a, h) : NULL;
		envmap_release(&osenv);
	}

	/* an explicit -p is checked before any file is read, as Docker Compose does */
	if (opt->project_name && *opt->project_name &&
	    strcmp(compose_normalize_project_name(a, opt->project_name), opt->project_name))
		return berth_error_set(err, BERTH_E_USAGE,
				       "invalid project name \"%s\": must consist only of lowercase alphanumeric "
				       "characters, hyphens and underscores as well as start with a letter or number",
				       opt->project_name);

	/* .env is read from the project directory, or the first file's directory, or here */
	const char *workdir = local.cwd;
	if (opt->project_dir)
		workdir = path_resolve(a, local.cwd, l.home, opt->project_dir);
	else if (opt->files.nr && strcmp(opt->files.v[0], "-"))
		workdir = dir_of(a, path_resolve(a, local.cwd, l.home, opt->files.v[0]));
	if ((rc = load_env_files(&l, workdir)))
		goto out;

	for (size_t i = 0; i < opt->files.nr; i++)
		strvec_push(&files,
			    strcmp(opt->files.v[i], "-") ? path_resolve(a, local.cwd, l.home, opt->files.v[i]) : "-");
	if (!files.nr) {
		const char *cf = envmap_get(&p->env, "COMPOSE_FILE");
		if (cf && *cf) {
			const char *sep = envmap_get(&p->env, "COMPOSE_PATH_SEPARATOR");
			char sepch = sep && *sep ? sep[0] : ':';
			const char *s = cf;
			while (*s) {
				const char *e = strchr(s, sepch);
				size_t n = e ? (size_t)(e - s) : strlen(s);
				if (n)
					strvec_push(&files, path_resolve(a, workdir, l.home, arena_strndup(a, s, n)));
				s += n + (e ? 1 : 0);
			}
		} else if ((rc = discover_files(&l, local.cwd, &files))) {
			goto out;
		}
	}
	p->dir = opt->project_dir ? workdir : (strcmp(files.v[0], "-") ? dir_of(a, files.v[0]) : local.cwd);
	for (size_t i = 0; i < files.nr; i++)
		strvec_push(&p->config_files, files.v[i]);

	/* active profiles: --profile, else COMPOSE_PROFILES */
	if (opt->profiles.nr) {
		strvec_pushv(&p->active_profiles, (const char *const *)opt->profiles.v);
	} else {
		const char *cp = envmap_get(&p->env, "COMPOSE_PROFILES");
		for (const char *s = cp; s && *s;) {
			const char *e = strchr(s, ',');
			size_t n = e ? (size_t)(e - s) : strlen(s);
			if (n)
				strvec_push(&p->active_profiles, arena_strndup(a, s, n));
			s += n + (e ? 1 : 0);
		}
	}

	struct node *model;
	if ((rc = load_files(&l, &files, p->dir, &model)))
		goto out;
	compose_strip_tags(model);
	if (!model->nr) {
		rc = berth_error_set_at(err, BERTH_E_INVALID, files.v[0], 0, 0, NULL, "empty compose file");
		goto out;
	}
	if (!node_map_get(model, "services"))
		node_map_set(a, model, "services", node_new(a, NODE_MAP, model));
	if (node_map_get(model, "version")) {
		warn_cb(p, arena_strfmt(a,
					"%s: the attribute `version` is obsolete, it will be ignored, please remove "
					"it to avoid potential confusion",
					files.v[0]));
		node_map_remove(model, "version");
	}
	if ((rc = choose_name(&l, model, &files)))
		goto out;
	node_map_set(a, model, "name", node_new_str(a, p->name, NULL));
	{
		struct node *nets = node_map_get(model, "networks");
		if (!nets)
			nets = node_map_set(a, model, "networks", node_new(a, NODE_MAP, NULL));
		if (!node_map_find(nets, "default"))
			node_map_set(a, nets, "default", node_new(a, NODE_MAP, NULL));
	}
	if ((rc = normalize_services(&l, model)))
		goto out;

	/* profiles: services whose profiles are all inactive are dropped */
	struct node *services = node_map_get(model, "services");
	struct node *disabled = node_new(a, NODE_MAP, NULL);
	{
		size_t w = 0;
		for (size_t i = 0; i < services->nr; i++) {
			if (profile_active(&p->active_profiles, node_map_get(services->kvs[i].value, "profiles")))
				services->kvs[w++] = services->kvs[i];
			else
				node_map_set_kv(a, disabled, services->kvs[i].key, services->kvs[i].value);
		}
		services->nr = w;
		node_map_invalidate(services);
	}
	if ((rc = check_consistency(&l, model, disabled)))
		goto out;
	if (!opt->keep_unused)
		drop_unused(p, model);
	name_resources(p, model);
	node_map_sort(services);
	order_top_level(p, model);
	p->model = model;
out:
	strvec_clear(&files);
	strbuf_release(&l.path);
	for (size_t i = 0; i < l.files_nr; i++)
		free(l.files[i].path);
	free(l.files);
	strvec_clear(&l.include_stack);
	strvec_clear(&l.extends_stack);
	return rc;
}
