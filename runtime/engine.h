/* engine: the one interface berth drives nerdctl, docker and podman through.
 * A dialect table per CLI (engine_nerdctl.c, engine_docker.c, engine_podman.c)
 * says what differs between them and their versions; everything else is one
 * code path. Engines always run as argv vectors through a transport, and state
 * always comes back as JSON (`inspect`, `--format json`), never scraped from
 * human output. */
#ifndef BERTH_RUNTIME_ENGINE_H
#define BERTH_RUNTIME_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "common/strvec.h"

struct berth_error;
struct proc;
struct runtime_transport;

enum engine_kind { ENGINE_NERDCTL = 0, ENGINE_DOCKER, ENGINE_PODMAN };

/* Who runs a service's healthcheck. */
enum engine_health {
	/* The engine runs it on its own and reports State.Health (docker). */
	ENGINE_HEALTH_NATIVE = 0,
	/* The engine stores the check and its state but its timers may not run
	 * (podman needs systemd for them): berth triggers single runs with
	 * health_run_argv while it waits, and the engine records the result. */
	ENGINE_HEALTH_TRIGGERED,
	/* The engine has no healthchecks at all (nerdctl < 2.1.5): berth runs the
	 * test with `exec` itself while waiting, and probes once for `ps`. */
	ENGINE_HEALTH_BERTH,
};

/* How network aliases (and the service name) reach other containers. */
enum engine_aliases {
	/* --network-alias on the first network; other networks are attached with
	 * `network connect --alias` before start (docker, API < 1.44). */
	ENGINE_ALIASES_FLAG = 0,
	/* --network NAME:alias=a,alias=b, one per network (podman >= 4). */
	ENGINE_ALIASES_INLINE,
	/* No alias support (nerdctl): --hostname is the service name, so its
	 * /etc/hosts store lists it; other aliases are written by berth into each
	 * container's /etc/hosts outside nerdctl's managed <nerdctl> block. */
	ENGINE_ALIASES_HOSTS,
};

struct engine_caps {
	enum engine_health health;
	enum engine_aliases aliases;
	bool multi_network_create;    /* several --network accepted by create/run */
	bool health_flags;            /* create accepts --health-cmd & co */
	bool run_d_no_stdin;          /* `run -d` refuses -i: create, then start (nerdctl 1.7) */
	bool network_connect;         /* `network connect` exists */
	bool image_health_in_history; /* image HEALTHCHECK only visible in history (nerdctl) */
	const char *pull_never;       /* flag that keeps run/create from pulling, or NULL */
	/* Creating a container that must wait for its dependencies before they
	 * are ready pays off: docker's CLI is light and the daemon works in
	 * parallel. podman and nerdctl do most of their work in the CLI process,
	 * where a second process per container costs more than it saves. */
	bool split_create_start;
	/* rm of several containers in one command goes one after the other in
	 * the CLI (nerdctl 1.7: 30 removals take 4.5 s): berth spreads a removal
	 * batch over a few commands. docker's and podman's CLIs run the
	 * containers of one command in parallel themselves. */
	bool batch_serial;
};

struct engine;

struct engine_dialect {
	enum engine_kind kind;
	const char *name;        /* "nerdctl" */
	const char *binary;      /* program to run */
	struct engine_caps caps; /* for the newest version berth knows */
	/* Fills e->version* from `<binary> version --format {{json .}}` output;
	 * BERTH_E_ENGINE when it shows the engine is not answering. */
	int (*parse_version)(struct engine *e, const char *json, struct berth_error *err);
	/* Adjusts e->caps for e->version (called after parse_version). */
	void (*version_caps)(struct engine *e);
	/* argv (without the binary) that runs one healthcheck now, for
	 * ENGINE_HEALTH_TRIGGERED; exit 0 = healthy. */
	void (*health_run_argv)(struct strvec *out, const char *container);
};

extern const struct engine_dialect engine_dialect_nerdctl;
extern const struct engine_dialect engine_dialect_docker;
extern const struct engine_dialect engine_dialect_podman;

struct engine {
	const struct engine_dialect *d;
	const struct runtime_transport *t;
	struct engine_caps caps;
	char *version;      /* owned: "1.7.7", "20.10.24", "4.3.1" */
	int ver[3];         /* parsed major.minor.patch */
	char *api_version;  /* owned; docker only, may be NULL */
	int timeout_ms;     /* deadline for short commands (inspect, rm ...) */
	const char *binary; /* d->binary unless overridden (tests) */
	/* Named by the user but its version not asked yet: caps are the
	 * dialect's defaults until engine_resolve_version() (which `up` runs
	 * alongside its first state reads, saving an engine start-up). */
	bool version_pending;
};

/* Finds the dialect for "nerdctl", "docker" or "podman"; NULL otherwise. */
const struct engine_dialect *engine_dialect_by_name(const char *name);

/* Picks the engine: name (from --engine) if set, else $BERTH_ENGINE (env
 * may be NULL), else the first of nerdctl, docker, podman that is on PATH
 * and answers `version`. Fills out (caller releases with engine_release).
 * BERTH_E_NOTFOUND names what was tried. */
int engine_detect(struct engine *out, const char *name, const char *env_name, const struct runtime_transport *t,
		  struct berth_error *err);
/* Sets up out for dialect d and version string ver without running anything
 * (unit tests, and the VM path which knows its engine). */
void engine_init_static(struct engine *out, const struct engine_dialect *d, const char *ver,
			const struct runtime_transport *t);
void engine_release(struct engine *e);
/* The engine named by name or env_name (as engine_detect()), without running
 * it yet: version_pending is set. 1 when neither names one (detect instead). */
