/* The runtime's view of a compose project: services with their replicas,
 * dependencies and config hashes. */
#include "runtime/model.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/parse.h"
#include "compose/node.h"
#include "compose/project.h"
#include "common/banned.h"

static int cmp_kv(const void *a, const void *b)
{
	const struct node_kv *x = *(const struct node_kv *const *)a, *y = *(const struct node_kv *const *)b;
	return strcmp(x->key->str, y->key->str);
}

void rt_canonical_json(struct strbuf *out, const struct node *n)
{
	if (!n) {
		strbuf_addstr(out, "null");
		return;
	}
	switch (n->kind) {
	case NODE_NULL: strbuf_addstr(out, "null"); break;
	case NODE_BOOL: strbuf_addstr(out, n->v.b ? "true" : "false"); break;
	case NODE_INT: strbuf_addf(out, "%" PRId64, n->v.i); break;
	case NODE_FLOAT: format_double(out, n->v.f); break;
	case NODE_STR: strbuf_add_json_string(out, n->str, n->len); break;
	case NODE_SEQ:
		strbuf_addch(out, '[');
		for (size_t i = 0; i < n->nr; i++) {
			if (i)
				strbuf_addch(out, ',');
			rt_canonical_json(out, n->items[i]);
		}
		strbuf_addch(out, ']');
		break;
	case NODE_MAP: {
		const struct node_kv **kvs = xcalloc(n->nr ? n->nr : 1, sizeof(*kvs));
		for (size_t i = 0; i < n->nr; i++)
			kvs[i] = &n->kvs[i];
		qsort(kvs, n->nr, sizeof(*kvs), cmp_kv);
		strbuf_addch(out, '{');
		for (size_t i = 0; i < n->nr; i++) {
			if (i)
				strbuf_addch(out, ',');
			strbuf_add_json_string(out, kvs[i]->key->str, kvs[i]->key->len);
			strbuf_addch(out, ':');
			rt_canonical_json(out, kvs[i]->value);
		}
		strbuf_addch(out, '}');
		free(kvs);
		break;
	}
	}
}

/* Keys left out of the hash at the service level, as Docker Compose's
 * ServiceHash clears them: they decide how many containers there are and
 * when they start, not what a container is. */
static const char *const hash_skip[] = {"build", "pull_policy", "scale", "depends_on", "profiles", NULL};

void rt_config_hash(struct strbuf *out, const struct node *service)
{
	struct strbuf js = STRBUF_INIT;
	strbuf_addch(&js, '{');
	const struct node_kv **kvs = xcalloc(service->nr ? service->nr : 1, sizeof(*kvs));
	size_t n = 0;
	for (size_t i = 0; i < service->nr; i++) {
		bool skip = false;
		for (const char *const *k = hash_skip; *k; k++)
			skip |= !strcmp(service->kvs[i].key->str, *k);
		if (!skip)
			kvs[n++] = &service->kvs[i];
	}
	qsort(kvs, n, sizeof(*kvs), cmp_kv);
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		const struct node *dv = kvs[i]->value;
		/* deploy: with only replicas is no deploy at all */
		if (!strcmp(kvs[i]->key->str, "deploy") && dv->kind == NODE_MAP && dv->nr == 1 &&
		    node_map_get(dv, "replicas"))
			continue;
		if (!first)
			strbuf_addch(&js, ',');
		first = false;
		strbuf_add_json_string(&js, kvs[i]->key->str, kvs[i]->key->len);
		strbuf_addch(&js, ':');
		const struct node *v = kvs[i]->value;
		if (!strcmp(kvs[i]->key->str, "deploy") && v->kind == NODE_MAP && node_map_get(v, "replicas")) {
			/* deploy without replicas */
			struct node tmp = *v;
			struct node_kv *copy = xcalloc(v->nr ? v->nr : 1, sizeof(*copy));
			size_t m = 0;
			for (size_t k = 0; k < v->nr; k++)
				if (strcmp(v->kvs[k].key->str, "replicas"))
					copy[m++] = v->kvs[k];
			tmp.kvs = copy;
			tmp.nr = m;
			rt_canonical_json(&js, &tmp);
			free(copy);
		} else {
			rt_canonical_json(&js, v);
		}
	}
	strbuf_addch(&js, '}');
	free(kvs);
	hash_sha256_hex(out, js.buf, js.len);
	strbuf_release(&js);
}

