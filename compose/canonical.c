#include "compose/canonical.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/parse.h"
#include "common/strbuf.h"
#include "compose/node.h"
#include "compose/schema.h"
#include "common/banned.h"

extern const struct key_spec *const schema_port_keys;

static int convert(struct canon_ctx *c, const struct key_spec *spec, struct node **slot);
static int convert_obj(struct canon_ctx *c, const struct key_spec *table, struct node *n);

/* ---- paths ------------------------------------------------------------- */

char *path_join_clean(struct arena *a, const char *base, const char *rel)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	if (rel[0] != '/' && base) {
		strbuf_addstr(&in, base);
		strbuf_addch(&in, '/');
	}
	strbuf_addstr(&in, rel);
	/* lexical clean: collapse //, drop ., resolve .. */
	bool abs = in.buf[0] == '/';
	size_t *seg = NULL, nseg = 0, aseg = 0;
	const char *p = in.buf;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg && !(out.len >= 2 && !strcmp(out.buf + seg[nseg - 1], ".."))) {
				strbuf_setlen(&out, seg[--nseg] ? seg[nseg] - 1 : 0);
			} else if (!abs) {
				ALLOC_GROW(seg, nseg + 1, aseg);
				if (out.len)
					strbuf_addch(&out, '/');
				seg[nseg++] = out.len;
				strbuf_addstr(&out, "..");
			}
		} else {
			ALLOC_GROW(seg, nseg + 1, aseg);
			if (out.len)
				strbuf_addch(&out, '/');
			seg[nseg++] = out.len;
			strbuf_add(&out, p, n);
		}
		p += n;
	}
	free(seg);
	char *r;
	if (abs)
		r = arena_strfmt(a, "/%s", out.buf);
	else
		r = arena_strdup(a, out.len ? out.buf : ".");
	strbuf_release(&in);
	strbuf_release(&out);
	return r;
}

char *path_resolve(struct arena *a, const char *base, const char *home, const char *p)
{
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0') && home)
		return path_join_clean(a, NULL, arena_strfmt(a, "%s/%s", home, p[1] ? p + 2 : ""));
	return path_join_clean(a, base, p);
}

static bool is_remote_context(const char *s)
{
	return strstr(s, "://") || !strncmp(s, "git@", 4) || !strncmp(s, "github.com/", 11);
}

/* ---- helpers ----------------------------------------------------------- */

static size_t path_push_key(struct canon_ctx *c, const char *key)
{
	size_t old = c->path->len;
	if (old)
		strbuf_addch(c->path, '.');
	strbuf_addstr(c->path, key);
	return old;
}

static size_t path_push_index(struct canon_ctx *c, size_t i)
{
	size_t old = c->path->len;
	strbuf_addf(c->path, "[%zu]", i);
	return old;
}

static int fail(struct canon_ctx *c, const struct node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct canon_ctx *c, const struct node *n, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	berth_error_set_at(c->err, BERTH_E_INVALID, n ? n->file : NULL, n ? n->line : 0, n ? n->col : 0, c->path->buf,
			   "%s", sb.buf);
	strbuf_release(&sb);
	return BERTH_E_INVALID;
}

static const char *type_word(enum ktype t)
{
	switch (t) {
	case KT_STR:
	case KT_DURATION: return "a string";
	case KT_INT: return "an integer";
	case KT_BOOL: return "a boolean";
	case KT_FLOAT: return "a number";
	case KT_BYTES: return "a size (number or string such as \"512m\")";
	case KT_STRLIST: return "a list of strings";
	case KT_STR_OR_LIST: return "a string or a list of strings";
	case KT_CMD: return "a string or a list of strings";
	case KT_KV:
	case KT_ENV: return "a mapping or a list of KEY=VALUE strings";
	case KT_OBJ: return "a mapping";
	case KT_MAP_OBJ: return "a mapping";
	case KT_LIST_OBJ: return "a list";
	default: return "a valid value";
	}
}

static int wrong_type(struct canon_ctx *c, const struct node *n, enum ktype t)
{
	return fail(c, n, "must be %s, not %s", type_word(t), node_kind_name(n->kind));
}

const char *scalar_go_text(struct arena *a, const struct node *n)
{
	switch (n->kind) {
	case NODE_NULL: return "";
	case NODE_BOOL: return n->v.b ? "true" : "false";
	case NODE_INT: return arena_strfmt(a, "%lld", (long long)n->v.i);
	case NODE_FLOAT: {
		char tmp[64];
		for (int p = 1; p <= 17; p++) {
			snprintf(tmp, sizeof(tmp), "%.*g", p, n->v.f);
			if (strtod(tmp, NULL) == n->v.f)
				break;
		}
		return arena_strdup(a, tmp);
	}
	case NODE_STR: return n->str;
	default: return NULL;
	}
}

static struct node *as_str(struct canon_ctx *c, const struct node *n)
{
	if (n->kind == NODE_STR)
		return (struct node *)n;
	struct node *s = node_new_str(c->a, scalar_go_text(c->a, n), n);
	s->tag = n->tag;
	return s;
}

