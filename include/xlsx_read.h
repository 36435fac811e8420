/*
 * Reading an uploaded .xlsx return: the first worksheet as CSV text, so
 * that it goes through the same parser and checks as the tidy CSV
 * (submit_parse_csv).  An .xlsx is a zip (libzip, read from memory) of XML
 * parts (expat, a streaming parser).  The first sheet is the first visible
 * one in the workbook's tab order, found through the package's
 * relationships (_rels/.rels -> the workbook part -> its sheets' ids -> its
 * .rels), as are the shared strings: a workbook whose sheets were
 * reordered, renamed or deleted stores its first sheet under another name
 * than the xl/worksheets/sheet1.xml that Excel, LibreOffice and openpyxl
 * give a new one.  A package without a workbook part is read by those
 * conventional names.  Cell values are taken as stored: numbers as their
 * text, strings (shared or inline) as text, booleans TRUE/FALSE; formulas
 * by their cached value.  Dates are numbers (serial days) and are not
 * converted: a return has no date fields.
 *
 * Hostile files: every part read is bounded (XLSX_MAX_PART bytes
 * uncompressed, whatever the zip says), as are rows, columns, strings and
 * the CSV made; a DTD or an entity declaration is refused (no entity
 * expansion); a cell reference out of range is refused; a relationship
 * pointing outside the package (or External) is refused or ignored.  Fuzzed by
 * tests/fuzz/fuzz_xlsx.c.
 */
#ifndef SENDBENCH_XLSX_READ_H
#define SENDBENCH_XLSX_READ_H

#include <stddef.h>

#define XLSX_MAX_PART (4u << 20)    /* bytes of one XML part, uncompressed */
#define XLSX_MAX_ROWS 1000
#define XLSX_MAX_COLS 64
#define XLSX_MAX_STRINGS 20000
#define XLSX_MAX_CELL 4096          /* bytes of one cell's text */
#define XLSX_MAX_CSV (1u << 20)

/* The first worksheet of the workbook in data as CSV (CRLF line ends,
 * fields quoted where needed) in *csv (malloc'd, NUL-terminated; the
 * caller frees it) with its length.  0, or -1 with *why saying what is
 * wrong in words a council officer can act on. */
int xlsx_read_csv(const char *data, size_t len, char **csv, size_t *csv_len, const char **why)
    __attribute__((warn_unused_result));

/* The same from the two XML parts themselves (shared strings may be NULL:
 * none), as xlsx_read_csv does after unzipping; for the fuzz target. */
int xlsx_parts_csv(const char *shared, size_t shared_len, const char *sheet, size_t sheet_len,
                   char **csv, size_t *csv_len, const char **why)
    __attribute__((warn_unused_result));

#endif
