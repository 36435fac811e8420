#include "db.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_errors.h"
#include "db_pack.h"
#include "db_internal.h"
#include "log.h"

static void conn_start(struct db_conn *c);
static void conn_io_cb(evutil_socket_t fd, short what, void *arg);
static void pool_dispatch(struct db_pool *pool);

/* The one place a connection changes list. */
static void conn_move(struct db_conn *c, enum conn_state to)
{
    struct db_pool *pool = c->pool;
    if (c->is_listener) {
        c->state = to;
        return;
    }
    /* Every pool connection is on exactly one list, that of its state. */
    struct conn_list *from = &pool->lists[c->state];
    if (c->prev)
        c->prev->next = c->next;
    else
        from->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    from->n--;
    c->prev = NULL;
    c->next = pool->lists[to].head;
    if (c->next)
        c->next->prev = c;
    pool->lists[to].head = c;
    pool->lists[to].n++;
    c->state = to;
}

static void conn_watch(struct db_conn *c, short what)
{
    event_del(c->io);
    event_assign(c->io, c->pool->base, PQsocket(c->pg), what, conn_io_cb, c);
    event_add(c->io, NULL);
}

/* Statements are prepared once per connection and then only executed, so
 * PostgreSQL plans them from its plan cache instead of for every request
 * (planning a profile, whose views expand into dozens of branches, cost as
 * much as running it).  The text is the key: a connection keeps up to
 * PREPARED_MAX of them and sends any further text unnamed, as before. */
static uint64_t sql_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int prep_find(const struct db_conn *c, const char *sql, uint64_t h)
{
    for (int i = 0; i < c->nprep; i++)
        if (c->prep[i].hash == h && strcmp(c->prep[i].sql, sql) == 0)
            return i;
    return -1;
}

/* A new session knows none of them. */
static void prep_forget(struct db_conn *c)
{
    for (int i = 0; i < PREPARED_MAX; i++) {
        free(c->prep[i].sql);
        c->prep[i].sql = NULL;
    }
    c->nprep = 0;
    c->preparing = 0;
}

static void set_last_error(struct db_pool *pool, const char *msg)
{
    snprintf(pool->last_error, sizeof pool->last_error, "%s", msg ? msg : "unknown error");
    pool->last_error[strcspn(pool->last_error, "\n")] = '\0';
}

static void query_free(struct db_query *q)
{
    if (!q)
        return;
    if (q->timer)
        event_free(q->timer);
    free(q);   /* sql and params live in the same block */
}

static void query_finish(struct db_query *q, PGresult *res, const char *error, int unavailable)
{
    struct db_reply reply = {res, error, NULL, unavailable};
    if (q->holding) {
        q->pool->busy[q->cls]--;
        q->holding = 0;
    }
    if (res && !error) {
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            reply.error = PQresultErrorMessage(res);
            reply.sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            reply.unavailable = db_sqlstate_unavailable(reply.sqlstate);
        }
    }
    if (reply.error) {
        q->pool->stats.errors++;
        if (!reply.error[0])
            reply.error = "database error";
    }
    q->cb(&reply, q->arg);
    query_free(q);
}

static void queue_remove(struct db_pool *pool, struct db_query *q)
{
    struct query_queue *qq = &pool->queues[q->cls];
    struct db_query **pp = &qq->head, *prev = NULL;
    while (*pp && *pp != q) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = q->next;
    if (qq->tail == q)
        qq->tail = prev;
    q->next = NULL;
    qq->n--;
}

static void queue_append(struct query_queue *qq, struct db_query *q)
{
    if (qq->tail)
        qq->tail->next = q;
    else
        qq->head = q;
    qq->tail = q;
    qq->n++;
}

/* Whether a write may take a connection now: writes hold at most write_max
 * connections, so the rest always serve reads however many submissions
 * arrive. */
static int write_may_start(const struct db_pool *pool)
{
    return pool->busy[DB_WRITE] < pool->write_max;
}

/* The next query to give a free connection: a waiting write first while
 * writes are under their limit (a stream of reads never holds them back),
 * else the oldest read. */
static struct db_query *pool_next(struct db_pool *pool)
{
    if (pool->queues[DB_WRITE].head && write_may_start(pool))
        return pool->queues[DB_WRITE].head;
    return pool->queues[DB_READ].head;
}

static void query_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct db_query *q = arg;
    if (!q->fail_reason) {
        /* Waited too long for a connection. */
        queue_remove(q->pool, q);
        q->pool->stats.wait_timeouts++;
        q->fail_reason = "timed out waiting for a database connection";
    }
    query_finish(q, NULL, q->fail_reason, 1);
}

