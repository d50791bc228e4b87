/* ps: the project's containers as Docker Compose lists them, read back from
 * the engine; on engines that run no healthchecks berth probes them once so
 * that STATUS still says (healthy). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/parse.h"
#include "compose/node.h"
#include "compose/project.h"
#include "runtime/engine.h"
#include "runtime/exec.h"
#include "runtime/model.h"
#include "runtime/ops.h"
#include "common/banned.h"

/* RFC 3339 ("2026-11-22T13:30:41.880481985Z", "+01:00" offsets) to seconds;
 * 0 when it does not parse or is Go's zero time. */
static time_t parse_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!s || !*s)
		return 0;
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return 0;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	time_t t = timegm(&tm);
	if ((*end == '+' || *end == '-') && strlen(end) >= 6) {
		int h = (end[1] - '0') * 10 + (end[2] - '0'), m = (end[4] - '0') * 10 + (end[5] - '0');
		int off = (h * 60 + m) * 60;
		t += *end == '+' ? -off : off;
	}
	if (tm.tm_year < 71)
		return 0;
	return t;
}

/* Docker's units.HumanDuration. */
static void human_duration(struct strbuf *out, time_t secs)
{
	if (secs < 1)
		strbuf_addstr(out, "Less than a second");
	else if (secs == 1)
		strbuf_addstr(out, "1 second");
	else if (secs < 60)
		strbuf_addf(out, "%ld seconds", (long)secs);
	else if (secs / 60 == 1)
		strbuf_addstr(out, "About a minute");
	else if (secs < 3600)
		strbuf_addf(out, "%ld minutes", (long)(secs / 60));
	else if ((secs + 1800) / 3600 == 1)
		strbuf_addstr(out, "About an hour");
	else if (secs < 48 * 3600)
		strbuf_addf(out, "%ld hours", (long)((secs + 1800) / 3600));
	else if (secs < 14 * 24 * 3600)
		strbuf_addf(out, "%ld days", (long)(secs / (24 * 3600)));
	else if (secs < 60 * 24 * 3600)
		strbuf_addf(out, "%ld weeks", (long)(secs / (7 * 24 * 3600)));
	else if (secs < 730 * 24 * 3600)
		strbuf_addf(out, "%ld months", (long)(secs / (30 * 24 * 3600)));
	else
		strbuf_addf(out, "%ld years", (long)(secs / (365 * 24 * 3600)));
}

static void status_text(struct strbuf *out, const struct engine_container *c, const char *health, time_t now)
{
	time_t started = parse_time(c->started_at);
	if (!started)
		started = parse_time(c->created);
	if (!strcmp(c->state, "running") || !strcmp(c->state, "paused")) {
		strbuf_addstr(out, "Up ");
		human_duration(out, started ? now - started : 0);
		if (!strcmp(c->state, "paused"))
			strbuf_addstr(out, " (Paused)");
		else if (!strcmp(health, "healthy") || !strcmp(health, "unhealthy"))
			strbuf_addf(out, " (%s)", health);
		else if (*health)
			strbuf_addf(out, " (health: %s)", health);
	} else if (!strcmp(c->state, "exited") || !strcmp(c->state, "restarting")) {
		time_t fin = parse_time(c->finished_at);
		strbuf_addf(out, "%s (%d) ", !strcmp(c->state, "exited") ? "Exited" : "Restarting", c->exit_code);
		human_duration(out, fin ? now - fin : 0);
		strbuf_addstr(out, " ago");
	} else if (!strcmp(c->state, "created")) {
		strbuf_addstr(out, "Created");
	} else if (!strcmp(c->state, "dead")) {
		strbuf_addstr(out, "Dead");
	} else {
		strbuf_addstr(out, c->state);
	}
}

