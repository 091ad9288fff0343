/* Option values: strict numbers, with usage errors (exit 2) naming the option. */
#ifndef AK_OPT_H
#define AK_OPT_H

long long opt_int(const char *s, const char *opt, long long lo, long long hi);
double opt_double(const char *s, const char *opt);

#endif
