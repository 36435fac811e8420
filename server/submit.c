/*
 * Submission validation: pure functions over a body, a catalogue and a date
 * (see include/submit.h; the rules are documented in docs/submissions.md).
 */
#include "submit.h"

#include "codes.h"
#include "period.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds beyond which a figure cannot be a real authority's. */
#define MAX_COUNT 10000000.0        /* ten million of anything countable */
#define MAX_MONEY 1e10              /* £10bn */
#define MAX_FTE 2000.0              /* the largest SEND teams are ~100 FTE */
#define MAX_RATIO 1e6

/* Length of the well-formed UTF-8 sequence at s (1-4), or 0 when the bytes
 * there are not one (stray continuation, overlong form, surrogate, beyond
 * U+10FFFF, or cut short). */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

/* Copies src into dst (capacity cap > 0) as valid UTF-8: a byte that does
 * not begin a well-formed sequence becomes '?', and a sequence that would
 * not fit whole is left out.  A detail echoes what the client sent, cut to
 * a length ("%.40s"), and the cut may fall inside a character; jansson
 * refuses such a string, and a detail lost that way would leave a refused
 * submission without its reason. */
static void utf8_clean(char *dst, size_t cap, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0;
    while (*s) {
        size_t n = utf8_seq_len(s);
        if (n == 0) {
            if (o + 1 >= cap)
                break;
            dst[o++] = '?';
            s++;
            continue;
        }
        if (o + n >= cap)
            break;
        memcpy(dst + o, s, n);
        o += n;
        s += n;
    }
    dst[o] = '\0';
}

int submit_detail(json_t *details, const char *field, const char *rule, const char *fmt, ...)
{
    char raw[512], msg[512], fld[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    utf8_clean(msg, sizeof msg, raw);
    utf8_clean(fld, sizeof fld, field);
    json_t *d = json_pack("{s:s, s:s, s:s}", "field", fld, "rule", rule, "message", msg);
    if (!d)
        return -1;
    return json_array_append_new(details, d);
}

int submit_unit_parse(const char *name, enum submit_unit *out)
{
    static const struct { const char *name; enum submit_unit unit; } units[] = {
        {"count", UNIT_COUNT}, {"%", UNIT_PERCENT}, {"£", UNIT_MONEY},
        {"FTE", UNIT_FTE}, {"ratio", UNIT_RATIO},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(name, units[i].name) == 0) {
            *out = units[i].unit;
            return 0;
        }
    }
    return -1;
}

int submit_catalogue_add(struct submit_catalogue *cat, const char *id, enum submit_unit unit,
                         int derived, int submittable)
{
    if (strlen(id) >= sizeof cat->metrics[0].id)
        return -1;
    struct submit_metric *m = realloc(cat->metrics, (cat->n + 1) * sizeof *m);
    if (!m)
        return -1;
    cat->metrics = m;
    m += cat->n;
    memset(m, 0, sizeof *m);
    memcpy(m->id, id, strlen(id) + 1);
    m->unit = unit;
    m->derived = derived;
    m->submittable = submittable;
    cat->n++;
    return 0;
}

const struct submit_metric *submit_catalogue_find(const struct submit_catalogue *cat,
                                                  const char *id)
{
    for (size_t i = 0; cat && i < cat->n; i++)
        if (strcmp(cat->metrics[i].id, id) == 0)
            return &cat->metrics[i];
    return NULL;
}

void submit_catalogue_clear(struct submit_catalogue *cat)
{
    free(cat->metrics);
    cat->metrics = NULL;
    cat->n = 0;
}

void submit_doc_clear(struct submit_doc *doc)
{
    json_decref(doc->figures);
    json_decref(doc->withdraw);
    free(doc->notes);
    memset(doc, 0, sizeof *doc);
}

/* ---------------------------------------------------------------- period */

/*
 * "YYYY-YY Qn", the financial year YYYY-(YYYY+1), Q1 = April-June (read by
 * period.h).  A quarter may be submitted from the day after it ends: plans
 * in place and staff are counted at the end of the quarter, flows over the
 * whole of it, so figures for a quarter still running are by definition
 * incomplete.
 */
