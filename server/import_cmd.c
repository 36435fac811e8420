/*
 * sendbench import KIND FILE... | import all FILE|DIR...: the command.
 * Lists the files, tells each one's importer (import_table) from its header
 * for `import all`, orders them and runs import_file() on each in one
 * process and one connection (docs/import.md).
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "dbsync.h"
#include "import.h"

struct import_item {
    const char *path;       /* argv string or owned (dir entry): see owned */
    char *owned;
    const struct importer *imp;
    int rank;               /* the importer's position in import_table */
    const char *published;  /* the release date ordering files of one importer */
    size_t pos;             /* order given (directory entries by name) */
};

/* Parses only the header line of path (the first line, at most 64 KiB). */
static int read_header(const char *path, struct import_csv *h, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %m");
        return -1;
    }
    char *buf = malloc(65536);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = fread(buf, 1, 65536, f);
    fclose(f);
    char *nl = memchr(buf, '\n', n);
    if (nl)
        n = (size_t)(nl - buf) + 1;
    int rc = import_csv_parse(buf, n, h, err, errlen);
    free(buf);
    if (rc == 0 && h->nrecord == 0) {
        snprintf(err, errlen, "empty file (no header line)");
        import_csv_free(h);
        return -1;
    }
    return rc;
}

/* Tells which importer a file is for from its header: the first in
 * import_table whose detect() says yes. */
static int classify(struct import_item *it, char *err, size_t errlen)
{
    struct import_csv h = {0};
    if (read_header(it->path, &h, err, errlen) != 0)
        return -1;
    char **f = h.record[0].field;
    size_t n = h.record[0].nfield;
    char why[300] = "", first_why[300] = "";
    int rc = -1;
    for (int k = 0; import_table[k]; k++) {
        const char *published = "";
        int d = import_table[k]->detect(f, n, &published, why, sizeof why);
        if (d == 1) {
            it->imp = import_table[k];
            it->rank = k;
            it->published = published;
            rc = 0;
            break;
        }
        if (d < 0 && !first_why[0])
            snprintf(first_why, sizeof first_why, "%s: %s", import_table[k]->name, why);
    }
    if (rc != 0) {
        int len = snprintf(err, errlen, "line 1: wrong header: not a file of any importer (");
        for (int k = 0; import_table[k] && len > 0 && (size_t)len < errlen; k++)
            len += snprintf(err + len, errlen - (size_t)len, "%s%s", k ? ", " : "",
                            import_table[k]->what);
        if (len > 0 && (size_t)len < errlen)
            snprintf(err + len, errlen - (size_t)len, ")%s%s", first_why[0] ? "; " : "",
                     first_why);
    }
    import_csv_free(&h);
    return rc;
}

/* Files of importers earlier in the table first; within one importer,
 * releases oldest first (a newer release then revises an older one). */
static int item_cmp(const void *a, const void *b)
{
    const struct import_item *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    int c = strcmp(x->published, y->published);
    if (c != 0)
        return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_item(struct import_item **items, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        struct import_item *g = realloc(*items, c * sizeof *g);
        if (!g)
            return -1;
        *items = g;
        *cap = c;
    }
    memset(&(*items)[*n], 0, sizeof **items);
    (*n)++;
    return 0;
}

/* Appends path, or the *.csv files of directory path (by name), to items.
 * Returns 0, or -1 with the reason in err. */
