/* libFuzzer harness: one input is one .env file. Beyond memory errors it
 * checks that the map given in is untouched on error and that every error
 * carries a message and a line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "compose/dotenv.h"
#include "compose/envmap.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore_warning(void *ctx, const char *msg)
{
	if (!*msg)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct envmap shell = ENVMAP_INIT;
	if (!shell.nr) {
		envmap_set(&shell, "HOME", "/home/fuzz");
		envmap_set(&shell, "SET", "value");
		envmap_set(&shell, "EMPTY", "");
	}
	struct interp_options opt = { envmap_lookup, &shell, ignore_warning, NULL };
	struct envmap out = ENVMAP_INIT;
	struct berth_error err = BERTH_ERROR_INIT;

	envmap_set(&out, "EARLIER", "file");
	int rc = compose_dotenv_parse_opts(&out, "fuzz.env", (const char *)data, size, &opt, &err);
	if (rc) {
		if (rc != err.code || !err.msg || !err.file || err.line < 1 || out.nr != 1)
			abort();
	} else {
		if (err.code || !envmap_get(&out, "EARLIER"))
			abort();
		for (size_t i = 0; i < out.nr; i++)
			if (!out.items[i].key || !out.items[i].value ||
			    envmap_find(&out, out.items[i].key) != &out.items[i])
				abort();
	}
	berth_error_release(&err);
	envmap_release(&out);
	return 0;
}
