/* Planning: model + engine state -> a graph of actions. */
#include "runtime/plan.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "compose/node.h"
#include "compose/project.h"
#include "runtime/engine.h"
#include "runtime/model.h"
#include "common/banned.h"

void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->nr; i++) {
		free(p->v[i].name);
		free(p->v[i].old_id);
		free(p->v[i].deps);
		strvec_clear(&p->v[i].batch_ids);
		strvec_clear(&p->v[i].batch_names);
	}
	free(p->v);
	strvec_clear(&p->warnings);
	strvec_clear(&p->orphans);
	p->v = NULL;
	p->nr = p->alloc = 0;
}

size_t plan_add(struct plan *p, enum plan_op op, int service, int number, const char *name)
{
	ALLOC_GROW(p->v, p->nr + 1, p->alloc);
	struct plan_action *a = &p->v[p->nr];
	memset(a, 0, sizeof(*a));
	a->op = op;
	a->service = service;
	a->number = number;
	a->name = xstrdup(name ? name : "");
	return p->nr++;
}

void plan_add_dep(struct plan *p, size_t action, size_t dep)
{
	struct plan_action *a = &p->v[action];
	if (dep == action)
		return;
	for (size_t i = 0; i < a->deps_nr; i++)
		if (a->deps[i] == dep)
			return;
	ALLOC_GROW(a->deps, a->deps_nr + 1, a->deps_alloc);
	a->deps[a->deps_nr++] = dep;
}

/* Per service bookkeeping while planning. */
struct svc_plan {
	size_t *acts; /* container actions (create, recreate, start, restart) */
	size_t acts_nr, acts_alloc;
	size_t *removes;
	size_t removes_nr, removes_alloc;
	long started, healthy, completed, running; /* gate actions, -1 = none */
	bool recreated;
	bool healthy_required, completed_required;
};

static void push_idx(size_t **v, size_t *nr, size_t *alloc, size_t x)
{
	ALLOC_GROW(*v, *nr + 1, *alloc);
	(*v)[(*nr)++] = x;
}

static void svc_plans_free(struct svc_plan *sp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(sp[i].acts);
		free(sp[i].removes);
	}
	free(sp);
}

static struct svc_plan *svc_plans_new(size_t n)
{
	struct svc_plan *sp = xcalloc(n ? n : 1, sizeof(*sp));
	for (size_t i = 0; i < n; i++)
		sp[i].started = sp[i].healthy = sp[i].completed = sp[i].running = -1;
	return sp;
}

/* The containers of service name in state, oneoffs left out. */
static void service_containers(const struct engine_container_list *state, const char *service,
			       const struct engine_container **out, size_t *nr)
{
	*nr = 0;
	for (size_t i = 0; i < state->nr; i++) {
		const struct engine_container *c = &state->v[i];
		if (!c->oneoff && c->service && !strcmp(c->service, service))
			out[(*nr)++] = c;
	}
}

static long gate_for(struct plan *p, struct svc_plan *sp, int d, enum rt_condition cond, bool required,
		     const struct rt_model *m)
{
	struct svc_plan *g = &sp[d];
	long *slot = cond == RT_COND_HEALTHY ? &g->healthy : cond == RT_COND_COMPLETED ? &g->completed : &g->started;
	if (cond == RT_COND_STARTED)
		return g->started;
	if (*slot < 0) {
		*slot = (long)plan_add(p, cond == RT_COND_HEALTHY ? PLAN_SERVICE_HEALTHY : PLAN_SERVICE_COMPLETED, d, 0,
				       m->svcs[d].name);
		p->v[*slot].optional = true;
		if (g->started >= 0)
			plan_add_dep(p, (size_t)*slot, (size_t)g->started);
	}
	if (required)
		p->v[*slot].optional = false;
	return *slot;
}

static bool name_in(const struct strvec *v, const char *s)
{
	return v && strvec_find(v, s) >= 0;
}