static int collect_path(const char *path, struct import_item **items, size_t *n, size_t *cap,
                        char *err, size_t errlen)
{
    char **names = NULL;
    size_t nnames = 0, capnames = 0;
    int rc = -1;
    DIR *d = opendir(path);
    if (!d) {
        if (errno != ENOTDIR) {
            snprintf(err, errlen, "%s: cannot open: %m", path);
            return -1;
        }
        names = malloc(sizeof *names);
        if (!names || !(names[0] = strdup(path)))
            goto oom;
        nnames = 1;
    } else {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 4, ".csv") != 0 || e->d_name[0] == '.')
                continue;
            if (nnames == capnames) {
                capnames = capnames ? capnames * 2 : 16;
                char **g = realloc(names, capnames * sizeof *g);
                if (!g)
                    goto oom;
                names = g;
            }
            size_t plen = strlen(path);
            char *full = malloc(plen + len + 2);
            if (!full)
                goto oom;
            snprintf(full, plen + len + 2, "%s%s%s", path,
                     plen && path[plen - 1] == '/' ? "" : "/", e->d_name);
            names[nnames++] = full;
        }
        closedir(d);
        d = NULL;
        if (nnames == 0) {
            snprintf(err, errlen, "%s: no .csv file in the directory", path);
            goto done;
        }
        qsort(names, nnames, sizeof *names, name_cmp);
    }
    for (size_t i = 0; i < nnames; i++) {
        if (push_item(items, n, cap) != 0)
            goto oom;
        struct import_item *it = &(*items)[*n - 1];
        it->owned = names[i];
        it->path = names[i];
        it->pos = *n;
        names[i] = NULL;
    }
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory");
done:
    if (d)
        closedir(d);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    return rc;
}

static bool is_iso_date(const char *s)
{
    int y, m, d;
    char extra;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) == 3 && s[4] == '-' &&
           s[7] == '-' && y >= 1990 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* "sendbench import sen2 [...] FILE... | import neighbours FILE | ..." from the table. */
static void usage_text(char *buf, size_t cap)
{
    int len = snprintf(buf, cap, "usage: sendbench");
    for (int k = 0; import_table[k] && len > 0 && (size_t)len < cap; k++) {
        const struct importer *imp = import_table[k];
        len += snprintf(buf + len, cap - (size_t)len, "%s import %s%s %s", k ? " |" : "",
                        imp->name,
                        imp->release_option ? " [--release NAME --published YYYY-MM-DD]" : "",
                        imp->single_file ? "FILE" : "FILE...");
    }
    if (len > 0 && (size_t)len < cap)
        snprintf(buf + len, cap - (size_t)len, " | import all FILE|DIR...  [--db URL]");
}

