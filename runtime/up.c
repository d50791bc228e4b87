/* up, down, start, stop, restart: read the state back, check what can be
 * checked before anything changes, plan, execute. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/proc.h"
#include "compose/node.h"
#include "compose/project.h"
#include "runtime/create.h"
#include "runtime/engine.h"
#include "runtime/exec.h"
#include "runtime/model.h"
#include "runtime/ops.h"
#include "runtime/plan.h"
#include "runtime/progress.h"
#include "runtime/transport.h"
#include "common/banned.h"

#define BUILD_TIMEOUT_MS (30 * 60 * 1000)
#define PULL_TIMEOUT_MS  (10 * 60 * 1000)

void rt_up_result_release(struct rt_up_result *r)
{
	strvec_clear(&r->started);
}

static int parallelism(const struct rt_ctx *c)
{
	return c->parallel > 0 ? c->parallel : RT_PARALLEL_DEFAULT;
}

/* ---- reading the state, three engine calls at once ---- */

struct state {
	struct engine_container_list containers;
	struct strvec networks, volumes;
};

static int image_ids(const struct rt_ctx *c, const bool *sel, char ***out, struct berth_error *err);

struct fetch {
	const struct rt_ctx *c;
	int what; /* 0 containers, 1 networks, 2 volumes, 3 image IDs, 4 engine version */
	struct state *st;
	const bool *sel;
	char **ids;
	int rc;
	struct berth_error err;
};

static void *fetch_one(void *arg)
{
	struct fetch *f = arg;
	if (f->what == 4)
		f->rc = engine_resolve_version(f->c->e, &f->err);
	else if (f->what == 3)
		f->rc = image_ids(f->c, f->sel, &f->ids, &f->err);
	else if (f->what == 0)
		f->rc = engine_list_containers(f->c->e, f->c->m->project, &f->st->containers, &f->err);
	else if (f->what == 1)
		f->rc = engine_list_names(f->c->e, "network", &f->st->networks, &f->err);
	else
		f->rc = engine_list_names(f->c->e, "volume", &f->st->volumes, &f->err);
	return NULL;
}

static void free_ids_n(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

static void state_release(struct state *st)
{
	engine_container_list_release(&st->containers);
	strvec_clear(&st->networks);
	strvec_clear(&st->volumes);
}

/* The project's containers (and with resources its networks and volumes;
 * with sel the selected services' image IDs into *ids), read at once. */
#define NEED_NETWORKS 1
#define NEED_VOLUMES  2

static int read_state_ids(const struct rt_ctx *c, struct state *st, int resources, const bool *sel, char ***ids,
			  struct berth_error *err)
{
	memset(st, 0, sizeof(*st));
	struct fetch f[5];
	pthread_t th[5];
	bool threaded[5] = {false, false, false, false, false};
	/* the version (only the caps need it) comes along with the state */
	int n = 5;
	for (int i = 0; i < n; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].c = c;
		f[i].what = i;
		f[i].st = st;
		f[i].sel = sel;
		/* each `ls` costs an engine start-up: only what the plan needs */
		if ((i == 1 && !(resources & NEED_NETWORKS)) || (i == 2 && !(resources & NEED_VOLUMES)) ||
		    (i == 3 && !sel) || (i == 4 && !c->e->version_pending))
			f[i].what = -1;
		threaded[i] = i > 0 && f[i].what >= 0 && !pthread_create(&th[i], NULL, fetch_one, &f[i]);
	}
	for (int i = 0; i < n; i++)
		if (!threaded[i] && f[i].what >= 0)
			fetch_one(&f[i]);
	for (int i = 0; i < n; i++)
		if (threaded[i])
			pthread_join(th[i], NULL);
	int rc = 0;
	/* an engine that does not answer explains every other failure */
	if (f[4].rc) {
		rc = f[4].rc;
		berth_error_move(err, &f[4].err);
	}
	for (int i = 0; i < n; i++) {
		if (f[i].rc && !rc) {
			rc = f[i].rc;
			berth_error_move(err, &f[i].err);
		}
		berth_error_release(&f[i].err);
	}
	if (sel) {
		if (rc)
			free_ids_n(f[3].ids, c->m->nr);
		else
			*ids = f[3].ids;
	} else {
		free_ids_n(f[3].ids, c->m->nr);
	}
	if (rc)
		state_release(st);
	return rc;
}

