/* Reference networks (TRRUST, DoRothEA, any TSV with one edge per row): one
 * reader and one option set for every filter that compares gene pairs with
 * a reference, so that "--ref-cols 1,2" means the same thing everywhere.
 *
 * Columns: --ref-cols A,B names the source and target columns by header
 * name or by 1-based position [from,to when line 1 names both, else 1,2].
 * Header (--ref-header auto|yes|no, --no-header = no) [auto]:
 *   yes   line 1 is a header;
 *   no    line 1 is an edge;
 *   auto  line 1 is a header when a column (of --ref-cols, or a carried
 *         column) is given by name; with positions only, when neither of
 *         line 1's two ids occurs as an id in the same two columns of any
 *         other line (header words never recur; a gene of a network
 *         almost always does: a regulator has several targets). A header
 *         found that way is announced on stderr.
 * Ids: with --map FILE (TSV with a header; --map-cols FROM,TO [1,2]) a gene
 * id of the caller's type FROM stands for every reference id TO it maps to
 * (many-to-many); without, gene ids are compared with reference ids as they
 * are. --undirected: an edge A - B is also B - A. */
#ifndef AK_REFNET_H
#define AK_REFNET_H

#include <getopt.h>
#include <stdint.h>

#include "idmap.h"
#include "pairset.h"
#include "strtab.h"

enum {
	REFNET_OPT_REF = 0x5200, REFNET_OPT_COLS, REFNET_OPT_HEADER, REFNET_OPT_NOHEADER,
	REFNET_OPT_UNDIR, REFNET_OPT_MAP, REFNET_OPT_MAPCOLS
};

/* Entries of a getopt_long table; refnet_opt() handles their codes. */
#define REFNET_LONGOPTS                                                        \
	{ "ref", required_argument, NULL, REFNET_OPT_REF },                    \
	{ "ref-cols", required_argument, NULL, REFNET_OPT_COLS },              \
	{ "ref-header", required_argument, NULL, REFNET_OPT_HEADER },          \
	{ "no-header", no_argument, NULL, REFNET_OPT_NOHEADER },               \
	{ "undirected", no_argument, NULL, REFNET_OPT_UNDIR },                 \
	{ "map", required_argument, NULL, REFNET_OPT_MAP },                    \
	{ "map-cols", required_argument, NULL, REFNET_OPT_MAPCOLS }

/* The same lines in every filter's usage text. */
#define REFNET_USAGE                                                                         \
	"  --ref REF              reference network, one edge per row (TSV, gzip ok)\n"        \
	"  --ref-cols A,B         its source and target columns, names or 1-based\n"          \
	"                         positions [from,to when line 1 names both, else 1,2]\n"     \
	"  --ref-header auto|yes|no  line 1 of REF is a header [auto: when a column\n"        \
	"                         is named, or line 1's ids occur on no other line]\n"       \
	"  --no-header            the same as --ref-header no\n"                              \
	"  --undirected           an edge A - B also matches B -> A\n"                        \
	"  --map MAP              id map (TSV with header) from the genes' ids to REF's\n"    \
	"  --map-cols FROM,TO     MAP's columns: genes' id type, REF's id type [1,2]\n"

enum { REFNET_HDR_AUTO, REFNET_HDR_YES, REFNET_HDR_NO };

typedef struct refnet_opts {
	const char *path, *cols, *map, *map_cols;
	int header, undirected;
} refnet_opts_t;

void refnet_opts_init(refnet_opts_t *o);
/* Handles one of the REFNET_OPT_* codes: 1, or 0 for another code. */
int refnet_opt(refnet_opts_t *o, int code, const char *arg);

typedef struct refnet {
	char *name;          /* file name for messages */
	strtab_t *ids;       /* reference ids */
	int64_t n;           /* edges (rows with both ids), file order */
	uint32_t *src, *dst; /* ids of edge i */
	int64_t *deg;        /* per id: edge endpoints it is (0: header word) */
	int undirected, header;
	int64_t rows, empty; /* data rows; rows with an empty id (skipped) */
	int ncarry;          /* carried columns (refnet_read's carry) */
	char **carry_names;  /* header names, or ref_N without a header */
	int64_t *carry_off;  /* edge i, column j: carry_buf + carry_off[i * ncarry + j] */
	char *carry_buf;
} refnet_t;

/* Reads o->path. carry: more columns ("a,b" or positions) whose values
 * are kept per edge, or NULL. Dies on a missing column, on a file without
 * edges, and says what it skipped. */
refnet_t *refnet_read(const refnet_opts_t *o, const char *carry);
void refnet_free(refnet_t *r);
static inline const char *refnet_carry(const refnet_t *r, int64_t edge, int j)
{
	return r->carry_buf + r->carry_off[edge * r->ncarry + j];
}
/* Id of a reference gene, or -1 (header words are not genes). */
int64_t refnet_id(const refnet_t *r, const char *s, size_t len);

/* The map of o (NULL without --map). */
idmap_t *refnet_map(const refnet_opts_t *o);

/* Directed edges as a set of id pairs, value = the first edge (file order)
 * with that pair; both directions when undirected. *dups (may be NULL):
 * edges whose pair was there already. */
pairset_t *refnet_pairset(const refnet_t *r, int64_t *dups);

/* A caller's genes resolved to reference ids (through the map when given):
 * gene g of G has ids[off[g] .. off[g+1]), distinct. */
typedef struct refnet_genes {
	int64_t n, *off;
	uint32_t *ids;
	int64_t matched;     /* genes with at least one reference id */
} refnet_genes_t;

refnet_genes_t *refnet_genes(const refnet_t *r, const idmap_t *map, const strtab_t *G);
void refnet_genes_free(refnet_genes_t *g);

/* The loud check every filter makes once it knows its genes: "0 of N genes
 * in the reference: Ensembl vs symbol? set MAP" ends the program (exit 1),
 * fewer than 10% of min(N, reference genes) is a warning. what names the
 * genes ("universe genes"), example is one of them (for the message). */
void refnet_check_match(const refnet_t *r, const idmap_t *map, int64_t matched, int64_t n,
			const char *what, const char *example);

/* What became of the reference's rows in refnet_among: a gene outside G,
 * only self pairs (dropped), only pairs seen before (repeats). */
typedef struct refnet_among_stats {
	int64_t outside, self, repeats;
} refnet_among_stats_t;

/* Reference edges between genes of G, as distinct (i, j) index pairs of G
 * in the order of the reference's rows (a mapped row: its genes in map
 * order), both directions when undirected; count. self: keep i == j (a
 * self-regulating gene), else drop it. st may be NULL. */
int64_t refnet_among(const refnet_t *r, const refnet_genes_t *g, int self, uint32_t **from,
		     uint32_t **to, refnet_among_stats_t *st);

#endif