/* Resources the selected services use: top-level network and volume keys. */
static int plan_resources(struct plan *out, const struct rt_model *m, const bool *sel, const struct plan_up_options *o,
			  long *net_act, long *vol_act, struct berth_error *err)
{
	for (size_t i = 0; i < m->net_keys.nr; i++)
		net_act[i] = -1;
	for (size_t i = 0; i < m->vol_keys.nr; i++)
		vol_act[i] = -1;
	bool *net_used = xcalloc(m->net_keys.nr + 1, sizeof(bool));
	bool *vol_used = xcalloc(m->vol_keys.nr + 1, sizeof(bool));
	for (size_t s = 0; s < m->nr; s++) {
		if (!sel[s])
			continue;
		const struct node *nets = node_map_get(m->svcs[s].node, "networks");
		for (size_t k = 0; nets && nets->kind == NODE_MAP && k < nets->nr; k++) {
			long idx = strvec_find(&m->net_keys, nets->kvs[k].key->str);
			if (idx >= 0)
				net_used[idx] = true;
		}
		const struct node *vols = node_map_get(m->svcs[s].node, "volumes");
		for (size_t k = 0; vols && vols->kind == NODE_SEQ && k < vols->nr; k++) {
			const struct node *t = node_map_get(vols->items[k], "type");
			const struct node *src = node_map_get(vols->items[k], "source");
			if (!t || !t->str || strcmp(t->str, "volume") || !src || !src->str)
				continue;
			long idx = strvec_find(&m->vol_keys, src->str);
			if (idx >= 0)
				vol_used[idx] = true;
		}
	}
	int rc = 0;
	for (size_t i = 0; i < m->net_keys.nr && !rc; i++) {
		if (!net_used[i] || name_in(o->networks_existing, m->net_names.v[i]))
			continue;
		if (m->net_external[i]) {
			rc = berth_error_set(err, BERTH_E_NOTFOUND,
					     "network %s declared as external, but could not be found",
					     m->net_names.v[i]);
			break;
		}
		net_act[i] = (long)plan_add(out, PLAN_NETWORK_CREATE, -1, 0, m->net_names.v[i]);
	}
	for (size_t i = 0; i < m->vol_keys.nr && !rc; i++) {
		if (!vol_used[i] || name_in(o->volumes_existing, m->vol_names.v[i]))
			continue;
		if (m->vol_external[i]) {
			rc = berth_error_set(err, BERTH_E_NOTFOUND,
					     "volume \"%s\" declared as external, but could not be found",
					     m->vol_names.v[i]);
			break;
		}
		vol_act[i] = (long)plan_add(out, PLAN_VOLUME_CREATE, -1, 0, m->vol_names.v[i]);
	}
	free(net_used);
	free(vol_used);
	return rc;
}

static void add_resource_deps(struct plan *p, size_t act, const struct rt_model *m, const struct rt_service *s,
			      const long *net_act, const long *vol_act)
{
	const struct node *nets = node_map_get(s->node, "networks");
	for (size_t k = 0; nets && nets->kind == NODE_MAP && k < nets->nr; k++) {
		long idx = strvec_find(&m->net_keys, nets->kvs[k].key->str);
		if (idx >= 0 && net_act[idx] >= 0)
			plan_add_dep(p, act, (size_t)net_act[idx]);
	}
	const struct node *vols = node_map_get(s->node, "volumes");
	for (size_t k = 0; vols && vols->kind == NODE_SEQ && k < vols->nr; k++) {
		const struct node *src = node_map_get(vols->items[k], "source");
		long idx = src && src->str ? strvec_find(&m->vol_keys, src->str) : -1;
		if (idx >= 0 && vol_act[idx] >= 0)
			plan_add_dep(p, act, (size_t)vol_act[idx]);
	}
}

/* A container that joins another's namespaces or volumes needs that one to
 * exist when it is created: it is created after its dependencies, not before. */
static bool shares_namespaces(const struct rt_service *s)
{
	static const char *const keys[] = {"network_mode", "ipc", "pid", "uts", "cgroup"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct node *v = node_map_get(s->node, keys[i]);
		if (v && v->str && (!strncmp(v->str, "service:", 8) || !strncmp(v->str, "container:", 10)))
			return true;
	}
	return node_map_get(s->node, "volumes_from") != NULL;
}

static int cmp_by_number(const void *a, const void *b)
{
	const struct engine_container *x = *(const struct engine_container *const *)a;
	const struct engine_container *y = *(const struct engine_container *const *)b;
	/* running ones first so that, of two with one number, the running stays */
	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return (int)engine_container_running(y) - (int)engine_container_running(x);
}