static int read_state(const struct rt_ctx *c, struct state *st, int resources, struct berth_error *err)
{
	return read_state_ids(c, st, resources, NULL, NULL, err);
}

/* ---- images ---- */

struct image_job {
	const struct rt_ctx *c;
	const char *image;
	char *id; /* result, or NULL when missing */
	int rc;   /* 0, or an error other than "missing" */
	struct berth_error err;
};

struct jobs {
	struct image_job *v;
	size_t nr, next;
	pthread_mutex_t lock;
};

static void *image_worker(void *arg)
{
	struct jobs *j = arg;
	for (;;) {
		pthread_mutex_lock(&j->lock);
		size_t i = j->next < j->nr ? j->next++ : j->nr;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->nr)
			return NULL;
		struct image_job *ij = &j->v[i];
		struct strbuf id = STRBUF_INIT;
		int rc = engine_image_id(ij->c->e, ij->image, &id, &ij->err);
		if (!rc)
			ij->id = strbuf_detach(&id, NULL);
		else if (rc == BERTH_E_NOTFOUND)
			berth_error_release(&ij->err);
		else
			ij->rc = rc;
		strbuf_release(&id);
	}
}

static void run_jobs(struct jobs *j, int parallel)
{
	pthread_mutex_init(&j->lock, NULL);
	int n = parallel < (int)j->nr ? parallel : (int)j->nr;
	pthread_t *th = xcalloc((size_t)n + 1, sizeof(pthread_t));
	int started = 0;
	for (int i = 0; i < n; i++)
		if (!pthread_create(&th[started], NULL, image_worker, j))
			started++;
	if (!started)
		image_worker(j);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	pthread_mutex_destroy(&j->lock);
}

/* IDs of the images of the selected services, NULL where missing. */
static int image_ids(const struct rt_ctx *c, const bool *sel, char ***out, struct berth_error *err)
{
	const struct rt_model *m = c->m;
	struct jobs j = {0};
	j.v = xcalloc(m->nr + 1, sizeof(*j.v));
	long *job_of = xcalloc(m->nr + 1, sizeof(long));
	for (size_t i = 0; i < m->nr; i++) {
		job_of[i] = -1;
		if (!sel[i] || !m->svcs[i].replicas)
			continue;
		for (size_t k = 0; k < j.nr; k++)
			if (!strcmp(j.v[k].image, m->svcs[i].image))
				job_of[i] = (long)k;
		if (job_of[i] < 0) {
			job_of[i] = (long)j.nr;
			j.v[j.nr].c = c;
			j.v[j.nr].image = m->svcs[i].image;
			j.nr++;
		}
	}
	run_jobs(&j, parallelism(c));
	int rc = 0;
	char **ids = xcalloc(m->nr + 1, sizeof(char *));
	for (size_t i = 0; i < m->nr; i++)
		if (job_of[i] >= 0 && j.v[job_of[i]].id)
			ids[i] = xstrdup(j.v[job_of[i]].id);
	for (size_t k = 0; k < j.nr; k++) {
		if (j.v[k].rc && !rc) {
			rc = j.v[k].rc;
			berth_error_move(err, &j.v[k].err);
		}
		berth_error_release(&j.v[k].err);
		free(j.v[k].id);
	}
	free(j.v);
	free(job_of);
	*out = ids;
	return rc;
}

