/* Checks on start order, health and restarts (BL019-BL026), with the fixes
 * for exec-form healthchecks, restart_policy conditions and tty/stdin_open. */
#include <ctype.h>
#include <string.h>

#include "lint/internal.h"
#include "common/banned.h"

void check_depends_on_condition(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *deps = node_map_get(svc, "depends_on");
	for (size_t i = 0; deps && deps->kind == NODE_MAP && i < deps->nr; i++) {
		const char *dep = deps->kvs[i].key->str;
		const struct node *cond = node_map_get(deps->kvs[i].value, "condition");
		const char *cs = lint_str(cond);
		if (strcmp(cs, "service_healthy") && strcmp(cs, "service_completed_successfully"))
			continue;
		struct strbuf key = STRBUF_INIT;
		strbuf_addf(&key, "depends_on.%s.condition", dep);
		const char *wait = !strcmp(cs, "service_healthy") ? "healthy" : "finished successfully";
		if (c->target == LINT_TARGET_PODMAN)
			lint_emit(c, cond, key.buf,
				  "condition \"%s\" needs podman 4.6 or later: podman-compose starts \"%s\" without waiting "
				  "for \"%s\" to be %s",
				  cs, name, dep, wait);
		else
			lint_emit(c, cond, key.buf,
				  "condition \"%s\" is ignored by nerdctl compose: \"%s\" starts without waiting for \"%s\" "
				  "to be %s",
				  cs, name, dep, wait);
		strbuf_release(&key);
	}
}

void check_depends_on_option_ignored(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *deps = node_map_get(svc, "depends_on");
	for (size_t i = 0; deps && deps->kind == NODE_MAP && i < deps->nr; i++) {
		const struct node *d = deps->kvs[i].value;
		const struct node *req = node_map_get(d, "required"), *restart = node_map_get(d, "restart");
		struct strbuf key = STRBUF_INIT;
		struct lint_scalar s = LINT_SCALAR_INIT;
		if (req && req->kind == NODE_BOOL && !req->v.b) {
			strbuf_addf(&key, "depends_on.%s.required", deps->kvs[i].key->str);
			lint_emit(c, req, key.buf, "\"required: false\" is ignored: the dependency \"%s\" is still required",
				  deps->kvs[i].key->str);
		}
		/* restart: true is also what links and service: namespaces imply;
		 * only report the one written as such */
		if (lint_is_true(restart) && lint_scalar_verified(lint_src(c, restart), restart, true, &s)) {
			strbuf_reset(&key);
			strbuf_addf(&key, "depends_on.%s.restart", deps->kvs[i].key->str);
			lint_emit(c, restart, key.buf,
				  "\"restart: true\" is ignored: \"%s\" is not restarted when \"%s\" is recreated", name,
				  deps->kvs[i].key->str);
		}
		lint_scalar_release(&s);
		strbuf_release(&key);
	}
}

/* ---- healthchecks ---------------------------------------------------------- */

/* Characters sh treats literally anywhere in a word. */
static bool shell_safe(const char *s, bool first)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_@%+:,./-", *p) && !(*p == '=' && !first))
			return false;
	return true;
}

static void shell_quote(struct strbuf *out, const char *s, bool first)
{
	if (shell_safe(s, first)) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_addstr(out, "'\\''");
		else
			strbuf_addch(out, *s);
	}
	strbuf_addch(out, '\'');
}

static bool blank_before(const struct lint_source *src, size_t start, bool dash)
{
	size_t ls = lint_source_line_start(src, start);
	const char *t = src->text.buf;
	size_t i = ls;
	while (i < start && (t[i] == ' ' || t[i] == '\t'))
		i++;
	if (dash) {
		if (i >= start || t[i] != '-')
			return false;
		i++;
		while (i < start && (t[i] == ' ' || t[i] == '\t'))
			i++;
	}
	return i == start;
}

