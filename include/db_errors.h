/*
 * What a failed statement's SQLSTATE means for the server (pure code,
 * tests/unit/test_db_errors.c).  With several servers on streaming
 * replication some failures are the topology moving under us, not a bad
 * request: the node became (or is) a standby, a serialisation conflict, the
 * server is shutting down or refusing connections, the connection broke.
 * Those answer 503 with Retry-After (db.h's unavailable), and the ones that
 * leave the session unusable make the pool remake the connection.
 */
#ifndef SENDBENCH_DB_ERRORS_H
#define SENDBENCH_DB_ERRORS_H

/* 1 for 25006 (read-only transaction: a standby), 40001 (serialization
 * failure), 40P01 (deadlock: retrying succeeds), 57P01-57P05 (admin or
 * crash shutdown, cannot connect now, idle session timeout), 08xxx
 * (connection exceptions).  NULL or anything else: 0. */
int db_sqlstate_unavailable(const char *sqlstate);

/* 1 when the connection should be remade after the error: 25006 (a
 * standby: libpq's target_session_attrs=read-write finds the primary on
 * reconnect), 57P0x and 08xxx. */
int db_sqlstate_reconnect(const char *sqlstate);

#endif
