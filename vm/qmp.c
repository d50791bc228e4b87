#include "vm/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/proc.h"
#include "common/banned.h"

static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms - proc_now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = {.fd = fd, .events = events};
		int r = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0)
			return 1;
	}
}

static int connect_once(struct vm_qmp *q, const char *path, int64_t deadline_ms, bool *busy, struct berth_error *err);

int vm_qmp_connect(struct vm_qmp *q, const char *path, int64_t deadline_ms, struct berth_error *err)
{
	/* QEMU's QMP socket serves one client at a time and closes any other
	 * connection at once: another berth (a `status`, a `start`) may be
	 * talking to it. Try again until the deadline. */
	for (int i = 0;; i++) {
		bool busy = false;
		int rc = connect_once(q, path, deadline_ms, &busy, err);
		if (!rc || !busy || proc_now_ms() + 50 >= deadline_ms)
			return rc;
		berth_error_release(err);
		struct timespec ts = {0, (i < 10 ? 20 : 100) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static int connect_once(struct vm_qmp *q, const char *path, int64_t deadline_ms, bool *busy, struct berth_error *err)
{
	char eb[128];
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return berth_error_set(err, BERTH_E_LIMIT, "socket path \"%s\" is too long", path);
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return berth_error_set(err, BERTH_E_IO, "socket: %s", strerror_r(errno, eb, sizeof(eb)));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (e == EINPROGRESS || e == EAGAIN) {
			/* A unix socket with a full backlog: wait for it. */
			int r = wait_fd(fd, POLLOUT, deadline_ms);
			socklen_t sl = sizeof(e);
			if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 && e == 0)
				goto connected;
			if (r == 0) {
				close(fd);
				return berth_error_set(err, BERTH_E_TIMEOUT, "QMP socket \"%s\": connect timed out",
						       path);
			}
		}
		close(fd);
		return berth_error_set(err, e == ENOENT || e == ECONNREFUSED ? BERTH_E_NOTFOUND : BERTH_E_IO,
				       "cannot connect to QMP socket \"%s\": %s", path, strerror_r(e, eb, sizeof(eb)));
	}
connected:
	q->fd = fd;
	strbuf_reset(&q->in);
	/* The greeting ({"QMP": {...}}), then capability negotiation. */
	struct strbuf greeting = STRBUF_INIT;
	int rc = 0;
	for (;;) {
		size_t nl;
		char *p = memchr(q->in.buf, '\n', q->in.len);
		if (p) {
			nl = (size_t)(p - q->in.buf);
			strbuf_add(&greeting, q->in.buf, nl);
			memmove(q->in.buf, p + 1, q->in.len - nl - 1);
			strbuf_setlen(&q->in, q->in.len - nl - 1);
			break;
		}
		int r = wait_fd(fd, POLLIN, deadline_ms);
		if (r <= 0) {
			rc = berth_error_set(err, r == 0 ? BERTH_E_TIMEOUT : BERTH_E_IO,
					     "QMP socket \"%s\": no greeting from QEMU", path);
			break;
		}
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			*busy = true;
			rc = berth_error_set(err, BERTH_E_IO,
					     "QMP socket \"%s\": closed before the greeting (another client holds it)",
					     path);
			break;
		}
		if (q->in.len + (size_t)n > VM_QMP_LINE_MAX) {
			rc = berth_error_set(err, BERTH_E_LIMIT, "QMP greeting longer than %u bytes", VM_QMP_LINE_MAX);
			break;
		}
		strbuf_add(&q->in, buf, (size_t)n);
	}
	if (!rc && !strstr(greeting.buf, "\"QMP\""))
		rc = berth_error_set(err, BERTH_E_PARSE, "QMP socket \"%s\": unexpected greeting", path);
	strbuf_release(&greeting);
	if (!rc)
		rc = vm_qmp_execute(q, "qmp_capabilities", NULL, deadline_ms, err);
	if (rc)
		vm_qmp_close(q);
	return rc;
}

