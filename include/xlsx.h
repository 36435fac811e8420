/*
 * XLSX downloads (libxlsxwriter): the sheets a CSV download is made of
 * (include/sheet.h), as a workbook that Excel, LibreOffice, R and Python
 * open with the same numbers.  Numbers are numbers, with their decimal
 * places as the cell format ("#,##0.0"); text and the symbols c, x, z, low
 * stay text; the first row of each sheet is the header (bold, frozen, with
 * a filter).  A last sheet, "About", holds what the download is, where it
 * came from, the attribution the figures must carry and what the symbols
 * mean.
 */
#ifndef SENDBENCH_XLSX_H
#define SENDBENCH_XLSX_H

#include <stddef.h>
#include <time.h>

struct sheet;

#define XLSX_CONTENT_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

struct xlsx_about {
    const char *title;        /* "Comparative table: ehcp_caseload, 2024" */
    const char *source;       /* how it was asked for: the request's path and query */
    const char *attribution;  /* required: the OGL v3.0 line of the figures */
    const char *const *extra; /* more "name", "value" pairs, NULL-terminated; may be NULL */
    time_t created;           /* the workbook's creation time; 0: 2000-01-01, so that the
                                 same sheets always give the same bytes (and ETag) */
};

/* The workbook of sheets[0..n) and the About sheet, as bytes (caller frees;
 * length in *len).  Returns NULL with a reason in err (the sheet failed, an
 * invalid name, out of memory, or libxlsxwriter's error). */
unsigned char *xlsx_workbook(const struct sheet *const *sheets, size_t n,
                             const struct xlsx_about *about, size_t *len, char *err,
                             size_t errlen) __attribute__((warn_unused_result));

/* Whether a request asks for XLSX: ?format=xlsx, or no format and an Accept
 * header naming XLSX_CONTENT_TYPE. */
int xlsx_requested(const char *format, const char *accept);

#endif
