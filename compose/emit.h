/* Printing the canonical model as Docker Compose's `config` does: JSON as
 * Go's json.MarshalIndent (two spaces), YAML as yaml.v3 (two spaces), keys
 * of known objects in compose-go's struct order, map keys sorted. */
#ifndef BERTH_COMPOSE_EMIT_H
#define BERTH_COMPOSE_EMIT_H

#include <stdbool.h>
#include <stddef.h>

struct node;
struct strbuf;

struct emit_options {
	bool escape_dollar; /* print $ as $$ (the model was interpolated) */
};

void compose_emit_json(struct strbuf *out, const struct node *model, const struct emit_options *o);
/* Maps of at least this many entries at level 1 (a big project's services)
 * are printed by two threads; tests change it to compare both ways. */
extern size_t compose_emit_json_split_min;
void compose_emit_yaml(struct strbuf *out, const struct node *model, const struct emit_options *o);

#endif