int submit_check_period(const char *p, const struct submit_date *today, const char *field,
                        json_t *details)
{
    struct period per;
    enum period_status st = period_parse_status(p, &per);
    if (st == PERIOD_BAD_FORM || per.kind != PERIOD_QUARTER) {
        submit_detail(details, field, "period_format",
                      "\"%.40s\" is not a financial-year quarter written \"YYYY-YY Qn\" "
                      "(for example \"2024-25 Q2\"; Q1 = April-June)", p);
        return 1;
    }
    if (st == PERIOD_BAD_YEARS) {
        submit_detail(details, field, "period_years",
                      "\"%s\": the second year must follow the first (%d-%02d)", p, per.year,
                      (per.year + 1) % 100);
        return 1;
    }
    if (per.year < SUBMIT_FIRST_YEAR) {
        submit_detail(details, field, "period_too_early",
                      "\"%s\" is before 2014-15, when EHC plans began (Children and Families "
                      "Act 2014)", p);
        return 1;
    }
    struct period_date end = period_last_day(&per);
    struct period_date now = {today->year, today->month, today->day};
    if (st != PERIOD_OK || period_date_cmp(&end, &now) >= 0) {
        submit_detail(details, field, "period_not_ended",
                      "\"%s\" ends on %04d-%02d-%02d: a quarter can be submitted from the day "
                      "after it ends", p, end.year, end.month, end.day);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------- personal data */

/* Field names that carry personal data, lower case without punctuation. */
static const char *const personal_keys[] = {
    "name", "firstname", "forename", "forenames", "givenname", "middlename", "surname",
    "lastname", "familyname", "fullname", "childname", "pupilname", "studentname",
    "dob", "dateofbirth", "birthdate", "birthday", "upn", "uniquepupilnumber", "uln",
    "nhsnumber", "nhsno", "nhs", "postcode", "postalcode", "zip", "address", "homeaddress",
    "addressline1", "street", "email", "phone", "telephone", "mobile", "gender", "sex",
    "ethnicity", NULL,
};

int submit_key_is_personal(const char *key)
{
    char norm[64];
    size_t n = 0;
    for (const char *k = key; *k && n + 1 < sizeof norm; k++)
        if (isalnum((unsigned char)*k))
            norm[n++] = (char)tolower((unsigned char)*k);
    norm[n] = '\0';
    if (strlen(key) > 60)
        return 0;
    for (const char *const *p = personal_keys; *p; p++)
        if (strcmp(norm, *p) == 0)
            return 1;
    return 0;
}

/*
 * Patterns in free text (POSIX extended regular expressions, case
 * insensitive; each is bounded by a non-alphanumeric character or the end).
 *   UPN: a letter and 12 digits (DfE Unique Pupil Number format)
 *   NHS number: 10 digits, optionally grouped 3-3-4 with spaces or dashes
 *   a day-precise date: dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, dd/mm/yy, or
 *     yyyy-mm-dd; notes have no reason to carry one (periods are quarters),
 *     and a child's date of birth is exactly this shape
 *   a UK postcode: outward code and inward code (SW1A 1AA, M1 1AE, B33 8TH)
 */
static const struct { const char *re; const char *what; } personal_text[] = {
    {"(^|[^[:alnum:]])[a-z][0-9]{12}($|[^[:alnum:]])", "a UPN-like code"},
    {"(^|[^[:alnum:]])[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}($|[^[:alnum:]])",
     "an NHS-number-like 10-digit number"},
    {"(^|[^[:alnum:]])(0?[1-9]|[12][0-9]|3[01])[/.-](0?[1-9]|1[0-2])[/.-]([0-9]{4}|[0-9]{2})"
     "($|[^[:alnum:]])", "a date that looks like a date of birth"},
    {"(^|[^[:alnum:]])[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])($|[^[:alnum:]])",
     "a date that looks like a date of birth"},
    {"(^|[^[:alnum:]])[a-z]{1,2}[0-9][a-z0-9]? ?[0-9][a-z]{2}($|[^[:alnum:]])",
     "a postcode"},
};

int submit_text_has_personal_data(const char *text, const char **what)
{
    for (size_t i = 0; i < sizeof personal_text / sizeof personal_text[0]; i++) {
        regex_t re;
        if (regcomp(&re, personal_text[i].re, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
            continue;   /* cannot happen with constant patterns */
        int hit = regexec(&re, text, 0, NULL, 0) == 0;
        regfree(&re);
        if (hit) {
            *what = personal_text[i].what;
            return 1;
        }
    }
    return 0;
}

#define AGGREGATE_ONLY "sendbench accepts only aggregate figures, never data about an individual child"

/* Walks every key of a parsed document; reports personal-data field names.
 * path is the dotted path of v. */
static void check_personal_keys(const json_t *v, const char *path, int depth, json_t *details)
{
    if (depth > SUBMIT_MAX_DEPTH)
        return;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s%s%.100s", path, *path ? "." : "", key);
            if (submit_key_is_personal(key))
                submit_detail(details, sub, "personal_data",
                              "\"%.60s\" looks like personal data: " AGGREGATE_ONLY, key);
            check_personal_keys(child, sub, depth + 1, details);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            check_personal_keys(child, sub, depth + 1, details);
        }
    } else if (json_is_string(v) && *path && strcmp(path, "notes") != 0) {
        const char *what;
        if (submit_text_has_personal_data(json_string_value(v), &what))
            submit_detail(details, path, "personal_data",
                          "contains %s: " AGGREGATE_ONLY, what);
    }
}

/* ------------------------------------------------------- the core checks */

/* Field names differ between JSON (dotted paths) and CSV (column names). */
struct field_names {
    const char *authority, *period, *figures_prefix, *notes;
};

static const struct field_names json_fields = {"authority", "period", "figures.", "notes"};
static const struct field_names csv_fields = {"new_la_code", "time_period", "", "notes"};

static const char *unit_phrase(enum submit_unit u)
{
    switch (u) {
    case UNIT_COUNT: return "a count";
    case UNIT_PERCENT: return "a percentage";
    case UNIT_MONEY: return "an amount in pounds";
    case UNIT_FTE: return "full-time equivalents";
    default: return "a ratio";
    }
}

/* Checks one figure against its unit; returns 1 when acceptable. */
static int check_figure(const struct submit_metric *m, const json_t *v, const char *field,
                        json_t *details)
{
    if (!json_is_number(v)) {
        submit_detail(details, field, "type", "%s must be a number (%s), not %s", m->id,
                      unit_phrase(m->unit),
                      json_is_string(v) ? "a string" : json_is_null(v) ? "null (leave a "
                      "figure you do not have out instead)" : json_is_boolean(v) ? "true/false"
                      : json_is_object(v) ? "an object" : "an array");
        return 0;
    }
    double x = json_number_value(v);
    if (!isfinite(x)) {
        submit_detail(details, field, "type", "%s must be a finite number", m->id);
        return 0;
    }
    switch (m->unit) {
    case UNIT_COUNT:
        if (x < 0) {
            submit_detail(details, field, "non_negative", "%s is a count and cannot be negative (%g)",
                          m->id, x);
            return 0;
        }
        if (x != floor(x)) {
            submit_detail(details, field, "whole_number",
                          "%s is a count and must be a whole number (%g)", m->id, x);
            return 0;
        }
        if (x > MAX_COUNT) {
            submit_detail(details, field, "range", "%s = %g is implausibly large (over %g)",
                          m->id, x, MAX_COUNT);
            return 0;
        }
        return 1;
    case UNIT_MONEY:
        if (fabs(x) > MAX_MONEY) {
            submit_detail(details, field, "money_range",
                          "%s = %.0f is out of range: amounts are in pounds and at most "
                          "£10bn either way", m->id, x);
            return 0;
        }
        return 1;
    case UNIT_PERCENT:
        if (x < 0 || x > 100) {
            submit_detail(details, field, "percentage_range",
                          "%s is a percentage and must be between 0 and 100 (%g)", m->id, x);
            return 0;
        }
        return 1;
    case UNIT_FTE:
        if (x < 0 || x > MAX_FTE) {
            submit_detail(details, field, "fte_range",
                          "%s = %g full-time equivalents is not sensible (0 to %g)", m->id, x,
                          MAX_FTE);
            return 0;
        }
        return 1;
    case UNIT_RATIO:
        if (x < 0 || x > MAX_RATIO) {
            submit_detail(details, field, "range", "%s must be between 0 and %g", m->id,
                          MAX_RATIO);
            return 0;
        }
        return 1;
    }
    return 0;
}

/*
 * Cross-field rules that hold for any one quarter, because the smaller
 * figure counts a subset of the same events in the same period:
 *   plans issued within 20 weeks are among the plans issued (with and
 *   without exceptions), plans issued excluding exceptions are among all
 *   plans issued, reviews completed on time are among the reviews due, and
 *   decisions made within 6 weeks are among the decisions made.
 * Deliberately NOT a rule: decisions (to assess + refused) exceeding
 * requests received.  A decision in this quarter may answer a request from
 * the last one, so a quarter with a backlog cleared legitimately has more
 * decisions than requests.
 */
static const struct { const char *small, *big, *big2, *why; } subset_rules[] = {
    {"new_plans_within_20_weeks", "new_plans_issued", NULL,
     "plans issued within 20 weeks are among the plans issued"},
    {"new_plans_within_20_weeks_ex", "new_plans_issued_ex", NULL,
     "plans issued within 20 weeks (excluding exceptions) are among the plans issued excluding exceptions"},
    {"new_plans_issued_ex", "new_plans_issued", NULL,
     "plans issued excluding exceptions are among all plans issued"},
    {"annual_reviews_on_time", "annual_reviews_due", NULL,
     "reviews completed on time are among the reviews due"},
    {"requests_decided_within_6_weeks", "requests_decided_to_assess", "requests_refused",
     "decisions made within 6 weeks are among the decisions made (to assess and not to assess)"},
};

static void check_cross_fields(const json_t *figures, const struct field_names *fn,
                               json_t *details)
{
    for (size_t i = 0; i < sizeof subset_rules / sizeof subset_rules[0]; i++) {
        json_t *s = json_object_get(figures, subset_rules[i].small);
        json_t *b = json_object_get(figures, subset_rules[i].big);
        json_t *b2 = subset_rules[i].big2 ? json_object_get(figures, subset_rules[i].big2) : NULL;
        if (!s || !b || (subset_rules[i].big2 && !b2))
            continue;   /* partial submission: nothing to compare */
        double big = json_number_value(b) + (b2 ? json_number_value(b2) : 0);
        if (json_number_value(s) > big) {
            char field[128];
            snprintf(field, sizeof field, "%s%s", fn->figures_prefix, subset_rules[i].small);
            if (b2)
                submit_detail(details, field, "exceeds_total",
                              "%s (%g) is greater than %s + %s (%g): %s",
                              subset_rules[i].small, json_number_value(s), subset_rules[i].big,
                              subset_rules[i].big2, big, subset_rules[i].why);
            else
                submit_detail(details, field, "exceeds_total",
                              "%s (%g) is greater than %s (%g): %s", subset_rules[i].small,
                              json_number_value(s), subset_rules[i].big, big,
                              subset_rules[i].why);
        }
    }
}

/* Metric keys flagged as duplicates by the JSON scanner (not re-reported). */
/* The sets of keys already reported as repeated are JSON objects used as
 * hash sets: a body full of repeated keys costs linear time, not
 * quadratic (the event loop runs validation). */
static int in_list(const json_t *set, const char *key)
{
    return json_object_get(set, key) != NULL;
}

/* A withdraw list is at most SUBMIT_MAX_FIGURES long: a scan will do. */
static int array_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (strcmp(json_string_value(v), s) == 0)
            return 1;
    return 0;
}

/*
 * Validates a parsed document (from JSON or built from CSV) and fills doc.
 * dup_figures lists metric ids already reported as sent twice.
 */
/* Edit distance (Levenshtein) of two short ids, capped: ids are at most 63
 * characters (code_is_metric_id), longer input counts as far. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

const char *submit_nearest_metric(const struct submit_catalogue *cat, const char *id)
{
    const char *best = NULL;
    int best_d = 4;
    for (size_t i = 0; i < cat->n; i++) {
        const struct submit_metric *m = &cat->metrics[i];
        if (!m->submittable || m->derived)
            continue;
        int d = edit_distance(id, m->id);
        if (d < best_d && 2 * d < (int)strlen(m->id)) {
            best_d = d;
            best = m->id;
        }
    }
    return best;
}

static int validate_doc(const json_t *root, const struct submit_catalogue *cat,
                        const struct submit_date *today, const struct field_names *fn,
                        const json_t *dup_figures, int check_top_level, struct submit_doc *doc,
                        json_t *details)
{
    doc->figures = json_object();
    doc->withdraw = json_array();
    if (!doc->figures || !doc->withdraw)
        return SUBMIT_NOMEM;
    if (!json_is_object(root)) {
        submit_detail(details, "body", "type",
                      "the body must be a JSON object with authority, period and figures");
        return SUBMIT_INVALID;
    }
    /* CSV columns are the figures' keys: name them as the council wrote them. */
    if (check_top_level)
        check_personal_keys(root, "", 0, details);
    else if (json_is_object(json_object_get(root, "figures")))
        check_personal_keys(json_object_get(root, "figures"), "", 0, details);

    if (check_top_level) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)root, key, v) {
            if (strcmp(key, "authority") && strcmp(key, "period") && strcmp(key, "figures") &&
                strcmp(key, "notes") && strcmp(key, "withdraw") && !submit_key_is_personal(key))
                submit_detail(details, key, "unknown_field",
                              "unknown field \"%.60s\": a submission has authority, period, "
                              "figures, withdraw and notes", key);
        }
    }

    /* authority */
    json_t *a = json_object_get(root, "authority");
    if (!a || (json_is_string(a) && json_string_length(a) == 0))
        submit_detail(details, fn->authority, "required",
                      "the authority's ONS code or DfE number is required (for example "
                      "\"E06000059\" or \"838\")");
    else if (!json_is_string(a))
        submit_detail(details, fn->authority, "type",
                      "the authority must be a string: its ONS code or DfE number (for example "
                      "\"E06000059\" or \"838\")");
    else if (!(check_top_level ? code_is_authority(json_string_value(a))
                               : code_is_ons_authority(json_string_value(a))))
        submit_detail(details, fn->authority, "authority_format",
                      "\"%.40s\" is not an upper-tier local authority ONS code (E06, E08, E09, "
                      "E10 or E11 and six digits)%s", json_string_value(a),
                      check_top_level ? " nor a DfE number (three digits)" : "");
    else
        snprintf(doc->authority, sizeof doc->authority, "%s", json_string_value(a));

    /* period */
    json_t *p = json_object_get(root, "period");
    if (!p || (json_is_string(p) && json_string_length(p) == 0))
        submit_detail(details, fn->period, "required",
                      "the period is required, written \"YYYY-YY Qn\" (for example \"2024-25 Q2\")");
    else if (!json_is_string(p))
        submit_detail(details, fn->period, "type",
                      "the period must be a string written \"YYYY-YY Qn\"");
    else if (submit_check_period(json_string_value(p), today, fn->period, details) == 0)
        snprintf(doc->period, sizeof doc->period, "%s", json_string_value(p));

    /* notes */
    json_t *n = json_object_get(root, "notes");
    if (n && !json_is_null(n)) {
        if (!json_is_string(n)) {
            submit_detail(details, fn->notes, "type", "notes must be a string");
        } else {
            const char *text = json_string_value(n), *what;
            size_t chars = 0;
            for (const char *c = text; *c; c++)
                chars += ((unsigned char)*c & 0xC0) != 0x80;
            if (chars > SUBMIT_MAX_NOTES)
                submit_detail(details, fn->notes, "too_long",
                              "notes are limited to %d characters (%zu sent)", SUBMIT_MAX_NOTES,
                              chars);
            else if (submit_text_has_personal_data(text, &what))
                submit_detail(details, fn->notes, "personal_data",
                              "the notes contain %s: " AGGREGATE_ONLY
                              "; remove it and send again", what);
            else if (*text && !(doc->notes = strdup(text)))
                return SUBMIT_NOMEM;
        }
    }

    /* withdraw: metric ids this version takes out of force */
    json_t *w = check_top_level ? json_object_get(root, "withdraw") : NULL;
    if (w && !json_is_array(w)) {
        submit_detail(details, "withdraw", "type", "withdraw must be an array of metric ids");
    } else if (w) {
        size_t i;
        json_t *id;
        json_array_foreach(w, i, id) {
            const char *mid = json_is_string(id) ? json_string_value(id) : NULL;
            const struct submit_metric *m = mid ? submit_catalogue_find(cat, mid) : NULL;
            json_t *figs = json_object_get(root, "figures");
            if (i >= SUBMIT_MAX_FIGURES) {
                submit_detail(details, "withdraw", "too_many", "at most %d metrics per submission",
                              SUBMIT_MAX_FIGURES);
                break;
            }
            if (!m || !m->submittable || m->derived)
                submit_detail(details, "withdraw", "unknown_metric",
                              "withdraw lists \"%.60s\", which is not a metric a council submits",
                              mid ? mid : "(not a string)");
            else if (json_is_object(figs) && json_object_get(figs, mid))
                submit_detail(details, "withdraw", "withdrawn_and_sent",
                              "%s is both sent in figures and withdrawn", mid);
            else if (array_has(doc->withdraw, mid))
                submit_detail(details, "withdraw", "duplicate", "%s is withdrawn twice", mid);
            else if (json_array_append_new(doc->withdraw, json_string(mid)) != 0)
                return SUBMIT_NOMEM;
        }
    }

    /* figures */
    json_t *f = json_object_get(root, "figures");
    if (!f && json_array_size(doc->withdraw)) {
        /* only withdrawals */
    } else if (!f) {
        submit_detail(details, "figures", "required",
                      "figures are required: an object of metric id to number");
    } else if (!json_is_object(f)) {
        submit_detail(details, "figures", "type",
                      "figures must be an object of metric id to number");
    } else if (json_object_size(f) == 0 && json_object_size(dup_figures) == 0 &&
               !json_array_size(doc->withdraw)) {
        submit_detail(details, fn->figures_prefix[0] ? "figures" : "body", "required",
                      "at least one figure is required");
    } else if (json_object_size(f) > SUBMIT_MAX_FIGURES) {
        submit_detail(details, "figures", "too_many", "at most %d figures per submission",
                      SUBMIT_MAX_FIGURES);
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(f, key, v) {
            char field[160];
            snprintf(field, sizeof field, "%s%.100s", fn->figures_prefix, key);
            if (submit_key_is_personal(key))
                continue;   /* already reported as personal data */
            const struct submit_metric *m = submit_catalogue_find(cat, key);
            if (!m) {
                const char *near = submit_nearest_metric(cat, key);
                submit_detail(details, field, "unknown_metric",
                              "\"%.60s\" is not a metric id of the catalogue (GET /api/v1/metrics)%s%s%s",
                              key, near ? "; did you mean \"" : "", near ? near : "",
                              near ? "\"?" : "");
                if (near)
                    json_object_set_new(json_array_get(details, json_array_size(details) - 1),
                                        "suggestion", json_string(near));
                continue;
            }
            if (m->derived) {
                submit_detail(details, field, "derived_metric",
                              "%s is computed by sendbench from other figures and cannot be "
                              "submitted", key);
                continue;
            }
            if (!m->submittable) {
                submit_detail(details, field, "not_submittable",
                              "%s is published by the DfE and cannot be submitted", key);
                continue;
            }
            if (in_list(dup_figures, key))
                continue;
            if (check_figure(m, v, field, details)) {
                json_t *num = json_is_real(v) && m->unit == UNIT_COUNT
                                  ? json_integer((json_int_t)json_real_value(v))
                                  : json_copy(v);
                if (!num || json_object_set_new(doc->figures, key, num) != 0)
                    return SUBMIT_NOMEM;
            }
        }
        check_cross_fields(doc->figures, fn, details);
    }
    return json_array_size(details) ? SUBMIT_INVALID : SUBMIT_OK;
}