static void free_ids(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

static int build_image(const struct rt_ctx *c, const struct rt_service *s, struct berth_error *err)
{
	const struct node *b = node_map_get(s->node, "build");
	const struct node *ctx = b ? node_map_get(b, "context") : NULL;
	const struct node *df = b ? node_map_get(b, "dockerfile") : NULL;
	if (!ctx || !ctx->str)
		return berth_error_set(err, BERTH_E_INVALID, "service \"%s\": build has no context", s->name);
	if (node_map_get(b, "dockerfile_inline"))
		return berth_error_set(err, BERTH_E_INVALID,
				       "service \"%s\": build.dockerfile_inline is not supported yet", s->name);
	struct strvec args = STRVEC_INIT;
	strvec_pushl(&args, "build", "-t", s->image, NULL);
	if (df && df->str) {
		strvec_push(&args, "-f");
		if (df->str[0] == '/')
			strvec_push(&args, df->str);
		else
			strvec_pushf(&args, "%s/%s", ctx->str, df->str);
	}
	const struct node *ba = node_map_get(b, "args");
	for (size_t i = 0; ba && ba->kind == NODE_MAP && i < ba->nr; i++) {
		const struct node *v = ba->kvs[i].value;
		if (v && v->kind != NODE_NULL)
			strvec_pushf(&args, "--build-arg=%s=%s", ba->kvs[i].key->str, node_scalar_text(v));
	}
	const struct node *tgt = node_map_get(b, "target");
	if (tgt && tgt->str)
		strvec_pushf(&args, "--target=%s", tgt->str);
	const struct node *lb = node_map_get(b, "labels");
	for (size_t i = 0; lb && lb->kind == NODE_MAP && i < lb->nr; i++)
		strvec_pushf(&args, "--label=%s=%s", lb->kvs[i].key->str, node_scalar_text(lb->kvs[i].value));
	strvec_push(&args, ctx->str);
	progress_event(c->progress, "Image", s->image, "Building", PROGRESS_WORKING, NULL);
	int rc = engine_run(c->e, NULL, &args, BUILD_TIMEOUT_MS, false, err);
	strvec_clear(&args);
	if (rc) {
		progress_event(c->progress, "Image", s->image, "Error", PROGRESS_ERROR, NULL);
		berth_error_prefix(err, "service \"%s\": building image \"%s\"", s->name, s->image);
		return rc;
	}
	progress_event(c->progress, "Image", s->image, "Built", PROGRESS_DONE, NULL);
	return 0;
}

static int pull_image(const struct rt_ctx *c, const struct rt_service *s, struct berth_error *err)
{
	struct strvec args = STRVEC_INIT;
	strvec_pushl(&args, "pull", s->image, NULL);
	progress_event(c->progress, "Image", s->image, "Pulling", PROGRESS_WORKING, NULL);
	int rc = engine_run(c->e, NULL, &args, PULL_TIMEOUT_MS, false, err);
	strvec_clear(&args);
	if (rc) {
		progress_event(c->progress, "Image", s->image, "Error", PROGRESS_ERROR, NULL);
		berth_error_prefix(err, "service \"%s\": image \"%s\" is not present and pulling it failed", s->name,
				   s->image);
		return rc;
	}
	progress_event(c->progress, "Image", s->image, "Pulled", PROGRESS_DONE, NULL);
	return 0;
}

/* Makes sure every service that will get a new container has its image:
 * builds or pulls what is missing, or fails naming the service, before
 * anything is created. */
static int ensure_images(const struct rt_ctx *c, const bool *needs, char **ids, struct berth_error *err)
{
	const struct rt_model *m = c->m;
	for (size_t i = 0; i < m->nr; i++) {
		const struct rt_service *s = &m->svcs[i];
		if (!needs[i])
			continue;
		bool always = !strcmp(s->pull_policy, "always");
		if (ids[i] && !always)
			continue;
		/* an image another service already fetched */
		bool again = false;
		for (size_t k = 0; k < i; k++)
			if (needs[k] && !strcmp(m->svcs[k].image, s->image))
				again = true;
		int rc = 0;
		if (!again) {
			if (s->has_build && strcmp(s->pull_policy, "always"))
				rc = build_image(c, s, err);
			else if (!strcmp(s->pull_policy, "never"))
				rc = berth_error_set(err, BERTH_E_NOTFOUND,
						     "service \"%s\": image \"%s\" is not present (pull_policy: never)",
						     s->name, s->image);
			else
				rc = pull_image(c, s, err);
			if (rc)
				return rc;
		}
		struct strbuf id = STRBUF_INIT;
		free(ids[i]);
		ids[i] = NULL;
		rc = engine_image_id(c->e, s->image, &id, err);
		if (rc) {
			strbuf_release(&id);
			berth_error_prefix(err, "service \"%s\": image \"%s\"", s->name, s->image);
			return rc;
		}
		ids[i] = strbuf_detach(&id, NULL);
	}
	return 0;
}

/* Bind sources, checked on the host before anything is created: a missing
 * directory is made as Docker does (create_host_path), but a missing source
 * whose target looks like a file is an error, never an empty directory. */
static int check_binds(const struct rt_ctx *c, const bool *needs, struct berth_error *err)
{
	const struct rt_model *m = c->m;
	struct strvec mk = STRVEC_INIT;
	int rc = 0;
	if (!c->e->t->same_host)
		return 0;
	for (size_t i = 0; i < m->nr && !rc; i++) {
		if (!needs[i])
			continue;
		const struct rt_service *s = &m->svcs[i];
		const struct node *vols = node_map_get(s->node, "volumes");
		for (size_t k = 0; vols && vols->kind == NODE_SEQ && k < vols->nr && !rc; k++) {
			const struct node *v = vols->items[k];
			const struct node *t = node_map_get(v, "type"), *src = node_map_get(v, "source");
			const struct node *tgt = node_map_get(v, "target");
			if (!t || !t->str || strcmp(t->str, "bind") || !src || !src->str)
				continue;
			struct stat sb;
			if (!stat(src->str, &sb))
				continue;
			if (errno != ENOENT) {
				rc = berth_error_set(err, BERTH_E_IO,
						     "service \"%s\": volumes[%zu]: bind source \"%s\": %s", s->name, k,
						     src->str, strerror(errno));
				break;
			}
			const struct node *bind = node_map_get(v, "bind");
			const struct node *chp = bind ? node_map_get(bind, "create_host_path") : NULL;
			bool create = chp && chp->kind == NODE_BOOL && chp->v.b;
			const char *target = tgt && tgt->str ? tgt->str : "";
			if (!create) {
				rc = berth_error_set(
					err, BERTH_E_NOTFOUND,
					"service \"%s\": volumes[%zu]: bind source path does not exist: %s", s->name, k,
					src->str);
			} else if (rt_target_looks_like_file(target) || rt_target_looks_like_file(src->str)) {
				rc = berth_error_set(
					err, BERTH_E_NOTFOUND,
					"service \"%s\": volumes[%zu]: bind source \"%s\" does not exist and "
					"\"%s\" looks like a file: berth will not create an empty directory "
					"there (create the file, or fix the path)",
					s->name, k, src->str, target);
			} else if (strvec_find(&mk, src->str) < 0) {
				strvec_push(&mk, src->str);
			}
		}
	}
	for (size_t i = 0; i < mk.nr && !rc; i++) {
		/* mkdir -p */
		char *p = xstrdup(mk.v[i]);
		for (char *s = p + 1; *s && !rc; s++) {
			if (*s != '/')
				continue;
			*s = 0;
			if (mkdir(p, 0755) && errno != EEXIST)
				rc = berth_error_set(err, BERTH_E_IO, "creating bind source \"%s\": %s", p,
						     strerror(errno));
			*s = '/';
		}
		if (!rc && mkdir(p, 0755) && errno != EEXIST)
			rc = berth_error_set(err, BERTH_E_IO, "creating bind source \"%s\": %s", p, strerror(errno));
		if (!rc)
			log_notice("bind source \"%s\" did not exist: created it as a directory, as Docker does", p);
		free(p);
	}
	strvec_clear(&mk);
	return rc;
}

/* What berth must know to run or nudge healthchecks the engine does not. */
static struct rt_health_cfg *health_cfgs(const struct rt_ctx *c, const struct plan *p)
{
	const struct rt_model *m = c->m;
	struct rt_health_cfg *h = xcalloc(m->nr + 1, sizeof(*h));
	for (size_t i = 0; i < p->nr; i++) {
		const struct plan_action *a = &p->v[i];
		if ((a->op != PLAN_SERVICE_HEALTHY && a->op != PLAN_SERVICE_RUNNING) || a->service < 0)
			continue;
		struct rt_health_cfg *hc = &h[a->service];
		const struct rt_service *s = &m->svcs[a->service];
		if (hc->known)
			continue;
		const struct node *node = node_map_get(s->node, "healthcheck");
		if (node && (s->has_healthcheck || s->health_disabled)) {
			rt_health_cfg_from_node(hc, node);
			continue;
		}
		hc->known = true;
		if (c->e->caps.health != ENGINE_HEALTH_BERTH)
			continue;
		struct engine_healthcheck ih;
		struct berth_error ierr = BERTH_ERROR_INIT;
		if (!engine_image_healthcheck(c->e, s->image, &ih, &ierr) && ih.test.nr) {
			/* the image's check, with the compose file's timings over it */
			hc->has = true;
			for (size_t k = 0; k < ih.test.nr; k++)
				strvec_push(&hc->test, ih.test.v[k]);
			hc->interval_ms = ih.interval_ns ? ih.interval_ns / 1000000 : 30000;
			hc->timeout_ms = ih.timeout_ns ? ih.timeout_ns / 1000000 : 30000;
			hc->start_period_ms = ih.start_period_ns / 1000000;
			hc->retries = ih.retries ? ih.retries : 3;
			log_notice("service \"%s\": %s %s runs no healthchecks: berth runs the image's HEALTHCHECK "
				   "itself (%s)",
				   s->name, c->e->d->name, c->e->version, ih.test.nr > 1 ? ih.test.v[1] : ih.test.v[0]);
		}
		engine_healthcheck_release(&ih);
		berth_error_release(&ierr);
	}
	return h;
}

static void free_health(struct rt_health_cfg *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++)
		rt_health_cfg_release(&h[i]);
	free(h);
}