static bool blank_after(const struct lint_source *src, size_t end)
{
	const char *t = src->text.buf;
	size_t e = lint_source_line_end(src, end), i = end;
	while (i < e && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r'))
		i++;
	return i == e || t[i] == '#';
}

static const char *style_word(enum lint_scalar_style st, const char *w, struct strbuf *tmp)
{
	strbuf_reset(tmp);
	if (st == LINT_SCALAR_DOUBLE)
		strbuf_addf(tmp, "\"%s\"", w);
	else if (st == LINT_SCALAR_SINGLE)
		strbuf_addf(tmp, "'%s'", w);
	else
		strbuf_addstr(tmp, w);
	return tmp->buf;
}

/* Rewrites test (a verified exec-form list) to ["CMD-SHELL", cmd] in place:
 * a flow list is replaced whole; a block list keeps its first two items'
 * lines and loses the others. Nothing is edited unless every item reads back
 * exactly and sits where expected. */
static void fix_exec_form(struct lint_ctx *c, struct lint_finding *f, const struct node *test, const char *cmd)
{
	struct lint_source *src = lint_src(c, test);
	size_t pos;
	if (!src || strcmp(test->file, f->file) || !lint_source_offset(src, test->line, test->col, &pos) || test->nr < 2)
		return;
	const char *t = src->text.buf;
	bool flow = t[pos] == '[';
	if (!flow && t[pos] != '-')
		return;
	struct lint_scalar s[2] = { LINT_SCALAR_INIT, LINT_SCALAR_INIT }, item = LINT_SCALAR_INIT;
	struct strbuf repl = STRBUF_INIT, tmp = STRBUF_INIT;
	size_t last_end = pos;
	bool ok = true;
	for (size_t i = 0; ok && i < test->nr; i++) {
		struct lint_scalar *sc = i < 2 ? &s[i] : &item;
		ok = test->items[i]->file == test->file && lint_scalar_verified(src, test->items[i], flow, sc) &&
		     sc->start > last_end;
		if (ok && !flow)
			ok = blank_before(src, sc->start, true) && blank_after(src, sc->end);
		if (ok)
			last_end = sc->end;
	}
	if (ok && flow) {
		size_t i = last_end;
		while (i < src->text.len && strchr(" \t\r\n,", t[i]))
			i++;
		ok = i < src->text.len && t[i] == ']';
		if (ok) {
			strbuf_addf(&repl, "[%s, ", style_word(s[0].style, "CMD-SHELL", &tmp));
			lint_yaml_quote(&repl, cmd);
			strbuf_addch(&repl, ']');
			lint_add_edit(f, pos, i + 1, repl.buf);
		}
	} else if (ok) {
		lint_add_edit(f, s[0].start, s[0].end, style_word(s[0].style, "CMD-SHELL", &tmp));
		lint_yaml_quote(&repl, cmd);
		lint_add_edit(f, s[1].start, s[1].end, repl.buf);
		for (size_t i = 2; i < test->nr; i++) {
			lint_scalar_at(src, test->items[i], false, &item);
			size_t ls = lint_source_line_start(src, item.start);
			lint_add_edit(f, ls, lint_source_line_next(src, item.start), "");
		}
	}
	lint_scalar_release(&s[0]);
	lint_scalar_release(&s[1]);
	lint_scalar_release(&item);
	strbuf_release(&repl);
	strbuf_release(&tmp);
}

void check_healthcheck_exec_form(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *hc = node_map_get(svc, "healthcheck");
	const struct node *test = hc ? node_map_get(hc, "test") : NULL;
	if (!test || test->kind != NODE_SEQ || test->nr < 2 || strcmp(lint_str(test->items[0]), "CMD"))
		return;
	const char *bad = NULL;
	for (size_t i = 1; i < test->nr && !bad; i++)
		if (!shell_safe(lint_str(test->items[i]), i == 1))
			bad = lint_str(test->items[i]);
	if (!bad)
		return;
	struct strbuf cmd = STRBUF_INIT, shown = STRBUF_INIT;
	for (size_t i = 1; i < test->nr; i++) {
		if (i > 1)
			strbuf_addch(&cmd, ' ');
		shell_quote(&cmd, lint_str(test->items[i]), i == 1);
	}
	struct lint_finding *f = lint_emit(
		c, test, "healthcheck.test",
		"nerdctl joins exec-form arguments with spaces and runs them with /bin/sh -c, which changes the meaning "
		"of \"%s\"",
		bad);
	lint_yaml_quote(&shown, cmd.buf);
	lint_help(f, "write it in shell form with explicit quoting: [\"CMD-SHELL\", %s]", shown.buf);
	fix_exec_form(c, f, test, cmd.buf);
	strbuf_release(&cmd);
	strbuf_release(&shown);
}

static bool healthcheck_active(const struct node *hc)
{
	if (!hc || hc->kind != NODE_MAP || lint_is_true(node_map_get(hc, "disable")))
		return false;
	const struct node *test = node_map_get(hc, "test");
	if (test && test->kind == NODE_SEQ && test->nr && !strcmp(lint_str(test->items[0]), "NONE"))
		return false;
	return true;
}

void check_healthcheck_not_run(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *hc = node_map_get(svc, "healthcheck");
	if (!healthcheck_active(hc))
		return;
	bool finch = c->target == LINT_TARGET_FINCH;
	lint_emit(c, lint_key(svc, "healthcheck"), "healthcheck",
		  "%s %s does not run healthchecks: \"%s\" never reports healthy", finch ? "Finch" : "nerdctl",
		  c->opt->engine_version, name);
}

void check_healthcheck_start_interval(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *hc = node_map_get(svc, "healthcheck");
	const struct node *k = healthcheck_active(hc) ? lint_key(hc, "start_interval") : NULL;
	if (k)
		lint_emit(c, k, "healthcheck.start_interval",
			  "start_interval %s is not supported by nerdctl: the check runs every interval during start_period",
			  lint_str(node_map_get(hc, "start_interval")));
}

/* ---- restarts ---------------------------------------------------------------- */

static const struct node *restart_policy(const struct node *svc)
{
	const struct node *d = node_map_get(svc, "deploy");
	const struct node *rp = d && d->kind == NODE_MAP ? node_map_get(d, "restart_policy") : NULL;
	return rp && rp->kind == NODE_MAP ? rp : NULL;
}

void check_restart_policy_rejected(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *rp = restart_policy(svc);
	const struct node *cond = rp ? node_map_get(rp, "condition") : NULL;
	const char *cs = lint_str(cond);
	const char *repl = !strcmp(cs, "always") ? "any" : !strcmp(cs, "no") ? "none" : NULL;
	if (!repl)
		return;
	struct lint_finding *f = lint_emit(c, cond, "deploy.restart_policy.condition",
					   "\"%s\" is rejected by nerdctl, which accepts \"any\", \"none\" and \"on-failure\"",
					   cs);
	lint_help(f, "use \"%s\" (Docker Compose treats \"%s\" and \"%s\" alike)", repl, cs, repl);
	lint_fix_scalar(c, f, cond, lint_is_flow(c, rp), repl);
}

void check_restart_policy_ignored(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *rp = restart_policy(svc);
	if (!rp)
		return;
	if (c->target == LINT_TARGET_PODMAN) {
		const struct node *d = node_map_get(svc, "deploy");
		lint_emit(c, lint_key(d, "restart_policy"), "deploy.restart_policy",
			  "podman-compose does not read deploy.restart_policy: \"%s\" is not restarted", name);
		return;
	}
	const struct node *cond = node_map_get(rp, "condition");
	if (!strcmp(lint_str(cond), "on-failure")) {
		const struct node *max = node_map_get(rp, "max_attempts");
		struct lint_finding *f = lint_emit(c, cond, "deploy.restart_policy.condition",
						   "\"on-failure\" is ignored by nerdctl compose: \"%s\" is not restarted", name);
		if (max && max->kind == NODE_INT)
			lint_help(f, "use the service-level restart: \"on-failure:%lld\"", (long long)max->v.i);
		else
			lint_help(f, "use the service-level restart: on-failure");
	}
	static const char *const fields[] = { "max_attempts", "delay", "window" };
	for (size_t k = 0; k < 3; k++) {
		const struct node *key = lint_key(rp, fields[k]);
		if (!key)
			continue;
		struct strbuf path = STRBUF_INIT;
		strbuf_addf(&path, "deploy.restart_policy.%s", fields[k]);
		lint_emit(c, key, path.buf, "\"%s\" is ignored by nerdctl compose", fields[k]);
		strbuf_release(&path);
	}
}

/* Inserts "stdin_open: true" on its own line after the line of tty: true,
 * with the same indentation; only when "tty: <value>" is a block mapping
 * entry alone on its line. */
static bool insert_stdin_open(struct lint_ctx *c, struct lint_finding *f, const struct node *key, const struct node *val)
{
	struct lint_source *src = lint_src(c, val);
	struct lint_scalar ks = LINT_SCALAR_INIT, vs = LINT_SCALAR_INIT;
	bool ok = src && key && key->file == val->file && key->line == val->line && !strcmp(val->file, f->file) &&
		  lint_scalar_verified(src, key, false, &ks) && lint_scalar_verified(src, val, false, &vs) &&
		  blank_before(src, ks.start, false) && blank_after(src, vs.end);
	if (ok) {
		size_t ls = lint_source_line_start(src, ks.start);
		size_t next = lint_source_line_next(src, vs.end);
		struct strbuf ins = STRBUF_INIT;
		bool crlf = next >= 2 && src->text.buf[next - 1] == '\n' && src->text.buf[next - 2] == '\r';
		if (next == src->text.len && (next == 0 || src->text.buf[next - 1] != '\n'))
			strbuf_addch(&ins, '\n');
		strbuf_add(&ins, src->text.buf + ls, ks.start - ls);
		strbuf_addstr(&ins, crlf ? "stdin_open: true\r\n" : "stdin_open: true\n");
		if (next == src->text.len && ins.buf[0] == '\n')
			strbuf_setlen(&ins, ins.len - 1); /* no newline at the end before: none after */
		lint_add_edit(f, next, next, ins.buf);
		strbuf_release(&ins);
	}
	lint_scalar_release(&ks);
	lint_scalar_release(&vs);
	return ok;
}

void check_tty_stdin_mismatch(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *tty = node_map_get(svc, "tty"), *in = node_map_get(svc, "stdin_open");
	bool t = lint_is_true(tty), i = lint_is_true(in);
	if (t == i)
		return;
	struct lint_finding *f;
	if (t) {
		f = lint_emit(c, tty, "tty",
			      "tty: true without stdin_open: true makes nerdctl stop (\"StdinOpen(-i) and Tty(-t) should be "
			      "same\")");
		if (in)
			lint_fix_token(c, f, in, lint_is_flow(c, svc), "true");
		else
			insert_stdin_open(c, f, lint_key(svc, "tty"), tty);
	} else {
		f = lint_emit(c, in, "stdin_open",
			      "stdin_open: true without tty: true makes nerdctl stop (\"StdinOpen(-i) and Tty(-t) should be "
			      "same\")");
		lint_help(f, "add tty: true if the service is interactive, else remove stdin_open");
	}
}
