/* config: an instance's settings, written once by `berth vm init` to
 * <instance>/config and read by every other command. The format is plain
 * "key=value" lines ('#' comments, blank lines ignored) so that a person can
 * read it and a shell can grep it; values are single lines. An unknown key
 * or a bad value is an error at file:line, never silently ignored. */
#ifndef BERTH_VM_CONFIG_H
#define BERTH_VM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct berth_error;

#define VM_CONFIG_VERSION 1
#define VM_CONFIG_CAP     (64u << 10) /* a config is a few hundred bytes */
#define VM_MOUNTS_MAX     32          /* -virtfs devices; each is a PCI function */

/* A host directory shared with the guest over 9p at the same path. */
struct vm_mount {
	char *path; /* owned; absolute, no whitespace */
	bool ro;
};

struct vm_config {
	char *name;         /* owned */
	int cpus;           /* 1..VM_CPUS_MAX */
	int64_t memory_mib; /* guest RAM */
	int64_t disk_bytes; /* the overlay's virtual size; 0 = the image's own */
	char *image;        /* owned; the URL or path the image came from (for messages) */
	char *image_sha256; /* owned; 64 hex digits, verified before use */
	char *cmdline;      /* owned; kernel command line from the image's "cmdline" file */
	char *user;         /* owned; SSH login user in the guest ("root") */
	int64_t created;    /* unix seconds */
	struct vm_mount *mounts;
	size_t mounts_nr, mounts_alloc;
};

#define VM_CPUS_MAX       256
#define VM_MEMORY_MIB_MIN 256
#define VM_MEMORY_MIB_MAX (1024 * 1024)

/* Zeroes c (no allocation). */
void vm_config_init(struct vm_config *c);
void vm_config_release(struct vm_config *c);
/* Adds a mount ("DIR" or "DIR:ro" / "DIR:rw" as the CLI takes it). The path
 * must be absolute and clean, without tabs, newlines or spaces at the ends of
 * a name (inner spaces are fine), must not overlap another mount, and must
 * not cover a directory the guest system needs (/, /etc, /usr, /proc ...). */
int vm_config_add_mount(struct vm_config *c, const char *spec, struct berth_error *err);
/* Checks every field; errors name the field. */
int vm_config_validate(const struct vm_config *c, struct berth_error *err);

/* Appends the file text for c (which must validate) to out. */
void vm_config_format(struct strbuf *out, const struct vm_config *c);
/* Parses text (file is used for error locations). c is written only on success. */
int vm_config_parse(struct vm_config *c, const char *text, size_t len, const char *file, struct berth_error *err);
/* vm_fs_read + vm_config_parse / vm_config_format + vm_fs_write_atomic. */
int vm_config_load(struct vm_config *c, const char *path, struct berth_error *err);
int vm_config_save(const struct vm_config *c, const char *path, struct berth_error *err);

#endif
