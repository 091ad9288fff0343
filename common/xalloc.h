/* Allocation that dies with a clear message instead of returning NULL, and
 * size arithmetic that refuses to overflow (shapes come from untrusted files). */
#ifndef AK_XALLOC_H
#define AK_XALLOC_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* n * size with overflow check; dies naming what was being sized. */
void *xmallocarray(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
/* Aligned to `align` (a power of two, a multiple of sizeof(void *)); free()d. */
void *xaligned(size_t align, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* "dir/name", newly allocated. */
char *path_join(const char *dir, const char *name);
/* a * b, dying if it overflows size_t. */
size_t xmul(size_t a, size_t b);

#endif
