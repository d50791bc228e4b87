/* Helpers for the runtime unit tests: a compose project from YAML text,
 * loaded from a fresh temporary directory, with its runtime model. */
#ifndef BERTH_TEST_RUNTIME_UTIL_H
#define BERTH_TEST_RUNTIME_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "compose/project.h"
#include "runtime/engine.h"
#include "runtime/model.h"

struct fx {
	char dir[64];
	struct compose_project p;
	struct rt_model m;
};

static char *fx_env[] = {"HOME=/home/tester", NULL};

/* Loads yaml as project "p" (name: p unless the text sets one); 0 or the
 * load error code (the model is only built on success). */
static inline int fx_load(struct fx *f, const char *yaml, struct berth_error *err)
{
	memset(f, 0, sizeof(*f));
	f->p = (struct compose_project)COMPOSE_PROJECT_INIT;
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-rt-test-XXXXXX");
	if (!mkdtemp(f->dir))
		abort();
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/compose.yaml", f->dir);
	FILE *fp = fopen(path.buf, "w");
	if (!fp)
		abort();
	fputs(yaml, fp);
	fclose(fp);
	struct compose_options opt = COMPOSE_OPTIONS_INIT;
	strvec_push(&opt.files, path.buf);
	opt.environ = fx_env;
	opt.project_name = strstr(yaml, "name:") == yaml ? NULL : "p";
	int rc = compose_project_load(&f->p, &opt, err);
	compose_options_release(&opt);
	unlink(path.buf);
	strbuf_release(&path);
	if (!rc)
		rc = rt_model_init(&f->m, &f->p, err);
	return rc;
}

static inline void fx_release(struct fx *f)
{
	rt_model_release(&f->m);
	compose_project_release(&f->p);
	rmdir(f->dir);
}

/* A container as the engine would report it. */
static inline void fx_container(struct engine_container_list *l, const char *service, int number, const char *hash,
				const char *state)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	struct engine_container *c = &l->v[l->nr++];
	memset(c, 0, sizeof(*c));
	c->id = xstrfmt("id-%s-%d", service, number);
	c->name = xstrfmt("p-%s-%d", service, number);
	c->project = xstrdup("p");
	c->service = xstrdup(service);
	c->number = number;
	c->config_hash = hash ? xstrdup(hash) : NULL;
	c->image = xstrdup("img");
	c->state = xstrdup(state);
	c->health = xstrdup("");
	c->created = xstrdup("");
	c->started_at = xstrdup("");
	c->finished_at = xstrdup("");
	c->command = xstrdup("");
}

#endif
