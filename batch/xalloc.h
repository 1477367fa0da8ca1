/*
 * xalloc.h - allocation that cannot fail, for flux-batch's own
 * bookkeeping. When memory runs out the run logs it and exits 1 (a job
 * failed), and the next run takes over: every step of a run can be done
 * again (a populate job left in processing is queued again, an upload
 * still "processing" is taken again and flux.last keeps it from sending
 * twice, a spool file goes only once carbon took it).
 *
 * Only for sizes flux-batch bounds itself (columns, URLs, a chunk). Not
 * in the CGIs nor the common library they share: a request must answer
 * 500 "internal error" (SPEC 3), and dying would lose that answer. Not in
 * the parsers of uploaded files (report.c, sheet.c, xlsx.c, xls.c,
 * unpack.c): a size a file decides must fail that file, not the run.
 */
#ifndef FLUX_XALLOC_H
#define FLUX_XALLOC_H

#include <stddef.h>

void	*xcalloc(size_t n, size_t size);
void	*xreallocarray(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);

#endif