/* Answers q with an error on the next loop pass, so that callers are never
 * called back from inside db_pool_query. */
static void query_fail_later(struct db_query *q, const char *reason)
{
    snprintf(q->fail_buf, sizeof q->fail_buf, "%s", reason);
    q->fail_reason = q->fail_buf;
    struct timeval now = {0, 0};
    evtimer_add(q->timer, &now);
}

static void conn_schedule_retry(struct db_conn *c)
{
    struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
    evtimer_add(c->retry, &tv);
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static int pool_any_alive(const struct db_pool *pool)
{
    return pool->lists[CONN_IDLE].n + pool->lists[CONN_BUSY].n +
           pool->lists[CONN_CONNECTING].n > 0;
}

/* The connection is lost (or never made): answer its query, drop it, and
 * retry later.  When nothing is left alive, queued queries fail at once
 * rather than wait out their timeout. */
static void conn_fail(struct db_conn *c, const char *reason)
{
    struct db_pool *pool = c->pool;
    set_last_error(pool, reason);
    log_warn("db: connection %s: %s", c->is_listener ? "(listener) lost" : "lost",
             pool->last_error);
    struct db_query *q = c->q;
    c->q = NULL;
    if (c->result) {
        PQclear(c->result);
        c->result = NULL;
    }
    event_del(c->io);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    prep_forget(c);
    conn_move(c, CONN_DOWN);
    conn_schedule_retry(c);
    if (q) {
        char msg[300];
        snprintf(msg, sizeof msg, "database unavailable: %s", pool->last_error);
        query_finish(q, NULL, msg, 1);
    }
    if (!c->is_listener && !pool_any_alive(pool)) {
        for (int k = 0; k < DB_NCLASSES; k++) {
            while (pool->queues[k].head) {
                struct db_query *w = pool->queues[k].head;
                queue_remove(pool, w);
                evtimer_del(w->timer);
                char msg[300];
                snprintf(msg, sizeof msg, "database unavailable: %s", pool->last_error);
                query_fail_later(w, msg);
            }
        }
    }
}

static void conn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct db_conn *c = arg;
    c->pool->stats.reconnects++;
    conn_start(c);
}

static void conn_send(struct db_conn *c, struct db_query *q);
static void conn_flush_and_watch(struct db_conn *c);
static int conn_prepared(struct db_conn *c);

static void conn_ready(struct db_conn *c)
{
    struct db_pool *pool = c->pool;
    c->backoff_ms = BACKOFF_MIN_MS;
    if (PQsetnonblocking(c->pg, 1) != 0) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    if (c->is_listener) {
        /* The channel name is a constant from our own code, but quote it as
         * an identifier all the same. */
        char *ident = PQescapeIdentifier(c->pg, pool->channel, strlen(pool->channel));
        char *ident2 = pool->channel2
                           ? PQescapeIdentifier(c->pg, pool->channel2, strlen(pool->channel2))
                           : NULL;
        char sql[300];
        snprintf(sql, sizeof sql, "LISTEN %s%s%s", ident ? ident : "\"\"",
                 ident2 ? "; LISTEN " : "", ident2 ? ident2 : "");
        PQfreemem(ident);
        PQfreemem(ident2);
        if (!PQsendQuery(c->pg, sql)) {
            conn_fail(c, PQerrorMessage(c->pg));
            return;
        }
        conn_move(c, CONN_BUSY);
        c->flushing = 1;
        conn_watch(c, EV_READ | EV_WRITE);
        return;
    }
    conn_move(c, CONN_IDLE);
    conn_watch(c, EV_READ);
    pool_dispatch(pool);
}

static void conn_start(struct db_conn *c)
{
    struct db_pool *pool = c->pool;
    /* statement_timeout bounds how long any one query can hold a
     * connection; the role drops the login's privileges to the
     * application's (no schema changes); expand_dbname lets conninfo be a
     * URL. */
    const char *keys[] = {"dbname", "application_name", "options", NULL};
    const char *vals[] = {pool->conninfo, c->is_listener ? "sendbench-listen" : "sendbench",
                          pool->options, NULL};
    c->pg = PQconnectStartParams(keys, vals, 1);
    if (!c->pg) {
        conn_fail(c, "out of memory");
        return;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD || PQsocket(c->pg) < 0) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    conn_move(c, CONN_CONNECTING);
    conn_watch(c, EV_WRITE);
}

