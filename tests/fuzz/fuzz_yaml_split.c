/* libFuzzer harness: split parsing (compose/yaml_load.c) must give exactly
 * the whole-file tree or the same error, on any input: the input as is, and
 * under a "services:" line so that the split is tried on its lines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/strbuf.h"
#include "tests/unit/compose/yaml_split_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *text, size_t len)
{
	struct strbuf why = STRBUF_INIT;
	bool split = false;
	if (split_check(text, len, &split, &why)) {
		fprintf(stderr, "split parse differs from the whole parse: %s\n", why.buf);
		abort();
	}
	strbuf_release(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check((const char *)data, size);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "services:\n  first:\n    image: x\n");
	strbuf_add(&sb, data, size);
	check(sb.buf, sb.len);
	strbuf_release(&sb);
	return 0;
}
