#include "vm/config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/parse.h"
#include "common/strbuf.h"
#include "vm/fsutil.h"
#include "vm/instance.h"
#include "common/banned.h"

void vm_config_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
}

void vm_config_release(struct vm_config *c)
{
	free(c->name);
	free(c->image);
	free(c->image_sha256);
	free(c->cmdline);
	free(c->user);
	for (size_t i = 0; i < c->mounts_nr; i++)
		free(c->mounts[i].path);
	free(c->mounts);
	vm_config_init(c);
}

/* Guest directories a 9p share must not cover: the guest would lose its own
 * system files, or (for "/") everything. */
static const char *const system_dirs[] = {
	"/bin",
	"/boot",
	"/dev",
	"/etc",
	"/lib",
	"/lib32",
	"/lib64",
	"/libx32",
	"/proc",
	"/run",
	"/sbin",
	"/sys",
	"/usr",
	"/var/lib/containerd",
	"/var/lib/nerdctl",
	"/var/lib/buildkit",
};

static bool path_has_prefix(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static int check_mount_path(const char *p, struct berth_error *err)
{
	if (p[0] != '/')
		return berth_error_set(err, BERTH_E_INVALID, "mount \"%s\": the path must be absolute", p);
	/* The guest's mounts file is "TAG PATH MODE" per line with the path in
	 * the middle (vm/image/README.md): inner spaces survive, but a newline, a
	 * tab or a space at either end of a name would not. */
	for (const char *s = p; *s; s++)
		if ((isspace((unsigned char)*s) && *s != ' ') || (unsigned char)*s < 0x20 || *s == 0x7f ||
		    (*s == ' ' && (s[1] == '\0' || s[1] == '/' || s[-1] == '/')))
			return berth_error_set(err, BERTH_E_INVALID,
					       "mount \"%s\": paths with tabs, newlines, control characters or spaces "
					       "at the start or end of a name cannot be shared",
					       p);
	if (strstr(p, "/./") || strstr(p, "/../") || (strlen(p) > 1 && p[strlen(p) - 1] == '/') || strstr(p, "//"))
		return berth_error_set(err, BERTH_E_INVALID, "mount \"%s\": the path must be clean (no //, . or ..)",
				       p);
	if (!strcmp(p, "/"))
		return berth_error_set(err, BERTH_E_INVALID, "mount \"/\": the guest's root cannot be shared");
	for (size_t i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]); i++)
		if (path_has_prefix(p, system_dirs[i]))
			return berth_error_set(err, BERTH_E_INVALID,
					       "mount \"%s\": it would hide the guest's %s (share a directory "
					       "elsewhere)",
					       p, system_dirs[i]);
	return 0;
}

static void push_mount(struct vm_config *c, const char *path, bool ro)
{
	ALLOC_GROW(c->mounts, c->mounts_nr + 1, c->mounts_alloc);
	c->mounts[c->mounts_nr].path = xstrdup(path);
	c->mounts[c->mounts_nr].ro = ro;
	c->mounts_nr++;
}

int vm_config_add_mount(struct vm_config *c, const char *spec, struct berth_error *err)
{
	size_t n = strlen(spec);
	bool ro = false;
	if (n > 3 && !strcmp(spec + n - 3, ":ro")) {
		ro = true;
		n -= 3;
	} else if (n > 3 && !strcmp(spec + n - 3, ":rw")) {
		n -= 3;
	}
	char *path = xstrndup(spec, n);
	int rc = check_mount_path(path, err);
	for (size_t i = 0; !rc && i < c->mounts_nr; i++)
		if (path_has_prefix(path, c->mounts[i].path) || path_has_prefix(c->mounts[i].path, path))
			rc = berth_error_set(err, BERTH_E_INVALID, "mount \"%s\" overlaps mount \"%s\"", path,
					     c->mounts[i].path);
	if (!rc && c->mounts_nr >= VM_MOUNTS_MAX)
		rc = berth_error_set(err, BERTH_E_LIMIT, "more than %d mounts", VM_MOUNTS_MAX);
	if (!rc)
		push_mount(c, path, ro);
	free(path);
	return rc;
}