int plan_up(struct plan *out, const struct rt_model *m, const struct engine_container_list *state,
	    const struct plan_up_options *o, struct berth_error *err)
{
	long *net_act = xcalloc(m->net_keys.nr + 1, sizeof(long));
	long *vol_act = xcalloc(m->vol_keys.nr + 1, sizeof(long));
	struct svc_plan *sp = svc_plans_new(m->nr);
	const struct engine_container **mine = xcalloc(state->nr + 1, sizeof(*mine));
	size_t *order = rt_model_order(m);
	struct strbuf name = STRBUF_INIT;
	int rc = plan_resources(out, m, o->selected, o, net_act, vol_act, err);

	/* orphans first: removing them frees names and ports */
	for (size_t i = 0; !rc && i < state->nr; i++) {
		const struct engine_container *c = &state->v[i];
		if (!c->service || rt_model_find(m, c->service) >= 0)
			continue;
		if (c->oneoff && engine_container_running(c))
			continue;
		if (!c->oneoff && o->known_service && o->known_service(o->known_data, c->service))
			continue;
		if (o->remove_orphans) {
			size_t a = plan_add(out, PLAN_CONTAINER_REMOVE, -1, c->number, c->name);
			out->v[a].old_id = xstrdup(c->id);
			out->v[a].reason = "orphan";
		} else {
			strvec_push(&out->orphans, c->name);
		}
	}

	for (size_t oi = 0; !rc && oi < m->nr; oi++) {
		size_t si = order[oi];
		const struct rt_service *s = &m->svcs[si];
		if (!o->selected[si])
			continue;
		struct svc_plan *me = &sp[si];
		size_t nr = 0;
		service_containers(state, s->name, mine, &nr);
		qsort(mine, nr, sizeof(*mine), cmp_by_number);

		/* what this service's containers wait for */
		size_t *gates = xcalloc(s->deps_nr + 1, sizeof(size_t));
		size_t gates_nr = 0;
		bool dep_recreated = false;
		for (size_t k = 0; k < s->deps_nr; k++) {
			const struct rt_dep *d = &s->deps[k];
			if (d->index < 0) {
				if (d->required) {
					rc = berth_error_set(err, BERTH_E_INVALID,
							     "service \"%s\" depends on undefined service \"%s\"",
							     s->name, d->service);
					break;
				}
				strvec_pushf(&out->warnings,
					     "service \"%s\": optional dependency \"%s\" is not part of the project; "
					     "ignored",
					     s->name, d->service);
				continue;
			}
			if (!o->selected[d->index])
				continue;
			if (d->restart && sp[d->index].recreated)
				dep_recreated = true;
			if (o->no_start)
				continue;
			long g = gate_for(out, sp, d->index, d->cond, d->required, m);
			if (g >= 0)
				gates[gates_nr++] = (size_t)g;
		}
		if (rc) {
			free(gates);
			break;
		}

		bool *used = xcalloc(nr + 1, sizeof(bool));
		for (int n = 1; n <= s->replicas; n++) {
			const struct engine_container *c = NULL;
			for (size_t k = 0; k < nr; k++)
				if (!used[k] && mine[k]->number == n) {
					c = mine[k];
					used[k] = true;
					break;
				}
			strbuf_reset(&name);
			rt_container_name(&name, m, s, n);
			long act = -1;
			if (!c) {
				act = (long)plan_add(out, PLAN_CONTAINER_CREATE, (int)si, n, name.buf);
			} else {
				const char *why = NULL;
				const char *img = o->image_ids ? o->image_ids[si] : NULL;
				if (o->recreate == PLAN_RECREATE_FORCE)
					why = "forced";
				else if (o->recreate == PLAN_RECREATE_DIVERGED &&
					 (!c->config_hash || strcmp(c->config_hash, s->hash)))
					why = "config changed";
				else if (o->recreate == PLAN_RECREATE_DIVERGED && img && c->image_label &&
					 strcmp(img, c->image_label))
					why = "image changed";
				if (why) {
					act = (long)plan_add(out, PLAN_CONTAINER_RECREATE, (int)si, n, c->name);
					out->v[act].reason = why;
					me->recreated = true;
				} else if (!engine_container_running(c) && !o->no_start) {
					act = (long)plan_add(out, PLAN_CONTAINER_START, (int)si, n, c->name);
				} else if (dep_recreated && !o->no_start) {
					act = (long)plan_add(out, PLAN_CONTAINER_RESTART, (int)si, n, c->name);
					out->v[act].reason = "dependency recreated";
				}
				if (act >= 0)
					out->v[act].old_id = xstrdup(c->id);
			}
			if (act < 0)
				continue;
			add_resource_deps(out, (size_t)act, m, s, net_act, vol_act);
			if (out->v[act].op == PLAN_CONTAINER_CREATE && gates_nr && o->split_create_start &&
			    !o->no_start && !shares_namespaces(s)) {
				/* As Compose does: create now, start once the dependencies
				 * are ready; creation is off the critical path. */
				out->v[act].create_only = true;
				size_t st = plan_add(out, PLAN_CONTAINER_START, (int)si, n, name.buf);
				out->v[st].old_id = xstrdup(name.buf);
				plan_add_dep(out, st, (size_t)act);
				act = (long)st;
			}
			for (size_t g = 0; g < gates_nr; g++)
				plan_add_dep(out, (size_t)act, gates[g]);
			push_idx(&me->acts, &me->acts_nr, &me->acts_alloc, (size_t)act);
		}
		/* scale down, and duplicates a crashed recreate may have left */
		for (size_t k = nr; k-- > 0;) {
			if (used[k])
				continue;
			size_t a = plan_add(out, PLAN_CONTAINER_REMOVE, (int)si, mine[k]->number, mine[k]->name);
			out->v[a].old_id = xstrdup(mine[k]->id);
			out->v[a].reason = mine[k]->number > s->replicas ? "scale down" : "duplicate";
			push_idx(&me->removes, &me->removes_nr, &me->removes_alloc, a);
		}
		free(used);
		free(gates);
		me->started = (long)plan_add(out, PLAN_SERVICE_STARTED, (int)si, 0, s->name);
		for (size_t k = 0; k < me->acts_nr; k++)
			plan_add_dep(out, (size_t)me->started, me->acts[k]);
	}

	/* --wait: every selected service running (or healthy, or completed
	 * when something depends on it that way) */
	for (size_t si = 0; !rc && o->wait && !o->no_start && si < m->nr; si++) {
		if (!o->selected[si])
			continue;
		bool completion = false;
		for (size_t t = 0; t < m->nr; t++)
			for (size_t k = 0; o->selected[t] && k < m->svcs[t].deps_nr; k++)
				if (m->svcs[t].deps[k].index == (int)si && m->svcs[t].deps[k].cond == RT_COND_COMPLETED)
					completion = true;
		if (completion) {
			gate_for(out, sp, (int)si, RT_COND_COMPLETED, true, m);
			continue;
		}
		sp[si].running = (long)plan_add(out, PLAN_SERVICE_RUNNING, (int)si, 0, m->svcs[si].name);
		plan_add_dep(out, (size_t)sp[si].running, (size_t)sp[si].started);
	}
	if (rc)
		plan_release(out);
	strbuf_release(&name);
	free(order);
	free(mine);
	svc_plans_free(sp, m->nr);
	free(net_act);
	free(vol_act);
	return rc;
}