static const char *cond_name(enum rt_condition c)
{
	switch (c) {
	case RT_COND_HEALTHY: return "service_healthy";
	case RT_COND_COMPLETED: return "service_completed_successfully";
	default: return "service_started";
	}
}

static int64_t int_of(const struct node *n, int64_t def)
{
	if (!n)
		return def;
	if (n->kind == NODE_INT)
		return n->v.i;
	int64_t v;
	if (n->str && !parse_int64(&v, n->str, INT64_MIN, INT64_MAX))
		return v;
	return def;
}

int rt_model_find(const struct rt_model *m, const char *service)
{
	for (size_t i = 0; i < m->nr; i++)
		if (!strcmp(m->svcs[i].name, service))
			return (int)i;
	return -1;
}

static int check_cycles(const struct rt_model *m, struct berth_error *err)
{
	/* colour DFS: 0 white, 1 on the stack, 2 done */
	int *color = xcalloc(m->nr ? m->nr : 1, sizeof(int));
	size_t *stack = xcalloc(m->nr + 1, sizeof(size_t));
	size_t *next = xcalloc(m->nr + 1, sizeof(size_t));
	int rc = 0;
	for (size_t root = 0; root < m->nr && !rc; root++) {
		if (color[root])
			continue;
		size_t sp = 0;
		stack[sp] = root;
		next[sp] = 0;
		color[root] = 1;
		while (sp != (size_t)-1 && !rc) {
			size_t cur = stack[sp];
			const struct rt_service *s = &m->svcs[cur];
			if (next[sp] < s->deps_nr) {
				int d = s->deps[next[sp]++].index;
				if (d < 0)
					continue;
				if (color[d] == 1) {
					struct strbuf path = STRBUF_INIT;
					size_t from = 0;
					for (size_t k = 0; k <= sp; k++)
						if (stack[k] == (size_t)d)
							from = k;
					for (size_t k = from; k <= sp; k++)
						strbuf_addf(&path, "%s -> ", m->svcs[stack[k]].name);
					strbuf_addstr(&path, m->svcs[d].name);
					rc = berth_error_set(err, BERTH_E_INVALID, "dependency cycle detected: %s",
							     path.buf);
					strbuf_release(&path);
				} else if (!color[d]) {
					color[d] = 1;
					stack[++sp] = (size_t)d;
					next[sp] = 0;
				}
			} else {
				color[cur] = 2;
				sp--;
			}
		}
	}
	free(color);
	free(stack);
	free(next);
	return rc;
}

static bool *load_section(const struct rt_model *m, const char *section, struct strvec *keys, struct strvec *names);

