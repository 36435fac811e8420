#include "dbsync.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PGconn *dbsync_connect(const char *url, char *err, size_t errlen)
{
    return dbsync_connect_as(url, NULL, "sendbench-cli", err, errlen);
}

/* Waits until the socket is ready for what PQconnectPoll asked. */
static int wait_socket(PGconn *conn, PostgresPollingStatusType want)
{
    struct pollfd p = {.fd = PQsocket(conn),
                       .events = want == PGRES_POLLING_READING ? POLLIN : POLLOUT};
    if (p.fd < 0)
        return -1;
    int n;
    while ((n = poll(&p, 1, -1)) < 0 && errno == EINTR) {
    }
    return n > 0 ? 0 : -1;
}

static PGconn *connect_begin(const char *url, const char *options, const char *app_name,
                             char *err, size_t errlen)
{
    const char *keys[] = {"dbname", "application_name", options ? "options" : NULL, NULL};
    const char *vals[] = {url, app_name, options, NULL};
    PGconn *conn = PQconnectStartParams(keys, vals, 1);
    if (!conn) {
        snprintf(err, errlen, "database: out of memory");
        return NULL;
    }
    if (PQstatus(conn) == CONNECTION_BAD) {
        snprintf(err, errlen, "database: %s", PQerrorMessage(conn));
        err[strcspn(err, "\n")] = '\0';
        PQfinish(conn);
        return NULL;
    }
    /* Until the startup packet is out the server has nothing to work on;
     * after it, the backend starts while the caller gets on. */
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st == PGRES_POLLING_WRITING) {
        if (wait_socket(conn, st) != 0) {
            snprintf(err, errlen, "database: %s", strerror(errno));
            PQfinish(conn);
            return NULL;
        }
        st = PQconnectPoll(conn);
    }
    return conn;    /* a refusal is reported by dbsync_connect_end */
}

PGconn *dbsync_connect_begin(const char *url, char *err, size_t errlen)
{
    return connect_begin(url, NULL, "sendbench-cli", err, errlen);
}

int dbsync_connect_end(PGconn *conn, char *err, size_t errlen)
{
    if (PQstatus(conn) == CONNECTION_OK)
        return 0;
    PostgresPollingStatusType st = PGRES_POLLING_READING;
    while (PQstatus(conn) != CONNECTION_BAD) {
        if (wait_socket(conn, st) != 0)
            break;
        st = PQconnectPoll(conn);
        if (st == PGRES_POLLING_OK || st == PGRES_POLLING_FAILED)
            break;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "database: %s", PQerrorMessage(conn));
        err[strcspn(err, "\n")] = '\0';
        return -1;
    }
    PGresult *r = PQexec(conn, "SET client_min_messages = warning");
    PQclear(r);
    return 0;
}

PGconn *dbsync_connect_as(const char *url, const char *options, const char *app_name, char *err,
                          size_t errlen)
{
    PGconn *conn = connect_begin(url, options, app_name, err, errlen);
    if (conn && dbsync_connect_end(conn, err, errlen) != 0) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

PGresult *dbsync_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
                      char *err, size_t errlen)
{
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    snprintf(err, errlen, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
    err[strcspn(err, "\n")] = '\0';
    PQclear(r);
    return NULL;
}

int dbsync_exec_many(PGconn *conn, const char *sql, PGresult **res, int nres, char *err,
                     size_t errlen)
{
    for (int i = 0; i < nres; i++)
        res[i] = NULL;
    if (!PQsendQuery(conn, sql)) {
        snprintf(err, errlen, "%s", PQerrorMessage(conn));
        err[strcspn(err, "\n")] = '\0';
        return -1;
    }
    int rc = 0, n = 0;
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            if (rc == 0) {
                snprintf(err, errlen, "%s", PQresultErrorMessage(r));
                err[strcspn(err, "\n")] = '\0';
            }
            rc = -1;
        }
        if (rc == 0 && n < nres)
            res[n++] = r;
        else
            PQclear(r);
    }
    if (rc != 0)
        for (int i = 0; i < nres; i++) {
            PQclear(res[i]);
            res[i] = NULL;
        }
    return rc;
}

int dbsync_exec_simple(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = dbsync_exec(conn, sql, 0, NULL, err, errlen);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int dbsync_copy_start(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        err[strcspn(err, "\n")] = '\0';
        rc = -1;
    }
    PQclear(r);
    return rc;
}

int dbsync_copy_finish(PGconn *conn, int ok, char *err, size_t errlen, unsigned *copy_line)
{
    if (PQputCopyEnd(conn, ok ? NULL : "client failed to send data") != 1)
        ok = 0;
    int rc = ok ? 0 : -1;
    if (!ok)
        snprintf(err, errlen, "COPY: %s", PQerrorMessage(conn));
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0) {
            snprintf(err, errlen, "%s", PQresultErrorMessage(r));
            const char *ctx = PQresultErrorField(r, PG_DIAG_CONTEXT);
            const char *at = ctx ? strstr(ctx, ", line ") : NULL;
            if (copy_line && at)
                *copy_line = (unsigned)strtoul(at + 7, NULL, 10);
            rc = -1;
        }
        PQclear(r);
    }
    err[strcspn(err, "\n")] = '\0';
    return rc;
}
