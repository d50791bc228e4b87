/* dynlib: shared libraries that only `berth vm` needs (libcurl, libssh2),
 * loaded with dlopen() on first use rather than linked, so that every other
 * berth command starts without them and their ~30 dependencies. This module
 * knows no library: vm/http.c and vm/ssh.c (the only files that include
 * curl.h and libssh2.h) each describe theirs with a struct vm_dynlib whose
 * table is a struct of function pointers typed with the library's own
 * prototypes (typeof), so calls through it are checked as direct calls are. */
#ifndef BERTH_VM_DYNLIB_H
#define BERTH_VM_DYNLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct vm_dynlib_sym {
	const char *name; /* "curl_easy_init" */
	size_t offset;    /* of its function pointer in the table */
};

struct vm_dynlib {
	/* What to load; constant. */
	const char *soname;  /* "libcurl.so.4" */
	const char *purpose; /* "to download images": why berth vm needs it, for the error */
	const char *package; /* "libcurl4": the Debian package to install */
	const struct vm_dynlib_sym *syms;
	size_t syms_nr;
	void *table; /* filled with every symbol's address once all are found */
	size_t table_size;
	/* Called once after loading (curl_global_init, libssh2_init); may be NULL. */
	int (*init)(struct berth_error *err);

	/* State: initialise with VM_DYNLIB_STATE_INIT. */
	pthread_mutex_t mu;
	bool tried;
	struct berth_error error; /* why the library is unusable; kept for the life of the process */
};

#define VM_DYNLIB_STATE_INIT .mu = PTHREAD_MUTEX_INITIALIZER, .tried = false, .error = BERTH_ERROR_INIT

/* Loads lib on the first call (RTLD_NOW | RTLD_LOCAL, then lib->init) and
 * returns 0 from then on; thread-safe. When the library or one of its symbols
 * is missing, this and every later call fails with the same error:
 * BERTH_E_IO, "cannot load libcurl.so.4 (needed by berth vm to download
 * images): <dlerror>; install libcurl4 (apt-get install libcurl4)"; when init
 * fails, with init's error. A loaded library stays loaded until exit. */
int vm_dynlib_load(struct vm_dynlib *lib, struct berth_error *err);

#endif
