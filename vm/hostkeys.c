#include "vm/hostkeys.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "vm/fsutil.h"
#include "common/banned.h"

#define KNOWN_HOSTS_CAP (64u << 10)

static bool plain_word(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ')
			return false;
	return true;
}

int vm_hostkeys_load(struct strvec *out, const char *path, struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = vm_fs_read(&sb, path, KNOWN_HOSTS_CAP, err);
	struct strvec keys = STRVEC_INIT;
	int line = 0;
	for (char *p = sb.buf; !rc && *p;) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		line++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n && p[0] != '#') {
			/* "HOSTS TYPE BASE64 [comment]" */
			const char *f[3];
			size_t fl[3];
			const char *s = p, *e = p + n;
			int k = 0;
			while (k < 3 && s < e) {
				while (s < e && (*s == ' ' || *s == '\t'))
					s++;
				const char *w = s;
				while (s < e && *s != ' ' && *s != '\t')
					s++;
				if (s > w) {
					f[k] = w;
					fl[k] = (size_t)(s - w);
					k++;
				}
			}
			if (k < 3 || !plain_word(f[1], fl[1]) || !plain_word(f[2], fl[2]))
				rc = berth_error_set_at(err, BERTH_E_PARSE, path, line, 0, NULL,
							"expected \"HOST TYPE BASE64\"");
			else
				strvec_pushf(&keys, "%.*s %.*s", (int)fl[1], f[1], (int)fl[2], f[2]);
		}
		p = nl ? nl + 1 : p + strlen(p);
	}
	if (!rc)
		for (size_t i = 0; i < keys.nr; i++)
			strvec_push(out, keys.v[i]);
	strvec_clear(&keys);
	strbuf_release(&sb);
	return rc;
}

bool vm_hostkeys_contains(const struct strvec *pinned, const char *type, const char *b64)
{
	size_t tn = strlen(type);
	for (size_t i = 0; i < pinned->nr; i++) {
		const char *k = pinned->v[i];
		if (!strncmp(k, type, tn) && k[tn] == ' ' && !strcmp(k + tn + 1, b64))
			return true;
	}
	return false;
}

/* The type of "TYPE BASE64" as a new string. */
static char *key_type(const char *k)
{
	const char *sp = strchr(k, ' ');
	return sp ? xstrndup(k, (size_t)(sp - k)) : xstrdup(k);
}

int vm_hostkeys_check_or_pin(const char *path, const char *alias, const struct strvec *offered, bool *pinned_now,
			     struct berth_error *err)
{
	struct strvec pinned = STRVEC_INIT;
	*pinned_now = false;
	if (!offered->nr)
		return berth_error_set(err, BERTH_E_INVALID,
				       "the guest printed no BERTH-HOSTKEY lines for this boot: its host key cannot be "
				       "checked");
	int rc = vm_hostkeys_load(&pinned, path, err);
	if (rc == BERTH_E_NOTFOUND) {
		berth_error_release(err);
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(
			&sb, "# guest SSH host keys, pinned by berth at the first boot (HostKeyAlias in ssh.config)\n");
		for (size_t i = 0; i < offered->nr; i++)
			strbuf_addf(&sb, "%s %s\n", alias, offered->v[i]);
		rc = vm_fs_write_atomic(path, sb.buf, sb.len, 0644, err);
		strbuf_release(&sb);
		if (!rc)
			*pinned_now = true;
		return rc;
	}
	if (rc)
		return rc;
	size_t matched = 0;
	for (size_t i = 0; !rc && i < offered->nr; i++) {
		char *t = key_type(offered->v[i]);
		const char *b64 = offered->v[i] + strlen(t) + (offered->v[i][strlen(t)] == ' ');
		bool type_pinned = false;
		for (size_t j = 0; j < pinned.nr; j++) {
			char *pt = key_type(pinned.v[j]);
			type_pinned |= !strcmp(pt, t);
			free(pt);
		}
		if (type_pinned && !vm_hostkeys_contains(&pinned, t, b64))
			rc = berth_error_set(err, BERTH_E_INVALID,
					     "the guest's %s host key is not the one pinned in %s at its first boot: "
					     "refusing to connect (was the disk replaced? if you trust the new key, "
					     "delete that file and start again)",
					     t, path);
		else if (type_pinned)
			matched++;
		free(t);
	}
	if (!rc && !matched)
		rc = berth_error_set(err, BERTH_E_INVALID,
				     "none of the guest's host keys is of a type pinned in %s: refusing to connect",
				     path);
	strvec_clear(&pinned);
	return rc;
}