/* Warnings and -v notices of the services that get new containers. */
static void report_normalisations(const struct rt_ctx *c, const bool *needs, char **ids)
{
	const struct rt_model *m = c->m;
	for (size_t i = 0; i < m->nr; i++) {
		if (!needs[i])
			continue;
		struct strbuf name = STRBUF_INIT;
		rt_container_name(&name, m, &m->svcs[i], 1);
		struct rt_create_spec spec = {m, &m->svcs[i], 1, name.buf, ids ? ids[i] : NULL, true};
		struct rt_create_cmds cmds;
		if (!rt_create_argv(&cmds, c->e, &spec, NULL)) {
			for (size_t k = 0; k < cmds.warnings.nr; k++)
				log_warn("%s", cmds.warnings.v[k]);
			for (size_t k = 0; k < cmds.notices.nr; k++)
				log_notice("%s", cmds.notices.v[k]);
		}
		rt_create_cmds_release(&cmds);
		strbuf_release(&name);
	}
}

static void exec_init(struct rt_exec *x, const struct rt_ctx *c)
{
	memset(x, 0, sizeof(*x));
	x->e = c->e;
	x->m = c->m;
	x->progress = c->progress;
	x->parallel = parallelism(c);
	x->cancel_fd = c->cancel_fd;
	x->stop_timeout = -1;
}

