#include "vm/dynlib.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/banned.h"

/* POSIX (dlsym) guarantees that a data pointer holds a function's address. */
_Static_assert(sizeof(void (*)(void)) == sizeof(void *), "function pointers must fit in void *");

static int load_error(struct berth_error *err, const struct vm_dynlib *lib, const char *why)
{
	return berth_error_set(
		err, BERTH_E_IO, "cannot load %s (needed by berth vm %s): %s; install %s (apt-get install %s)",
		lib->soname, lib->purpose, why && *why ? why : "unknown error", lib->package, lib->package);
}

/* dlopen() and dlsym() every symbol; the table is written only when all are found. */
static int open_and_resolve(struct vm_dynlib *lib, struct berth_error *err)
{
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return load_error(err, lib, dlerror());
	void **addr = xcalloc(lib->syms_nr ? lib->syms_nr : 1, sizeof(*addr));
	for (size_t i = 0; i < lib->syms_nr; i++) {
		if (lib->syms[i].offset + sizeof(void *) > lib->table_size)
			BUG("%s: %s lies outside its table", lib->soname, lib->syms[i].name);
		dlerror();
		addr[i] = dlsym(h, lib->syms[i].name);
		if (!addr[i]) {
			/* NULL without a dlerror() is a symbol whose value is NULL: as unusable. */
			const char *why = dlerror();
			struct strbuf sb = STRBUF_INIT;
			if (why)
				strbuf_addstr(&sb, why);
			else
				strbuf_addf(&sb, "%s: %s is NULL", lib->soname, lib->syms[i].name);
			int rc = load_error(err, lib, sb.buf);
			strbuf_release(&sb);
			free(addr);
			dlclose(h);
			return rc;
		}
	}
	for (size_t i = 0; i < lib->syms_nr; i++)
		memcpy((char *)lib->table + lib->syms[i].offset, &addr[i], sizeof(addr[i]));
	free(addr);
	return 0; /* h stays open: the table points into it */
}

int vm_dynlib_load(struct vm_dynlib *lib, struct berth_error *err)
{
	pthread_mutex_lock(&lib->mu);
	if (!lib->tried) {
		lib->tried = true;
		int r = open_and_resolve(lib, &lib->error);
		if (!r && lib->init) {
			r = lib->init(&lib->error);
			if (r && !lib->error.code)
				berth_error_set(&lib->error, r, "%s: initialisation failed", lib->soname);
		}
	}
	int rc = lib->error.code;
	if (rc)
		berth_error_set(err, rc, "%s", lib->error.msg);
	pthread_mutex_unlock(&lib->mu);
	return rc;
}
