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

/* A connection in two halves, so that a command can do other work (read a
 * file) while the server starts its backend: dbsync_connect_begin() sends
 * the startup packet and returns without waiting for the reply;
 * dbsync_connect_end() waits for the connection to be ready (a no-op when it
 * already is).  begin: NULL with a reason in err when out of memory or the
 * address is bad; end: 0, or -1 with the reason in err. */
PGconn *dbsync_connect_begin(const char *url, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int dbsync_connect_end(PGconn *conn, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Runs one parameterised statement.  Returns the result (caller PQclear()s)
 * when it succeeded, else NULL with the server's message in err. */
PGresult *dbsync_exec(PGconn *conn, const char *sql, int nparams,
                      const char *const *params, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Runs several statements without parameters in one round trip (the
 * simple query protocol), keeping the first nres results in res[] (caller
 * PQclear()s each; unused slots are NULL).  0, or -1 with the first error in
 * err and nothing kept: the statements after a failing one do not run. */
int dbsync_exec_many(PGconn *conn, const char *sql, PGresult **res, int nres, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* Runs one statement without parameters and discards its result.  0, or -1
 * with the server's message in err. */
int dbsync_exec_simple(PGconn *conn, const char *sql, char *err, size_t errlen);

/* COPY ... FROM STDIN in steps, so that rows can be sent as they are made
 * (PQputCopyData between the two): start: 0, or -1 with the reason in err;
 * finish ends the COPY (aborting it when !ok) and collects its result; when
 * the server refuses a row, *copy_line (if given) gets its line in the data. */
int dbsync_copy_start(PGconn *conn, const char *sql, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int dbsync_copy_finish(PGconn *conn, int ok, char *err, size_t errlen, unsigned *copy_line)
    __attribute__((warn_unused_result));

#endif
