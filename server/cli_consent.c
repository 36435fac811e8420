/* `sendbench consent --authority CODE --name yes|no`: whether an
 * authority's unpublished figures may be shown under its name.  Goes
 * through set_consent_to_name() (sql/030_consent.sql), which the admin API
 * calls too, and which audits every call.  Blocking libpq: this is the CLI. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dbsync.h"

int cmd_consent(int argc, char **argv)
{
    const char *authority = NULL, *name = NULL;
    const struct cli_opt opts[] = {
        CLI_OPT_TEXT("authority", &authority, 0),
        CLI_OPT_TEXT("name", &name, 0),
    };
    int prc = cli_parse("consent", cli_usage("consent"), opts, CLI_NOPTS(opts), argc, argv, 1);
    if (prc)
        return prc;
    if (!authority || !*authority)
        return cli_usage_error("consent: --authority CODE is required (%s)", cli_usage("consent"));
    if (!name || (strcmp(name, "yes") != 0 && strcmp(name, "no") != 0))
        return cli_usage_error("consent: --name must be yes or no (%s)", cli_usage("consent"));
    if (strlen(authority) > 16)
        return cli_usage_error("consent: --authority is an ONS code (E06000059) or a DfE "
                               "number (838)");

    char err[512];
    int rc = 1;
    PGresult *res = NULL;
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: consent: %s\n", err);
        return 1;
    }
    const char *p[2] = {authority, strcmp(name, "yes") == 0 ? "true" : "false"};
    res = dbsync_exec(conn, "SELECT code, name, consent_to_name, changed"
                            " FROM set_consent_to_name($1, $2::boolean, 'cli', NULL)",
                      2, p, err, sizeof err);
    if (!res) {
        fprintf(stderr, "sendbench: consent: %s\n", err);
        goto done;
    }
    if (PQntuples(res) != 1) {
        fprintf(stderr, "sendbench: consent: unknown authority \"%.20s\" (give its ONS code, "
                        "e.g. E06000059, or DfE number, e.g. 838)\n", authority);
        rc = 2;
        goto done;
    }
    printf("%s %s: consent to be named %s%s\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
           PQgetvalue(res, 0, 2)[0] == 't' ? "yes" : "no",
           PQgetvalue(res, 0, 3)[0] == 't' ? "" : " (unchanged)");
    rc = 0;
done:
    PQclear(res);
    PQfinish(conn);
    return rc;
}