static void exec_warnings(struct rt_exec *x)
{
	for (size_t i = 0; i < x->warnings.nr; i++)
		log_warn("%s", x->warnings.v[i]);
	strvec_clear(&x->warnings);
}

/* Which lists up needs: networks when a selected service joins one, volumes
 * when one mounts a declared volume. */
static int needed_resources(const struct rt_model *m, const bool *sel)
{
	int need = 0;
	for (size_t i = 0; i < m->nr; i++) {
		if (!sel[i])
			continue;
		const struct node *nets = node_map_get(m->svcs[i].node, "networks");
		if (nets && nets->kind == NODE_MAP && nets->nr)
			need |= NEED_NETWORKS;
		const struct node *vols = node_map_get(m->svcs[i].node, "volumes");
		for (size_t k = 0; vols && vols->kind == NODE_SEQ && k < vols->nr; k++) {
			const struct node *src = node_map_get(vols->items[k], "source");
			const struct node *t = node_map_get(vols->items[k], "type");
			if (t && t->str && !strcmp(t->str, "volume") && src && src->str &&
			    strvec_find(&m->vol_keys, src->str) >= 0)
				need |= NEED_VOLUMES;
		}
	}
	return need;
}

int rt_up(const struct rt_ctx *c, const struct rt_up_options *o, struct rt_up_result *res, struct strbuf *dry_out,
	  struct berth_error *err)
{
	const struct rt_model *m = c->m;
	bool *sel = xcalloc(m->nr + 1, sizeof(bool));
	bool *needs = xcalloc(m->nr + 1, sizeof(bool));
	char **ids = NULL;
	struct rt_health_cfg *health = NULL;
	struct state st;
	struct plan p = PLAN_INIT;
	memset(res, 0, sizeof(*res));
	int rc = rt_model_select(m, o->services, o->no_deps, sel, err);
	if (rc)
		goto out_nostate;
	if (o->offline) {
		memset(&st, 0, sizeof(st));
		ids = xcalloc(m->nr + 1, sizeof(char *));
	} else {
		rc = read_state_ids(c, &st, needed_resources(m, sel), sel, &ids, err);
		if (rc)
			goto out_nostate;
	}
	struct plan_up_options po = {
		.selected = sel,
		.recreate = o->recreate,
		.no_start = o->no_start,
		.remove_orphans = o->remove_orphans,
		.wait = o->wait,
		.no_deps = o->no_deps,
		.split_create_start = c->e->caps.split_create_start,
		.image_ids = ids,
		.networks_existing = &st.networks,
		.volumes_existing = &st.volumes,
		.known_service = o->known_service,
		.known_data = o->known_data,
	};
	rc = plan_up(&p, m, &st.containers, &po, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < p.warnings.nr; i++)
		log_warn("%s", p.warnings.v[i]);
	if (p.orphans.nr) {
		struct strbuf names = STRBUF_INIT;
		strvec_join(&p.orphans, ", ", &names);
		log_warn("Found orphan containers ([%s]) for this project. If you removed or renamed this service in "
			 "your compose file, you can run this command with the --remove-orphans flag to clean it up.",
			 names.buf);
		strbuf_release(&names);
	}
	for (size_t i = 0; i < p.nr; i++) {
		const struct plan_action *a = &p.v[i];
		if ((a->op == PLAN_CONTAINER_CREATE || a->op == PLAN_CONTAINER_RECREATE) && a->service >= 0)
			needs[a->service] = true;
		if (a->op >= PLAN_CONTAINER_CREATE && a->op <= PLAN_CONTAINER_RESTART)
			strvec_push(&res->started, a->name);
	}
	if (o->dry_run) {
		plan_print(&p, m, dry_out);
		for (size_t i = 0; i < m->nr; i++)
			if (needs[i] && !ids[i])
				strbuf_addf(
					dry_out, "note: service \"%s\": image \"%s\" is not present: it would be %s\n",
					m->svcs[i].name, m->svcs[i].image, m->svcs[i].has_build ? "built" : "pulled");
		goto out;
	}
	rc = ensure_images(c, needs, ids, err);
	if (!rc)
		rc = check_binds(c, needs, err);
	if (rc)
		goto out;
	report_normalisations(c, needs, ids);
	/* what stays as it is, said as Compose says it */
	for (size_t i = 0; i < st.containers.nr; i++) {
		const struct engine_container *ct = &st.containers.v[i];
		int si = ct->service ? rt_model_find(m, ct->service) : -1;
		if (si < 0 || !sel[si] || ct->oneoff || !engine_container_running(ct) ||
		    ct->number > m->svcs[si].replicas)
			continue;
		bool touched = false;
		for (size_t k = 0; k < p.nr && !touched; k++)
			touched = p.v[k].op >= PLAN_CONTAINER_CREATE && p.v[k].op <= PLAN_CONTAINER_REMOVE &&
				  !strcmp(p.v[k].name, ct->name);
		if (!touched)
			progress_event(c->progress, "Container", ct->name, "Running", PROGRESS_DONE, NULL);
	}
	health = health_cfgs(c, &p);
	res->nothing_to_do = true;
	for (size_t i = 0; i < p.nr; i++)
		if (p.v[i].op != PLAN_SERVICE_STARTED)
			res->nothing_to_do = false;
	struct rt_exec x;
	exec_init(&x, c);
	x.stop_timeout = o->stop_timeout;
	x.no_start = o->no_start;
	x.image_ids = ids;
	x.health = health;
	x.hosts_aliases = c->e->caps.aliases == ENGINE_ALIASES_HOSTS && rt_model_needs_hosts(m);
	if (o->wait_timeout_s > 0) {
		x.wait_deadline_ms = proc_deadline_in((int64_t)o->wait_timeout_s * 1000);
		x.wait_timeout_s = o->wait_timeout_s;
	}
	rc = rt_exec_plan(&x, &p, err);
	exec_warnings(&x);
out:
	state_release(&st);
out_nostate:
	plan_release(&p);
	free_health(health, m->nr);
	free_ids(ids, m->nr);
	free(sel);
	free(needs);
	return rc;
}

