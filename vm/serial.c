#include "vm/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/banned.h"

#define TAIL_READ (64u << 10)

void vm_serial_scan_init(struct vm_serial_scan *s, const char *boot_id)
{
	memset(s, 0, sizeof(*s));
	s->boot_id = xstrdup(boot_id ? boot_id : "");
	strbuf_init(&s->partial, 0);
	strvec_init(&s->hostkeys);
}

void vm_serial_scan_release(struct vm_serial_scan *s)
{
	free(s->boot_id);
	free(s->error);
	strbuf_release(&s->partial);
	strvec_clear(&s->hostkeys);
	memset(s, 0, sizeof(*s));
}

const char *vm_stage_name(enum vm_stage st)
{
	switch (st) {
	case VM_STAGE_FIRMWARE: return "firmware and kernel loading";
	case VM_STAGE_KERNEL: return "kernel booting";
	case VM_STAGE_SYSTEMD: return "systemd starting services";
	case VM_STAGE_SEED: return "seed (host keys, boot id, mounts)";
	case VM_STAGE_SERVICES: return "network, sshd and containerd";
	case VM_STAGE_READY: return "ready";
	}
	return "?";
}

static void advance(struct vm_serial_scan *s, enum vm_stage st)
{
	if (st > s->stage)
		s->stage = st;
}

/* Removes terminal escapes (ESC [ ... letter) and control characters in
 * place; returns the new length. systemd's status lines are coloured. */
static size_t clean_line(char *l, size_t n)
{
	size_t w = 0;
	for (size_t r = 0; r < n; r++) {
		unsigned char c = (unsigned char)l[r];
		if (c == 0x1b) {
			if (r + 1 < n && l[r + 1] == '[') {
				r += 2;
				while (r < n && !((l[r] >= '@' && l[r] <= '~')))
					r++;
			}
			continue;
		}
		if (c < 0x20 && c != '\t')
			continue;
		l[w++] = (char)c;
	}
	l[w] = '\0';
	return w;
}

/* "BERTH-XXX <id> rest": returns rest (may be "") when id is the boot id. */
static const char *berth_line(const char *l, const char *tag, const char *boot_id)
{
	size_t tn = strlen(tag), bn = strlen(boot_id);
	if (strncmp(l, tag, tn) || l[tn] != ' ')
		return NULL;
	l += tn + 1;
	if (strncmp(l, boot_id, bn) || (l[bn] != ' ' && l[bn] != '\0'))
		return NULL;
	l += bn;
	while (*l == ' ')
		l++;
	return l;
}

static void line(struct vm_serial_scan *s, char *l, size_t n)
{
	n = clean_line(l, n);
	while (n && (l[n - 1] == ' ' || l[n - 1] == '\t'))
		l[--n] = '\0';
	const char *b = l;
	while (*b == ' ')
		b++;
	if (n)
		advance(s, VM_STAGE_KERNEL);
	const char *rest;
	if (*s->boot_id && (rest = berth_line(b, "BERTH-READY", s->boot_id)) && !*rest) {
		s->ready = true;
		advance(s, VM_STAGE_READY);
		return;
	}
	if (*s->boot_id && (rest = berth_line(b, "BERTH-HOSTKEY", s->boot_id))) {
		const char *sp = strchr(rest, ' ');
		if (sp && sp != rest && sp[1] && !strchr(sp + 1, ' ') && s->hostkeys.nr < VM_SERIAL_HOSTKEYS_MAX)
			strvec_push(&s->hostkeys, rest);
		return;
	}
	if (((*s->boot_id && (rest = berth_line(b, "BERTH-ERROR", s->boot_id))) ||
	     (rest = berth_line(b, "BERTH-ERROR", "unknown"))) &&
	    !s->error) {
		s->error = xstrdup(*rest ? rest : "(no reason given)");
		return;
	}
	if (strstr(b, "Welcome to") || strstr(b, "systemd[1]"))
		advance(s, VM_STAGE_SYSTEMD);
	if (strstr(b, "berth-seed") || strstr(b, "per-boot seed"))
		advance(s, VM_STAGE_SEED);
	if (strstr(b, "berth-seed: boot id") || strstr(b, "berth-ready"))
		advance(s, VM_STAGE_SERVICES);
}

void vm_serial_scan_feed(struct vm_serial_scan *s, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t room = VM_SERIAL_LINE_MAX > s->partial.len ? VM_SERIAL_LINE_MAX - s->partial.len : 0;
		size_t take = (size_t)(le - p) < room ? (size_t)(le - p) : room;
		strbuf_add(&s->partial, p, take);
		if (!nl)
			break;
		line(s, s->partial.buf, s->partial.len);
		strbuf_reset(&s->partial);
		p = nl + 1;
	}
}

int vm_serial_scan_file(struct vm_serial_scan *s, const char *path, size_t cap, struct berth_error *err)
{
	char eb[128];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return berth_error_set(err, BERTH_E_IO, "cannot read \"%s\": %s", path,
				       strerror_r(errno, eb, sizeof(eb)));
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < s->offset) {
		/* The file was truncated (a new boot): start over. */
		s->offset = 0;
		strbuf_reset(&s->partial);
	}
	char buf[16384];
	size_t got = 0;
	while (got < cap) {
		size_t want = cap - got < sizeof(buf) ? cap - got : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)s->offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berth_error_set(err, BERTH_E_IO, "cannot read \"%s\": %s", path,
					       strerror_r(errno, eb, sizeof(eb)));
		if (n == 0)
			break;
		vm_serial_scan_feed(s, buf, (size_t)n);
		s->offset += (uint64_t)n;
		got += (size_t)n;
	}
	return 0;
}

void vm_serial_tail(struct strbuf *out, const char *path, int lines, const char *prefix)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0)
		return;
	off_t start = st.st_size > (off_t)TAIL_READ ? st.st_size - (off_t)TAIL_READ : 0;
	char *buf = xmalloc(TAIL_READ + 1);
	ssize_t n = pread(fd, buf, TAIL_READ, start);
	if (n <= 0) {
		free(buf);
		return;
	}
	/* Split into cleaned, non-empty lines, then keep the last ones. */
	struct strvec all = STRVEC_INIT;
	char *p = buf, *end = buf + n;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end;
		char *l = xstrndup(p, (size_t)(le - p));
		size_t ln = clean_line(l, strlen(l));
		while (ln && (l[ln - 1] == ' ' || l[ln - 1] == '\t'))
			l[--ln] = '\0';
		if (ln)
			strvec_push_nodup(&all, l);
		else
			free(l);
		p = nl ? nl + 1 : end;
	}
	size_t from = all.nr > (size_t)lines ? all.nr - (size_t)lines : 0;
	for (size_t i = from; i < all.nr; i++)
		strbuf_addf(out, "%s%s\n", prefix, all.v[i]);
	strvec_clear(&all);
	free(buf);
}