/* ------------------------------------------------------------------ JSON */

/* Deepest nesting of brackets outside strings (jansson's own limit is
 * 2048; we refuse anything deeper than a submission can be first). */
static int json_depth(const char *s, size_t len)
{
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

/*
 * jansson's JSON_REJECT_DUPLICATES stops at the first repeated key and does
 * not name it; a council needs every repeated key with its path.  So once
 * jansson has accepted the body's syntax (parsed without the flag), this
 * walks the text once more, tracking the object nesting, and decodes each
 * key with jansson to compare keys as JSON strings (escapes included).
 */
struct scan_frame {
    int is_object;
    int expect_key;
    json_t *seen;           /* keys of this object (a set) */
    char name[128];         /* the key under which this container sits */
    char last_key[128];
};

static int scan_duplicates(const char *s, size_t len, json_t *details, json_t *dup_figures)
{
    struct scan_frame st[SUBMIT_MAX_DEPTH + 1];
    int top = -1, rc = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"') {
            size_t start = i;
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            if (top < 0 || !st[top].is_object || !st[top].expect_key)
                continue;
            st[top].expect_key = 0;
            json_error_t e;
            json_t *k = json_loadb(s + start, i - start + 1, JSON_DECODE_ANY, &e);
            if (!json_is_string(k)) {
                json_decref(k);
                continue;
            }
            const char *key = json_string_value(k);
            snprintf(st[top].last_key, sizeof st[top].last_key, "%s", key);
            if (json_object_get(st[top].seen, key)) {
                char path[512] = "";
                for (int d = 1; d <= top; d++) {
                    size_t pl = strlen(path);
                    snprintf(path + pl, sizeof path - pl, "%s%s", pl ? "." : "", st[d].name);
                }
                char field[700];
                snprintf(field, sizeof field, "%s%s%.100s", path, *path ? "." : "", key);
                if (top == 1 && strcmp(st[1].name, "figures") == 0) {
                    if (!in_list(dup_figures, key)) {
                        submit_detail(details, field, "duplicate_metric",
                                      "the same metric twice: %.100s appears more than once in "
                                      "figures", key);
                        json_object_set_new(dup_figures, key, json_true());
                    }
                } else {
                    submit_detail(details, field, "duplicate_field",
                                  "\"%.100s\" appears more than once", key);
                }
            } else if (json_object_set_new(st[top].seen, key, json_true()) != 0) {
                rc = -1;
            }
            json_decref(k);
        } else if (c == '{' || c == '[') {
            if (top + 1 > SUBMIT_MAX_DEPTH)
                break;  /* refused earlier by json_depth */
            top++;
            st[top].is_object = c == '{';
            st[top].expect_key = c == '{';
            st[top].seen = c == '{' ? json_object() : NULL;
            st[top].last_key[0] = '\0';
            if (top == 0)
                st[top].name[0] = '\0';
            else if (st[top - 1].is_object)
                memcpy(st[top].name, st[top - 1].last_key, sizeof st[top].name);
            else
                snprintf(st[top].name, sizeof st[top].name, "[]");
        } else if (c == '}' || c == ']') {
            if (top >= 0) {
                json_decref(st[top].seen);
                top--;
            }
        } else if (c == ',' && top >= 0 && st[top].is_object) {
            st[top].expect_key = 1;
        }
    }
    while (top >= 0)
        json_decref(st[top--].seen);
    return rc;
}

