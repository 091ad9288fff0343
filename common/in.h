/* Buffered input from a path or "-" (stdin), plain or gzip. Gzip is detected
 * by peeking at the first two bytes (1f 8b), so it works on pipes too. A read
 * error, truncated gzip or corrupt gzip is reported with the file name and
 * ends the program: callers only ever see data or a clean end of file. */
#ifndef AK_IN_H
#define AK_IN_H

#include <stddef.h>
#include <stdint.h>

typedef struct rd rd_t;

/* NULL or "-" means stdin. Dies if the file cannot be opened. */
rd_t *rd_open(const char *path);
void rd_close(rd_t *r);
/* Name for messages: the path, or "<stdin>". */
const char *rd_name(const rd_t *r);
int rd_is_gzip(const rd_t *r);

/* Next line without its "\n" or "\r\n", NUL-terminated; the pointer stays
 * valid until the next read. NULL at end of file. *len gets the length. */
char *rd_line(rd_t *r, size_t *len);
/* 1-based number of the line last returned by rd_line. */
int64_t rd_lineno(const rd_t *r);

/* Up to n bytes; fewer only at end of file. */
size_t rd_read(rd_t *r, void *buf, size_t n);
/* Copy up to n upcoming bytes without consuming them; returns how many. */
size_t rd_peek(rd_t *r, void *buf, size_t n);
/* Bytes consumed so far (decompressed offset). */
uint64_t rd_offset(const rd_t *r);

/* Whole remaining content in one malloc'd buffer (for zip archives). */
unsigned char *rd_slurp(rd_t *r, size_t *len);

#endif
