/* libFuzzer: uploaded .xlsx workbooks (include/xlsx_read.h), the return
 * form's XLSX upload.  Invariants: never a crash, a read outside the input
 * or a leak; on success the CSV is NUL-terminated, its length is what is
 * reported, at most XLSX_MAX_CSV bytes and without a NUL inside; on
 * failure there is a reason and no CSV.  The seed corpus holds a workbook
 * written by openpyxl and the XML of a sheet, so mutations reach the zip and
 * XML readers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xlsx_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);   /* its own allocation: ASan sees overreads */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    char *csv = NULL;
    size_t n = 0;
    const char *why = NULL;
    if (xlsx_read_csv(copy, size, &csv, &n, &why) == 0) {
        if (!csv || why || n > XLSX_MAX_CSV || csv[n] != '\0' || strlen(csv) != n)
            abort();
    } else if (csv || !why) {
        abort();
    }
    free(csv);
    /* The XML readers behind the zip (which a mutated zip rarely gets
     * past: its CRCs): the input split at its first NUL byte into the
     * shared strings and the sheet, each in an allocation of its own. */
    const uint8_t *nul = memchr(data, 0, size);
    size_t n1 = nul ? (size_t)(nul - data) : 0, n2 = nul ? size - n1 - 1 : size;
    char *shared = nul ? malloc(n1 ? n1 : 1) : NULL, *sheet = malloc(n2 ? n2 : 1);
    if (sheet && (!nul || shared)) {
        if (shared)
            memcpy(shared, data, n1);
        memcpy(sheet, nul ? nul + 1 : data, n2);
        csv = NULL;
        why = NULL;
        if (xlsx_parts_csv(shared, n1, sheet, n2, &csv, &n, &why) == 0) {
            if (!csv || why || n > XLSX_MAX_CSV || csv[n] != '\0' || strlen(csv) != n)
                abort();
        } else if (csv || !why) {
            abort();
        }
        free(csv);
    }
    free(shared);
    free(sheet);
    free(copy);
    return 0;
}