/* Every service that depends on s (directly). */
static bool depends_on(const struct rt_service *t, int s)
{
	for (size_t k = 0; k < t->deps_nr; k++)
		if (t->deps[k].index == s)
			return true;
	return false;
}

/* Reverse dependency levels: 0 for a service nothing depends on, else one
 * more than the highest level of its dependents. Containers go level by
 * level (dependents first), one engine command per level for all of them. */
static int *reverse_levels(const struct rt_model *m, int *max_out)
{
	int *lv = xcalloc(m->nr + 1, sizeof(int));
	bool changed = true;
	for (size_t round = 0; changed && round <= m->nr; round++) {
		changed = false;
		for (size_t s = 0; s < m->nr; s++)
			for (size_t t = 0; t < m->nr; t++)
				if (s != t && depends_on(&m->svcs[t], (int)s) && lv[s] < lv[t] + 1) {
					lv[s] = lv[t] + 1;
					changed = true;
				}
	}
	int max = 0;
	for (size_t s = 0; s < m->nr; s++)
		if (lv[s] > max)
			max = lv[s];
	*max_out = max;
	return lv;
}

/* One batch action per level for the containers selected by keep(); returns
 * the number of actions added, their indices in acts (caller frees). */
static size_t batch_by_level(struct plan *out, const struct rt_model *m, const struct engine_container_list *state,
			     enum plan_op op, bool (*keep)(const struct engine_container *c, int si, const void *data),
			     const void *data, bool volumes, size_t **acts)
{
	int max = 0;
	int *lv = reverse_levels(m, &max);
	long *act = xcalloc((size_t)max + 2, sizeof(long));
	for (int l = 0; l <= max; l++)
		act[l] = -1;
	for (size_t i = 0; i < state->nr; i++) {
		const struct engine_container *c = &state->v[i];
		int si = c->service ? rt_model_find(m, c->service) : -1;
		if (!keep(c, si, data))
			continue;
		/* orphans and one-offs first: nothing in the project needs them */
		int l = si < 0 || c->oneoff ? 0 : lv[si];
		if (act[l] < 0) {
			act[l] = (long)plan_add(out, op, -1, 0, c->name);
			out->v[act[l]].remove_volumes = volumes;
		}
		struct plan_action *a = &out->v[act[l]];
		strvec_push(&a->batch_ids, c->id);
		strvec_push(&a->batch_names, c->name);
	}
	size_t n = 0;
	*acts = xcalloc((size_t)max + 2, sizeof(size_t));
	long prev = -1;
	for (int l = 0; l <= max; l++) {
		if (act[l] < 0)
			continue;
		if (prev >= 0)
			plan_add_dep(out, (size_t)act[l], (size_t)prev);
		prev = act[l];
		(*acts)[n++] = (size_t)act[l];
	}
	free(act);
	free(lv);
	return n;
}