int engine_init_named(struct engine *out, const char *name, const char *env_name, const struct runtime_transport *t,
		      struct berth_error *err);
/* Asks a pending engine its version and sets its caps; no-op otherwise.
 * BERTH_E_NOTFOUND/ENGINE when it does not answer. */
int engine_resolve_version(struct engine *e, struct berth_error *err);
/* "1.7.7" -> {1,7,7}; missing parts are 0; a leading 'v' is skipped. */
void engine_parse_semver(int out[3], const char *s);
/* True when e->ver >= maj.min.patch. */
bool engine_version_at_least(const struct engine *e, int maj, int min, int patch);

/* Prepares p to run the engine with args (binary prepended): stdin from
 * /dev/null, its own process group (a terminal's Ctrl-C must not reach an
 * engine half-way through creating a container: berth decides when to stop). */
void engine_proc_init(const struct engine *e, struct proc *p, const struct strvec *args);
/* Runs p through the transport. */
int engine_proc_run(const struct engine *e, struct proc *p, struct berth_error *err);

/* Runs args; on exit 0 appends stdout to out (out may be NULL). A failure is
 * BERTH_E_ENGINE quoting the engine's own message (its stderr, trimmed). With
 * keep_output, stdout is appended even when the engine failed (inspect of
 * several objects prints those it found, then fails for the rest).
 * timeout_ms 0 = e->timeout_ms; < 0 = none. */
int engine_run(const struct engine *e, struct strbuf *out, const struct strvec *args, int timeout_ms, bool keep_output,
	       struct berth_error *err);
/* Same with a NULL-terminated list of arguments. */
int engine_runl(const struct engine *e, struct strbuf *out, struct berth_error *err, ...) __attribute__((sentinel));

/* ---- state read back from the engine ---- */

struct engine_port {
	char *host_ip; /* "" when the engine did not say */
	int host_port; /* 0 when not published */
	int target;
	char proto[8]; /* "tcp", "udp", "sctp" */
};

struct engine_container {
	char *id, *name; /* name without docker's leading '/' */
	char *project, *service;
	int number; /* com.docker.compose.container-number, 0 when absent */
	bool oneoff;
	char *config_hash; /* may be NULL */
	char *image_label; /* com.docker.compose.image, may be NULL */
	char *image;       /* Config.Image as the engine shows it */
	char *state;       /* created, running, paused, restarting, exited, dead */
	int exit_code;
	char *health;                             /* "", starting, healthy, unhealthy */
	char *created, *started_at, *finished_at; /* RFC 3339, may be "" */
	char *command;                            /* Path + Args, shell-quoted for display */
	struct strvec networks;                   /* engine network names the container is on */
	struct strvec ips;                        /* IPv4 per network (same order), "" when unknown */
	struct engine_port *ports;
	size_t ports_nr;
	struct strvec label_keys, label_values; /* all labels, same order */
};

struct engine_container_list {
	struct engine_container *v;
	size_t nr, alloc;
};

void engine_container_list_release(struct engine_container_list *l);
/* The value of a label, or NULL. Borrowed from c. */
const char *engine_container_label(const struct engine_container *c, const char *key);
bool engine_container_running(const struct engine_container *c);

/* Parses a JSON array of `inspect` objects (any of the three engines) and
 * appends them to out. Objects that are not containers are skipped. */
int engine_parse_inspect(const struct engine *e, struct engine_container_list *out, const char *json,
			 struct berth_error *err);
/* Every container labelled com.docker.compose.project=project (all states),
 * inspected. */
int engine_list_containers(const struct engine *e, const char *project, struct engine_container_list *out,
			   struct berth_error *err);
/* Inspects the given containers (ids or names); those gone are skipped. */
int engine_inspect_containers(const struct engine *e, const struct strvec *ids, struct engine_container_list *out,
			      struct berth_error *err);

/* Names of all networks (kind "network") or volumes (kind "volume"). */
int engine_list_names(const struct engine *e, const char *kind, struct strvec *out, struct berth_error *err);
/* Parses `network ls`/`volume ls --format json` output: one object per line
 * (docker, nerdctl) or one array (podman); key Name or name. */
int engine_parse_names(struct strvec *out, const char *json, struct berth_error *err);

/* The image's ID ("sha256:..."), or BERTH_E_NOTFOUND when the engine does not
 * have it. id is appended to out. */
int engine_image_id(const struct engine *e, const char *image, struct strbuf *out, struct berth_error *err);

/* A healthcheck read from an image (tests and timings are what matter). */
struct engine_healthcheck {
	struct strvec test; /* ["CMD-SHELL", "..."] or ["CMD", ...]; empty = none */
	int64_t interval_ns, timeout_ns, start_period_ns;
	int retries;
};
void engine_healthcheck_release(struct engine_healthcheck *h);
/* The image's own HEALTHCHECK: from Config.Healthcheck, or for engines that
 * drop it (caps.image_health_in_history) from the build history line docker
 * writes ("HEALTHCHECK &{[\"CMD-SHELL\" \"...\"] \"2s\" \"2s\" \"10s\" '\x03'}").
 * out->test stays empty when the image has none. */
int engine_image_healthcheck(const struct engine *e, const char *image, struct engine_healthcheck *out,
			     struct berth_error *err);
/* Parses docker's history form of a HEALTHCHECK (the text after "HEALTHCHECK ").
 * Exposed for tests. */
int engine_parse_history_healthcheck(struct engine_healthcheck *out, const char *s);

#endif
