#include "migrate.h"

#include <stdio.h>
#include <string.h>

#include "dbsync.h"

static int exec_ok(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        err[strcspn(err, "\n")] = '\0';
    }
    PQclear(r);
    return ok ? 0 : -1;
}

/* A standby refuses every write; say so plainly rather than fail on the
 * first CREATE (advisory locks there would not exclude the primary's
 * runs either: they are per node). */
static int refuse_standby(PGconn *conn, char *err, size_t errlen)
{
    PGresult *r = dbsync_exec(conn, "SELECT pg_is_in_recovery()", 0, NULL, err, errlen);
    if (!r)
        return -1;
    int standby = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (standby) {
        snprintf(err, errlen, "the database is a standby (in recovery, read-only): run migrate "
                              "against the primary (libpq: target_session_attrs=read-write)");
        return -1;
    }
    return 0;
}

/* A database never migrated has no schema_migrations: every migration is
 * pending.  Otherwise the recorded names, each compiled-in one looked up in
 * them (about fifty). */
int migrate_pending(PGconn *conn, const char **first, char *err, size_t errlen)
{
    *first = NULL;
    PGresult *r = dbsync_exec(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0,
                              NULL, err, errlen);
    if (!r)
        return -1;
    int exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    r = NULL;
    if (exists && !(r = dbsync_exec(conn, "SELECT name FROM schema_migrations", 0, NULL, err,
                                    errlen)))
        return -1;
    int pending = 0;
    for (const struct migration *m = migrations; m->name; m++) {
        int found = 0;
        for (int i = 0; r && i < PQntuples(r) && !found; i++)
            found = strcmp(PQgetvalue(r, i, 0), m->name) == 0;
        if (!found && pending++ == 0)
            *first = m->name;
    }
    PQclear(r);
    return pending;
}

/* A session advisory lock, taken before anything else, serialises
 * concurrent `migrate` runs (several servers or deploy steps starting
 * together: CREATE TABLE IF NOT EXISTS itself races); each migration then
 * commits with its own record. */
int migrate_apply(PGconn *conn, char *err, size_t errlen)
{
    int applied = 0;
    if (refuse_standby(conn, err, errlen) != 0)
        return -1;
    if (exec_ok(conn, "SELECT pg_advisory_lock(727274)", err, errlen) != 0)
        return -1;
    if (exec_ok(conn,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                err, errlen) != 0)
        goto fail;
    for (const struct migration *m = migrations; m->name; m++) {
        const char *params[1] = {m->name};
        PGresult *r = dbsync_exec(conn, "SELECT 1 FROM schema_migrations WHERE name = $1", 1,
                                  params, err, errlen);
        if (!r)
            goto fail;
        int done = PQntuples(r) > 0;
        PQclear(r);
        if (done)
            continue;
        if (exec_ok(conn, "BEGIN", err, errlen) != 0)
            goto fail;
        char inner[512];
        if (exec_ok(conn, m->sql, inner, sizeof inner) != 0) {
            snprintf(err, errlen, "migration %s: %s", m->name, inner);
            exec_ok(conn, "ROLLBACK", inner, sizeof inner);
            goto fail;
        }
        r = dbsync_exec(conn, "INSERT INTO schema_migrations (name) VALUES ($1)", 1, params, err,
                        errlen);
        if (!r) {
            exec_ok(conn, "ROLLBACK", inner, sizeof inner);
            goto fail;
        }
        PQclear(r);
        if (exec_ok(conn, "COMMIT", err, errlen) != 0)
            goto fail;
        applied++;
    }
    exec_ok(conn, "SELECT pg_advisory_unlock(727274)", err, errlen);
    return applied;
fail:;
    char ignored[64];
    exec_ok(conn, "SELECT pg_advisory_unlock(727274)", ignored, sizeof ignored);
    return -1;
}