int submit_parse_json(const char *body, size_t len, const struct submit_catalogue *cat,
                      const struct submit_date *today, struct submit_doc *doc, json_t *details)
{
    json_error_t e;
    json_t *root = NULL, *dups = json_object();
    int rc = SUBMIT_NOMEM;
    memset(doc, 0, sizeof *doc);
    if (!dups)
        goto done;
    if (json_depth(body, len) > SUBMIT_MAX_DEPTH) {
        submit_detail(details, "body", "json_depth", "the JSON is nested more than %d levels deep",
                      SUBMIT_MAX_DEPTH);
        rc = SUBMIT_MALFORMED;
        goto done;
    }
    /* JSON_DECODE_ANY: a bare 5 or "text" is JSON, just not an object; it
     * gets the 422 type rule like an array, not a 400 "not JSON". */
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    if (!root && json_error_code(&e) == json_error_duplicate_key) {
        root = json_loadb(body, len, JSON_DECODE_ANY, &e);
        if (root && scan_duplicates(body, len, details, dups) != 0)
            goto done;
    }
    if (!root) {
        submit_detail(details, "body", "json_syntax",
                      "the body is not valid JSON: %s at line %d, column %d", e.text, e.line,
                      e.column);
        rc = SUBMIT_MALFORMED;
        goto done;
    }
    rc = validate_doc(root, cat, today, &json_fields, dups, 1, doc, details);
    if (rc == SUBMIT_OK && json_array_size(details))
        rc = SUBMIT_INVALID;
done:
    json_decref(root);
    json_decref(dups);
    return rc;
}

