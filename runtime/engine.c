/* The engine interface: detection, running engine commands, and reading
 * engine state back from JSON. What differs per CLI is in engine_<name>.c. */
#include "runtime/engine.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/proc.h"
#include "runtime/transport.h"
#include "common/banned.h"

#define ENGINE_TIMEOUT_DEFAULT_MS 60000
#define ENGINE_DETECT_TIMEOUT_MS  15000
/* Containers per `inspect` call: keeps argv well under ARG_MAX. */
#define INSPECT_BATCH 200

const struct engine_dialect *engine_dialect_by_name(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "nerdctl"))
		return &engine_dialect_nerdctl;
	if (!strcmp(name, "docker"))
		return &engine_dialect_docker;
	if (!strcmp(name, "podman"))
		return &engine_dialect_podman;
	return NULL;
}

void engine_parse_semver(int out[3], const char *s)
{
	out[0] = out[1] = out[2] = 0;
	if (!s)
		return;
	if (*s == 'v')
		s++;
	for (int i = 0; i < 3 && *s; i++) {
		int v = 0;
		if (!isdigit((unsigned char)*s))
			break;
		while (isdigit((unsigned char)*s)) {
			if (v < 100000)
				v = v * 10 + (*s - '0');
			s++;
		}
		out[i] = v;
		if (*s != '.')
			break;
		s++;
	}
}

bool engine_version_at_least(const struct engine *e, int maj, int min, int patch)
{
	int want[3] = {maj, min, patch};
	for (int i = 0; i < 3; i++) {
		if (e->ver[i] != want[i])
			return e->ver[i] > want[i];
	}
	return true;
}

void engine_init_static(struct engine *out, const struct engine_dialect *d, const char *ver,
			const struct runtime_transport *t)
{
	memset(out, 0, sizeof(*out));
	out->d = d;
	out->t = t ? t : &runtime_transport_local;
	out->caps = d->caps;
	out->binary = d->binary;
	out->timeout_ms = ENGINE_TIMEOUT_DEFAULT_MS;
	out->version = xstrdup(ver && *ver == 'v' ? ver + 1 : ver ? ver : "0");
	engine_parse_semver(out->ver, out->version);
	if (d->version_caps)
		d->version_caps(out);
}

void engine_release(struct engine *e)
{
	if (!e)
		return;
	free(e->version);
	free(e->api_version);
	e->version = e->api_version = NULL;
}

void engine_proc_init(const struct engine *e, struct proc *p, const struct strvec *args)
{
	proc_init(p);
	strvec_push(&p->argv, e->binary);
	for (size_t i = 0; args && i < args->nr; i++)
		strvec_push(&p->argv, args->v[i]);
	p->in.mode = PROC_NULL;
	p->new_pgroup = true;
}

int engine_proc_run(const struct engine *e, struct proc *p, struct berth_error *err)
{
	if (!log_enabled(LOG_LEVEL_DEBUG))
		return e->t->run(e->t, p, err);
	int64_t t0 = proc_now_ms();
	int rc = e->t->run(e->t, p, err);
	struct strbuf sb = STRBUF_INIT;
	proc_describe(p, &sb);
	log_debug("%s: %s: exit %d, %.2f s", e->t->name, sb.buf, p->exit_code, (double)(proc_now_ms() - t0) / 1000.0);
	strbuf_release(&sb);
	return rc;
}

/* The engine's own words: its stderr, with Go's log prefixes
 * (time="..." level=fatal msg="...") reduced to the message, podman's
 * systemd noise dropped, at most a few lines. */
static void engine_message(struct strbuf *out, const struct strbuf *errbuf)
{
	const char *s = errbuf->buf, *end = s + errbuf->len;
	int lines = 0;
	while (s < end && lines < 6) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		struct strbuf line = STRBUF_INIT;
		strbuf_add(&line, s, (size_t)(le - s));
		strbuf_trim(&line);
		const char *msg = strstr(line.buf, " msg=\"");
		if (!strncmp(line.buf, "time=\"", 6) && msg) {
			/* logrus text format: keep msg's value, unescaped */
			struct strbuf m = STRBUF_INIT;
			for (const char *c = msg + 6; *c && *c != '"'; c++) {
				if (*c == '\\' && c[1])
					c++;
				strbuf_addch(&m, *c);
			}
			bool noise = strstr(line.buf, "level=warning") || strstr(line.buf, "level=info") ||
				     strstr(m.buf, "systemd connection");
			strbuf_reset(&line);
			if (!noise)
				strbuf_addstr(&line, m.buf);
			strbuf_release(&m);
		}
		if (line.len) {
			if (out->len && lines)
				strbuf_addstr(out, "; ");
			strbuf_addstr(out, line.buf);
			lines++;
		}
		strbuf_release(&line);
		s = nl ? nl + 1 : end;
	}
}

