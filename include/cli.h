/* Command-line commands of bin/sendbench (table in server/main.c). */
#ifndef SENDBENCH_CLI_H
#define SENDBENCH_CLI_H

/* Each returns the process exit status; a bad argument prints one line
 * "sendbench: <reason>" to stderr and returns 2. */
int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_backtest(int argc, char **argv);
/* server/import_cmd.c: argv[1] names an importer (import_table) or all.  1 when a file is
 * refused (reason with FILE:LINE on stderr; that file's transaction is rolled
 * back, files before it stay loaded). */
int cmd_import(int argc, char **argv);
int cmd_token(int argc, char **argv);      /* server/cli_token.c */
int cmd_consent(int argc, char **argv);    /* server/cli_consent.c */
int cmd_user(int argc, char **argv);       /* server/cli_user.c */
int cmd_quality(int argc, char **argv);    /* server/cli_quality.c */

/* "usage: sendbench ..." for a command ("token"), from the command table in
 * server/main.c: the one place each command's usage is written.  Static
 * storage, overwritten by the next call. */
const char *cli_usage(const char *command);

/* Prints "sendbench: <reason>" and returns 2: for bad arguments. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Finds "--db URL" (or --db=URL) in argv; falls back to DATABASE_URL, then
 * cli_db_default().  Borrowed. */
const char *cli_db_url(int argc, char **argv);
/* Where a command connects when nothing names a database: "" (libpq's PG*
 * variables) when one of PGHOST, PGHOSTADDR, PGPORT, PGDATABASE, PGSERVICE
 * is set; else the running cluster of `make run`, var/pg beside the bin/
 * the binary is in or under the working directory (conninfo of its
 * database sendbench); else "".  Static storage. */
const char *cli_db_default(void);

/*
 * Each command declares its options in a table (server/cli_opts.c parses
 * them, in the style of the server's settings in server/config.c):
 *   CLI_TEXT  --name VALUE or --name=VALUE      out: const char **
 *             (max > 0: at most max bytes)
 *   CLI_INT   --name N, a whole number min..max  out: long long *
 *   CLI_FLAG  --name                             out: int * (set to 1)
 *   CLI_ARG   one positional argument, in order  out: const char **
 *   CLI_ARGS  every further positional argument  out: struct cli_args *
 * --db URL / --db=URL is accepted by every command (read by cli_db_url).
 * An option given twice, an unknown option, a missing value, a bad number
 * or a positional argument nobody declared is a usage error: one line
 * "sendbench: CMD: <reason> (usage)" on stderr and exit status 2.
 * --help (or -h) prints the usage line and exits 0.
 */
enum cli_kind { CLI_TEXT, CLI_INT, CLI_FLAG, CLI_ARG, CLI_ARGS };

struct cli_args {
    const char **v;         /* borrowed from argv; allocated by cli_parse */
    int n;
};

struct cli_opt {
    const char *name;       /* without "--"; for CLI_ARG/CLI_ARGS, its name in messages */
    enum cli_kind kind;
    void *out;
    long long min, max;
};

#define CLI_OPT_TEXT(n, p, maxlen) {n, CLI_TEXT, (void *)(p), 0, maxlen}
#define CLI_OPT_INT(n, p, lo, hi) {n, CLI_INT, (void *)(p), lo, hi}
#define CLI_OPT_FLAG(n, p) {n, CLI_FLAG, (void *)(p), 0, 0}
#define CLI_OPT_ARG(n, p) {n, CLI_ARG, (void *)(p), 0, 0}
#define CLI_OPT_ARGS(n, p) {n, CLI_ARGS, (void *)(p), 0, 0}
#define CLI_NOPTS(a) (sizeof(a) / sizeof((a)[0]))

/* Parses argv[first..argc) against opts (n of them) for command cmd
 * ("token create"); usage is quoted in error messages.  Returns 0, or the
 * usage error's exit status (2).  Outputs not given keep their values. */
int cli_parse(const char *cmd, const char *usage, const struct cli_opt *opts, size_t n,
              int argc, char **argv, int first);
/* Frees what cli_parse allocated for a CLI_ARGS output. */
void cli_args_free(struct cli_args *a);

#endif
