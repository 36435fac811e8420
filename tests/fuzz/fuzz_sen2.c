/* libFuzzer: the SEN2 importer's parsing without a database -- the bytes go
 * through the CSV reader (import_csv_parse), layout detection from the
 * header (import_sen2_detect), and for every record the steps sen2_stage
 * (server/import_sen2.c) takes before it touches the registry or PostgreSQL:
 * width, geographic level, filter, time_period, codes, each value cell, and
 * the COPY escaping of what would be staged.  Checks the reader's
 * invariants: record 0 is the header, lines never decrease, fields are NUL
 * terminated strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import_csv.h"
#include "import_parse.h"
#include "import_sen2_layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void stage_row(const struct import_csv *csv, const struct import_csv_record *rec,
                      const struct sen2_layout *lay, struct import_buf *b)
{
    int c_tp = import_csv_column(csv, "time_period");
    int c_geo = import_csv_column(csv, "geographic_level");
    int c_old = import_csv_column(csv, "old_la_code");
    int c_new = import_csv_column(csv, "new_la_code");
    int c_filter = lay->filter_column ? import_csv_column(csv, lay->filter_column) : -1;
    if (c_tp < 0 || c_geo < 0 || c_old < 0 || c_new < 0)
        abort();    /* detect promised the common columns */
    char **f = rec->field;
    if (strcmp(f[c_geo], "Local authority") != 0)
        return;
    if (c_filter >= 0 && strcmp(f[c_filter], lay->filter_value) != 0)
        return;
    char period[16], start[16];
    if (import_period_parse(f[c_tp], lay->period_kind, period, start) != 0)
        return;
    if (strlen(period) >= sizeof period || strlen(start) != 10)
        abort();
    (void)import_is_old_la_code(f[c_old]);
    (void)import_is_region_code(f[c_new]);
    if (!import_is_new_la_code(f[c_new]))
        return;
    for (const struct sen2_column *c = lay->columns; c->metric; c++) {
        struct sen2_column_index idx;
        if (import_sen2_columns(c, csv->record[0].field, csv->record[0].nfield, &idx) != 0)
            abort();    /* detect promised every column */
        struct import_cell cell;
        int bad = -1;
        enum import_cell_kind k = import_sen2_figure(c, &idx, f, &cell, &bad);
        if (k == IMPORT_CELL_EMPTY || k == IMPORT_CELL_INVALID) {
            if (bad < 0 || (size_t)bad >= rec->nfield)
                abort();    /* the offending field is named */
            return;
        }
        if (strlen(cell.text) >= sizeof cell.text)
            abort();
        if (import_buf_copy_field(b, f[c_new], false) != 0 ||
            import_buf_copy_field(b, c->metric, false) != 0 ||
            import_buf_copy_field(b, period, false) != 0 ||
            import_buf_copy_field(b, cell.text, true) != 0)
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_csv csv = {0};
    char err[256];
    if (import_csv_parse((const char *)data, size, &csv, err, sizeof err) != 0) {
        if (csv.nrecord != 0 || csv.record != NULL || memchr(err, '\0', sizeof err) == NULL)
            abort();
        return 0;
    }
    unsigned last = 0;
    for (size_t i = 0; i < csv.nrecord; i++) {
        const struct import_csv_record *rec = &csv.record[i];
        if (rec->line < last)
            abort();
        last = rec->line;
        for (size_t j = 0; j < rec->nfield; j++) {
            (void)strlen(rec->field[j]);
            (void)import_closeness_canonical(rec->field[j]);
            struct import_cell cell;
            (void)import_cell_parse(rec->field[j], false, &cell);
        }
    }
    if (csv.nrecord > 0) {
        const struct sen2_layout *lay =
            import_sen2_detect(csv.record[0].field, csv.record[0].nfield, err, sizeof err);
        if (lay) {
            struct import_buf b = {0};
            for (size_t i = 1; i < csv.nrecord; i++)
                if (csv.record[i].nfield == csv.record[0].nfield)   /* check_width */
                    stage_row(&csv, &csv.record[i], lay, &b);
            if (b.len && memchr(b.data, '\0', b.len))
                abort();    /* COPY text never carries a NUL */
            import_buf_free(&b);
        }
    }
    import_csv_free(&csv);
    return 0;
}