struct down_keep {
	const struct plan_down_options *o;
	bool running_only;
};

static bool keep_down(const struct engine_container *c, int si, const void *data)
{
	const struct down_keep *dk = data;
	if ((si < 0 || c->oneoff) && !dk->o->remove_orphans)
		return false;
	return !dk->running_only || engine_container_running(c);
}

int plan_down(struct plan *out, const struct rt_model *m, const struct engine_container_list *state,
	      const struct plan_down_options *o, struct berth_error *err)
{
	if (o->rmi && strcmp(o->rmi, "local") && strcmp(o->rmi, "all"))
		return berth_error_set(err, BERTH_E_USAGE, "invalid value for --rmi: %s (local or all)", o->rmi);
	/* stop level by level (dependents first), then remove every container
	 * in one command: removal needs no order once they are stopped */
	struct down_keep dk = {o, true};
	size_t *stops = NULL;
	size_t stops_nr = batch_by_level(out, m, state, PLAN_CONTAINER_STOP, keep_down, &dk, false, &stops);
	dk.running_only = false;
	size_t *all = NULL;
	size_t all_nr = 0;
	for (size_t i = 0; i < state->nr; i++) {
		const struct engine_container *c = &state->v[i];
		if (!keep_down(c, c->service ? rt_model_find(m, c->service) : -1, &dk))
			continue;
		if (!all_nr) {
			all = xcalloc(2, sizeof(size_t));
			all[all_nr++] = plan_add(out, PLAN_CONTAINER_REMOVE, -1, 0, c->name);
			out->v[all[0]].remove_volumes = o->volumes;
			out->v[all[0]].already_stopped = true;
			for (size_t k = 0; k < stops_nr; k++)
				plan_add_dep(out, all[0], stops[k]);
		}
		strvec_push(&out->v[all[0]].batch_ids, c->id);
		strvec_push(&out->v[all[0]].batch_names, c->name);
	}
	free(stops);
	for (size_t i = 0; i < m->net_keys.nr; i++) {
		if (m->net_external[i] || !name_in(o->networks_existing, m->net_names.v[i]))
			continue;
		size_t a = plan_add(out, PLAN_NETWORK_REMOVE, -1, 0, m->net_names.v[i]);
		for (size_t k = 0; k < all_nr; k++)
			plan_add_dep(out, a, all[k]);
	}
	for (size_t i = 0; o->volumes && i < m->vol_keys.nr; i++) {
		if (m->vol_external[i] || !name_in(o->volumes_existing, m->vol_names.v[i]))
			continue;
		size_t a = plan_add(out, PLAN_VOLUME_REMOVE, -1, 0, m->vol_names.v[i]);
		for (size_t k = 0; k < all_nr; k++)
			plan_add_dep(out, a, all[k]);
	}
	if (o->rmi) {
		struct strvec seen = STRVEC_INIT;
		bool local = !strcmp(o->rmi, "local");
		for (size_t s = 0; s < m->nr; s++) {
			const struct rt_service *svc = &m->svcs[s];
			bool built = !node_map_get(svc->node, "image");
			if ((local && !built) || strvec_find(&seen, svc->image) >= 0)
				continue;
			strvec_push(&seen, svc->image);
			size_t a = plan_add(out, PLAN_IMAGE_REMOVE, (int)s, 0, svc->image);
			for (size_t k = 0; k < all_nr; k++)
				plan_add_dep(out, a, all[k]);
		}
		strvec_clear(&seen);
	}
	free(all);
	return 0;
}

