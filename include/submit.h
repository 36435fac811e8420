/*
 * Validation of a quarterly submission (JSON or tidy CSV).  PURE: no I/O, no
 * clock, no database; everything it needs (the metric catalogue, today's
 * date) is an argument, so that unit tests and fuzzers drive it directly.
 *
 * Validation collects every problem it finds as a detail
 *   {"field": "...", "rule": "...", "message": "..."}
 * appended to a caller-supplied JSON array, so that a council learns
 * everything that is wrong in one answer.
 */
#ifndef SENDBENCH_SUBMIT_H
#define SENDBENCH_SUBMIT_H

#include <jansson.h>
#include <stddef.h>

enum submit_unit { UNIT_COUNT, UNIT_PERCENT, UNIT_MONEY, UNIT_FTE, UNIT_RATIO };

struct submit_metric {
    char id[64];
    enum submit_unit unit;
    int derived;            /* kind = 'derived': computed, never accepted */
    int submittable;
};

/* The metric catalogue (from the metrics table, or hand-made in tests). */
struct submit_catalogue {
    size_t n;
    struct submit_metric *metrics;  /* owned */
};

/* Parses a unit name of the metrics table ("count", "%", "£", "FTE",
 * "ratio").  Returns 0, or -1 for an unknown name. */
int submit_unit_parse(const char *name, enum submit_unit *out)
    __attribute__((warn_unused_result));

/* Appends one metric (copied).  Returns 0, or -1 (out of memory, id too long). */
int submit_catalogue_add(struct submit_catalogue *cat, const char *id, enum submit_unit unit,
                         int derived, int submittable) __attribute__((warn_unused_result));
/* Borrowed; NULL when unknown. */
const struct submit_metric *submit_catalogue_find(const struct submit_catalogue *cat,
                                                  const char *id);
/* Frees the metrics (not cat itself). */
void submit_catalogue_clear(struct submit_catalogue *cat);

struct submit_date {
    int year, month, day;
};

/* A validated (or partly validated) submission. */
struct submit_doc {
    char authority[16];     /* "" unless a well-formed ONS code or DfE number was
                               given (a DfE number is resolved by the caller) */
    char period[16];        /* "" unless a well-formed "YYYY-YY Qn" was given */
    json_t *figures;        /* owned: metric id -> number (only valid figures) */
    json_t *withdraw;       /* owned: metric ids withdrawn by this version (JSON
                               "withdraw": [...]); an empty array when none */
    char *notes;            /* owned; NULL when absent */
};

/* The catalogue's metric id nearest to a misspelt one (edit distance at
 * most 3 and less than half its length), borrowed; NULL when none is near. */
const char *submit_nearest_metric(const struct submit_catalogue *cat, const char *id);

void submit_doc_clear(struct submit_doc *doc);

/* Return values of the parsers. */
enum {
    SUBMIT_OK = 0,          /* valid: doc is complete, details untouched */
    SUBMIT_INVALID = 1,     /* details appended (answer 422) */
    SUBMIT_MALFORMED = 2,   /* not JSON/CSV at all; one detail appended (answer 400) */
    SUBMIT_NOMEM = -1,
};

/* Limits enforced by the parsers (the HTTP core limits the body size). */
#define SUBMIT_MAX_DEPTH 16
#define SUBMIT_MAX_NOTES 2000
#define SUBMIT_MAX_FIGURES 200
/* Widest CSV row accepted: the figures plus the descriptive columns. */
#define SUBMIT_MAX_CSV_COLUMNS 256
/* The first financial year a quarter may belong to: 2014-15, when EHC plans
 * began (Children and Families Act 2014). */
#define SUBMIT_FIRST_YEAR 2014

/*
 * Validates a JSON body {"authority","period","figures",["notes"]}.
 * doc is filled (caller clears it with submit_doc_clear in every case);
 * details gets one entry per problem.  today decides which quarters have
 * ended.  Returns one of the SUBMIT_* values above.
 */
int submit_parse_json(const char *body, size_t len, const struct submit_catalogue *cat,
                      const struct submit_date *today, struct submit_doc *doc, json_t *details)
    __attribute__((warn_unused_result));

/* The same for a tidy CSV body (layout in docs/submissions.md). */
int submit_parse_csv(const char *body, size_t len, const struct submit_catalogue *cat,
                     const struct submit_date *today, struct submit_doc *doc, json_t *details)
    __attribute__((warn_unused_result));

/*
 * Checks a period string.  Returns 0 when valid; otherwise appends a detail
 * for `field` and returns 1.  Exposed for the GET parameters and the tests.
 */
int submit_check_period(const char *period, const struct submit_date *today, const char *field,
                        json_t *details) __attribute__((warn_unused_result));

/* 1 when free text contains something that looks like personal data about a
 * child (UPN, NHS number, date of birth, postcode); *what (static) says
 * which.  Exposed for the tests. */
int submit_text_has_personal_data(const char *text, const char **what);

/* 1 when a field name is one that carries personal data (name, dob, upn...),
 * compared ignoring case and punctuation. */
int submit_key_is_personal(const char *key);

/* Appends {"field","rule","message"} to details.  Returns 0 or -1. */
int submit_detail(json_t *details, const char *field, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
