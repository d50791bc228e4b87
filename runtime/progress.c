/* Progress lines for up/down/start/stop, whole lines under one lock. */
#include "runtime/progress.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "common/banned.h"

/* tty mode: the resources of the current block, redrawn in place on each
 * event (as Docker Compose's "[+] Running 3/3" view). */
struct entry {
	char *id; /* "Container p-web-1" */
	char *status;
	enum progress_state state;
	int64_t start_ms, end_ms;
};

struct progress {
	enum progress_mode mode;
	int fd;
	bool color;
	pthread_mutex_t lock;
	struct entry *v;
	size_t nr, alloc;
	size_t drawn; /* lines of the current block on screen */
};

int progress_parse_mode(const char *s, enum progress_mode *out)
{
	static const struct {
		const char *name;
		enum progress_mode mode;
	} modes[] = {
		{"auto", PROGRESS_AUTO}, {"tty", PROGRESS_TTY},     {"plain", PROGRESS_PLAIN},
		{"json", PROGRESS_JSON}, {"quiet", PROGRESS_QUIET},
	};
	if (!s) {
		*out = PROGRESS_AUTO;
		return 0;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(s, modes[i].name)) {
			*out = modes[i].mode;
			return 0;
		}
	return -1;
}

struct progress *progress_new(enum progress_mode mode, int fd)
{
	struct progress *p = xcalloc(1, sizeof(*p));
	if (mode == PROGRESS_AUTO)
		mode = isatty(fd) ? PROGRESS_TTY : PROGRESS_PLAIN;
	p->mode = mode;
	p->fd = fd;
	const char *nc = getenv("NO_COLOR");
	p->color = mode == PROGRESS_TTY && !(nc && *nc);
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

static void write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void block_clear(struct progress *p)
{
	for (size_t i = 0; i < p->nr; i++) {
		free(p->v[i].id);
		free(p->v[i].status);
	}
	p->nr = 0;
	p->drawn = 0;
}

void progress_finish(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	block_clear(p);
	pthread_mutex_unlock(&p->lock);
}

void progress_free(struct progress *p)
{
	if (!p)
		return;
	block_clear(p);
	free(p->v);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

bool progress_is_quiet(const struct progress *p)
{
	return !p || p->mode == PROGRESS_QUIET;
}

static void tty_line(struct progress *p, struct strbuf *sb, const struct entry *e, size_t width, int64_t now)
{
	const char *mark = e->state == PROGRESS_DONE      ? "\u2714"
			   : e->state == PROGRESS_ERROR   ? "\u2718"
			   : e->state == PROGRESS_WARNING ? "!"
							  : "\u280b";
	const char *col = e->state == PROGRESS_DONE      ? "\033[32m"
			  : e->state == PROGRESS_ERROR   ? "\033[31m"
			  : e->state == PROGRESS_WARNING ? "\033[33m"
							 : "\033[36m";
	int64_t ms = (e->end_ms ? e->end_ms : now) - e->start_ms;
	strbuf_addstr(sb, "\033[2K");
	if (p->color)
		strbuf_addf(sb, " %s%s\033[0m %-*s  %s%-10s\033[0m %5.1fs\n", col, mark, (int)width, e->id, col,
			    e->status, (double)ms / 1000.0);
	else
		strbuf_addf(sb, " %s %-*s  %-10s %5.1fs\n", mark, (int)width, e->id, e->status, (double)ms / 1000.0);
}

/* With the lock held: updates the block and redraws it where it was. */
static void tty_event(struct progress *p, const char *kind, const char *name, const char *status,
		      enum progress_state state, const char *detail)
{
	struct strbuf id = STRBUF_INIT;
	strbuf_addf(&id, "%s %s", kind, name);
	pthread_mutex_lock(&p->lock);
	struct entry *e = NULL;
	for (size_t i = 0; i < p->nr; i++)
		if (!strcmp(p->v[i].id, id.buf))
			e = &p->v[i];
	int64_t now = now_ms();
	if (!e) {
		ALLOC_GROW(p->v, p->nr + 1, p->alloc);
		e = &p->v[p->nr++];
		memset(e, 0, sizeof(*e));
		e->id = strbuf_detach(&id, NULL);
		e->start_ms = now;
	}
	free(e->status);
	e->status = detail ? xstrfmt("%s %s", status, detail) : xstrdup(status);
	e->state = state;
	e->end_ms = state == PROGRESS_WORKING ? 0 : now;
	size_t width = 0, done = 0;
	for (size_t i = 0; i < p->nr; i++) {
		if (strlen(p->v[i].id) > width)
			width = strlen(p->v[i].id);
		if (p->v[i].state != PROGRESS_WORKING)
			done++;
	}
	struct strbuf sb = STRBUF_INIT;
	if (p->drawn)
		strbuf_addf(&sb, "\033[%zuA", p->drawn);
	strbuf_addf(&sb, "\033[2K[+] Running %zu/%zu\n", done, p->nr);
	for (size_t i = 0; i < p->nr; i++)
		tty_line(p, &sb, &p->v[i], width, now);
	p->drawn = p->nr + 1;
	write_all(p->fd, sb.buf, sb.len);
	pthread_mutex_unlock(&p->lock);
	strbuf_release(&sb);
	strbuf_release(&id);
}

void progress_event(struct progress *p, const char *kind, const char *name, const char *status,
		    enum progress_state state, const char *detail)
{
	if (!p || p->mode == PROGRESS_QUIET)
		return;
	struct strbuf sb = STRBUF_INIT;
	if (p->mode == PROGRESS_JSON) {
		struct strbuf id = STRBUF_INIT;
		strbuf_addf(&id, "%s %s", kind, name);
		strbuf_addstr(&sb, "{\"id\":");
		strbuf_add_json_string(&sb, id.buf, id.len);
		strbuf_addstr(&sb, ",\"status\":");
		strbuf_add_json_string(&sb, status, strlen(status));
		if (state == PROGRESS_ERROR)
			strbuf_addstr(&sb, ",\"error\":true");
		if (detail) {
			strbuf_addstr(&sb, ",\"text\":");
			strbuf_add_json_string(&sb, detail, strlen(detail));
		}
		strbuf_addstr(&sb, "}\n");
		strbuf_release(&id);
	} else if (p->mode == PROGRESS_TTY) {
		tty_event(p, kind, name, status, state, detail);
		strbuf_release(&sb);
		return;
	} else {
		strbuf_addf(&sb, "%s %s  %s", kind, name, status);
		if (detail)
			strbuf_addf(&sb, " %s", detail);
		strbuf_addch(&sb, '\n');
	}
	pthread_mutex_lock(&p->lock);
	write_all(p->fd, sb.buf, sb.len);
	pthread_mutex_unlock(&p->lock);
	strbuf_release(&sb);
}
