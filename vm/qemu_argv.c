#include "vm/qemu_argv.h"

#include <string.h>

#include "common/strbuf.h"
#include "common/strvec.h"
#include "vm/config.h"
#include "common/banned.h"

void vm_qemu_escape(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		strbuf_addch(out, *s);
		if (*s == ',')
			strbuf_addch(out, ',');
	}
}

/* Pushes prefix + escaped(value) + suffix. */
static void push_opt(struct strvec *v, const char *prefix, const char *value, const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, prefix);
	vm_qemu_escape(&sb, value);
	strbuf_addstr(&sb, suffix);
	strvec_push_nodup(v, strbuf_detach(&sb, NULL));
}

void vm_qemu_argv(struct strvec *out, const struct vm_qemu_spec *s)
{
	bool tcg = !strcmp(s->accel, "tcg");
	strvec_push(out, s->qemu);
	strvec_push(out, "-name");
	strvec_pushf(out, "berth-%s,process=berth-%s", s->name, s->name);
	strvec_pushl(out, "-machine", "q35,vmport=off", NULL);
	strvec_push(out, "-accel");
	/* Lima's TCG settings: one host thread per vCPU and a 512 MiB translation
	 * cache (the default is a quarter of guest RAM at most). */
	strvec_push(out, tcg ? "tcg,thread=multi,tb-size=512" : s->accel);
	strvec_pushl(out, "-cpu", tcg ? "max" : "host", NULL);
	strvec_push(out, "-smp");
	strvec_pushf(out, "%d", s->cpus);
	strvec_push(out, "-m");
	strvec_pushf(out, "%lld", (long long)s->memory_mib);
	strvec_pushl(out, "-nodefaults", "-display", "none", "-no-reboot", NULL);
	strvec_pushl(out, "-kernel", s->kernel, "-initrd", s->initrd, "-append", s->cmdline, NULL);
	strvec_push(out, "-drive");
	push_opt(out, "file=", s->disk, ",if=virtio,format=qcow2,discard=on");
	strvec_push(out, "-netdev");
	strvec_pushf(out, "user,id=net0,hostfwd=tcp:127.0.0.1:%d-:22", s->ssh_port);
	strvec_pushl(out, "-device", "virtio-net-pci,netdev=net0", NULL);
	strvec_pushl(out, "-device", "virtio-rng-pci", NULL);
	/* security_model=none: files the guest creates are the host user's own,
	 * with their real modes and symlinks (mapped-xattr would keep modes in
	 * xattrs and store symlinks as files, which host tools then misread). */
	strvec_push(out, "-virtfs");
	push_opt(out, "local,path=", s->seed_dir, ",mount_tag=" VM_SEED_TAG ",security_model=none,readonly=on");
	for (size_t i = 0; i < s->mounts_nr; i++) {
		struct strbuf suffix = STRBUF_INIT;
		strbuf_addf(&suffix, ",mount_tag=" VM_MOUNT_TAG_FMT ",security_model=none%s", i,
			    s->mounts[i].ro ? ",readonly=on" : "");
		strvec_push(out, "-virtfs");
		push_opt(out, "local,path=", s->mounts[i].path, suffix.buf);
		strbuf_release(&suffix);
	}
	strvec_push(out, "-chardev");
	push_opt(out, "file,id=serial0,path=", s->serial_log, "");
	strvec_pushl(out, "-serial", "chardev:serial0", NULL);
	strvec_push(out, "-chardev");
	push_opt(out, "socket,id=qmp0,path=", s->qmp, ",server=on,wait=off");
	strvec_pushl(out, "-mon", "chardev=qmp0,mode=control", NULL);
	strvec_pushl(out, "-pidfile", s->pidfile, NULL);
	if (s->daemonize)
		strvec_push(out, "-daemonize");
}

void vm_qemu_seed_mounts(struct strbuf *out, const struct vm_mount *mounts, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		strbuf_addf(out, VM_MOUNT_TAG_FMT " %s %s\n", i, mounts[i].path, mounts[i].ro ? "ro" : "rw");
}
