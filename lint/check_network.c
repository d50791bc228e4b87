/* Checks on names and networks (BL013-BL018): what resolves inside a
 * container and which network settings nerdctl compose drops. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "compose/yaml_load.h"
#include "lint/internal.h"
#include "common/banned.h"

/* Largest file mounted into a container that BL017 reads. */
#define SCAN_FILE_MAX ((size_t)1 << 20)


/* Calls fn for each string the container sees at run time: environment
 * values, command, entrypoint and healthcheck test. The key is key, or
 * key.sub for an environment variable (built by emit_at only when needed:
 * this runs for every value of every service). */
typedef void string_fn(struct lint_ctx *c, const struct node *n, const char *key, const char *sub);

static void each_runtime_string(struct lint_ctx *c, const struct node *svc, string_fn *fn)
{
	const struct node *env = node_map_get(svc, "environment");
	for (size_t i = 0; env && env->kind == NODE_MAP && i < env->nr; i++)
		if (node_is_scalar(env->kvs[i].value))
			fn(c, env->kvs[i].value, "environment", env->kvs[i].key->str);
	static const char *const lists[] = { "command", "entrypoint" };
	for (size_t k = 0; k < 2; k++) {
		const struct node *l = node_map_get(svc, lists[k]);
		for (size_t i = 0; l && l->kind == NODE_SEQ && i < l->nr; i++)
			fn(c, l->items[i], lists[k], NULL);
	}
	const struct node *hc = node_map_get(svc, "healthcheck");
	const struct node *test = hc ? node_map_get(hc, "test") : NULL;
	for (size_t i = 1; test && test->kind == NODE_SEQ && i < test->nr; i++)
		fn(c, test->items[i], "healthcheck.test", NULL);
}

static void emit_at(struct lint_ctx *c, const struct node *n, const char *key, const char *sub, const char *msg)
{
	struct strbuf path = STRBUF_INIT;
	strbuf_addstr(&path, key);
	if (sub)
		strbuf_addf(&path, ".%s", sub);
	lint_emit(c, n, path.buf, "%s", msg);
	strbuf_release(&path);
}

static void hdi_string(struct lint_ctx *c, const struct node *n, const char *key, const char *sub)
{
	if (strcasestr(lint_str(n), "host.docker.internal"))
		emit_at(c, n, key, sub, "\"host.docker.internal\" does not resolve under nerdctl, which does not add it");
}

void check_host_docker_internal(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *eh = node_map_get(svc, "extra_hosts");
	for (size_t i = 0; eh && eh->kind == NODE_SEQ && i < eh->nr; i++)
		if (!strncasecmp(lint_str(eh->items[i]), "host.docker.internal=", 21))
			return; /* the service maps the name itself */
	each_runtime_string(c, svc, hdi_string);
}

void check_host_gateway(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *eh = node_map_get(svc, "extra_hosts");
	for (size_t i = 0; eh && eh->kind == NODE_SEQ && i < eh->nr; i++) {
		const char *s = lint_str(eh->items[i]);
		const char *eq = strchr(s, '=');
		if (!eq || strcmp(eq + 1, "host-gateway"))
			continue;
		lint_emit(c, eh->items[i], "extra_hosts",
			  "\"%.*s:host-gateway\" resolves to the Finch VM's address, not to the Mac", (int)(eq - s), s);
	}
}

void check_network_aliases(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *nets = node_map_get(svc, "networks");
	for (size_t i = 0; nets && nets->kind == NODE_MAP && i < nets->nr; i++) {
		const struct node *net = nets->kvs[i].value;
		const struct node *aliases = net && net->kind == NODE_MAP ? node_map_get(net, "aliases") : NULL;
		if (!aliases || aliases->kind != NODE_SEQ || !aliases->nr)
			continue;
		struct strbuf list = STRBUF_INIT, key = STRBUF_INIT;
		for (size_t k = 0; k < aliases->nr; k++)
			strbuf_addf(&list, "%s\"%s\"", k ? ", " : "", lint_str(aliases->items[k]));
		strbuf_addf(&key, "networks.%s.aliases", nets->kvs[i].key->str);
		lint_emit(c, aliases, key.buf, "alias%s %s %s ignored by nerdctl: other containers cannot resolve %s",
			  aliases->nr > 1 ? "es" : "", list.buf, aliases->nr > 1 ? "are" : "is",
			  aliases->nr > 1 ? "them" : "it");
		strbuf_release(&list);
		strbuf_release(&key);
	}
}

