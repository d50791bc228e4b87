/* The one declarative table of compose keys: for every key the Compose spec
 * defines, its canonical type (which drives validation, short-to-long syntax
 * conversion and emission order) and how a later file merges into an earlier
 * one. Order within a table is compose-go's struct order, which is the order
 * `config` prints keys in. */
#ifndef BERTH_COMPOSE_SCHEMA_H
#define BERTH_COMPOSE_SCHEMA_H

#include <stddef.h>

enum ktype {
	KT_ANY, /* kept as written (extensions, free-form options) */
	KT_STR, /* scalar, printed as a string */
	KT_INT,
	KT_BOOL,
	KT_FLOAT,
	KT_DURATION,    /* Go duration syntax, printed as time.Duration.String() */
	KT_BYTES,       /* "512m" -> "536870912" */
	KT_STRLIST,     /* list of scalars, printed as strings */
	KT_STR_OR_LIST, /* a string becomes a one-item list */
	KT_CMD,         /* string (shell-split) or list; null kept */
	KT_KV,          /* list_or_dict: map of strings; a bare key maps to "" */
	KT_ENV,         /* list_or_dict: map of strings; a bare key maps to null */
	KT_OBJ,         /* object described by sub */
	KT_MAP_OBJ,     /* map of name -> object described by sub */
	KT_LIST_OBJ,    /* list of objects described by sub */
	KT_SPECIAL,     /* converted by a dedicated function (canonical.c) */
};

enum kmerge {
	KM_DEFAULT, /* maps merge recursively, lists append, scalars replace */
	KM_REPLACE, /* the later value replaces the earlier whole */
	KM_UNIQUE,  /* lists append, later duplicates replace earlier ones (by the key's identity) */
	KM_LOGGING, /* logging: options merge only when the driver is the same */
};

struct key_spec {
	const char *name;
	enum ktype type;
	const struct key_spec *sub; /* KT_OBJ / KT_MAP_OBJ / KT_LIST_OBJ; NULL-name terminated */
	enum kmerge merge;
	int special; /* KT_SPECIAL: which converter (enum in canonical.c) */
};

extern const struct key_spec schema_top[];
extern const struct key_spec schema_service[];

/* Finds name in a NULL-terminated table. */
const struct key_spec *schema_find(const struct key_spec *table, const char *name);
/* Index of name in table (for ordering), or a large number when absent. */
size_t schema_index(const struct key_spec *table, const char *name);

enum special_kind {
	SP_NONE,
	SP_PORTS,
	SP_SERVICE_VOLUMES,
	SP_SERVICE_SECRETS,
	SP_SERVICE_CONFIGS,
	SP_DEPENDS_ON,
	SP_SERVICE_NETWORKS,
	SP_BUILD,
	SP_EXTENDS,
	SP_ENV_FILE,
	SP_ULIMITS,
	SP_EXTRA_HOSTS,
	SP_HEALTH_TEST,
	SP_DEVICES,
	SP_GPUS,
	SP_INCLUDE,
	SP_EXPOSE,
	SP_BUILD_SECRETS,
	SP_MODELS,
	SP_LABEL_FILE,
	SP_ATTACH,
	SP_DEV_WATCH,
};

#endif
