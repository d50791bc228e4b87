/* libFuzzer harness: one input is one compose file, loaded through the whole
 * project pipeline (YAML, interpolation, canonical form, extends, merge,
 * normalisation, validation) and printed as JSON and YAML. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "compose/emit.h"
#include "compose/project.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *env[] = {"HOME=/home/fuzz", "SET=value", "EMPTY=", NULL};
	int fd = memfd_create("compose.yaml", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct compose_options opt = COMPOSE_OPTIONS_INIT;
	strvec_push(&opt.files, path);
	opt.environ = env;
	opt.cwd = "/tmp";
	opt.project_name = "fuzz";
	struct compose_project p = COMPOSE_PROJECT_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	if (compose_project_load(&p, &opt, &err) == 0) {
		struct strbuf out = STRBUF_INIT;
		struct emit_options eo = {.escape_dollar = true};
		compose_emit_json(&out, p.model, &eo);
		compose_emit_yaml(&out, p.model, &eo);
		strbuf_release(&out);
	} else {
		struct strbuf msg = STRBUF_INIT;
		berth_error_format(&err, &msg);
		strbuf_release(&msg);
	}
	berth_error_release(&err);
	compose_project_release(&p);
	compose_options_release(&opt);
	close(fd);
	return 0;
}