static bool parse_bool_text(const char *s, bool *out)
{
	static const char *const t[] = {"true", "yes", "y", "on", "1", "t"};
	static const char *const f[] = {"false", "no", "n", "off", "0", "f"};
	for (size_t i = 0; i < 6; i++) {
		if (!strcasecmp(s, t[i])) {
			*out = true;
			return true;
		}
		if (!strcasecmp(s, f[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Splits "KEY=VALUE" (value NULL when there is no '='). */
static void split_kv(struct canon_ctx *c, const char *s, char **key, char **val)
{
	const char *eq = strchr(s, '=');
	if (!eq) {
		*key = arena_strdup(c->a, s);
		*val = NULL;
		return;
	}
	*key = arena_strndup(c->a, s, (size_t)(eq - s));
	*val = arena_strdup(c->a, eq + 1);
}

static int convert_kv(struct canon_ctx *c, struct node **slot, bool env)
{
	struct node *n = *slot;
	struct node *m = node_new(c->a, NODE_MAP, n);
	m->tag = n->tag;
	if (n->kind == NODE_MAP) {
		for (size_t i = 0; i < n->nr; i++) {
			struct node *v = n->kvs[i].value;
			struct node *nv;
			if (!node_is_scalar(v)) {
				size_t old = path_push_key(c, n->kvs[i].key->str);
				int rc = fail(c, v, "must be a string, number, boolean or null, not %s",
					      node_kind_name(v->kind));
				strbuf_setlen(c->path, old);
				return rc;
			}
			if (v->kind == NODE_NULL)
				nv = env ? v : node_new_str(c->a, "", v);
			else
				nv = as_str(c, v);
			node_map_set_kv(c->a, m, n->kvs[i].key, nv);
		}
	} else if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->nr; i++) {
			struct node *it = n->items[i];
			if (!node_is_scalar(it) || it->kind == NODE_NULL) {
				size_t old = path_push_index(c, i);
				int rc = fail(c, it, "must be a KEY=VALUE string, not %s", node_kind_name(it->kind));
				strbuf_setlen(c->path, old);
				return rc;
			}
			char *k, *v;
			split_kv(c, scalar_go_text(c->a, it), &k, &v);
			struct node *key = node_new_str(c->a, k, it);
			struct node *val = v ? node_new_str(c->a, v, it)
					     : (env ? node_new(c->a, NODE_NULL, it) : node_new_str(c->a, "", it));
			node_map_set_kv(c->a, m, key, val);
		}
	} else if (n->kind == NODE_NULL) {
		/* an empty mapping */
	} else {
		return wrong_type(c, n, env ? KT_ENV : KT_KV);
	}
	*slot = m;
	return 0;
}

static int convert_strlist(struct canon_ctx *c, struct node **slot, bool promote)
{
	struct node *n = *slot;
	if (promote && node_is_scalar(n) && n->kind != NODE_NULL) {
		struct node *s = node_new(c->a, NODE_SEQ, n);
		s->tag = n->tag;
		node_seq_push(c->a, s, as_str(c, n));
		*slot = s;
		return 0;
	}
	if (n->kind != NODE_SEQ)
		return wrong_type(c, n, promote ? KT_STR_OR_LIST : KT_STRLIST);
	for (size_t i = 0; i < n->nr; i++) {
		if (!node_is_scalar(n->items[i]) || n->items[i]->kind == NODE_NULL) {
			size_t old = path_push_index(c, i);
			int rc = fail(c, n->items[i], "must be a string, not %s", node_kind_name(n->items[i]->kind));
			strbuf_setlen(c->path, old);
			return rc;
		}
		n->items[i] = as_str(c, n->items[i]);
	}
	return 0;
}

/* ---- shell words ------------------------------------------------------- */

int shell_split(struct arena *a, struct node *out, const char *s, struct berth_error *err)
{
	struct strbuf w = STRBUF_INIT;
	bool in_word = false, sq = false, dq = false;
	for (const char *p = s;; p++) {
		char ch = *p;
		if (!ch) {
			if (sq || dq) {
				strbuf_release(&w);
				return berth_error_set(err, BERTH_E_INVALID, "unterminated %s quote in command",
						       sq ? "single" : "double");
			}
			break;
		}
		if (sq) {
			if (ch == '\'')
				sq = false;
			else
				strbuf_addch(&w, ch);
			continue;
		}
		if (ch == '\\') {
			if (!p[1]) {
				strbuf_addch(&w, ch);
				in_word = true;
				continue;
			}
			if (dq && !strchr("\"\\$`\n", p[1])) {
				strbuf_addch(&w, ch);
			}
			p++;
			if (*p != '\n' || dq)
				strbuf_addch(&w, *p);
			in_word = true;
			continue;
		}
		if (dq) {
			if (ch == '"')
				dq = false;
			else
				strbuf_addch(&w, ch);
			continue;
		}
		if (ch == '\'') {
			sq = true;
			in_word = true;
			continue;
		}
		if (ch == '"') {
			dq = true;
			in_word = true;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			if (in_word) {
				node_seq_push(a, out, node_new_strn(a, w.buf, w.len, out));
				strbuf_reset(&w);
				in_word = false;
			}
			continue;
		}
		strbuf_addch(&w, ch);
		in_word = true;
	}
	if (in_word)
		node_seq_push(a, out, node_new_strn(a, w.buf, w.len, out));
	strbuf_release(&w);
	return 0;
}

static int convert_cmd(struct canon_ctx *c, struct node **slot)
{
	struct node *n = *slot;
	if (n->kind == NODE_NULL)
		return 0;
	if (n->kind == NODE_SEQ)
		return convert_strlist(c, slot, false);
	if (!node_is_scalar(n))
		return wrong_type(c, n, KT_CMD);
	struct node *seq = node_new(c->a, NODE_SEQ, n);
	seq->tag = n->tag;
	struct berth_error e = BERTH_ERROR_INIT;
	if (shell_split(c->a, seq, scalar_go_text(c->a, n), &e)) {
		int rc = fail(c, n, "%s", e.msg);
		berth_error_release(&e);
		return rc;
	}
	*slot = seq;
	return 0;
}

/* ---- scalars ----------------------------------------------------------- */

static int convert_scalar(struct canon_ctx *c, enum ktype t, struct node **slot)
{
	struct node *n = *slot;
	if (!node_is_scalar(n))
		return wrong_type(c, n, t);
	if (n->kind == NODE_NULL)
		return 0; /* absent, as compose-go's omitempty treats it */
	const char *text = scalar_go_text(c->a, n);
	struct node *r = NULL;
	switch (t) {
	case KT_STR: r = as_str(c, n); break;
	case KT_INT: {
		int64_t v;
		if (n->kind == NODE_INT)
			return 0;
		if (n->kind == NODE_FLOAT && n->v.f == (double)(int64_t)n->v.f) {
			r = node_new_int(c->a, (int64_t)n->v.f, n);
			break;
		}
		if (n->kind != NODE_STR || parse_int64(&v, text, INT64_MIN, INT64_MAX))
			return fail(c, n, "must be an integer, not \"%s\"", text);
		r = node_new_int(c->a, v, n);
		break;
	}
	case KT_BOOL: {
		bool b;
		if (n->kind == NODE_BOOL)
			return 0;
		if (n->kind != NODE_STR || !parse_bool_text(text, &b))
			return fail(c, n, "must be a boolean, not \"%s\"", text);
		r = node_new_bool(c->a, b, n);
		break;
	}
	case KT_FLOAT: {
		double d;
		if (n->kind == NODE_FLOAT)
			return 0;
		if (n->kind == NODE_INT) {
			r = node_new_float(c->a, (double)n->v.i, n);
			break;
		}
		if (n->kind != NODE_STR || parse_double(&d, text))
			return fail(c, n, "must be a number, not \"%s\"", text);
		r = node_new_float(c->a, d, n);
		break;
	}
	case KT_DURATION: {
		int64_t ns;
		if (n->kind == NODE_INT) {
			/* a bare number is seconds in compose-go's duration decoding */
			ns = n->v.i * 1000000000LL;
		} else if (parse_duration(&ns, text)) {
			return fail(c, n, "invalid duration \"%s\" (expected a value such as \"30s\" or \"1m30s\")",
				    text);
		}
		struct strbuf sb = STRBUF_INIT;
		format_duration(&sb, ns);
		r = node_new_str(c->a, sb.buf, n);
		strbuf_release(&sb);
		break;
	}
	case KT_BYTES: {
		int64_t v;
		if (n->kind == NODE_INT)
			v = n->v.i;
		else if (n->kind == NODE_FLOAT)
			v = (int64_t)n->v.f;
		else if (parse_bytes(&v, text))
			return fail(c, n, "invalid size \"%s\" (expected bytes or a value such as \"512m\")", text);
		r = node_new_str(c->a, arena_strfmt(c->a, "%lld", (long long)v), n);
		break;
	}
	default: BUG("convert_scalar on type %d", t);
	}
	r->tag = n->tag;
	*slot = r;
	return 0;
}

/* File modes: a YAML int is taken as written (a plain 0440 is octal already);
 * a string is read as a decimal number, as Docker Compose 2.26 does ("0440" -> 440). */
static int convert_mode(struct canon_ctx *c, struct node **slot)
{
	struct node *n = *slot;
	if (n->kind == NODE_INT || n->kind == NODE_NULL)
		return 0;
	if (n->kind == NODE_STR) {
		char *end;
		long v = strtol(n->str, &end, 10);
		if (*n->str && !*end && v >= 0) {
			*slot = node_new_int(c->a, v, n);
			return 0;
		}
	}
	return fail(c, n, "invalid file mode \"%s\"", node_scalar_text(n) ? node_scalar_text(n) : "");
}

/* ---- ports ------------------------------------------------------------- */

static int parse_range(const char *s, size_t n, int *lo, int *hi)
{
	char buf[32];
	if (!n || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_port(lo, buf))
		return -1;
	if (!dash) {
		*hi = *lo;
		return 0;
	}
	if (parse_port(hi, dash + 1) || *hi < *lo)
		return -1;
	return 0;
}

struct port_entry {
	char key[24];
	int target;
	char published[32];
};

static int port_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct port_entry *)a)->key, ((const struct port_entry *)b)->key);
}

