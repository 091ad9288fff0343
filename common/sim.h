/* The demo's simulated foundation models (fm-sim): several models in the
 * model-directory layout of attnkit(7), with planted structure whose recovery
 * tells a user the pipelines work. */
#ifndef AK_SIM_H
#define AK_SIM_H

#include <stdint.h>

typedef struct {
	const char *out;   /* output directory (created) */
	uint64_t seed;
	int genes;         /* size of the gene universe */
	int layers;
	int code;          /* per-head code width; d = 4 heads x 2 x code */
	int categories;
} sim_opts_t;

void sim_write(const sim_opts_t *o);

#endif