int rt_down(const struct rt_ctx *c, const struct rt_down_options *o, struct berth_error *err)
{
	struct state st;
	struct plan p = PLAN_INIT;
	int need = 0;
	for (size_t i = 0; i < c->m->net_keys.nr; i++)
		if (!c->m->net_external[i])
			need |= NEED_NETWORKS;
	for (size_t i = 0; o->volumes && i < c->m->vol_keys.nr; i++)
		if (!c->m->vol_external[i])
			need |= NEED_VOLUMES;
	int rc = read_state(c, &st, need, err);
	if (rc)
		return rc;
	struct plan_down_options po = {
		.remove_orphans = o->remove_orphans,
		.volumes = o->volumes,
		.rmi = o->rmi,
		.networks_existing = &st.networks,
		.volumes_existing = &st.volumes,
	};
	rc = plan_down(&p, c->m, &st.containers, &po, err);
	if (!rc && !p.nr) {
		log_warn("No resource found to remove for project \"%s\".", c->m->project);
	} else if (!rc) {
		bool orphans = false;
		for (size_t i = 0; i < st.containers.nr; i++)
			if (st.containers.v[i].service && rt_model_find(c->m, st.containers.v[i].service) < 0)
				orphans = true;
		if (orphans && !o->remove_orphans)
			log_warn("Found orphan containers for this project: they stay (use --remove-orphans to remove "
				 "them)");
		struct rt_exec x;
		exec_init(&x, c);
		x.stop_timeout = o->stop_timeout;
		rc = rt_exec_plan(&x, &p, err);
		exec_warnings(&x);
	}
	plan_release(&p);
	state_release(&st);
	return rc;
}

