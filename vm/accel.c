#include "vm/accel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#ifdef __APPLE__
#include <sys/sysctl.h>
#endif

#include "common/cleanup.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "vm/fsutil.h"
#include "common/banned.h"

#define PROBE_FILE "accel-probe"

struct probe_state {
	int reached;
};

static int probe_line(void *data, int fd, const char *line, size_t len)
{
	struct probe_state *st = data;
	(void)fd;
	(void)len;
	if (strstr(line, "VFS: Unable to mount root") || strstr(line, "Kernel panic")) {
		st->reached = 1;
		return 1; /* done: stop QEMU */
	}
	return 0;
}

int vm_accel_probe_kvm(const char *qemu, const char *kernel, int64_t timeout_ms, struct berth_error *err)
{
	struct proc p;
	struct strbuf errbuf = STRBUF_INIT;
	struct probe_state st = {0};
	proc_init(&p);
	strvec_pushl(&p.argv, qemu, "-accel", "kvm", "-machine", "q35", "-cpu", "host", "-m", "256", "-nodefaults",
		     "-display", "none", "-no-reboot", "-kernel", kernel, "-append",
		     "console=ttyS0 panic=-1 loglevel=4", "-serial", "stdio", NULL);
	p.in.mode = PROC_NULL;
	p.out.mode = PROC_LINES;
	p.out.line_fn = probe_line;
	p.out.line_data = &st;
	p.err.mode = PROC_PIPE;
	p.err.buf = &errbuf;
	p.err.cap = 16384;
	p.err.truncate = true;
	p.deadline_ms = proc_deadline_in(timeout_ms);
	p.grace_ms = 1000;
	int rc = proc_run(&p, err);
	if (st.reached) {
		rc = 0;
		berth_error_release(err);
	} else if (rc == BERTH_E_TIMEOUT) {
		rc = berth_error_set(err, BERTH_E_TIMEOUT,
				     "a test boot under KVM did not reach the kernel's root mount in %lld s "
				     "(nested virtualization that hangs?)",
				     (long long)(timeout_ms / 1000));
	} else if (!rc) {
		strbuf_trim(&errbuf);
		char *nl = strchr(errbuf.buf, '\n');
		if (nl)
			*nl = '\0';
		rc = berth_error_set(err, BERTH_E_ENGINE, "a test boot under KVM failed: %s",
				     errbuf.len ? errbuf.buf : "qemu exited before the kernel ran");
	}
	proc_release(&p);
	strbuf_release(&errbuf);
	return rc;
}

int vm_find_program(struct strbuf *out, const char *name)
{
	if (strchr(name, '/')) {
		if (access(name, X_OK))
			return -1;
		strbuf_addstr(out, name);
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *c = strchr(path, ':');
		size_t n = c ? (size_t)(c - path) : strlen(path);
		char *cand = n ? xstrfmt("%.*s/%s", (int)n, path, name) : xstrfmt("./%s", name);
		struct stat st;
		if (!access(cand, X_OK) && !stat(cand, &st) && S_ISREG(st.st_mode)) {
			strbuf_addstr(out, cand);
			free(cand);
			return 0;
		}
		free(cand);
		if (!c)
			break;
		path = c + 1;
	}
	return -1;
}

/* What the probe result depends on: the host, its kernel, the QEMU binary. */
static void probe_key(struct strbuf *out, const char *qemu)
{
	struct strbuf in = STRBUF_INIT;
	struct utsname u;
	if (!uname(&u))
		strbuf_addf(&in, "%s\n%s\n%s\n%s\n%s\n", u.nodename, u.sysname, u.release, u.version, u.machine);
	/* The binary as PATH finds it: its path, size and mtime. */
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	if (!vm_find_program(&path, qemu) && !stat(path.buf, &st))
		strbuf_addf(&in, "%s %lld %lld\n", path.buf, (long long)st.st_size, (long long)st.st_mtime);
	else
		strbuf_addf(&in, "%s\n", qemu);
	size_t start = out->len;
	hash_sha256_hex(out, in.buf, in.len);
	strbuf_setlen(out, start + 16);
	strbuf_release(&in);
	strbuf_release(&path);
}

static int valid_accel(const char *a)
{
	return !strcmp(a, "tcg") || !strcmp(a, "kvm") || !strcmp(a, "hvf");
}

