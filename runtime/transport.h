/* transport: how an engine argv reaches the engine. Local transport runs it
 * as a child process of berth; the VM's SSH transport (vm/) will run the same
 * argv on the guest, quoted once at the SSH boundary. Everything above this
 * interface builds argv vectors and reads bytes back, never shell strings. */
#ifndef BERTH_RUNTIME_TRANSPORT_H
#define BERTH_RUNTIME_TRANSPORT_H

#include <stdbool.h>

struct proc;
struct berth_error;

struct runtime_transport {
	const char *name; /* "local", "ssh" */
	/* Runs p (argv[0] = the engine binary, argv[1..] its arguments) with
	 * proc_run() semantics: stdio modes, line callbacks, deadline and
	 * cancel_fd are honoured, and the exit status comes back in p. */
	int (*run)(const struct runtime_transport *t, struct proc *p, struct berth_error *err);
	/* True when the engine's host is this machine: host paths (bind mounts,
	 * files the engine keeps) are the same on both sides. */
	bool same_host;
	void *data;
};

/* The local transport: proc_run() on this machine. */
extern const struct runtime_transport runtime_transport_local;

#endif
