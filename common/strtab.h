/* String interner: maps ids (gene names) to dense 0-based integers and back. */
#ifndef AK_STRTAB_H
#define AK_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct strtab strtab_t;

strtab_t *strtab_new(void);
void strtab_free(strtab_t *t);
/* Id of s, adding it when new; *added (may be NULL) tells which. */
int64_t strtab_put(strtab_t *t, const char *s, size_t len, int *added);
/* Id of s, or -1. */
int64_t strtab_get(const strtab_t *t, const char *s, size_t len);
const char *strtab_str(const strtab_t *t, int64_t id);
int64_t strtab_size(const strtab_t *t);

/* Reads one id per line (a genes.txt) so that id = line - 1; dies on empty
 * lines, on a line with a tab (more than one column) and on duplicates
 * (naming both lines). */
strtab_t *strtab_read_lines(const char *path);

#endif
