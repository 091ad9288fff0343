/* Threads, written once: how many (--threads, else ATTNKIT_THREADS, else
 * the online CPUs) and one fork-join helper. Work is split so that results
 * never depend on the count. (The attention engine, attn.c, keeps its own
 * pool for now.) */
#ifndef AK_PAR_H
#define AK_PAR_H

#include <stddef.h>

/* The thread count: the last par_set_threads, else ATTNKIT_THREADS (dies
 * unless 1..256), else the online CPUs; at most 16 either way. */
int par_threads(void);
/* A filter's --threads N (1..256) wins over ATTNKIT_THREADS. */
void par_set_threads(int n);

/* Calls fn(arg_t) for t = 0..n-1 at once, t = 0 on the calling thread and
 * the others on new threads, and returns when all have returned. arg_t =
 * (char *)args + t * stride: an array of per-thread jobs, or stride 0 for a
 * job that the threads share (and divide among themselves). Dies when a
 * thread cannot start. */
void parallel_for(int n, void *(*fn)(void *), void *args, size_t stride);

#endif
