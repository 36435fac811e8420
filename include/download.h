/*
 * A download answered as it is made (not kept in a cache): one sheet
 * (include/sheet.h) as CSV or as its XLSX twin (include/xlsx.h), saved as
 * NAME.csv or NAME.xlsx, never stored by a cache on the way.  For the
 * administrators' downloads (audit log, collection dashboard); the public
 * downloads keep their ETags through their own caches.
 */
#ifndef SENDBENCH_DOWNLOAD_H
#define SENDBENCH_DOWNLOAD_H

struct request;
struct sheet;
struct xlsx_about;

/* Answers s (taken: freed here) as CSV, or (xlsx) as a workbook with the
 * About sheet about; out of memory (s NULL or failed) or a workbook that
 * cannot be written is a 500 JSON error. */
void download_reply(struct request *r, struct sheet *s, int xlsx, const char *name,
                    const struct xlsx_about *about);

#endif
