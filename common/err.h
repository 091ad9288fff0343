/* Errors and warnings: one line on stderr, prefixed with the program name. */
#ifndef AK_ERR_H
#define AK_ERR_H

#include <stdnoreturn.h>

extern const char *progname;

/* Set progname from argv[0] (basename). Call first in main(). */
void err_init(const char *argv0);

/* Print "prog: message" and exit 1 (bad data / runtime failure). stdout is
 * flushed first so that the message does not overtake earlier output. */
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As die(), with ": strerror(errno)" appended; for failed system calls. */
noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error: "prog: message" plus a hint to --help, exit 2. */
noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Functions run (last registered first) before die() exits, e.g. to remove
 * temporary output files. At most a handful are ever registered. */
void err_atexit(void (*fn)(void));

#endif