static bool keep_stop(const struct engine_container *c, int si, const void *data)
{
	const bool *selected = data;
	return si >= 0 && !c->oneoff && selected[si] && engine_container_running(c);
}

int plan_stop(struct plan *out, const struct rt_model *m, const struct engine_container_list *state,
	      const bool *selected)
{
	size_t *acts = NULL;
	batch_by_level(out, m, state, PLAN_CONTAINER_STOP, keep_stop, selected, false, &acts);
	free(acts);
	return 0;
}

int plan_start(struct plan *out, const struct rt_model *m, const struct engine_container_list *state,
	       const bool *selected, struct berth_error *err)
{
	struct svc_plan *sp = svc_plans_new(m->nr);
	size_t *order = rt_model_order(m);
	const struct engine_container **mine = xcalloc(state->nr + 1, sizeof(*mine));
	int rc = 0;
	for (size_t oi = 0; oi < m->nr && !rc; oi++) {
		size_t si = order[oi];
		const struct rt_service *s = &m->svcs[si];
		if (!selected[si])
			continue;
		size_t nr = 0;
		service_containers(state, s->name, mine, &nr);
		if (!nr) {
			rc = berth_error_set(err, BERTH_E_NOTFOUND, "service \"%s\" has no container to start",
					     s->name);
			break;
		}
		qsort(mine, nr, sizeof(*mine), cmp_by_number);
		size_t gates[64];
		size_t gates_nr = 0;
		for (size_t k = 0; k < s->deps_nr && gates_nr < 64; k++) {
			const struct rt_dep *d = &s->deps[k];
			if (d->index < 0 || !selected[d->index] || sp[d->index].started < 0)
				continue;
			long g = gate_for(out, sp, d->index, d->cond, d->required, m);
			if (g >= 0)
				gates[gates_nr++] = (size_t)g;
		}
		for (size_t k = 0; k < nr; k++) {
			if (engine_container_running(mine[k]))
				continue;
			size_t a = plan_add(out, PLAN_CONTAINER_START, (int)si, mine[k]->number, mine[k]->name);
			out->v[a].old_id = xstrdup(mine[k]->id);
			for (size_t g = 0; g < gates_nr; g++)
				plan_add_dep(out, a, gates[g]);
			push_idx(&sp[si].acts, &sp[si].acts_nr, &sp[si].acts_alloc, a);
		}
		sp[si].started = (long)plan_add(out, PLAN_SERVICE_STARTED, (int)si, 0, s->name);
		for (size_t k = 0; k < sp[si].acts_nr; k++)
			plan_add_dep(out, (size_t)sp[si].started, sp[si].acts[k]);
	}
	if (rc)
		plan_release(out);
	free(mine);
	free(order);
	svc_plans_free(sp, m->nr);
	return rc;
}

void plan_describe(const struct plan *p, const struct rt_model *m, size_t i, struct strbuf *out)
{
	const struct plan_action *a = &p->v[i];
	switch (a->op) {
	case PLAN_NETWORK_CREATE: strbuf_addf(out, "Network %s  Create", a->name); break;
	case PLAN_VOLUME_CREATE: strbuf_addf(out, "Volume %s  Create", a->name); break;
	case PLAN_CONTAINER_CREATE: strbuf_addf(out, "Container %s  Create", a->name); break;
	case PLAN_CONTAINER_RECREATE: strbuf_addf(out, "Container %s  Recreate", a->name); break;
	case PLAN_CONTAINER_START: strbuf_addf(out, "Container %s  Start", a->name); break;
	case PLAN_CONTAINER_RESTART: strbuf_addf(out, "Container %s  Restart", a->name); break;
	case PLAN_CONTAINER_STOP:
	case PLAN_CONTAINER_REMOVE:
		if (a->batch_names.nr) {
			strbuf_addstr(out, a->batch_names.nr > 1 ? "Containers " : "Container ");
			strvec_join(&a->batch_names, ", ", out);
		} else {
			strbuf_addf(out, "Container %s", a->name);
		}
		strbuf_addstr(out, a->op == PLAN_CONTAINER_STOP ? "  Stop" : "  Remove");
		break;
	case PLAN_SERVICE_STARTED: strbuf_addf(out, "Service %s  Started", a->name); break;
	case PLAN_SERVICE_HEALTHY: strbuf_addf(out, "Service %s  Wait healthy", a->name); break;
	case PLAN_SERVICE_COMPLETED: strbuf_addf(out, "Service %s  Wait completed successfully", a->name); break;
	case PLAN_SERVICE_RUNNING: strbuf_addf(out, "Service %s  Wait running/healthy", a->name); break;
	case PLAN_NETWORK_REMOVE: strbuf_addf(out, "Network %s  Remove", a->name); break;
	case PLAN_VOLUME_REMOVE: strbuf_addf(out, "Volume %s  Remove", a->name); break;
	case PLAN_IMAGE_REMOVE: strbuf_addf(out, "Image %s  Remove", a->name); break;
	}
	if (a->reason)
		strbuf_addf(out, " (%s)", a->reason);
	if (a->optional)
		strbuf_addstr(out, " (optional)");
	(void)m;
}