static void conn_notifies(struct db_conn *c)
{
    PGnotify *n;
    while ((n = PQnotifies(c->pg)) != NULL) {
        if (c->pool->notify_cb)
            c->pool->notify_cb(n->relname, n->extra, c->pool->notify_arg);
        PQfreemem(n);
    }
}

/* Reads what has arrived; returns 1 when the query's results are complete. */
static int conn_read_results(struct db_conn *c)
{
    if (!PQconsumeInput(c->pg)) {
        conn_fail(c, PQerrorMessage(c->pg));
        return -1;
    }
    while (!PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r)
            return 1;
        /* Keep the first error, else the last result. */
        int kept_error = c->result && PQresultStatus(c->result) != PGRES_COMMAND_OK &&
                         PQresultStatus(c->result) != PGRES_TUPLES_OK;
        if (kept_error) {
            PQclear(r);
        } else {
            PQclear(c->result);
            c->result = r;
        }
    }
    return 0;
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct db_conn *c = arg;
    struct db_pool *pool = c->pool;

    switch (c->state) {
    case CONN_CONNECTING:
        switch (PQconnectPoll(c->pg)) {
        case PGRES_POLLING_READING:
            conn_watch(c, EV_READ);   /* PQsocket may have changed: re-read */
            return;
        case PGRES_POLLING_WRITING:
            conn_watch(c, EV_WRITE);
            return;
        case PGRES_POLLING_OK:
            if (!c->is_listener)
                log_info("db: connection up (%d idle, %d busy)", pool->lists[CONN_IDLE].n + 1,
                         pool->lists[CONN_BUSY].n);
            conn_ready(c);
            return;
        default:
            conn_fail(c, PQerrorMessage(c->pg));
            return;
        }

    case CONN_IDLE:
        /* Nothing was asked: either a notification, or the server closed
         * the connection (shutdown, restart, admin kill). */
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK) {
            conn_fail(c, PQerrorMessage(c->pg));
            return;
        }
        conn_notifies(c);
        conn_watch(c, EV_READ);
        return;

    case CONN_BUSY:
        if (c->flushing && (what & EV_WRITE)) {
            int f = PQflush(c->pg);
            if (f < 0) {
                conn_fail(c, PQerrorMessage(c->pg));
                return;
            }
            c->flushing = f == 1;
        }
        if (what & EV_READ) {
            int done = conn_read_results(c);
            if (done < 0)
                return;
            if (c->flushing) {
                /* libpq: after reading, try the flush again. */
                int f = PQflush(c->pg);
                if (f < 0) {
                    conn_fail(c, PQerrorMessage(c->pg));
                    return;
                }
                c->flushing = f == 1;
            }
            if (done && c->preparing && conn_prepared(c))
                return;
            if (done) {
                PGresult *res = c->result;
                c->result = NULL;
                struct db_query *q = c->q;
                c->q = NULL;
                if (c->is_listener) {
                    ExecStatusType st = PQresultStatus(res);
                    PQclear(res);
                    if (st != PGRES_COMMAND_OK) {
                        conn_fail(c, "LISTEN failed");
                        return;
                    }
                    conn_move(c, CONN_IDLE);
                    conn_watch(c, EV_READ);
                    /* Anything may have changed while we were not listening. */
                    if (pool->notify_cb)
                        pool->notify_cb(pool->channel, NULL, pool->notify_arg);
                    return;
                }
                conn_notifies(c);
                conn_move(c, CONN_IDLE);
                conn_watch(c, EV_READ);
                /* A session on a standby (25006: a failover demoted its
                 * node, or libpq's multi-host picked it) or one the server
                 * is ending is remade: target_session_attrs finds the
                 * primary again. */
                const char *ss = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
                if (PQstatus(c->pg) != CONNECTION_OK || db_sqlstate_reconnect(ss)) {
                    char why[300];
                    snprintf(why, sizeof why, "%s%s", ss ? "SQLSTATE " : "",
                             ss ? ss : PQerrorMessage(c->pg));
                    query_finish(q, res, NULL, 0);
                    PQclear(res);
                    conn_fail(c, why);
                    return;
                }
                if (!res) {
                    query_finish(q, NULL, "no result from the database", 0);
                } else {
                    query_finish(q, res, NULL, 0);
                    PQclear(res);
                }
                pool_dispatch(pool);
                return;
            }
        }
        conn_watch(c, c->flushing ? EV_READ | EV_WRITE : EV_READ);
        return;

    default:
        return;
    }
}

