/* port: a free TCP port on 127.0.0.1 for QEMU's SSH forward (hostfwd). The
 * port is found by binding port 0 and closing the socket, as Lima's freeport
 * does; another program may take it before QEMU binds it, so the caller
 * treats QEMU's "could not set up host forwarding" as a reason to pick again
 * (a bounded number of times). */
#ifndef BERTH_VM_PORT_H
#define BERTH_VM_PORT_H

struct berth_error;

/* Writes a port in 1024..65535 that was free a moment ago to *out. */
int vm_port_pick(int *out, struct berth_error *err);
/* True when something can bind 127.0.0.1:port right now. */
int vm_port_is_free(int port);

#endif
