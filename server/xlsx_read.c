/* Reading an uploaded .xlsx return (include/xlsx_read.h). */
#include "xlsx_read.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

struct text {
    char *s;
    size_t n, cap;
};

static int text_add(struct text *t, const char *s, size_t n, size_t max)
{
    if (t->n + n > max)
        return -1;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->n + n + 1)
            cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p)
            return -1;
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
    return 0;
}

/* One part of the zip, read whole but never more than XLSX_MAX_PART bytes
 * (the size the zip declares is not trusted).  1 when the part is absent. */
static int read_part(zip_t *za, const char *name, struct text *out, const char **why)
{
    zip_file_t *f = zip_fopen(za, name, 0);
    if (!f)
        return 1;
    char buf[16384];
    zip_int64_t got;
    int rc = 0;
    while ((got = zip_fread(f, buf, sizeof buf)) > 0) {
        if (text_add(out, buf, (size_t)got, XLSX_MAX_PART) != 0) {
            *why = "a part of the workbook is larger than 4 MB";
            rc = -1;
            break;
        }
    }
    if (rc == 0 && got < 0) {
        *why = "the workbook is damaged (a part cannot be decompressed)";
        rc = -1;
    }
    zip_fclose(f);
    if (rc == 0 && !out->s && text_add(out, "", 0, 1) != 0)
        rc = -1;
    return rc;
}

/* Element names without their namespace prefix ("x:c" -> "c"). */
static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i] && atts[i + 1]; i += 2)
        if (strcmp(local(atts[i]), name) == 0)
            return atts[i + 1];
    return NULL;
}

struct cell {
    unsigned row, col;
    char *text;
};

struct reader {
    XML_Parser p;
    const char *why;
    int failed;
    /* shared strings */
    char **strings;
    size_t n_strings, cap_strings;
    int in_si, in_t, in_rph;
    /* the sheet */
    struct cell *cells;
    size_t n_cells, cap_cells;
    unsigned row, col;          /* of the current cell, 1-based; 0 none yet */
    int in_c, in_v, in_is;
    char ctype[16];
    struct text cur;            /* the current string or cell text */
};

static void fail(struct reader *r, const char *why)
{
    if (!r->failed) {
        r->failed = 1;
        r->why = why;
    }
    XML_StopParser(r->p, XML_FALSE);
}

static void on_entity(void *u, const XML_Char *name, int pe, const XML_Char *value, int len,
                      const XML_Char *base, const XML_Char *sys, const XML_Char *pub,
                      const XML_Char *notation)
{
    (void)name; (void)pe; (void)value; (void)len; (void)base; (void)sys; (void)pub;
    (void)notation;
    fail(u, "the workbook declares XML entities, which a spreadsheet never needs");
}

static void on_doctype(void *u, const XML_Char *name, const XML_Char *sys, const XML_Char *pub,
                       int internal)
{
    (void)name; (void)sys; (void)pub; (void)internal;
    fail(u, "the workbook carries a DTD, which a spreadsheet never needs");
}

static void on_text(void *u, const XML_Char *s, int len)
{
    struct reader *r = u;
    int want = (r->in_si && r->in_t && !r->in_rph) || (r->in_c && (r->in_v || (r->in_is && r->in_t)));
    if (want && len > 0 && text_add(&r->cur, s, (size_t)len, XLSX_MAX_CELL) != 0)
        fail(r, "a cell holds more than 4096 characters");
}

/* ---- shared strings ---- */

static void ss_start(void *u, const XML_Char *el, const XML_Char **atts)
{
    struct reader *r = u;
    (void)atts;
    const char *n = local(el);
    if (strcmp(n, "si") == 0) {
        r->in_si = 1;
        r->cur.n = 0;
        if (r->cur.s)
            r->cur.s[0] = '\0';
    } else if (strcmp(n, "t") == 0) {
        r->in_t = 1;
    } else if (strcmp(n, "rPh") == 0) {
        r->in_rph = 1;          /* phonetic guide: not part of the text */
    }
}

static void ss_end(void *u, const XML_Char *el)
{
    struct reader *r = u;
    const char *n = local(el);
    if (strcmp(n, "t") == 0) {
        r->in_t = 0;
    } else if (strcmp(n, "rPh") == 0) {
        r->in_rph = 0;
    } else if (strcmp(n, "si") == 0 && r->in_si) {
        r->in_si = 0;
        if (r->n_strings >= XLSX_MAX_STRINGS) {
            fail(r, "the workbook has more than 20000 strings");
            return;
        }
        if (r->n_strings == r->cap_strings) {
            size_t cap = r->cap_strings ? 2 * r->cap_strings : 64;
            char **p = realloc(r->strings, cap * sizeof *p);
            if (!p) {
                fail(r, "out of memory");
                return;
            }
            r->strings = p;
            r->cap_strings = cap;
        }
        char *s = strdup(r->cur.s ? r->cur.s : "");
        if (!s) {
            fail(r, "out of memory");
            return;
        }
        r->strings[r->n_strings++] = s;
    }
}

