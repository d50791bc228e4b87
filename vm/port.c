#include "vm/port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/banned.h"

static int bind_loopback(int port, int *port_out)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	socklen_t sl = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return -errno;
	if (port_out)
		*port_out = ntohs(sa.sin_port);
	return 0;
}

int vm_port_pick(int *out, struct berth_error *err)
{
	char eb[128];
	/* The kernel's ephemeral range is above 1024 on every system berth runs
	 * on; a few tries guard against a privileged port on an odd setup. */
	for (int i = 0; i < 8; i++) {
		int port = 0, rc = bind_loopback(0, &port);
		if (rc < 0)
			return berth_error_set(err, BERTH_E_IO, "cannot bind a TCP socket on 127.0.0.1: %s",
					       strerror_r(-rc, eb, sizeof(eb)));
		if (port >= 1024) {
			*out = port;
			return 0;
		}
	}
	return berth_error_set(err, BERTH_E_IO, "no unprivileged free port found on 127.0.0.1");
}

int vm_port_is_free(int port)
{
	return bind_loopback(port, NULL) == 0;
}
