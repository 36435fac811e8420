/* libFuzzer: the period module (include/period.h) and its callers.
 * Invariants: only canonical spellings parse and they format back to the
 * same string; every step (previous, next, year earlier, a base) formats to
 * a string that parses again when in range and orders as expected; next
 * undoes previous; every DfE reading formats to a period that parses; the
 * importers' wrapper agrees with period_from_dfe; a period submissions
 * accept is a quarter that period_parse accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import_parse.h"
#include "period.h"
#include "submit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct period *p)
{
    /* A step out of the accepted range (1899 from 1900) has nothing to
     * parse back, by definition. */
    if (!period_year_ok(p->year))
        return;
    char buf[PERIOD_MAX], again[PERIOD_MAX];
    period_format(p, buf, sizeof buf);
    struct period q;
    if (period_parse(buf, &q) != 0 || period_cmp(p, &q) != 0)
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
    enum period_status st = period_parse_status(s, &p);
    if ((st == PERIOD_OK) != (period_parse(s, &p) == 0))
        abort();
    if (st == PERIOD_OK) {
        char buf[PERIOD_MAX];
        period_format(&p, buf, sizeof buf);
        if (strcmp(buf, s) != 0)
            abort();    /* strict: only canonical spellings parse */
        struct period prev = period_previous(&p), next = period_next(&p),
                      ye = period_year_earlier(&p);
        roundtrip(&prev);
        roundtrip(&next);
        roundtrip(&ye);
        struct period back = period_previous(&next);
        if (period_cmp(&prev, &p) >= 0 || period_cmp(&next, &p) <= 0 ||
            period_cmp(&ye, &p) >= 0 || period_cmp(&back, &p) != 0)
            abort();
        struct period_date first = period_first_day(&p), last = period_last_day(&p);
        if (period_date_cmp(&first, &last) >= 0)
            abort();
        char start[PERIOD_DATE_MAX], tp[16];
        period_start_date(&p, start, sizeof start);
        if (strlen(start) != 10)
            abort();
        const char *ti = NULL;
        period_tidy(&p, tp, sizeof tp, &ti);
        if (!ti)
            abort();
        struct period b;
        if (base && period_base(&p, base, &b) == 0) {
            roundtrip(&b);
            if (b.kind != p.kind || period_cmp(&b, &p) >= 0)
                abort();
        }
    }

    for (int b = PERIOD_CENSUS_YEAR; b <= PERIOD_FY_QUARTER; b++) {
        for (int q = 0; q <= (b == PERIOD_FY_QUARTER ? 4 : 0); q++) {
            struct period d;
            if (period_from_dfe(s, (enum period_basis)b, q, &d) != 0)
                continue;
            if (!period_year_ok(d.year))
                abort();
            roundtrip(&d);
            char start[PERIOD_DATE_MAX];
            period_basis_start(&d, (enum period_basis)b, start, sizeof start);
            if (strlen(start) != 10)
                abort();
            if (b != PERIOD_FY_QUARTER) {
                char period[16], start2[16], want[PERIOD_MAX];
                if (import_period_parse(s, (enum import_period_kind)b, period, start2) != 0)
                    abort();
                period_format(&d, want, sizeof want);
                if (strcmp(period, want) != 0 || strcmp(start, start2) != 0)
                    abort();
            }
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
