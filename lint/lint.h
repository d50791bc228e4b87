/* lint: what breaks when a compose project moves from Docker to nerdctl, Finch
 * or Podman. The rules are data (lint/rules.c); each finding names its rule,
 * the file:line:col of the offending node, the service and key, and a
 * suggested fix; rules with a safe fix also carry exact text edits that
 * lint_fix_plan() applies without touching comments or layout elsewhere. */
#ifndef BERTH_LINT_LINT_H
#define BERTH_LINT_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"
#include "common/strvec.h"
#include "compose/project.h"

struct berth_error;
struct lint_sources;

enum lint_severity {
	LINT_INFO = 0,
	LINT_WARNING = 1,
	LINT_ERROR = 2,
};

enum lint_target {
	LINT_TARGET_NERDCTL = 0,
	LINT_TARGET_FINCH,
	LINT_TARGET_DOCKER,
	LINT_TARGET_PODMAN,
	LINT_TARGET_COUNT,
};

/* "info", "warning", "error" / "nerdctl", "finch", "docker", "podman". */
const char *lint_severity_name(enum lint_severity s);
int lint_severity_parse(enum lint_severity *out, const char *s);
const char *lint_target_name(enum lint_target t);
int lint_target_parse(enum lint_target *out, const char *s);

/* Engine versions as "1.2.3" or "v1.2.3" (missing parts are 0, a suffix such
 * as "-rc.1" is ignored). Returns 0 or BERTH_E_INVALID. */
struct lint_version {
	int part[3];
};
int lint_version_parse(struct lint_version *out, const char *s);
int lint_version_cmp(const struct lint_version *a, const struct lint_version *b);

struct lint_options {
	/* files (-f; empty: discovery as `berth compose`), cwd, environ. The
	 * profiles are ignored: lint sees every service, as with --profile "*". */
	struct compose_options compose;
	enum lint_target target;      /* LINT_TARGET_NERDCTL unless set */
	const char *engine_version;   /* NULL: the newest release */
	struct strvec select;         /* codes or code prefixes; empty: all */
	struct strvec ignore;         /* codes or code prefixes */
	struct strvec mounts;         /* more directories the VM shares (Finch additional_directories) */
	const char *home;             /* NULL: HOME from compose.environ */
	const char *host_arch;        /* uname -m ("aarch64", "arm64", "x86_64"); NULL: unknown */
};
#define LINT_OPTIONS_INIT                                                                          \
	{ COMPOSE_OPTIONS_INIT, LINT_TARGET_NERDCTL, NULL, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, NULL, \
	  NULL }
void lint_options_release(struct lint_options *o);

/* Checks select/ignore/engine_version; BERTH_E_USAGE with a message when a
 * code matches no rule or the version does not parse. */
int lint_options_check(const struct lint_options *o, struct berth_error *err);

/* One replacement in a file's bytes: [start, end) becomes text. */
struct lint_edit {
	size_t start, end;
	char *text; /* owned */
};

struct lint_rule;
struct lint_finding {
	const struct lint_rule *rule;
	char *file;        /* owned; the path as loaded (absolute) */
	int line, col;     /* 1-based; col counts characters, as libyaml does */
	char *service;     /* owned; NULL for project-level findings */
	char *path;        /* owned; key path, such as services.web.ports */
	char *message;     /* owned; without the path */
	char *help;        /* owned; the suggested fix for this finding */
	struct lint_edit *edits; /* owned; a safe fix in `file`, or NULL */
	size_t edits_nr, edits_alloc;
};

struct lint_result {
	struct lint_finding *findings; /* sorted by file, line, col, code; no duplicates */
	size_t nr, alloc;
	struct strvec files;    /* the project's compose files (absolute) */
	struct strvec warnings; /* what the loader warned about */
	char *cwd;              /* owned; paths are shown relative to it */
	enum lint_target target;
	char *engine_version;   /* owned; NULL when not given */
	const struct lint_rule **rules; /* owned array of borrowed rules: those that ran */
	size_t rules_nr;
	struct lint_sources *sources;   /* owned; the texts the edits were computed against */
};
#define LINT_RESULT_INIT { NULL, 0, 0, STRVEC_INIT, STRVEC_INIT, NULL, LINT_TARGET_NERDCTL, NULL, NULL, 0, NULL }
void lint_result_release(struct lint_result *r);

/* Loads the project as `berth compose config` would and runs every rule that
 * applies to the target, engine version and select/ignore. Returns 0 (with or
 * without findings) or the loader's error (a file that does not parse, an
 * invalid model), which carries file:line:col. out is written on success only. */
int lint_run(struct lint_result *out, const struct lint_options *opt, struct berth_error *err);

/* Counts findings at or above a severity. */
size_t lint_count_at_least(const struct lint_result *r, enum lint_severity min);
/* Counts findings that carry edits. */
size_t lint_count_fixable(const struct lint_result *r);

/* file relative to cwd when it is inside it, else as is. Appends to out. */
void lint_display_path(struct strbuf *out, const struct lint_result *r, const char *file);

/* ---- fixes (lint/fix.c) ---------------------------------------------------- */

struct lint_file_change {
	char *path;          /* owned; absolute */
	struct strbuf before, after;
	size_t applied;      /* findings whose edits were applied */
	size_t skipped;      /* findings whose edits overlapped an earlier one */
};

/* Applies the edits of every finding, file by file, to the text the findings
 * were computed from. A finding whose edits overlap another's is skipped (the
 * next run fixes it). Files whose text changed on disk since lint_run are an
 * error. *out is an array of *nr changes, caller frees with
 * lint_file_changes_free(). Files without edits are not listed. */
int lint_fix_plan(struct lint_file_change **out, size_t *nr, const struct lint_result *r,
		  struct berth_error *err);
void lint_file_changes_free(struct lint_file_change *c, size_t nr);
/* Replaces c->path with c->after atomically: a temporary file in the same
 * directory, written, fsync'd, given the old file's mode, renamed over it. */
int lint_fix_write(const struct lint_file_change *c, struct berth_error *err);

/* Appends a unified diff (3 lines of context) of a -> b, or nothing when they
 * are equal. label_a/label_b are the ---/+++ names. */
void lint_diff_unified(struct strbuf *out, const char *label_a, const char *label_b, const char *a, size_t alen,
		       const char *b, size_t blen);

/* ---- output (lint/format_*.c) ---------------------------------------------- */

enum lint_format {
	LINT_FORMAT_TEXT = 0,
	LINT_FORMAT_JSON,
	LINT_FORMAT_SARIF,
	LINT_FORMAT_GITHUB,
};
int lint_format_parse(enum lint_format *out, const char *s);

/* compose.yaml:12:9: warning[BL003]: services.web.ports: message
 *     help: suggested fix */
void lint_format_text(struct strbuf *out, const struct lint_result *r);
/* ::warning file=compose.yaml,line=12,col=9,title=BL003::message (workflow commands) */
void lint_format_github(struct strbuf *out, const struct lint_result *r);
/* berth's own JSON (docs/lint-json-format.md). */
void lint_format_json(struct strbuf *out, const struct lint_result *r);
/* SARIF 2.1.0, with the rules that ran as reportingDescriptors. */
void lint_format_sarif(struct strbuf *out, const struct lint_result *r);

#endif