static struct node *port_node(struct canon_ctx *c, const struct node *pos, const char *ip, int target,
			      const char *published, const char *proto)
{
	struct node *m = node_new(c->a, NODE_MAP, pos);
	node_map_set(c->a, m, "mode", node_new_str(c->a, "ingress", pos));
	if (ip && *ip)
		node_map_set(c->a, m, "host_ip", node_new_str(c->a, ip, pos));
	node_map_set(c->a, m, "target", node_new_int(c->a, target, pos));
	if (published && *published)
		node_map_set(c->a, m, "published", node_new_str(c->a, published, pos));
	node_map_set(c->a, m, "protocol", node_new_str(c->a, proto, pos));
	return m;
}

/* Docker's nat.ParsePortSpec: [ip:][host[-host]:]container[-container][/proto]. */
static int parse_port_spec(struct canon_ctx *c, const struct node *pos, const char *spec, struct node *out)
{
	char proto[16] = "tcp";
	const char *slash = strrchr(spec, '/');
	size_t body_len = slash ? (size_t)(slash - spec) : strlen(spec);
	if (slash) {
		size_t pl = strlen(slash + 1);
		if (!pl || pl >= sizeof(proto))
			return fail(c, pos, "invalid port \"%s\": invalid proto \"%s\"", spec, slash + 1);
		for (size_t i = 0; i <= pl; i++)
			proto[i] = (char)tolower((unsigned char)slash[1 + i]);
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
			return fail(c, pos, "invalid port \"%s\": invalid proto \"%s\"", spec, slash + 1);
	}
	char *body = arena_strndup(c->a, spec, body_len);
	char *ip = NULL, *host = NULL, *cont;
	/* IPv6 host addresses come in brackets: [::1]:80:80 */
	if (body[0] == '[') {
		char *close = strchr(body, ']');
		if (!close || close[1] != ':')
			return fail(c, pos, "invalid port \"%s\": invalid ip address", spec);
		ip = arena_strndup(c->a, body + 1, (size_t)(close - body - 1));
		body = close + 2;
		char *colon = strrchr(body, ':');
		if (!colon)
			return fail(c, pos, "invalid port \"%s\"", spec);
		*colon = '\0';
		host = body;
		cont = colon + 1;
	} else {
		char *last = strrchr(body, ':');
		if (!last) {
			cont = body;
		} else {
			*last = '\0';
			cont = last + 1;
			char *first = strrchr(body, ':');
			if (first) {
				*first = '\0';
				ip = body;
				host = first + 1;
			} else {
				host = body;
			}
		}
	}
	if (ip && *ip) {
		/* an address is digits, dots, colons and hex letters */
		for (const char *p = ip; *p; p++)
			if (!isxdigit((unsigned char)*p) && *p != '.' && *p != ':')
				return fail(c, pos, "invalid port \"%s\": invalid ip address \"%s\"", spec, ip);
	}
	int clo, chi, hlo = 0, hhi = 0;
	if (parse_range(cont, strlen(cont), &clo, &chi))
		return fail(c, pos, "invalid port \"%s\": invalid containerPort: %s", spec, cont);
	bool have_host = host && *host;
	if (have_host && parse_range(host, strlen(host), &hlo, &hhi))
		return fail(c, pos, "invalid port \"%s\": invalid hostPort: %s", spec, host);
	int count = chi - clo + 1;
	if (have_host && hhi - hlo + 1 != count && !(clo == chi))
		return fail(c, pos, "invalid port \"%s\": invalid ranges specified for container and host ports", spec);
	struct port_entry *ents = calloc((size_t)count, sizeof(*ents));
	if (!ents)
		BUG("out of memory");
	for (int i = 0; i < count; i++) {
		struct port_entry *e = &ents[i];
		e->target = clo + i;
		snprintf(e->key, sizeof(e->key), "%d/%s", e->target, proto);
		if (!have_host)
			e->published[0] = '\0';
		else if (count == 1 && hlo != hhi)
			snprintf(e->published, sizeof(e->published), "%d-%d", hlo, hhi);
		else
			snprintf(e->published, sizeof(e->published), "%d", hlo + i);
	}
	/* compose-go orders the ports of one spec by their "port/proto" text */
	qsort(ents, (size_t)count, sizeof(*ents), port_entry_cmp);
	for (int i = 0; i < count; i++)
		node_seq_push(c->a, out, port_node(c, pos, ip, ents[i].target, ents[i].published, proto));
	free(ents);
	return 0;
}

