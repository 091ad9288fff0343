#include "tsvlabel.h"

#include <string.h>
#include <strings.h>

int tsv_label(const tsv_t *t, int col)
{
	const char *s = tsv_str(t, col);
	if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0)
		return 1;
	if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0)
		return 0;
	tsv_die(t, col, "\"%.60s\" is not a label (1/0 or true/false)", s);
}
