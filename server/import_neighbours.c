/*
 * The statistical neighbours importer (`sendbench import neighbours`): the
 * DfE's children's services statistical neighbours (10 per authority, in
 * rank order, with closeness labels).  Links are not versioned figures: for
 * each authority in the file the links that differ are replaced.
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsync.h"

static const char *const neighbour_header[5] = {"LA num", "LA Name", "LA number", "GOInd", "GOReg"};

/* One neighbour link read from the file. */
struct nb_link {
    char authority[10];
    char neighbour[10];
    const char *closeness;      /* static: import_closeness_canonical() */
    int rank;
    unsigned line;
    bool unchanged;             /* the same link is already stored */
};

/* The importer's state (run->state). */
struct nb_links {
    struct nb_link *link;
    size_t n, cap;
    size_t skipped_ranks;       /* empty SN/SNP pairs */
};

static int nb_link_cmp(const void *a, const void *b)
{
    const struct nb_link *x = a, *y = b;
    int d = strcmp(x->authority, y->authority);
    return d ? d : (x->rank > y->rank) - (x->rank < y->rank);
}

static int neighbours_rows(struct import_run *run, const struct import_csv *csv,
                           struct registry *reg, struct nb_links *links)
{
    const struct import_csv_record *h = &csv->record[0];
    if (h->nfield != 25)
        return import_fail(run, h->line,
                        "wrong header: %zu columns, a neighbours file has 25 (LA num, LA Name, "
                        "LA number, GOInd, GOReg, then SN1, SNP ... SN10, SNP)",
                        h->nfield);
    for (size_t i = 0; i < 25; i++) {
        char want[16];
        if (i < 5)
            snprintf(want, sizeof want, "%s", neighbour_header[i]);
        else if ((i - 5) % 2 == 0)
            snprintf(want, sizeof want, "SN%zu", (i - 5) / 2 + 1);
        else
            snprintf(want, sizeof want, "SNP");
        if (strcmp(h->field[i], want) != 0)
            return import_fail(run, h->line, "wrong header: column %zu is \"%.40s\", expected \"%s\"",
                            i + 1, h->field[i], want);
    }
    for (size_t i = 1; i < csv->nrecord; i++) {
        const struct import_csv_record *rec = &csv->record[i];
        if (import_check_width(run, csv, i) != 0)
            return -1;
        char **f = rec->field;
        struct reg_authority *a = registry_by_old(reg, f[0]);
        if (!a)
            return import_fail(run, rec->line, "unknown authority code \"%.20s\" (LA num)", f[0]);
        if (strcmp(f[2], f[0]) != 0)
            return import_fail(run, rec->line, "LA num %s and LA number %.20s differ", f[0], f[2]);
        for (size_t j = 1; j < i; j++)
            if (strcmp(csv->record[j].field[0], f[0]) == 0)
                return import_fail(run, rec->line, "authority %s already listed on line %u", f[0],
                                csv->record[j].line);
        size_t row_first = links->n;
        for (int rank = 1; rank <= 10; rank++) {
            const char *sn = f[5 + 2 * (rank - 1)], *snp = f[6 + 2 * (rank - 1)];
            if (!sn[0] && !snp[0]) {
                links->skipped_ranks++;
                continue;
            }
            struct reg_authority *n = registry_by_old(reg, sn);
            if (!n)
                return import_fail(run, rec->line, "unknown authority code \"%.20s\" (SN%d)", sn,
                                rank);
            const char *label = import_closeness_canonical(snp);
            if (!label)
                return import_fail(run, rec->line, "unknown closeness label \"%.40s\" (SN%d)", snp,
                                rank);
            for (size_t k = row_first; k < links->n; k++)
                if (strcmp(links->link[k].neighbour, n->code) == 0)
                    return import_fail(run, rec->line, "neighbour %s listed twice for %s", n->code,
                                    a->code);
            if (links->n == links->cap) {
                size_t cap = links->cap ? links->cap * 2 : 2048;
                struct nb_link *g = realloc(links->link, cap * sizeof *g);
                if (!g)
                    return import_fail(run, rec->line, "out of memory");
                links->link = g;
                links->cap = cap;
            }
            struct nb_link *l = &links->link[links->n++];
            import_copy_str(l->authority, sizeof l->authority, a->code);
            import_copy_str(l->neighbour, sizeof l->neighbour, n->code);
            l->closeness = label;
            l->rank = rank;
            l->line = rec->line;
            l->unchanged = false;
        }
        run->rows_loaded++;
    }
    return 0;
}

static int neighbours_detect(char *const *header, size_t n, const char **published, char *why,
                             size_t whylen)
{
    (void)why;
    (void)whylen;
    *published = "";
    return n > 0 && strcmp(header[0], neighbour_header[0]) == 0;
}

static int neighbours_stage(struct import_run *run, const struct import_csv *csv,
                            struct registry *reg)
{
    struct nb_links *links = calloc(1, sizeof *links);
    if (!links)
        return import_fail(run, 0, "out of memory");
    run->state = links;
    run->title = "statistical neighbours";
    if (import_set_source(run, "DfE statistical neighbours", "") != 0 ||
        neighbours_rows(run, csv, reg, links) != 0)
        return -1;
    qsort(links->link, links->n, sizeof *links->link, nb_link_cmp);
    return 0;
}

