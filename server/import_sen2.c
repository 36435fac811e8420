/*
 * The SEN2 importer (`sendbench import sen2`): the DfE's "Education, health
 * and care plans" files, 2022 and 2025 release layouts (the layouts and
 * their column mapping are in import_parse.c; docs/import.md explains them).
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsync.h"
#include "import_sen2_layout.h"

static int sen2_detect(char *const *header, size_t n, const char **published, char *why,
                       size_t whylen)
{
    const struct sen2_layout *lay = import_sen2_detect(header, n, why, whylen);
    if (lay) {
        *published = lay->published;
        return 1;
    }
    return strstr(why, "not a known SEN2 layout") ? 0 : -1;
}

static int sen2_stage(struct import_run *run, const struct import_csv *csv, struct registry *reg)
{
    char why[300];
    const struct sen2_layout *lay =
        import_sen2_detect(csv->record[0].field, csv->record[0].nfield, why, sizeof why);
    if (!lay)
        return import_fail(run, csv->record[0].line, "%s", why);
    run->title = lay->name;
    const struct import_opts *opts = run->opts;
    if (import_set_source(run, opts && opts->release ? opts->release : lay->release,
                          opts && opts->published ? opts->published : lay->published) != 0)
        return -1;

    int c_tp = import_csv_column(csv, "time_period");
    int c_geo = import_csv_column(csv, "geographic_level");
    int c_country = import_csv_column(csv, "country_code");
    int c_old = import_csv_column(csv, "old_la_code");
    int c_new = import_csv_column(csv, "new_la_code");
    int c_name = import_csv_column(csv, "la_name");
    int c_rcode = import_csv_column(csv, "region_code");
    int c_rname = import_csv_column(csv, "region_name");
    int c_filter = lay->filter_column ? import_csv_column(csv, lay->filter_column) : -1;
    struct sen2_column_index idx[SEN2_MAX_COLUMNS];
    size_t nval = 0;
    for (const struct sen2_column *c = lay->columns; c->metric; c++)
        if (import_sen2_columns(c, csv->record[0].field, csv->record[0].nfield, &idx[nval++]) != 0)
            return import_fail(run, csv->record[0].line, "wrong header: no column for %s",
                               c->metric);
    const char *kind = import_period_kind_name(lay->period_kind);
    if (import_stage_reserve(run, (csv->nrecord - 1) * nval) != 0)
        return -1;

    for (size_t i = 1; i < csv->nrecord; i++) {
        const struct import_csv_record *rec = &csv->record[i];
        if (import_check_width(run, csv, i) != 0)
            return -1;
        char **f = rec->field;
        if (c_filter >= 0 && strcmp(f[c_filter], lay->filter_value) != 0) {
            import_skip(run, lay->filter_reason);
            continue;
        }
        /* National and regional rows are the DfE's own England and
         * regional figures: staged as areas of their own. */
        const char *geo = f[c_geo], *area = NULL, *code = NULL, *region = "";
        if (strcmp(geo, "National") == 0)
            area = f[c_country];
        else if (strcmp(geo, "Regional") == 0)
            area = f[c_rcode];
        else if (strcmp(geo, "Local authority") != 0)
            return import_fail(run, rec->line, "unexpected geographic_level \"%.40s\"", geo);
        char period[16], start[16];
        if (import_period_parse(f[c_tp], lay->period_kind, period, start) != 0)
            return import_fail(run, rec->line, "time_period \"%.20s\" is not a %s", f[c_tp], kind);
        if (area) {
            if (!import_is_area_code(area))
                return import_fail(run, rec->line,
                                   "%s row with code \"%.20s\": not England (E92000001) or a "
                                   "region (E12 and 6 digits)",
                                   geo, area);
        } else {
            bool aliased;
            code = registry_resolve(reg, f[c_old], f[c_new], f[c_name], f[c_rcode], f[c_rname],
                                    &aliased, why, sizeof why);
            if (!code)
                return import_fail(run, rec->line, "%s", why);
            if (aliased)
                run->aliased_rows++;
            region = import_is_region_code(f[c_rcode]) ? f[c_rcode] : "";
        }
        for (size_t v = 0; v < nval; v++) {
            const struct sen2_column *col = &lay->columns[v];
            struct import_cell cell;
            int bad = 0;
            switch (import_sen2_figure(col, &idx[v], f, &cell, &bad)) {
            case IMPORT_CELL_EMPTY:
                return import_fail(run, rec->line, "empty cell in column %s",
                                   csv->record[0].field[bad]);
            case IMPORT_CELL_INVALID:
                return import_fail(run, rec->line,
                                   "non-numeric cell \"%.40s\" in column %s (want a whole number "
                                   "or one of x c z low)",
                                   f[bad], csv->record[0].field[bad]);
            default:
                break;
            }
            int rc = area ? import_stage_area_figure(run, area, col->metric, period, kind, start,
                                                     &cell, rec->line)
                          : import_stage_figure(run, code, region, col->metric, period, kind,
                                                start, &cell, rec->line);
            if (rc != 0)
                return -1;
        }
        run->rows_loaded++;
    }
    return 0;
}

/* New authorities into the database, then (when there were any) the
 * boundary register (003): it depends on nothing else, so with no new
 * authority it has nothing to do.  (A migration that changes the register
 * applies it itself.) */
static int sen2_after_stage(PGconn *conn, struct import_run *run, struct registry *reg)
{
    struct import_buf b = {0};
    char err[512];
    long added = 0;
    for (size_t i = 0; i < reg->nauth; i++) {
        struct reg_authority *a = &reg->auth[i];
        if (!a->from_file)
            continue;
        if (import_buf_copy_field(&b, a->code, false) != 0 ||
            import_buf_copy_field(&b, a->old_code, false) != 0 ||
            import_buf_copy_field(&b, a->name, false) != 0 ||
            import_buf_copy_field(&b, a->region_code, false) != 0 ||
            import_buf_copy_field(&b, a->region_name, true) != 0) {
            import_buf_free(&b);
            return import_fail(run, 0, "out of memory");
        }
        added++;
    }
    int rc = 0;
    if (added > 0 &&
        import_copy_in(conn,
                       "COPY authorities (new_la_code, old_la_code, name, region_code, region_name)"
                       " FROM STDIN",
                       &b, err, sizeof err) != 0)
        rc = import_fail(run, 0, "adding authorities: %s", err);
    import_buf_free(&b);
    if (rc != 0)
        return -1;
    run->authorities_added = added;
    import_phase(run, PH_COPY);
    if (added > 0) {
        PGresult *r =
            dbsync_exec(conn, "SELECT import_apply_boundaries()", 0, NULL, err, sizeof err);
        if (!r)
            return import_fail(run, 0, "boundary changes: %s", err);
        run->boundaries = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
        reg->loaded = false;    /* read again with the next file */
    }
    import_phase(run, PH_BOUNDARY);
    return 0;
}

static void sen2_report(const struct import_run *run)
{
    printf("  authorities: %ld added from the file; boundary register: %ld changes "
           "(successors, end dates, links)\n",
           run->authorities_added, run->boundaries);
    if (run->aliased_rows)
        printf("  %zu row(s) used a superseded ONS code, filed under the current code "
               "(authority_code_aliases)\n",
               run->aliased_rows);
}

const struct importer importer_sen2 = {
    .name = "sen2",
    .what = "SEN2 (2022 or 2025 release layout)",
    .detect = sen2_detect,
    .stage = sen2_stage,
    .after_stage = sen2_after_stage,
    .report = sen2_report,
    .figures = true,
    .release_option = true,
};