static int convert_ports(struct canon_ctx *c, struct node **slot)
{
	struct node *n = *slot;
	if (n->kind != NODE_SEQ)
		return wrong_type(c, n, KT_LIST_OBJ);
	struct node *out = node_new(c->a, NODE_SEQ, n);
	out->tag = n->tag;
	for (size_t i = 0; i < n->nr; i++) {
		struct node *it = n->items[i];
		size_t old = path_push_index(c, i);
		int rc = 0;
		if (it->kind == NODE_STR && c->keep_unparsed && strchr(it->str, '$')) {
			node_seq_push(c->a, out, it);
		} else if (it->kind == NODE_INT || it->kind == NODE_STR) {
			rc = parse_port_spec(c, it, scalar_go_text(c->a, it), out);
		} else if (it->kind == NODE_MAP) {
			rc = convert_obj(c, schema_port_keys, it);
			if (!rc && !node_map_get(it, "target"))
				rc = fail(c, it, "port is missing its \"target\"");
			node_seq_push(c->a, out, it);
		} else {
			rc = fail(c, it, "must be a port string, number or mapping, not %s", node_kind_name(it->kind));
		}
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
	}
	*slot = out;
	return 0;
}

/* ---- volumes ----------------------------------------------------------- */

static bool is_file_path(const char *s)
{
	return s[0] == '.' || s[0] == '/' || s[0] == '~' || (s[0] == '\\' && s[1] == '\\') ||
	       (isalpha((unsigned char)s[0]) && s[1] == ':');
}

static int parse_volume_spec(struct canon_ctx *c, const struct node *pos, const char *spec, struct node **out)
{
	struct node *m = node_new(c->a, NODE_MAP, pos);
	char *parts[3] = {NULL, NULL, NULL};
	size_t np = 0;
	size_t len = strlen(spec);
	if (!len)
		return fail(c, pos, "invalid empty volume spec");
	if (len <= 2) {
		parts[np++] = arena_strdup(c->a, spec);
	} else {
		const char *start = spec;
		for (const char *p = spec;; p++) {
			bool drive = *p == ':' && p - start == 1 && isalpha((unsigned char)*start);
			if (drive)
				continue;
			if (*p == ':' || !*p) {
				if (p == start)
					return fail(c, pos, "invalid volume \"%s\": empty section between colons",
						    spec);
				if (np == 3)
					return fail(c, pos, "invalid volume \"%s\": too many colons", spec);
				parts[np++] = arena_strndup(c->a, start, (size_t)(p - start));
				if (!*p)
					break;
				start = p + 1;
			}
		}
	}
	const char *source = np >= 2 ? parts[0] : NULL;
	const char *target = np >= 2 ? parts[1] : parts[0];
	bool bind = source && is_file_path(source);
	node_map_set(c->a, m, "type", node_new_str(c->a, bind ? "bind" : "volume", pos));
	if (source) {
		const char *src = bind ? path_resolve(c->a, c->base_dir, c->home, source) : source;
		node_map_set(c->a, m, "source", node_new_str(c->a, src, pos));
	}
	node_map_set(c->a, m, "target", node_new_str(c->a, path_join_clean(c->a, NULL, target), pos));
	struct node *bindobj = node_new(c->a, NODE_MAP, pos), *volobj = node_new(c->a, NODE_MAP, pos);
	if (np == 3) {
		char *opts = parts[2];
		for (char *o = opts; o && *o;) {
			char *comma = strchr(o, ',');
			if (comma)
				*comma = '\0';
			if (!strcmp(o, "ro"))
				node_map_set(c->a, m, "read_only", node_new_bool(c->a, true, pos));
			else if (!strcmp(o, "nocopy"))
				node_map_set(c->a, volobj, "nocopy", node_new_bool(c->a, true, pos));
			else if (!strcmp(o, "z") || !strcmp(o, "Z"))
				node_map_set(c->a, bindobj, "selinux", node_new_str(c->a, o, pos));
			else if (!strcmp(o, "shared") || !strcmp(o, "rshared") || !strcmp(o, "slave") ||
				 !strcmp(o, "rslave") || !strcmp(o, "private") || !strcmp(o, "rprivate"))
				node_map_set(c->a, bindobj, "propagation", node_new_str(c->a, o, pos));
			/* "rw" and unknown options are ignored, as compose-go does */
			o = comma ? comma + 1 : NULL;
		}
	}
	if (bind) {
		node_map_set(c->a, bindobj, "create_host_path", node_new_bool(c->a, true, pos));
		node_map_set(c->a, m, "bind", bindobj);
	} else {
		/* compose-go records z/Z and propagation options even on a named volume */
		if (bindobj->nr)
			node_map_set(c->a, m, "bind", bindobj);
		node_map_set(c->a, m, "volume", volobj);
	}
	/* compose-go keeps the key order of its struct: type, source, target, read_only, bind, volume */
	static const char *const order[] = {"type", "source", "target", "read_only", "bind", "volume"};
	struct node *sorted = node_new(c->a, NODE_MAP, pos);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct node *v = node_map_get(m, order[i]);
		if (v)
			node_map_set(c->a, sorted, order[i], v);
	}
	*out = sorted;
	return 0;
}