int vm_accel_choose(struct strbuf *accel, struct strbuf *why, const struct vm_accel_opts *o, struct berth_error *err)
{
	char eb[128];
	if (o->override && *o->override) {
		if (!valid_accel(o->override))
			return berth_error_set(err, BERTH_E_USAGE, "BERTH_VM_ACCEL=\"%s\": expected tcg, kvm or hvf",
					       o->override);
		strbuf_addstr(accel, o->override);
		strbuf_addstr(why, "set by BERTH_VM_ACCEL");
		return 0;
	}
	struct utsname u;
	if (uname(&u) || (strcmp(u.machine, "x86_64") && strcmp(u.machine, "amd64"))) {
		strbuf_addstr(accel, "tcg");
		strbuf_addf(why, "the image is x86_64 and this host is %s: emulation", uname(&u) ? "?" : u.machine);
		return 0;
	}
#ifdef __APPLE__
	int hv = 0;
	size_t hvlen = sizeof(hv);
	if (!sysctlbyname("kern.hv_support", &hv, &hvlen, NULL, 0) && hv == 1) {
		strbuf_addstr(accel, "hvf");
		strbuf_addstr(why, "Hypervisor.framework is available (kern.hv_support=1)");
	} else {
		strbuf_addstr(accel, "tcg");
		strbuf_addstr(why, "Hypervisor.framework is not available (kern.hv_support is not 1): emulation");
	}
	return 0;
#elif defined(__linux__)
	_cleanup_close_ int kfd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kfd < 0) {
		strbuf_addstr(accel, "tcg");
		strbuf_addf(why, "cannot open /dev/kvm (%s): emulation", strerror_r(errno, eb, sizeof(eb)));
		return 0;
	}
	struct strbuf key = STRBUF_INIT, cached = STRBUF_INIT;
	char *file = o->cache_dir ? xstrfmt("%s/" PROBE_FILE, o->cache_dir) : NULL;
	probe_key(&key, o->qemu);
	/* "<key> <accel> <reason...>" */
	if (file && !vm_fs_read(&cached, file, 4096, NULL) && cached.len > key.len + 5 &&
	    !strncmp(cached.buf, key.buf, key.len) && cached.buf[key.len] == ' ') {
		strbuf_trim(&cached);
		const char *a = cached.buf + key.len + 1;
		const char *sp = strchr(a, ' ');
		if (sp && (!strncmp(a, "kvm ", 4) || !strncmp(a, "tcg ", 4))) {
			strbuf_add(accel, a, (size_t)(sp - a));
			strbuf_addf(why, "%s (probed earlier on this host; remembered in %s)", sp + 1, file);
			strbuf_release(&key);
			strbuf_release(&cached);
			free(file);
			return 0;
		}
	}
	struct berth_error perr = BERTH_ERROR_INIT;
	struct strbuf line = STRBUF_INIT, reason = STRBUF_INIT;
	const char *result;
	int64_t t0 = proc_now_ms();
	int64_t limit = o->probe_timeout_ms ? o->probe_timeout_ms : VM_ACCEL_PROBE_TIMEOUT_MS;
	if (o->before_probe)
		o->before_probe(o->data, limit);
	if (!vm_accel_probe_kvm(o->qemu, o->kernel, limit, &perr)) {
		result = "kvm";
		strbuf_addf(&reason, "a test boot under KVM reached the kernel's root mount in %.1f s",
			    (double)(proc_now_ms() - t0) / 1000.0);
	} else {
		result = "tcg";
		strbuf_addf(&reason, "%s: emulation", perr.msg ? perr.msg : "KVM probe failed");
	}
	berth_error_release(&perr);
	strbuf_addstr(accel, result);
	strbuf_addstr(why, reason.buf);
	if (file) {
		strbuf_addf(&line, "%s %s %s\n", key.buf, result, reason.buf);
		/* Best effort: without the memory the probe just runs again. */
		if (!vm_fs_mkdir_p(o->cache_dir, 0755, NULL))
			vm_fs_write_atomic(file, line.buf, line.len, 0644, NULL);
	}
	strbuf_release(&line);
	strbuf_release(&reason);
	strbuf_release(&key);
	strbuf_release(&cached);
	free(file);
	return 0;
#else
	strbuf_addstr(accel, "tcg");
	strbuf_addstr(why, "no supported hypervisor on this system: emulation");
	return 0;
#endif
}
