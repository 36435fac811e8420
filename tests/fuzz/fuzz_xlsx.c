/* libFuzzer: uploaded .xlsx workbooks (include/xlsx_read.h), the return
 * form's XLSX upload.  Invariants: never a crash, a read outside the input
 * or a leak; on success the CSV is NUL-terminated, its length is what is
 * reported, at most XLSX_MAX_CSV bytes and without a NUL inside; on
 * failure there is a reason and no CSV.  The seed corpus holds a workbook
 * written by libxlsxwriter, so mutations reach the zip and XML readers. */
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
    free(copy);
    return 0;
}