static int simple(const struct rt_ctx *c, const struct strvec *services, int which, int stop_timeout,
		  int wait_timeout_s, struct berth_error *err)
{
	bool *sel = xcalloc(c->m->nr + 1, sizeof(bool));
	struct state st;
	struct plan p = PLAN_INIT;
	/* stop/restart act on exactly the named services; start brings up
	 * what they depend on too, as Compose does */
	int rc = rt_model_select(c->m, services, which != 1, sel, err);
	if (!rc)
		rc = read_state(c, &st, 0, err);
	if (rc) {
		free(sel);
		return rc;
	}
	if (which == 0 || which == 2)
		rc = plan_stop(&p, c->m, &st.containers, sel);
	if (!rc && which == 0) {
		struct rt_exec x;
		exec_init(&x, c);
		x.stop_timeout = stop_timeout;
		rc = rt_exec_plan(&x, &p, err);
		exec_warnings(&x);
	}
	if (!rc && which == 2) {
		struct rt_exec x;
		exec_init(&x, c);
		x.stop_timeout = stop_timeout;
		rc = rt_exec_plan(&x, &p, err);
		exec_warnings(&x);
		plan_release(&p);
		state_release(&st);
		if (!rc)
			rc = read_state(c, &st, 0, err);
		if (rc) {
			free(sel);
			return rc;
		}
	}
	if (!rc && (which == 1 || which == 2)) {
		struct plan sp = PLAN_INIT;
		rc = plan_start(&sp, c->m, &st.containers, sel, err);
		if (!rc) {
			struct rt_health_cfg *health = health_cfgs(c, &sp);
			struct rt_exec x;
			exec_init(&x, c);
			x.health = health;
			x.hosts_aliases = c->e->caps.aliases == ENGINE_ALIASES_HOSTS && rt_model_needs_hosts(c->m);
			if (wait_timeout_s > 0) {
				x.wait_deadline_ms = proc_deadline_in((int64_t)wait_timeout_s * 1000);
				x.wait_timeout_s = wait_timeout_s;
			}
			rc = rt_exec_plan(&x, &sp, err);
			exec_warnings(&x);
			free_health(health, c->m->nr);
		}
		plan_release(&sp);
	}
	plan_release(&p);
	state_release(&st);
	free(sel);
	return rc;
}

