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

/* ---- where the first sheet is: the package's relationships ----
 *
 * _rels/.rels names the workbook part (its officeDocument relationship);
 * the workbook lists its sheets in tab order, each by a relationship id;
 * the workbook's own .rels maps each id to a part, and names the shared
 * strings.  Excel, LibreOffice and openpyxl call the first sheet
 * xl/worksheets/sheet1.xml, but a workbook whose sheets were reordered,
 * deleted or renamed does not; a package without a workbook part (as some
 * minimal writers make) is read by the conventional names. */

#define XLSX_MAX_PATH 256

struct rels {
    struct reader r;            /* first: the entity and DTD guards fail it */
    const char *want_id;        /* a relationship by id, or */
    const char *want_type;      /* by the end of its type */
    char target[XLSX_MAX_PATH];
    int found;
    /* the workbook's sheets */
    char first_id[XLSX_MAX_PATH], first_visible_id[XLSX_MAX_PATH];
};

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

static void copy_bounded(char *dst, const char *src, struct reader *r)
{
    if (strlen(src) >= XLSX_MAX_PATH) {
        fail(r, "the workbook names a part with too long a name");
        return;
    }
    strcpy(dst, src);
}

static void rels_start(void *u, const XML_Char *el, const XML_Char **atts)
{
    struct rels *x = u;
    if (x->found || strcmp(local(el), "Relationship") != 0)
        return;
    const char *id = attr(atts, "Id"), *type = attr(atts, "Type");
    const char *target = attr(atts, "Target"), *mode = attr(atts, "TargetMode");
    if (!target || (mode && strcmp(mode, "External") == 0))
        return;
    if ((x->want_id && id && strcmp(id, x->want_id) == 0) ||
        (x->want_type && type && ends_with(type, x->want_type))) {
        copy_bounded(x->target, target, &x->r);
        x->found = !x->r.failed;
    }
}

static void wb_start(void *u, const XML_Char *el, const XML_Char **atts)
{
    struct rels *x = u;
    if (strcmp(local(el), "sheet") != 0)
        return;
    const char *id = attr(atts, "id");      /* r:id */
    if (!id)
        return;
    const char *state = attr(atts, "state");
    int visible = !state || strcmp(state, "visible") == 0;
    if (!x->first_id[0])
        copy_bounded(x->first_id, id, &x->r);
    if (visible && !x->first_visible_id[0])
        copy_bounded(x->first_visible_id, id, &x->r);
}

static void no_end(void *u, const XML_Char *el)
{
    (void)u;
    (void)el;
}

/* A relationship's target as a part name: relative to the folder of the
 * part whose .rels it is (base_dir, "" or ending in '/'), or absolute
 * ('/'-led); "." and ".." resolved, never above the package's root.
 * 0, or -1 when it leaves the package. */
static int part_name(const char *base_dir, const char *target, char *out, size_t size)
{
    char joined[2 * XLSX_MAX_PATH + 2];
    int w = target[0] == '/' ? snprintf(joined, sizeof joined, "%s", target + 1)
                             : snprintf(joined, sizeof joined, "%s%s", base_dir, target);
    if (w < 0 || (size_t)w >= sizeof joined)
        return -1;
    size_t n = 0;
    const char *p = joined;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if ((len == 1 && p[0] == '.') || len == 0) {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (n == 0)
                return -1;
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--;        /* the slash before it */
        } else {
            if (n + (n ? 1 : 0) + len + 1 > size)
                return -1;
            if (n)
                out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p += len + (slash ? 1 : 0);
    }
    if (n == 0)
        return -1;
    out[n] = '\0';
    return 0;
}

/* Finds one relationship in the .rels part rels_name (a relationship by
 * id or by type) and resolves its target against base_dir.  0 found, 1
 * the part or the relationship is absent, -1 with *why. */
static int find_rel(zip_t *za, const char *rels_name, const char *base_dir, const char *want_id,
                    const char *want_type, char *out, size_t size, const char **why)
{
    struct text doc = {0};
    int got = read_part(za, rels_name, &doc, why);
    if (got != 0) {
        free(doc.s);
        return got;
    }
    struct rels x;
    memset(&x, 0, sizeof x);
    x.want_id = want_id;
    x.want_type = want_type;
    int rc = parse_xml(&x.r, doc.s, doc.n, rels_start, no_end);
    free(doc.s);
    reader_free(&x.r);
    if (rc != 0) {
        *why = x.r.why;
        return -1;
    }
    if (!x.found)
        return 1;
    if (part_name(base_dir, x.target, out, size) != 0) {
        *why = "the workbook refers to a part outside itself";
        return -1;
    }
    return 0;
}

/* The part names of the first sheet and of the shared strings (shared
 * "" when the workbook has none).  0, or -1 with *why. */
static int locate_parts(zip_t *za, char *sheet, char *shared, const char **why)
{
    char wb[XLSX_MAX_PATH];
    int got = find_rel(za, "_rels/.rels", "", NULL, "/officeDocument", wb, sizeof wb, why);
    if (got < 0)
        return -1;
    if (got > 0)
        snprintf(wb, sizeof wb, "xl/workbook.xml");
    struct text doc = {0};
    got = read_part(za, wb, &doc, why);
    if (got != 0) {
        free(doc.s);
        if (got < 0)
            return -1;
        /* No workbook part: the conventional names. */
        snprintf(sheet, XLSX_MAX_PATH, "xl/worksheets/sheet1.xml");
        snprintf(shared, XLSX_MAX_PATH, "xl/sharedStrings.xml");
        return 0;
    }
    struct rels x;
    memset(&x, 0, sizeof x);
    int rc = parse_xml(&x.r, doc.s, doc.n, wb_start, no_end);
    free(doc.s);
    reader_free(&x.r);
    if (rc != 0) {
        *why = x.r.why;
        return -1;
    }
    const char *id = x.first_visible_id[0] ? x.first_visible_id : x.first_id;
    if (!id[0]) {
        *why = "the workbook has no sheets";
        return -1;
    }
    /* xl/workbook.xml -> folder "xl/", relationships "xl/_rels/workbook.xml.rels" */
    char dir[XLSX_MAX_PATH], rels_name[2 * XLSX_MAX_PATH];
    const char *slash = strrchr(wb, '/');
    size_t dlen = slash ? (size_t)(slash - wb) + 1 : 0;
    memcpy(dir, wb, dlen);
    dir[dlen] = '\0';
    int w = snprintf(rels_name, sizeof rels_name, "%s_rels/%s.rels", dir, wb + dlen);
    if (w < 0 || (size_t)w >= sizeof rels_name) {
        *why = "the workbook names a part with too long a name";
        return -1;
    }
    got = find_rel(za, rels_name, dir, id, NULL, sheet, XLSX_MAX_PATH, why);
    if (got != 0) {
        if (got > 0)
            *why = "the workbook has no first sheet (its relationship is missing)";
        return -1;
    }
    got = find_rel(za, rels_name, dir, NULL, "/sharedStrings", shared, XLSX_MAX_PATH, why);
    if (got < 0)
        return -1;
    if (got > 0)
        shared[0] = '\0';
    return 0;
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
    char sheet_name[XLSX_MAX_PATH], shared_name[XLSX_MAX_PATH];
    if (locate_parts(za, sheet_name, shared_name, why) != 0)
        goto done;
    int got_shared = shared_name[0] ? read_part(za, shared_name, &shared, why) : 1;
    if (got_shared < 0)
        goto done;
    int got = read_part(za, sheet_name, &sheet, why);
    if (got != 0) {
        if (got > 0)
            *why = "the workbook has no first sheet (the part its relationships name is missing)";
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
