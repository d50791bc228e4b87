/* ssh_transport: runtime/transport.h's interface over SSH to a berth VM, so
 * that the executor runs the same engine argv in the guest that it would run
 * locally: argv in; exit status, stdout and stderr (separate) out; stdio
 * modes, line callbacks, deadline and cancel_fd honoured (vm/ssh.h).
 *
 * A handshake costs seconds on an emulated guest, so connections are kept in
 * a pool and reused: each run takes an idle session (or opens one, up to
 * max_sessions at once; the executor's threads then run in parallel on
 * separate connections, each used by one thread at a time) and gives it
 * back. A session that fails before its command started is replaced and the
 * run retried once; after the command started, the failure is returned (it
 * must not run twice). Keepalives run while a command runs. */
#ifndef BERTH_VM_SSH_TRANSPORT_H
#define BERTH_VM_SSH_TRANSPORT_H

#include "runtime/transport.h"

struct berth_error;
struct vm_env;

#define VM_SSH_POOL_MAX 8 /* sshd's MaxSessions is per connection; this is connections */

/* Opens a transport to the running, ready instance name. Free with
 * vm_ssh_transport_free(). max_sessions 0 = VM_SSH_POOL_MAX. */
int vm_ssh_transport_open(struct runtime_transport **out, const struct vm_env *e, const char *name, int max_sessions,
			  struct berth_error *err);
void vm_ssh_transport_free(struct runtime_transport *t);

#endif