/* ---- the worksheet ---- */

/* "B3" -> column 2, row 3; -1 when it is not a cell reference in range. */
static int parse_ref(const char *ref, unsigned *row, unsigned *col)
{
    unsigned c = 0, rw = 0;
    const char *p = ref;
    while (*p >= 'A' && *p <= 'Z') {
        c = c * 26 + (unsigned)(*p - 'A' + 1);
        if (c > XLSX_MAX_COLS)
            return -1;
        p++;
    }
    if (p == ref || !*p)
        return -1;
    while (*p >= '0' && *p <= '9') {
        rw = rw * 10 + (unsigned)(*p - '0');
        if (rw > XLSX_MAX_ROWS)
            return -1;
        p++;
    }
    if (*p || rw == 0)
        return -1;
    *row = rw;
    *col = c;
    return 0;
}

static int parse_row(const char *s, unsigned *row)
{
    unsigned rw = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        rw = rw * 10 + (unsigned)(*s - '0');
        if (rw > XLSX_MAX_ROWS)
            return -1;
    }
    if (rw == 0)
        return -1;
    *row = rw;
    return 0;
}

static void sh_start(void *u, const XML_Char *el, const XML_Char **atts)
{
    struct reader *r = u;
    const char *n = local(el);
    if (strcmp(n, "row") == 0) {
        const char *rr = attr(atts, "r");
        unsigned rw = r->row + 1;
        if ((rr && parse_row(rr, &rw) != 0) || rw > XLSX_MAX_ROWS || rw <= r->row) {
            fail(r, "the sheet has more than 1000 rows, or its rows are out of order");
            return;
        }
        r->row = rw;
        r->col = 0;
    } else if (strcmp(n, "c") == 0) {
        if (r->row == 0) {
            fail(r, "the sheet has a cell outside any row");
            return;
        }
        const char *ref = attr(atts, "r"), *t = attr(atts, "t");
        unsigned rw = r->row, c = r->col + 1;
        if ((ref && parse_ref(ref, &rw, &c) != 0) || rw != r->row || c <= r->col ||
            c > XLSX_MAX_COLS) {
            fail(r, "the sheet has more than 64 columns, or a cell reference out of place");
            return;
        }
        r->col = c;
        r->in_c = 1;
        snprintf(r->ctype, sizeof r->ctype, "%s", t ? t : "n");
        r->cur.n = 0;
        if (r->cur.s)
            r->cur.s[0] = '\0';
    } else if (r->in_c && strcmp(n, "v") == 0) {
        r->in_v = 1;
    } else if (r->in_c && strcmp(n, "is") == 0) {
        r->in_is = 1;
    } else if (r->in_c && strcmp(n, "t") == 0) {
        r->in_t = 1;
    } else if (r->in_is && strcmp(n, "rPh") == 0) {
        r->in_rph = 1;
    }
}

static void sh_end(void *u, const XML_Char *el)
{
    struct reader *r = u;
    const char *n = local(el);
    if (strcmp(n, "v") == 0) {
        r->in_v = 0;
    } else if (strcmp(n, "is") == 0) {
        r->in_is = 0;
    } else if (strcmp(n, "t") == 0) {
        r->in_t = 0;
    } else if (strcmp(n, "c") == 0 && r->in_c) {
        r->in_c = 0;
        const char *v = r->cur.s ? r->cur.s : "";
        if (strcmp(r->ctype, "s") == 0) {
            char *end = NULL;
            unsigned long k = strtoul(v, &end, 10);
            if (!*v || *end || k >= r->n_strings) {
                fail(r, "a cell refers to a shared string the workbook does not have");
                return;
            }
            v = r->strings[k];
        } else if (strcmp(r->ctype, "b") == 0) {
            v = strcmp(v, "1") == 0 ? "TRUE" : "FALSE";
        }
        if (!*v)
            return;     /* an empty cell reads as no cell */
        if (r->n_cells == r->cap_cells) {
            size_t cap = r->cap_cells ? 2 * r->cap_cells : 64;
            struct cell *p = realloc(r->cells, cap * sizeof *p);
            if (!p) {
                fail(r, "out of memory");
                return;
            }
            r->cells = p;
            r->cap_cells = cap;
        }
        char *s = strdup(v);
        if (!s) {
            fail(r, "out of memory");
            return;
        }
        r->cells[r->n_cells++] = (struct cell){r->row, r->col, s};
    }
}