static int send_all(struct vm_qmp *q, const char *s, size_t len, int64_t deadline_ms, struct berth_error *err)
{
	char eb[128];
	while (len) {
		ssize_t n = send(q->fd, s, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int r = wait_fd(q->fd, POLLOUT, deadline_ms);
			if (r <= 0)
				return berth_error_set(err, r == 0 ? BERTH_E_TIMEOUT : BERTH_E_IO,
						       "QMP: send timed out");
			continue;
		}
		if (n < 0)
			return berth_error_set(err, BERTH_E_IO, "QMP: send: %s", strerror_r(errno, eb, sizeof(eb)));
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one line (without '\n') into line. */
static int read_line(struct vm_qmp *q, struct strbuf *line, int64_t deadline_ms, struct berth_error *err)
{
	char eb[128];
	for (;;) {
		char *p = memchr(q->in.buf, '\n', q->in.len);
		if (p) {
			size_t n = (size_t)(p - q->in.buf);
			strbuf_reset(line);
			strbuf_add(line, q->in.buf, n);
			memmove(q->in.buf, p + 1, q->in.len - n - 1);
			strbuf_setlen(&q->in, q->in.len - n - 1);
			return 0;
		}
		if (q->in.len > VM_QMP_LINE_MAX)
			return berth_error_set(err, BERTH_E_LIMIT, "QMP reply longer than %u bytes", VM_QMP_LINE_MAX);
		int r = wait_fd(q->fd, POLLIN, deadline_ms);
		if (r == 0)
			return berth_error_set(err, BERTH_E_TIMEOUT, "QMP: no reply in time");
		if (r < 0)
			return berth_error_set(err, BERTH_E_IO, "QMP: poll: %s", strerror_r(errno, eb, sizeof(eb)));
		char buf[4096];
		ssize_t n = read(q->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return berth_error_set(err, BERTH_E_IO, "QMP: read: %s", strerror_r(errno, eb, sizeof(eb)));
		if (n == 0)
			return berth_error_set(err, BERTH_E_IO, "QMP: QEMU closed the connection");
		strbuf_add(&q->in, buf, (size_t)n);
	}
}

int vm_qmp_execute(struct vm_qmp *q, const char *command, struct strbuf *ret, int64_t deadline_ms,
		   struct berth_error *err)
{
	if (q->fd < 0)
		return berth_error_set(err, BERTH_E_IO, "QMP: not connected");
	struct strbuf req = STRBUF_INIT, line = STRBUF_INIT;
	strbuf_addstr(&req, "{\"execute\": ");
	strbuf_add_json_string(&req, command, strlen(command));
	strbuf_addstr(&req, "}\n");
	int rc = send_all(q, req.buf, req.len, deadline_ms, err);
	/* Replies come in order; events may come before ours. A bounded number of
	 * lines: a guest flooding events cannot keep berth here past the deadline
	 * either, but the count makes the loop's end obvious. */
	for (int i = 0; !rc && i < 10000; i++) {
		rc = read_line(q, &line, deadline_ms, err);
		if (rc)
			break;
		strbuf_trim(&line);
		if (!line.len)
			continue;
		json_object *o = json_tokener_parse(line.buf), *v;
		if (!o || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			rc = berth_error_set(err, BERTH_E_PARSE, "QMP: a reply is not a JSON object");
			break;
		}
		if (json_object_object_get_ex(o, "return", &v)) {
			if (ret)
				strbuf_addstr(ret, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
			break;
		}
		if (json_object_object_get_ex(o, "error", &v)) {
			json_object *desc;
			const char *d =
				json_object_object_get_ex(v, "desc", &desc) ? json_object_get_string(desc) : "?";
			rc = berth_error_set(err, BERTH_E_ENGINE, "QMP %s: %s", command, d);
			json_object_put(o);
			break;
		}
		json_object_put(o); /* an event */
		if (i == 9999)
			rc = berth_error_set(err, BERTH_E_LIMIT, "QMP: no reply among 10000 events");
	}
	strbuf_release(&req);
	strbuf_release(&line);
	return rc;
}

void vm_qmp_close(struct vm_qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	strbuf_release(&q->in);
}

int vm_qmp_query_status(struct strbuf *status, const char *path, int64_t timeout_ms, struct berth_error *err)
{
	struct vm_qmp q = VM_QMP_INIT;
	struct strbuf ret = STRBUF_INIT;
	int64_t deadline = proc_now_ms() + timeout_ms;
	int rc = vm_qmp_connect(&q, path, deadline, err);
	if (!rc)
		rc = vm_qmp_execute(&q, "query-status", &ret, deadline, err);
	vm_qmp_close(&q);
	if (!rc) {
		json_object *o = json_tokener_parse(ret.buf), *v;
		if (o && json_object_object_get_ex(o, "status", &v) && json_object_is_type(v, json_type_string))
			strbuf_addstr(status, json_object_get_string(v));
		else
			rc = berth_error_set(err, BERTH_E_PARSE, "QMP query-status: no status in the reply");
		json_object_put(o);
	}
	strbuf_release(&ret);
	return rc;
}
