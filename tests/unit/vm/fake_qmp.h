/* A fake QMP server for the vm unit tests: a thread that listens on a unix
 * socket, accepts `conns` connections one after the other, sends QEMU's
 * greeting, and answers qmp_capabilities, query-status (with `status`) and
 * system_powerdown (an event first, then the return, as QEMU 7.2 does);
 * anything else gets a GenericError. */
#ifndef BERTH_TEST_VM_FAKE_QMP_H
#define BERTH_TEST_VM_FAKE_QMP_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct fake_qmp {
	int listen_fd;
	int conns;
	const char *status;
	int powerdowns; /* result: system_powerdown requests seen */
	pthread_t th;
};

static void fake_qmp_send(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void *fake_qmp_main(void *arg)
{
	struct fake_qmp *f = arg;
	for (int c = 0; c < f->conns; c++) {
		int fd = accept(f->listen_fd, NULL, NULL);
		if (fd < 0)
			break;
		fake_qmp_send(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
				  "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n");
		char buf[4096];
		size_t len = 0;
		for (;;) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			buf[len] = '\0';
			char *nl;
			while ((nl = strchr(buf, '\n'))) {
				*nl = '\0';
				char reply[512];
				if (strstr(buf, "qmp_capabilities")) {
					fake_qmp_send(fd, "{\"return\": {}}\r\n");
				} else if (strstr(buf, "query-status")) {
					fake_qmp_send(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
							  "\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 0}}\r\n");
					snprintf(
						reply, sizeof(reply),
						"{\"return\": {\"status\": \"%s\", \"singlestep\": false, \"running\": "
						"true}}\r\n",
						f->status);
					fake_qmp_send(fd, reply);
				} else if (strstr(buf, "system_powerdown")) {
					f->powerdowns++;
					fake_qmp_send(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
							  "\"event\": \"POWERDOWN\"}\r\n{\"return\": {}}\r\n");
				} else {
					fake_qmp_send(fd, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
							  "\"The command nope has not been found\"}}\r\n");
				}
				len -= (size_t)(nl + 1 - buf);
				memmove(buf, nl + 1, len + 1);
			}
		}
		close(fd);
	}
	return NULL;
}

/* Listens on path and starts the thread. 0 or -1. */
static int fake_qmp_start(struct fake_qmp *f, const char *path, int conns, const char *status)
{
	struct sockaddr_un sa;
	memset(f, 0, sizeof(*f));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->listen_fd, 4) < 0)
		return -1;
	f->conns = conns;
	f->status = status;
	return pthread_create(&f->th, NULL, fake_qmp_main, f) ? -1 : 0;
}

static void fake_qmp_join(struct fake_qmp *f)
{
	pthread_join(f->th, NULL);
	close(f->listen_fd);
}

#endif