/* How a dependency reads in "after:" lists. */
static void dep_name(const struct plan *p, size_t d, struct strbuf *out)
{
	const struct plan_action *a = &p->v[d];
	switch (a->op) {
	case PLAN_SERVICE_STARTED: strbuf_addf(out, "%s started", a->name); break;
	case PLAN_SERVICE_HEALTHY: strbuf_addf(out, "%s healthy", a->name); break;
	case PLAN_SERVICE_COMPLETED: strbuf_addf(out, "%s completed", a->name); break;
	case PLAN_SERVICE_RUNNING: strbuf_addf(out, "%s running", a->name); break;
	case PLAN_NETWORK_CREATE:
	case PLAN_NETWORK_REMOVE: strbuf_addf(out, "network %s", a->name); break;
	case PLAN_VOLUME_CREATE:
	case PLAN_VOLUME_REMOVE: strbuf_addf(out, "volume %s", a->name); break;
	case PLAN_IMAGE_REMOVE: strbuf_addf(out, "image %s", a->name); break;
	case PLAN_CONTAINER_CREATE: strbuf_addf(out, "%s created", a->name); break;
	default: strbuf_addf(out, "%s", a->name); break;
	}
}

void plan_print(const struct plan *p, const struct rt_model *m, struct strbuf *out)
{
	/* Stage = longest chain of real actions before it; the "started" gates
	 * are bookkeeping and cost no stage. */
	int *stage = xcalloc(p->nr + 1, sizeof(int));
	int max = 0;
	bool changed = true;
	for (int round = 0; changed && round < (int)p->nr + 1; round++) {
		changed = false;
		for (size_t i = 0; i < p->nr; i++) {
			int s = 0;
			for (size_t k = 0; k < p->v[i].deps_nr; k++)
				if (stage[p->v[i].deps[k]] > s)
					s = stage[p->v[i].deps[k]];
			if (p->v[i].op != PLAN_SERVICE_STARTED)
				s++;
			if (s != stage[i]) {
				stage[i] = s;
				changed = true;
			}
		}
	}
	size_t real = 0;
	for (size_t i = 0; i < p->nr; i++) {
		if (stage[i] > max)
			max = stage[i];
		if (p->v[i].op != PLAN_SERVICE_STARTED)
			real++;
	}
	if (!real) {
		strbuf_addf(out, "nothing to do: project \"%s\" is up to date\n", m->project);
		free(stage);
		return;
	}
	for (int s = 1; s <= max; s++) {
		strbuf_addf(out, "stage %d\n", s);
		for (size_t i = 0; i < p->nr; i++) {
			if (stage[i] != s || p->v[i].op == PLAN_SERVICE_STARTED)
				continue;
			strbuf_addstr(out, "  ");
			plan_describe(p, m, i, out);
			bool first = true;
			for (size_t k = 0; k < p->v[i].deps_nr; k++) {
				size_t d = p->v[i].deps[k];
				if (p->v[d].op == PLAN_SERVICE_STARTED && !p->v[d].deps_nr)
					continue;
				strbuf_addstr(out, first ? "  (after " : ", ");
				first = false;
				dep_name(p, d, out);
			}
			strbuf_addstr(out, first ? "\n" : ")\n");
		}
	}
	free(stage);
}