void check_network_mode_service(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *nm = node_map_get(svc, "network_mode");
	if (!nm || strncmp(lint_str(nm), "service:", 8))
		return;
	struct lint_finding *f = lint_emit(c, nm, "network_mode",
					   "\"%s\" is rejected by nerdctl compose (\"unsupported network_mode\")", nm->str);
	lint_help(f, "use network_mode: \"container:%s-%s-1\" (the container's name), or put both services on one "
		     "network",
		  c->proj->name ? c->proj->name : "<project>", nm->str + 8);
}

/* ---- 127.0.0.11 ---------------------------------------------------------- */

/* Line of the first "127.0.0.11" (not part of a longer address) in s, or 0. */
static int resolver_line(const char *s, size_t len)
{
	for (const char *p = s; (p = memmem(p, len - (size_t)(p - s), "127.0.0.11", 10)); p++) {
		size_t i = (size_t)(p - s);
		if ((i + 10 == len || !isdigit((unsigned char)s[i + 10])) &&
		    (i == 0 || (!isdigit((unsigned char)s[i - 1]) && s[i - 1] != '.'))) {
			int line = 1;
			for (const char *q = s; (q = memchr(q, '\n', (size_t)(p - q))); q++)
				line++;
			return line;
		}
	}
	return 0;
}

/* The line of 127.0.0.11 in a regular text file, 0 when absent or unreadable;
 * each file is read once per run. */
static int file_resolver_line(struct lint_ctx *c, const char *path)
{
	const char *seen = envmap_get(&c->scanned_files, path);
	if (seen)
		return (int)strtol(seen, NULL, 10);
	struct strbuf sb = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	int line = 0;
	if (!read_file_capped(&sb, path, SCAN_FILE_MAX, &err) && !memchr(sb.buf, '\0', sb.len))
		line = resolver_line(sb.buf, sb.len);
	berth_error_release(&err);
	strbuf_release(&sb);
	char num[16];
	snprintf(num, sizeof(num), "%d", line);
	envmap_set(&c->scanned_files, path, num);
	return line;
}

static void dns_string(struct lint_ctx *c, const struct node *n, const char *key, const char *sub)
{
	const char *s = lint_str(n);
	if (!resolver_line(s, strlen(s)))
		return;
	struct strbuf msg = STRBUF_INIT;
	strbuf_addf(&msg, "uses 127.0.0.11, Docker's embedded DNS server, which does not exist under %s",
		    lint_target_name(c->target));
	emit_at(c, n, key, sub, msg.buf);
	strbuf_release(&msg);
}

void check_embedded_dns_resolver(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *dns = node_map_get(svc, "dns");
	for (size_t i = 0; dns && dns->kind == NODE_SEQ && i < dns->nr; i++)
		dns_string(c, dns->items[i], "dns", NULL);
	each_runtime_string(c, svc, dns_string);
	const struct node *vols = node_map_get(svc, "volumes");
	for (size_t i = 0; vols && vols->kind == NODE_SEQ && i < vols->nr; i++) {
		const struct node *v = vols->items[i];
		if (v->kind != NODE_MAP || strcmp(lint_str(node_map_get(v, "type")), "bind"))
			continue;
		const struct node *src = node_map_get(v, "source");
		int line = *lint_str(src) == '/' ? file_resolver_line(c, src->str) : 0;
		if (line)
			lint_emit(c, src, "volumes",
				  "mounted file \"%s\" uses 127.0.0.11 (line %d), Docker's embedded DNS server, which does not "
				  "exist under %s",
				  src->str, line, lint_target_name(c->target));
	}
	const struct node *refs = node_map_get(svc, "configs");
	const struct node *defs = node_map_get(c->proj->model, "configs");
	for (size_t i = 0; refs && refs->kind == NODE_SEQ && i < refs->nr; i++) {
		const struct node *srcname = node_map_get(refs->items[i], "source");
		const struct node *def = defs ? node_map_get(defs, lint_str(srcname)) : NULL;
		if (!def || def->kind != NODE_MAP)
			continue;
		const struct node *file = node_map_get(def, "file"), *content = node_map_get(def, "content");
		int line = 0;
		if (*lint_str(file) == '/')
			line = file_resolver_line(c, file->str);
		else if (content)
			line = resolver_line(lint_str(content), strlen(lint_str(content)));
		if (line)
			lint_emit(c, srcname, "configs",
				  "config \"%s\" uses 127.0.0.11 (line %d), Docker's embedded DNS server, which does not exist "
				  "under %s",
				  srcname->str, line, lint_target_name(c->target));
	}
}

