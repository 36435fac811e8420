/*
 * The validation shared by the two submission bodies (server/submit.c for
 * JSON, server/submit_csv.c for CSV): both build one document and check it
 * with the same rules, naming fields in the body's own spelling.
 * Not part of the public contract of include/submit.h.
 */
#ifndef SENDBENCH_SUBMIT_DOC_H
#define SENDBENCH_SUBMIT_DOC_H

#include "submit.h"

#include <jansson.h>

/* How a body spells its fields in error details ("authority" in JSON,
 * "new_la_code" in the DfE-style CSV). */
struct field_names {
    const char *authority, *period, *figures_prefix, *notes;
};

#define AGGREGATE_ONLY \
    "sendbench accepts only aggregate figures, never data about an individual child"

/* Walks every key of a parsed document (path is the dotted path of v) and
 * reports field names and strings that look like personal data. */
void submit_check_personal_keys(const json_t *v, const char *path, int depth, json_t *details);

/* Whether key is in a set of keys kept as a JSON object (a hash set). */
int submit_in_list(const json_t *set, const char *key);

/* Validates a parsed document and fills doc; dup_figures lists metric ids
 * already reported as sent twice; check_top_level selects the JSON rules
 * (unknown top-level members rejected, the authority by ONS code or DfE
 * number) rather than the CSV's (figures are the columns, ONS code only).  Returns SUBMIT_OK, SUBMIT_INVALID or SUBMIT_NOMEM,
 * with one entry in details per problem. */
int submit_validate_doc(const json_t *root, const struct submit_catalogue *cat,
                        const struct submit_date *today, const struct field_names *fn,
                        const json_t *dup_figures, int check_top_level, struct submit_doc *doc,
                        json_t *details);

#endif
