#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

static void *check(void *p, size_t n)
{
	if (!p && n)
		die("out of memory allocating %zu bytes", n);
	return p;
}

void *xmalloc(size_t n) { return check(malloc(n ? n : 1), n); }
void *xcalloc(size_t n, size_t size) { return check(calloc(n ? n : 1, size ? size : 1), xmul(n, size)); }
void *xrealloc(void *p, size_t n) { return check(realloc(p, n ? n : 1), n); }

size_t xmul(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b)
		die("size overflow: %zu x %zu", a, b);
	return a * b;
}

void *xaligned(size_t align, size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, align, n ? n : 1) != 0)
		p = NULL;
	return check(p, n ? n : 1);
}

void *xmallocarray(size_t n, size_t size) { return xmalloc(xmul(n, size)); }
void *xreallocarray(void *p, size_t n, size_t size) { return xrealloc(p, xmul(n, size)); }

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = xmalloc(a + b + 2);
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}
