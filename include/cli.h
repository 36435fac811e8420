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

#endif
