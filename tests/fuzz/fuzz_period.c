/* libFuzzer: period parsing -- the tables' period_parse/period_base/
 * period_tidy (server/tables.c), the importer's import_period_parse
 * (server/import_parse.c) and the submission's submit_check_period
 * (server/submit.c).  Invariants: a parsed period formats back to the same
 * string, previous/year-earlier periods parse again, and the two parsers
 * of quarters agree with submit_check_period on form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import_parse.h"
#include "submit.h"
#include "tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct period *p)
{
    /* The period before the first accepted year (1899 from 1900) is out of
     * range by definition: nothing to parse back. */
    if (p->year < PERIOD_MIN_YEAR)
        return;
    char buf[PERIOD_MAX], again[PERIOD_MAX];
    period_format(p, buf, sizeof buf);
    struct period q;
    if (period_parse(buf, &q) != 0)
        abort();
    period_format(&q, again, sizeof again);
    if (strcmp(buf, again) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char s[257];
    memcpy(s, data, size);
    s[size] = '\0';
    /* Split at the first '|' so that period_base gets two strings. */
    char *base = strchr(s, '|');
    if (base)
        *base++ = '\0';

    struct period p;
    if (period_parse(s, &p) == 0) {
        char buf[PERIOD_MAX];
        period_format(&p, buf, sizeof buf);
        if (strcmp(buf, s) != 0)
            abort();    /* strict: only canonical spellings parse */
        struct period prev = period_previous(&p), ye = period_year_earlier(&p);
        roundtrip(&prev);
        roundtrip(&ye);
        char start[16], tp[16];
        period_start_date(&p, start, sizeof start);
        const char *ti = NULL;
        period_tidy(&p, tp, sizeof tp, &ti);
        if (!ti)
            abort();
        struct period b;
        if (base && period_base(&p, base, &b) == 0) {
            roundtrip(&b);
            if (b.kind != p.kind)
                abort();
        }
    }

    static const enum import_period_kind kinds[] = {
        IMPORT_PERIOD_CENSUS_YEAR, IMPORT_PERIOD_CALENDAR_YEAR, IMPORT_PERIOD_FINANCIAL_YEAR};
    for (size_t i = 0; i < 3; i++) {
        char period[16], start[16];
        if (import_period_parse(s, kinds[i], period, start) == 0) {
            if (strlen(start) != 10 || period_parse(period, &p) != 0)
                abort();
        }
    }

    json_t *details = json_array();
    if (!details)
        return 0;
    static const struct submit_date today = {2025, 6, 15};
    int rc = submit_check_period(s, &today, "period", details);
    if (rc == 0) {
        /* Valid for submissions: a quarter that the tables parse too. */
        if (json_array_size(details) != 0 || period_parse(s, &p) != 0 || p.kind != PERIOD_QUARTER)
            abort();
    } else if (json_array_size(details) != 1) {
        abort();
    }
    json_decref(details);
    return 0;
}
