/*
 * Reading a CSV file into memory for the importers, with the physical line
 * number of every record so that an error can say "FILE:LINE: reason".
 * Pure code (libcsv and stdio only): unit-tested in tests/unit/test_import_csv.c.
 */
#ifndef SENDBENCH_IMPORT_CSV_H
#define SENDBENCH_IMPORT_CSV_H

#include <stddef.h>

struct import_csv_record {
    unsigned line;      /* physical line on which the record ends (1-based) */
    size_t nfield;
    char **field;       /* NUL-terminated, surrounding spaces removed */
};

struct import_csv {
    size_t nrecord;     /* record 0 is the header */
    struct import_csv_record *record;
    void *arena;        /* owns every field and field array (import_csv.c) */
};

/* Largest file accepted (the shipped files are under 2 MB). */
#define IMPORT_CSV_MAX_BYTES (256u * 1024u * 1024u)

/* Parses buf[0..len) (a UTF-8 byte-order mark, CRLF or LF line ends, quoted
 * fields with embedded commas, quotes or newlines).  Blank lines are skipped.
 * On success fills *out (caller frees with import_csv_free) and returns 0;
 * on failure returns -1 with "line N: reason" in err and *out empty. */
int import_csv_parse(const char *buf, size_t len, struct import_csv *out, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* Reads and parses a file; err gets "reason" or "line N: reason". */
int import_csv_read(const char *path, struct import_csv *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

void import_csv_free(struct import_csv *csv);

/* Index of the header column named name (exact), or -1. */
int import_csv_column(const struct import_csv *csv, const char *name);

#endif
