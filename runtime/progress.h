/* progress: what `up`, `down`, `start`... say while they work, one event per
 * state change of a resource ("Container p-web-1  Started"), safe to call
 * from the executor's threads. Modes follow Docker Compose's --progress:
 * plain lines (the default when not a TTY), tty (a block of resources
 * redrawn in place, with marks and times),
 * json (one object per line) and quiet. Written to stderr, as Compose does. */
#ifndef BERTH_RUNTIME_PROGRESS_H
#define BERTH_RUNTIME_PROGRESS_H

#include <stdbool.h>

enum progress_mode {
	PROGRESS_AUTO = 0,
	PROGRESS_TTY,
	PROGRESS_PLAIN,
	PROGRESS_JSON,
	PROGRESS_QUIET,
};

enum progress_state {
	PROGRESS_WORKING = 0, /* Creating, Starting, Waiting... */
	PROGRESS_DONE,        /* Created, Started, Healthy... */
	PROGRESS_ERROR,
	PROGRESS_WARNING,
};

struct progress;

/* "auto", "tty", "plain", "json", "quiet"; NULL is auto. -1 when unknown. */
int progress_parse_mode(const char *s, enum progress_mode *out);
/* fd is borrowed. AUTO resolves to TTY or PLAIN by isatty(fd). */
struct progress *progress_new(enum progress_mode mode, int fd);
void progress_free(struct progress *p);
/* kind: "Container", "Network", "Volume", "Image", "Service". detail may be NULL. */
void progress_event(struct progress *p, const char *kind, const char *name, const char *status,
		    enum progress_state state, const char *detail);
bool progress_is_quiet(const struct progress *p);
/* Ends the current tty block: later events start a new one below whatever
 * was printed meanwhile (attached logs). */
void progress_finish(struct progress *p);

#endif
