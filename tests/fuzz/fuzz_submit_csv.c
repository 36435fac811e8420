/* libFuzzer: the submission CSV parser and validator (submit_parse_csv) on arbitrary
 * bytes.  Checks beyond "no crash": the return value is one of the
 * documented ones, a valid document has its fields filled, and an invalid
 * one has at least one detail with field/rule/message strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_catalogue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_details(const json_t *details, int rc)
{
    size_t n = json_array_size(details);
    if ((rc == SUBMIT_INVALID || rc == SUBMIT_MALFORMED) && n == 0)
        abort();
    if (rc == SUBMIT_OK && n != 0)
        abort();
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(details, i);
        if (!json_is_string(json_object_get(d, "field")) ||
            !json_is_string(json_object_get(d, "rule")) ||
            !json_is_string(json_object_get(d, "message")))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct submit_doc doc = {0};
    json_t *details = json_array();
    if (!details)
        return 0;
    int rc = submit_parse_csv((const char *)data, size, fuzz_catalogue(), &fuzz_today, &doc,
                               details);
    if (rc != SUBMIT_OK && rc != SUBMIT_INVALID && rc != SUBMIT_MALFORMED && rc != SUBMIT_NOMEM)
        abort();
    if (rc != SUBMIT_NOMEM)
        check_details(details, rc);
    if (rc == SUBMIT_OK) {
        if (!doc.authority[0] || !doc.period[0] || json_object_size(doc.figures) == 0)
            abort();
        if (doc.notes && strlen(doc.notes) > SUBMIT_MAX_NOTES * 4)
            abort();
    }
    submit_doc_clear(&doc);
    json_decref(details);
    return 0;
}
