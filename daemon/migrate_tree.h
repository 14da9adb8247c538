/*
 * migrate_tree.h: the migrations directory as the runner (migrate.c) reads it: versioned
 * files NNNN_name.sql with their markers, repeatable files functions/NN_area.sql, and the
 * rework list, each file with its SHA-256 (docs/migrations.md).
 */
#ifndef FUND_MIGRATE_TREE_H
#define FUND_MIGRATE_TREE_H

/* the repeatable files' directory, inside the migrations directory */
#define MIGRATE_REPEATABLE_DIR	"functions"
/*
 * Inside the migrations directory: "SHA256  NNNN_name.sql" lines naming earlier forms of
 * versioned files that were rewritten after databases ran them (docs/migrations.md).
 */
#define MIGRATE_REWORK_LIST	"reworked.sha256"

struct mfile {
	int	 version;	/* versioned files; 0 for repeatable ones */
	char	*name;		/* 0001_foundation.sql, 30_ledger.sql */
	char	*sql;
	char	 sha[65];
	char	*step;		/* "-- fundd-step: NAME": run before the file */
	char	*vacuum;	/* "-- fundd-vacuum-full: TABLE...": after the run */
	/*
	 * "-- fundd-compatible-from: NNNN": the schema with this file applied still serves a
	 * fundd whose last migration is NNNN or later; without the marker, only a fundd
	 * that has this file (its version).
	 */
	int	 compat;
};

/* An earlier form of a versioned file, from the rework list. */
struct rework {
	char	*name;
	char	 sha[65];
};

struct mtree {
	struct mfile	*v;	/* versioned, sorted by version */
	int		 nv;
	struct mfile	*r;	/* repeatable, sorted by name */
	int		 nr;
	struct rework	*rw;
	int		 nrw;
};

/* Reads dir into *t; 0, or -1 with *cause naming the file. tree_free() releases it. */
int	tree_load(const char *dir, struct mtree *t, char **cause);
void	tree_free(struct mtree *t);
/* 1 when the rework list names sha as an earlier form of versioned file name. */
int	reworked_form(const struct mtree *t, const char *name, const char *sha);

#endif
