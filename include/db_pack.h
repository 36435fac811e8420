/*
 * A statement and its text parameters copied into one allocation behind a
 * caller's header (the pool's queued query, a replica read kept for a
 * retry on the primary: server/db.c, server/db_read.c).
 */
#ifndef SENDBENCH_DB_PACK_H
#define SENDBENCH_DB_PACK_H

#include <stddef.h>

/* Allocates head bytes (zeroed, returned) followed by nparams parameter
 * pointers (*params_out; NULL stays NULL) and copies of the parameters and
 * of sql (*sql_out); one free() releases it all.  NULL out of memory. */
void *db_pack(size_t head, const char *sql, int nparams, const char *const *params,
              char ***params_out, char **sql_out) __attribute__((warn_unused_result));

#endif