int rt_stop(const struct rt_ctx *c, const struct strvec *services, int stop_timeout, struct berth_error *err)
{
	return simple(c, services, 0, stop_timeout, 0, err);
}

int rt_start(const struct rt_ctx *c, const struct strvec *services, int wait_timeout_s, struct berth_error *err)
{
	return simple(c, services, 1, -1, wait_timeout_s, err);
}

int rt_restart(const struct rt_ctx *c, const struct strvec *services, int stop_timeout, struct berth_error *err)
{
	return simple(c, services, 2, stop_timeout, 0, err);
}

struct lock_wait {
	void (*fn)(void *data, const char *path, int pid);
	void *data;
	bool told;
};

static void lock_waiting(void *data, const char *path, pid_t holder)
{
	struct lock_wait *w = data;
	if (w->told || !w->fn)
		return;
	w->told = true;
	w->fn(w->data, path, (int)holder);
}

int rt_project_lock(struct lock *lk, const char *project, int cancel_fd,
		    void (*on_wait)(void *data, const char *path, int pid), void *data, struct berth_error *err)
{
	struct strbuf dir = STRBUF_INIT, name = STRBUF_INIT;
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg == '/')
		strbuf_addf(&dir, "%s/berth/locks", xdg);
	else
		strbuf_addf(&dir, "/tmp/berth-%ld/locks", (long)getuid());
	strbuf_addf(&name, "%s.lock", project);
	struct lock_wait w = {on_wait, data, false};
	int rc;
	/* short rounds, so that Ctrl-C while waiting is honoured */
	for (;;) {
		rc = lock_acquire(lk, dir.buf, name.buf, proc_deadline_in(250), lock_waiting, &w, err);
		if (rc != BERTH_E_TIMEOUT)
			break;
		berth_error_release(err);
		if (rt_cancelled(cancel_fd)) {
			rc = berth_error_set(err, BERTH_E_INTERRUPTED,
					     "interrupted while waiting for the project lock");
			break;
		}
	}
	strbuf_release(&dir);
	strbuf_release(&name);
	return rc;
}
