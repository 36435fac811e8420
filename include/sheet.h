/*
 * The rows of a download, typed: every CSV that sendbench offers is built as
 * a sheet first, and the same sheet is written either as CSV (sheet_csv) or
 * as a sheet of an XLSX workbook (include/xlsx.h), so that the two files of
 * one download cannot hold different numbers.
 *
 * A cell is text (codes, names, periods and the symbols c, x, z, low) or a
 * number with its decimal places.  A number's text is made once, when it is
 * added (rounded half away from zero to dp places, "-0" printed as 0); the
 * CSV writes that text and the XLSX holds the value that text reads as, with
 * dp as the cell's number format.  Pure: no I/O.
 */
#ifndef SENDBENCH_SHEET_H
#define SENDBENCH_SHEET_H

#include <stddef.h>

struct evbuffer;

/* dp for numbers written as they come ("%.10g"; General in a workbook). */
#define SHEET_DP_ANY (-1)
#define SHEET_DP_MAX 6

struct sheet_cell {
    char *text;     /* owned by the sheet; "" for an empty cell */
    double value;   /* number cells: what text reads as */
    int number;     /* 1: a number, 0: text */
    int dp;         /* number cells: decimal places shown (the cell format), or
                       SHEET_DP_ANY */
};

struct sheet;

/* A sheet named name (at most 31 characters in a workbook; longer names and
 * the characters Excel refuses, []:*?/\, are cut or replaced).  The first
 * row added is the header.  Returns NULL when out of memory; caller frees
 * with sheet_free. */
struct sheet *sheet_new(const char *name);
void sheet_free(struct sheet *s);

/* Adding cells never fails at the call: an allocation failure is kept and
 * reported by sheet_failed (and by the writers). */
void sheet_text(struct sheet *s, const char *text);     /* NULL: empty */
void sheet_number(struct sheet *s, double v, int dp);    /* not finite: empty */
/* A number written with dp places (SHEET_DP_ANY: as it comes) but shown in
 * a workbook with show_dp places: a forecast's CSV keeps its decimals while
 * Excel shows it as the catalogue rounds the metric. */
void sheet_number_as(struct sheet *s, double v, int dp, int show_dp);
void sheet_int(struct sheet *s, long long v);
/* has ? the number : the symbol (text). */
void sheet_number_or(struct sheet *s, int has, double v, int dp, const char *symbol);
void sheet_end_row(struct sheet *s);

int sheet_failed(const struct sheet *s);
const char *sheet_name(const struct sheet *s);          /* borrowed */
size_t sheet_rows(const struct sheet *s);
/* The cells of row i (borrowed; the row's length in *n). */
const struct sheet_cell *sheet_row(const struct sheet *s, size_t i, size_t *n);

/* Appends the sheet as CSV, each row ended by eol ("\r\n" for the DfE tidy
 * files, "\n" for forecasts), fields quoted by libcsv where they hold a
 * comma, quote or line break.  Returns 0, or -1 (out of memory, or the sheet
 * failed). */
int sheet_csv(const struct sheet *s, struct evbuffer *out, const char *eol)
    __attribute__((warn_unused_result));
/* The same as a NUL-terminated string (caller frees; length in *len), or
 * NULL. */
char *sheet_csv_string(const struct sheet *s, const char *eol, size_t *len);

#endif
