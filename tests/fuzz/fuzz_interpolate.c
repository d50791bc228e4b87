/* libFuzzer harness: one input is one value to interpolate. Beyond memory
 * errors it checks the contract: out untouched on error, within the cap on
 * success, and unchanged text when there is no '$'. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "compose/envmap.h"
#include "compose/interpolate.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_warning(void *ctx, const char *msg)
{
	if (!*msg)
		abort();
	(*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct envmap env = ENVMAP_INIT;
	if (!env.nr) {
		envmap_set(&env, "SET", "value");
		envmap_set(&env, "EMPTY", "");
		envmap_set(&env, "DOLLAR", "${NOT_AGAIN} $$");
		envmap_set(&env, "A", "a");
		envmap_set(&env, "B", "bb");
		envmap_set(&env, "UNSET", NULL);
	}
	size_t warnings = 0;
	struct interp_options opt = { envmap_lookup, &env, count_warning, &warnings };
	struct strbuf out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	const char *in = (const char *)data;

	strbuf_addstr(&out, "prefix");
	int rc = compose_interpolate(&out, in, size, &opt, &err);
	if (rc) {
		if (rc != err.code || !err.msg || out.len != 6 || memcmp(out.buf, "prefix", 6))
			abort();
		if (rc != BERTH_E_INVALID && rc != BERTH_E_LIMIT)
			abort();
	} else {
		if (err.code || out.len - 6 > COMPOSE_INTERP_MAX_OUTPUT)
			abort();
		if (!compose_needs_interpolation(in, size) &&
		    (out.len != size + 6 || memcmp(out.buf + 6, in, size) || warnings))
			abort();
	}
	berth_error_release(&err);
	strbuf_release(&out);
	return 0;
}
