/* bin/sendbench: one binary, one subcommand per job. */
#include <gsl/gsl_errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "dbsync.h"
#include "migrate.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
    const char *help;
};

static const struct command commands[] = {
    {"serve", cmd_serve, "serve [--port N] [--db URL] [--SETTING VALUE...]",
     "run the HTTP server in the foreground; SIGTERM drains and exits 0"},
    {"migrate", cmd_migrate, "migrate [--db URL]", "apply the sql/ migrations (idempotent)"},
    {"forecast", cmd_forecast,
     "forecast --authority CODE --metric ID [--horizon H] [--format json|csv]",
     "fit and print a forecast from the database (CODE: authority, region E12..., or E92000001 for England)"},
    {"backtest", cmd_backtest, "backtest --metric ID [--origin PERIOD] [--horizon H]",
     "rolling-origin accuracy over all authorities: MASE, sMAPE, interval coverage, per model"},
    {"import", cmd_import,
     "import sen2 [--release NAME --published YYYY-MM-DD] FILE... | import neighbours FILE | import dsg FILE",
     "load DfE SEN2 CSVs (2022 and 2025 layouts), statistical neighbours, DSG balance %; "
     "idempotent, one transaction per file; prints rows read / loaded / skipped"},
    {"token", cmd_token,
     "token create (--authority CODE | --admin) [--expires-days N] [--label TEXT] | token revoke ID | token list",
     "issue a bearer token (printed once; only its hash is stored), revoke one, list them"},
    {"user", cmd_user,
     "user create (--authority CODE --role submitter|approver|viewer | --admin) --email E "
     "[--expires-days N] [--base-url URL] | user link EMAIL | user disable EMAIL | user list",
     "a person's account: prints a one-time set-up link (only its hash is stored); a new link; "
     "disable (ends their sessions); list"},
    {NULL, NULL, NULL, NULL},
};

int cli_usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sendbench: %s\n", msg);
    return 2;
}

const char *cli_db_url(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--db=", 5) == 0)
            return argv[i] + 5;
    }
    const char *env = getenv("DATABASE_URL");
    return env ? env : "";
}

int cmd_migrate(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--db=", 5) == 0)
            continue;
        return cli_usage_error("migrate: unexpected argument \"%s\" (usage: sendbench migrate [--db URL])",
                               argv[i]);
    }
    char err[512];
    PGconn *conn = dbsync_connect(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: migrate: %s\n", err);
        return 1;
    }
    int n = migrate_apply(conn, err, sizeof err);
    PQfinish(conn);
    if (n < 0) {
        fprintf(stderr, "sendbench: migrate: %s\n", err);
        return 1;
    }
    printf("migrations applied: %d\n", n);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: sendbench COMMAND [ARGS]\n\nCommands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "  sendbench %s\n      %s\n", c->usage, c->help);
    fprintf(f, "\nEvery command takes --db URL (default: DATABASE_URL, then libpq PG* variables).\n\n");
}

int main(int argc, char **argv)
{
    /* GSL's default handler aborts the process; we check every status. */
    gsl_set_error_handler_off();
    if (argc < 2)
        return cli_usage_error("no command given; try: sendbench --help");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        config_usage();
        return 0;
    }
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->fn(argc - 1, argv + 1);
    return cli_usage_error("unknown command \"%.60s\"; try: sendbench --help", argv[1]);
}
