/* libFuzzer: the submission CSV parser and validator (submit_parse_csv) on arbitrary bytes, with the checks of
 * fuzz_submit_one (fuzz_catalogue.h). */
#include <stdint.h>

#include "fuzz_catalogue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_submit_one(submit_parse_csv, data, size);
    return 0;
}
