/* Periods: parse, format, step, order (see include/period.h). */
#include "period.h"

#include <stdio.h>
#include <string.h>

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

bool period_year_ok(int year)
{
    return year >= PERIOD_MIN_YEAR && year <= PERIOD_MAX_YEAR;
}

enum period_status period_parse_status(const char *s, struct period *out)
{
    if (!s)
        return PERIOD_BAD_FORM;
    size_t len = strlen(s);
    if (len != 4 && len != 7 && len != 10)
        return PERIOD_BAD_FORM;
    if (!digits(s, 4))
        return PERIOD_BAD_FORM;
    struct period p = {PERIOD_YEAR, num(s, 4), 0};
    if (len >= 7) {
        if (s[4] != '-' || !digits(s + 5, 2))
            return PERIOD_BAD_FORM;
        p.kind = PERIOD_FY;
    }
    if (len == 10) {
        if (s[7] != ' ' || s[8] != 'Q' || s[9] < '1' || s[9] > '4')
            return PERIOD_BAD_FORM;
        p.kind = PERIOD_QUARTER;
        p.quarter = s[9] - '0';
    }
    *out = p;
    if (len >= 7 && num(s + 5, 2) != (p.year + 1) % 100)
        return PERIOD_BAD_YEARS;
    if (!period_year_ok(p.year))
        return PERIOD_OUT_OF_RANGE;
    return PERIOD_OK;
}

int period_parse(const char *s, struct period *out)
{
    struct period p;
    if (period_parse_status(s, &p) != PERIOD_OK)
        return -1;
    *out = p;
    return 0;
}

void period_format(const struct period *p, char *buf, size_t len)
{
    switch (p->kind) {
    case PERIOD_YEAR:
        snprintf(buf, len, "%04d", p->year);
        break;
    case PERIOD_FY:
        snprintf(buf, len, "%04d-%02d", p->year, (p->year + 1) % 100);
        break;
    case PERIOD_QUARTER:
        snprintf(buf, len, "%04d-%02d Q%d", p->year, (p->year + 1) % 100, p->quarter);
        break;
    }
}

struct period period_previous(const struct period *p)
{
    struct period q = *p;
    if (p->kind != PERIOD_QUARTER) {
        q.year--;
    } else if (p->quarter > 1) {
        q.quarter--;
    } else {
        q.quarter = 4;
        q.year--;
    }
    return q;
}

struct period period_next(const struct period *p)
{
    struct period q = *p;
    if (p->kind != PERIOD_QUARTER) {
        q.year++;
    } else if (p->quarter < 4) {
        q.quarter++;
    } else {
        q.quarter = 1;
        q.year++;
    }
    return q;
}

struct period period_year_earlier(const struct period *p)
{
    struct period q = *p;
    q.year--;
    return q;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

struct period_date period_first_day(const struct period *p)
{
    switch (p->kind) {
    case PERIOD_FY:
        return (struct period_date){p->year, 4, 1};
    case PERIOD_QUARTER:
        /* Q1 April, Q2 July, Q3 October, Q4 January of the next year. */
        if (p->quarter == 4)
            return (struct period_date){p->year + 1, 1, 1};
        return (struct period_date){p->year, 4 + 3 * (p->quarter - 1), 1};
    case PERIOD_YEAR:
        break;
    }
    return (struct period_date){p->year, 1, 1};
}

struct period_date period_last_day(const struct period *p)
{
    switch (p->kind) {
    case PERIOD_FY:
        return (struct period_date){p->year + 1, 3, 31};
    case PERIOD_QUARTER: {
        /* Q1 June, Q2 September, Q3 December of the year; Q4 March of the next. */
        int m = p->quarter == 4 ? 3 : 3 + 3 * p->quarter, y = p->quarter == 4 ? p->year + 1 : p->year;
        return (struct period_date){y, m, days_in_month(y, m)};
    }
    case PERIOD_YEAR:
        break;
    }
    return (struct period_date){p->year, 12, 31};
}

int period_date_cmp(const struct period_date *a, const struct period_date *b)
{
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->month != b->month)
        return a->month < b->month ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return 0;
}

int period_cmp(const struct period *a, const struct period *b)
{
    struct period_date da = period_first_day(a), db = period_first_day(b);
    int c = period_date_cmp(&da, &db);
    if (c != 0)
        return c;
    return (a->kind > b->kind) - (a->kind < b->kind);
}

static void date_format(const struct period_date *d, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d-%02d", d->year, d->month, d->day);
}

void period_start_date(const struct period *p, char *buf, size_t len)
{
    struct period_date d = period_first_day(p);
    date_format(&d, buf, len);
}

int period_base(const struct period *p, const char *base, struct period *out)
{
    struct period b;
    if (!base || period_parse(base, &b) != 0)
        return -1;
    if (b.kind == PERIOD_YEAR && p->kind != PERIOD_YEAR) {
        /* A bare year names the financial year (or its same quarter) that
         * starts in it. */
        b.kind = p->kind;
        b.quarter = p->quarter;
    }
    if (b.kind != p->kind || period_cmp(&b, p) >= 0)
        return -1;
    *out = b;
    return 0;
}

