/* berth compose config: prints the canonical model as Docker Compose does. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/compose_cmds.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "compose/emit.h"
#include "common/banned.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_names(struct strbuf *out, const struct node *map)
{
	for (size_t i = 0; map && i < map->nr; i++)
		strbuf_addf(out, "%s\n", map->kvs[i].key->str);
}

/* Writes data to path atomically: a temporary file beside it, then rename. */
static int write_output(const char *path, const struct strbuf *data)
{
	if (!path || !strcmp(path, "-")) {
		return fwrite(data->buf, 1, data->len, stdout) == data->len ? 0 : -1;
	}
	struct strbuf tmp = STRBUF_INIT;
	strbuf_addf(&tmp, "%s.berth-tmp", path);
	int fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = -1;
	if (fd >= 0) {
		rc = write(fd, data->buf, data->len) == (ssize_t)data->len && fsync(fd) == 0 ? 0 : -1;
		close(fd);
		if (!rc)
			rc = rename(tmp.buf, path);
	}
	if (rc) {
		fprintf(stderr, "berth: cannot write \"%s\": %s\n", path, strerror(errno));
		unlink(tmp.buf);
	}
	strbuf_release(&tmp);
	return rc;
}

int compose_cmd_config(struct compose_cli *cc, int argc, char **argv)
{
	const char *format = "yaml", *output = NULL, *v;
	bool services = false, volumes = false, images = false, profiles = false, quiet = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int m;
		if ((m = cli_flag_value(argc, argv, &i, NULL, "--format", &v))) {
			if (m < 0)
				return 2;
			format = v;
		} else if ((m = cli_flag_value(argc, argv, &i, "-o", "--output", &v))) {
			if (m < 0)
				return 2;
			output = v;
		} else if (cli_flag(a, NULL, "--services")) {
			services = true;
		} else if (cli_flag(a, NULL, "--volumes")) {
			volumes = true;
		} else if (cli_flag(a, NULL, "--images")) {
			images = true;
		} else if (cli_flag(a, NULL, "--profiles")) {
			profiles = true;
		} else if (cli_flag(a, "-q", "--quiet")) {
			quiet = true;
		} else if (cli_flag(a, NULL, "--no-interpolate")) {
			cc->opt.no_interpolate = true;
		} else if (cli_flag(a, "-h", "--help")) {
			puts("usage: berth compose config [--format yaml|json] [--services] [--volumes] [--images]\n"
			     "                            [--profiles] [-q] [--no-interpolate] [-o FILE]");
			return 0;
		} else {
			fprintf(stderr, "berth compose config: unknown flag: %s\n", a);
			return 2;
		}
	}
	if (strcmp(format, "yaml") && strcmp(format, "json")) {
		fprintf(stderr, "berth compose config: unsupported --format \"%s\" (use yaml or json)\n", format);
		return 2;
	}
	if (profiles) {
		/* every profile any service declares, whatever is active */
		strvec_clear(&cc->opt.profiles);
		strvec_push(&cc->opt.profiles, "*");
	}
	struct compose_project p = COMPOSE_PROJECT_INIT;
	int rc = compose_cli_load(cc, &p);
	if (rc) {
		compose_project_release(&p);
		return rc;
	}
	struct strbuf out = STRBUF_INIT;
	struct node *svcs = compose_services(&p);
	if (quiet) {
		/* validation only */
	} else if (services) {
		struct strvec order = STRVEC_INIT;
		compose_service_order(&p, &order);
		for (size_t i = 0; i < order.nr; i++)
			strbuf_addf(&out, "%s\n", order.v[i]);
		strvec_clear(&order);
	} else if (volumes) {
		print_names(&out, node_map_get(p.model, "volumes"));
	} else if (images) {
		struct strvec order = STRVEC_INIT;
		compose_service_order(&p, &order);
		for (size_t i = 0; i < order.nr; i++) {
			struct node *img = node_map_get(node_map_get(svcs, order.v[i]), "image");
			if (img)
				strbuf_addf(&out, "%s\n", img->str);
			else
				strbuf_addf(&out, "%s-%s\n", p.name, order.v[i]);
		}
		strvec_clear(&order);
	} else if (profiles) {
		struct strvec all = STRVEC_INIT;
		for (size_t i = 0; i < svcs->nr; i++) {
			struct node *pr = node_map_get(svcs->kvs[i].value, "profiles");
			for (size_t k = 0; pr && k < pr->nr; k++)
				if (strvec_find(&all, pr->items[k]->str) < 0)
					strvec_push(&all, pr->items[k]->str);
		}
		if (all.nr)
			qsort(all.v, all.nr, sizeof(*all.v), cmp_str);
		for (size_t i = 0; i < all.nr; i++)
			strbuf_addf(&out, "%s\n", all.v[i]);
		strvec_clear(&all);
	} else {
		struct emit_options eo = {.escape_dollar = !cc->opt.no_interpolate};
		/* the output is about twice the arena's size: grow once, not by doubling */
		strbuf_grow(&out, p.arena.used_bytes * 2);
		if (!strcmp(format, "json"))
			compose_emit_json(&out, p.model, &eo);
		else
			compose_emit_yaml(&out, p.model, &eo);
	}
	rc = write_output(output, &out) ? 1 : 0;
	strbuf_release(&out);
	compose_project_release(&p);
	return rc;
}