static bool single_line(const char *s)
{
	return s && !strchr(s, '\n') && !strchr(s, '\r');
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int vm_config_validate(const struct vm_config *c, struct berth_error *err)
{
	int rc;
	if (!c->name)
		return berth_error_set(err, BERTH_E_INVALID, "name: missing");
	if ((rc = vm_name_check(c->name, err)))
		return rc;
	if (c->cpus < 1 || c->cpus > VM_CPUS_MAX)
		return berth_error_set(err, BERTH_E_INVALID, "cpus: %d is not within 1..%d", c->cpus, VM_CPUS_MAX);
	if (c->memory_mib < VM_MEMORY_MIB_MIN || c->memory_mib > VM_MEMORY_MIB_MAX)
		return berth_error_set(err, BERTH_E_INVALID, "memory: %lld MiB is not within %d MiB..%d MiB",
				       (long long)c->memory_mib, VM_MEMORY_MIB_MIN, VM_MEMORY_MIB_MAX);
	if (c->disk_bytes < 0)
		return berth_error_set(err, BERTH_E_INVALID, "disk: negative size");
	if (!c->image || !*c->image || !single_line(c->image))
		return berth_error_set(err, BERTH_E_INVALID, "image: missing or not one line");
	if (!is_hex64(c->image_sha256))
		return berth_error_set(err, BERTH_E_INVALID, "image_sha256: not 64 lowercase hex digits");
	if (!c->cmdline || !*c->cmdline || !single_line(c->cmdline))
		return berth_error_set(err, BERTH_E_INVALID, "cmdline: missing or not one line");
	if (!c->user || !*c->user || strspn(c->user, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(c->user))
		return berth_error_set(err, BERTH_E_INVALID, "user: missing or not a plain user name");
	for (size_t i = 0; i < c->mounts_nr; i++)
		if ((rc = check_mount_path(c->mounts[i].path, err)))
			return rc;
	return 0;
}

void vm_config_format(struct strbuf *out, const struct vm_config *c)
{
	strbuf_addstr(out, "# berth VM instance, written by `berth vm init`. One key=value per line.\n");
	strbuf_addf(out, "version=%d\n", VM_CONFIG_VERSION);
	strbuf_addf(out, "name=%s\n", c->name);
	strbuf_addf(out, "cpus=%d\n", c->cpus);
	strbuf_addf(out, "memory_mib=%lld\n", (long long)c->memory_mib);
	strbuf_addf(out, "disk_bytes=%lld\n", (long long)c->disk_bytes);
	strbuf_addf(out, "image=%s\n", c->image);
	strbuf_addf(out, "image_sha256=%s\n", c->image_sha256);
	strbuf_addf(out, "cmdline=%s\n", c->cmdline);
	strbuf_addf(out, "user=%s\n", c->user);
	strbuf_addf(out, "created=%lld\n", (long long)c->created);
	for (size_t i = 0; i < c->mounts_nr; i++)
		strbuf_addf(out, "mount=%s:%s\n", c->mounts[i].ro ? "ro" : "rw", c->mounts[i].path);
}

static int int_field(int64_t *out, const char *v, int64_t min, int64_t max, const char *file, int line, const char *key,
		     struct berth_error *err)
{
	if (parse_int64(out, v, min, max))
		return berth_error_set_at(err, BERTH_E_PARSE, file, line, 0, key, "invalid number \"%s\"", v);
	return 0;
}

static int set_string(char **dst, const char *v, const char *file, int line, const char *key, struct berth_error *err)
{
	if (*dst)
		return berth_error_set_at(err, BERTH_E_PARSE, file, line, 0, key, "duplicate key");
	*dst = xstrdup(v);
	return 0;
}

int vm_config_parse(struct vm_config *out, const char *text, size_t len, const char *file, struct berth_error *err)
{
	struct vm_config c;
	int64_t v, version = 0;
	int rc = 0, line = 0;
	bool have_cpus = false, have_mem = false;
	vm_config_init(&c);
	if (memchr(text, '\0', len))
		return berth_error_set_at(err, BERTH_E_PARSE, file, 0, 0, NULL, "the file contains a NUL byte");
	const char *p = text, *end = text + len;
	while (!rc && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		line++;
		char *l = xstrndup(p, (size_t)(le - p));
		p = nl ? nl + 1 : end;
		size_t ll = strlen(l);
		if (ll && l[ll - 1] == '\r')
			l[--ll] = '\0';
		if (!ll || l[0] == '#') {
			free(l);
			continue;
		}
		char *eq = strchr(l, '=');
		if (!eq) {
			rc = berth_error_set_at(err, BERTH_E_PARSE, file, line, 0, NULL,
						"expected key=value, got \"%s\"", l);
			free(l);
			break;
		}
		*eq = '\0';
		const char *k = l, *val = eq + 1;
		if (!strcmp(k, "version")) {
			rc = int_field(&version, val, 1, 1000, file, line, k, err);
			if (!rc && version != VM_CONFIG_VERSION)
				rc = berth_error_set_at(err, BERTH_E_PARSE, file, line, 0, k,
							"version %lld is not supported (this berth reads %d)",
							(long long)version, VM_CONFIG_VERSION);
		} else if (!strcmp(k, "name")) {
			rc = set_string(&c.name, val, file, line, k, err);
		} else if (!strcmp(k, "cpus")) {
			rc = int_field(&v, val, 1, VM_CPUS_MAX, file, line, k, err);
			c.cpus = (int)v;
			have_cpus = true;
		} else if (!strcmp(k, "memory_mib")) {
			rc = int_field(&c.memory_mib, val, VM_MEMORY_MIB_MIN, VM_MEMORY_MIB_MAX, file, line, k, err);
			have_mem = true;
		} else if (!strcmp(k, "disk_bytes")) {
			rc = int_field(&c.disk_bytes, val, 0, INT64_MAX, file, line, k, err);
		} else if (!strcmp(k, "image")) {
			rc = set_string(&c.image, val, file, line, k, err);
		} else if (!strcmp(k, "image_sha256")) {
			rc = set_string(&c.image_sha256, val, file, line, k, err);
		} else if (!strcmp(k, "cmdline")) {
			rc = set_string(&c.cmdline, val, file, line, k, err);
		} else if (!strcmp(k, "user")) {
			rc = set_string(&c.user, val, file, line, k, err);
		} else if (!strcmp(k, "created")) {
			rc = int_field(&c.created, val, 0, INT64_MAX, file, line, k, err);
		} else if (!strcmp(k, "mount")) {
			bool ro = !strncmp(val, "ro:", 3);
			if (!ro && strncmp(val, "rw:", 3))
				rc = berth_error_set_at(err, BERTH_E_PARSE, file, line, 0, k,
							"expected ro:PATH or rw:PATH, got \"%s\"", val);
			else if (c.mounts_nr >= VM_MOUNTS_MAX)
				rc = berth_error_set_at(err, BERTH_E_LIMIT, file, line, 0, k, "more than %d mounts",
							VM_MOUNTS_MAX);
			else
				push_mount(&c, val + 3, ro);
		} else {
			rc = berth_error_set_at(err, BERTH_E_PARSE, file, line, 0, k, "unknown key");
		}
		free(l);
	}
	if (!rc && !version)
		rc = berth_error_set_at(err, BERTH_E_PARSE, file, 0, 0, NULL, "no version line");
	if (!rc && (!have_cpus || !have_mem))
		rc = berth_error_set_at(err, BERTH_E_PARSE, file, 0, 0, NULL, "missing %s",
					!have_cpus ? "cpus" : "memory_mib");
	if (!rc && (rc = vm_config_validate(&c, err)))
		berth_error_locate(err, file, 0, 0, NULL);
	if (rc) {
		vm_config_release(&c);
		return rc;
	}
	*out = c;
	return 0;
}

int vm_config_load(struct vm_config *c, const char *path, struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = vm_fs_read(&sb, path, VM_CONFIG_CAP, err);
	if (!rc)
		rc = vm_config_parse(c, sb.buf, sb.len, path, err);
	strbuf_release(&sb);
	return rc;
}

int vm_config_save(const struct vm_config *c, const char *path, struct berth_error *err)
{
	int rc = vm_config_validate(c, err);
	if (rc)
		return rc;
	struct strbuf sb = STRBUF_INIT;
	vm_config_format(&sb, c);
	rc = vm_fs_write_atomic(path, sb.buf, sb.len, 0644, err);
	strbuf_release(&sb);
	return rc;
}
