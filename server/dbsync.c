#include "dbsync.h"

#include <stdio.h>
#include <string.h>

PGconn *dbsync_connect(const char *url, char *err, size_t errlen)
{
    return dbsync_connect_as(url, NULL, "sendbench-cli", err, errlen);
}

PGconn *dbsync_connect_as(const char *url, const char *options, const char *app_name, char *err,
                          size_t errlen)
{
    const char *keys[] = {"dbname", "application_name", options ? "options" : NULL, NULL};
    const char *vals[] = {url, app_name, options, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn) {
        snprintf(err, errlen, "database: out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "database: %s", PQerrorMessage(conn));
        err[strcspn(err, "\n")] = '\0';
        PQfinish(conn);
        return NULL;
    }
    PGresult *r = PQexec(conn, "SET client_min_messages = warning");
    PQclear(r);
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
