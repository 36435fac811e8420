/* Pure parsing for the importers: cells, periods, codes, layouts, labels,
 * COPY escaping.  Table-driven. */
#include <stdlib.h>

#include "import_parse.h"
#include "import_sen2_layout.h"
#include "unit.h"

static void cells(void)
{
    static const struct {
        const char *in;
        bool integer;
        enum import_cell_kind kind;
        const char *text;
    } t[] = {
        {"473255", true, IMPORT_CELL_VALUE, "473255"},
        {"  62180", true, IMPORT_CELL_VALUE, "62180"},      /* leading spaces */
        {"62180 \r", true, IMPORT_CELL_VALUE, "62180"},
        {"-1.08", false, IMPORT_CELL_VALUE, "-1.08"},
        {"0", true, IMPORT_CELL_VALUE, "0"},
        {"x", true, IMPORT_CELL_SYMBOL, "x"},
        {"c", true, IMPORT_CELL_SYMBOL, "c"},
        {"z", true, IMPORT_CELL_SYMBOL, "z"},
        {" low ", true, IMPORT_CELL_SYMBOL, "low"},
        {"", true, IMPORT_CELL_EMPTY, ""},
        {"   ", true, IMPORT_CELL_EMPTY, ""},
        {"12.5", true, IMPORT_CELL_INVALID, ""},            /* counts are whole */
        {"1,234", true, IMPORT_CELL_INVALID, ""},
        {"1e3", false, IMPORT_CELL_INVALID, ""},
        {"X", true, IMPORT_CELL_INVALID, ""},
        {"-", true, IMPORT_CELL_INVALID, ""},
        {".5", false, IMPORT_CELL_INVALID, ""},
        {"5.", false, IMPORT_CELL_INVALID, ""},
        {"1.2.3", false, IMPORT_CELL_INVALID, ""},
        {"NaN", false, IMPORT_CELL_INVALID, ""},
        {"12abc", true, IMPORT_CELL_INVALID, ""},
        {"123456789012345678901234567890123456789012345678901", true, IMPORT_CELL_INVALID, ""},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct import_cell c;
        enum import_cell_kind k = import_cell_parse(t[i].in, t[i].integer, &c);
        CHECK(k == t[i].kind);
        CHECK(c.kind == t[i].kind);
        if (t[i].kind == IMPORT_CELL_VALUE || t[i].kind == IMPORT_CELL_SYMBOL)
            CHECK_STR(c.text, t[i].text);
        if (k != t[i].kind)
            fprintf(stderr, "  cell \"%s\"\n", t[i].in);
    }
}

