/* `sendbench token create|revoke|list`: bearer tokens for councils and
 * administrators.  Blocking libpq is fine here: this is the CLI. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cli.h"
#include "dbsync.h"

/* token revoke ID: the id, a positive whole number. */
static int parse_positive(const char *s, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || end == s || v < 1 || v > max)
        return -1;
    *out = v;
    return 0;
}

static int token_create(int argc, char **argv)
{
    const char *authority = NULL, *label = NULL;
    int admin = 0;
    long long days = 0;
    const struct cli_opt opts[] = {
        CLI_OPT_FLAG("admin", &admin),
        CLI_OPT_TEXT("authority", &authority, 16),
        CLI_OPT_TEXT("label", &label, 200),
        CLI_OPT_INT("expires-days", &days, 1, 36500),
    };
    int prc = cli_parse("token create", cli_usage("token"), opts, CLI_NOPTS(opts), argc, argv, 2);
    if (prc)
        return prc;
    if (admin == (authority != NULL))
        return cli_usage_error("token create: give exactly one of --authority CODE or --admin");

    char err[512], token[AUTH_TOKEN_LEN + 1], hex[67], daystr[24];
    unsigned char hash[AUTH_HASH_LEN];
    int rc = 1;
    PGresult *res = NULL;
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: token create: %s\n", err);
        return 1;
    }
    if (authority) {
        const char *p[1] = {authority};
        res = dbsync_exec(conn, "SELECT new_la_code FROM authorities"
                                " WHERE new_la_code = $1 OR old_la_code = $1", 1, p, err, sizeof err);
        if (!res || PQntuples(res) != 1) {
            fprintf(stderr, "sendbench: token create: %s\n",
                    res ? "unknown authority (give its ONS code, e.g. E06000059)" : err);
            rc = res ? 2 : 1;
            goto done;
        }
    }
    if (auth_token_new(token, sizeof token, hash) != 0) {
        fprintf(stderr, "sendbench: token create: the random generator failed\n");
        goto done;
    }
    auth_hash_hex(hash, hex);
    snprintf(daystr, sizeof daystr, "%lld", days);
    const char *params[5] = {hex, admin ? "admin" : "council",
                             authority ? PQgetvalue(res, 0, 0) : NULL, label,
                             days ? daystr : NULL};
    PGresult *ins = dbsync_exec(conn,
        "WITH t AS (INSERT INTO tokens (hash, role, authority, label, expires_at)"
        " VALUES ($1::bytea, $2, $3, $4, now() + make_interval(days => $5::int))"
        " RETURNING id, role, authority, expires_at),"
        " a AS (INSERT INTO audit_log (token_id, actor, action, authority, detail)"
        " SELECT id, 'cli', 'token.create', authority, jsonb_build_object('role', role,"
        " 'expires_at', expires_at, 'label', $4::text) FROM t)"
        " SELECT id, coalesce(to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), 'never')"
        " FROM t", 5, params, err, sizeof err);
    if (!ins) {
        fprintf(stderr, "sendbench: token create: %s\n", err);
        goto done;
    }
    /* The token goes to stdout alone (TOKEN=$(sendbench token create ...));
     * what it is goes to stderr. */
    printf("%s\n", token);
    fflush(stdout);
    fprintf(stderr, "token id %s created for %s; expires: %s. It is shown only now: "
                    "only its hash is stored.\n",
            PQgetvalue(ins, 0, 0), admin ? "admin" : PQgetvalue(res, 0, 0),
            PQgetvalue(ins, 0, 1));
    PQclear(ins);
    rc = 0;
done:
    OPENSSL_cleanse(token, sizeof token);
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static int token_revoke(int argc, char **argv)
{
    const char *id = NULL;
    long long v;
    const struct cli_opt opts[] = {CLI_OPT_ARG("ID", &id)};
    int prc = cli_parse("token revoke", cli_usage("token"), opts, CLI_NOPTS(opts), argc, argv, 2);
    if (prc)
        return prc;
    if (!id || parse_positive(id, 1LL << 62, &v) != 0)
        return cli_usage_error("token revoke: give the token's id, a positive whole number");
    char err[512];
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: token revoke: %s\n", err);
        return 1;
    }
    const char *params[1] = {id};
    PGresult *res = dbsync_exec(conn,
        "WITH t AS (UPDATE tokens SET revoked_at = coalesce(revoked_at, now())"
        " WHERE id = $1::bigint RETURNING id, authority, revoked_at),"
        " a AS (INSERT INTO audit_log (token_id, actor, action, authority)"
        " SELECT id, 'cli', 'token.revoke', authority FROM t)"
        " SELECT id FROM t", 1, params, err, sizeof err);
    int rc = 1;
    if (!res)
        fprintf(stderr, "sendbench: token revoke: %s\n", err);
    else if (PQntuples(res) != 1) {
        fprintf(stderr, "sendbench: token revoke: no token with id %s\n", id);
        rc = 2;
    } else {
        printf("token %s revoked\n", id);
        rc = 0;
    }
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static int token_list(int argc, char **argv)
{
    int prc = cli_parse("token list", cli_usage("token"), NULL, 0, argc, argv, 2);
    if (prc)
        return prc;
    char err[512];
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: token list: %s\n", err);
        return 1;
    }
    PGresult *res = dbsync_exec(conn,
        "SELECT id, role, coalesce(authority, '-'), coalesce(label, ''),"
        " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
        " CASE WHEN revoked_at IS NOT NULL THEN 'revoked'"
        "      WHEN expires_at <= now() THEN 'expired' ELSE 'active' END,"
        " coalesce(to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'never')"
        " FROM tokens ORDER BY id", 0, NULL, err, sizeof err);
    if (!res) {
        fprintf(stderr, "sendbench: token list: %s\n", err);
        PQfinish(conn);
        return 1;
    }
    printf("id\trole\tauthority\tstatus\tcreated\texpires\tlabel\n");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 5), PQgetvalue(res, i, 4),
               PQgetvalue(res, i, 6), PQgetvalue(res, i, 3));
    PQclear(res);
    PQfinish(conn);
    return 0;
}

int cmd_token(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("token: give a subcommand (%s)", cli_usage("token"));
    if (strcmp(argv[1], "create") == 0)
        return token_create(argc, argv);
    if (strcmp(argv[1], "revoke") == 0)
        return token_revoke(argc, argv);
    if (strcmp(argv[1], "list") == 0)
        return token_list(argc, argv);
    return cli_usage_error("token: unknown subcommand \"%.40s\" (%s)", argv[1], cli_usage("token"));
}
