/* `sendbench user create|link|disable|list`: people's accounts.  A new
 * account gets a one-time set-up link (printed once; only the SHA-256 of
 * its secret is stored) with which the person sets their own password.
 * Blocking libpq is fine here: this is the CLI.  The admin page
 * (server/routes_admin.c) calls the same SQL functions (sql/040_people.sql)
 * and the same helpers (server/users.c). */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cli.h"
#include "dbsync.h"
#include "sessions.h"
#include "users.h"

static const char *base_url(const char *given)
{
    if (given)
        return given;
    const char *env = getenv("SENDBENCH_PUBLIC_URL");
    return env && *env ? env : "http://127.0.0.1:8080";
}

static void print_link(const char *base, const char *secret, const char *expires)
{
    size_t n = strlen(base);
    /* The link goes to stdout alone (LINK=$(sendbench user create ...)). */
    printf("%.*s/setup/%s\n", (int)(n && base[n - 1] == '/' ? n - 1 : n), base, secret);
    fflush(stdout);
    fprintf(stderr, "the set-up link works once, until %s; it is shown only now\n", expires);
}

static int user_create(int argc, char **argv)
{
    const char *authority = NULL, *email = NULL, *role = NULL, *base = NULL;
    int admin = 0;
    long long days = 7;
    const struct cli_opt opts[] = {
        CLI_OPT_FLAG("admin", &admin),
        CLI_OPT_TEXT("authority", &authority, 16),
        CLI_OPT_TEXT("email", &email, 0),
        CLI_OPT_TEXT("role", &role, 0),
        CLI_OPT_TEXT("base-url", &base, 400),
        CLI_OPT_INT("expires-days", &days, 1, 90),
    };
    int prc = cli_parse("user create", cli_usage("user"), opts, CLI_NOPTS(opts), argc, argv, 2);
    if (prc)
        return prc;
    if (!email || !users_email_ok(email))
        return cli_usage_error("user create: --email must be an email address (%s)", cli_usage("user"));
    if (admin && (authority || role))
        return cli_usage_error("user create: --admin takes no --authority or --role");
    if (!admin && (!authority || !role))
        return cli_usage_error("user create: give --authority CODE and --role, or --admin");
    enum user_role rl = admin ? ROLE_ADMIN : session_role_parse(role);
    if (!admin && (rl == ROLE_NONE || rl == ROLE_ADMIN))
        return cli_usage_error("user create: --role must be submitter, approver or viewer");

    char err[512], secret[AUTH_SECRET_LEN + 1], hex[67], daystr[16];
    if (users_link_new(secret, hex) != 0) {
        fprintf(stderr, "sendbench: user create: the random generator failed\n");
        return 1;
    }
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: user create: %s\n", err);
        return 1;
    }
    snprintf(daystr, sizeof daystr, "%lld", days);
    const char *params[5] = {email, session_role_name(rl), authority, hex, daystr};
    PGresult *res = dbsync_exec(conn,
        "SELECT user_id, coalesce(authority, 'admin'),"
        " to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"')"
        " FROM user_create($1, $2, $3, 'cli', NULL, $4::bytea, $5::int)",
        5, params, err, sizeof err);
    int rc = 1;
    if (!res) {
        if (strstr(err, "unknown authority")) {
            fprintf(stderr, "sendbench: user create: unknown authority %s (give its ONS code or "
                            "DfE number)\n", authority);
            rc = 2;
        } else if (strstr(err, "users_email_key")) {
            fprintf(stderr, "sendbench: user create: there is already an account for %s\n", email);
            rc = 2;
        } else {
            fprintf(stderr, "sendbench: user create: %s\n", err);
        }
    } else {
        print_link(base_url(base), secret, PQgetvalue(res, 0, 2));
        fprintf(stderr, "user %s created: %s, %s for %s\n", PQgetvalue(res, 0, 0), email,
                session_role_name(rl), PQgetvalue(res, 0, 1));
        rc = 0;
    }
    OPENSSL_cleanse(secret, sizeof secret);
    PQclear(res);
    PQfinish(conn);
    return rc;
}

/* user link EMAIL and user disable EMAIL: one positional argument and
 * optionally --base-url. */
static int user_one(int argc, char **argv, int link)
{
    const char *email = NULL, *base = NULL;
    const struct cli_opt opts[] = {CLI_OPT_ARG("EMAIL", &email), CLI_OPT_TEXT("base-url", &base, 400)};
    /* disable takes no --base-url: it prints no link. */
    int prc = cli_parse(link ? "user link" : "user disable", cli_usage("user"), opts,
                        link ? 2 : 1, argc, argv, 2);
    if (prc)
        return prc;
    if (!email || !users_email_ok(email))
        return cli_usage_error("user %s: give the account's email address (%s)", argv[1], cli_usage("user"));
    char err[512], secret[AUTH_SECRET_LEN + 1] = "", hex[67] = "";
    if (link && users_link_new(secret, hex) != 0) {
        fprintf(stderr, "sendbench: user link: the random generator failed\n");
        return 1;
    }
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: user %s: %s\n", argv[1], err);
        return 1;
    }
    const char *params[2] = {email, hex};
    PGresult *res = dbsync_exec(conn, link
        ? "SELECT to_char(user_new_link(id, 'cli', NULL, $2::bytea, 7) AT TIME ZONE 'UTC',"
          " 'YYYY-MM-DD HH24:MI \"UTC\"') FROM users WHERE email = lower($1)"
        : "SELECT user_disable(id, 'cli', NULL)::text FROM users WHERE email = lower($1) AND $2 = ''",
        2, params, err, sizeof err);
    int rc = 1;
    if (!res) {
        fprintf(stderr, "sendbench: user %s: %s\n", argv[1], err);
    } else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
               strcmp(PQgetvalue(res, 0, 0), "false") == 0) {
        fprintf(stderr, "sendbench: user %s: no active account for %s\n", argv[1], email);
        rc = 2;
    } else {
        if (link)
            print_link(base_url(base), secret, PQgetvalue(res, 0, 0));
        else
            printf("user %s disabled; their sessions have ended\n", email);
        rc = 0;
    }
    OPENSSL_cleanse(secret, sizeof secret);
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static int user_list(int argc, char **argv)
{
    int prc = cli_parse("user list", cli_usage("user"), NULL, 0, argc, argv, 2);
    if (prc)
        return prc;
    char err[512];
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: user list: %s\n", err);
        return 1;
    }
    PGresult *res = dbsync_exec(conn,
        "SELECT id, email, role, coalesce(authority, '-'),"
        " CASE WHEN disabled_at IS NOT NULL THEN 'disabled'"
        "      WHEN password_hash IS NULL THEN 'set-up pending' ELSE 'active' END"
        " FROM users ORDER BY id", 0, NULL, err, sizeof err);
    if (!res) {
        fprintf(stderr, "sendbench: user list: %s\n", err);
        PQfinish(conn);
        return 1;
    }
    printf("id\temail\trole\tauthority\tstatus\n");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
    PQclear(res);
    PQfinish(conn);
    return 0;
}

int cmd_user(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("user: give a subcommand (%s)", cli_usage("user"));
    if (strcmp(argv[1], "create") == 0)
        return user_create(argc, argv);
    if (strcmp(argv[1], "link") == 0)
        return user_one(argc, argv, 1);
    if (strcmp(argv[1], "disable") == 0)
        return user_one(argc, argv, 0);
    if (strcmp(argv[1], "list") == 0)
        return user_list(argc, argv);
    return cli_usage_error("user: unknown subcommand \"%.40s\" (%s)", argv[1], cli_usage("user"));
}
