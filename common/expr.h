/* Expression input shared by gene-stats, coexpr and de-call: counts from a
 * 10x MatrixMarket file (genes x cells, with gene names and a cells table
 * whose rows are its columns) or a dense matrix (.npy, .akm, .tsv: cells x
 * genes, the AnnData orientation); cells selected with --where COL=VALUE
 * (repeatable, all must hold); values log1p(counts per 10,000) unless
 * normalisation is off. The data stay sparse: per gene, the non-zero entries
 * of the selected cells (compressed sparse columns of the cells x genes
 * matrix, "CSC by gene"). */
#ifndef AK_EXPR_H
#define AK_EXPR_H

#include <stdint.h>

#include "strtab.h"

typedef struct expr_opts {
	const char *counts;     /* path or "-" */
	const char *genes;      /* gene names, one per line (NULL: from the .akm column names) */
	const char *cells;      /* cells table (TSV, header) or NULL (HDF5: obs) */
	const char *gene_col;   /* HDF5 counts: var column of gene names (NULL: the index) */
	const char **where;     /* "COL=VALUE" strings */
	int nwhere;
	int normalize;          /* 1: log1p(CP10k); 0: values as given */
	int keep_table;         /* keep every row of the cells table (table_all) */
	int64_t no_counts;      /* > 0: no counts; this many cells (e.g. rows of an embedding) */
} expr_opts_t;

typedef struct expr {
	int64_t ngenes;         /* genes in the input (all kept; filters choose) */
	int64_t ncells;         /* selected cells */
	int64_t ncells_in;      /* cells in the input */
	char **genes;           /* ngenes names */
	strtab_t *gene_ix;      /* name -> gene index */
	/* gene g's non-zero values are val[ptr[g] .. ptr[g+1]-1] in the selected
	 * cells cell[...] (0-based among selected cells, ascending). Raw zeros
	 * are not stored, so dropout = 1 - (ptr[g+1]-ptr[g]) / ncells. */
	int64_t *ptr;
	int32_t *cell;
	double *val;
	int64_t *cell_in;       /* selected cell -> row of the cells table (input column) */
	/* cells table of the selected cells (none when no cells table): */
	int ncol;
	char **colnames;
	char **field;           /* ncells x ncol strings, row-major */
	char *cells_src;        /* cells table name for messages */
	char **table_all;       /* with keep_table: ncells_in x ncol strings */
	int64_t *sel_in;        /* with keep_table: input cell -> selected cell or -1 */
	/* cells x genes copy (CSR), built by expr_moments_cells when needed */
	int64_t *rptr;
	int32_t *rgene;
	double *rval;
	char *src;              /* counts name for messages */
} expr_t;

/* The input options every expression filter takes, for getopt_long. */
enum { EXPR_OPT_COUNTS = 1000, EXPR_OPT_GENES, EXPR_OPT_CELLS, EXPR_OPT_WHERE, EXPR_OPT_NONORM,
       EXPR_OPT_GENECOL };
#define EXPR_LONGOPTS \
	{ "counts", required_argument, NULL, EXPR_OPT_COUNTS }, \
	{ "genes", required_argument, NULL, EXPR_OPT_GENES }, \
	{ "cells", required_argument, NULL, EXPR_OPT_CELLS }, \
	{ "where", required_argument, NULL, EXPR_OPT_WHERE }, \
	{ "no-normalize", no_argument, NULL, EXPR_OPT_NONORM }, \
	{ "gene-col", required_argument, NULL, EXPR_OPT_GENECOL }
#define EXPR_USAGE \
	"  --counts FILE        counts: MatrixMarket .mtx[.gz] (genes x cells) or a dense\n" \
	"                       .npy/.akm/.tsv (cells x genes); '-' is stdin; or HDF5:\n" \
	"                       a.h5ad[:layers/NAME|:raw/X], .loom, 10x .h5 (its Gene\n" \
	"                       Expression rows; f.h5:TYPE reads another feature type)\n" \
	"  --genes FILE         gene names, one per line (rows of the .mtx, columns of a\n" \
	"                       dense matrix; an .akm's column names serve otherwise)\n" \
	"  --cells FILE         cells table, TSV with a header, one row per cell\n" \
	"                       [HDF5 counts: obs, its index first]\n" \
	"  --gene-col NAME      HDF5 counts: var column of gene names [the var index]\n" \
	"  --where COL=VALUE    keep the cells whose COL is VALUE (repeatable: all hold)\n" \
	"  --no-normalize       use values as given [log1p(counts per 10,000)]\n"
/* Set defaults (normalize on). */
void expr_opts_init(expr_opts_t *o);
/* Handle one getopt_long result; 1 when it was an expression input option. */
int expr_getopt(expr_opts_t *o, int c, const char *arg);

/* Loads, checks shapes against names, selects cells and normalises. Dies
 * with a message naming the file on any problem, and when no cell is left. */
expr_t *expr_load(const expr_opts_t *o);
void expr_free(expr_t *e);

/* Column of the cells table; dies naming it and listing those present (or
 * saying that a cells table is needed, for option opt). */
int expr_col(const expr_t *e, const char *name, const char *opt);
static inline const char *expr_field(const expr_t *e, int64_t cell, int col)
{
	return e->field[cell * e->ncol + col];
}

/* Mean and sample variance (ddof 1; NaN for fewer than 2 cells) of gene g over
 * the selected cells with grp[cell] == want (grp NULL: all), of which there
 * are n. Two passes, zeros included. */
void expr_moments(const expr_t *e, int64_t g, const int32_t *grp, int32_t want, int64_t n,
		  double *mean, double *var);

/* Mean and sample variance of every gene over the listed selected cells
 * (ascending, distinct; n of them), into mean[ngenes], var[ngenes]. Same
 * sums in the same order as expr_moments, but visits only those cells'
 * entries (through a cells x genes copy built on first use). */
void expr_moments_cells(expr_t *e, const int64_t *cells, int64_t n, double *mean, double *var);

/* Gene indices listed in a file (one name per line). Names not in the data
 * are counted and reported once on stderr by the caller's name; dies when
 * none is known. Returns the count; *out is malloc'd, in file order, without
 * duplicates. */
int64_t expr_gene_list(const expr_t *e, const char *path, int64_t **out);

/* Highly variable genes: ranks of all genes by variance over the selected
 * cells (1 = most variable; ties by lower gene index; NaN variance last),
 * and the selection = rank <= n, plus the forced genes (may be NULL/0).
 * rank[] gets every gene's rank; sel[] (ngenes) 1 for selected. Returns the
 * number selected. */
int64_t expr_hvg(const expr_t *e, int64_t n, const int64_t *forced, int64_t nforced,
		 int64_t *rank, uint8_t *sel);

#endif
