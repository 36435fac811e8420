/*
 * Non-blocking PostgreSQL connection pool on a libevent loop.
 *
 * Connections are made with PQconnectStartParams/PQconnectPoll, queries are
 * sent with PQsendQueryParams and PQflush, results read with
 * PQconsumeInput/PQisBusy/PQgetResult: nothing here ever blocks the loop.
 * Connections sit on explicit lists (connecting, idle, busy, down) and move
 * between them through one function.  When every connection is busy a query
 * waits in a bounded queue for at most wait_ms; when the database goes away
 * connections are remade with exponential back-off.
 *
 * Reads and writes wait apart: each class has its own bounded queue, and
 * writes (db_pool_write) hold at most write_size connections at once, so a
 * burst of submissions neither fills the queue reads wait in nor takes the
 * connections they need.  A waiting write goes first whenever writes are
 * under their limit, so reads cannot starve writes either.
 */
#ifndef SENDBENCH_DB_H
#define SENDBENCH_DB_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

struct event_base;
struct db_pool;

struct db_reply {
    PGresult *res;          /* borrowed: valid only during the callback; may be NULL */
    const char *error;      /* NULL on success */
    const char *sqlstate;   /* SQLSTATE of a failed statement, else NULL */
    int unavailable;        /* database unreachable or pool exhausted: answer 503 */
};

/* Called exactly once per query, always from the event loop and never from
 * inside db_pool_query itself. */
typedef void (*db_cb)(const struct db_reply *reply, void *arg);

/* Called for each NOTIFY on a channel given to db_pool_listen; payload NULL
 * means "the listening connection was remade: anything may have changed". */
typedef void (*db_notify_cb)(const char *channel, const char *payload, void *arg);

enum db_class { DB_READ, DB_WRITE, DB_NCLASSES };

struct db_pool_stats {
    int connecting, idle, busy, down, queued;           /* queued: both classes */
    int write_queued, write_busy, write_max;
    uint64_t queries, errors, waits, wait_timeouts, rejected, reconnects;
    uint64_t write_waits, write_rejected;               /* of which writes */
};

struct db_pool_limits {
    int size;               /* connections */
    int queue_max;          /* reads that may wait for a connection */
    int write_size;         /* connections writes may hold at once (0 or >= size: all) */
    int write_queue_max;    /* writes that may wait (0: queue_max) */
    int wait_ms;            /* how long a query may wait (either class) */
};

/* conninfo: libpq URL or key=value string ("" = PG* environment), copied.
 * role: the role every session switches to (SET ROLE), "" for none.
 * Starts connecting at once.  Caller frees with db_pool_free. */
struct db_pool *db_pool_new(struct event_base *base, const char *conninfo, const char *role,
                            const struct db_pool_limits *limits)
    __attribute__((warn_unused_result));

/* The libpq "options" string the server's sessions use (statement timeout
 * and role); shared with the forecast worker's connection. */
void db_session_options(const char *role, char *out, size_t outlen);

/* Closes every connection; queries still queued are answered with an error. */
void db_pool_free(struct db_pool *pool);

/* Queues a parameterised statement (text parameters, copied; NULL = SQL
 * NULL) as a read.  Returns 0, or -1 only when out of memory (cb is then
 * not called). */
int db_pool_query(struct db_pool *pool, const char *sql, int nparams,
                  const char *const *params, db_cb cb, void *arg)
    __attribute__((warn_unused_result));

/* The same for a statement that writes (a submission, an approval): it
 * waits in the writes' queue and counts against their connection limit. */
int db_pool_write(struct db_pool *pool, const char *sql, int nparams,
                  const char *const *params, db_cb cb, void *arg)
    __attribute__((warn_unused_result));

/* LISTENs on channel over a dedicated connection, remade like the others.
 * Call once, before or after connections are up. */
/* 1 while the LISTEN connection is up and listening. */
int db_pool_listener_up(const struct db_pool *pool);

int db_pool_listen(struct db_pool *pool, const char *channel, db_notify_cb cb, void *arg)
    __attribute__((warn_unused_result));

/* A second channel the same connection LISTENs on (the heartbeat's), from
 * the next time it connects: call before db_pool_listen.  Its notices go to
 * the same callback with their channel.  Returns 0, or -1 out of memory. */
int db_pool_listen_also(struct db_pool *pool, const char *channel)
    __attribute__((warn_unused_result));

/* Drops the LISTEN connection (logged with reason) and remakes it, as when
 * it is lost: for a connection that looks up but no longer hears. */
void db_pool_listener_reset(struct db_pool *pool, const char *reason);

void db_pool_get_stats(const struct db_pool *pool, struct db_pool_stats *out);

/* 1 when at least one connection is up (idle or busy).  Otherwise 0 and
 * *reason (borrowed) says why. */
int db_pool_is_up(const struct db_pool *pool, const char **reason);

#endif