int engine_run(const struct engine *e, struct strbuf *out, const struct strvec *args, int timeout_ms, bool keep_output,
	       struct berth_error *err)
{
	struct proc p;
	struct strbuf obuf = STRBUF_INIT, ebuf = STRBUF_INIT;
	engine_proc_init(e, &p, args);
	p.out.mode = PROC_PIPE;
	p.out.buf = &obuf;
	p.err.mode = PROC_PIPE;
	p.err.buf = &ebuf;
	p.err.cap = PROC_CAPTURE_STDERR_CAP;
	p.err.truncate = true;
	if (timeout_ms == 0)
		timeout_ms = e->timeout_ms;
	p.deadline_ms = timeout_ms > 0 ? proc_deadline_in(timeout_ms) : 0;
	int rc = engine_proc_run(e, &p, err);
	if (rc == BERTH_E_TIMEOUT) {
		struct strbuf d = STRBUF_INIT;
		proc_describe(&p, &d);
		rc = berth_error_set(err, BERTH_E_TIMEOUT, "\"%s\" did not finish within %d s", d.buf,
				     timeout_ms / 1000);
		strbuf_release(&d);
	} else if (!rc && (p.exit_code != 0 || p.term_signal)) {
		struct strbuf msg = STRBUF_INIT;
		engine_message(&msg, &ebuf);
		if (!msg.len) {
			strbuf_addf(&msg, "%s %s exited with status %d", e->d->name, args && args->nr ? args->v[0] : "",
				    p.exit_code);
		}
		rc = berth_error_set(err, BERTH_E_ENGINE, "%s", msg.buf);
		strbuf_release(&msg);
		if (keep_output && out)
			strbuf_add(out, obuf.buf, obuf.len);
	} else if (!rc && out) {
		strbuf_add(out, obuf.buf, obuf.len);
	}
	proc_release(&p);
	strbuf_release(&obuf);
	strbuf_release(&ebuf);
	return rc;
}

int engine_runl(const struct engine *e, struct strbuf *out, struct berth_error *err, ...)
{
	struct strvec args = STRVEC_INIT;
	va_list ap;
	va_start(ap, err);
	for (const char *a; (a = va_arg(ap, const char *));)
		strvec_push(&args, a);
	va_end(ap);
	int rc = engine_run(e, out, &args, 0, false, err);
	strvec_clear(&args);
	return rc;
}

int engine_init_named(struct engine *out, const char *name, const char *env_name, const struct runtime_transport *t,
		      struct berth_error *err)
{
	const char *chosen = name && *name ? name : env_name && *env_name ? env_name : NULL;
	if (!chosen)
		return 1;
	const struct engine_dialect *d = engine_dialect_by_name(chosen);
	if (!d)
		return berth_error_set(err, BERTH_E_USAGE, "unknown engine \"%s\" (nerdctl, docker or podman)%s",
				       chosen, name && *name ? "" : " in BERTH_ENGINE");
	engine_init_static(out, d, "0", t);
	out->version_pending = true;
	return 0;
}

int engine_resolve_version(struct engine *e, struct berth_error *err)
{
	if (!e->version_pending)
		return 0;
	struct strbuf o = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	struct berth_error verr = BERTH_ERROR_INIT;
	strvec_pushl(&args, "version", "--format", "{{json .}}", NULL);
	int rc = engine_run(e, &o, &args, ENGINE_DETECT_TIMEOUT_MS, false, &verr);
	strvec_clear(&args);
	if (!rc)
		rc = e->d->parse_version(e, o.buf, &verr);
	strbuf_release(&o);
	if (rc) {
		rc = berth_error_set(err, BERTH_E_NOTFOUND, "engine %s (%s) is not usable", e->d->name,
				     verr.msg ? verr.msg : "not answering");
		berth_error_release(&verr);
		return rc;
	}
	e->caps = e->d->caps;
	if (e->d->version_caps)
		e->d->version_caps(e);
	e->version_pending = false;
	log_info("engine: %s %s", e->d->name, e->version);
	return 0;
}

