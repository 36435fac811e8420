/* Statistical disclosure control rules (server/disclosure.c): the
 * threshold rule, complementary suppression over England's regions,
 * masking, order statistics, ratios and the public default quarter. */
#include "disclosure.h"

#include "unit.h"

static void test_protected(void)
{
    static const struct {
        int published, may_name, want;
    } cases[] = {
        {1, 0, 0},  /* a DfE figure: public */
        {1, 1, 0},
        {0, 1, 0},  /* submitted, and the caller may name it (own, admin, consent) */
        {0, 0, 1},  /* submitted, not consented: protected */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(disclosure_protected(cases[i].published, cases[i].may_name) == cases[i].want);
}

static void test_threshold(void)
{
    static const struct {
        size_t n_protected;
        int want;
    } cases[] = {{0, 1}, {1, 0}, {2, 0}, {3, 1}, {4, 1}, {150, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(disclosure_aggregate_releasable(cases[i].n_protected,
                                              DISCLOSURE_MIN_CONTRIBUTORS) == cases[i].want);
}

/* Each case: protected contributors in 9 regions; the regions that must be
 * suppressed and whether England must be. */
static void test_complement(void)
{
    static const struct {
        const char *name;
        size_t parts[9];
        int want[9];
        int parent;
    } cases[] = {
        {"nothing protected", {0, 0, 0, 0, 0, 0, 0, 0, 0}, {0}, 0},
        {"all regions large", {3, 4, 5, 3, 3, 3, 3, 3, 3}, {0}, 0},
        /* three councils in three regions: each region alone is under the
         * threshold; together they make England's total */
        {"three lone regions", {1, 0, 1, 0, 1, 0, 0, 0, 0}, {1, 0, 1, 0, 1, 0, 0, 0, 0}, 0},
        /* one region under the threshold: England minus the others would give
         * it away, so the smallest other region with figures goes too */
        {"one small region", {1, 5, 3, 0, 0, 0, 0, 0, 0}, {1, 0, 1, 0, 0, 0, 0, 0, 0}, 0},
        /* two lone councils: together still under the threshold, and a third
         * region completes them */
        {"two lone regions", {1, 1, 4, 6, 0, 0, 0, 0, 0}, {1, 1, 1, 0, 0, 0, 0, 0, 0}, 0},
        /* suppressed regions already hold three between them: nothing more */
        {"complement met", {2, 1, 4, 0, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0, 0, 0, 0}, 0},
        /* England itself under the threshold: every region with figures goes */
        {"england too small", {1, 1, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0, 0, 0, 0}, 1},
        {"england one", {0, 0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 1}, 1},
        /* one region holds everything: England equals it, nothing hidden */
        {"one region all", {0, 7, 0, 0, 0, 0, 0, 0, 0}, {0}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got[9];
        int parent = disclosure_complement(cases[i].parts, 9, DISCLOSURE_MIN_CONTRIBUTORS, got);
        unit_case_name = cases[i].name;
        CHECK(parent == cases[i].parent);
        for (size_t k = 0; k < 9; k++)
            CHECK(got[k] == cases[i].want[k]);
        /* The property the rule exists for: whatever is hidden together
         * holds no protected figure or at least three, unless England is
         * hidden as well. */
        size_t hidden = 0;
        for (size_t k = 0; k < 9; k++)
            hidden += got[k] ? cases[i].parts[k] : 0;
        CHECK(parent || hidden == 0 || hidden >= DISCLOSURE_MIN_CONTRIBUTORS);
    }
}

static void test_masks_order_ratio(void)
{
    CHECK(!disclosure_masks_allowed(0, DISCLOSURE_MIN_MASKED));
    CHECK(!disclosure_masks_allowed(1, DISCLOSURE_MIN_MASKED));
    CHECK(!disclosure_masks_allowed(2, DISCLOSURE_MIN_MASKED));
    CHECK(disclosure_masks_allowed(3, DISCLOSURE_MIN_MASKED));
    CHECK(disclosure_order_statistic_releasable(0));
    CHECK(!disclosure_order_statistic_releasable(1));
    CHECK(!disclosure_order_statistic_releasable(80));
    CHECK(disclosure_ratio_releasable(0, 0, 3));
    CHECK(disclosure_ratio_releasable(3, 0, 3));
    CHECK(!disclosure_ratio_releasable(3, 1, 3));   /* one gave a numerator only */
    CHECK(!disclosure_ratio_releasable(2, 0, 3));
}

static void test_default_quarter(void)
{
    static const struct {
        size_t contributors, authorities;
        int want;
    } cases[] = {
        {0, 153, 0}, {3, 153, 0}, {76, 153, 0}, {77, 153, 1}, {153, 153, 1},
        {76, 152, 1}, {75, 152, 0}, {0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(disclosure_quarter_is_default(cases[i].contributors, cases[i].authorities) ==
              cases[i].want);
}

int main(void)
{
    RUN(test_protected);
    RUN(test_threshold);
    RUN(test_complement);
    RUN(test_masks_order_ratio);
    RUN(test_default_quarter);
    return UNIT_DONE();
}
