/* vm/port.c: a free loopback port for the SSH forward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "vm/port.h"
#include "common/banned.h"

static void test_pick(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	int seen[16];
	for (int i = 0; i < 16; i++) {
		int port = 0;
		assert_int_equal(vm_port_pick(&port, &err), 0);
		assert_true(port >= 1024 && port <= 65535);
		/* Free right after the pick: QEMU can bind it. */
		assert_true(vm_port_is_free(port));
		seen[i] = port;
	}
	/* The kernel hands out different ports, so two instances rarely race. */
	int distinct = 0;
	for (int i = 0; i < 16; i++) {
		int dup = 0;
		for (int j = 0; j < i; j++)
			dup |= seen[j] == seen[i];
		distinct += !dup;
	}
	assert_true(distinct > 1);
}

static void test_taken(void **state)
{
	/* A port someone listens on is not free. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	socklen_t sl = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	int port = ntohs(sa.sin_port);
	assert_false(vm_port_is_free(port));
	close(fd);
	assert_true(vm_port_is_free(port));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