int engine_detect(struct engine *out, const char *name, const char *env_name, const struct runtime_transport *t,
		  struct berth_error *err)
{
	static const struct engine_dialect *order[] = {&engine_dialect_nerdctl, &engine_dialect_docker,
						       &engine_dialect_podman};
	const struct engine_dialect *only = NULL;
	const char *chosen = name && *name ? name : env_name && *env_name ? env_name : NULL;
	if (chosen) {
		only = engine_dialect_by_name(chosen);
		if (!only)
			return berth_error_set(err, BERTH_E_USAGE,
					       "unknown engine \"%s\" (nerdctl, docker or podman)%s", chosen,
					       name && *name ? "" : " in BERTH_ENGINE");
	}
	struct strbuf tried = STRBUF_INIT;
	struct berth_error last = BERTH_ERROR_INIT;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct engine_dialect *d = order[i];
		if (only && d != only)
			continue;
		struct engine e;
		engine_init_static(&e, d, "0", t);
		struct strbuf o = STRBUF_INIT;
		berth_error_release(&last);
		struct strvec args = STRVEC_INIT;
		strvec_pushl(&args, "version", "--format", "{{json .}}", NULL);
		/* a binary on PATH whose daemon hangs must not hang berth */
		int rc = engine_run(&e, &o, &args, ENGINE_DETECT_TIMEOUT_MS, false, &last);
		strvec_clear(&args);
		if (!rc)
			rc = d->parse_version(&e, o.buf, &last);
		strbuf_release(&o);
		if (!rc) {
			if (d->version_caps) {
				e.caps = d->caps;
				d->version_caps(&e);
			}
			*out = e;
			strbuf_release(&tried);
			berth_error_release(&last);
			log_info("engine: %s %s", d->name, e.version);
			return 0;
		}
		if (tried.len)
			strbuf_addstr(&tried, ", ");
		strbuf_addf(&tried, "%s (%s)", d->name, last.msg ? last.msg : "not answering");
		engine_release(&e);
	}
	int rc = only ? berth_error_set(err, BERTH_E_NOTFOUND, "engine %s is not usable", tried.buf)
		      : berth_error_set(err, BERTH_E_NOTFOUND,
					"no container engine found: tried %s; install nerdctl, docker or podman, or "
					"choose one with --engine",
					tried.buf);
	strbuf_release(&tried);
	berth_error_release(&last);
	return rc;
}

/* ---- JSON helpers ---- */

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *key, int64_t def)
{
	json_object *v = jget(o, key);
	if (!v)
		return def;
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		return json_object_get_int64(v);
	if (json_object_is_type(v, json_type_string)) {
		int64_t n;
		if (!parse_int64(&n, json_object_get_string(v), INT64_MIN, INT64_MAX))
			return n;
	}
	return def;
}

static json_object *parse_json(const char *s, struct berth_error *err, const char *what)
{
	enum json_tokener_error jerr;
	json_object *o = json_tokener_parse_verbose(s, &jerr);
	if (!o)
		berth_error_set(err, BERTH_E_PARSE, "cannot parse the engine's %s as JSON: %s", what,
				json_tokener_error_desc(jerr));
	return o;
}

static void container_release(struct engine_container *c)
{
	free(c->id);
	free(c->name);
	free(c->project);
	free(c->service);
	free(c->config_hash);
	free(c->image_label);
	free(c->image);
	free(c->state);
	free(c->health);
	free(c->created);
	free(c->started_at);
	free(c->finished_at);
	free(c->command);
	strvec_clear(&c->networks);
	strvec_clear(&c->ips);
	for (size_t k = 0; k < c->ports_nr; k++)
		free(c->ports[k].host_ip);
	free(c->ports);
	strvec_clear(&c->label_keys);
	strvec_clear(&c->label_values);
	memset(c, 0, sizeof(*c));
}

