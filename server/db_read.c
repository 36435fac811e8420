/* Reads on a hot standby with an LSN check (see include/db_read.h). */
#include "db_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "db_pack.h"
#include "log.h"
#include "metrics.h"

struct db_read {
    struct db_pool *replica;
    /* One connection each for the two positions, so that neither waits
     * behind the reads queued on --db or on the replica: under a stream
     * of notices the time a barrier or a poll takes is time every miss
     * goes to the primary. */
    struct db_pool *lsn_primary;    /* the barrier: --db */
    struct db_pool *lsn_replica;    /* the replay position: --db-read */
    uint64_t required;          /* the primary's LSN after the latest notice answered */
    uint64_t replayed;          /* the replica's replay LSN last seen */
    uint64_t replayed_epoch;    /* the replica pool's reconnects when replayed was read */
    int barrier_inflight;       /* asking the primary for its LSN */
    int barrier_again;          /* a notice came while asking: ask once more */
    int barrier_failed;         /* the last ask failed: the LSN is unknown */
    int poll_inflight;          /* asking the replica for its replay LSN */
    uint64_t poll_epoch;
};

/* The insert position, not the write position: a commit made with
 * synchronous_commit = off (every file of `import all` but the last) has
 * sent its notice while its commit record may not be written yet, so the
 * write position can lie below it; the insert position never does. */
static const char PRIMARY_LSN_SQL[] = "SELECT pg_current_wal_insert_lsn()::text";
/* A promoted replica (a failover made it the primary) has all it shows. */
static const char REPLAY_LSN_SQL[] =
    "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
    " ELSE pg_current_wal_lsn() END)::text";

int db_lsn_parse(const char *s, uint64_t *out)
{
    if (!s)
        return -1;
    char *end;
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || slash[1] == '\0' || slash - s > 8 || strlen(slash + 1) > 8)
        return -1;
    for (const char *p = s; *p; p++)
        if (p != slash && !strchr("0123456789abcdefABCDEF", *p))
            return -1;
    unsigned long long hi = strtoull(s, &end, 16);
    if (end != slash)
        return -1;
    unsigned long long lo = strtoull(slash + 1, &end, 16);
    if (*end)
        return -1;
    *out = ((uint64_t)hi << 32) | (uint64_t)lo;
    return 0;
}

/* Reconnects of either replica pool: a remade connection may have reached
 * another node (or the same one restored), so a position seen before it is
 * forgotten. */
static uint64_t replica_epoch(const struct db_read *rd)
{
    struct db_pool_stats a, b;
    db_pool_get_stats(rd->replica, &a);
    db_pool_get_stats(rd->lsn_replica, &b);
    return (uint64_t)a.reconnects + (uint64_t)b.reconnects;
}

static int reply_lsn(const struct db_reply *reply, uint64_t *out)
{
    if (reply->error || !reply->res || PQntuples(reply->res) != 1 ||
        PQgetisnull(reply->res, 0, 0))
        return -1;
    return db_lsn_parse(PQgetvalue(reply->res, 0, 0), out);
}

/* ---- the barrier: the primary's position after a notice ---- */

static void barrier_start(struct app *app);
static void poll_start(struct app *app, struct db_read *rd);

static void barrier_done(const struct db_reply *reply, void *arg)
{
    struct app *app = arg;
    struct db_read *rd = app->reader;
    if (!rd)
        return;         /* shutting down */
    rd->barrier_inflight = 0;
    uint64_t lsn;
    if (reply_lsn(reply, &lsn) == 0) {
        if (lsn > rd->required)
            rd->required = lsn;
        rd->barrier_failed = 0;
        /* Short of it: ask the replica again now rather than when the
         * next read finds it short (that read would go to the primary). */
        if (!rd->barrier_again && rd->replayed < rd->required)
            poll_start(app, rd);
    } else {
        /* Unknown until a later ask answers: reads stay on the primary. */
        rd->barrier_failed = 1;
        log_debug("db-read: the primary's LSN not read (%s): reads stay on the primary",
                  reply->error ? reply->error : "no LSN");
    }
    if (rd->barrier_again) {
        rd->barrier_again = 0;
        barrier_start(app);
    }
}

static void barrier_start(struct app *app)
{
    struct db_read *rd = app->reader;
    if (rd->barrier_inflight) {
        /* The answer on its way may predate the commit just announced. */
        rd->barrier_again = 1;
        return;
    }
    if (db_pool_query(rd->lsn_primary, PRIMARY_LSN_SQL, 0, NULL, barrier_done, app) != 0) {
        rd->barrier_failed = 1;
        return;
    }
    rd->barrier_inflight = 1;
    /* The replica's position asked at the same time: where the standby
     * applies each commit before it is announced (remote_apply) and
     * nothing else is being written, it is already past the barrier when
     * both answer, and no second round trip is needed. */
    poll_start(app, rd);
}

void db_read_changed(struct app *app)
{
    if (app->reader)
        barrier_start(app);
}

/* ---- the replica's replay position ---- */

static void poll_done(const struct db_reply *reply, void *arg)
{
    struct app *app = arg;
    struct db_read *rd = app->reader;
    if (!rd)
        return;
    rd->poll_inflight = 0;
    uint64_t lsn;
    if (reply_lsn(reply, &lsn) != 0)
        return;
    /* A remade connection may have reached another node: start again. */
    if (rd->poll_epoch != rd->replayed_epoch || lsn > rd->replayed) {
        rd->replayed = lsn;
        rd->replayed_epoch = rd->poll_epoch;
    }
}

