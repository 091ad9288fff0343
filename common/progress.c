#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

static int enabled, tty, shown;
static double last;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_init(int verbose)
{
	tty = isatty(2);
	enabled = verbose || tty;
	last = now();
}

int progress_enabled(void) { return enabled; }

void progress(const char *fmt, ...)
{
	if (!enabled)
		return;
	double t = now();
	if (t - last < (tty ? 0.25 : 5.0))
		return;
	last = t;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, tty ? "\r%s: " : "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputs(tty ? "\033[K" : "\n", stderr);
	va_end(ap);
	shown = 1;
}

void progress_done(void)
{
	if (enabled && tty && shown)
		fputs("\r\033[K", stderr);
	shown = 0;
}
