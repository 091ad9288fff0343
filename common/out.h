/* Output to stdout or to a file written under a temporary name and renamed
 * into place by wr_close(), so a failed run never leaves a file that make
 * would take as done. Gzip when the name ends in ".gz" or when asked. Every
 * write and the close are checked: a full disk is an error, not silence. */
#ifndef AK_OUT_H
#define AK_OUT_H

#include <stddef.h>

typedef struct wr wr_t;

/* path NULL or "-" means stdout. gzip: 1 forces gzip, 0 decides by ".gz". */
wr_t *wr_open(const char *path, int gzip);
void wr_write(wr_t *w, const void *p, size_t n);
void wr_puts(wr_t *w, const char *s);
void wr_putc(wr_t *w, int c);
void wr_printf(wr_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Field helpers for TSV: number formatted round-trip exact. */
void wr_f64(wr_t *w, double x);
void wr_f32(wr_t *w, float x);
void wr_i64(wr_t *w, long long x);
/* As wr_f64, with NaN written as the missing-value spelling NA. */
void wr_f64_na(wr_t *w, double x);
/* Flush, close, rename into place. Dies on any failure. */
void wr_close(wr_t *w);
const char *wr_name(const wr_t *w);
/* 1 when the destination is a terminal (refuse binary there). */
int wr_isatty(const wr_t *w);

#endif