int cmd_import(int argc, char **argv)
{
    char usage[1024];
    usage_text(usage, sizeof usage);
    if (argc < 2)
        return cli_usage_error("import: say what to import (%s)", usage);
    const char *what = argv[1];
    bool all = strcmp(what, "all") == 0;
    const struct importer *kind = all ? NULL : import_find(what);
    if (!all && !kind)
        return cli_usage_error("import: unknown kind \"%.40s\" (%s)", what, usage);
    struct import_opts opts = {0};
    struct cli_args list = {0};
    char cmd[64];
    snprintf(cmd, sizeof cmd, "import %s", what);
    /* --release and --published only where the importer takes them. */
    const struct cli_opt cli_opts[] = {
        CLI_OPT_ARGS("FILE", &list),
        CLI_OPT_TEXT("release", &opts.release, 0),
        CLI_OPT_TEXT("published", &opts.published, 0),
    };
    int rc = cli_parse(cmd, usage, cli_opts, kind && kind->release_option ? 3 : 1, argc, argv, 2);
    if (rc) {
        cli_args_free(&list);
        return rc;
    }
    const char **files = list.v;
    int nfiles = list.n;
    if (nfiles == 0)
        rc = cli_usage_error("import %s: no FILE given (%s)", what, usage);
    else if (kind && kind->single_file && nfiles != 1)
        rc = cli_usage_error("import %s: exactly one FILE (%s)", what, usage);
    else if (opts.published && !is_iso_date(opts.published))
        rc = cli_usage_error("import %s: --published \"%.20s\" is not a date YYYY-MM-DD", what,
                             opts.published);
    else if (opts.release && (!opts.release[0] || strlen(opts.release) > 120))
        rc = cli_usage_error("import %s: --release must be 1-120 characters", what);
    else if ((opts.release != NULL) != (opts.published != NULL))
        rc = cli_usage_error("import %s: --release and --published go together", what);
    if (rc != 0) {
        free(files);
        return rc;
    }

    /* The files in the order they are imported, each with its importer. */
    struct import_item *items = NULL;
    size_t nitems = 0, capitems = 0;
    char err[1024];
    struct registry reg = {0};     /* shared by the run's files (import_file) */
    /* The server starts its backend while the files are listed, recognised
     * and the first one read (import_file waits for it). */
    PGconn *conn = dbsync_connect_begin(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: import %s: %s\n", what, err);
        free(files);
        return 1;
    }
    for (int i = 0; i < nfiles; i++) {
        if (all) {
            if (collect_path(files[i], &items, &nitems, &capitems, err, sizeof err) != 0) {
                fprintf(stderr, "sendbench: import all: %s\n", err);
                rc = 1;
                goto done;
            }
            continue;
        }
        if (push_item(&items, &nitems, &capitems) != 0) {
            rc = cli_usage_error("import: out of memory");
            goto done;
        }
        items[nitems - 1].path = files[i];
        items[nitems - 1].imp = kind;
        items[nitems - 1].published = "";
        items[nitems - 1].pos = (size_t)i;
    }
    if (all) {
        /* Every file is recognised before anything is loaded. */
        for (size_t i = 0; i < nitems; i++)
            if (classify(&items[i], err, sizeof err) != 0) {
                unsigned line = 0;
                const char *msg = err;
                if (sscanf(err, "line %u:", &line) == 1 && strchr(err, ':'))
                    msg = strchr(err, ':') + 2;
                if (line)
                    fprintf(stderr, "sendbench: import all: %s:%u: %s\n", items[i].path, line, msg);
                else
                    fprintf(stderr, "sendbench: import all: %s: %s\n", items[i].path, msg);
                fprintf(stderr, "sendbench: import all: nothing was loaded\n");
                rc = 1;
                goto done;
            }
        qsort(items, nitems, sizeof *items, item_cmp);
    }

    double t0 = clock_seconds();
    int loaded = 0;
    for (size_t i = 0; i < nitems; i++) {
        const struct import_item *it = &items[i];
        /* Every file but the last commits without waiting for its WAL to
         * reach disk: the last file's commit flushes the log up to itself,
         * so when the command ends every file is as durable as with a
         * flush each (a crash of the server before then can lose files
         * already reported; importing again puts them back). */
        struct import_run run = {.path = it->path, .defer_flush = i + 1 < nitems, .opts = &opts};
        char *dup = strdup(it->path);
        run.file_name = dup ? basename(dup) : it->path;
        int frc = import_file(conn, it->imp, &run, &reg);
        if (frc == 0 && registry_add_source(&reg, run.source, run.published) != 0) {
            import_fail(&run, 0, "out of memory");
            frc = -1;
        }
        free(run.obs);
        free(run.area);
        if (frc != 0) {
            const char *k = all ? "all" : what;
            fflush(stdout);
            if (run.err_line)
                fprintf(stderr, "sendbench: import %s: %s:%u: %s\n", k, it->path, run.err_line,
                        run.err);
            else
                fprintf(stderr, "sendbench: import %s: %s: %s\n", k, it->path, run.err);
            fprintf(stderr, "sendbench: import %s: nothing from %s was loaded%s\n", k, it->path,
                    loaded ? " (the files before it were)" : "");
            free(dup);
            rc = 1;
            break;
        }
        free(dup);
        loaded++;
    }
    if (rc == 0)
        printf("import %s: %d file%s in %.3f s\n", what, loaded, loaded == 1 ? "" : "s",
               clock_seconds() - t0);
done:
    registry_free(&reg);
    if (conn)
        PQfinish(conn);
    for (size_t i = 0; i < nitems; i++)
        free(items[i].owned);
    free(items);
    free(files);
    return rc;
}