static int convert_volumes(struct canon_ctx *c, struct node **slot, const struct key_spec *sub)
{
	struct node *n = *slot;
	if (n->kind != NODE_SEQ)
		return wrong_type(c, n, KT_LIST_OBJ);
	for (size_t i = 0; i < n->nr; i++) {
		struct node *it = n->items[i];
		size_t old = path_push_index(c, i);
		int rc = 0;
		if (it->kind == NODE_STR && c->keep_unparsed && strchr(it->str, '$')) {
			/* kept as written */
		} else if (it->kind == NODE_STR) {
			rc = parse_volume_spec(c, it, it->str, &n->items[i]);
		} else if (it->kind == NODE_MAP) {
			rc = convert_obj(c, sub, it);
			struct node *type = node_map_get(it, "type");
			struct node *src = node_map_get(it, "source");
			struct node *tgt = node_map_get(it, "target");
			if (!rc && !type)
				rc = fail(c, it, "volume is missing its \"type\"");
			if (!rc && type && strcmp(type->str, "bind") && strcmp(type->str, "volume") &&
			    strcmp(type->str, "tmpfs") && strcmp(type->str, "npipe") && strcmp(type->str, "cluster") &&
			    strcmp(type->str, "image"))
				rc = fail(c, type, "invalid volume type \"%s\"", type->str);
			if (!rc && type && !strcmp(type->str, "bind") && src && src->kind == NODE_STR)
				node_map_set(
					c->a, it, "source",
					node_new_str(c->a, path_resolve(c->a, c->base_dir, c->home, src->str), src));
			/* long syntax keeps its target as written; only the short syntax is cleaned */
			(void)tgt;
		} else {
			rc = fail(c, it, "must be a volume string or mapping, not %s", node_kind_name(it->kind));
		}
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- file mounts (secrets, configs) ------------------------------------ */

static int convert_file_mounts(struct canon_ctx *c, struct node **slot, const struct key_spec *sub, bool secrets)
{
	struct node *n = *slot;
	if (n->kind != NODE_SEQ)
		return wrong_type(c, n, KT_LIST_OBJ);
	for (size_t i = 0; i < n->nr; i++) {
		struct node *it = n->items[i];
		size_t old = path_push_index(c, i);
		int rc = 0;
		if (node_is_scalar(it) && it->kind != NODE_NULL) {
			struct node *m = node_new(c->a, NODE_MAP, it);
			node_map_set(c->a, m, "source", as_str(c, it));
			n->items[i] = it = m;
		} else if (it->kind == NODE_MAP) {
			rc = convert_obj(c, sub, it);
		} else {
			rc = fail(c, it, "must be a name or a mapping, not %s", node_kind_name(it->kind));
		}
		if (!rc && secrets && !node_map_get(it, "target")) {
			struct node *src = node_map_get(it, "source");
			if (src)
				node_map_set(c->a, it, "target",
					     node_new_str(c->a, arena_strfmt(c->a, "/run/secrets/%s", src->str), it));
		}
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- depends_on, networks, models --------------------------------------- */

static struct node *name_keyed_map(struct canon_ctx *c, struct node *seq, int *rc)
{
	struct node *m = node_new(c->a, NODE_MAP, seq);
	m->tag = seq->tag;
	for (size_t i = 0; i < seq->nr; i++) {
		struct node *it = seq->items[i];
		if (!node_is_scalar(it) || it->kind == NODE_NULL) {
			size_t old = path_push_index(c, i);
			*rc = fail(c, it, "must be a name, not %s", node_kind_name(it->kind));
			strbuf_setlen(c->path, old);
			return NULL;
		}
		struct node *key = as_str(c, it);
		node_map_set_kv(c->a, m, key, node_new(c->a, NODE_NULL, it));
	}
	return m;
}

/* A list of names becomes a map of name -> null; a map stays; anything else is an error. */
static int names_as_map(struct canon_ctx *c, struct node *n, struct node **out, const char *what)
{
	int rc = 0;
	if (n->kind == NODE_SEQ) {
		*out = name_keyed_map(c, n, &rc);
		return rc;
	}
	if (n->kind != NODE_MAP)
		return fail(c, n, "must be a list of %s or a mapping, not %s", what, node_kind_name(n->kind));
	*out = n;
	return 0;
}

static int convert_depends_on(struct canon_ctx *c, struct node **slot, const struct key_spec *sub)
{
	struct node *n;
	int rc = names_as_map(c, *slot, &n, "service names");
	if (rc)
		return rc;
	for (size_t i = 0; i < n->nr; i++) {
		struct node *v = n->kvs[i].value;
		size_t old = path_push_key(c, n->kvs[i].key->str);
		if (v->kind == NODE_NULL && (*slot)->kind == NODE_SEQ) {
			v = node_new(c->a, NODE_MAP, v);
		} else if (v->kind != NODE_MAP) {
			rc = fail(c, v, "must be a mapping with \"condition\", not %s", node_kind_name(v->kind));
			strbuf_setlen(c->path, old);
			return rc;
		}
		rc = convert_obj(c, sub, v);
		if (!rc) {
			struct node *out = node_new(c->a, NODE_MAP, v);
			struct node *cond = node_map_get(v, "condition");
			if (cond && strcmp(cond->str, "service_started") && strcmp(cond->str, "service_healthy") &&
			    strcmp(cond->str, "service_completed_successfully"))
				rc = fail(c, cond,
					  "invalid condition \"%s\" (expected service_started, service_healthy or "
					  "service_completed_successfully)",
					  cond->str);
			node_map_set(c->a, out, "condition", cond ? cond : node_new_str(c->a, "service_started", v));
			if (node_map_get(v, "restart"))
				node_map_set(c->a, out, "restart", node_map_get(v, "restart"));
			struct node *req = node_map_get(v, "required");
			node_map_set(c->a, out, "required", req ? req : node_new_bool(c->a, true, v));
			n->kvs[i].value = out;
		}
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
	}
	*slot = n;
	return 0;
}

static int convert_named_objects(struct canon_ctx *c, struct node **slot, const struct key_spec *sub)
{
	struct node *n;
	int rc = names_as_map(c, *slot, &n, "names");
	if (rc)
		return rc;
	for (size_t i = 0; i < n->nr; i++) {
		struct node *v = n->kvs[i].value;
		if (v->kind == NODE_NULL)
			continue;
		size_t old = path_push_key(c, n->kvs[i].key->str);
		if (v->kind != NODE_MAP)
			rc = fail(c, v, "must be a mapping or null, not %s", node_kind_name(v->kind));
		else
			rc = convert_obj(c, sub, v);
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
	}
	*slot = n;
	return 0;
}

/* ---- build, extends, env_file, include ---------------------------------- */

static int convert_build(struct canon_ctx *c, struct node **slot, const struct key_spec *sub)
{
	struct node *n = *slot;
	if (node_is_scalar(n) && n->kind != NODE_NULL) {
		struct node *m = node_new(c->a, NODE_MAP, n);
		m->tag = n->tag;
		node_map_set(c->a, m, "context", as_str(c, n));
		n = m;
	} else if (n->kind != NODE_MAP) {
		return fail(c, n, "must be a build context path or a mapping, not %s", node_kind_name(n->kind));
	}
	int rc = convert_obj(c, sub, n);
	if (rc)
		return rc;
	struct node *ctx = node_map_get(n, "context");
	if (ctx && !is_remote_context(ctx->str))
		node_map_set(c->a, n, "context",
			     node_new_str(c->a, path_resolve(c->a, c->base_dir, c->home, ctx->str), ctx));
	struct node *addl = node_map_get(n, "additional_contexts");
	for (size_t i = 0; addl && i < addl->nr; i++) {
		struct node *v = addl->kvs[i].value;
		if (v->kind == NODE_STR && !is_remote_context(v->str) && !strstr(v->str, ":"))
			addl->kvs[i].value = node_new_str(c->a, path_resolve(c->a, c->base_dir, c->home, v->str), v);
	}
	*slot = n;
	return 0;
}

static int convert_extends(struct canon_ctx *c, struct node **slot, const struct key_spec *sub)
{
	struct node *n = *slot;
	if (node_is_scalar(n) && n->kind != NODE_NULL) {
		struct node *m = node_new(c->a, NODE_MAP, n);
		node_map_set(c->a, m, "service", as_str(c, n));
		*slot = m;
		return 0;
	}
	if (n->kind != NODE_MAP)
		return fail(c, n, "must be a service name or a mapping, not %s", node_kind_name(n->kind));
	int rc = convert_obj(c, sub, n);
	if (!rc && !node_map_get(n, "service"))
		rc = fail(c, n, "extends is missing its \"service\"");
	return rc;
}

static int convert_env_file(struct canon_ctx *c, struct node **slot, const struct key_spec *sub)
{
	struct node *n = *slot;
	if (node_is_scalar(n) && n->kind != NODE_NULL) {
		struct node *s = node_new(c->a, NODE_SEQ, n);
		s->tag = n->tag;
		node_seq_push(c->a, s, n);
		n = s;
	} else if (n->kind != NODE_SEQ) {
		return wrong_type(c, n, KT_STR_OR_LIST);
	}
	for (size_t i = 0; i < n->nr; i++) {
		struct node *it = n->items[i];
		size_t old = path_push_index(c, i);
		int rc = 0;
		struct node *m = NULL;
		if (node_is_scalar(it) && it->kind != NODE_NULL) {
			m = node_new(c->a, NODE_MAP, it);
			node_map_set(c->a, m, "path", as_str(c, it));
		} else if (it->kind == NODE_MAP) {
			m = it;
			rc = convert_obj(c, sub, m);
			if (!rc && !node_map_get(m, "path"))
				rc = fail(c, m, "env_file entry is missing its \"path\"");
		} else {
			rc = fail(c, it, "must be a path or a mapping, not %s", node_kind_name(it->kind));
		}
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
		struct node *p = node_map_get(m, "path");
		node_map_set(c->a, m, "path", node_new_str(c->a, path_resolve(c->a, c->base_dir, c->home, p->str), p));
		if (!node_map_get(m, "required"))
			node_map_set(c->a, m, "required", node_new_bool(c->a, true, m));
		n->items[i] = m;
	}
	*slot = n;
	return 0;
}

static int convert_include(struct canon_ctx *c, struct node **slot, const struct key_spec *sub)
{
	struct node *n = *slot;
	if (n->kind != NODE_SEQ)
		return wrong_type(c, n, KT_LIST_OBJ);
	for (size_t i = 0; i < n->nr; i++) {
		struct node *it = n->items[i];
		size_t old = path_push_index(c, i);
		int rc = 0;
		if (node_is_scalar(it) && it->kind != NODE_NULL) {
			struct node *m = node_new(c->a, NODE_MAP, it);
			struct node *s = node_new(c->a, NODE_SEQ, it);
			node_seq_push(c->a, s, as_str(c, it));
			node_map_set(c->a, m, "path", s);
			n->items[i] = it = m;
		} else if (it->kind == NODE_MAP) {
			rc = convert_obj(c, sub, it);
			if (!rc && !node_map_get(it, "path"))
				rc = fail(c, it, "include entry is missing its \"path\"");
		} else {
			rc = fail(c, it, "must be a path or a mapping, not %s", node_kind_name(it->kind));
		}
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
		struct node *paths = node_map_get(it, "path");
		for (size_t k = 0; k < paths->nr; k++)
			paths->items[k] = node_new_str(
				c->a, path_resolve(c->a, c->base_dir, c->home, paths->items[k]->str), paths->items[k]);
		struct node *envs = node_map_get(it, "env_file");
		for (size_t k = 0; envs && k < envs->nr; k++)
			envs->items[k] = node_new_str(
				c->a, path_resolve(c->a, c->base_dir, c->home, envs->items[k]->str), envs->items[k]);
		struct node *pd = node_map_get(it, "project_directory");
		if (pd)
			node_map_set(c->a, it, "project_directory",
				     node_new_str(c->a, path_resolve(c->a, c->base_dir, c->home, pd->str), pd));
	}
	return 0;
}

/* ---- ulimits, extra_hosts, healthcheck test ------------------------------ */

static int convert_ulimits(struct canon_ctx *c, struct node **slot, const struct key_spec *sub)
{
	struct node *n = *slot;
	if (n->kind != NODE_MAP)
		return wrong_type(c, n, KT_OBJ);
	for (size_t i = 0; i < n->nr; i++) {
		struct node **v = &n->kvs[i].value;
		size_t old = path_push_key(c, n->kvs[i].key->str);
		int rc;
		if ((*v)->kind == NODE_MAP) {
			rc = convert_obj(c, sub, *v);
			if (!rc && (!node_map_get(*v, "soft") || !node_map_get(*v, "hard")))
				rc = fail(c, *v, "ulimit needs both \"soft\" and \"hard\"");
		} else {
			rc = convert_scalar(c, KT_INT, v);
		}
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

/* Orders "host=ip" texts, ignoring the leading '=' form marker. */
static int str_ptr_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	return strcmp(x + (*x == '\x01'), y + (*y == '\x01'));
}

static int convert_extra_hosts(struct canon_ctx *c, struct node **slot)
{
	struct node *n = *slot;
	struct strvec_like {
		char **v;
		size_t nr, alloc;
	} list = {NULL, 0, 0};
	/* entries written with '=' are marked by a leading '\x01' until the nodes are made */
	if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->nr; i++) {
			struct node *it = n->items[i];
			if (!node_is_scalar(it) || it->kind == NODE_NULL) {
				size_t old = path_push_index(c, i);
				int rc = fail(c, it, "must be a \"host:ip\" string, not %s", node_kind_name(it->kind));
				strbuf_setlen(c->path, old);
				free(list.v);
				return rc;
			}
			const char *s = scalar_go_text(c->a, it);
			const char *sep = strchr(s, '=');
			bool eq = sep != NULL;
			if (!sep)
				sep = strchr(s, ':');
			if (!sep) {
				size_t old = path_push_index(c, i);
				int rc = fail(c, it, "invalid extra host \"%s\" (expected \"host:ip\" or \"host=ip\")",
					      s);
				strbuf_setlen(c->path, old);
				free(list.v);
				return rc;
			}
			ALLOC_GROW(list.v, list.nr + 1, list.alloc);
			list.v[list.nr++] =
				arena_strfmt(c->a, "%s%.*s=%s", eq ? "\x01" : "", (int)(sep - s), s, sep + 1);
		}
	} else if (n->kind == NODE_MAP) {
		for (size_t i = 0; i < n->nr; i++) {
			struct node *v = n->kvs[i].value;
			const char *host = n->kvs[i].key->str;
			if (v->kind == NODE_SEQ) {
				for (size_t k = 0; k < v->nr; k++) {
					ALLOC_GROW(list.v, list.nr + 1, list.alloc);
					list.v[list.nr++] = arena_strfmt(c->a, "\x01%s=%s", host,
									 scalar_go_text(c->a, v->items[k]));
				}
			} else if (node_is_scalar(v)) {
				ALLOC_GROW(list.v, list.nr + 1, list.alloc);
				list.v[list.nr++] = arena_strfmt(c->a, "\x01%s=%s", host, scalar_go_text(c->a, v));
			} else {
				free(list.v);
				return fail(c, v, "must be an address or a list of addresses");
			}
		}
	} else {
		return fail(c, n, "must be a list of \"host:ip\" strings or a mapping, not %s",
			    node_kind_name(n->kind));
	}
	if (list.nr > 1)
		qsort(list.v, list.nr, sizeof(*list.v), str_ptr_cmp);
	struct node *out = node_new(c->a, NODE_SEQ, n);
	out->tag = n->tag;
	for (size_t i = 0; i < list.nr; i++) {
		bool eq = list.v[i][0] == '\x01';
		struct node *e = node_new_str(c->a, list.v[i] + eq, n);
		if (eq)
			e->flags |= NODE_FLAG_EQ_FORM;
		node_seq_push(c->a, out, e);
	}
	free(list.v);
	*slot = out;
	return 0;
}

static int convert_health_test(struct canon_ctx *c, struct node **slot)
{
	struct node *n = *slot;
	if (n->kind == NODE_SEQ)
		return convert_strlist(c, slot, false);
	if (!node_is_scalar(n) || n->kind == NODE_NULL)
		return wrong_type(c, n, KT_CMD);
	struct node *s = node_new(c->a, NODE_SEQ, n);
	s->tag = n->tag;
	node_seq_push(c->a, s, node_new_str(c->a, "CMD-SHELL", n));
	node_seq_push(c->a, s, as_str(c, n));
	*slot = s;
	return 0;
}

static int convert_external(struct canon_ctx *c, struct node *resource, struct node **slot)
{
	struct node *n = *slot;
	if (n->kind == NODE_MAP) {
		struct node *ename = node_map_get(n, "name");
		struct node *name = node_map_get(resource, "name");
		if (ename) {
			if (c->warn) {
				/* named after the resource, as Docker Compose does: the path ends in ".external" */
				const char *dot = strrchr(c->path->buf, '.');
				int len = dot ? (int)(dot - c->path->buf) : (int)c->path->len;
				c->warn(c->warn_ctx,
					arena_strfmt(c->a,
						     "%.*s: external.name is deprecated. Please set name and "
						     "external: true",
						     len, c->path->buf));
			}
			if (name && strcmp(scalar_go_text(c->a, name), scalar_go_text(c->a, ename)))
				return fail(c, n, "name and external.name conflict; only use name");
			if (!name)
				node_map_set(c->a, resource, "name", as_str(c, ename));
		}
		*slot = node_new_bool(c->a, true, n);
		return 0;
	}
	return convert_scalar(c, KT_BOOL, slot);
}

/* ---- the walk ----------------------------------------------------------- */

/* How one list item is converted: an object by its table, or a scalar type. */
enum item_rule { ITEM_OBJ, ITEM_OBJ_OR_STR };

/* Converts every item of a list in place, with [i] in the key path. */
static int convert_items(struct canon_ctx *c, struct node *n, const struct key_spec *sub, enum item_rule rule)
{
	if (n->kind != NODE_SEQ)
		return wrong_type(c, n, KT_LIST_OBJ);
	for (size_t i = 0; i < n->nr; i++) {
		size_t old = path_push_index(c, i);
		int rc;
		if (n->items[i]->kind == NODE_MAP)
			rc = convert_obj(c, sub, n->items[i]);
		else if (rule == ITEM_OBJ_OR_STR)
			rc = convert_scalar(c, KT_STR, &n->items[i]);
		else
			rc = wrong_type(c, n->items[i], KT_OBJ);
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

static int convert_special(struct canon_ctx *c, const struct key_spec *spec, struct node **slot)
{
	switch (spec->special) {
	case SP_PORTS: return convert_ports(c, slot);
	case SP_SERVICE_VOLUMES: return convert_volumes(c, slot, spec->sub);
	case SP_SERVICE_SECRETS: return convert_file_mounts(c, slot, spec->sub, true);
	case SP_SERVICE_CONFIGS: return convert_file_mounts(c, slot, spec->sub, false);
	case SP_BUILD_SECRETS: return convert_file_mounts(c, slot, spec->sub, false);
	case SP_DEPENDS_ON: return convert_depends_on(c, slot, spec->sub);
	case SP_SERVICE_NETWORKS: return convert_named_objects(c, slot, spec->sub);
	case SP_MODELS: return convert_named_objects(c, slot, spec->sub);
	case SP_BUILD: return convert_build(c, slot, spec->sub);
	case SP_EXTENDS: return convert_extends(c, slot, spec->sub);
	case SP_ENV_FILE: return convert_env_file(c, slot, spec->sub);
	case SP_INCLUDE: return convert_include(c, slot, spec->sub);
	case SP_ULIMITS: return convert_ulimits(c, slot, spec->sub);
	case SP_EXTRA_HOSTS: return convert_extra_hosts(c, slot);
	case SP_HEALTH_TEST: return convert_health_test(c, slot);
	case SP_EXPOSE: return convert_strlist(c, slot, false);
	case SP_LABEL_FILE: return convert_strlist(c, slot, true);
	case SP_ATTACH: return convert_scalar(c, KT_BOOL, slot);
	case SP_DEVICES: return convert_items(c, *slot, spec->sub, ITEM_OBJ_OR_STR);
	case SP_GPUS:
		if (node_is_scalar(*slot))
			return convert_scalar(c, KT_STR, slot);
		return convert_items(c, *slot, spec->sub, ITEM_OBJ);
	default: return 0; /* free-form (provider) */
	}
}

static int convert(struct canon_ctx *c, const struct key_spec *spec, struct node **slot)
{
	struct node *n = *slot;
	if (n->tag == NODE_TAG_RESET)
		return 0; /* removed by the merge; its value does not matter */
	switch (spec->type) {
	case KT_ANY: return 0;
	case KT_STR:
	case KT_INT:
	case KT_BOOL:
	case KT_FLOAT:
	case KT_DURATION:
	case KT_BYTES: return convert_scalar(c, spec->type, slot);
	case KT_STRLIST: return convert_strlist(c, slot, false);
	case KT_STR_OR_LIST: return convert_strlist(c, slot, true);
	case KT_CMD: return convert_cmd(c, slot);
	case KT_KV: return convert_kv(c, slot, false);
	case KT_ENV: return convert_kv(c, slot, true);
	case KT_OBJ:
		if (n->kind == NODE_NULL)
			return 0;
		if (n->kind != NODE_MAP)
			return wrong_type(c, n, KT_OBJ);
		return convert_obj(c, spec->sub, n);
	case KT_MAP_OBJ:
		/* a top-level section must be a mapping; its entries may be null, but
		 * not services (compose-go: "services.a must be a mapping") */
		if (n->kind != NODE_MAP)
			return wrong_type(c, n, KT_MAP_OBJ);
		for (size_t i = 0; i < n->nr; i++) {
			struct node **v = &n->kvs[i].value;
			size_t old = path_push_key(c, n->kvs[i].key->str);
			int rc = 0;
			if ((*v)->kind == NODE_NULL && spec->sub == schema_service) {
				rc = wrong_type(c, *v, KT_OBJ);
			} else if ((*v)->kind == NODE_NULL) {
				struct node *m = node_new(c->a, NODE_MAP, *v);
				m->tag = (*v)->tag;
				*v = m;
			} else if ((*v)->kind != NODE_MAP) {
				rc = wrong_type(c, *v, KT_OBJ);
			} else {
				rc = convert_obj(c, spec->sub, *v);
			}
			strbuf_setlen(c->path, old);
			if (rc)
				return rc;
		}
		return 0;
	case KT_LIST_OBJ: return convert_items(c, n, spec->sub, ITEM_OBJ);
	case KT_SPECIAL: return convert_special(c, spec, slot);
	}
	return 0;
}

static int convert_obj(struct canon_ctx *c, const struct key_spec *table, struct node *n)
{
	for (size_t i = 0; i < n->nr; i++) {
		const char *key = n->kvs[i].key->str;
		if (!strncmp(key, "x-", 2))
			continue;
		const struct key_spec *spec = schema_find(table, key);
		if (!spec) {
			const struct node *k = n->kvs[i].key;
			return berth_error_set_at(c->err, BERTH_E_INVALID, k->file, k->line, k->col, c->path->buf,
						  "unknown key \"%s\"", key);
		}
		size_t old = path_push_key(c, key);
		int rc;
		if (spec->type == KT_SPECIAL && !spec->special && (!strcmp(key, "mode") || !strcmp(key, "count")))
			rc = !strcmp(key, "mode") ? convert_mode(c, &n->kvs[i].value) : 0;
		else if (!strcmp(key, "external") && spec->type == KT_SPECIAL)
			rc = convert_external(c, n, &n->kvs[i].value);
		else if (!strcmp(key, "ssh") && spec->type == KT_SPECIAL)
			rc = n->kvs[i].value->kind == NODE_MAP ? convert_kv(c, &n->kvs[i].value, false)
							       : convert_strlist(c, &n->kvs[i].value, true);
		else
			rc = convert(c, spec, &n->kvs[i].value);
		strbuf_setlen(c->path, old);
		if (rc)
			return rc;
	}
	return 0;
}

int compose_canonicalize(struct canon_ctx *c, struct node *root)
{
	if (root->kind != NODE_MAP)
		return berth_error_set_at(c->err, BERTH_E_INVALID, root->file, root->line, root->col, NULL,
					  "top-level object must be a mapping, not %s", node_kind_name(root->kind));
	int rc = convert_obj(c, schema_top, root);
	if (rc)
		return rc;
	/* file sources of top-level secrets and configs are relative to the file's directory */
	static const char *const kinds[] = {"secrets", "configs"};
	for (size_t k = 0; k < 2; k++) {
		struct node *defs = node_map_get(root, kinds[k]);
		for (size_t i = 0; defs && i < defs->nr; i++) {
			struct node *f = node_map_get(defs->kvs[i].value, "file");
			if (f && f->kind == NODE_STR)
				node_map_set(c->a, defs->kvs[i].value, "file",
					     node_new_str(c->a, path_resolve(c->a, c->base_dir, c->home, f->str), f));
		}
	}
	return 0;
}