static void periods(void)
{
    static const struct {
        const char *in;
        enum import_period_kind kind;
        int ok;
        const char *period, *start;
    } t[] = {
        {"2022", IMPORT_PERIOD_CENSUS_YEAR, 0, "2022", "2022-01-20"},
        {"202122", IMPORT_PERIOD_CENSUS_YEAR, 0, "2022", "2022-01-20"},
        {"201819", IMPORT_PERIOD_CENSUS_YEAR, 0, "2019", "2019-01-17"},
        {"2023", IMPORT_PERIOD_CENSUS_YEAR, 0, "2023", "2023-01-19"},
        {"2010", IMPORT_PERIOD_CENSUS_YEAR, 0, "2010", "2010-01-21"},
        {"2021", IMPORT_PERIOD_CALENDAR_YEAR, 0, "2021", "2021-01-01"},
        {"202122", IMPORT_PERIOD_CALENDAR_YEAR, -1, NULL, NULL},
        {"201920", IMPORT_PERIOD_FINANCIAL_YEAR, 0, "2019-20", "2019-04-01"},
        {"2019-20", IMPORT_PERIOD_FINANCIAL_YEAR, 0, "2019-20", "2019-04-01"},
        {"1999-00", IMPORT_PERIOD_FINANCIAL_YEAR, 0, "1999-00", "1999-04-01"},
        {"201921", IMPORT_PERIOD_FINANCIAL_YEAR, -1, NULL, NULL},
        {"2019", IMPORT_PERIOD_FINANCIAL_YEAR, -1, NULL, NULL},
        {"20x2", IMPORT_PERIOD_CENSUS_YEAR, -1, NULL, NULL},
        {"1800", IMPORT_PERIOD_CALENDAR_YEAR, -1, NULL, NULL},
        {"", IMPORT_PERIOD_CENSUS_YEAR, -1, NULL, NULL},
        {"202122 ", IMPORT_PERIOD_CENSUS_YEAR, -1, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char period[16] = "", start[16] = "";
        int rc = import_period_parse(t[i].in, t[i].kind, period, start);
        CHECK(rc == t[i].ok);
        if (rc == 0 && t[i].ok == 0) {
            CHECK_STR(period, t[i].period);
            CHECK_STR(start, t[i].start);
        }
    }
}

static void census_day_is_a_thursday_in_the_third_week(void)
{
    for (int y = 2000; y <= 2040; y++) {
        char d[16];
        import_census_day(y, d);
        int day = atoi(d + 8);
        CHECK(day >= 15 && day <= 21);
    }
    char d[16];
    import_census_day(2024, d);
    CHECK_STR(d, "2024-01-18");
}

static void codes(void)
{
    CHECK(import_is_old_la_code("838"));
    CHECK(!import_is_old_la_code("83"));
    CHECK(!import_is_old_la_code("83a"));
    CHECK(!import_is_old_la_code("8380"));
    CHECK(import_is_new_la_code("E06000059"));
    CHECK(import_is_new_la_code("E10000009"));
    CHECK(import_is_new_la_code("E08000037"));
    CHECK(import_is_new_la_code("E09000001"));
    CHECK(!import_is_new_la_code("E07000001"));     /* a district: not an LA */
    CHECK(!import_is_new_la_code("E92000001"));     /* England */
    CHECK(!import_is_new_la_code("E0600005"));
    CHECK(!import_is_new_la_code("W06000001"));
    CHECK(import_is_region_code("E12000009"));
    CHECK(!import_is_region_code("E13000001"));   /* London statistical areas: not regions */
    CHECK(!import_is_region_code("E14000001"));
    CHECK(!import_is_region_code(""));
}

static void closeness_labels(void)
{
    CHECK_STR(import_closeness_canonical("Very Close"), "Very close");
    CHECK_STR(import_closeness_canonical("Extremely Close"), "Extremely close");
    CHECK_STR(import_closeness_canonical("Close"), "Close");
    CHECK_STR(import_closeness_canonical("Somewhat close"), "Somewhat close");
    CHECK_STR(import_closeness_canonical("Not close"), "Not close");
    CHECK(import_closeness_canonical("Sometimes close") == NULL);
    CHECK(import_closeness_canonical("") == NULL);
    CHECK(import_closeness_canonical("Close ish") == NULL);
}

static void layouts(void)
{
    char err[300];
    char *caseload[] = {"time_period", "time_identifier", "geographic_level", "country_code",
                        "country_name", "region_code", "region_name", "old_la_code",
                        "new_la_code", "la_name", "characteristic_age", "Total_st",
                        "Total_st_pc", "Total_ehc", "Total_ehc_pc", "Total_all", "Total_all_pc"};
    const struct sen2_layout *l = import_sen2_detect(caseload, 17, err, sizeof err);
    CHECK(l != NULL);
    if (l) {
        CHECK_STR(l->name, "SEN2 2022 caseload");
        CHECK_STR(l->columns[0].sum[0], "Total_all");
        CHECK_STR(l->columns[0].metric, "ehcp_caseload");
        CHECK(l->period_kind == IMPORT_PERIOD_CENSUS_YEAR);
    }
    /* Total_all removed: the layout is recognised but refused, naming it. */
    l = import_sen2_detect(caseload, 15, err, sizeof err);
    CHECK(l == NULL);
    CHECK(strstr(err, "Total_all") != NULL);

    char *timeliness[] = {"time_period", "geographic_level", "region_code", "region_name",
                          "new_la_code", "old_la_code", "la_name", "breakdown_topic",
                          "plans_issued_den", "plans_issued_den_ex",
                          "plans_issued_within_20_weeks", "plans_issued_20_weeks_ex",
                          "plans_issued_gt20weeks_ltYear", "plans_issued_gt_1_year",
                          "country_code"};
    l = import_sen2_detect(timeliness, 15, err, sizeof err);
    CHECK(l != NULL);
    if (l) {
        CHECK_STR(l->release, "DfE SEN2 2025");
        CHECK(l->period_kind == IMPORT_PERIOD_CALENDAR_YEAR);
        int found = 0;
        for (const struct sen2_column *c = l->columns; c->metric; c++)
            if (strcmp(c->sum[0], "plans_issued_20_weeks_ex") == 0 && !c->per[0] &&
                strcmp(c->metric, "new_plans_within_20_weeks_ex") == 0)
                found = 1;
        CHECK(found);
    }
    /* The geography columns are required of every layout. */
    l = import_sen2_detect(timeliness + 1, 14, err, sizeof err);
    CHECK(l == NULL);
    CHECK(strstr(err, "time_period") != NULL);
    /* So is country_code (England's code on the national rows). */
    l = import_sen2_detect(timeliness, 14, err, sizeof err);
    CHECK(l == NULL);
    CHECK(strstr(err, "country_code") != NULL);
    /* And every column a metric is made of. */
    l = import_sen2_detect(timeliness, 13, err, sizeof err);
    CHECK(l == NULL);
    CHECK(strstr(err, "plans_issued_gt_1_year") != NULL || strstr(err, "country_code") != NULL);

    char *unknown[] = {"a", "b", "c"};
    CHECK(import_sen2_detect(unknown, 3, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a known SEN2 layout") != NULL);

    char *mi_new_plans[] = {"time_period", "geographic_level", "region_code", "region_name",
                            "old_la_code", "new_la_code", "la_name", "NewallEHC", "InreqEHC",
                            "AssRefusedEHC", "TotIncExcEHC", "IncExc20weekEHC", "TotNoExcEHC",
                            "NoExc20weekEHC", "country_code"};
    l = import_sen2_detect(mi_new_plans, 15, err, sizeof err);
    CHECK(l != NULL);
    if (l) {
        /* NewallEHC is the headline "new plans"; TotIncExcEHC the 20-week
         * denominator, kept under its own id (docs/import.md). */
        CHECK_STR(l->columns[0].metric, "new_plans_issued");
        CHECK_STR(l->columns[3].sum[0], "TotIncExcEHC");
        CHECK_STR(l->columns[3].metric, "new_plans_timeliness_den");
    }
}

/* A metric's figure from one row: as published, a sum of columns, or a
 * share of the row's total (docs/import.md "Column mapping"). */
static void figures(void)
{
    static const struct sen2_column one = {"m", {"a"}, {NULL}};
    static const struct sen2_column sum = {"m", {"a", "b", "c"}, {NULL}};
    static const struct sen2_column share = {"m", {"a", "b"}, {"t"}};
    static const struct sen2_column share2 = {"m", {"a"}, {"a", "b"}};
    char *header[] = {"a", "b", "c", "t"};
    struct sen2_column_index i1, is, ish, ish2;
    CHECK(import_sen2_columns(&one, header, 4, &i1) == 0);
    CHECK(import_sen2_columns(&sum, header, 4, &is) == 0);
    CHECK(import_sen2_columns(&share, header, 4, &ish) == 0);
    CHECK(import_sen2_columns(&share2, header, 4, &ish2) == 0);
    static const struct sen2_column missing = {"m", {"a", "nope"}, {NULL}};
    struct sen2_column_index im;
    CHECK(import_sen2_columns(&missing, header, 4, &im) == -1);

    struct import_cell c;
    int bad = -1;
    char *r1[] = {"12", "3", "5", "40"};
    CHECK(import_sen2_figure(&one, &i1, r1, &c, &bad) == IMPORT_CELL_VALUE);
    CHECK_STR(c.text, "12");
    CHECK(import_sen2_figure(&sum, &is, r1, &c, &bad) == IMPORT_CELL_VALUE);
    CHECK_STR(c.text, "20");
    /* (12 + 3) / 40 = 37.5%; 12 / (12 + 3) = 80%. */
    CHECK(import_sen2_figure(&share, &ish, r1, &c, &bad) == IMPORT_CELL_VALUE);
    CHECK_STR(c.text, "37.5");
    CHECK(import_sen2_figure(&share2, &ish2, r1, &c, &bad) == IMPORT_CELL_VALUE);
    CHECK_STR(c.text, "80");
    /* 4 decimals, rounded half up: 1/3 = 33.3333%, 2/3 = 66.6667%. */
    char *r3[] = {"1", "0", "0", "3"};
    CHECK(import_sen2_figure(&share, &ish, r3, &c, &bad) == IMPORT_CELL_VALUE);
    CHECK_STR(c.text, "33.3333");
    char *r4[] = {"2", "0", "0", "3"};
    CHECK(import_sen2_figure(&share, &ish, r4, &c, &bad) == IMPORT_CELL_VALUE);
    CHECK_STR(c.text, "66.6667");
    /* A suppressed part: the sum and the share are that symbol, c first. */
    char *rs[] = {"x", "c", "5", "40"};
    CHECK(import_sen2_figure(&sum, &is, rs, &c, &bad) == IMPORT_CELL_SYMBOL);
    CHECK_STR(c.text, "c");
    char *rx[] = {"x", "1", "5", "40"};
    CHECK(import_sen2_figure(&share, &ish, rx, &c, &bad) == IMPORT_CELL_SYMBOL);
    CHECK_STR(c.text, "x");
    char *rt[] = {"1", "1", "5", "c"};
    CHECK(import_sen2_figure(&share, &ish, rt, &c, &bad) == IMPORT_CELL_SYMBOL);
    CHECK_STR(c.text, "c");
    /* A zero total: not applicable, never 0 or a division by zero. */
    char *r0[] = {"0", "0", "5", "0"};
    CHECK(import_sen2_figure(&share, &ish, r0, &c, &bad) == IMPORT_CELL_SYMBOL);
    CHECK_STR(c.text, "z");
    /* Bad cells name their field. */
    char *rb[] = {"1", "2.5", "5", "40"};
    CHECK(import_sen2_figure(&sum, &is, rb, &c, &bad) == IMPORT_CELL_INVALID);
    CHECK(bad == 1);
    char *re[] = {"1", "2", "", "40"};
    CHECK(import_sen2_figure(&sum, &is, re, &c, &bad) == IMPORT_CELL_EMPTY);
    CHECK(bad == 2);
    char *rn[] = {"1", "-2", "5", "40"};
    CHECK(import_sen2_figure(&sum, &is, rn, &c, &bad) == IMPORT_CELL_INVALID);
    CHECK(bad == 1);
}

static void copy_escaping(void)
{
    struct import_buf b = {0};
    CHECK(import_buf_copy_field(&b, "Bristol, City of", false) == 0);
    CHECK(import_buf_copy_field(&b, "a\tb\\c\nd\re", false) == 0);
    CHECK(import_buf_copy_field(&b, NULL, true) == 0);
    const char want[] = "Bristol, City of\ta\\tb\\\\c\\nd\\re\t\\N\n";
    CHECK(b.len == strlen(want));
    CHECK(b.data && memcmp(b.data, want, b.len) == 0);
    import_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0);
}

static void buf_put_appends_and_terminates(void)
{
    struct import_buf b = {0};
    CHECK(import_buf_put(&b, "{", 1) == 0);
    CHECK(import_buf_put(&b, "\"a\",\"b\"xyz", 7) == 0);   /* only 7 bytes */
    CHECK(b.len == 8 && strcmp(b.data, "{\"a\",\"b\"") == 0);
    for (int i = 0; i < 5000; i++)                          /* grows */
        CHECK(import_buf_put(&b, "0123456789", 10) == 0);
    CHECK(b.len == 8 + 50000 && b.data[b.len] == '\0');
    import_buf_free(&b);
}

/* Canonical decimals: equal numbers, equal texts (what trim_scale(numeric)
 * prints), so the import can tell a restated figure from an unchanged one. */
static void decimal_canonical(void)
{
    static const struct {
        const char *in, *want;
    } ok[] = {
        {"12", "12"},       {"012", "12"},    {"0", "0"},         {"000", "0"},
        {"-0", "0"},        {"-0.000", "0"},  {"1.50", "1.5"},    {"1.0", "1"},
        {"-1.250", "-1.25"}, {"0.05", "0.05"}, {"00.050", "0.05"}, {"-007", "-7"},
        {"100", "100"},     {"10.01", "10.01"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[48];
        CHECK(import_decimal_canonical(ok[i].in, out, sizeof out) == 0);
        CHECK(strcmp(out, ok[i].want) == 0);
    }
    static const char *const bad[] = {"", "-", ".5", "1.", "1.2.3", "1e3", "x", "1 ", "--1", "+1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[48];
        CHECK(import_decimal_canonical(bad[i], out, sizeof out) == -1);
    }
    char small[3];
    CHECK(import_decimal_canonical("-12", small, sizeof small) == -1);   /* needs 4 bytes */
    CHECK(import_decimal_canonical("12", small, sizeof small) == 0 && strcmp(small, "12") == 0);
}

int main(void)
{
    RUN(cells);
    RUN(periods);
    RUN(census_day_is_a_thursday_in_the_third_week);
    RUN(codes);
    RUN(closeness_labels);
    RUN(layouts);
    RUN(figures);
    RUN(copy_escaping);
    RUN(decimal_canonical);
    RUN(buf_put_appends_and_terminates);
    return UNIT_DONE();
}
