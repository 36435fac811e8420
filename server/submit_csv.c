/*
 * Submission CSV: the DfE-style CSV body parsed with libcsv into the same
 * document the JSON path builds, then validated by the same rules
 * (submit_validate_doc).  See include/submit.h for the contract.
 */
#include "submit.h"
#include "submit_doc.h"

#include "period.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct field_names csv_fields = {"new_la_code", "time_period", "", "notes"};

/* Rows collected by libcsv's callbacks: an array of arrays of strings. */
struct csv_rows {
    json_t *rows;
    json_t *row;            /* the row being built */
    int bad_utf8;
    int nomem;
    int too_wide;           /* a row had more than SUBMIT_MAX_CSV_COLUMNS cells */
};

static void csv_on_field(void *data, size_t len, void *arg)
{
    struct csv_rows *cr = arg;
    if (!cr->row && !(cr->row = json_array())) {
        cr->nomem = 1;
        return;
    }
    /* A row wider than any submission can be is counted, not kept: a
     * megabyte of commas would otherwise become half a million strings. */
    if (json_array_size(cr->row) >= SUBMIT_MAX_CSV_COLUMNS) {
        cr->too_wide = 1;
        return;
    }
    /* A NUL byte is not text: jansson would keep it, but every later step
     * reads C strings, so "3150\0999" would silently become 3150. */
    json_t *s = data && memchr(data, '\0', len) ? NULL
                                               : json_stringn(data ? (const char *)data : "",
                                                              data ? len : 0);
    if (!s) {
        cr->bad_utf8 = 1;
        s = json_string("");
    }
    if (!s || json_array_append_new(cr->row, s) != 0)
        cr->nomem = 1;
}

static void csv_on_row(int term, void *arg)
{
    (void)term;
    struct csv_rows *cr = arg;
    if (!cr->row)
        return;
    /* A row of nothing but empty cells (",,,,") is a blank line too. */
    int blank = 1;
    size_t i;
    json_t *v;
    json_array_foreach(cr->row, i, v)
        if (json_string_length(v))
            blank = 0;
    if (blank)
        json_decref(cr->row);
    else if (json_array_append_new(cr->rows, cr->row) != 0)
        cr->nomem = 1;
    cr->row = NULL;
}

