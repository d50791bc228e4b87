#include "compose/envmap.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/banned.h"

/* FNV-1a: keys are short identifiers; no adversary gains much from collisions
 * in a map the user fills from their own files. */
static uint32_t hash_key(const char *key)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

void envmap_init(struct envmap *m)
{
	m->items = NULL;
	m->nr = m->alloc = 0;
	m->index = NULL;
	m->index_size = 0;
}

void envmap_release(struct envmap *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		free(m->items[i].key);
		free(m->items[i].value);
	}
	free(m->items);
	free(m->index);
	envmap_init(m);
}

/* Slot of key in the index, or of the empty slot where it would go. */
static size_t index_slot(const struct envmap *m, const char *key, uint32_t h)
{
	size_t mask = m->index_size - 1;
	size_t s = h & mask;
	while (m->index[s] && strcmp(m->items[m->index[s] - 1].key, key) != 0)
		s = (s + 1) & mask;
	return s;
}

static void index_rebuild(struct envmap *m, size_t size)
{
	free(m->index);
	m->index = xcalloc(size, sizeof(*m->index));
	m->index_size = size;
	for (size_t i = 0; i < m->nr; i++) {
		size_t s = index_slot(m, m->items[i].key, hash_key(m->items[i].key));
		m->index[s] = (uint32_t)(i + 1);
	}
}

static long find_pos(const struct envmap *m, const char *key)
{
	if (!m->nr)
		return -1;
	size_t s = index_slot(m, key, hash_key(key));
	return m->index[s] ? (long)m->index[s] - 1 : -1;
}

void envmap_set(struct envmap *m, const char *key, const char *value)
{
	long pos = find_pos(m, key);
	if (pos >= 0) {
		char *old = m->items[pos].value;
		m->items[pos].value = value ? xstrdup(value) : NULL;
		free(old);
		return;
	}
	if (m->nr >= UINT32_MAX - 1)
		BUG("envmap holds too many entries");
	/* Keep the load factor at or below one half. */
	if ((m->nr + 1) * 2 > m->index_size)
		index_rebuild(m, m->index_size ? m->index_size * 2 : 16);
	ALLOC_GROW(m->items, m->nr + 1, m->alloc);
	m->items[m->nr].key = xstrdup(key);
	m->items[m->nr].value = value ? xstrdup(value) : NULL;
	m->nr++;
	m->index[index_slot(m, key, hash_key(key))] = (uint32_t)m->nr;
}

const struct envmap_entry *envmap_find(const struct envmap *m, const char *key)
{
	long pos = find_pos(m, key);
	return pos >= 0 ? &m->items[pos] : NULL;
}

const char *envmap_get(const struct envmap *m, const char *key)
{
	const struct envmap_entry *e = envmap_find(m, key);
	return e ? e->value : NULL;
}

void envmap_remove(struct envmap *m, const char *key)
{
	long pos = find_pos(m, key);
	if (pos < 0)
		return;
	free(m->items[pos].key);
	free(m->items[pos].value);
	memmove(&m->items[pos], &m->items[pos + 1], (m->nr - (size_t)pos - 1) * sizeof(*m->items));
	m->nr--;
	/* Positions after pos shifted: rebuilding is simpler than patching the
	 * probe chains, and removal is rare (`!reset`, unset overrides). */
	index_rebuild(m, m->index_size);
}

void envmap_from_environ(struct envmap *m, char **environ_)
{
	struct strbuf key = STRBUF_INIT;
	for (char **e = environ_; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		strbuf_reset(&key);
		strbuf_add(&key, *e, (size_t)(eq - *e));
		envmap_set(m, key.buf, eq + 1);
	}
	strbuf_release(&key);
}

void envmap_copy(struct envmap *dst, const struct envmap *src)
{
	if (dst == src)
		return;
	envmap_release(dst);
	for (size_t i = 0; i < src->nr; i++)
		envmap_set(dst, src->items[i].key, src->items[i].value);
}

const char *envmap_lookup(void *ctx, const char *name)
{
	return envmap_get(ctx, name);
}
