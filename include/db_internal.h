/*
 * The pool's own structures (server/db.c), shared only with the files that
 * read its state (server/db_state.c).  Not for anything outside the pool.
 */
#ifndef SENDBENCH_DB_INTERNAL_H
#define SENDBENCH_DB_INTERNAL_H

#include <libpq-fe.h>
#include <stdint.h>

#include "db.h"

struct event;

enum conn_state { CONN_CONNECTING, CONN_IDLE, CONN_BUSY, CONN_DOWN, CONN_NSTATES };

struct db_query {
    struct db_pool *pool;
    enum db_class cls;
    int holding;                /* sent on a connection: counted in busy[cls] */
    char *sql;
    int nparams;
    char **params;
    db_cb cb;
    void *arg;
    struct event *timer;        /* wait timeout, or deferred failure */
    const char *fail_reason;    /* set when the query is failed without a connection */
    char fail_buf[320];
    struct db_query *next;
};

/* A statement prepared on one connection: its text and name ("sb" + index). */
struct prepared {
    uint64_t hash;
    char *sql;
};
#define PREPARED_MAX 48

struct db_conn {
    struct db_pool *pool;
    PGconn *pg;
    struct prepared prep[PREPARED_MAX];
    int nprep;
    int preparing;              /* prep[nprep] is being prepared for q */
    enum conn_state state;
    int is_listener;
    struct event *io;
    struct event *retry;
    int backoff_ms;
    struct db_query *q;         /* the query in flight (CONN_BUSY) */
    PGresult *result;           /* the result kept for q: the first error, else the last */
    int flushing;
    struct db_conn *prev, *next;
};

struct conn_list {
    struct db_conn *head;
    int n;
};

/* The queries of one class waiting for a connection, oldest first. */
struct query_queue {
    struct db_query *head, *tail;
    int n, max;
};

struct db_pool {
    struct event_base *base;
    char *conninfo;
    char options[160];
    int size, wait_ms;
    int write_max;              /* connections writes may hold at once */
    struct db_conn *conns;      /* size entries */
    struct conn_list lists[CONN_NSTATES];
    struct query_queue queues[DB_NCLASSES];
    int busy[DB_NCLASSES];      /* connections running a query of each class */
    char last_error[256];
    struct db_pool_stats stats;
    /* LISTEN */
    struct db_conn *listener;
    char *channel;
    char *channel2;             /* db_pool_listen_also */
    db_notify_cb notify_cb;
    void *notify_arg;
};

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

#endif
