#include "vm/instance.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "vm/fsutil.h"
#include "common/banned.h"

static int alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int vm_name_check(const char *name, struct berth_error *err)
{
	size_t n = strlen(name);
	bool ok = n > 0 && n <= VM_NAME_MAX && alnum(name[0]) && alnum(name[n - 1]);
	for (size_t i = 0; ok && i < n; i++)
		ok = alnum(name[i]) || name[i] == '.' || name[i] == '_' || name[i] == '-';
	if (!ok)
		return berth_error_set(err, BERTH_E_INVALID,
				       "invalid VM name \"%s\": use lowercase letters, digits, '.', '_' and '-', "
				       "starting and ending with a letter or digit, at most %d characters",
				       name, VM_NAME_MAX);
	return 0;
}

int vm_paths_init(struct vm_paths *p, const char *home, const char *name, struct berth_error *err)
{
	int rc = vm_name_check(name, err);
	if (rc)
		return rc;
	if (home[0] != '/')
		return berth_error_set(err, BERTH_E_INVALID, "the VM directory \"%s\" is not an absolute path", home);
	memset(p, 0, sizeof(*p));
	p->home = xstrdup(home);
	p->dir = xstrfmt("%s/%s", home, name);
#define F(field, file) p->field = xstrfmt("%s/" file, p->dir)
	F(config, "config");
	F(base, "base.qcow2");
	F(disk, "disk.qcow2");
	F(kernel, "vmlinuz");
	F(initrd, "initrd.img");
	F(key, "id_ed25519");
	F(pubkey, "id_ed25519.pub");
	F(known_hosts, "known_hosts");
	F(ssh_config, "ssh.config");
	F(seed_dir, "seed");
	F(serial_log, "serial.log");
	F(serial_prev, "serial.log.1");
	F(pidfile, "qemu.pid");
	F(qmp, "qmp.sock");
	F(state, "boot.state");
	F(last_error, "last-error");
#undef F
	/* sun_path is 108 bytes on Linux; macOS has 104. Use the smaller so that an
	 * instance directory works on both. */
	if (strlen(p->qmp) >= 104) {
		rc = berth_error_set(err, BERTH_E_LIMIT,
				     "the path \"%s\" is too long for a unix socket (%zu bytes, at most 103): "
				     "set BERTH_HOME to a shorter directory",
				     p->qmp, strlen(p->qmp));
		vm_paths_release(p);
	}
	return rc;
}

void vm_paths_release(struct vm_paths *p)
{
	char **f[] = {&p->home,       &p->dir,         &p->config,  &p->base,        &p->disk,       &p->kernel,
		      &p->initrd,     &p->key,         &p->pubkey,  &p->known_hosts, &p->ssh_config, &p->seed_dir,
		      &p->serial_log, &p->serial_prev, &p->pidfile, &p->qmp,         &p->state,      &p->last_error};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
}

static int from_env(struct strbuf *out, const char *env, const char *suffix_env, const char *home_suffix,
		    const char *what, struct berth_error *err)
{
	const char *v = env ? getenv(env) : NULL;
	if (v && *v) {
		if (v[0] != '/')
			return berth_error_set(err, BERTH_E_INVALID, "$%s (\"%s\") is not an absolute path", env, v);
		strbuf_addstr(out, v);
		if (suffix_env)
			strbuf_addstr(out, suffix_env);
		return 0;
	}
	const char *home = getenv("HOME");
	if (!home || home[0] != '/')
		return berth_error_set(err, BERTH_E_INVALID, "cannot find the %s: $HOME is not set", what);
	strbuf_addf(out, "%s%s", home, home_suffix);
	return 0;
}

int vm_home_dir(struct strbuf *out, struct berth_error *err)
{
	const char *bh = getenv("BERTH_HOME");
	if (bh && *bh)
		return from_env(out, "BERTH_HOME", "/vm", NULL, "VM directory", err);
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && xdg[0] == '/')
		return from_env(out, "XDG_DATA_HOME", "/berth/vm", NULL, "VM directory", err);
	return from_env(out, NULL, NULL, "/.local/share/berth/vm", "VM directory", err);
}

int vm_cache_dir(struct strbuf *out, struct berth_error *err)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (xdg && xdg[0] == '/')
		return from_env(out, "XDG_CACHE_HOME", "/berth", NULL, "cache directory", err);
	return from_env(out, NULL, NULL, "/.cache/berth", "cache directory", err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vm_instance_names(struct strvec *out, const char *home, struct berth_error *err)
{
	char eb[128];
	DIR *d = opendir(home);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return berth_error_set(err, BERTH_E_IO, "cannot list \"%s\": %s", home,
				       strerror_r(errno, eb, sizeof(eb)));
	}
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || vm_name_check(de->d_name, NULL))
			continue;
		char *cfg = xstrfmt("%s/%s/config", home, de->d_name);
		if (vm_fs_exists(cfg))
			strvec_push(&names, de->d_name);
		free(cfg);
	}
	closedir(d);
	if (names.nr)
		qsort(names.v, names.nr, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.nr; i++)
		strvec_push(out, names.v[i]);
	strvec_clear(&names);
	return 0;
}
