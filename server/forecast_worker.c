#include "forecast_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "dbsync.h"
#include "forecast_run.h"
#include "log.h"

#define RECHECK_MS 30000     /* data version checked at least this often */
#define DEBOUNCE_MS 300      /* a burst of notifications causes one refit */
/* Under a stream of approvals (make load: about 20 a second) every pass
 * found a newer sign-off, so the worker refitted back to back: the
 * quarterly pass (~650 ms in the database at load 7) and the staleness
 * check (~140 ms) took most of a core from the writes that caused them.
 * A pass now starts at least this long after the previous one started; a
 * change after a quiet spell is still fitted DEBOUNCE_MS after it. */
#define PASS_SPACING_MS 3000
#define LEADER_RETRY_MS 5000 /* a standby worker asks for the lock this often */

/* One forecast worker refits across every server on a database: the one
 * whose connection holds this session-level advisory lock (advisory locks
 * are per database and per node).  The lock goes with its connection, so
 * when the leading server dies PostgreSQL releases it and another server's
 * next try (at most LEADER_RETRY_MS later) takes over. */
#define LEADER_LOCK_KEY "7308620646505676800"

struct forecast_worker {
    pthread_t thread;
    char *conninfo;
    char options[160];
    int wake[2];             /* a byte on wake[1] asks the thread to stop */
    atomic_int stop;
};

/* stop (may be NULL): checked between metrics, so that SIGTERM during a
 * refit of every metric waits for one metric's fit, not all of them (the
 * server's drain has a time limit). */
static int refit_stale(PGconn *conn, const atomic_int *stop, char *err, unsigned long errlen)
{
    /* Metrics with annual data whose stored forecasts are missing or
     * older than the newest change to annual figures (sql/081: council
     * quarters are no input of a forecast, so they never cause a refit). */
    const char *params[1] = {FR_ENGINE};
    PGresult *r = dbsync_exec(conn,
        "SELECT m.id FROM metrics m"
        " WHERE EXISTS (SELECT 1 FROM forecast_input f WHERE f.metric = m.id"
        "               AND f.period_kind = m.annual_period)"
        "   AND NOT EXISTS (SELECT 1 FROM forecast_runs r WHERE r.metric = m.id"
        "               AND r.frequency = 'annual' AND r.data_version >= forecast_data_version()"
        "               AND r.engine = $1)"
        " ORDER BY m.sort_order",
        1, params, err, errlen);
    if (!r)
        return -1;
    int done = 0;
    for (int i = 0; i < PQntuples(r) && !(stop && atomic_load(stop)); i++) {
        const char *metric = PQgetvalue(r, i, 0);
        int n = fr_refit_and_store(conn, metric, err, errlen);
        if (n < 0) {
            log_warn("forecast worker: %s: %s", metric, err);
            if (PQstatus(conn) != CONNECTION_OK) {
                PQclear(r);
                return -1;
            }
            continue;
        }
        log_info("forecast worker: %s refitted (%d forecasts)", metric, n);
        done++;
    }
    PQclear(r);
    return done;
}

/* Councils' quarters: what is in force changes only when a version is
 * signed off (approved or rejected, with its withdrawals), so the pass runs
 * when the newest sign-off decision moved since the last pass (*last, -1
 * at start-up: always once), not on every submission.  Returns documents
 * stored, 0 when nothing moved, -1 on error. */
static int refit_quarterly(PGconn *conn, long long *last, char *err, size_t errlen)
{
    PGresult *v = dbsync_exec(conn, "SELECT coalesce(max(id), 0) FROM submission_states", 0,
                              NULL, err, errlen);
    if (!v)
        return -1;
    long long now = atoll(PQgetvalue(v, 0, 0));
    PQclear(v);
    if (now == *last)
        return 0;
    int n = fr_refit_quarterly(conn, err, errlen);
    if (n < 0)
        return -1;
    *last = now;
    if (n > 0)
        log_info("forecast worker: quarterly forecasts refitted (%d)", n);
    return n;
}

int forecast_refit_stale(void *pgconn, char *err, unsigned long errlen)
{
    return refit_stale(pgconn, NULL, err, errlen);
}

/* Frees the notifications libpq holds; returns how many there were. */
static int drain_notifies(PGconn *conn)
{
    int count = 0;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        PQfreemem(n);
        count++;
    }
    return count;
}

/* Whether this connection leads: it holds the lock (taken now if free)
 * and is on a writable primary (a standby's worker never fits: it could
 * not store the result).  Returns 1 leading, 0 not, -1 on error. */
static int try_lead(PGconn *conn, char *err, size_t errlen)
{
    const char *params[1] = {LEADER_LOCK_KEY};
    PGresult *r = dbsync_exec(conn,
        "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby'"
        "            WHEN pg_try_advisory_lock($1::bigint) THEN 'lead' ELSE 'other' END",
        1, params, err, errlen);
    if (!r)
        return -1;
    int lead = strcmp(PQgetvalue(r, 0, 0), "lead") == 0;
    int standby = strcmp(PQgetvalue(r, 0, 0), "standby") == 0;
    PQclear(r);
    if (standby)
        snprintf(err, errlen, "the database is a standby");
    else if (!lead)
        snprintf(err, errlen, "another instance leads");
    return lead;
}

