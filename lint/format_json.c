/* Machine-readable lint output through json-c: berth's own JSON (documented
 * in docs/lint-json-format.md; a field is never removed or renamed within
 * version 1) and SARIF 2.1.0 for code-scanning tools. */
#include <json-c/json.h>
#include <string.h>

#include "lint/lint.h"
#include "lint/rules.h"
#include "lint/source.h"
#include "common/banned.h"

#define LINT_JSON_VERSION 1

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void put(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static void finish(struct strbuf *out, json_object *root)
{
	strbuf_addstr(out, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	strbuf_addch(out, '\n');
	json_object_put(root);
}

static const char *display(struct strbuf *tmp, const struct lint_result *r, const char *file)
{
	strbuf_reset(tmp);
	lint_display_path(tmp, r, file);
	return tmp->buf;
}

/* line/column of both ends of an edit, from the text it was computed against. */
static bool edit_region(const struct lint_result *r, const char *file, const struct lint_edit *e, int pos[4])
{
	const struct lint_source *src = r->sources ? lint_source_get(r->sources, file) : NULL;
	if (!src)
		return false;
	lint_source_linecol(src, e->start, &pos[0], &pos[1]);
	lint_source_linecol(src, e->end, &pos[2], &pos[3]);
	return true;
}

static json_object *json_edits(const struct lint_result *r, const struct lint_finding *f)
{
	json_object *edits = json_object_new_array();
	for (size_t k = 0; k < f->edits_nr; k++) {
		int pos[4];
		if (!edit_region(r, f->file, &f->edits[k], pos))
			continue;
		json_object *e = json_object_new_object();
		put(e, "start_line", json_object_new_int(pos[0]));
		put(e, "start_column", json_object_new_int(pos[1]));
		put(e, "end_line", json_object_new_int(pos[2]));
		put(e, "end_column", json_object_new_int(pos[3]));
		put(e, "text", jstr(f->edits[k].text));
		json_object_array_add(edits, e);
	}
	return edits;
}

void lint_format_json(struct strbuf *out, const struct lint_result *r)
{
	struct strbuf tmp = STRBUF_INIT;
	json_object *root = json_object_new_object();
	put(root, "version", json_object_new_int(LINT_JSON_VERSION));
	json_object *tool = json_object_new_object();
	put(tool, "name", jstr("berth"));
	put(tool, "version", jstr(BERTH_VERSION));
	put(root, "tool", tool);
	put(root, "target", jstr(lint_target_name(r->target)));
	put(root, "engine_version", jstr(r->engine_version));
	json_object *files = json_object_new_array();
	for (size_t i = 0; i < r->files.nr; i++)
		json_object_array_add(files, jstr(display(&tmp, r, r->files.v[i])));
	put(root, "files", files);
	json_object *rules = json_object_new_array();
	for (size_t i = 0; i < r->rules_nr; i++)
		json_object_array_add(rules, jstr(r->rules[i]->code));
	put(root, "rules", rules);
	json_object *list = json_object_new_array();
	size_t counts[3] = { 0, 0, 0 };
	for (size_t i = 0; i < r->nr; i++) {
		const struct lint_finding *f = &r->findings[i];
		json_object *o = json_object_new_object();
		counts[f->rule->severity]++;
		put(o, "code", jstr(f->rule->code));
		put(o, "name", jstr(f->rule->name));
		put(o, "severity", jstr(lint_severity_name(f->rule->severity)));
		put(o, "title", jstr(f->rule->title));
		put(o, "file", jstr(display(&tmp, r, f->file)));
		put(o, "line", json_object_new_int(f->line));
		put(o, "column", json_object_new_int(f->col));
		put(o, "service", jstr(f->service));
		put(o, "path", jstr(f->path));
		put(o, "message", jstr(f->message));
		put(o, "help", jstr(f->help));
		put(o, "fix", f->edits_nr ? json_edits(r, f) : NULL);
		json_object_array_add(list, o);
	}
	put(root, "findings", list);
	json_object *sum = json_object_new_object();
	put(sum, "error", json_object_new_int((int)counts[LINT_ERROR]));
	put(sum, "warning", json_object_new_int((int)counts[LINT_WARNING]));
	put(sum, "info", json_object_new_int((int)counts[LINT_INFO]));
	put(sum, "fixable", json_object_new_int((int)lint_count_fixable(r)));
	put(root, "summary", sum);
	finish(out, root);
	strbuf_release(&tmp);
}

/* ---- SARIF ------------------------------------------------------------------ */

/* RFC 3986: everything but unreserved characters and '/' percent-encoded. */
static void uri_path(struct strbuf *out, const char *p)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("-._~/", ch)) {
			strbuf_addch(out, ch);
		} else {
			strbuf_addch(out, '%');
			strbuf_addch(out, hex[ch >> 4]);
			strbuf_addch(out, hex[ch & 15]);
		}
	}
}

static json_object *artifact(const struct lint_result *r, const char *file, struct strbuf *tmp)
{
	json_object *a = json_object_new_object();
	struct strbuf uri = STRBUF_INIT;
	const char *shown = display(tmp, r, file);
	if (shown[0] == '/') {
		strbuf_addstr(&uri, "file://");
		uri_path(&uri, shown);
		put(a, "uri", jstr(uri.buf));
	} else {
		uri_path(&uri, shown);
		put(a, "uri", jstr(uri.buf));
		put(a, "uriBaseId", jstr("%SRCROOT%"));
	}
	strbuf_release(&uri);
	return a;
}

