#include "par.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "num.h"
#include "xalloc.h"

static int forced;

void par_set_threads(int n)
{
	forced = n;
}

int par_threads(void)
{
	const char *env = getenv("ATTNKIT_THREADS");
	long n = 0;
	if (forced > 0) {
		n = forced;
	} else if (env && *env) {
		int64_t v;
		if (!parse_i64(env, &v) || v < 1 || v > 256)
			die("ATTNKIT_THREADS: '%s' is not a thread count (1..256)", env);
		n = (long)v;
	} else {
		n = sysconf(_SC_NPROCESSORS_ONLN);
	}
	if (n < 1) n = 1;
	if (n > 16) n = 16;
	return (int)n;
}

void parallel_for(int n, void *(*fn)(void *), void *args, size_t stride)
{
	if (n < 1)
		return;
	pthread_t *th = xcalloc((size_t)n, sizeof *th);
	for (int t = 1; t < n; t++)
		if (pthread_create(&th[t], NULL, fn, (char *)args + (size_t)t * stride) != 0)
			die("cannot start a thread");
	fn(args);
	for (int t = 1; t < n; t++)
		pthread_join(th[t], NULL);
	free(th);
}
