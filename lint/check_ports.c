/* Checks on published ports (BL001-BL004). The canonical model has one long-
 * syntax entry per port; entries made from one short-syntax string share that
 * string's position, which is how a range is recognised again. */
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "lint/internal.h"
#include "common/banned.h"

/* More ports than this from one entry is a "large" range. */
#define LARGE_RANGE 100

static bool same_pos(const struct node *a, const struct node *b)
{
	return a && b && a->file == b->file && a->line == b->line && a->col == b->col;
}

/* Short syntax: the entry was made from a string, so its fields share its position. */
static bool port_is_short(const struct node *p)
{
	const struct node *t = node_map_get(p, "target");
	return same_pos(t, p);
}

/* The entry as written ("8080:80"), or its target port. */
static void port_spec(struct lint_ctx *c, const struct node *ports, const struct node *p, struct strbuf *out)
{
	if (port_is_short(p)) {
		struct lint_scalar s = LINT_SCALAR_INIT;
		if (lint_scalar_at(lint_src(c, p), p, lint_is_flow(c, ports), &s) && s.style != LINT_SCALAR_BLOCK &&
		    s.value.len) {
			strbuf_addf(out, "\"%s\"", s.value.buf);
			lint_scalar_release(&s);
			return;
		}
		lint_scalar_release(&s);
	}
	strbuf_addf(out, "target %s", lint_str(node_map_get(p, "target")));
}

static const struct node *ports_of(const struct node *svc)
{
	const struct node *ports = node_map_get(svc, "ports");
	return ports && ports->kind == NODE_SEQ ? ports : NULL;
}

void check_ephemeral_host_port(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *ports = ports_of(svc), *last = NULL;
	for (size_t i = 0; ports && i < ports->nr; i++) {
		const struct node *p = ports->items[i];
		if (p->kind != NODE_MAP || *lint_str(node_map_get(p, "published")))
			continue;
		if (same_pos(last, p))
			continue; /* the rest of a range */
		last = p;
		const char *target = lint_str(node_map_get(p, "target"));
		const char *why;
		if (c->target == LINT_TARGET_FINCH)
			why = "Lima does not reliably forward randomly chosen ports to the Mac (lima#527)";
		else if (lint_version_before(c, "1.0.0"))
			why = "nerdctl before 1.0 rejects it (\"unsupported port number: 0\")";
		else
			why = "rootless nerdctl cannot allocate one and several such ports have collided";
		struct strbuf spec = STRBUF_INIT;
		port_spec(c, ports, p, &spec);
		struct lint_finding *f = lint_emit(c, p, "ports", "%s publishes container port %s on a random host port: %s",
						   spec.buf, target, why);
		lint_help(f, "publish a fixed host port, such as \"127.0.0.1:%s:%s\"", target, target);
		strbuf_release(&spec);
	}
}

void check_port_mode_host(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *ports = ports_of(svc);
	for (size_t i = 0; ports && i < ports->nr; i++) {
		const struct node *p = ports->items[i];
		const struct node *mode = p->kind == NODE_MAP ? node_map_get(p, "mode") : NULL;
		if (!mode || strcmp(lint_str(mode), "host"))
			continue;
		struct lint_finding *f = lint_emit(c, mode, "ports",
						   "port %s uses mode \"host\", which nerdctl rejects (\"unsupported port mode\")",
						   lint_str(node_map_get(p, "target")));
		lint_fix_scalar(c, f, mode, lint_is_flow(c, p), "ingress");
	}
}

/* Size of a "a-b" range, or 1. */
static long range_size(const char *s)
{
	const char *dash = strchr(s, '-');
	int lo, hi;
	if (!dash)
		return 1;
	char *a = xstrndup(s, (size_t)(dash - s));
	int bad = parse_port(&lo, a) || parse_port(&hi, dash + 1) || hi < lo;
	free(a);
	return bad ? 1 : (long)hi - lo + 1;
}

void check_large_port_range(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *ports = ports_of(svc);
	for (size_t i = 0; ports && i < ports->nr;) {
		const struct node *p = ports->items[i];
		size_t j = i + 1;
		while (j < ports->nr && same_pos(ports->items[j], p))
			j++;
		long count = (long)(j - i);
		if (p->kind == NODE_MAP) {
			long pub = range_size(lint_str(node_map_get(p, "published")));
			if (pub > count)
				count = pub;
		}
		if (count > LARGE_RANGE) {
			struct strbuf spec = STRBUF_INIT;
			port_spec(c, ports, p, &spec);
			lint_emit(c, p, "ports",
				  "%s publishes %ld ports: nerdctl passes one -p flag per port and ranges this large have "
				  "failed (nerdctl#4027)",
				  spec.buf, count);
			strbuf_release(&spec);
		}
		i = j;
	}
}

void check_port_field_ignored(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *ports = ports_of(svc);
	for (size_t i = 0; ports && i < ports->nr; i++) {
		const struct node *p = ports->items[i];
		if (p->kind != NODE_MAP || port_is_short(p))
			continue;
		static const char *const fields[] = { "name", "app_protocol" };
		for (size_t k = 0; k < 2; k++) {
			const struct node *key = lint_key(p, fields[k]);
			if (key)
				lint_emit(c, key, "ports", "port %s: \"%s: %s\" is ignored by nerdctl compose",
					  lint_str(node_map_get(p, "target")), fields[k], lint_str(node_map_get(p, fields[k])));
		}
	}
}