static int parse_xml(struct reader *r, const char *doc, size_t len,
                     XML_StartElementHandler start, XML_EndElementHandler end)
{
    if (len > XLSX_MAX_PART) {
        r->why = "a part of the workbook is larger than 4 MB";
        return -1;
    }
    r->p = XML_ParserCreate(NULL);
    if (!r->p) {
        r->why = "out of memory";
        return -1;
    }
    XML_SetUserData(r->p, r);
    XML_SetElementHandler(r->p, start, end);
    XML_SetCharacterDataHandler(r->p, on_text);
    XML_SetEntityDeclHandler(r->p, on_entity);
    XML_SetStartDoctypeDeclHandler(r->p, on_doctype);
    XML_SetParamEntityParsing(r->p, XML_PARAM_ENTITY_PARSING_NEVER);
    int ok = XML_Parse(r->p, doc, (int)len, XML_TRUE) == XML_STATUS_OK;
    XML_ParserFree(r->p);
    r->p = NULL;
    if (r->failed)
        return -1;
    if (!ok) {
        r->why = "the workbook is damaged (a part is not well-formed XML)";
        return -1;
    }
    return 0;
}

/* RFC 4180: quoted when it holds a comma, quote or line end. */
static int csv_field(struct text *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return text_add(out, s, strlen(s), XLSX_MAX_CSV);
    if (text_add(out, "\"", 1, XLSX_MAX_CSV) != 0)
        return -1;
    for (const char *p = s; *p; p++)
        if (text_add(out, p, 1, XLSX_MAX_CSV) != 0 ||
            (*p == '"' && text_add(out, "\"", 1, XLSX_MAX_CSV) != 0))
            return -1;
    return text_add(out, "\"", 1, XLSX_MAX_CSV);
}

static int write_csv(const struct reader *r, struct text *out)
{
    /* Cells arrive in row order and, within a row, in column order (both
     * checked as they are read); gaps are empty fields. */
    size_t i = 0;
    while (i < r->n_cells) {
        unsigned row = r->cells[i].row, col = 1;
        for (; i < r->n_cells && r->cells[i].row == row; i++) {
            for (; col < r->cells[i].col; col++)
                if (text_add(out, ",", 1, XLSX_MAX_CSV) != 0)
                    return -1;
            if (csv_field(out, r->cells[i].text) != 0)
                return -1;
        }
        if (text_add(out, "\r\n", 2, XLSX_MAX_CSV) != 0)
            return -1;
    }
    return text_add(out, "", 0, XLSX_MAX_CSV);
}

static void reader_free(struct reader *r)
{
    for (size_t i = 0; i < r->n_strings; i++)
        free(r->strings[i]);
    free(r->strings);
    for (size_t i = 0; i < r->n_cells; i++)
        free(r->cells[i].text);
    free(r->cells);
    free(r->cur.s);
}

int xlsx_parts_csv(const char *shared, size_t shared_len, const char *sheet, size_t sheet_len,
                   char **csv, size_t *csv_len, const char **why)
{
    struct reader r;
    struct text out = {0};
    memset(&r, 0, sizeof r);
    *csv = NULL;
    *csv_len = 0;
    int rc = -1;
    if (shared && parse_xml(&r, shared, shared_len, ss_start, ss_end) != 0) {
        *why = r.why;
        goto done;
    }
    r.in_t = r.in_rph = 0;
    if (parse_xml(&r, sheet, sheet_len, sh_start, sh_end) != 0) {
        *why = r.why;
        goto done;
    }
    if (r.n_cells == 0) {
        *why = "the first sheet of the workbook is empty";
        goto done;
    }
    if (write_csv(&r, &out) != 0) {
        *why = "the sheet makes more than 1 MB of text";
        goto done;
    }
    *csv = out.s;
    *csv_len = out.n;
    out.s = NULL;
    *why = NULL;
    rc = 0;
done:
    reader_free(&r);
    free(out.s);
    return rc;
}

int xlsx_read_csv(const char *data, size_t len, char **csv, size_t *csv_len, const char **why)
{
    struct text shared = {0}, sheet = {0};
    *csv = NULL;
    *csv_len = 0;
    *why = "the file is not an .xlsx workbook";
    int rc = -1;
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *src = len ? zip_source_buffer_create(data, len, 0, &zerr) : NULL;
    zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, &zerr) : NULL;
    if (!za) {
        if (src)
            zip_source_free(src);
        goto done;
    }
    int got_shared = read_part(za, "xl/sharedStrings.xml", &shared, why);
    if (got_shared < 0)
        goto done;
    int got = read_part(za, "xl/worksheets/sheet1.xml", &sheet, why);
    if (got != 0) {
        if (got > 0)
            *why = "the workbook has no first sheet (xl/worksheets/sheet1.xml)";
        goto done;
    }
    rc = xlsx_parts_csv(got_shared == 0 ? shared.s : NULL, shared.n, sheet.s, sheet.n, csv,
                        csv_len, why);
done:
    if (za)
        zip_discard(za);    /* frees src too; read-only, nothing to write */
    zip_error_fini(&zerr);
    free(shared.s);
    free(sheet.s);
    return rc;
}
