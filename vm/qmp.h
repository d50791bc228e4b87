/* qmp: a minimal client for QEMU's machine protocol on the instance's unix
 * socket (qmp.sock): greeting, qmp_capabilities, then one command at a time.
 * Asynchronous events (POWERDOWN, SHUTDOWN...) arriving between are skipped.
 * Every read and write has a deadline; replies are capped. */
#ifndef BERTH_VM_QMP_H
#define BERTH_VM_QMP_H

#include <stdint.h>

#include "common/strbuf.h"

struct berth_error;

#define VM_QMP_LINE_MAX (256u << 10)

struct vm_qmp {
	int fd;           /* -1 when closed */
	struct strbuf in; /* bytes read and not yet consumed */
};

#define VM_QMP_INIT                                                                                                    \
	{                                                                                                              \
		-1, STRBUF_INIT                                                                                        \
	}

/* Connects, reads the greeting and negotiates capabilities. deadline_ms is
 * on proc_now_ms()'s clock. QEMU serves one QMP client at a time and drops
 * the others: a dropped connection is retried until the deadline.
 * BERTH_E_NOTFOUND when the socket does not exist or nothing listens on it
 * (QEMU is gone); BERTH_E_TIMEOUT. */
int vm_qmp_connect(struct vm_qmp *q, const char *path, int64_t deadline_ms, struct berth_error *err);
/* Sends {"execute": command} and appends the JSON text of the "return" value
 * to ret (when not NULL). A QMP "error" reply is BERTH_E_ENGINE with its desc. */
int vm_qmp_execute(struct vm_qmp *q, const char *command, struct strbuf *ret, int64_t deadline_ms,
		   struct berth_error *err);
void vm_qmp_close(struct vm_qmp *q);

/* Connect + query-status + close: appends the run state ("running",
 * "paused", "shutdown", "guest-panicked", "io-error", ...) to status. */
int vm_qmp_query_status(struct strbuf *status, const char *path, int64_t timeout_ms, struct berth_error *err);

#endif