/* ------------------------------------------------------------------- CSV */

/* Rows collected by libcsv's callbacks: an array of arrays of strings. */
struct csv_rows {
    json_t *rows;
    json_t *row;            /* the row being built */
    int bad_utf8;
    int nomem;
    int too_wide;           /* a row had more than SUBMIT_MAX_CSV_COLUMNS cells */
};

static void csv_on_field(void *data, size_t len, void *arg)
{
    struct csv_rows *cr = arg;
    if (!cr->row && !(cr->row = json_array())) {
        cr->nomem = 1;
        return;
    }
    /* A row wider than any submission can be is counted, not kept: a
     * megabyte of commas would otherwise become half a million strings. */
    if (json_array_size(cr->row) >= SUBMIT_MAX_CSV_COLUMNS) {
        cr->too_wide = 1;
        return;
    }
    /* A NUL byte is not text: jansson would keep it, but every later step
     * reads C strings, so "3150\0999" would silently become 3150. */
    json_t *s = data && memchr(data, '\0', len) ? NULL
                                               : json_stringn(data ? (const char *)data : "",
                                                              data ? len : 0);
    if (!s) {
        cr->bad_utf8 = 1;
        s = json_string("");
    }
    if (!s || json_array_append_new(cr->row, s) != 0)
        cr->nomem = 1;
}

