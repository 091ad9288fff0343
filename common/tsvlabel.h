/* Binary labels in TSV fields: 1/0 or true/false (any case). */
#ifndef AK_TSVLABEL_H
#define AK_TSVLABEL_H

#include "tsv.h"

/* 1 or 0; anything else ends the program naming file, line and column. */
int tsv_label(const tsv_t *t, int col);

#endif
