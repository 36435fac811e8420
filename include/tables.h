/*
 * Comparative tables: pure computation, no I/O.
 *
 * Competition ranking with polarity, quartile bands, changes and
 * improvement, mean/median summaries with contributor counts, and the
 * masking of unpublished (council-submitted) figures.  server/tables_table.c
 * fetches the rows (one query per table) and serialises what this computes.
 */
#ifndef SENDBENCH_TABLES_H
#define SENDBENCH_TABLES_H

#include <stddef.h>

#include "auth.h"
#include "period.h"

enum polarity { POLARITY_HIGHER_BETTER, POLARITY_LOWER_BETTER, POLARITY_NEUTRAL };

/* "higher_better" | "lower_better" | "neutral".  Returns 0, or -1. */
int table_polarity_parse(const char *s, enum polarity *out) __attribute__((warn_unused_result));

/* Periods are in include/period.h (one module for every caller). */

/* ---- ranking, bands, changes, summaries ---- */

/* Competition ranking ("1224") of the present values: rank 1 is the best
 * given the polarity (largest for higher_better and neutral, smallest for
 * lower_better); equal values share the better rank.  ranks[i] = 0 where
 * present[i] is 0.  Returns how many values were ranked. */
size_t table_rank(const double *values, const int *present, size_t n, enum polarity pol,
                  int *ranks);

/* A rank (and a quartile band) among fewer figures than this says
 * nothing: a council's own quarter that only it can see would be "1 of 1"
 * and "A (best quarter)".  table_compute leaves such figures unranked and
 * the profile says why (rank_note). */
#define TABLE_MIN_RANKED 2

/* Quartile band of a competition rank among n ranked values:
 * floor(4 (rank - 1) / n) -> 'A' (best quarter) .. 'D'.  Tied values share
 * the better rank and so the better band.  0 for neutral polarity (no
 * quarter is "best") or when rank is 0. */
char table_band(int rank, size_t n, enum polarity pol);

/* Rounds to dp decimal places, halves away from zero (as published). */
double table_round(double v, int dp);

/* cur - prev and the same as a % of |prev|.  Returns 1 when pct is
 * defined (prev != 0), else 0 (abs is still set). */
int table_change(double cur, double prev, double *abs, double *pct);

enum improvement { IMPROVEMENT_NONE, IMPROVEMENT_IMPROVED, IMPROVEMENT_WORSENED,
                   IMPROVEMENT_UNCHANGED };
/* Whether a change is an improvement given the polarity; NONE for neutral. */
enum improvement table_improvement(enum polarity pol, double change);
/* "improved" | "worsened" | "unchanged"; NULL for NONE. */
const char *table_improvement_name(enum improvement imp);

struct table_summary {
    size_t n;           /* contributing authorities (with a value) */
    size_t n_missing;   /* in scope but missing or suppressed */
    size_t n_protected; /* contributors whose figures are unpublished and not consented */
    double mean, median, total;
    int suppressed;     /* shown as `c`: disclosure rules (docs/disclosure.md) */
    int median_withheld;/* the median is somebody's exact figure: not shown */
    /* England's or a region's value (table_compute): the DfE's published
     * figure (or its symbol) where there is one, else for counts and money
     * the sum of contributors when the disclosure rules release it. */
    enum summary_value { SUMMARY_VALUE_NONE, SUMMARY_VALUE_PUBLISHED, SUMMARY_VALUE_SUM,
                         SUMMARY_VALUE_RATIO } value_source;
    /* A derived rate's ratio of the contributors' summed numerators and
     * denominators (table_compute with ratio_scale): has_ratio when every
     * contributor has both and the denominators' sum is not 0. */
    int has_ratio;
    double ratio;
    int has_value;
    double value;
    const char *value_symbol;   /* borrowed: the published symbol when no value */
};

/* What a summary shows, one rule for every renderer (JSON, CSV, pages):
 * its symbol ("c" suppressed, "x" no contributor, NULL a figure), whether
 * its mean, total and median are shown, and the name of its value's
 * source ("published", "sum of authorities", "ratio of sums of
 * authorities"; NULL none). */
const char *table_summary_symbol(const struct table_summary *s);
int table_summary_shows_mean(const struct table_summary *s);
int table_summary_shows_median(const struct table_summary *s);
const char *table_summary_value_source_name(const struct table_summary *s);

/* Mean, median (middle value, or the mean of the two middle values) and
 * total of values[i] where present[i]; scratch holds n doubles.
 * protected_[i] marks a figure that is unpublished and not consented
 * (docs/disclosure.md): unless show_all (admin), the aggregate is
 * suppressed when 1..min_contributors-1 contributors are protected, and
 * the median (an order statistic) whenever any is. */
void table_summarise(const double *values, const int *present, const int *protected_,
                     size_t n, size_t min_contributors, int show_all, double *scratch,
                     struct table_summary *out);

/* ---- callers and masking ---- */

/* The caller is auth.h's struct auth_caller (kind, authority). */

/* Whether the caller may see authority `code`'s unpublished figures beside
 * its name: admin, the authority itself, or an authority that consented. */
int table_may_name(const struct auth_caller *c, const char *code, int consent_to_name);

/* Whether a figure enters the aggregates and masked rows the caller is
 * given: an administrator's all; anyone else's a protected figure only
 * once released in a batch of its region (sql/180, docs/disclosure.md
 * rule 11). */
struct table_cell;
int table_cell_aggregated(const struct auth_caller *caller, const struct table_cell *c,
                          int consent_to_name);

/* The figure c as the aggregates (and masked rows) the caller is given
 * count it: an administrator's and a public figure's as in force; a
 * protected released figure's the held version (sql/181,
 * docs/disclosure.md rule 12), written into *held.  Returns c or held. */