/* Trims ASCII white space in place; returns s. */
static char *trim(char *s)
{
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* Columns of the DfE tidy layout that describe the row, not a figure. */
static const char *const info_columns[] = {
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name",
    "region_code", "region_name", "new_la_code", "old_la_code", "la_name", "notes", NULL,
};

static int is_info_column(const char *name)
{
    for (const char *const *c = info_columns; *c; c++)
        if (strcmp(name, *c) == 0)
            return 1;
    return 0;
}

/* A cell as a number: plain decimal notation only (no thousands separators,
 * no currency signs, no DfE symbols).  Returns a new reference or NULL. */
static json_t *csv_number(const char *cell)
{
    const char *c = cell;
    if (*c == '-' || *c == '+')
        c++;
    if (!isdigit((unsigned char)*c) && !(*c == '.' && isdigit((unsigned char)c[1])))
        return NULL;
    errno = 0;
    char *end = NULL;
    double x = strtod(cell, &end);
    if (errno || !end || *end || !isfinite(x))
        return NULL;
    if (!strpbrk(cell, ".eE")) {
        long long i = strtoll(cell, &end, 10);
        if (errno == 0 && !*end)
            return json_integer((json_int_t)i);
    }
    return json_real(x);
}

/* Builds {authority, period, figures, notes} from a header and one row. */
static int csv_build(const json_t *header, const json_t *row, json_t *root, json_t *figures,
                     json_t *dups, json_t *details)
{
    size_t ncols = json_array_size(header);
    char period[64] = "", ident[64] = "";
    for (size_t i = 0; i < ncols; i++) {
        char name[128], cellbuf[4096];
        snprintf(name, sizeof name, "%s", json_string_value(json_array_get(header, i)));
        const char *col = trim(name);
        json_t *cv = json_array_get(row, i);
        snprintf(cellbuf, sizeof cellbuf, "%s", cv ? json_string_value(cv) : "");
        char *cell = trim(cellbuf);
        if (!*col) {
            if (*cell)
                submit_detail(details, "header", "csv_header",
                              "column %zu has a value but no name in the header row", i + 1);
            continue;
        }
        if (strcmp(col, "time_period") == 0) {
            snprintf(period, sizeof period, "%s", cell);
        } else if (strcmp(col, "time_identifier") == 0) {
            snprintf(ident, sizeof ident, "%s", cell);
        } else if (strcmp(col, "new_la_code") == 0) {
            if (json_object_set_new(root, "authority", json_string(cell)) != 0)
                return -1;
        } else if (strcmp(col, "notes") == 0) {
            if (*cell && json_object_set_new(root, "notes", json_string(cell)) != 0)
                return -1;
        } else if (strcmp(col, "geographic_level") == 0) {
            if (*cell && strcasecmp(cell, "Local authority") != 0)
                submit_detail(details, "geographic_level", "geographic_level",
                              "geographic_level must be \"Local authority\" (\"%.40s\" sent)",
                              cell);
        } else if (is_info_column(col)) {
            /* descriptive: kept in the council's file, not checked */
        } else if (submit_in_list(dups, col)) {
            /* reported once below */
        } else if (*cell) {
            /* A metric column; an empty cell is a figure not sent. */
            json_t *num = csv_number(cell);
            if (num) {
                if (json_object_set_new(figures, col, num) != 0)
                    return -1;
            } else if (submit_key_is_personal(col)) {
                if (json_object_set_new(figures, col, json_string(cell)) != 0)
                    return -1;  /* reported as personal data by validate_doc */
            } else {
                submit_detail(details, col, "type",
                              "\"%.40s\" is not a number: write plain digits (no thousands "
                              "separators, currency signs or symbols such as c, x, z); leave "
                              "the cell empty for a figure you do not have", cell);
            }
        }
    }
    /* time_period: "2024-25 Q2", or the DfE's six digits "202425" with
     * time_identifier "Financial year Q2". */
    char built[64] = "";
    int q_ident = 0;
    if (strncasecmp(ident, "Financial year Q", 16) == 0 && ident[16] >= '1' && ident[16] <= '4' &&
        ident[17] == '\0')
        q_ident = ident[16] - '0';
    else if (*ident)
        submit_detail(details, "time_identifier", "time_identifier",
                      "time_identifier must be \"Financial year Q1\" .. \"Financial year Q4\" "
                      "(\"%.40s\" sent)", ident);
    int six = strlen(period) == 6;
    for (int i = 0; six && i < 6; i++)
        six = isdigit((unsigned char)period[i]);
    struct period pq;
    if (six) {
        /* A six-digit year pair that period.h cannot read is rebuilt as
         * written, so that submit_check_period names what is wrong. */
        if (q_ident && period_from_dfe(period, PERIOD_FY_QUARTER, q_ident, &pq) == 0)
            period_format(&pq, built, sizeof built);
        else if (q_ident)
            snprintf(built, sizeof built, "%.4s-%.2s Q%d", period, period + 4, q_ident);
        else if (!*ident)
            submit_detail(details, "time_identifier", "required",
                          "a six-digit time_period needs time_identifier \"Financial year Qn\"");
        if (!q_ident)
            snprintf(built, sizeof built, "%s", period);
    } else {
        snprintf(built, sizeof built, "%s", period);
        if (q_ident && strlen(period) == 10 && period[9] - '0' != q_ident)
            submit_detail(details, "time_identifier", "time_identifier",
                          "time_identifier says Q%d but time_period says %s", q_ident, period);
    }
    if (*built && json_object_set_new(root, "period", json_string(built)) != 0)
        return -1;
    return 0;
}

int submit_parse_csv(const char *body, size_t len, const struct submit_catalogue *cat,
                     const struct submit_date *today, struct submit_doc *doc, json_t *details)
{
    struct csv_parser p;
    struct csv_rows cr = {0};
    json_t *root = NULL, *figures = NULL, *dups = NULL;
    int rc = SUBMIT_NOMEM, parser_ok = 0;
    memset(doc, 0, sizeof *doc);

    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {   /* UTF-8 byte-order mark */
        body += 3;
        len -= 3;
    }
    if (!(cr.rows = json_array()) || !(dups = json_object()))
        goto done;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        goto done;
    parser_ok = 1;
    /* libcsv grows its cell buffer by blk_size bytes at a time (128 by
     * default): a one-megabyte cell cost 8000 reallocations, quadratic
     * copying on the event loop.  Grow by 64 KiB instead. */
    csv_set_blk_size(&p, 64 * 1024);
    if (csv_parse(&p, body, len, csv_on_field, csv_on_row, &cr) != len ||
        csv_fini(&p, csv_on_field, csv_on_row, &cr) != 0) {
        submit_detail(details, "body", "csv_syntax", "the body is not valid CSV: %s",
                      csv_strerror(csv_error(&p)));
        rc = SUBMIT_MALFORMED;
        goto done;
    }
    if (cr.nomem)
        goto done;
    if (cr.bad_utf8) {
        submit_detail(details, "body", "encoding", "the CSV must be UTF-8 text");
        rc = SUBMIT_MALFORMED;
        goto done;
    }
    if (cr.too_wide) {
        submit_detail(details, "body", "csv_columns",
                      "a row has more than %d columns: a submission has at most %d figures and "
                      "the descriptive columns", SUBMIT_MAX_CSV_COLUMNS, SUBMIT_MAX_FIGURES);
        rc = SUBMIT_INVALID;
        goto done;
    }
    size_t nrows = json_array_size(cr.rows);
    if (nrows < 2) {
        submit_detail(details, "body", "csv_rows",
                      "the CSV needs a header row and one data row (%zu row%s found)", nrows,
                      nrows == 1 ? "" : "s");
        rc = SUBMIT_INVALID;
        goto done;
    }
    if (nrows > 2) {
        submit_detail(details, "body", "csv_rows",
                      "one submission is one authority and one quarter: exactly one data row "
                      "is accepted (%zu found)", nrows - 1);
        rc = SUBMIT_INVALID;
        goto done;
    }
    json_t *header = json_array_get(cr.rows, 0), *row = json_array_get(cr.rows, 1);
    if (json_array_size(row) > json_array_size(header))
        submit_detail(details, "body", "csv_columns",
                      "the data row has %zu cells but the header has %zu columns",
                      json_array_size(row), json_array_size(header));
    /* Repeated header names. */
    for (size_t i = 0; i < json_array_size(header); i++) {
        char a[128];
        snprintf(a, sizeof a, "%s", json_string_value(json_array_get(header, i)));
        const char *ta = trim(a);
        for (size_t j = 0; j < i && *ta; j++) {
            char b[128];
            snprintf(b, sizeof b, "%s", json_string_value(json_array_get(header, j)));
            if (strcmp(ta, trim(b)) != 0 || submit_in_list(dups, ta))
                continue;
            if (is_info_column(ta))
                submit_detail(details, ta, "duplicate_field", "column %s appears more than once",
                              ta);
            else
                submit_detail(details, ta, "duplicate_metric",
                              "the same metric twice: column %s appears more than once", ta);
            json_object_set_new(dups, ta, json_true());
        }
    }
    if (!(root = json_object()) || !(figures = json_object()) ||
        json_object_set(root, "figures", figures) != 0)
        goto done;
    if (csv_build(header, row, root, figures, dups, details) != 0)
        goto done;
    rc = submit_validate_doc(root, cat, today, &csv_fields, dups, 0, doc, details);
    if (rc == SUBMIT_OK && json_array_size(details))
        rc = SUBMIT_INVALID;
done:
    if (parser_ok)
        csv_free(&p);
    json_decref(cr.row);
    json_decref(cr.rows);
    json_decref(root);
    json_decref(figures);
    json_decref(dups);
    return rc;
}
