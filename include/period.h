/*
 * Periods: the one place where a period string is read, written, ordered
 * and stepped.  Pure (no I/O, no allocation); submissions, the importers,
 * the tables, forecasts and pages all call it, and tests/fuzz/fuzz_period.c
 * checks its round trip.  README "Periods" describes the strings.
 *
 * A period has a SHAPE (what the string looks like):
 *   PERIOD_YEAR    '2022'        a census year or a calendar year
 *   PERIOD_FY      '2021-22'     financial year April 2021 - March 2022
 *   PERIOD_QUARTER '2024-25 Q2'  financial-year quarter, July - September
 *                                2024 (Q1 = April - June)
 * and a BASIS (what a figure for it means), the names the SQL uses in
 * metrics.annual_period and observations.period_kind:
 *   census_year    '2022' = the January 2022 census (stocks)
 *   calendar_year  '2021' = January - December 2021 (flows)
 *   financial_year '2021-22'
 *   fy_quarter     '2024-25 Q2'
 *
 * Accepted years: PERIOD_MIN_YEAR..PERIOD_MAX_YEAR (the first calendar
 * year a period covers), everywhere.  Rules of one caller (submissions
 * start at 2014-15) stay with that caller.
 */
#ifndef SENDBENCH_PERIOD_H
#define SENDBENCH_PERIOD_H

#include <stdbool.h>
#include <stddef.h>

enum period_kind { PERIOD_YEAR, PERIOD_FY, PERIOD_QUARTER };

struct period {
    enum period_kind kind;
    int year;       /* the (first) calendar year */
    int quarter;    /* 1..4 for PERIOD_QUARTER, else 0 */
};

#define PERIOD_MAX 16           /* buffer size that holds any formatted period */
#define PERIOD_DATE_MAX 11      /* "YYYY-MM-DD" and its NUL */
#define PERIOD_MIN_YEAR 1900    /* the years every parser here accepts */
#define PERIOD_MAX_YEAR 2200

/* Our spelling, strict: '2022', '2021-22' (the second year follows the
 * first), '2024-25 Q2'; nothing else (no spaces, no six digits).
 * Returns 0, or -1 when s (NULL allowed) is not a period. */
int period_parse(const char *s, struct period *out) __attribute__((warn_unused_result));

/* The same with the reason, for callers that explain a refusal: checks the
 * form, then that the second year follows the first, then the range.  On
 * PERIOD_BAD_YEARS and PERIOD_OUT_OF_RANGE out holds the shape and the
 * first year as written. */
enum period_status { PERIOD_OK = 0, PERIOD_BAD_FORM, PERIOD_BAD_YEARS, PERIOD_OUT_OF_RANGE };
enum period_status period_parse_status(const char *s, struct period *out)
    __attribute__((warn_unused_result));
/* The canonical string; buf of PERIOD_MAX bytes holds any period. */
void period_format(const struct period *p, char *buf, size_t len);
/* Whether year is in the accepted range. */
bool period_year_ok(int year);

/* Steps.  previous/next: a year for annual periods, a quarter for
 * quarters; year_earlier: the same period a year before.  The result may
 * fall outside the accepted range (1899 from 1900): check period_year_ok
 * before formatting it for a user. */
struct period period_previous(const struct period *p);
struct period period_next(const struct period *p);
struct period period_year_earlier(const struct period *p);

/* Time-line order: by first day, then YEAR < FY < QUARTER for periods that
 * start on the same day.  Returns <0, 0, >0. */
int period_cmp(const struct period *a, const struct period *b);

struct period_date {
    int year, month, day;
};
/* First and last day covered by the shape (a YEAR is January - December). */
struct period_date period_first_day(const struct period *p);
struct period_date period_last_day(const struct period *p);
int period_date_cmp(const struct period_date *a, const struct period_date *b);
/* "YYYY-MM-DD" of the first day (buf of at least PERIOD_DATE_MAX bytes). */
void period_start_date(const struct period *p, char *buf, size_t len);

/* A base for growth: a year "2015" (read in p's kind: '2015', '2015-16' or
 * '2015-16 Qn' with p's quarter) or a full period of p's kind.  Returns 0,
 * or -1 when base is neither or does not come before p. */
int period_base(const struct period *p, const char *base, struct period *out)
    __attribute__((warn_unused_result));

/* ---- bases and the DfE's spellings ---- */

enum period_basis {
    PERIOD_CENSUS_YEAR,
    PERIOD_CALENDAR_YEAR,
    PERIOD_FINANCIAL_YEAR,
    PERIOD_FY_QUARTER,
};

/* "census_year", "calendar_year", "financial_year", "fy_quarter" (static). */
const char *period_basis_name(enum period_basis b);
/* The reverse.  Returns 0, or -1 for another name (NULL allowed). */
int period_basis_parse(const char *name, enum period_basis *out)
    __attribute__((warn_unused_result));
/* Whether p can be a period of a metric whose annual figures have basis
 * `annual`: quarters fit every metric, financial years a financial_year
 * metric, years the others. */
bool period_fits(const struct period *p, enum period_basis annual);
/* The basis of p's figures for such a metric: fy_quarter for a quarter,
 * else `annual`. */
enum period_basis period_basis_of(const struct period *p, enum period_basis annual);

/* Day of the January census of a year: the third Thursday of January (the
 * school census day, to which SEN2 aligns its snapshot). */
struct period_date period_census_day(int year);
/* "YYYY-MM-DD" of the first day a figure of basis b covers: the census
 * day for census_year, else period_start_date (buf >= PERIOD_DATE_MAX). */
void period_basis_start(const struct period *p, enum period_basis b, char *buf, size_t len);

/* A DfE time_period read with the basis of its file:
 *   census_year:    "2022" -> 2022; academic "202122" or "2021-22" -> 2022
 *                   (the January census falls in the school year's second
 *                   calendar year)
 *   calendar_year:  "2021" only
 *   financial_year: six digits "202122" or "2021-22" -> 2021-22
 *   fy_quarter:     six digits "202425" with quarter 1..4 (from the
 *                   time_identifier "Financial year Qn"), or our
 *                   "2024-25 Qn" (quarter 0: take the string's own)
 * Returns 0, or -1 when the string does not fit or the year is out of
 * range. */
int period_from_dfe(const char *time_period, enum period_basis b, int quarter,
                    struct period *out) __attribute__((warn_unused_result));
/* The DfE tidy-data time_period ("2022", "202122") and time_identifier
 * ("Calendar year", "Financial year", "Financial year Q2"; static). */
void period_tidy(const struct period *p, char *time_period, size_t len,
                 const char **time_identifier);

#endif