static const char *sarif_level(enum lint_severity s)
{
	return s == LINT_ERROR ? "error" : s == LINT_WARNING ? "warning" : "note";
}

static json_object *text_obj(const char *s)
{
	json_object *o = json_object_new_object();
	put(o, "text", jstr(s));
	return o;
}

void lint_format_sarif(struct strbuf *out, const struct lint_result *r)
{
	struct strbuf tmp = STRBUF_INIT;
	json_object *root = json_object_new_object();
	put(root, "$schema", jstr("https://json.schemastore.org/sarif-2.1.0.json"));
	put(root, "version", jstr("2.1.0"));
	json_object *run = json_object_new_object();
	json_object *driver = json_object_new_object();
	put(driver, "name", jstr("berth"));
	put(driver, "version", jstr(BERTH_VERSION));
	put(driver, "semanticVersion", jstr(BERTH_VERSION));
	json_object *rules = json_object_new_array();
	for (size_t i = 0; i < r->rules_nr; i++) {
		const struct lint_rule *ru = r->rules[i];
		json_object *d = json_object_new_object();
		put(d, "id", jstr(ru->code));
		put(d, "name", jstr(ru->name));
		put(d, "shortDescription", text_obj(ru->title));
		put(d, "fullDescription", text_obj(ru->explanation));
		put(d, "help", text_obj(ru->help));
		json_object *cfg = json_object_new_object();
		put(cfg, "level", jstr(sarif_level(ru->severity)));
		put(d, "defaultConfiguration", cfg);
		json_object *props = json_object_new_object();
		json_object *tags = json_object_new_array();
		json_object_array_add(tags, jstr("compose"));
		json_object_array_add(tags, jstr(lint_target_name(r->target)));
		put(props, "tags", tags);
		put(d, "properties", props);
		json_object_array_add(rules, d);
	}
	put(driver, "rules", rules);
	json_object *tool = json_object_new_object();
	put(tool, "driver", driver);
	put(run, "tool", tool);

	if (r->cwd && r->cwd[0] == '/') {
		struct strbuf base = STRBUF_INIT;
		strbuf_addstr(&base, "file://");
		uri_path(&base, r->cwd);
		if (base.buf[base.len - 1] != '/')
			strbuf_addch(&base, '/');
		json_object *bases = json_object_new_object(), *root_base = json_object_new_object();
		put(root_base, "uri", jstr(base.buf));
		put(bases, "%SRCROOT%", root_base);
		put(run, "originalUriBaseIds", bases);
		strbuf_release(&base);
	}

	json_object *results = json_object_new_array();
	for (size_t i = 0; i < r->nr; i++) {
		const struct lint_finding *f = &r->findings[i];
		json_object *res = json_object_new_object();
		put(res, "ruleId", jstr(f->rule->code));
		for (size_t k = 0; k < r->rules_nr; k++)
			if (r->rules[k] == f->rule)
				put(res, "ruleIndex", json_object_new_int((int)k));
		put(res, "level", jstr(sarif_level(f->rule->severity)));
		strbuf_reset(&tmp);
		if (f->path && *f->path)
			strbuf_addf(&tmp, "%s: ", f->path);
		strbuf_addstr(&tmp, f->message);
		put(res, "message", text_obj(tmp.buf));
		json_object *loc = json_object_new_object(), *phys = json_object_new_object(), *region = json_object_new_object();
		put(phys, "artifactLocation", artifact(r, f->file, &tmp));
		put(region, "startLine", json_object_new_int(f->line));
		put(region, "startColumn", json_object_new_int(f->col));
		put(phys, "region", region);
		put(loc, "physicalLocation", phys);
		json_object *locs = json_object_new_array();
		json_object_array_add(locs, loc);
		put(res, "locations", locs);
		if (f->edits_nr) {
			json_object *repls = json_object_new_array();
			for (size_t k = 0; k < f->edits_nr; k++) {
				int pos[4];
				if (!edit_region(r, f->file, &f->edits[k], pos))
					continue;
				json_object *rp = json_object_new_object(), *del = json_object_new_object();
				put(del, "startLine", json_object_new_int(pos[0]));
				put(del, "startColumn", json_object_new_int(pos[1]));
				put(del, "endLine", json_object_new_int(pos[2]));
				put(del, "endColumn", json_object_new_int(pos[3]));
				put(rp, "deletedRegion", del);
				put(rp, "insertedContent", text_obj(f->edits[k].text));
				json_object_array_add(repls, rp);
			}
			json_object *change = json_object_new_object();
			put(change, "artifactLocation", artifact(r, f->file, &tmp));
			put(change, "replacements", repls);
			json_object *changes = json_object_new_array();
			json_object_array_add(changes, change);
			json_object *fix = json_object_new_object();
			put(fix, "description", text_obj(f->help));
			put(fix, "artifactChanges", changes);
			json_object *fixes = json_object_new_array();
			json_object_array_add(fixes, fix);
			put(res, "fixes", fixes);
		}
		json_object_array_add(results, res);
	}
	put(run, "results", results);
	put(run, "columnKind", jstr("unicodeCodePoints"));
	json_object *runs = json_object_new_array();
	json_object_array_add(runs, run);
	put(root, "runs", runs);
	finish(out, root);
	strbuf_release(&tmp);
}