/* Sends c->q: as the prepared statement idx, or unnamed (idx < 0). */
static void conn_send_query(struct db_conn *c, int idx)
{
    struct db_query *q = c->q;
    char name[16];
    snprintf(name, sizeof name, "sb%d", idx);
    int ok = idx >= 0 ? PQsendQueryPrepared(c->pg, name, q->nparams,
                                            (const char *const *)q->params, NULL, NULL, 0)
                      : PQsendQueryParams(c->pg, q->sql, q->nparams, NULL,
                                          (const char *const *)q->params, NULL, NULL, 0);
    if (!ok) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    conn_flush_and_watch(c);
}

/* The statement of c->q has been prepared, or failed to be: on success the
 * query itself is sent and 1 returned; on failure 0, and the caller
 * answers the query with the error, as for any failed statement. */
static int conn_prepared(struct db_conn *c)
{
    c->preparing = 0;
    if (!c->result || PQresultStatus(c->result) != PGRES_COMMAND_OK) {
        free(c->prep[c->nprep].sql);
        c->prep[c->nprep].sql = NULL;
        return 0;
    }
    PQclear(c->result);
    c->result = NULL;
    c->nprep++;
    conn_send_query(c, c->nprep - 1);
    return 1;
}

static void conn_send(struct db_conn *c, struct db_query *q)
{
    evtimer_del(q->timer);
    c->q = q;
    q->holding = 1;
    c->pool->busy[q->cls]++;
    c->pool->stats.queries++;
    conn_move(c, CONN_BUSY);
    uint64_t h = sql_hash(q->sql);
    int idx = prep_find(c, q->sql, h);
    if (idx >= 0 || c->nprep == PREPARED_MAX ||
        !(c->prep[c->nprep].sql = strdup(q->sql))) {
        conn_send_query(c, idx);
        return;
    }
    c->prep[c->nprep].hash = h;
    char name[16];
    snprintf(name, sizeof name, "sb%d", c->nprep);
    if (!PQsendPrepare(c->pg, name, q->sql, q->nparams, NULL)) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    c->preparing = 1;
    conn_flush_and_watch(c);
}

static void conn_flush_and_watch(struct db_conn *c)
{
    int f = PQflush(c->pg);
    if (f < 0) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    c->flushing = f == 1;
    conn_watch(c, c->flushing ? EV_READ | EV_WRITE : EV_READ);
}

static void pool_dispatch(struct db_pool *pool)
{
    struct db_query *q;
    while (pool->lists[CONN_IDLE].head && (q = pool_next(pool)) != NULL) {
        queue_remove(pool, q);
        conn_send(pool->lists[CONN_IDLE].head, q);
    }
}

static void conn_init(struct db_pool *pool, struct db_conn *c, int is_listener)
{
    c->pool = pool;
    c->is_listener = is_listener;
    c->state = CONN_DOWN;
    c->backoff_ms = BACKOFF_MIN_MS;
    c->io = event_new(pool->base, -1, 0, conn_io_cb, c);
    c->retry = evtimer_new(pool->base, conn_retry_cb, c);
    if (!is_listener) {
        c->next = pool->lists[CONN_DOWN].head;
        if (c->next)
            c->next->prev = c;
        pool->lists[CONN_DOWN].head = c;
        pool->lists[CONN_DOWN].n++;
    }
}

struct db_pool *db_pool_new(struct event_base *base, const char *conninfo, const char *role,
                            const struct db_pool_limits *lim)
{
    int size = lim->size;
    struct db_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->base = base;
    db_session_options(role, pool->options, sizeof pool->options);
    pool->conninfo = strdup(conninfo ? conninfo : "");
    pool->size = size;
    pool->queues[DB_READ].max = lim->queue_max;
    pool->queues[DB_WRITE].max = lim->write_queue_max > 0 ? lim->write_queue_max : lim->queue_max;
    pool->write_max = lim->write_size > 0 && lim->write_size < size ? lim->write_size : size;
    pool->wait_ms = lim->wait_ms;
    pool->conns = calloc((size_t)size, sizeof *pool->conns);
    if (!pool->conninfo || !pool->conns) {
        free(pool->conninfo);
        free(pool->conns);
        free(pool);
        return NULL;
    }
    snprintf(pool->last_error, sizeof pool->last_error, "not connected yet");
    for (int i = 0; i < size; i++)
        conn_init(pool, &pool->conns[i], 0);
    for (int i = 0; i < size; i++)
        conn_start(&pool->conns[i]);
    return pool;
}

