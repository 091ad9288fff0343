/* Options, as samtools' sam_opts.h: the ones every filter spells the same
 * way (-o/--output FILE, -h/--help, -v/--verbose, --seed S, --threads N)
 * as entries for a filter's struct option table, with one parser each, and
 * strict numbers whose errors are usage errors (exit 2) naming the option. */
#ifndef AK_OPT_H
#define AK_OPT_H

#include <getopt.h>
#include <stdint.h>

long long opt_int(const char *s, const char *opt, long long lo, long long hi);
double opt_double(const char *s, const char *opt);

/* getopt_long codes of --seed and --threads, above any filter's own codes
 * and apart from gbdt.h's MODEL_OPT_* (0x4000...). */
enum { OPT_STD_SEED = 0x4100, OPT_STD_THREADS };

#define OPT_LONG_OUTPUT  { "output", required_argument, NULL, 'o' }
#define OPT_LONG_HELP    { "help", no_argument, NULL, 'h' }
#define OPT_LONG_VERBOSE { "verbose", no_argument, NULL, 'v' }
#define OPT_LONG_SEED    { "seed", required_argument, NULL, OPT_STD_SEED }
#define OPT_LONG_THREADS { "threads", required_argument, NULL, OPT_STD_THREADS }

/* --seed S: 0 .. 2^63 - 1. */
uint64_t opt_seed(const char *arg);
/* --threads N: 1 .. 256; also par_set_threads(N), so that --threads wins
 * over ATTNKIT_THREADS wherever par.h's threads run. Returns N. */
int opt_threads(const char *arg);

#endif
