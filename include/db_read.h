/*
 * Reads on a hot standby (--db-read; issue 20, docs/scale-out.md).
 *
 * Anonymous GET misses of the comparative tables and profiles may be
 * computed on a replica instead of the primary, but only when the replica
 * is known to have applied every change this server has been told of.
 * The check is by WAL position (LSN), never by time:
 *
 *  - each change notice (and a remade listener) starts a barrier: the
 *    primary is asked for pg_current_wal_insert_lsn(), which, asked after the
 *    notice arrived, is at or past the end of the commit that sent it
 *    (PostgreSQL delivers a NOTIFY only after its commit).  The largest
 *    answer is the LSN the replica must have replayed;
 *  - the replica's replay position (pg_last_wal_replay_lsn()) is polled
 *    with each barrier, again when the barrier's answer finds it short,
 *    and when a read does, one poll at a time; it only grows, so a read
 *    sent after a poll saw it at or past the barrier sees the change;
 *  - both are asked on connections of their own (a pool of one on --db,
 *    one on --db-read), so neither waits behind queued reads: under a
 *    stream of notices the time they take is time every miss goes to the
 *    primary.
 *
 * A read goes to the primary while a barrier is unanswered (or failed),
 * while the replica is short of it, while the change listener is down (a
 * notice may have been missed), while the replica pool has no connection,
 * and again when the replica itself fails it (a conflict with recovery, a
 * lost connection, a full pool: reply->unavailable); an error of the query
 * itself (which the primary would give as well) is the answer.  So a reply computed after a notice never
 * holds the data from before it, and the cache (which keeps a result only
 * when nothing changed since its computation began) never keeps stale
 * data under a new generation.  Writes, token callers' reads (a council's
 * own 201 Location among them) and every other read stay on the primary.
 *
 * Without --db-read every call goes to the primary pool unchanged.
 * Loop-thread only.
 */
#ifndef SENDBENCH_DB_READ_H
#define SENDBENCH_DB_READ_H

#include <stdint.h>

#include "db.h"

struct app;

/* Opens the replica pool when cfg->db_read is set (app->reader stays NULL
 * otherwise).  Returns 0, or -1 out of memory. */
int db_read_start(struct app *app) __attribute__((warn_unused_result));

/* Closes the replica pool (its queries are answered as on shutdown).  Call
 * before the primary pool is freed. */
void db_read_free(struct app *app);

/* A change notice (or the listener remade): the replica must replay what
 * the primary has now before it serves again. */
void db_read_changed(struct app *app);

/* As db_pool_query, on the replica when it is known to be up to date,
 * else (or after it failed the query) on the primary.  For anonymous reads
 * only. */
int db_read_query(struct app *app, const char *sql, int nparams, const char *const *params,
                  db_cb cb, void *arg) __attribute__((warn_unused_result));

/* "16/B374D848" to a 64-bit position.  Returns 0, or -1 when s is not one. */
int db_lsn_parse(const char *s, uint64_t *out);

#endif
