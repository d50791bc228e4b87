/* Merging one canonical compose tree into another with Docker Compose's
 * rules (override files, extends): mappings merge key by key, command and
 * entrypoint are replaced, ports/volumes/secrets/... are appended with later
 * duplicates (same target, same key) replacing earlier ones in place, and
 * !reset / !override tags remove or replace a value whole. */
#ifndef BERTH_COMPOSE_MERGE_H
#define BERTH_COMPOSE_MERGE_H

struct arena;
struct node;
struct key_spec;

/* Merges over into base (both mappings described by table). base is modified;
 * over's subtrees may be shared into base. */
void compose_merge_obj(struct arena *a, struct node *base, const struct node *over, const struct key_spec *table);
/* Removes every !reset-tagged entry left in a tree and clears !override tags. */
void compose_strip_tags(struct node *n);

#endif
