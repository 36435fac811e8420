/* Pure table code: ranking with ties and polarity, bands, changes,
 * summaries with the minimum-contributor rule, masking. */
#include "tables.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define NMAX 8
static void test_rank_ties_and_polarity(void)
{
    static const struct {
        enum polarity pol;
        size_t n;
        double v[NMAX];
        int present[NMAX];
        int want[NMAX];
        size_t ranked;
    } cases[] = {
        /* higher is better: the largest is 1; ties share the better rank */
        {POLARITY_HIGHER_BETTER, 5, {50, 70, 70, 10, 60}, {1, 1, 1, 1, 1}, {4, 1, 1, 5, 3}, 5},
        /* lower is better: the smallest is 1 */
        {POLARITY_LOWER_BETTER, 5, {50, 70, 70, 10, 60}, {1, 1, 1, 1, 1}, {2, 4, 4, 1, 3}, 5},
        /* neutral ranks like higher (largest first) */
        {POLARITY_NEUTRAL, 3, {1, 3, 2}, {1, 1, 1}, {3, 1, 2}, 3},
        /* missing values are not ranked and not counted */
        {POLARITY_HIGHER_BETTER, 4, {5, 0, 5, 7}, {1, 0, 1, 1}, {2, 0, 2, 1}, 3},
        /* all tied */
        {POLARITY_LOWER_BETTER, 4, {2, 2, 2, 2}, {1, 1, 1, 1}, {1, 1, 1, 1}, 4},
        /* negative values (DSG balance) */
        {POLARITY_HIGHER_BETTER, 4, {-10, 5, -3, -10}, {1, 1, 1, 1}, {3, 1, 2, 3}, 4},
        {POLARITY_HIGHER_BETTER, 0, {0}, {0}, {0}, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ranks[NMAX];
        size_t m = table_rank(cases[c].v, cases[c].present, cases[c].n, cases[c].pol, ranks);
        CHECK(m == cases[c].ranked);
        for (size_t i = 0; i < cases[c].n; i++) {
            if (ranks[i] != cases[c].want[i])
                fprintf(stderr, "case %zu row %zu: rank %d want %d\n", c, i, ranks[i],
                        cases[c].want[i]);
            CHECK(ranks[i] == cases[c].want[i]);
        }
    }
}

static void test_bands(void)
{
    static const struct {
        int rank;
        size_t n;
        enum polarity pol;
        char want;
    } cases[] = {
        {1, 152, POLARITY_HIGHER_BETTER, 'A'},  {38, 152, POLARITY_HIGHER_BETTER, 'A'},
        {39, 152, POLARITY_HIGHER_BETTER, 'B'}, {76, 152, POLARITY_LOWER_BETTER, 'B'},
        {77, 152, POLARITY_LOWER_BETTER, 'C'},  {114, 152, POLARITY_LOWER_BETTER, 'C'},
        {115, 152, POLARITY_LOWER_BETTER, 'D'}, {152, 152, POLARITY_LOWER_BETTER, 'D'},
        {1, 1, POLARITY_HIGHER_BETTER, 'A'},    {2, 3, POLARITY_HIGHER_BETTER, 'B'},
        {3, 3, POLARITY_HIGHER_BETTER, 'C'},    {4, 4, POLARITY_HIGHER_BETTER, 'D'},
        {1, 10, POLARITY_NEUTRAL, 0},           {0, 10, POLARITY_HIGHER_BETTER, 0},
        {11, 10, POLARITY_HIGHER_BETTER, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(table_band(cases[i].rank, cases[i].n, cases[i].pol) == cases[i].want);
}

static void test_changes_and_improvement(void)
{
    static const struct {
        double cur, prev;
        enum polarity pol;
        double abs, pct;
        int has_pct;
        enum improvement want;
    } cases[] = {
        {60, 50, POLARITY_HIGHER_BETTER, 10, 20, 1, IMPROVEMENT_IMPROVED},
        {40, 50, POLARITY_HIGHER_BETTER, -10, -20, 1, IMPROVEMENT_WORSENED},
        {40, 50, POLARITY_LOWER_BETTER, -10, -20, 1, IMPROVEMENT_IMPROVED},
        {60, 50, POLARITY_LOWER_BETTER, 10, 20, 1, IMPROVEMENT_WORSENED},
        {50, 50, POLARITY_LOWER_BETTER, 0, 0, 1, IMPROVEMENT_UNCHANGED},
        {60, 50, POLARITY_NEUTRAL, 10, 20, 1, IMPROVEMENT_NONE},
        {5, 0, POLARITY_HIGHER_BETTER, 5, 0, 0, IMPROVEMENT_IMPROVED},
        /* from a deficit of 10 to a deficit of 5: +50% of |prev| */
        {-5, -10, POLARITY_HIGHER_BETTER, 5, 50, 1, IMPROVEMENT_IMPROVED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double abs, pct;
        int has = table_change(cases[i].cur, cases[i].prev, &abs, &pct);
        CHECK(has == cases[i].has_pct);
        CHECK_NEAR(abs, cases[i].abs, 1e-12);
        if (has)
            CHECK_NEAR(pct, cases[i].pct, 1e-12);
        CHECK(table_improvement(cases[i].pol, abs) == cases[i].want);
    }
    CHECK_STR(table_improvement_name(IMPROVEMENT_IMPROVED), "improved");
    CHECK(table_improvement_name(IMPROVEMENT_NONE) == NULL);
    CHECK_NEAR(table_round(2.345, 1), 2.3, 1e-12);
    CHECK_NEAR(table_round(2.35, 0), 2, 1e-12);
    CHECK_NEAR(table_round(-2.5, 0), -3, 1e-12);
    CHECK_NEAR(table_round(12.3456, 2), 12.35, 1e-12);
}

static void test_summaries_and_min_contributors(void)
{
    static const struct {
        size_t n;
        double v[NMAX];
        int present[NMAX], prot[NMAX];
        int show_all;
        size_t want_n, want_missing;
        double mean, median, total;
        int suppressed, median_withheld;
    } cases[] = {
        /* published: any count is shown; missing left out and counted */
        {4, {1, 2, 9, 0}, {1, 1, 1, 0}, {0, 0, 0, 0}, 0, 3, 1, 4, 2, 12, 0, 0},
        {2, {1, 3}, {1, 1}, {0, 0}, 0, 2, 0, 2, 2, 4, 0, 0},
        /* even count: median is the mean of the middle two */
        {4, {4, 1, 3, 2}, {1, 1, 1, 1}, {0, 0, 0, 0}, 0, 4, 0, 2.5, 2.5, 10, 0, 0},
        /* one protected figure among 2 contributors: c */
        {3, {10, 20, 0}, {1, 1, 0}, {1, 0, 0}, 0, 2, 1, 0, 0, 0, 1, 1},
        /* two protected beside a public one: still c (the public one can be
         * subtracted) */
        {3, {10, 20, 30}, {1, 1, 1}, {1, 1, 0}, 0, 3, 0, 0, 0, 0, 1, 1},
        /* three protected: mean and total shown, the median (somebody's
         * exact figure) never */
        {3, {10, 20, 30}, {1, 1, 1}, {1, 1, 1}, 0, 3, 0, 20, 0, 60, 0, 1},
        /* 2 protected contributors, admin sees everything */
        {2, {10, 20}, {1, 1}, {1, 1}, 1, 2, 0, 15, 15, 30, 0, 0},
        /* a missing protected cell does not count as a contributor */
        {3, {10, 20, 0}, {1, 1, 0}, {0, 0, 1}, 0, 2, 1, 15, 15, 30, 0, 0},
        /* nothing at all */
        {2, {0, 0}, {0, 0}, {0, 0}, 0, 0, 2, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double scratch[NMAX];
        struct table_summary s;
        int prot[NMAX];
        for (size_t k = 0; k < cases[i].n; k++)
            prot[k] = cases[i].prot[k] && cases[i].present[k];
        table_summarise(cases[i].v, cases[i].present, prot, cases[i].n, 3, cases[i].show_all,
                        scratch, &s);
        CHECK(s.n == cases[i].want_n);
        CHECK(s.n_missing == cases[i].want_missing);
        CHECK(s.suppressed == cases[i].suppressed);
        CHECK(s.median_withheld == cases[i].median_withheld);
        CHECK_NEAR(s.mean, cases[i].mean, 1e-12);
        CHECK_NEAR(s.median, cases[i].median, 1e-12);
        CHECK_NEAR(s.total, cases[i].total, 1e-12);
    }
}

/* The same figures in any order give the same mean, to the bit: rows come
 * from the database in no fixed order, and a mean at a rounding boundary
 * must not flip between 5.9 and 6.0 from one request to the next. */
static void test_summary_does_not_depend_on_row_order(void)
{
    double a[10] = {3.2, 6.7, 2.1, 8.4, 3.4, 8.2, 9.1, 3.7, 5.8, 8.9};
    double b[10] = {9.1, 8.9, 8.4, 8.2, 6.7, 5.8, 3.7, 3.4, 3.2, 2.1};
    int present[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    double scratch[10];
    struct table_summary sa, sb;
    table_summarise(a, present, NULL, 10, 3, 0, scratch, &sa);
    table_summarise(b, present, NULL, 10, 3, 0, scratch, &sb);
    CHECK(sa.mean == sb.mean);
    CHECK(sa.total == sb.total);
    CHECK_NEAR(table_round(sa.mean, 1), table_round(sb.mean, 1), 0);
}

static void test_mask_labels_and_assignment(void)
{
    char buf[24];
    static const struct {
        size_t i;
        const char *want;
    } labels[] = {{0, "Neighbour A"}, {1, "Neighbour B"}, {25, "Neighbour Z"},
                  {26, "Neighbour AA"}, {27, "Neighbour AB"}, {52, "Neighbour BA"}};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        table_mask_label(labels[i].i, buf, sizeof buf);
        CHECK_STR(buf, labels[i].want);
    }

    const char *codes[] = {"E06000001", "E06000002", "E06000003", "E06000004", "E06000005",
                           "E06000006"};
    size_t n = 6, a[6], b[6], c[6];
    CHECK(table_mask_assign(codes, n, "k1", "m|2022|england|", a) == 0);
    CHECK(table_mask_assign(codes, n, "k1", "m|2022|england|", b) == 0);
    /* a permutation, and the same for the same table */
    int seen[6] = {0};
    for (size_t i = 0; i < n; i++) {
        CHECK(a[i] < n);
        if (a[i] < n)
            seen[a[i]]++;
        CHECK(a[i] == b[i]);
    }
    for (size_t i = 0; i < n; i++)
        CHECK(seen[i] == 1);
    /* not alphabetical for every table, and differs between tables */
    int differs_between_tables = 0, alphabetical_everywhere = 1;
    const char *ids[] = {"m|2022|england|", "m|2021|england|", "x|2022|england|",
                         "m|2022|region|E06000001", "m|2022|neighbours|E06000001"};
    for (size_t t = 0; t < sizeof ids / sizeof ids[0]; t++) {
        CHECK(table_mask_assign(codes, n, "k1", ids[t], c) == 0);
        for (size_t i = 0; i < n; i++) {
            if (c[i] != a[i])
                differs_between_tables = 1;
            if (c[i] != i)
                alphabetical_everywhere = 0;
        }
    }
    CHECK(differs_between_tables);
    CHECK(!alphabetical_everywhere);
    /* the key matters: a reader without it cannot recompute the order */
    int key_matters = 0;
    const char *keys[] = {"k2", "k3", "k4", "k5"};
    for (size_t k = 0; k < 4; k++) {
        CHECK(table_mask_assign(codes, n, keys[k], "m|2022|england|", c) == 0);
        for (size_t i = 0; i < n; i++)
            key_matters |= c[i] != a[i];
    }
    CHECK(key_matters);

    struct auth_caller anon = {.kind = CALLER_ANONYMOUS, .authority = ""}, own = {.kind = CALLER_COUNCIL, .authority = "E06000001"},
                  other = {.kind = CALLER_COUNCIL, .authority = "E06000002"}, admin = {.kind = CALLER_ADMIN, .authority = "", .admin = 1};
    CHECK(!table_may_name(&anon, "E06000001", 0));
    CHECK(table_may_name(&anon, "E06000001", 1));
    CHECK(table_may_name(&own, "E06000001", 0));
    CHECK(!table_may_name(&other, "E06000001", 0));
    CHECK(table_may_name(&admin, "E06000001", 0));
}

/* A neighbour table of unpublished (submitted) figures seen by each kind of
 * caller. */
static struct table_row make_row(const char *code, const char *name, const char *region,
                                 int nb, int has, double v, int published, int consent)
{
    struct table_row r;
    memset(&r, 0, sizeof r);
    r.code = code;
    r.name = name;
    r.region_code = region;
    r.neighbour_rank = nb;
    r.consent_to_name = consent;
    r.cur.exists = 1;
    r.cur.has_value = has;
    r.cur.value = v;
    r.cur.symbol = has ? NULL : "c";
    r.cur.published = published;
    r.cur.released = 1;     /* in its region's batch (sql/180); see test_..._waiting */
    r.cur.held_has_value = has;     /* the released version is in force (sql/181) */
    r.cur.held_value = v;
    return r;
}

static void fill_rows(struct table_row *rows)
{
    rows[0] = make_row("E06000001", "Alpha", "E12000001", 0, 1, 30, 0, 0);
    rows[1] = make_row("E06000002", "Beta", "E12000001", 1, 1, 10, 0, 0);
    rows[2] = make_row("E06000003", "Gamma", "E12000002", 2, 1, 30, 0, 1);
    rows[3] = make_row("E06000004", "Delta", "E12000001", -1, 1, 20, 0, 0);
    rows[4] = make_row("E06000005", "Eps", "E12000002", -1, 0, 0, 0, 0);
    rows[3].prev.exists = rows[3].prev.has_value = 1;
    rows[3].prev.value = 25;
    rows[3].prev.published = 0;
    rows[3].prev.released = 1;
}

/* Rows 0-2 are the neighbours group of Alpha (focal); all figures are
 * submitted (unpublished); Gamma consented to be named. */
static void test_table_compute_callers(void)
{
    static const struct {
        struct auth_caller caller;
        int withheld[5];
        int rank[5], rank_england[5];
        size_t n_ranked;
    } cases[] = {
        /* the public sees only Gamma (consented): a rank among one figure
         * is not given (TABLE_MIN_RANKED) */
        {{.kind = CALLER_ANONYMOUS}, {1, 1, 0, 1, 1}, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}, 1},
        /* Delta sees Gamma and itself (outside the group): ranks count them
         * only; Gamma alone in the group has no group rank */
        {{.kind = CALLER_COUNCIL, .authority = "E06000004"}, {1, 1, 0, 0, 1}, {0, 0, 0, 0, 0}, {0, 0, 2, 1, 0}, 2},
        /* Alpha sees itself and Gamma: a tie at 30 */
        {{.kind = CALLER_COUNCIL, .authority = "E06000001"}, {0, 1, 0, 1, 1}, {1, 0, 1, 0, 0}, {1, 0, 1, 0, 0}, 2},
        /* an admin sees everything: Beta 10 first; Alpha and Gamma tie at 30 */
        {{.kind = CALLER_ADMIN, .admin = 1}, {0, 0, 0, 0, 0}, {2, 1, 2, 0, 0}, {3, 1, 3, 2, 0}, 4},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct table_row rows[5];
        fill_rows(rows);
        struct table t = {.rows = rows, .n = 5, .polarity = POLARITY_LOWER_BETTER, .dp = 0,
                          .group = GROUP_NEIGHBOURS, .focal = 0, .caller = cases[c].caller,
                          .min_contributors = 3, .mask_key = "key", .table_id = "m|p|n|A"};
        CHECK(table_compute(&t) == 0);
        CHECK(t.n_in_group == 3);
        CHECK(t.n_ranked_england == cases[c].n_ranked);
        for (size_t i = 0; i < 5; i++) {
            CHECK(!rows[i].masked);     /* never masked outside an England table */
            CHECK(rows[i].withheld == cases[c].withheld[i]);
            CHECK(rows[i].rank == cases[c].rank[i]);
            CHECK(rows[i].rank_england == cases[c].rank_england[i]);
            /* a withheld row reads as one without a figure */
            if (rows[i].withheld)
                CHECK(!rows[i].cur.exists && !rows[i].cur.has_value && !rows[i].prev.exists &&
                      !rows[i].has_change_prev && rows[i].band == 0);
            /* no band without an England rank (never "A" as one of one) */
            if (!rows[i].rank_england)
                CHECK(rows[i].band == 0);
        }
        /* aggregates are the same for every caller but admin: region
         * E12000001 has three protected contributors (Alpha 30, Beta 10,
         * Delta 20); England also has Eps, protected with no value (a
         * partial record), so England is suppressed; the neighbours (Alpha
         * excluded: Beta, Gamma) have one protected figure */
        int admin = cases[c].caller.kind == CALLER_ADMIN;
        CHECK(t.region.n == 3 && !t.region.suppressed);
        CHECK_NEAR(t.region.total, admin ? 60 : 60, 1e-12);
        CHECK(t.region.median_withheld == !admin);
        CHECK(t.england.n == 4 && t.england.n_missing == 1);
        CHECK(t.england.suppressed == !admin);
        /* the neighbours' protected figures count only for Alpha itself
         * (suppressed: one protected) and admins; anyone else's summary is
         * over Gamma's public figure alone, not `c`: counts or
         * suppressions over overlapping groups would list contributors by
         * elimination (rule 2) */
        int own = cases[c].caller.kind == CALLER_COUNCIL &&
                  strcmp(cases[c].caller.authority, "E06000001") == 0;
        CHECK(t.neighbours.n == (own || admin ? 2 : 1));
        CHECK(t.neighbours.suppressed == own);
        if (!own && !admin)
            CHECK_NEAR(t.neighbours.mean, 30, 1e-12);
        if (admin)
            CHECK_NEAR(t.neighbours.median, 20, 1e-12);
        table_release(&t);
    }
}

/* A council's England table masks the others' figures only when at least
 * three are masked. */
static void test_table_compute_masks_need_three(void)
{
    static const struct {
        const char *caller;
        int masked[5];
    } cases[] = {
        /* Gamma (consented anyway) sees Alpha, Beta, Delta, Eps masked */
        {"E06000003", {1, 1, 0, 1, 1}},
        /* Alpha: only Beta and Delta have hidden values: withheld */
        {"E06000001", {0, 0, 0, 0, 0}},
    };
    for (size_t c = 0; c < 2; c++) {
        struct table_row rows[5];
        fill_rows(rows);
        if (c == 1)
            rows[4].cur.exists = 0;     /* Eps sent nothing */
        struct table t = {.rows = rows, .n = 5, .polarity = POLARITY_LOWER_BETTER,
                          .group = GROUP_ENGLAND, .focal = -1,
                          .caller = {.kind = CALLER_COUNCIL}, .min_contributors = 3,
                          .mask_key = "key", .table_id = "m|p|england|"};
        snprintf(t.caller.authority, sizeof t.caller.authority, "%s", cases[c].caller);
        CHECK(table_compute(&t) == 0);
        size_t nm = 0;
        for (size_t i = 0; i < 5; i++) {
            CHECK(rows[i].masked == cases[c].masked[i]);
            nm += rows[i].masked;
        }
        for (size_t i = 0; i < 5; i++)
            if (rows[i].masked)
                CHECK(strncmp(rows[i].mask_label, "Neighbour ", 10) == 0 &&
                      (size_t)(rows[i].mask_label[10] - 'A') < nm);
        if (c == 1)
            CHECK(rows[1].withheld && rows[3].withheld && !rows[1].cur.has_value);
        table_release(&t);
    }
}

/* England's and the region's value: the DfE's published figure first
 * (also a symbol), else for counts the released sum of contributors. */
static void test_table_compute_area_values(void)
{
    static const struct {
        int admin, additive, england_published;
        double england_value;
        const char *england_symbol;
        int want_source, want_has;
        double want_value;
    } cases[] = {
        /* published 1234.4 rounds to dp 0 */
        {0, 1, 1, 1234.4, NULL, SUMMARY_VALUE_PUBLISHED, 1, 1234},
        /* a published symbol is kept */
        {0, 1, 1, 0, "c", SUMMARY_VALUE_PUBLISHED, 0, 0},
        /* nothing published, a count: England is suppressed for the
         * public (a partial record), so no sum either */
        {0, 1, 0, 0, NULL, SUMMARY_VALUE_NONE, 0, 0},
        /* ... an admin sees the sum of contributors: 30+10+30+20 */
        {1, 1, 0, 0, NULL, SUMMARY_VALUE_SUM, 1, 90},
        /* a rate: no sum */
        {1, 0, 0, 0, NULL, SUMMARY_VALUE_NONE, 0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct table_row rows[5];
        fill_rows(rows);
        struct table t = {.rows = rows, .n = 5, .polarity = POLARITY_HIGHER_BETTER,
                          .group = GROUP_ENGLAND, .focal = -1,
                          .caller = {.kind = cases[c].admin ? CALLER_ADMIN : CALLER_ANONYMOUS,
                                     .admin = cases[c].admin},
                          .min_contributors = 3, .mask_key = "key", .table_id = "t",
                          .additive = cases[c].additive};
        if (cases[c].england_published) {
            t.england_area.exists = t.england_area.published = 1;
            t.england_area.has_value = cases[c].england_symbol == NULL;
            t.england_area.value = cases[c].england_value;
            t.england_area.symbol = cases[c].england_symbol;
        }
        CHECK(table_compute(&t) == 0);
        CHECK((int)t.england.value_source == cases[c].want_source);
        CHECK(t.england.has_value == cases[c].want_has);
        if (cases[c].want_has)
            CHECK_NEAR(t.england.value, cases[c].want_value, 1e-12);
        if (cases[c].england_symbol)
            CHECK_STR(t.england.value_symbol, cases[c].england_symbol);
        table_release(&t);
    }
}

static void test_table_compute_min_contributors(void)
{
    /* Region E12000002 has Gamma (30, consented) and Eps (protected, no
     * value): a partial record beside one figure: c for everyone but admin. */
    struct auth_caller callers[] = {{.kind = CALLER_ANONYMOUS},
                                    {.kind = CALLER_COUNCIL, .authority = "E06000003"},
                                    {.kind = CALLER_ADMIN, .admin = 1}};
    int want[] = {1, 1, 0};
    for (size_t c = 0; c < 3; c++) {
        struct table_row rows[5];
        fill_rows(rows);
        struct table t = {.rows = rows, .n = 5, .polarity = POLARITY_HIGHER_BETTER,
                          .group = GROUP_REGION, .focal = 2, .caller = callers[c],
                          .min_contributors = 3, .mask_key = "key", .table_id = "t"};
        CHECK(table_compute(&t) == 0);
        CHECK(t.n_in_group == 2);
        CHECK(t.region.n == 1 && t.region.n_missing == 1);
        CHECK(t.region.suppressed == want[c]);
        if (c == 2) {
            /* Delta's change on the previous period, seen by an admin:
             * 20 vs 25, higher is better, so worse */
            CHECK(rows[3].has_change_prev && rows[3].change_prev == -5);
            CHECK_NEAR(rows[3].change_prev_pct, -20, 1e-12);
            CHECK(rows[3].improvement == IMPROVEMENT_WORSENED);
        } else {
            CHECK(!rows[3].has_change_prev && rows[3].withheld);
        }
        /* Eps is not ranked; its row is last */
        CHECK(rows[4].rank == 0 && rows[t.order[1]].code == rows[4].code);
        table_release(&t);
    }
}

static void test_table_compute_published_never_masked(void)
{
    struct table_row rows[5];
    fill_rows(rows);
    for (size_t i = 0; i < 5; i++)
        rows[i].cur.published = 1;
    rows[3].prev.published = 1;
    struct table t = {.rows = rows, .n = 5, .polarity = POLARITY_HIGHER_BETTER,
                      .group = GROUP_ENGLAND, .focal = -1, .min_contributors = 3,
                      .mask_key = "key", .table_id = "t"};
    CHECK(table_compute(&t) == 0);
    for (size_t i = 0; i < 5; i++)
        CHECK(!rows[i].masked);
    CHECK(!t.has_region && !t.has_neighbours);
    /* published: 4 contributors, never suppressed */
    CHECK(!t.england.suppressed && t.england.n == 4);
    CHECK_NEAR(t.england.total, 90, 1e-12);
    /* higher is better: Alpha and Gamma tie for 1st, Delta 3rd, Beta 4th */
    CHECK(rows[0].rank == 1 && rows[2].rank == 1 && rows[3].rank == 3 && rows[1].rank == 4);
    CHECK(rows[0].band == 'A' && rows[2].band == 'A' && rows[3].band == 'C' &&
          rows[1].band == 'D');
    CHECK_STR(rows[t.order[0]].name, "Alpha");
    CHECK_STR(rows[t.order[1]].name, "Gamma");
    table_release(&t);
}

/* fill_rows, then Eps, Zeta and Eta all in Alpha's region (Eta's figure
 * eta). */
static void fill_seven(struct table_row *rows, double eta)
{
    fill_rows(rows);
    rows[4] = make_row("E06000005", "Eps", "E12000001", -1, 1, 40, 0, 0);
    rows[5] = make_row("E06000006", "Zeta", "E12000001", -1, 1, 50, 0, 0);
    rows[6] = make_row("E06000007", "Eta", "E12000001", -1, 1, eta, 0, 0);
}

/* An England table of fill_seven's rows, Alpha focal, for the anonymous
 * public (c 0), Delta's council (1) or an administrator (2). */
static struct table seven_table(struct table_row *rows, size_t c)
{
    static const struct auth_caller callers[] = {
        {.kind = CALLER_ANONYMOUS},
        {.kind = CALLER_COUNCIL, .authority = "E06000004"},
        {.kind = CALLER_ADMIN, .admin = 1}};
    return (struct table){.rows = rows, .n = 7, .polarity = POLARITY_HIGHER_BETTER,
                          .group = GROUP_ENGLAND, .focal = 0, .caller = callers[c],
                          .min_contributors = 3, .mask_key = "key", .table_id = "t",
                          .additive = 1};
}

/* Release in batches (sql/180, docs/disclosure.md rule 11): a protected
 * figure not yet released reads in aggregates and masks as an authority
 * with no figure, for everyone but an administrator; the authority itself
 * still sees its own figure. */
static void test_table_compute_waiting_figures(void)
{
    for (size_t c = 0; c < 3; c++) {
        struct table_row rows[7];
        fill_seven(rows, 1234);
        rows[6].cur.released = 0;   /* Eta's return waits for two more of its region */
        rows[3].cur.released = 0;   /* and Delta's */
        struct table t = seven_table(rows, c);
        CHECK(table_compute(&t) == 0);
        if (c < 2) {
            /* Alpha, Beta, Gamma, Eps, Zeta: Delta and Eta count as missing */
            CHECK(t.england.n == 5 && t.england.n_missing == 2);
            CHECK_NEAR(t.england.total, 30 + 10 + 30 + 40 + 50, 1e-9);
            CHECK(t.region.n == 4 && !t.region.suppressed);
            CHECK_NEAR(t.region.total, 30 + 10 + 40 + 50, 1e-9);
        } else {
            CHECK(t.england.n == 7);
            CHECK_NEAR(t.england.total, 30 + 10 + 30 + 20 + 40 + 50 + 1234, 1e-9);
        }
        if (c == 1) {
            /* Delta sees its own waiting figure; Eta's is withheld, not
             * masked; the released peers are masked (three of them) */
            CHECK(!rows[3].withheld && !rows[3].masked && rows[3].cur.value == 20);
            CHECK(rows[6].withheld && !rows[6].masked && !rows[6].cur.has_value);
            CHECK(rows[0].masked && rows[1].masked && rows[4].masked && rows[5].masked);
        }
        table_release(&t);
    }
}

/* Held versions (sql/181, docs/disclosure.md rule 12): the aggregates and
 * masked rows count a released figure as released, not as revised or
 * withdrawn since, for everyone but an administrator; the authority itself
 * sees its revised figure as its row. */
static void test_table_compute_held_versions(void)
{
    for (size_t c = 0; c < 3; c++) {
        struct table_row rows[7];
        fill_seven(rows, 60);
        rows[3].cur.value = 27;         /* Delta revised 20 to 27 since its release */
        memset(&rows[6].cur, 0, sizeof rows[6].cur);
        rows[6].cur.released = rows[6].cur.held_has_value = 1;  /* Eta withdrew its 60 */
        rows[6].cur.held_value = 60;
        struct table t = seven_table(rows, c);
        CHECK(table_compute(&t) == 0);
        if (c < 2) {
            CHECK(t.england.n == 7);
            CHECK_NEAR(t.england.total, 30 + 10 + 30 + 20 + 40 + 50 + 60, 1e-9);
            CHECK_NEAR(t.region.total, 30 + 10 + 20 + 40 + 50 + 60, 1e-9);
        } else {
            CHECK(t.england.n == 6);
            CHECK_NEAR(t.england.total, 30 + 10 + 30 + 27 + 40 + 50, 1e-9);
        }
        CHECK(!rows[6].cur.exists && !rows[6].masked);
        if (c == 1)
            CHECK(!rows[3].masked && rows[3].cur.value == 27);
        table_release(&t);
    }
    /* A council's masked peer reads as released. */
    struct table_row rows[7];
    fill_rows(rows);
    rows[4] = make_row("E06000005", "Eps", "E12000001", -1, 1, 40, 0, 0);
    rows[1].cur.value = 11;
    struct table t = {.rows = rows, .n = 5, .polarity = POLARITY_HIGHER_BETTER,
                      .group = GROUP_ENGLAND, .focal = 3,
                      .caller = {.kind = CALLER_COUNCIL, .authority = "E06000004"},
                      .min_contributors = 3, .mask_key = "key", .table_id = "t", .additive = 1};
    CHECK(table_compute(&t) == 0);
    CHECK(rows[1].masked && rows[1].cur.value == 10);
    table_release(&t);
}

/* What a summary and a cell show: one rule that the JSON, the downloads
 * and the pages all read (tables.h). */
static void test_what_summaries_and_cells_show(void)
{
    const struct {
        size_t n;
        int suppressed, median_withheld;
        enum summary_value src;
        const char *symbol, *source;
        int mean, median;
    } cases[] = {
        {5, 0, 0, SUMMARY_VALUE_PUBLISHED, NULL, "published", 1, 1},
        {5, 0, 1, SUMMARY_VALUE_SUM, NULL, "sum of authorities", 1, 0},
        {5, 1, 0, SUMMARY_VALUE_RATIO, "c", "ratio of sums of authorities", 0, 0},
        {0, 0, 0, SUMMARY_VALUE_NONE, "x", NULL, 0, 0},
        {0, 1, 1, SUMMARY_VALUE_NONE, "c", NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct table_summary s = {.n = cases[i].n, .suppressed = cases[i].suppressed,
                                  .median_withheld = cases[i].median_withheld,
                                  .value_source = cases[i].src};
        const char *sym = table_summary_symbol(&s), *src = table_summary_value_source_name(&s);
        CHECK(cases[i].symbol ? sym && strcmp(sym, cases[i].symbol) == 0 : sym == NULL);
        CHECK(cases[i].source ? src && strcmp(src, cases[i].source) == 0 : src == NULL);
        CHECK(table_summary_shows_mean(&s) == cases[i].mean);
        CHECK(table_summary_shows_median(&s) == cases[i].median);
    }
    struct table_cell value = {.exists = 1, .has_value = 1, .value = 3, .published = 1};
    struct table_cell symbol = {.exists = 1, .symbol = "c"};
    struct table_cell none = {0};
    CHECK(table_cell_symbol(&value) == NULL);
    CHECK(strcmp(table_cell_symbol(&symbol), "c") == 0);
    CHECK(strcmp(table_cell_symbol(&none), "x") == 0);
}

int main(void)
{
    RUN(test_rank_ties_and_polarity);
    RUN(test_bands);
    RUN(test_changes_and_improvement);
    RUN(test_summaries_and_min_contributors);
    RUN(test_summary_does_not_depend_on_row_order);
    RUN(test_mask_labels_and_assignment);
    RUN(test_table_compute_callers);
    RUN(test_table_compute_masks_need_three);
    RUN(test_table_compute_area_values);
    RUN(test_table_compute_min_contributors);
    RUN(test_table_compute_published_never_masked);
    RUN(test_table_compute_waiting_figures);
    RUN(test_table_compute_held_versions);
    RUN(test_what_summaries_and_cells_show);
    return UNIT_DONE();
}