void engine_container_list_release(struct engine_container_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		container_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

const char *engine_container_label(const struct engine_container *c, const char *key)
{
	for (size_t i = 0; i < c->label_keys.nr; i++)
		if (!strcmp(c->label_keys.v[i], key))
			return c->label_values.v[i];
	return NULL;
}

bool engine_container_running(const struct engine_container *c)
{
	return c->state && (!strcmp(c->state, "running") || !strcmp(c->state, "restarting"));
}

static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

static void add_quoted_word(struct strbuf *sb, const char *w)
{
	bool plain = *w != 0;
	for (const char *c = w; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-_./=:,@%+", *c))
			plain = false;
	if (plain) {
		strbuf_addstr(sb, w);
		return;
	}
	strbuf_addch(sb, '"');
	for (const char *c = w; *c; c++) {
		if (*c == '"' || *c == '\\')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *c);
	}
	strbuf_addch(sb, '"');
}

static void parse_ports(struct engine_container *c, json_object *ports)
{
	if (!ports || !json_object_is_type(ports, json_type_object))
		return;
	size_t alloc = 0;
	json_object_object_foreach(ports, key, val)
	{
		int target = 0;
		char proto[8] = "tcp";
		const char *slash = strchr(key, '/');
		struct strbuf num = STRBUF_INIT;
		strbuf_add(&num, key, slash ? (size_t)(slash - key) : strlen(key));
		if (parse_port(&target, num.buf))
			target = 0;
		strbuf_release(&num);
		if (slash && strlen(slash + 1) < sizeof(proto)) {
			memset(proto, 0, sizeof(proto));
			memcpy(proto, slash + 1, strlen(slash + 1));
		}
		size_t n = val && json_object_is_type(val, json_type_array) ? json_object_array_length(val) : 0;
		if (!n) {
			ALLOC_GROW(c->ports, c->ports_nr + 1, alloc);
			struct engine_port *p = &c->ports[c->ports_nr++];
			p->host_ip = xstrdup("");
			p->host_port = 0;
			p->target = target;
			memcpy(p->proto, proto, sizeof(proto));
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			json_object *b = json_object_array_get_idx(val, i);
			const char *hp = jstr(b, "HostPort");
			const char *hip = jstr(b, "HostIp");
			int port = 0;
			if (hp && parse_port(&port, hp))
				port = 0;
			/* docker lists 0.0.0.0 and :: for one binding: show it once */
			if (hip && !strcmp(hip, "::") && c->ports_nr && c->ports[c->ports_nr - 1].target == target &&
			    c->ports[c->ports_nr - 1].host_port == port)
				continue;
			ALLOC_GROW(c->ports, c->ports_nr + 1, alloc);
			struct engine_port *p = &c->ports[c->ports_nr++];
			/* podman leaves HostIp empty for all addresses */
			p->host_ip = xstrdup(hip && *hip ? hip : "0.0.0.0");
			p->host_port = port;
			p->target = target;
			memcpy(p->proto, proto, sizeof(proto));
		}
	}
}

/* nerdctl names its networks in inspect "unknown-eth0", "unknown-eth1"...: the
 * real names are in its label nerdctl/networks, in interface order. */
static void parse_networks(struct engine_container *c, json_object *nets, const char *nerdctl_nets)
{
	struct strvec order = STRVEC_INIT;
	if (nerdctl_nets) {
		json_object *arr = json_tokener_parse(nerdctl_nets);
		for (size_t i = 0;
		     arr && json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr); i++)
			strvec_push(&order, json_object_get_string(json_object_array_get_idx(arr, i)));
		json_object_put(arr);
	}
	if (nets && json_object_is_type(nets, json_type_object)) {
		json_object_object_foreach(nets, key, val)
		{
			const char *name = key;
			if (!strncmp(key, "unknown-eth", 11)) {
				int64_t n;
				if (!parse_int64(&n, key + 11, 0, 1000) && (size_t)n < order.nr)
					name = order.v[n];
			}
			strvec_push(&c->networks, name);
			const char *ip = jstr(val, "IPAddress");
			strvec_push(&c->ips, ip ? ip : "");
		}
	}
	/* a stopped nerdctl container shows no interfaces: keep the names */
	if (!c->networks.nr)
		for (size_t i = 0; i < order.nr; i++) {
			strvec_push(&c->networks, order.v[i]);
			strvec_push(&c->ips, "");
		}
	strvec_clear(&order);
}

