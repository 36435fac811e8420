/*
 * Submission validation: pure functions over a body, a catalogue and a date
 * (see include/submit.h; the rules are documented in docs/submissions.md).
 */
#include "submit.h"
#include "submit_doc.h"

#include "codes.h"
#include "hn_projection.h"
#include "period.h"
#include "utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds beyond which a figure cannot be a real authority's. */
#define MAX_COUNT 10000000.0        /* ten million of anything countable */
#define MAX_MONEY 1e10              /* £10bn */
#define MAX_FTE 2000.0              /* the largest SEND teams are ~100 FTE */
#define MAX_RATIO 1e6
/* A cost per placement (cost_per_placement_*_gbp, sql/191) is for one
 * child for a year: never £0 or less, and no placement costs over £1m
 * (HN_MAX_PLACEMENT_COST_GBP, the High Needs plan's bound too). */
#define COST_PER_PLACEMENT_PREFIX "cost_per_placement_"
#define MAX_PLACEMENT_COST ((double)HN_MAX_PLACEMENT_COST_GBP)

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

/* ------------------------------------------------------- the core checks */

/* Field names differ between JSON (dotted paths) and CSV (column names). */
static const struct field_names json_fields = {"authority", "period", "figures.", "notes"};

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
        if (strncmp(m->id, COST_PER_PLACEMENT_PREFIX, strlen(COST_PER_PLACEMENT_PREFIX)) == 0 &&
            (x <= 0 || x > MAX_PLACEMENT_COST)) {
            submit_detail(details, field, "cost_per_placement_range",
                          "%s = %.0f: a cost per placement is pounds for one child for a year, "
                          "more than £0 and at most £%.0f", m->id, x, MAX_PLACEMENT_COST);
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
int submit_in_list(const json_t *set, const char *key)
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

int submit_validate_doc(const json_t *root, const struct submit_catalogue *cat,
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
        submit_check_personal_keys(root, "", 0, details);
    else if (json_is_object(json_object_get(root, "figures")))
        submit_check_personal_keys(json_object_get(root, "figures"), "", 0, details);

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
            if (submit_in_list(dup_figures, key))
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
                    if (!submit_in_list(dup_figures, key)) {
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
    rc = submit_validate_doc(root, cat, today, &json_fields, dups, 1, doc, details);
    if (rc == SUBMIT_OK && json_array_size(details))
        rc = SUBMIT_INVALID;
done:
    json_decref(root);
    json_decref(dups);
    return rc;
}