/* ---- bases and the DfE's spellings ---- */

static const char *const basis_names[] = {
    [PERIOD_CENSUS_YEAR] = "census_year",
    [PERIOD_CALENDAR_YEAR] = "calendar_year",
    [PERIOD_FINANCIAL_YEAR] = "financial_year",
    [PERIOD_FY_QUARTER] = "fy_quarter",
};

const char *period_basis_name(enum period_basis b)
{
    return (unsigned)b < sizeof basis_names / sizeof basis_names[0] ? basis_names[b] : "?";
}

int period_basis_parse(const char *name, enum period_basis *out)
{
    for (size_t i = 0; name && i < sizeof basis_names / sizeof basis_names[0]; i++)
        if (strcmp(name, basis_names[i]) == 0) {
            *out = (enum period_basis)i;
            return 0;
        }
    return -1;
}

bool period_fits(const struct period *p, enum period_basis annual)
{
    if (p->kind == PERIOD_QUARTER)
        return true;
    if (annual == PERIOD_FINANCIAL_YEAR)
        return p->kind == PERIOD_FY;
    return annual != PERIOD_FY_QUARTER && p->kind == PERIOD_YEAR;
}

enum period_basis period_basis_of(const struct period *p, enum period_basis annual)
{
    return p->kind == PERIOD_QUARTER ? PERIOD_FY_QUARTER : annual;
}

/* Sakamoto's day of the week: 0 = Sunday. */
static int weekday(int y, int m, int d)
{
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (m < 3)
        y -= 1;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

struct period_date period_census_day(int year)
{
    int first_thursday = 1 + (4 - weekday(year, 1, 1) + 7) % 7;
    return (struct period_date){year, 1, first_thursday + 14};
}

void period_basis_start(const struct period *p, enum period_basis b, char *buf, size_t len)
{
    if (b == PERIOD_CENSUS_YEAR && p->kind == PERIOD_YEAR) {
        struct period_date d = period_census_day(p->year);
        date_format(&d, buf, len);
    } else {
        period_start_date(p, buf, len);
    }
}

/* "YYYYZZ" or "YYYY-ZZ" where ZZ is the next year: 0 and the first year,
 * or -1. */
static int parse_span(const char *s, int *year)
{
    size_t len = strlen(s);
    const char *zz;
    if (len == 6)
        zz = s + 4;
    else if (len == 7 && s[4] == '-')
        zz = s + 5;
    else
        return -1;
    if (!digits(s, 4) || !digits(zz, 2) || num(zz, 2) != (num(s, 4) + 1) % 100)
        return -1;
    *year = num(s, 4);
    return 0;
}

int period_from_dfe(const char *tp, enum period_basis b, int quarter, struct period *out)
{
    if (!tp)
        return -1;
    size_t len = strlen(tp);
    struct period p = {PERIOD_YEAR, 0, 0};
    switch (b) {
    case PERIOD_CENSUS_YEAR:
        if (len == 4 && digits(tp, 4))
            p.year = num(tp, 4);
        else if (parse_span(tp, &p.year) == 0)
            p.year++;
        else
            return -1;
        break;
    case PERIOD_CALENDAR_YEAR:
        if (len != 4 || !digits(tp, 4))
            return -1;
        p.year = num(tp, 4);
        break;
    case PERIOD_FINANCIAL_YEAR:
        if (parse_span(tp, &p.year) != 0)
            return -1;
        p.kind = PERIOD_FY;
        break;
    case PERIOD_FY_QUARTER:
        if (quarter == 0)
            return period_parse(tp, out) == 0 && out->kind == PERIOD_QUARTER ? 0 : -1;
        if (quarter < 1 || quarter > 4 || len != 6 || parse_span(tp, &p.year) != 0)
            return -1;
        p.kind = PERIOD_QUARTER;
        p.quarter = quarter;
        break;
    default:
        return -1;
    }
    if (!period_year_ok(p.year))
        return -1;
    *out = p;
    return 0;
}

void period_tidy(const struct period *p, char *time_period, size_t len,
                 const char **time_identifier)
{
    static const char *const quarters[] = {"Financial year Q1", "Financial year Q2",
                                           "Financial year Q3", "Financial year Q4"};
    switch (p->kind) {
    case PERIOD_YEAR:
        snprintf(time_period, len, "%04d", p->year);
        *time_identifier = "Calendar year";
        break;
    case PERIOD_FY:
        snprintf(time_period, len, "%04d%02d", p->year, (p->year + 1) % 100);
        *time_identifier = "Financial year";
        break;
    case PERIOD_QUARTER:
        snprintf(time_period, len, "%04d%02d", p->year, (p->year + 1) % 100);
        *time_identifier = quarters[p->quarter - 1];
        break;
    }
}
