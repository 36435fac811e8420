/* bin/sendbench: one binary, one subcommand per job. */
#include <gsl/gsl_errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    {"migrate", cmd_migrate, "migrate", "apply the sql/ migrations (idempotent)"},
    {"forecast", cmd_forecast,
     "forecast --authority CODE --metric ID [--horizon H] [--format json|csv]",
     "fit and print a forecast from the database (CODE: authority, region E12..., or E92000001 for England)"},
    {"backtest", cmd_backtest, "backtest --metric ID [--origin PERIOD] [--horizon H]",
     "rolling-origin accuracy over all authorities: MASE, sMAPE, interval coverage, per model"},
    {"import", cmd_import,
     "import sen2 [--release NAME --published YYYY-MM-DD] FILE... | import neighbours FILE | "
     "import dsg FILE | import lait FILE | import all FILE|DIR...",
     "load DfE SEN2 CSVs (2022 and 2025 layouts, with England and regional rows), statistical "
     "neighbours, DSG balance %, LAIT measures, or every file given (kind detected from each header); idempotent, one transaction per file; prints rows "
     "read / loaded / skipped and the import checks' quarantined and queried rows"},
    {"quality", cmd_quality,
     "quality list [--status quarantined|released|queried] | quality release ID --reason TEXT",
     "list the figures the import checks quarantined or queried; release a quarantined one "
     "(audited)"},
    {"token", cmd_token,
     "token create (--authority CODE | --admin) [--expires-days N] [--label TEXT] | token revoke ID | token list",
     "issue a bearer token (printed once; only its hash is stored), revoke one, list them"},
    {"user", cmd_user,
     "user create (--authority CODE --role submitter|approver|viewer | --admin) --email E "
     "[--expires-days N] [--base-url URL] | user link EMAIL | user disable EMAIL | user list",
     "a person's account: prints a one-time set-up link (only its hash is stored); a new link; "
     "disable (ends their sessions); list"},
    {"consent", cmd_consent, "consent --authority CODE --name yes|no",
     "whether an authority's unpublished figures may be shown under its name (audited)"},
    {NULL, NULL, NULL, NULL},
};

const char *cli_usage(const char *command)
{
    static char line[1024];
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, command) == 0) {
            snprintf(line, sizeof line, "usage: sendbench %s%s", c->usage,
                     c->fn == cmd_serve ? "" : "  [--db URL]");
            return line;
        }
    return "usage: sendbench --help";
}

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

/* Whether one of libpq's variables says where the database is. */
static int pg_location_in_env(void)
{
    static const char *const vars[] = {"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE",
                                       "PGSERVICE", NULL};
    for (const char *const *v = vars; *v; v++)
        if (getenv(*v) && *getenv(*v))
            return 1;
    return 0;
}

/* Whether dir/.s.PGSQL.5432 is a socket (a running cluster of `make run`). */
static int cluster_socket_in(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/.s.PGSQL.5432", dir) >= (int)sizeof path)
        return 0;
    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Appends s to a conninfo value in single quotes (backslash and quote
 * escaped, as libpq reads them).  Returns 0, or -1 when it does not fit. */
static int conninfo_quote(char *out, size_t cap, const char *s)
{
    size_t o = strlen(out);
    if (o + 1 >= cap)
        return -1;
    out[o++] = '\'';
    for (; *s; s++) {
        if (o + 3 >= cap)
            return -1;
        if (*s == '\'' || *s == '\\')
            out[o++] = '\\';
        out[o++] = *s;
    }
    out[o++] = '\'';
    out[o] = '\0';
    return 0;
}

const char *cli_db_default(void)
{
    static char url[PATH_MAX + 64];
    if (pg_location_in_env())
        return "";
    /* var/pg beside the bin/ the binary is in (bin/sendbench, or
     * bin/san/sendbench and the like), then under the working directory. */
    char exe[PATH_MAX], cand[PATH_MAX + 32], real[PATH_MAX];
    const char *tails[] = {"/../var/pg/sock", "/../../var/pg/sock", NULL};
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    int have_exe = n > 0;
    if (have_exe) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
    }
    for (int i = 0; i < 3; i++) {
        if (i < 2 && !have_exe)
            continue;
        if (i < 2)
            snprintf(cand, sizeof cand, "%s%s", exe, tails[i]);
        else
            snprintf(cand, sizeof cand, "var/pg/sock");
        /* realpath: var/pg may be a link to where the postgres user can
         * reach it (scripts/run.sh). */
        if (!realpath(cand, real) || !cluster_socket_in(real))
            continue;
        snprintf(url, sizeof url, "dbname=sendbench user=postgres host=");
        if (conninfo_quote(url, sizeof url, real) == 0)
            return url;
    }
    return "";
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
    return env && *env ? env : cli_db_default();
}

int cmd_migrate(int argc, char **argv)
{
    int rc = cli_parse("migrate", cli_usage("migrate"), NULL, 0, argc, argv, 1);
    if (rc)
        return rc;
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
    fprintf(f, "\nEvery command takes --db URL.  Without it: DATABASE_URL; else, when no libpq\n"
               "PG* variable says where the database is, the cluster of `make run` (var/pg, while\n"
               "it runs); else libpq's defaults.\n\n");
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
    for (const struct command *c = commands; c->name; c++) {
        if (strcmp(argv[1], c->name) != 0)
            continue;
        /* sendbench COMMAND --help: its usage (and serve's settings). */
        if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            printf("%s\n      %s\n", cli_usage(c->name), c->help);
            if (c->fn == cmd_serve)
                config_usage();
            return 0;
        }
        return c->fn(argc - 1, argv + 1);
    }
    return cli_usage_error("unknown command \"%.60s\"; try: sendbench --help", argv[1]);
}