static void conn_close(struct db_conn *c)
{
    if (c->q)
        query_finish(c->q, NULL, "server shutting down", 1);
    c->q = NULL;
    PQclear(c->result);
    if (c->pg)
        PQfinish(c->pg);
    prep_forget(c);
    event_free(c->io);
    event_free(c->retry);
}

void db_pool_free(struct db_pool *pool)
{
    if (!pool)
        return;
    for (int k = 0; k < DB_NCLASSES; k++) {
        while (pool->queues[k].head) {
            struct db_query *q = pool->queues[k].head;
            queue_remove(pool, q);
            query_finish(q, NULL, "server shutting down", 1);
        }
    }
    for (int i = 0; i < pool->size; i++)
        conn_close(&pool->conns[i]);
    if (pool->listener) {
        conn_close(pool->listener);
        free(pool->listener);
    }
    free(pool->channel);
    free(pool->channel2);
    free(pool->conns);
    free(pool->conninfo);
    free(pool);
}

static int pool_submit(struct db_pool *pool, enum db_class cls, const char *sql, int nparams,
                       const char *const *params, db_cb cb, void *arg)
{
    /* One allocation holds the query, the parameter pointers and strings. */
    char **qparams, *qsql;
    struct db_query *q = db_pack(sizeof *q, sql, nparams, params, &qparams, &qsql);
    if (!q)
        return -1;
    q->timer = evtimer_new(pool->base, query_timer_cb, q);
    if (!q->timer) {
        free(q);
        return -1;
    }
    q->pool = pool;
    q->cls = cls;
    q->cb = cb;
    q->arg = arg;
    q->nparams = nparams;
    q->params = qparams;
    q->sql = qsql;

    /* At once when a connection is free and no query of the class is
     * waiting before it (and, for a write, writes are under their limit). */
    struct query_queue *qq = &pool->queues[cls];
    if (pool->lists[CONN_IDLE].head && !qq->head && (cls != DB_WRITE || write_may_start(pool))) {
        conn_send(pool->lists[CONN_IDLE].head, q);
        return 0;
    }
    if (!pool_any_alive(pool)) {
        char msg[300];
        snprintf(msg, sizeof msg, "database unavailable: %s", pool->last_error);
        pool->stats.rejected++;
        query_fail_later(q, msg);
        return 0;
    }
    if (qq->n >= qq->max) {
        pool->stats.rejected++;
        if (cls == DB_WRITE)
            pool->stats.write_rejected++;
        query_fail_later(q, cls == DB_WRITE ? "too many writes are waiting for the database"
                                            : "too many requests are waiting for the database");
        return 0;
    }
    queue_append(qq, q);
    pool->stats.waits++;
    if (cls == DB_WRITE)
        pool->stats.write_waits++;
    struct timeval tv = {pool->wait_ms / 1000, (pool->wait_ms % 1000) * 1000};
    evtimer_add(q->timer, &tv);
    return 0;
}

int db_pool_query(struct db_pool *pool, const char *sql, int nparams,
                  const char *const *params, db_cb cb, void *arg)
{
    return pool_submit(pool, DB_READ, sql, nparams, params, cb, arg);
}

int db_pool_write(struct db_pool *pool, const char *sql, int nparams,
                  const char *const *params, db_cb cb, void *arg)
{
    return pool_submit(pool, DB_WRITE, sql, nparams, params, cb, arg);
}

int db_pool_listen(struct db_pool *pool, const char *channel, db_notify_cb cb, void *arg)
{
    if (pool->listener)
        return -1;
    pool->listener = calloc(1, sizeof *pool->listener);
    pool->channel = strdup(channel);
    if (!pool->listener || !pool->channel) {
        free(pool->listener);
        free(pool->channel);
        pool->listener = NULL;
        pool->channel = NULL;
        return -1;
    }
    pool->notify_cb = cb;
    pool->notify_arg = arg;
    conn_init(pool, pool->listener, 1);
    conn_start(pool->listener);
    return 0;
}

int db_pool_listen_also(struct db_pool *pool, const char *channel)
{
    free(pool->channel2);
    pool->channel2 = strdup(channel);
    return pool->channel2 ? 0 : -1;
}

void db_pool_listener_reset(struct db_pool *pool, const char *reason)
{
    if (pool->listener && pool->listener->state != CONN_DOWN)
        conn_fail(pool->listener, reason);
}
