/*
 * libxlsxwriter writes a workbook to a file name only (1.1.4 has no memory
 * output).  The workbook is written to an anonymous memory file (memfd)
 * through its /proc/self/fd name, and read back from there: no file is left
 * anywhere, also when the process dies half-way.  The parts libxlsxwriter
 * assembles before zipping go to tmpfile(), small and short-lived.
 */
#include "xlsx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "sheet.h"

#define MIN_WIDTH 8
#define MAX_WIDTH 60
#define Y2000 946684800 /* 2000-01-01T00:00:00Z */

/* What the DfE's symbols mean (the DfE's own wording), on every About
 * sheet. */
static const char *const SYMBOLS[] = {
    "c", "confidential: not shown under the disclosure rules",
    "x", "not available",
    "z", "not applicable",
    "low", "rounds to 0, but is not 0",
    NULL,
};

struct book {
    lxw_workbook *wb;
    lxw_format *header;
    lxw_format *num[SHEET_DP_MAX + 1];
};

/* Excel refuses control characters other than tab and line breaks in a
 * cell; they become spaces. */
static char *clean_text(const char *t)
{
    char *c = strdup(t);
    if (!c)
        return NULL;
    for (unsigned char *p = (unsigned char *)c; *p; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            *p = ' ';
    return c;
}

static lxw_format *num_format(struct book *b, int dp)
{
    if (dp == SHEET_DP_ANY || dp < 0 || dp > SHEET_DP_MAX)
        return NULL;   /* General */
    if (!b->num[dp]) {
        char f[16] = "#,##0";
        if (dp > 0) {
            size_t n = strlen(f);
            f[n++] = '.';
            for (int i = 0; i < dp; i++)
                f[n++] = '0';
            f[n] = '\0';
        }
        b->num[dp] = workbook_add_format(b->wb);
        if (b->num[dp])
            format_set_num_format(b->num[dp], f);
    }
    return b->num[dp];
}

static int write_sheet(struct book *b, const struct sheet *s, char *err, size_t errlen)
{
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, sheet_name(s));
    if (!ws) {
        snprintf(err, errlen, "cannot add worksheet \"%s\"", sheet_name(s));
        return -1;
    }
    size_t rows = sheet_rows(s), ncols = 0;
    int width[256] = {0};
    for (size_t i = 0; i < rows; i++) {
        size_t n;
        const struct sheet_cell *c = sheet_row(s, i, &n);
        if (n > ncols)
            ncols = n;
        for (size_t k = 0; k < n; k++) {
            lxw_error e;
            if (c[k].number) {
                e = worksheet_write_number(ws, (lxw_row_t)i, (lxw_col_t)k, c[k].value,
                                           i ? num_format(b, c[k].dp) : b->header);
            } else if (!*c[k].text) {
                continue;
            } else {
                char *t = clean_text(c[k].text);
                if (!t) {
                    snprintf(err, errlen, "out of memory");
                    return -1;
                }
                e = worksheet_write_string(ws, (lxw_row_t)i, (lxw_col_t)k, t,
                                           i ? NULL : b->header);
                free(t);
            }
            if (e != LXW_NO_ERROR) {
                snprintf(err, errlen, "sheet \"%s\" row %zu column %zu: %s", sheet_name(s),
                         i + 1, k + 1, lxw_strerror(e));
                return -1;
            }
            int w = (int)strlen(c[k].text) + (i ? 2 : 3);
            if (k < 256 && w > width[k])
                width[k] = w;
        }
    }
    for (size_t k = 0; k < ncols && k < 256; k++) {
        int w = width[k] < MIN_WIDTH ? MIN_WIDTH : width[k] > MAX_WIDTH ? MAX_WIDTH : width[k];
        worksheet_set_column(ws, (lxw_col_t)k, (lxw_col_t)k, w, NULL);
    }
    if (rows > 1 && ncols > 0) {
        worksheet_freeze_panes(ws, 1, 0);
        worksheet_autofilter(ws, 0, 0, (lxw_row_t)(rows - 1), (lxw_col_t)(ncols - 1));
    }
    return 0;
}