static void poll_start(struct app *app, struct db_read *rd)
{
    if (rd->poll_inflight)
        return;
    rd->poll_epoch = replica_epoch(rd);
    if (db_pool_query(rd->lsn_replica, REPLAY_LSN_SQL, 0, NULL, poll_done, app) == 0)
        rd->poll_inflight = 1;
}

/* Whether a read sent now may go to the replica: NULL if so, else the
 * event counted for the read sent to the primary instead. */
static const char *replica_current(struct app *app, struct db_read *rd)
{
    const char *why;
    if (!db_pool_listener_up(app->pool) || !db_pool_is_up(rd->replica, &why))
        return "db_read_primary_down";
    if (rd->barrier_inflight)
        return "db_read_primary_barrier";
    if (rd->barrier_failed) {
        barrier_start(app);
        return "db_read_primary_barrier";
    }
    if (rd->replayed_epoch != replica_epoch(rd))
        rd->replayed = 0;
    if (rd->replayed >= rd->required && rd->required > 0)
        return NULL;
    poll_start(app, rd);
    return "db_read_primary_behind";
}

/* ---- reads ---- */

/* A read sent to the replica, kept so it can be sent to the primary. */
struct read_q {
    struct app *app;
    db_cb cb;
    void *arg;
    int nparams;
    char **params;
    char *sql;
};

static void read_q_free(struct read_q *q)
{
    free(q);    /* parameters and text live in the same block */
}

static void replica_done(const struct db_reply *reply, void *arg)
{
    struct read_q *q = arg;
    struct app *app = q->app;
    /* Only a failure of the replica itself is resent: a lost or refused
     * connection, a full or timed-out replica pool, a conflict with
     * recovery (40001, 40P01, 57P04), a session ended (57P0x): what
     * reply->unavailable says (server/db_errors.c).  Any other error is
     * the query's own and the primary would answer it the same: it is the
     * answer, and the primary is not asked twice. */
    if (!reply->error || !reply->unavailable || !app->reader) {
        q->cb(reply, q->arg);
        read_q_free(q);
        return;
    }
    metrics_count("db_read_replica_failed");
    log_debug("db-read: the replica failed a read (%s): asking the primary",
              reply->sqlstate ? reply->sqlstate : reply->error);
    if (db_pool_query(app->pool, q->sql, q->nparams, (const char *const *)q->params, q->cb,
                      q->arg) != 0) {
        struct db_reply oom = {NULL, "out of memory", NULL, 0};
        q->cb(&oom, q->arg);
    }
    read_q_free(q);
}

static struct read_q *read_q_new(struct app *app, const char *sql, int nparams,
                                 const char *const *params, db_cb cb, void *arg)
{
    char **qparams, *qsql;
    struct read_q *q = db_pack(sizeof *q, sql, nparams, params, &qparams, &qsql);
    if (!q)
        return NULL;
    q->app = app;
    q->cb = cb;
    q->arg = arg;
    q->nparams = nparams;
    q->params = qparams;
    q->sql = qsql;
    return q;
}

int db_read_query(struct app *app, const char *sql, int nparams, const char *const *params,
                  db_cb cb, void *arg)
{
    struct db_read *rd = app->reader;
    if (!rd)
        return db_pool_query(app->pool, sql, nparams, params, cb, arg);
    const char *primary_why = replica_current(app, rd);
    if (primary_why) {
        metrics_count("db_read_primary");
        metrics_count(primary_why);
        return db_pool_query(app->pool, sql, nparams, params, cb, arg);
    }
    struct read_q *q = read_q_new(app, sql, nparams, params, cb, arg);
    if (!q)
        return -1;
    if (db_pool_query(rd->replica, sql, nparams, params, replica_done, q) != 0) {
        read_q_free(q);
        return -1;
    }
    metrics_count("db_read_replica");
    return 0;
}

int db_read_start(struct app *app)
{
    const struct config *cfg = app->cfg;
    if (!cfg->db_read[0])
        return 0;
    struct db_read *rd = calloc(1, sizeof *rd);
    if (!rd)
        return -1;
    struct db_pool_limits lim = {.size = cfg->pool_size, .queue_max = cfg->pool_queue_max,
                                 .write_size = 0, .write_queue_max = 0,
                                 .wait_ms = cfg->pool_wait_ms};
    struct db_pool_limits one = {.size = 1, .queue_max = 4, .write_size = 0,
                                 .write_queue_max = 0, .wait_ms = cfg->pool_wait_ms};
    rd->replica = db_pool_new(app->base, cfg->db_read, cfg->db_role, &lim);
    rd->lsn_primary = db_pool_new(app->base, cfg->db_url, cfg->db_role, &one);
    rd->lsn_replica = db_pool_new(app->base, cfg->db_read, cfg->db_role, &one);
    if (!rd->replica || !rd->lsn_primary || !rd->lsn_replica) {
        db_pool_free(rd->replica);
        db_pool_free(rd->lsn_primary);
        db_pool_free(rd->lsn_replica);
        free(rd);
        return -1;
    }
    app->reader = rd;
    log_info("db-read: anonymous table and profile misses may read the replica once it has "
             "replayed each change notice's commit");
    return 0;
}

void db_read_free(struct app *app)
{
    struct db_read *rd = app->reader;
    if (!rd)
        return;
    /* First, so that the answers the pools still give go nowhere. */
    app->reader = NULL;
    db_pool_free(rd->replica);
    db_pool_free(rd->lsn_primary);
    db_pool_free(rd->lsn_replica);
    free(rd);
}
