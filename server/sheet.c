#include "sheet.h"

#include <csv.h>
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tables.h"

struct sheet {
    char name[32];
    struct sheet_cell *cells;
    size_t ncells, cells_cap;
    size_t *row_end;    /* cells[row_end[i-1] .. row_end[i]) is row i */
    size_t nrows, rows_cap;
    int failed;
};

struct sheet *sheet_new(const char *name)
{
    struct sheet *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->name, sizeof s->name, "%s", name && *name ? name : "Sheet1");
    for (char *p = s->name; *p; p++)
        if (strchr("[]:*?/\\", *p))
            *p = '-';
    return s;
}

void sheet_free(struct sheet *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncells; i++)
        free(s->cells[i].text);
    free(s->cells);
    free(s->row_end);
    free(s);
}

static void add_cell(struct sheet *s, const char *text, int number, double value, int dp)
{
    if (!s || s->failed)
        return;
    if (s->ncells == s->cells_cap) {
        size_t cap = s->cells_cap ? 2 * s->cells_cap : 64;
        struct sheet_cell *c = realloc(s->cells, cap * sizeof *c);
        if (!c) {
            s->failed = 1;
            return;
        }
        s->cells = c;
        s->cells_cap = cap;
    }
    char *t = strdup(text ? text : "");
    if (!t) {
        s->failed = 1;
        return;
    }
    s->cells[s->ncells++] = (struct sheet_cell){t, value, number, dp};
}

void sheet_text(struct sheet *s, const char *text)
{
    add_cell(s, text, 0, 0, 0);
}

void sheet_number(struct sheet *s, double v, int dp)
{
    sheet_number_as(s, v, dp, dp);
}

void sheet_number_as(struct sheet *s, double v, int dp, int show_dp)
{
    char buf[64];
    if (!isfinite(v)) {
        add_cell(s, "", 0, 0, 0);
        return;
    }
    if (dp == SHEET_DP_ANY) {
        snprintf(buf, sizeof buf, "%.10g", v);
    } else {
        dp = dp < 0 ? 0 : dp > SHEET_DP_MAX ? SHEET_DP_MAX : dp;
        snprintf(buf, sizeof buf, "%.*f", dp, table_round(v, dp));
    }
    /* "-0" and "-0.0" read as a negative figure: print zero plainly. */
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
        memmove(buf, buf + 1, strlen(buf));
    if (show_dp != SHEET_DP_ANY)
        show_dp = show_dp < 0 ? 0 : show_dp > SHEET_DP_MAX ? SHEET_DP_MAX : show_dp;
    add_cell(s, buf, 1, strtod(buf, NULL), show_dp);
}

void sheet_int(struct sheet *s, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    add_cell(s, buf, 1, (double)v, 0);
}

void sheet_number_or(struct sheet *s, int has, double v, int dp, const char *symbol)
{
    if (has)
        sheet_number(s, v, dp);
    else
        sheet_text(s, symbol);
}

void sheet_end_row(struct sheet *s)
{
    if (!s || s->failed)
        return;
    if (s->nrows == s->rows_cap) {
        size_t cap = s->rows_cap ? 2 * s->rows_cap : 16;
        size_t *r = realloc(s->row_end, cap * sizeof *r);
        if (!r) {
            s->failed = 1;
            return;
        }
        s->row_end = r;
        s->rows_cap = cap;
    }
    s->row_end[s->nrows++] = s->ncells;
}

int sheet_failed(const struct sheet *s)
{
    return !s || s->failed;
}

const char *sheet_name(const struct sheet *s)
{
    return s->name;
}

size_t sheet_rows(const struct sheet *s)
{
    return s->nrows;
}

const struct sheet_cell *sheet_row(const struct sheet *s, size_t i, size_t *n)
{
    size_t from = i ? s->row_end[i - 1] : 0;
    *n = s->row_end[i] - from;
    return s->cells + from;
}

/* One field: quoted by libcsv only when it holds a comma, quote or line
 * break, so that plain fields stay as they are. */
static int csv_field(struct evbuffer *out, const char *t)
{
    size_t n = strlen(t);
    if (strpbrk(t, ",\"\r\n") == NULL)
        return n ? evbuffer_add(out, t, n) : 0;
    size_t need = csv_write(NULL, 0, t, n);
    char *tmp = malloc(need);
    if (!tmp)
        return -1;
    csv_write(tmp, need, t, n);
    int rc = evbuffer_add(out, tmp, need);
    free(tmp);
    return rc;
}

int sheet_csv(const struct sheet *s, struct evbuffer *out, const char *eol)
{
    if (sheet_failed(s))
        return -1;
    size_t eol_len = strlen(eol);
    for (size_t i = 0; i < s->nrows; i++) {
        size_t n;
        const struct sheet_cell *c = sheet_row(s, i, &n);
        for (size_t k = 0; k < n; k++) {
            if ((k && evbuffer_add(out, ",", 1) != 0) || csv_field(out, c[k].text) != 0)
                return -1;
        }
        if (evbuffer_add(out, eol, eol_len) != 0)
            return -1;
    }
    return 0;
}

char *sheet_csv_string(const struct sheet *s, const char *eol, size_t *len)
{
    struct evbuffer *b = evbuffer_new();
    char *str = NULL;
    if (!b)
        return NULL;
    if (sheet_csv(s, b, eol) != 0)
        goto done;
    size_t n = evbuffer_get_length(b);
    str = malloc(n + 1);
    if (!str)
        goto done;
    if (evbuffer_remove(b, str, n) != (int)n) {
        free(str);
        str = NULL;
        goto done;
    }
    str[n] = '\0';
    *len = n;
done:
    evbuffer_free(b);
    return str;
}
