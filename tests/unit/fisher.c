/* common/fisher.c, directly: reads tables "a b c d" from stdin and prints
 * the upper tail, its log, the sample odds ratio, the lower tail and the
 * two-sided p (scipy's rule), so edge-join.bats can compare them with
 * scipy.stats.fisher_exact. */
#include <stdio.h>

#include "fisher.h"

int main(void)
{
	long long a, b, c, d;
	while (scanf("%lld %lld %lld %lld", &a, &b, &c, &d) == 4)
		printf("%.17g %.17g %.17g %.17g %.17g\n", fisher_greater(a, b, c, d),
		       fisher_greater_log(a, b, c, d), fisher_odds_ratio(a, b, c, d), fisher_less(a, b, c, d),
		       fisher_two_sided(a, b, c, d));
	return 0;
}