static void ports_text(struct strbuf *out, const struct engine_container *c)
{
	for (size_t i = 0; i < c->ports_nr; i++) {
		const struct engine_port *p = &c->ports[i];
		if (i)
			strbuf_addstr(out, ", ");
		if (p->host_port) {
			if (strchr(p->host_ip, ':'))
				strbuf_addf(out, "[%s]:%d->", p->host_ip, p->host_port);
			else
				strbuf_addf(out, "%s:%d->", p->host_ip, p->host_port);
		}
		strbuf_addf(out, "%d/%s", p->target, p->proto);
	}
}

struct probe {
	const struct engine *e;
	const char *name;
	const struct rt_health_cfg *h;
	char *result; /* "healthy"/"unhealthy" */
	pthread_t th;
	bool running;
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	struct berth_error err = BERTH_ERROR_INIT;
	struct rt_health_cfg h = *p->h;
	/* ps must not hang on a slow check */
	if (!h.timeout_ms || h.timeout_ms > 10000)
		h.timeout_ms = 10000;
	int r = rt_health_probe(p->e, p->name, &h, NULL, &err);
	p->result = xstrdup(r == 1 ? "healthy" : r == 0 ? "unhealthy" : "");
	berth_error_release(&err);
	return NULL;
}

static void *trigger_main(void *arg)
{
	struct probe *p = arg;
	struct strvec args = STRVEC_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	p->e->d->health_run_argv(&args, p->name);
	if (!engine_run(p->e, NULL, &args, 10000, false, &err))
		p->result = xstrdup("healthy");
	berth_error_release(&err);
	strvec_clear(&args);
	return NULL;
}

static bool status_wanted(const struct rt_ps_options *o, const struct engine_container *c)
{
	if (o->status && o->status->nr)
		return strvec_find(o->status, c->state) >= 0;
	return o->all || engine_container_running(c);
}