int rt_model_init(struct rt_model *out, const struct compose_project *p, struct berth_error *err)
{
	struct node *svcs = compose_services(p);
	memset(out, 0, sizeof(*out));
	out->p = p;
	out->project = p->name;
	out->nr = svcs ? svcs->nr : 0;
	out->svcs = xcalloc(out->nr ? out->nr : 1, sizeof(*out->svcs));
	struct strbuf files = STRBUF_INIT;
	strvec_join(&p->config_files, ",", &files);
	out->config_files = strbuf_detach(&files, NULL);
	for (size_t i = 0; i < out->nr; i++) {
		struct rt_service *s = &out->svcs[i];
		const struct node *n = svcs->kvs[i].value;
		s->name = svcs->kvs[i].key->str;
		s->node = n;
		const struct node *deploy = node_map_get(n, "deploy");
		const struct node *rep = deploy ? node_map_get(deploy, "replicas") : NULL;
		if (!rep)
			rep = node_map_get(n, "scale");
		s->replicas = (int)int_of(rep, 1);
		if (s->replicas < 0)
			s->replicas = 0;
		const struct node *img = node_map_get(n, "image");
		s->has_build = node_map_get(n, "build") != NULL;
		if (img && img->str && *img->str)
			s->image = img->str;
		else
			s->image = arena_strfmt((struct arena *)&p->arena, "%s-%s", p->name, s->name);
		const struct node *cn = node_map_get(n, "container_name");
		s->container_name = cn && cn->str && *cn->str ? cn->str : NULL;
		const struct node *pp = node_map_get(n, "pull_policy");
		s->pull_policy = pp && pp->str ? pp->str : "missing";
		const struct node *hc = node_map_get(n, "healthcheck");
		if (hc) {
			const struct node *dis = node_map_get(hc, "disable");
			const struct node *test = node_map_get(hc, "test");
			if ((dis && dis->kind == NODE_BOOL && dis->v.b) ||
			    (test && test->kind == NODE_SEQ && test->nr && !strcmp(test->items[0]->str, "NONE")))
				s->health_disabled = true;
			else if (test && test->kind == NODE_SEQ && test->nr)
				s->has_healthcheck = true;
		}
		const struct node *deps = node_map_get(n, "depends_on");
		s->deps_nr = deps && deps->kind == NODE_MAP ? deps->nr : 0;
		s->deps = xcalloc(s->deps_nr ? s->deps_nr : 1, sizeof(*s->deps));
		struct strbuf dl = STRBUF_INIT;
		for (size_t k = 0; k < s->deps_nr; k++) {
			struct rt_dep *d = &s->deps[k];
			const struct node *dv = deps->kvs[k].value;
			d->service = deps->kvs[k].key->str;
			const struct node *c = node_map_get(dv, "condition");
			d->cond = RT_COND_STARTED;
			if (c && c->str && !strcmp(c->str, "service_healthy"))
				d->cond = RT_COND_HEALTHY;
			else if (c && c->str && !strcmp(c->str, "service_completed_successfully"))
				d->cond = RT_COND_COMPLETED;
			const struct node *req = node_map_get(dv, "required");
			d->required = !(req && req->kind == NODE_BOOL && !req->v.b);
			const struct node *rs = node_map_get(dv, "restart");
			d->restart = rs && rs->kind == NODE_BOOL && rs->v.b;
			if (dl.len)
				strbuf_addch(&dl, ',');
			strbuf_addf(&dl, "%s:%s:%s", d->service, cond_name(d->cond), d->restart ? "true" : "false");
		}
		s->depends_label = strbuf_detach(&dl, NULL);
		struct strbuf h = STRBUF_INIT;
		rt_config_hash(&h, n);
		s->hash = strbuf_detach(&h, NULL);
	}
	for (size_t i = 0; i < out->nr; i++)
		for (size_t k = 0; k < out->svcs[i].deps_nr; k++)
			out->svcs[i].deps[k].index = rt_model_find(out, out->svcs[i].deps[k].service);
	out->net_external = load_section(out, "networks", &out->net_keys, &out->net_names);
	out->vol_external = load_section(out, "volumes", &out->vol_keys, &out->vol_names);
	int rc = check_cycles(out, err);
	if (rc)
		rt_model_release(out);
	return rc;
}

void rt_model_release(struct rt_model *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		free(m->svcs[i].deps);
		free(m->svcs[i].hash);
		free(m->svcs[i].depends_label);
	}
	free(m->svcs);
	free(m->config_files);
	strvec_clear(&m->net_keys);
	strvec_clear(&m->net_names);
	strvec_clear(&m->vol_keys);
	strvec_clear(&m->vol_names);
	free(m->net_external);
	free(m->vol_external);
	memset(m, 0, sizeof(*m));
}