static void csv_on_row(int term, void *arg)
{
    (void)term;
    struct csv_rows *cr = arg;
    if (!cr->row)
        return;
    /* A row of nothing but empty cells (",,,,") is a blank line too. */
    int blank = 1;
    size_t i;
    json_t *v;
    json_array_foreach(cr->row, i, v)
        if (json_string_length(v))
            blank = 0;
    if (blank)
        json_decref(cr->row);
    else if (json_array_append_new(cr->rows, cr->row) != 0)
        cr->nomem = 1;
    cr->row = NULL;
}

/* Trims ASCII white space in place; returns s. */
static char *trim(char *s)
{
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* Columns of the DfE tidy layout that describe the row, not a figure. */
static const char *const info_columns[] = {
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name",
    "region_code", "region_name", "new_la_code", "old_la_code", "la_name", "notes", NULL,
};

static int is_info_column(const char *name)
{
    for (const char *const *c = info_columns; *c; c++)
        if (strcmp(name, *c) == 0)
            return 1;
    return 0;
}

/* A cell as a number: plain decimal notation only (no thousands separators,
 * no currency signs, no DfE symbols).  Returns a new reference or NULL. */
static json_t *csv_number(const char *cell)
{
    const char *c = cell;
    if (*c == '-' || *c == '+')
        c++;
    if (!isdigit((unsigned char)*c) && !(*c == '.' && isdigit((unsigned char)c[1])))
        return NULL;
    errno = 0;
    char *end = NULL;
    double x = strtod(cell, &end);
    if (errno || !end || *end || !isfinite(x))
        return NULL;
    if (!strpbrk(cell, ".eE")) {
        long long i = strtoll(cell, &end, 10);
        if (errno == 0 && !*end)
            return json_integer((json_int_t)i);
    }
    return json_real(x);
}

/* Builds {authority, period, figures, notes} from a header and one row. */
static int csv_build(const json_t *header, const json_t *row, json_t *root, json_t *figures,
                     json_t *dups, json_t *details)
{
    size_t ncols = json_array_size(header);
    char period[64] = "", ident[64] = "";
    for (size_t i = 0; i < ncols; i++) {
        char name[128], cellbuf[4096];
        snprintf(name, sizeof name, "%s", json_string_value(json_array_get(header, i)));
        const char *col = trim(name);
        json_t *cv = json_array_get(row, i);
        snprintf(cellbuf, sizeof cellbuf, "%s", cv ? json_string_value(cv) : "");
        char *cell = trim(cellbuf);
        if (!*col) {
            if (*cell)
                submit_detail(details, "header", "csv_header",
                              "column %zu has a value but no name in the header row", i + 1);
            continue;
        }
        if (strcmp(col, "time_period") == 0) {
            snprintf(period, sizeof period, "%s", cell);
        } else if (strcmp(col, "time_identifier") == 0) {
            snprintf(ident, sizeof ident, "%s", cell);
        } else if (strcmp(col, "new_la_code") == 0) {
            if (json_object_set_new(root, "authority", json_string(cell)) != 0)
                return -1;
        } else if (strcmp(col, "notes") == 0) {
            if (*cell && json_object_set_new(root, "notes", json_string(cell)) != 0)
                return -1;
        } else if (strcmp(col, "geographic_level") == 0) {
            if (*cell && strcasecmp(cell, "Local authority") != 0)
                submit_detail(details, "geographic_level", "geographic_level",
                              "geographic_level must be \"Local authority\" (\"%.40s\" sent)",
                              cell);
        } else if (is_info_column(col)) {
            /* descriptive: kept in the council's file, not checked */
        } else if (in_list(dups, col)) {
            /* reported once below */
        } else if (*cell) {
            /* A metric column; an empty cell is a figure not sent. */
            json_t *num = csv_number(cell);
            if (num) {
                if (json_object_set_new(figures, col, num) != 0)
                    return -1;
            } else if (submit_key_is_personal(col)) {
                if (json_object_set_new(figures, col, json_string(cell)) != 0)
                    return -1;  /* reported as personal data by validate_doc */
            } else {
                submit_detail(details, col, "type",
                              "\"%.40s\" is not a number: write plain digits (no thousands "
                              "separators, currency signs or symbols such as c, x, z); leave "
                              "the cell empty for a figure you do not have", cell);
            }
        }
    }
    /* time_period: "2024-25 Q2", or the DfE's six digits "202425" with
     * time_identifier "Financial year Q2". */
    char built[64] = "";
    int q_ident = 0;
    if (strncasecmp(ident, "Financial year Q", 16) == 0 && ident[16] >= '1' && ident[16] <= '4' &&
        ident[17] == '\0')
        q_ident = ident[16] - '0';
    else if (*ident)
        submit_detail(details, "time_identifier", "time_identifier",
                      "time_identifier must be \"Financial year Q1\" .. \"Financial year Q4\" "
                      "(\"%.40s\" sent)", ident);
    int six = strlen(period) == 6;
    for (int i = 0; six && i < 6; i++)
        six = isdigit((unsigned char)period[i]);
    struct period pq;
    if (six) {
        /* A six-digit year pair that period.h cannot read is rebuilt as
         * written, so that submit_check_period names what is wrong. */
        if (q_ident && period_from_dfe(period, PERIOD_FY_QUARTER, q_ident, &pq) == 0)
            period_format(&pq, built, sizeof built);
        else if (q_ident)
            snprintf(built, sizeof built, "%.4s-%.2s Q%d", period, period + 4, q_ident);
        else if (!*ident)
            submit_detail(details, "time_identifier", "required",
                          "a six-digit time_period needs time_identifier \"Financial year Qn\"");
        if (!q_ident)
            snprintf(built, sizeof built, "%s", period);
    } else {
        snprintf(built, sizeof built, "%s", period);
        if (q_ident && strlen(period) == 10 && period[9] - '0' != q_ident)
            submit_detail(details, "time_identifier", "time_identifier",
                          "time_identifier says Q%d but time_period says %s", q_ident, period);
    }
    if (*built && json_object_set_new(root, "period", json_string(built)) != 0)
        return -1;
    return 0;
}

int submit_parse_csv(const char *body, size_t len, const struct submit_catalogue *cat,
                     const struct submit_date *today, struct submit_doc *doc, json_t *details)
{
    struct csv_parser p;
    struct csv_rows cr = {0};
    json_t *root = NULL, *figures = NULL, *dups = NULL;
    int rc = SUBMIT_NOMEM, parser_ok = 0;
    memset(doc, 0, sizeof *doc);

    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {   /* UTF-8 byte-order mark */
        body += 3;
        len -= 3;
    }
    if (!(cr.rows = json_array()) || !(dups = json_object()))
        goto done;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        goto done;
    parser_ok = 1;
    /* libcsv grows its cell buffer by blk_size bytes at a time (128 by
     * default): a one-megabyte cell cost 8000 reallocations, quadratic
     * copying on the event loop.  Grow by 64 KiB instead. */
    csv_set_blk_size(&p, 64 * 1024);
    if (csv_parse(&p, body, len, csv_on_field, csv_on_row, &cr) != len ||
        csv_fini(&p, csv_on_field, csv_on_row, &cr) != 0) {
        submit_detail(details, "body", "csv_syntax", "the body is not valid CSV: %s",
                      csv_strerror(csv_error(&p)));
        rc = SUBMIT_MALFORMED;
        goto done;
    }
    if (cr.nomem)
        goto done;
    if (cr.bad_utf8) {
        submit_detail(details, "body", "encoding", "the CSV must be UTF-8 text");
        rc = SUBMIT_MALFORMED;
        goto done;
    }
    if (cr.too_wide) {
        submit_detail(details, "body", "csv_columns",
                      "a row has more than %d columns: a submission has at most %d figures and "
                      "the descriptive columns", SUBMIT_MAX_CSV_COLUMNS, SUBMIT_MAX_FIGURES);
        rc = SUBMIT_INVALID;
        goto done;
    }
    size_t nrows = json_array_size(cr.rows);
    if (nrows < 2) {
        submit_detail(details, "body", "csv_rows",
                      "the CSV needs a header row and one data row (%zu row%s found)", nrows,
                      nrows == 1 ? "" : "s");
        rc = SUBMIT_INVALID;
        goto done;
    }
    if (nrows > 2) {
        submit_detail(details, "body", "csv_rows",
                      "one submission is one authority and one quarter: exactly one data row "
                      "is accepted (%zu found)", nrows - 1);
        rc = SUBMIT_INVALID;
        goto done;
    }
    json_t *header = json_array_get(cr.rows, 0), *row = json_array_get(cr.rows, 1);
    if (json_array_size(row) > json_array_size(header))
        submit_detail(details, "body", "csv_columns",
                      "the data row has %zu cells but the header has %zu columns",
                      json_array_size(row), json_array_size(header));
    /* Repeated header names. */
    for (size_t i = 0; i < json_array_size(header); i++) {
        char a[128];
        snprintf(a, sizeof a, "%s", json_string_value(json_array_get(header, i)));
        const char *ta = trim(a);
        for (size_t j = 0; j < i && *ta; j++) {
            char b[128];
            snprintf(b, sizeof b, "%s", json_string_value(json_array_get(header, j)));
            if (strcmp(ta, trim(b)) != 0 || in_list(dups, ta))
                continue;
            if (is_info_column(ta))
                submit_detail(details, ta, "duplicate_field", "column %s appears more than once",
                              ta);
            else
                submit_detail(details, ta, "duplicate_metric",
                              "the same metric twice: column %s appears more than once", ta);
            json_object_set_new(dups, ta, json_true());
        }
    }
    if (!(root = json_object()) || !(figures = json_object()) ||
        json_object_set(root, "figures", figures) != 0)
        goto done;
    if (csv_build(header, row, root, figures, dups, details) != 0)
        goto done;
    rc = validate_doc(root, cat, today, &csv_fields, dups, 0, doc, details);
    if (rc == SUBMIT_OK && json_array_size(details))
        rc = SUBMIT_INVALID;
done:
    if (parser_ok)
        csv_free(&p);
    json_decref(cr.row);
    json_decref(cr.rows);
    json_decref(root);
    json_decref(figures);
    json_decref(dups);
    return rc;
}