/* The About sheet: name/value pairs, then the symbols. */
static struct sheet *about_sheet(const struct xlsx_about *a)
{
    struct sheet *s = sheet_new("About");
    if (!s)
        return NULL;
    sheet_text(s, "about");
    sheet_text(s, "");
    sheet_end_row(s);
    const char *pairs[] = {"title", a->title, "source", a->source, "attribution",
                           a->attribution, "made by", "sendbench"};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i += 2) {
        if (!pairs[i + 1])
            continue;
        sheet_text(s, pairs[i]);
        sheet_text(s, pairs[i + 1]);
        sheet_end_row(s);
    }
    for (size_t i = 0; a->extra && a->extra[i] && a->extra[i + 1]; i += 2) {
        sheet_text(s, a->extra[i]);
        sheet_text(s, a->extra[i + 1]);
        sheet_end_row(s);
    }
    for (size_t i = 0; SYMBOLS[i]; i += 2) {
        char name[32];
        snprintf(name, sizeof name, "symbol %s", SYMBOLS[i]);
        sheet_text(s, name);
        sheet_text(s, SYMBOLS[i + 1]);
        sheet_end_row(s);
    }
    return s;
}

static unsigned char *read_all(int fd, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        snprintf(err, errlen, "workbook not written");
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    unsigned char *out = malloc(n);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    while (got < n) {
        ssize_t r = pread(fd, out + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errlen, "reading the workbook back: %s",
                     r < 0 ? strerror(errno) : "short");
            free(out);
            return NULL;
        }
        got += (size_t)r;
    }
    *len = n;
    return out;
}

unsigned char *xlsx_workbook(const struct sheet *const *sheets, size_t n,
                             const struct xlsx_about *about, size_t *len, char *err,
                             size_t errlen)
{
    unsigned char *out = NULL;
    struct sheet *info = NULL;
    struct book b = {0};
    int fd = -1;
    if (!about || !about->attribution) {
        snprintf(err, errlen, "a workbook needs its attribution");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (sheet_failed(sheets[i])) {
            snprintf(err, errlen, "out of memory building the rows");
            return NULL;
        }
    info = about_sheet(about);
    if (sheet_failed(info)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    fd = memfd_create("sendbench-xlsx", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "memfd_create: %s", strerror(errno));
        goto done;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    b.wb = workbook_new(path);
    if (!b.wb) {
        snprintf(err, errlen, "cannot start a workbook");
        goto done;
    }
    lxw_doc_properties props = {0};
    props.title = (char *)(about->title ? about->title : "sendbench download");
    props.author = (char *)"sendbench";
    props.comments = (char *)about->attribution;
    props.created = about->created ? about->created : (time_t)Y2000;
    b.header = workbook_add_format(b.wb);
    if (!b.header || workbook_set_properties(b.wb, &props) != LXW_NO_ERROR) {
        snprintf(err, errlen, "out of memory");
        goto close;
    }
    format_set_bold(b.header);
    for (size_t i = 0; i < n; i++)
        if (write_sheet(&b, sheets[i], err, errlen) != 0)
            goto close;
    if (write_sheet(&b, info, err, errlen) != 0)
        goto close;
    lxw_error e = workbook_close(b.wb);
    b.wb = NULL;
    if (e != LXW_NO_ERROR) {
        snprintf(err, errlen, "writing the workbook: %s", lxw_strerror(e));
        goto done;
    }
    out = read_all(fd, len, err, errlen);
    goto done;
close:
    /* workbook_close is the only way libxlsxwriter frees a workbook; what it
     * writes is thrown away with the memory file. */
    workbook_close(b.wb);
done:
    if (fd >= 0)
        close(fd);
    sheet_free(info);
    return out;
}

int xlsx_requested(const char *format, const char *accept)
{
    if (format)
        return strcmp(format, "xlsx") == 0;
    return accept && strstr(accept, XLSX_CONTENT_TYPE) != NULL;
}
