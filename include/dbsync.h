/*
 * Blocking database access for the command-line commands (migrate, import,
 * token, forecast, backtest).  Never used on the server's event loop: the
 * server goes through the non-blocking pool in db.h.
 */
#ifndef SENDBENCH_DBSYNC_H
#define SENDBENCH_DBSYNC_H

#include <stddef.h>
#include <libpq-fe.h>

/* url: libpq URL/conninfo, or "" for the PG* environment.  Caller frees with
 * PQfinish.  NULL with a reason in err on failure. */
PGconn *dbsync_connect(const char *url, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The same with libpq session options (e.g. db_session_options()) and an
 * application name. */
PGconn *dbsync_connect_as(const char *url, const char *options, const char *app_name, char *err,
                          size_t errlen) __attribute__((warn_unused_result));

/* Runs one parameterised statement.  Returns the result (caller PQclear()s)
 * when it succeeded, else NULL with the server's message in err. */
PGresult *dbsync_exec(PGconn *conn, const char *sql, int nparams,
                      const char *const *params, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