static void parse_one(struct engine_container *c, json_object *o, bool args_repeat_path)
{
	json_object *cfg = jget(o, "Config"), *st = jget(o, "State"), *labels = jget(cfg, "Labels");
	const char *name = jstr(o, "Name");
	if (name && *name == '/')
		name++;
	c->id = dup_or_empty(jstr(o, "Id") ? jstr(o, "Id") : jstr(o, "ID"));
	c->name = dup_or_empty(name);
	c->image = dup_or_empty(jstr(cfg, "Image") ? jstr(cfg, "Image") : jstr(o, "Image"));
	if (labels && json_object_is_type(labels, json_type_object)) {
		json_object_object_foreach(labels, k, v)
		{
			strvec_push(&c->label_keys, k);
			strvec_push(&c->label_values,
				    v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
		}
	}
	const char *v;
	c->project = (v = engine_container_label(c, "com.docker.compose.project")) ? xstrdup(v) : NULL;
	c->service = (v = engine_container_label(c, "com.docker.compose.service")) ? xstrdup(v) : NULL;
	c->config_hash = (v = engine_container_label(c, "com.docker.compose.config-hash")) ? xstrdup(v) : NULL;
	c->image_label = (v = engine_container_label(c, "com.docker.compose.image")) ? xstrdup(v) : NULL;
	v = engine_container_label(c, "com.docker.compose.oneoff");
	c->oneoff = v && !strcasecmp(v, "true");
	int64_t n = 0;
	v = engine_container_label(c, "com.docker.compose.container-number");
	if (v && !parse_int64(&n, v, 0, 1000000))
		c->number = (int)n;
	const char *status = jstr(st, "Status");
	c->state = dup_or_empty(status);
	/* podman: "configured" is docker's "created"; "stopped" is "exited" */
	if (!strcmp(c->state, "configured") || !strcmp(c->state, "initialized")) {
		free(c->state);
		c->state = xstrdup("created");
	} else if (!strcmp(c->state, "stopped")) {
		free(c->state);
		c->state = xstrdup("exited");
	} else if (!strcmp(c->state, "") || !strcmp(c->state, "unknown")) {
		free(c->state);
		c->state = xstrdup("created");
	}
	c->exit_code = (int)jint(st, "ExitCode", 0);
	json_object *health = jget(st, "Health");
	if (!health)
		health = jget(st, "Healthcheck"); /* podman < 4 */
	c->health = dup_or_empty(jstr(health, "Status"));
	c->created = dup_or_empty(jstr(o, "Created"));
	c->started_at = dup_or_empty(jstr(st, "StartedAt"));
	c->finished_at = dup_or_empty(jstr(st, "FinishedAt"));
	struct strbuf cmd = STRBUF_INIT;
	const char *path = jstr(o, "Path");
	if (path && *path)
		add_quoted_word(&cmd, path);
	json_object *args = jget(o, "Args");
	/* podman's Args repeat Path as their first word; docker's do not */
	size_t first = 0;
	if (args_repeat_path && path && args && json_object_is_type(args, json_type_array) &&
	    json_object_array_length(args) && !strcmp(json_object_get_string(json_object_array_get_idx(args, 0)), path))
		first = 1;
	for (size_t i = first; args && json_object_is_type(args, json_type_array) && i < json_object_array_length(args);
	     i++) {
		if (cmd.len)
			strbuf_addch(&cmd, ' ');
		add_quoted_word(&cmd, json_object_get_string(json_object_array_get_idx(args, i)));
	}
	c->command = strbuf_detach(&cmd, NULL);
	json_object *ns = jget(o, "NetworkSettings");
	parse_ports(c, jget(ns, "Ports"));
	parse_networks(c, jget(ns, "Networks"), engine_container_label(c, "nerdctl/networks"));
}

int engine_parse_inspect(const struct engine *e, struct engine_container_list *out, const char *json,
			 struct berth_error *err)
{
	while (*json && isspace((unsigned char)*json))
		json++;
	if (!*json)
		return 0;
	json_object *arr = parse_json(json, err, "inspect output");
	if (!arr)
		return BERTH_E_PARSE;
	if (!json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		return berth_error_set(err, BERTH_E_PARSE, "the engine's inspect output is not a JSON array");
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		if (!jget(o, "State") || !jget(o, "Config"))
			continue;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		struct engine_container *c = &out->v[out->nr++];
		memset(c, 0, sizeof(*c));
		parse_one(c, o, e && e->d->kind == ENGINE_PODMAN);
	}
	json_object_put(arr);
	return 0;
}

int engine_inspect_containers(const struct engine *e, const struct strvec *ids, struct engine_container_list *out,
			      struct berth_error *err)
{
	for (size_t start = 0; start < ids->nr; start += INSPECT_BATCH) {
		struct strvec args = STRVEC_INIT;
		struct strbuf o = STRBUF_INIT;
		/* `container inspect`, not `inspect`: a name shared with an image
		 * or a volume must not match those */
		strvec_pushl(&args, "container", "inspect", NULL);
		for (size_t i = start; i < ids->nr && i < start + INSPECT_BATCH; i++)
			strvec_push(&args, ids->v[i]);
		struct berth_error ierr = BERTH_ERROR_INIT;
		int rc = engine_run(e, &o, &args, 0, true, &ierr);
		strvec_clear(&args);
		/* a container removed since `ps` makes inspect fail for it alone:
		 * the others are still printed */
		if (rc && rc != BERTH_E_ENGINE) {
			berth_error_move(err, &ierr);
			strbuf_release(&o);
			return rc;
		}
		const char *s = o.buf;
		while (*s && isspace((unsigned char)*s))
			s++;
		if (rc && *s != '[') {
			berth_error_release(&ierr);
			strbuf_release(&o);
			continue;
		}
		berth_error_release(&ierr);
		rc = engine_parse_inspect(e, out, o.buf, err);
		strbuf_release(&o);
		if (rc)
			return rc;
	}
	return 0;
}

int engine_list_containers(const struct engine *e, const char *project, struct engine_container_list *out,
			   struct berth_error *err)
{
	struct strbuf o = STRBUF_INIT;
	struct strvec args = STRVEC_INIT, ids = STRVEC_INIT;
	strvec_pushl(&args, "ps", "-a", "-q", "--no-trunc", NULL);
	strvec_pushf(&args, "--filter=label=com.docker.compose.project=%s", project);
	int rc = engine_run(e, &o, &args, 0, false, err);
	strvec_clear(&args);
	if (rc) {
		berth_error_prefix(err, "listing the containers of project \"%s\"", project);
		strbuf_release(&o);
		return rc;
	}
	/* `ps -q` prints bare IDs, one per line: the one piece of non-JSON
	 * output berth reads, and only hex digits are accepted from it */
	for (char *line = o.buf; *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		size_t len = strlen(line);
		bool hex = len >= 12;
		for (size_t i = 0; i < len && hex; i++)
			hex = isxdigit((unsigned char)line[i]);
		if (hex && strvec_find(&ids, line) < 0)
			strvec_push(&ids, line);
		if (!nl)
			break;
		line = nl + 1;
	}
	strbuf_release(&o);
	rc = ids.nr ? engine_inspect_containers(e, &ids, out, err) : 0;
	strvec_clear(&ids);
	/* a filter the engine ignored must not leak other projects in */
	size_t w = 0;
	for (size_t i = 0; i < out->nr; i++) {
		if (out->v[i].project && !strcmp(out->v[i].project, project)) {
			if (w != i)
				out->v[w] = out->v[i];
			w++;
		} else {
			container_release(&out->v[i]);
		}
	}
	out->nr = w;
	return rc;
}

int engine_parse_names(struct strvec *out, const char *json, struct berth_error *err)
{
	while (*json && isspace((unsigned char)*json))
		json++;
	if (*json == '[') {
		json_object *arr = parse_json(json, err, "list");
		if (!arr)
			return BERTH_E_PARSE;
		for (size_t i = 0; json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr);
		     i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			const char *n = jstr(o, "Name") ? jstr(o, "Name") : jstr(o, "name");
			if (n)
				strvec_push(out, n);
		}
		json_object_put(arr);
		return 0;
	}
	/* one object per line */
	const char *s = json;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		if (len) {
			char *line = xstrndup(s, len);
			json_object *o = parse_json(line, err, "list");
			free(line);
			if (!o)
				return BERTH_E_PARSE;
			const char *n = jstr(o, "Name") ? jstr(o, "Name") : jstr(o, "name");
			if (n)
				strvec_push(out, n);
			json_object_put(o);
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	return 0;
}

int engine_list_names(const struct engine *e, const char *kind, struct strvec *out, struct berth_error *err)
{
	struct strbuf o = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	strvec_pushl(&args, kind, "ls", "--format", "json", NULL);
	int rc = engine_run(e, &o, &args, 0, false, err);
	strvec_clear(&args);
	if (!rc)
		rc = engine_parse_names(out, o.buf, err);
	if (rc)
		berth_error_prefix(err, "listing %ss", kind);
	strbuf_release(&o);
	return rc;
}

int engine_image_id(const struct engine *e, const char *image, struct strbuf *out, struct berth_error *err)
{
	struct strbuf o = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	strvec_pushl(&args, "image", "inspect", image, NULL);
	struct berth_error ierr = BERTH_ERROR_INIT;
	int rc = engine_run(e, &o, &args, 0, false, &ierr);
	strvec_clear(&args);
	if (rc == BERTH_E_ENGINE) {
		/* every engine words "no such image" its own way; a failed inspect
		 * of one image means the engine does not have it */
		rc = berth_error_set(err, BERTH_E_NOTFOUND, "%s", ierr.msg ? ierr.msg : "no such image");
		berth_error_release(&ierr);
		strbuf_release(&o);
		return rc;
	}
	if (rc) {
		berth_error_move(err, &ierr);
		strbuf_release(&o);
		return rc;
	}
	json_object *arr = parse_json(o.buf, err, "image inspect output");
	strbuf_release(&o);
	if (!arr)
		return BERTH_E_PARSE;
	json_object *first = json_object_is_type(arr, json_type_array) && json_object_array_length(arr)
				     ? json_object_array_get_idx(arr, 0)
				     : NULL;
	const char *id = jstr(first, "Id") ? jstr(first, "Id") : jstr(first, "ID");
	if (!id) {
		json_object_put(arr);
		return berth_error_set(err, BERTH_E_NOTFOUND, "no such image: %s", image);
	}
	if (!strchr(id, ':'))
		strbuf_addstr(out, "sha256:");
	strbuf_addstr(out, id);
	json_object_put(arr);
	return 0;
}

void engine_healthcheck_release(struct engine_healthcheck *h)
{
	strvec_clear(&h->test);
	memset(h, 0, sizeof(*h));
}

/* A Go %q string at *s: "..." with \" \\ \n \t \xNN escapes. */
static int go_quoted(struct strbuf *out, const char **s)
{
	const char *c = *s;
	if (*c != '"')
		return -1;
	for (c++; *c && *c != '"'; c++) {
		if (*c != '\\') {
			strbuf_addch(out, *c);
			continue;
		}
		c++;
		switch (*c) {
		case 'n': strbuf_addch(out, '\n'); break;
		case 't': strbuf_addch(out, '\t'); break;
		case 'r': strbuf_addch(out, '\r'); break;
		case 'x':
			if (isxdigit((unsigned char)c[1]) && isxdigit((unsigned char)c[2])) {
				char hex[3] = {c[1], c[2], 0};
				strbuf_addch(out, (int)strtol(hex, NULL, 16));
				c += 2;
			}
			break;
		case 0: return -1;
		default: strbuf_addch(out, *c); break;
		}
	}
	if (*c != '"')
		return -1;
	*s = c + 1;
	return 0;
}

int engine_parse_history_healthcheck(struct engine_healthcheck *out, const char *s)
{
	memset(out, 0, sizeof(*out));
	const char *c = strstr(s, "&{[");
	if (!c)
		return BERTH_E_PARSE;
	c += 3;
	while (*c && *c != ']') {
		while (*c == ' ')
			c++;
		if (*c == ']')
			break;
		struct strbuf w = STRBUF_INIT;
		if (go_quoted(&w, &c)) {
			strbuf_release(&w);
			goto bad;
		}
		strvec_push(&out->test, w.buf);
		strbuf_release(&w);
	}
	if (*c != ']')
		goto bad;
	c++;
	int ndur = 0;
	while (*c && *c != '}') {
		while (*c == ' ')
			c++;
		if (*c == '"') {
			struct strbuf w = STRBUF_INIT;
			int64_t ns = 0;
			if (go_quoted(&w, &c) || parse_duration(&ns, w.buf)) {
				strbuf_release(&w);
				goto bad;
			}
			strbuf_release(&w);
			/* Interval, Timeout, StartPeriod[, StartInterval] */
			if (ndur == 0)
				out->interval_ns = ns;
			else if (ndur == 1)
				out->timeout_ns = ns;
			else if (ndur == 2)
				out->start_period_ns = ns;
			ndur++;
		} else if (*c == '\'') {
			/* Retries printed by %q as a rune: '\x03' or 'a' */
			c++;
			int v = 0;
			if (*c == '\\' && c[1] == 'x') {
				char hex[3] = {c[2], c[3], 0};
				v = (int)strtol(hex, NULL, 16);
				c += 4;
			} else if (*c == '\\') {
				c += 2;
			} else if (*c) {
				v = (unsigned char)*c++;
			}
			if (*c == '\'')
				c++;
			out->retries = v;
		} else if (isdigit((unsigned char)*c)) {
			int v = 0;
			while (isdigit((unsigned char)*c))
				v = v * 10 + (*c++ - '0');
			out->retries = v;
		} else if (*c) {
			c++;
		}
	}
	return 0;
bad:
	engine_healthcheck_release(out);
	return BERTH_E_PARSE;
}

static void healthcheck_from_json(struct engine_healthcheck *out, json_object *hc)
{
	json_object *test = jget(hc, "Test");
	for (size_t i = 0; test && json_object_is_type(test, json_type_array) && i < json_object_array_length(test);
	     i++)
		strvec_push(&out->test, json_object_get_string(json_object_array_get_idx(test, i)));
	out->interval_ns = jint(hc, "Interval", 0);
	out->timeout_ns = jint(hc, "Timeout", 0);
	out->start_period_ns = jint(hc, "StartPeriod", 0);
	out->retries = (int)jint(hc, "Retries", 0);
}

int engine_image_healthcheck(const struct engine *e, const char *image, struct engine_healthcheck *out,
			     struct berth_error *err)
{
	struct strbuf o = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	memset(out, 0, sizeof(*out));
	strvec_pushl(&args, "image", "inspect", NULL);
	if (e->caps.image_health_in_history)
		strvec_push(&args, "--mode=native");
	strvec_push(&args, image);
	int rc = engine_run(e, &o, &args, 0, false, err);
	strvec_clear(&args);
	if (rc) {
		strbuf_release(&o);
		return rc;
	}
	json_object *arr = parse_json(o.buf, err, "image inspect output");
	strbuf_release(&o);
	if (!arr)
		return BERTH_E_PARSE;
	json_object *first = json_object_is_type(arr, json_type_array) && json_object_array_length(arr)
				     ? json_object_array_get_idx(arr, 0)
				     : NULL;
	json_object *hc = jget(jget(first, "Config"), "Healthcheck");
	if (hc) {
		healthcheck_from_json(out, hc);
	} else if (e->caps.image_health_in_history) {
		json_object *hist = jget(jget(first, "ImageConfig"), "history");
		/* the last HEALTHCHECK instruction wins, as in a Dockerfile */
		for (size_t i = 0;
		     hist && json_object_is_type(hist, json_type_array) && i < json_object_array_length(hist); i++) {
			const char *cb = jstr(json_object_array_get_idx(hist, i), "created_by");
			const char *h = cb ? strstr(cb, "HEALTHCHECK ") : NULL;
			if (!h)
				continue;
			struct engine_healthcheck tmp;
			if (strstr(h, "HEALTHCHECK &{[\"NONE\"]")) {
				engine_healthcheck_release(out);
				continue;
			}
			if (!engine_parse_history_healthcheck(&tmp, h)) {
				engine_healthcheck_release(out);
				*out = tmp;
			}
		}
	}
	/* ["NONE"] disables the image's check */
	if (out->test.nr && !strcmp(out->test.v[0], "NONE"))
		engine_healthcheck_release(out);
	json_object_put(arr);
	return 0;
}
