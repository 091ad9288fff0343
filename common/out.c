#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "num.h"
#include "xalloc.h"

#define BUF_CAP (256u << 10)
#define MAX_TMP 16

struct wr {
	char *name;     /* final name, or "<stdout>" */
	char *tmp;      /* temporary name while writing, NULL for stdout */
	int fd;
	int gz;
	z_stream zs;
	unsigned char *zbuf;
	char *buf;
	size_t len;
	int slot;
};

/* Temporary files still open: removed on any exit or fatal signal. */
static char *tmp_names[MAX_TMP];
static volatile sig_atomic_t cleanup_installed;

static void remove_tmps(void)
{
	for (int i = 0; i < MAX_TMP; i++)
		if (tmp_names[i])
			unlink(tmp_names[i]);
}

static void on_signal(int sig)
{
	remove_tmps();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_cleanup(void)
{
	if (cleanup_installed)
		return;
	cleanup_installed = 1;
	err_atexit(remove_tmps);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigaction(sigs[i], &sa, NULL);
	}
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* An existing path that is not a regular file (device, FIFO, socket). */
static int is_special(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

wr_t *wr_open(const char *path, int gzip)
{
	wr_t *w = xcalloc(1, sizeof *w);
	w->slot = -1;
	if (!path || strcmp(path, "-") == 0) {
		w->name = xstrdup("<stdout>");
		w->fd = 1;
	} else if (is_special(path)) {
		/* /dev/null, /dev/stdout, a FIFO: write in place. The temporary-name
		 * dance would rename a regular file over the device. */
		w->name = xstrdup(path);
		w->fd = open(path, O_WRONLY);
		if (w->fd < 0)
			die_errno("cannot open '%s'", path);
		if (!gzip && ends_with(path, ".gz"))
			gzip = 1;
	} else {
		install_cleanup();
		w->name = xstrdup(path);
		size_t n = strlen(path);
		w->tmp = xmalloc(n + 16);
		snprintf(w->tmp, n + 16, "%s.tmp.XXXXXX", path);
		/* Registered before the file exists (mkstemp fills in the name in
		 * place), so a signal at any moment after creation removes it. */
		for (int i = 0; i < MAX_TMP; i++)
			if (!tmp_names[i]) {
				tmp_names[i] = w->tmp;
				w->slot = i;
				break;
			}
		w->fd = mkstemp(w->tmp);
		if (w->fd < 0)
			die_errno("cannot create '%s'", w->tmp);
		/* mkstemp makes 0600; give the file the mode a plain creat() would. */
		mode_t um = umask(0);
		umask(um);
		if (fchmod(w->fd, 0666 & ~um) != 0)
			die_errno("cannot set mode of '%s'", w->tmp);
		if (!gzip && ends_with(path, ".gz"))
			gzip = 1;
	}
	w->buf = xmalloc(BUF_CAP);
	if (gzip) {
		w->gz = 1;
		w->zbuf = xmalloc(BUF_CAP);
		/* Level 1: these are pipeline intermediates; speed matters more than ratio. */
		if (deflateInit2(&w->zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			die("%s: cannot initialise gzip encoder", w->name);
	}
	return w;
}

static void write_fd(wr_t *w, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t k = write(w->fd, s, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			die_errno("%s: write error", w->name);
		}
		s += k;
		n -= (size_t)k;
	}
}

static void deflate_out(wr_t *w, const void *p, size_t n, int flush)
{
	w->zs.next_in = (unsigned char *)p;
	w->zs.avail_in = (uInt)n;
	int rc;
	do {
		w->zs.next_out = w->zbuf;
		w->zs.avail_out = BUF_CAP;
		rc = deflate(&w->zs, flush);
		if (rc == Z_STREAM_ERROR)
			die("%s: gzip compression failed", w->name);
		write_fd(w, w->zbuf, BUF_CAP - w->zs.avail_out);
	} while (w->zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
}

static void flush_buf(wr_t *w, int finish)
{
	if (w->gz)
		deflate_out(w, w->buf, w->len, finish ? Z_FINISH : Z_NO_FLUSH);
	else
		write_fd(w, w->buf, w->len);
	w->len = 0;
}

void wr_write(wr_t *w, const void *p, size_t n)
{
	if (w->len + n > BUF_CAP) {
		flush_buf(w, 0);
		if (n > BUF_CAP) {
			if (w->gz)
				deflate_out(w, p, n, Z_NO_FLUSH);
			else
				write_fd(w, p, n);
			return;
		}
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void wr_puts(wr_t *w, const char *s) { wr_write(w, s, strlen(s)); }

void wr_putc(wr_t *w, int c)
{
	if (w->len == BUF_CAP)
		flush_buf(w, 0);
	w->buf[w->len++] = (char)c;
}

void wr_printf(wr_t *w, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("%s: formatting failed", w->name);
	if ((size_t)n < sizeof small) {
		wr_write(w, small, (size_t)n);
		return;
	}
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	wr_write(w, big, (size_t)n);
	free(big);
}

void wr_f64(wr_t *w, double x)
{
	char b[NUM_BUFSZ];
	wr_write(w, b, (size_t)fmt_f64(b, x));
}

void wr_f32(wr_t *w, float x)
{
	char b[NUM_BUFSZ];
	wr_write(w, b, (size_t)fmt_f32(b, x));
}

void wr_f64_na(wr_t *w, double x)
{
	if (isnan(x))
		wr_puts(w, "NA");
	else
		wr_f64(w, x);
}

void wr_i64(wr_t *w, long long x)
{
	char b[NUM_BUFSZ];
	wr_write(w, b, (size_t)fmt_i64(b, x));
}

void wr_close(wr_t *w)
{
	flush_buf(w, 1);
	if (w->gz)
		deflateEnd(&w->zs);
	if (w->tmp) {
		if (close(w->fd) != 0)
			die_errno("%s: close failed", w->name);
		if (rename(w->tmp, w->name) != 0)
			die_errno("cannot rename '%s' to '%s'", w->tmp, w->name);
		if (w->slot >= 0)
			tmp_names[w->slot] = NULL;
	} else if (w->fd != 1 && close(w->fd) != 0) {
		die_errno("%s: close failed", w->name);
	}
	/* stdout: write(2) already reported every error; nothing is buffered in stdio. */
	free(w->tmp);
	free(w->zbuf);
	free(w->buf);
	free(w->name);
	free(w);
}

const char *wr_name(const wr_t *w) { return w->name; }
int wr_isatty(const wr_t *w) { return isatty(w->fd); }
