/* The period module (include/period.h): parse, format, steps, order,
 * bases, the DfE's spellings, the accepted range.  Table-driven. */
#include "period.h"

#include <string.h>

#include "unit.h"

static void test_periods(void)
{
    static const struct {
        const char *in;
        int ok;
        const char *prev, *year, *start, *tidy_period, *tidy_id;
    } cases[] = {
        {"2022", 1, "2021", "2021", "2022-01-01", "2022", "Calendar year"},
        {"2021-22", 1, "2020-21", "2020-21", "2021-04-01", "202122", "Financial year"},
        {"1999-00", 1, "1998-99", "1998-99", "1999-04-01", "199900", "Financial year"},
        {"2024-25 Q2", 1, "2024-25 Q1", "2023-24 Q2", "2024-07-01", "202425", "Financial year Q2"},
        {"2024-25 Q1", 1, "2023-24 Q4", "2023-24 Q1", "2024-04-01", "202425", "Financial year Q1"},
        {"2024-25 Q4", 1, "2024-25 Q3", "2023-24 Q4", "2025-01-01", "202425", "Financial year Q4"},
        {"2021-23", 0, 0, 0, 0, 0, 0},
        {"2021-22 Q5", 0, 0, 0, 0, 0, 0},
        {"2021-22Q1", 0, 0, 0, 0, 0, 0},
        {"202", 0, 0, 0, 0, 0, 0},
        {"20x2", 0, 0, 0, 0, 0, 0},
        {"2022 ", 0, 0, 0, 0, 0, 0},
        {"", 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct period p;
        int rc = period_parse(cases[i].in, &p);
        CHECK((rc == 0) == cases[i].ok);
        if (rc != 0)
            continue;
        char buf[PERIOD_MAX], tp[16];
        const char *tid = NULL;
        period_format(&p, buf, sizeof buf);
        CHECK_STR(buf, cases[i].in);
        struct period q = period_previous(&p);
        period_format(&q, buf, sizeof buf);
        CHECK_STR(buf, cases[i].prev);
        q = period_year_earlier(&p);
        period_format(&q, buf, sizeof buf);
        CHECK_STR(buf, cases[i].year);
        period_start_date(&p, buf, sizeof buf);
        CHECK_STR(buf, cases[i].start);
        period_tidy(&p, tp, sizeof tp, &tid);
        CHECK_STR(tp, cases[i].tidy_period);
        CHECK_STR(tid, cases[i].tidy_id);
    }
    CHECK(period_parse(NULL, &(struct period){0}) != 0);
}

static void test_period_base(void)
{
    static const struct {
        const char *period, *base, *want;   /* want NULL: rejected */
    } cases[] = {
        {"2022", "2015", "2015"},
        {"2021-22", "2015", "2015-16"},
        {"2021-22", "2015-16", "2015-16"},
        {"2024-25 Q2", "2019", "2019-20 Q2"},
        {"2024-25 Q2", "2024-25 Q1", "2024-25 Q1"},
        {"2022", "2022", NULL},
        {"2022", "2023", NULL},
        {"2022", "2015-16", NULL},
        {"2021-22", "2015-16 Q1", NULL},
        {"2022", "abc", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct period p, b;
        CHECK(period_parse(cases[i].period, &p) == 0);
        int rc = period_base(&p, cases[i].base, &b);
        if (!cases[i].want) {
            CHECK(rc != 0);
            continue;
        }
        CHECK(rc == 0);
        char buf[PERIOD_MAX];
        period_format(&b, buf, sizeof buf);
        CHECK_STR(buf, cases[i].want);
    }
}

static void test_parse_status(void)
{
    static const struct {
        const char *in;
        enum period_status want;
        int year;       /* the year read when the form is right */
    } cases[] = {
        {"2022", PERIOD_OK, 2022},
        {"2024-25 Q2", PERIOD_OK, 2024},
        {"1900", PERIOD_OK, 1900},
        {"2200-01", PERIOD_OK, 2200},
        {"1899", PERIOD_OUT_OF_RANGE, 1899},
        {"2201", PERIOD_OUT_OF_RANGE, 2201},
        {"0000-01 Q1", PERIOD_OUT_OF_RANGE, 0},
        {"2024-26 Q1", PERIOD_BAD_YEARS, 2024},
        {"1899-01", PERIOD_BAD_YEARS, 1899},
        {"2024-25 Q0", PERIOD_BAD_FORM, 0},
        {"2024/25", PERIOD_BAD_FORM, 0},
        {"202425", PERIOD_BAD_FORM, 0},
        {"2024-25 q2", PERIOD_BAD_FORM, 0},
        {" 2024", PERIOD_BAD_FORM, 0},
        {"2024-25 Q2 ", PERIOD_BAD_FORM, 0},
        {"", PERIOD_BAD_FORM, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct period p = {PERIOD_YEAR, -1, 0};
        enum period_status st = period_parse_status(cases[i].in, &p);
        CHECK(st == cases[i].want);
        if (st != PERIOD_BAD_FORM)
            CHECK(p.year == cases[i].year);
        CHECK((period_parse(cases[i].in, &p) == 0) == (cases[i].want == PERIOD_OK));
    }
    struct period p;
    CHECK(period_parse_status(NULL, &p) == PERIOD_BAD_FORM);
    CHECK(period_year_ok(PERIOD_MIN_YEAR) && period_year_ok(PERIOD_MAX_YEAR));
    CHECK(!period_year_ok(PERIOD_MIN_YEAR - 1) && !period_year_ok(PERIOD_MAX_YEAR + 1));
}

static void test_next_is_inverse_of_previous(void)
{
    static const struct {
        const char *in, *next;
    } cases[] = {
        {"2022", "2023"},
        {"2021-22", "2022-23"},
        {"1999-00", "2000-01"},
        {"2024-25 Q1", "2024-25 Q2"},
        {"2024-25 Q4", "2025-26 Q1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct period p, n, back;
        char buf[PERIOD_MAX];
        CHECK(period_parse(cases[i].in, &p) == 0);
        n = period_next(&p);
        period_format(&n, buf, sizeof buf);
        CHECK_STR(buf, cases[i].next);
        back = period_previous(&n);
        CHECK(period_cmp(&back, &p) == 0);
        CHECK(period_cmp(&p, &n) < 0 && period_cmp(&n, &p) > 0);
    }
}

static void test_order(void)
{
    /* Sorted on the time line: first day, then year < FY < quarter. */
    static const char *const sorted[] = {
        "2023", "2023-24", "2023-24 Q1", "2023-24 Q2", "2023-24 Q3",
        "2024", "2023-24 Q4", "2024-25", "2024-25 Q1",
    };
    size_t n = sizeof sorted / sizeof sorted[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            struct period a, b;
            CHECK(period_parse(sorted[i], &a) == 0 && period_parse(sorted[j], &b) == 0);
            int c = period_cmp(&a, &b);
            CHECK(i < j ? c < 0 : i > j ? c > 0 : c == 0);
        }
}

static void test_days(void)
{
    static const struct {
        const char *in;
        struct period_date first, last;
    } cases[] = {
        {"2022", {2022, 1, 1}, {2022, 12, 31}},
        {"2021-22", {2021, 4, 1}, {2022, 3, 31}},
        {"2024-25 Q1", {2024, 4, 1}, {2024, 6, 30}},
        {"2024-25 Q2", {2024, 7, 1}, {2024, 9, 30}},
        {"2024-25 Q3", {2024, 10, 1}, {2024, 12, 31}},
        {"2023-24 Q4", {2024, 1, 1}, {2024, 3, 31}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct period p;
        CHECK(period_parse(cases[i].in, &p) == 0);
        struct period_date f = period_first_day(&p), l = period_last_day(&p);
        CHECK(period_date_cmp(&f, &cases[i].first) == 0);
        CHECK(period_date_cmp(&l, &cases[i].last) == 0);
        CHECK(period_date_cmp(&f, &l) < 0);
    }
}

static void test_bases(void)
{
    static const char *const names[] = {"census_year", "calendar_year", "financial_year",
                                        "fy_quarter"};
    for (int b = PERIOD_CENSUS_YEAR; b <= PERIOD_FY_QUARTER; b++) {
        enum period_basis got;
        CHECK_STR(period_basis_name((enum period_basis)b), names[b]);
        CHECK(period_basis_parse(names[b], &got) == 0 && (int)got == b);
    }
    enum period_basis got;
    CHECK(period_basis_parse("quarter", &got) != 0);
    CHECK(period_basis_parse(NULL, &got) != 0);

    static const struct {
        const char *period;
        enum period_basis annual;
        int fits;
        const char *basis, *start;
    } cases[] = {
        {"2022", PERIOD_CENSUS_YEAR, 1, "census_year", "2022-01-20"},
        {"2022", PERIOD_CALENDAR_YEAR, 1, "calendar_year", "2022-01-01"},
        {"2022", PERIOD_FINANCIAL_YEAR, 0, "financial_year", "2022-01-01"},
        {"2021-22", PERIOD_FINANCIAL_YEAR, 1, "financial_year", "2021-04-01"},
        {"2021-22", PERIOD_CENSUS_YEAR, 0, "census_year", "2021-04-01"},
        {"2024-25 Q2", PERIOD_CENSUS_YEAR, 1, "fy_quarter", "2024-07-01"},
        {"2024-25 Q2", PERIOD_FINANCIAL_YEAR, 1, "fy_quarter", "2024-07-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct period p;
        char buf[PERIOD_DATE_MAX];
        CHECK(period_parse(cases[i].period, &p) == 0);
        CHECK(period_fits(&p, cases[i].annual) == cases[i].fits);
        CHECK_STR(period_basis_name(period_basis_of(&p, cases[i].annual)), cases[i].basis);
        period_basis_start(&p, period_basis_of(&p, cases[i].annual), buf, sizeof buf);
        CHECK_STR(buf, cases[i].start);
    }
}

static void test_census_day(void)
{
    static const struct {
        int year;
        int day;
    } cases[] = {{2010, 21}, {2019, 17}, {2022, 20}, {2023, 19}, {2024, 18}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct period_date d = period_census_day(cases[i].year);
        CHECK(d.year == cases[i].year && d.month == 1 && d.day == cases[i].day);
    }
}

static void test_from_dfe(void)
{
    static const struct {
        const char *in;
        enum period_basis basis;
        int quarter;
        const char *want;   /* NULL: refused */
    } cases[] = {
        {"2022", PERIOD_CENSUS_YEAR, 0, "2022"},
        {"202122", PERIOD_CENSUS_YEAR, 0, "2022"},
        {"2021-22", PERIOD_CENSUS_YEAR, 0, "2022"},
        {"2021", PERIOD_CALENDAR_YEAR, 0, "2021"},
        {"202122", PERIOD_CALENDAR_YEAR, 0, NULL},
        {"202122", PERIOD_FINANCIAL_YEAR, 0, "2021-22"},
        {"2021-22", PERIOD_FINANCIAL_YEAR, 0, "2021-22"},
        {"199900", PERIOD_FINANCIAL_YEAR, 0, "1999-00"},
        {"202123", PERIOD_FINANCIAL_YEAR, 0, NULL},
        {"2021", PERIOD_FINANCIAL_YEAR, 0, NULL},
        {"202425", PERIOD_FY_QUARTER, 2, "2024-25 Q2"},
        {"202425", PERIOD_FY_QUARTER, 5, NULL},
        {"202426", PERIOD_FY_QUARTER, 1, NULL},
        {"2024-25 Q3", PERIOD_FY_QUARTER, 0, "2024-25 Q3"},
        {"2024-25", PERIOD_FY_QUARTER, 0, NULL},
        {"1800", PERIOD_CALENDAR_YEAR, 0, NULL},
        {"2200-01", PERIOD_CENSUS_YEAR, 0, NULL},   /* the census of 2201: out of range */
        {"20x2", PERIOD_CENSUS_YEAR, 0, NULL},
        {"202122 ", PERIOD_CENSUS_YEAR, 0, NULL},
        {"", PERIOD_CENSUS_YEAR, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct period p;
        int rc = period_from_dfe(cases[i].in, cases[i].basis, cases[i].quarter, &p);
        CHECK((rc == 0) == (cases[i].want != NULL));
        if (rc == 0 && cases[i].want) {
            char buf[PERIOD_MAX];
            period_format(&p, buf, sizeof buf);
            CHECK_STR(buf, cases[i].want);
        }
    }
    struct period p;
    CHECK(period_from_dfe(NULL, PERIOD_CENSUS_YEAR, 0, &p) != 0);
}

int main(void)
{
    RUN(test_periods);
    RUN(test_period_base);
    RUN(test_parse_status);
    RUN(test_next_is_inverse_of_previous);
    RUN(test_order);
    RUN(test_days);
    RUN(test_bases);
    RUN(test_census_day);
    RUN(test_from_dfe);
    return UNIT_DONE();
}
