/* A progress line on stderr for long work: shown when stderr is a terminal
 * (rewritten in place) or when asked with -v (a line every few seconds). */
#ifndef AK_PROGRESS_H
#define AK_PROGRESS_H

void progress_init(int verbose);
/* Rate-limited; cheap to call often. */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* End the line (terminal) after the last progress(). */
void progress_done(void);
int progress_enabled(void);

#endif