/* Replaces, for the authorities in the file, only the links that differ
 * (compared here with what is stored): a second import of the same file
 * changes nothing. */
static int neighbours_write(PGconn *conn, struct import_run *run, struct registry *reg)
{
    (void)reg;
    struct nb_links *links = run->state;
    struct import_buf del_a = {0}, del_r = {0}, b = {0};
    char err[512];
    int rc = -1;
    struct import_buf auth = {0};
    int ok = import_buf_put(&auth, "{", 1) == 0;
    for (size_t i = 0; ok && i < links->n; i++)
        if (i == 0 || strcmp(links->link[i].authority, links->link[i - 1].authority) != 0)
            ok = import_array_put(&auth, links->link[i].authority) == 0;
    ok = ok && import_buf_put(&auth, "}", 1) == 0 && import_buf_put(&del_a, "{", 1) == 0 &&
         import_buf_put(&del_r, "{", 1) == 0;
    if (!ok) {
        import_buf_free(&auth);
        import_fail(run, 0, "out of memory");
        goto out;
    }
    const char *pa[1] = {auth.data};
    PGresult *r = dbsync_exec(conn,
                              "SELECT authority, rank, neighbour, closeness FROM statistical_neighbours"
                              " WHERE authority = ANY ($1::text[])",
                              1, pa, err, sizeof err);
    import_buf_free(&auth);
    if (!r) {
        import_fail(run, 0, "%s", err);
        goto out;
    }
    long removed = 0;
    for (int k = 0; ok && k < PQntuples(r); k++) {
        struct nb_link key = {.rank = atoi(PQgetvalue(r, k, 1))};
        import_copy_str(key.authority, sizeof key.authority, PQgetvalue(r, k, 0));
        struct nb_link *l = bsearch(&key, links->link, links->n, sizeof key, nb_link_cmp);
        if (l && strcmp(l->neighbour, PQgetvalue(r, k, 2)) == 0 &&
            strcmp(l->closeness, PQgetvalue(r, k, 3)) == 0) {
            l->unchanged = true;
            continue;
        }
        ok = import_array_put(&del_a, PQgetvalue(r, k, 0)) == 0 && import_array_put(&del_r, PQgetvalue(r, k, 1)) == 0;
        removed++;
    }
    PQclear(r);
    ok = ok && import_buf_put(&del_a, "}", 1) == 0 && import_buf_put(&del_r, "}", 1) == 0;
    long inserted = 0;
    for (size_t i = 0; ok && i < links->n; i++) {
        const struct nb_link *l = &links->link[i];
        if (l->unchanged)
            continue;
        char rank[4];
        snprintf(rank, sizeof rank, "%d", l->rank);
        ok = import_buf_copy_field(&b, l->authority, false) == 0 &&
             import_buf_copy_field(&b, rank, false) == 0 &&
             import_buf_copy_field(&b, l->neighbour, false) == 0 &&
             import_buf_copy_field(&b, l->closeness, false) == 0 &&
             import_buf_copy_field(&b, run->source, true) == 0;
        inserted++;
    }
    if (!ok) {
        import_fail(run, 0, "out of memory");
        goto out;
    }
    import_phase(run, PH_CHECK);
    if (removed > 0) {
        const char *pd[2] = {del_a.data, del_r.data};
        r = dbsync_exec(conn,
                        "DELETE FROM statistical_neighbours WHERE (authority, rank) IN"
                        " (SELECT * FROM unnest($1::text[], $2::smallint[]))",
                        2, pd, err, sizeof err);
        if (!r) {
            import_fail(run, 0, "%s", err);
            goto out;
        }
        PQclear(r);
    }
    if (inserted > 0 &&
        import_copy_in(conn, "COPY statistical_neighbours (authority, rank, neighbour, closeness, source)"
                      " FROM STDIN",
                &b, err, sizeof err) != 0) {
        import_fail(run, 0, "%s", err);
        goto out;
    }
    import_phase(run, PH_WRITE);
    run->links_written = inserted;
    run->links_removed = removed;
    rc = 0;
out:
    import_buf_free(&b);
    import_buf_free(&del_a);
    import_buf_free(&del_r);
    return rc;
}

static void neighbours_report(const struct import_run *run)
{
    const struct nb_links *links = run->state;
    printf("  neighbour links: %ld written, %ld replaced or removed, %zu empty ranks skipped\n",
           run->links_written, run->links_removed, links ? links->skipped_ranks : 0);
}

static void neighbours_cleanup(struct import_run *run)
{
    struct nb_links *links = run->state;
    if (links)
        free(links->link);
    free(links);
    run->state = NULL;
}

const struct importer importer_neighbours = {
    .name = "neighbours",
    .what = "DfE statistical neighbours",
    .detect = neighbours_detect,
    .stage = neighbours_stage,
    .after_stage = neighbours_write,
    .report = neighbours_report,
    .cleanup = neighbours_cleanup,
    .figures = false,
    .single_file = true,
};