/* ---- network options ------------------------------------------------------ */

void check_network_option_ignored(struct lint_ctx *c)
{
	const struct node *nets = node_map_get(c->proj->model, "networks");
	struct strbuf key = STRBUF_INIT;
	for (size_t i = 0; nets && nets->kind == NODE_MAP && i < nets->nr; i++) {
		const struct node *n = nets->kvs[i].value;
		const char *net = nets->kvs[i].key->str;
		if (!n || n->kind != NODE_MAP || lint_is_true(node_map_get(n, "external")))
			continue;
		static const char *const flags[] = { "internal", "attachable", "enable_ipv6" };
		for (size_t k = 0; k < 3; k++) {
			const struct node *v = node_map_get(n, flags[k]);
			if (!lint_is_true(v))
				continue;
			strbuf_reset(&key);
			strbuf_addf(&key, "networks.%s.%s", net, flags[k]);
			lint_emit(c, v, key.buf, "\"%s: true\" is ignored by nerdctl compose%s", flags[k],
				  k == 0 ? ": the network can reach the outside" : "");
		}
		const struct node *labels = node_map_get(n, "labels");
		if (labels && labels->nr) {
			strbuf_reset(&key);
			strbuf_addf(&key, "networks.%s.labels", net);
			lint_emit(c, lint_key(n, "labels"), key.buf, "network labels are ignored by nerdctl compose");
		}
		const struct node *ipam = node_map_get(n, "ipam");
		const struct node *cfg = ipam && ipam->kind == NODE_MAP ? node_map_get(ipam, "config") : NULL;
		for (size_t k = 0; cfg && cfg->kind == NODE_SEQ && k < cfg->nr; k++) {
			strbuf_reset(&key);
			strbuf_addf(&key, "networks.%s.ipam.config", net);
			if (k > 0)
				lint_emit(c, cfg->items[k], key.buf,
					  "only the first ipam.config entry is used by nerdctl compose; subnet \"%s\" is ignored",
					  lint_str(node_map_get(cfg->items[k], "subnet")));
			const struct node *aux = lint_key(cfg->items[k], "aux_addresses");
			if (aux)
				lint_emit(c, aux, key.buf, "aux_addresses are ignored by nerdctl compose");
		}
	}
	strbuf_release(&key);
}

void check_network_option_ignored_svc(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *nets = node_map_get(svc, "networks");
	struct strbuf key = STRBUF_INIT;
	for (size_t i = 0; nets && nets->kind == NODE_MAP && i < nets->nr; i++) {
		const struct node *n = nets->kvs[i].value;
		if (!n || n->kind != NODE_MAP)
			continue;
		static const char *const opts[] = { "ipv6_address", "link_local_ips", "priority", "gw_priority" };
		for (size_t k = 0; k < 4; k++) {
			const struct node *kn = lint_key(n, opts[k]);
			if (!kn)
				continue;
			strbuf_reset(&key);
			strbuf_addf(&key, "networks.%s.%s", nets->kvs[i].key->str, opts[k]);
			lint_emit(c, kn, key.buf, "\"%s\" is ignored by nerdctl compose", opts[k]);
		}
	}
	strbuf_release(&key);
}