const struct table_cell *table_cell_for_aggregates(const struct auth_caller *caller,
                                                   const struct table_cell *c,
                                                   int consent_to_name, struct table_cell *held);

/* "Neighbour A" .. "Neighbour Z", "Neighbour AA" ... for index 0, 1, ... */
void table_mask_label(size_t index, char *buf, size_t len);

/* Assigns letter indexes to the n masked authorities `codes`: ordered by
 * HMAC-SHA256(key, table_id "\n" code), so stable for one table identity,
 * different between tables, and not recomputable without the key.
 * letter[i] receives i's index.  Returns 0, or -1 when hashing fails. */
int table_mask_assign(const char *const *codes, size_t n, const char *key,
                      const char *table_id, size_t *letter) __attribute__((warn_unused_result));

/* ---- a whole table ---- */

struct table_cell {
    int exists;         /* an observation (value or symbol) is recorded */
    int has_value;
    double value;
    const char *symbol; /* borrowed: c, x, z, low; NULL when has_value */
    int published;
    /* in aggregates: published, or unpublished and released in a batch of
     * its region (sql/180, docs/disclosure.md rule 11) */
    int released;
    /* unpublished and released: the version the aggregates hold, which a
     * revision or withdrawal changes only in a batch (sql/181, rule 12);
     * held_has_value 0: the held version has a symbol.  A row whose held
     * figure is no longer in force has exists 0 and released 1. */
    int held_has_value;
    double held_value;
    long long held_batch;       /* the batch that released the held version */
};

/* A cell's symbol as shown: NULL with a value, else its recorded symbol,
 * "x" when none is recorded. */
const char *table_cell_symbol(const struct table_cell *c);

enum table_group { GROUP_ENGLAND, GROUP_REGION, GROUP_NEIGHBOURS };

struct table_row {
    /* inputs; strings borrowed */
    const char *code, *old_code, *name, *region_code, *region_name;
    int consent_to_name;
    int neighbour_rank;     /* 0 the focal authority, 1..10 its neighbours, -1 neither */
    struct table_cell cur, prev, year, base;
    /* a derived rate's numerator and denominator of cur (has_ratio), for
     * England's and a region's ratio of sums where nothing is published */
    int has_ratio;
    double num, den;
    /* the same inputs as the aggregates hold them (sql/181
     * figures_aggregated), for anyone's ratio of sums but an admin's */
    int has_held_ratio;
    double held_num, held_den;
    /* a DfE footnote on cur (sql/170: "all new plans classed as
     * exceptions"): the figure is shown with it but is not ranked, banded
     * or summarised; NULL none */
    const char *note;
    /* outputs of table_compute */
    int in_group;
    int masked;             /* show as mask_label, without code, name or region */
    int withheld;           /* protected figures removed: the row reads as one with no
                             * figure (renderers drop its reason too) */
    char mask_label[24];
    int rank;               /* within the group, 0 when not ranked */
    int rank_england;
    char band;              /* 'A'..'D', 0 none */
    int has_change_prev, has_change_prev_pct, has_change_year, has_change_year_pct;
    double change_prev, change_prev_pct, change_year, change_year_pct;
    enum improvement improvement;   /* on the previous period */
    int has_growth, has_growth_pct;
    double growth, growth_pct;
};

/* One region's aggregate (table_compute with want_regions). */
struct table_region {
    const char *code, *name;    /* borrowed from the rows */
    struct table_summary s;
};

struct table {
    /* inputs */
    struct table_row *rows;
    size_t n;
    enum polarity polarity;
    int dp;
    enum table_group group;
    long focal;                 /* index of the focal authority, -1 none */
    struct auth_caller caller;
    size_t min_contributors;    /* 3 */
    const char *mask_key;
    const char *table_id;       /* metric|period|group|authority */
    int want_regions;           /* also summarise every region (the collections view) */
    int additive;               /* counts, money, FTE: a total means something */
    /* a derived rate (sign x scale, e.g. 100; 0: not a ratio): where
     * nothing is published, England's and a region's value is the ratio of
     * the contributors' summed numerators and denominators (the rows'
     * num, den) when the disclosure rules release the aggregate */
    double ratio_scale;
    /* the DfE's published England and focal-region figures, when the
     * caller has them (exists = 0: none, then the sum of contributors) */
    struct table_cell england_area, region_area;
    /* outputs */
    size_t n_in_group, n_ranked_england;
    size_t n_ranked_group;      /* figures ranked within the group (the focal one included) */
    struct table_summary england, region, neighbours;
    int has_region, has_neighbours;
    size_t *order;              /* row indexes of the group in display order; n_in_group */
    struct table_region *regions;   /* with want_regions: n_regions, in order of code */
    size_t n_regions;
};

/* Applies the disclosure rules for t->caller (docs/disclosure.md): a
 * figure that is unpublished and not consented is shown to the public
 * nowhere, to a council only under a masked label in an England table
 * with at least DISCLOSURE_MIN_MASKED of them, and otherwise withheld
 * (the cell reads as absent, as for an authority that sent nothing).
 * Ranks and bands count only the figures the caller sees; aggregates
 * follow the threshold rule with complementary suppression over England's
 * regions, and neighbour aggregates of protected figures are shown only
 * to the authority itself (its own neighbours, itself excluded) and admins.
 * The neighbours' summary is over the neighbours, the focal authority not
 * included (as in the DfE's LAIT).
 * Rounds, ranks, bands, changes, masks and summarises; fills the outputs
 * and t->order (malloc'd: free with table_release).  Returns 0, or -1 when
 * out of memory or hashing fails. */
int table_compute(struct table *t) __attribute__((warn_unused_result));
void table_release(struct table *t);

#endif