/* Waits until the database signals, the timeout passes or we are asked to
 * stop.  Returns 1 when asked to stop.
 *
 * A notification that arrived while a refit's queries ran was read off the
 * socket by libpq with their results and waits in its queue, where poll()
 * cannot see it: look there first, or that change would wait for the next
 * recheck (30 s) instead of being fitted now. */
static int wait_for_change(struct forecast_worker *w, PGconn *conn, int timeout_ms,
                           double last_pass)
{
    struct pollfd fds[2] = {{w->wake[0], POLLIN, 0}, {conn ? PQsocket(conn) : -1, POLLIN, 0}};
    int queued = conn ? drain_notifies(conn) : 0;
    int rc = poll(fds, conn ? 2 : 1, queued ? 0 : timeout_ms);
    if (w->stop)
        return 1;
    if (queued || (rc > 0 && conn && (fds[1].revents & POLLIN))) {
        PQconsumeInput(conn);
        drain_notifies(conn);
        /* Let a burst of writes (an import, several submissions) settle,
         * and keep passes PASS_SPACING_MS apart. */
        double spaced = (last_pass - clock_seconds()) * 1000 + PASS_SPACING_MS;
        poll(fds, 1, spaced > DEBOUNCE_MS ? (int)spaced : DEBOUNCE_MS);
        PQconsumeInput(conn);
        drain_notifies(conn);
    }
    return w->stop;
}

static void *worker_main(void *arg)
{
    struct forecast_worker *w = arg;
    PGconn *conn = NULL;
    int backoff_ms = 200;
    int leading = 0;         /* this connection holds the leader lock */
    int said_waiting = 0;    /* "not leading" logged since the last change */
    long long quarterly_version = -1;   /* newest sign-off seen by the last quarterly pass */
    double last_pass = 0;               /* when the last pass started (clock_seconds) */
    char err[512];

    while (!w->stop) {
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            if (conn)
                PQfinish(conn);
            if (leading)
                log_info("forecast worker: lost its database connection, no longer leading");
            leading = 0;
            said_waiting = 0;
            quarterly_version = -1;
            conn = dbsync_connect_as(w->conninfo, w->options, "sendbench-forecaster", err,
                                     sizeof err);
            if (!conn) {
                if (wait_for_change(w, NULL, backoff_ms, 0))
                    break;
                backoff_ms = backoff_ms * 2 > 10000 ? 10000 : backoff_ms * 2;
                continue;
            }
            backoff_ms = 200;
            PGresult *l = dbsync_exec(conn, "LISTEN sendbench_data", 0, NULL, err, sizeof err);
            if (!l) {
                log_warn("forecast worker: LISTEN failed: %s", err);
            }
            PQclear(l);
        }
        if (!leading) {
            int l = try_lead(conn, err, sizeof err);
            if (l < 0)
                log_warn("forecast worker: leader lock: %s", err);
            else if (l) {
                leading = 1;
                log_info("forecast worker: leading (holds the advisory lock on this database)");
            } else if (!said_waiting) {
                said_waiting = 1;
                log_info("forecast worker: not leading (%s); retrying every %d s", err,
                         LEADER_RETRY_MS / 1000);
            }
        }
        last_pass = clock_seconds();
        if (leading && refit_stale(conn, &w->stop, err, sizeof err) < 0)
            log_warn("forecast worker: %s", err);
        if (leading && !w->stop && refit_quarterly(conn, &quarterly_version, err, sizeof err) < 0)
            log_warn("forecast worker: quarterly: %s", err);
        if (wait_for_change(w, conn, leading ? RECHECK_MS : LEADER_RETRY_MS, last_pass))
            break;
    }
    if (conn)
        PQfinish(conn);
    return NULL;
}

struct forecast_worker *forecast_worker_start(const char *conninfo, const char *role)
{
    struct forecast_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    db_session_options(role, w->options, sizeof w->options);
    w->conninfo = strdup(conninfo ? conninfo : "");
    if (!w->conninfo || pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(w->conninfo);
        free(w);
        return NULL;
    }
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        close(w->wake[0]);
        close(w->wake[1]);
        free(w->conninfo);
        free(w);
        return NULL;
    }
    return w;
}

void forecast_worker_stop(struct forecast_worker *w)
{
    if (!w)
        return;
    w->stop = 1;
    ssize_t ignored = write(w->wake[1], "x", 1);
    (void)ignored;
    pthread_join(w->thread, NULL);
    close(w->wake[0]);
    close(w->wake[1]);
    free(w->conninfo);
    free(w);
}