void rt_container_name(struct strbuf *out, const struct rt_model *m, const struct rt_service *s, int n)
{
	if (s->container_name)
		strbuf_addstr(out, s->container_name);
	else
		strbuf_addf(out, "%s-%s-%d", m->project, s->name, n);
}

/* Fills keys/names/external for a top-level section. Runs once, at init:
 * worker threads only read the results (the arena is not thread-safe). */
static bool *load_section(const struct rt_model *m, const char *section, struct strvec *keys, struct strvec *names)
{
	const struct node *sec = node_map_get(m->p->model, section);
	size_t n = sec && sec->kind == NODE_MAP ? sec->nr : 0;
	bool *ext = xcalloc(n ? n : 1, sizeof(bool));
	for (size_t i = 0; i < n; i++) {
		const char *key = sec->kvs[i].key->str;
		const struct node *e = sec->kvs[i].value;
		const struct node *name = e && e->kind == NODE_MAP ? node_map_get(e, "name") : NULL;
		const struct node *x = e && e->kind == NODE_MAP ? node_map_get(e, "external") : NULL;
		strvec_push(keys, key);
		if (name && name->str && *name->str)
			strvec_push(names, name->str);
		else
			strvec_pushf(names, "%s_%s", m->project, key);
		ext[i] = x && x->kind == NODE_BOOL && x->v.b;
	}
	return ext;
}

static long key_index(const struct strvec *keys, const char *key)
{
	return key ? strvec_find(keys, key) : -1;
}

const char *rt_network_name(const struct rt_model *m, const char *key)
{
	long i = key_index(&m->net_keys, key);
	return i < 0 ? NULL : m->net_names.v[i];
}

const char *rt_volume_name(const struct rt_model *m, const char *key)
{
	long i = key_index(&m->vol_keys, key);
	return i < 0 ? NULL : m->vol_names.v[i];
}

bool rt_network_external(const struct rt_model *m, const char *key)
{
	long i = key_index(&m->net_keys, key);
	return i >= 0 && m->net_external[i];
}

bool rt_volume_external(const struct rt_model *m, const char *key)
{
	long i = key_index(&m->vol_keys, key);
	return i >= 0 && m->vol_external[i];
}

size_t *rt_model_order(const struct rt_model *m)
{
	size_t *out = xcalloc(m->nr ? m->nr : 1, sizeof(size_t));
	bool *done = xcalloc(m->nr ? m->nr : 1, sizeof(bool));
	size_t n = 0;
	/* services are kept in name order by the loader; repeatedly take the
	 * first whose dependencies are all placed (no cycles: checked at init) */
	while (n < m->nr) {
		bool progress = false;
		for (size_t i = 0; i < m->nr; i++) {
			if (done[i])
				continue;
			bool ready = true;
			for (size_t k = 0; k < m->svcs[i].deps_nr; k++) {
				int d = m->svcs[i].deps[k].index;
				if (d >= 0 && !done[d])
					ready = false;
			}
			if (ready) {
				done[i] = true;
				out[n++] = i;
				progress = true;
			}
		}
		if (!progress)
			BUG("dependency cycle in rt_model_order");
	}
	free(done);
	return out;
}

int rt_model_select(const struct rt_model *m, const struct strvec *names, bool no_deps, bool *sel,
		    struct berth_error *err)
{
	for (size_t i = 0; i < m->nr; i++)
		sel[i] = !names || !names->nr;
	for (size_t i = 0; names && i < names->nr; i++) {
		int idx = rt_model_find(m, names->v[i]);
		if (idx < 0)
			return berth_error_set(err, BERTH_E_NOTFOUND, "no such service: %s", names->v[i]);
		sel[idx] = true;
	}
	if (no_deps)
		return 0;
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < m->nr; i++) {
			if (!sel[i])
				continue;
			for (size_t k = 0; k < m->svcs[i].deps_nr; k++) {
				int d = m->svcs[i].deps[k].index;
				if (d >= 0 && !sel[d]) {
					sel[d] = true;
					changed = true;
				}
			}
		}
	}
	return 0;
}