int rt_ps(const struct rt_ctx *c, const struct rt_ps_options *o, struct strbuf *out, struct berth_error *err)
{
	int vrc = engine_resolve_version(c->e, err);
	if (vrc)
		return vrc;
	struct engine_container_list cl = {0};
	int rc = engine_list_containers(c->e, c->m->project, &cl, err);
	if (rc)
		return rc;
	for (size_t i = 0; o->services && i < o->services->nr; i++)
		if (rt_model_find(c->m, o->services->v[i]) < 0) {
			engine_container_list_release(&cl);
			return berth_error_set(err, BERTH_E_NOTFOUND, "no such service: %s", o->services->v[i]);
		}
	/* services, then numbers */
	size_t n = 0;
	const struct engine_container **v = xcalloc(cl.nr + 1, sizeof(*v));
	for (size_t i = 0; i < cl.nr; i++) {
		const struct engine_container *ct = &cl.v[i];
		if (ct->oneoff || !ct->service)
			continue;
		if (o->services && o->services->nr && strvec_find(o->services, ct->service) < 0)
			continue;
		if (!status_wanted(o, ct))
			continue;
		size_t k = n++;
		while (k > 0) {
			const struct engine_container *p = v[k - 1];
			int cmp = strcmp(p->service, ct->service);
			if (cmp < 0 || (!cmp && p->number <= ct->number))
				break;
			v[k] = v[k - 1];
			k--;
		}
		v[k] = ct;
	}
	/* health berth has to find out itself */
	struct rt_health_cfg *hc = xcalloc(c->m->nr + 1, sizeof(*hc));
	struct probe *pr = xcalloc(n + 1, sizeof(*pr));
	bool probing = c->e->caps.health == ENGINE_HEALTH_BERTH && !o->quiet && !o->services_only;
	for (size_t i = 0; probing && i < n; i++) {
		int si = rt_model_find(c->m, v[i]->service);
		if (si < 0 || !engine_container_running(v[i]))
			continue;
		const struct rt_service *s = &c->m->svcs[si];
		if (!hc[si].known) {
			const struct node *node = node_map_get(s->node, "healthcheck");
			if (node && (s->has_healthcheck || s->health_disabled)) {
				rt_health_cfg_from_node(&hc[si], node);
			} else {
				struct engine_healthcheck ih;
				struct berth_error ierr = BERTH_ERROR_INIT;
				hc[si].known = true;
				if (!s->health_disabled && !engine_image_healthcheck(c->e, s->image, &ih, &ierr) &&
				    ih.test.nr) {
					hc[si].has = true;
					for (size_t k = 0; k < ih.test.nr; k++)
						strvec_push(&hc[si].test, ih.test.v[k]);
					hc[si].timeout_ms = ih.timeout_ns / 1000000;
				}
				engine_healthcheck_release(&ih);
				berth_error_release(&ierr);
			}
		}
		if (!hc[si].has)
			continue;
		pr[i] = (struct probe){c->e, v[i]->name, &hc[si], NULL, 0, false};
		pr[i].running = !pthread_create(&pr[i].th, NULL, probe_main, &pr[i]);
		if (!pr[i].running)
			probe_main(&pr[i]);
	}
	/* podman without systemd never runs its checks on its own: one run now
	 * makes the state it reports current */
	bool trigger = c->e->caps.health == ENGINE_HEALTH_TRIGGERED && c->e->d->health_run_argv && !o->quiet &&
		       !o->services_only;
	for (size_t i = 0; trigger && i < n; i++) {
		if (!engine_container_running(v[i]) || !*v[i]->health)
			continue;
		pr[i] = (struct probe){c->e, v[i]->name, NULL, NULL, 0, false};
		pr[i].running = !pthread_create(&pr[i].th, NULL, trigger_main, &pr[i]);
		if (!pr[i].running)
			trigger_main(&pr[i]);
	}
	for (size_t i = 0; i < n; i++)
		if (pr[i].running)
			pthread_join(pr[i].th, NULL);

	time_t now = time(NULL);
	bool json = o->format && !strcmp(o->format, "json");
	struct strvec seen = STRVEC_INIT;
	struct strbuf st = STRBUF_INIT, ports = STRBUF_INIT, created = STRBUF_INIT;
	/* table: column widths first */
	size_t w[7] = {4, 5, 7, 7, 7, 6, 5};
	char **cells = xcalloc(n * 7 + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const struct engine_container *ct = v[i];
		const char *health = pr[i].result ? pr[i].result : ct->health;
		strbuf_reset(&st);
		strbuf_reset(&ports);
		strbuf_reset(&created);
		status_text(&st, ct, health, now);
		ports_text(&ports, ct);
		time_t cr = parse_time(ct->created);
		human_duration(&created, cr ? now - cr : 0);
		strbuf_addstr(&created, " ago");
		if (o->quiet) {
			strbuf_addf(out, "%s\n", ct->id);
			continue;
		}
		if (o->services_only) {
			if (strvec_find(&seen, ct->service) < 0) {
				strvec_push(&seen, ct->service);
				strbuf_addf(out, "%s\n", ct->service);
			}
			continue;
		}
		if (json) {
			strbuf_addstr(out, "{\"Command\":");
			struct strbuf q = STRBUF_INIT;
			strbuf_addf(&q, "\"%s\"", ct->command);
			strbuf_add_json_string(out, q.buf, q.len);
			strbuf_release(&q);
			strbuf_addstr(out, ",\"CreatedAt\":");
			strbuf_add_json_string(out, ct->created, strlen(ct->created));
			strbuf_addf(out, ",\"ExitCode\":%d,\"Health\":", ct->exit_code);
			strbuf_add_json_string(out, health, strlen(health));
			strbuf_addstr(out, ",\"ID\":");
			strbuf_add_json_string(out, ct->id, strlen(ct->id));
			strbuf_addstr(out, ",\"Image\":");
			strbuf_add_json_string(out, ct->image, strlen(ct->image));
			strbuf_addstr(out, ",\"Name\":");
			strbuf_add_json_string(out, ct->name, strlen(ct->name));
			strbuf_addstr(out, ",\"Names\":");
			strbuf_add_json_string(out, ct->name, strlen(ct->name));
			struct strbuf nets = STRBUF_INIT;
			strvec_join(&ct->networks, ",", &nets);
			strbuf_addstr(out, ",\"Networks\":");
			strbuf_add_json_string(out, nets.buf, nets.len);
			strbuf_release(&nets);
			strbuf_addstr(out, ",\"Ports\":");
			strbuf_add_json_string(out, ports.buf, ports.len);
			strbuf_addstr(out, ",\"Project\":");
			strbuf_add_json_string(out, ct->project, strlen(ct->project));
			strbuf_addstr(out, ",\"Publishers\":[");
			for (size_t k = 0; k < ct->ports_nr; k++) {
				const struct engine_port *p = &ct->ports[k];
				strbuf_addf(out, "%s{\"URL\":", k ? "," : "");
				strbuf_add_json_string(out, p->host_ip, strlen(p->host_ip));
				strbuf_addf(out, ",\"TargetPort\":%d,\"PublishedPort\":%d,\"Protocol\":\"%s\"}",
					    p->target, p->host_port, p->proto);
			}
			strbuf_addstr(out, "],\"RunningFor\":");
			strbuf_add_json_string(out, created.buf, created.len);
			strbuf_addstr(out, ",\"Service\":");
			strbuf_add_json_string(out, ct->service, strlen(ct->service));
			strbuf_addstr(out, ",\"State\":");
			strbuf_add_json_string(out, ct->state, strlen(ct->state));
			strbuf_addstr(out, ",\"Status\":");
			strbuf_add_json_string(out, st.buf, st.len);
			strbuf_addstr(out, "}\n");
			continue;
		}
		struct strbuf cmd = STRBUF_INIT;
		strbuf_addch(&cmd, '"');
		if (strlen(ct->command) > 20) {
			strbuf_add(&cmd, ct->command, 19);
			strbuf_addstr(&cmd, "\u2026");
		} else {
			strbuf_addstr(&cmd, ct->command);
		}
		strbuf_addch(&cmd, '"');
		char **row = &cells[i * 7];
		row[0] = xstrdup(ct->name);
		row[1] = xstrdup(ct->image);
		row[2] = strbuf_detach(&cmd, NULL);
		row[3] = xstrdup(ct->service);
		row[4] = xstrdup(created.buf);
		row[5] = xstrdup(st.buf);
		row[6] = xstrdup(ports.buf);
		for (int k = 0; k < 7; k++)
			if (strlen(row[k]) > w[k])
				w[k] = strlen(row[k]);
	}
	if (!json && !o->quiet && !o->services_only) {
		static const char *const head[7] = {"NAME",    "IMAGE",  "COMMAND", "SERVICE",
						    "CREATED", "STATUS", "PORTS"};
		for (int k = 0; k < 7; k++)
			strbuf_addf(out, k < 6 ? "%-*s   " : "%-*s", k < 6 ? (int)w[k] : 0, head[k]);
		strbuf_trim(out);
		strbuf_addch(out, '\n');
		for (size_t i = 0; i < n; i++) {
			char **row = &cells[i * 7];
			struct strbuf line = STRBUF_INIT;
			for (int k = 0; k < 7; k++) {
				/* the ellipsis is 3 bytes, one column */
				int pad = (int)w[k] + (k == 2 && strstr(row[k], "\u2026") ? 2 : 0);
				strbuf_addf(&line, k < 6 ? "%-*s   " : "%-*s", k < 6 ? pad : 0, row[k]);
			}
			strbuf_trim(&line);
			strbuf_addf(out, "%s\n", line.buf);
			strbuf_release(&line);
		}
	}
	for (size_t i = 0; i < n * 7; i++)
		free(cells[i]);
	free(cells);
	for (size_t i = 0; i < n; i++)
		free(pr[i].result);
	free(pr);
	for (size_t i = 0; i < c->m->nr; i++)
		rt_health_cfg_release(&hc[i]);
	free(hc);
	strvec_clear(&seen);
	strbuf_release(&st);
	strbuf_release(&ports);
	strbuf_release(&created);
	free(v);
	engine_container_list_release(&cl);
	return 0;
}
