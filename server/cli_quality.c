/*
 * sendbench quality list [--status S] | quality release ID --reason TEXT:
 * the figures the import checks quarantined or queried (docs/import.md
 * "Import checks"), and an administrator's release of one, audited.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "codes.h"
#include "dbsync.h"
#include "quality.h"

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static int quality_list(PGconn *conn, const char *status)
{
    char err[512];
    const char *p[1] = {status};
    PGresult *r = dbsync_exec(conn, QUALITY_LIST_SQL, 1, p, err, sizeof err);
    if (!r) {
        fprintf(stderr, "sendbench: quality list: %s\n", err);
        return 1;
    }
    size_t counts[3] = {0, 0, 0};
    for (int i = 0; i < PQntuples(r); i++) {
        const char *st = PQgetvalue(r, i, 1);
        counts[strcmp(st, "quarantined") == 0 ? 0 : strcmp(st, "released") == 0 ? 1 : 2]++;
        printf("%s  %-11s  %s %s  %s %s v%s  %s  %s:%s\n    %s\n", PQgetvalue(r, i, 0), st,
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
               PQgetvalue(r, i, 6), PQgetvalue(r, i, 7), PQgetvalue(r, i, 9),
               PQgetvalue(r, i, 10), PQgetvalue(r, i, 8));
        if (!PQgetisnull(r, i, 13))
            printf("    released %s by %s: %s\n", PQgetvalue(r, i, 13), PQgetvalue(r, i, 14),
                   PQgetvalue(r, i, 15));
    }
    printf("quality: %zu quarantined (not in force), %zu released, %zu queried (kept)\n",
           counts[0], counts[1], counts[2]);
    PQclear(r);
    return 0;
}

static int quality_release(PGconn *conn, const char *id, const char *reason)
{
    char err[512];
    const char *p[4] = {id, reason, "cli", NULL};
    PGresult *r = dbsync_exec(conn, QUALITY_RELEASE_SQL, 4, p, err, sizeof err);
    if (!r) {
        fprintf(stderr, "sendbench: quality release: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (PQgetisnull(r, 0, 0)) {
        fprintf(stderr, "sendbench: quality release: no flag %s (see sendbench quality list)\n", id);
        rc = 1;
    } else if (strcmp(PQgetvalue(r, 0, 0), "quarantine") != 0) {
        fprintf(stderr, "sendbench: quality release: flag %s is a query: the figure is in force "
                        "already\n", id);
        rc = 1;
    } else if (strcmp(PQgetvalue(r, 0, 1), "t") == 0) {
        fprintf(stderr, "sendbench: quality release: flag %s was released before\n", id);
        rc = 1;
    } else {
        printf("quality: flag %s released; the figure is in force again (audited)\n", id);
    }
    PQclear(r);
    return rc;
}

int cmd_quality(int argc, char **argv)
{
    const char *usage = cli_usage("quality");
    if (argc < 2)
        return cli_usage_error("quality: say list or release (%s)", usage);
    bool list = strcmp(argv[1], "list") == 0, release = strcmp(argv[1], "release") == 0;
    if (!list && !release)
        return cli_usage_error("quality: unknown command \"%.40s\" (%s)", argv[1], usage);
    const char *status = NULL, *reason = NULL, *id = NULL;
    const struct cli_opt list_opts[] = {CLI_OPT_TEXT("status", &status, 0)};
    const struct cli_opt release_opts[] = {
        CLI_OPT_ARG("ID", &id),
        CLI_OPT_TEXT("reason", &reason, 0),
    };
    int prc = list ? cli_parse("quality list", usage, list_opts, CLI_NOPTS(list_opts), argc,
                               argv, 2)
                   : cli_parse("quality release", usage, release_opts, CLI_NOPTS(release_opts),
                               argc, argv, 2);
    if (prc)
        return prc;
    if (status && strcmp(status, "quarantined") != 0 && strcmp(status, "released") != 0 &&
        strcmp(status, "queried") != 0)
        return cli_usage_error("quality list: --status must be quarantined, released or queried");
    if (release) {
        if (!code_is_row_id(id))
            return cli_usage_error("quality release: ID must be a flag number (%s)", usage);
        if (!reason || blank(reason) || strlen(reason) > QUALITY_REASON_MAX)
            return cli_usage_error("quality release: --reason TEXT (1-%d characters) is required",
                                   QUALITY_REASON_MAX);
    }
    char err[512];
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: quality: %s\n", err);
        return 1;
    }
    int rc = list ? quality_list(conn, status) : quality_release(conn, id, reason);
    PQfinish(conn);
    return rc;
}
