/*
 * Statistical disclosure control: pure rules, no I/O (docs/disclosure.md
 * states them in the DfE's terms).
 *
 * Two kinds of figure meet in sendbench: the DfE's published statistics
 * (public) and councils' submitted quarterly figures (unpublished).  A
 * submitted figure is *protected* from a caller unless the caller may name
 * its authority (an administrator, the authority itself, or anyone when
 * the authority consented to be named).  These functions decide what a
 * caller may be shown of protected figures: individually (never to the
 * public; under masked labels to a signed-in council only when enough are
 * masked), in aggregates (threshold rule and complementary suppression),
 * as order statistics (never), and whether a quarter may be a public
 * default period.  server/tables.c, the collections route and the pages
 * apply them; tests/unit/test_disclosure.c pins them.
 */
#ifndef SENDBENCH_DISCLOSURE_H
#define SENDBENCH_DISCLOSURE_H

#include <stddef.h>

/* Threshold rule: an aggregate that includes protected figures needs at
 * least this many protected contributors. */
#define DISCLOSURE_MIN_CONTRIBUTORS 3
/* Masked labels ("Neighbour A") are used only when at least this many
 * protected values are masked in one answer. */
#define DISCLOSURE_MIN_MASKED 3

/* 1 when a figure is protected from the caller: unpublished and the
 * caller may not name its authority. */
int disclosure_protected(int published, int may_name);

/* Primary suppression (threshold rule): an aggregate with n_protected
 * protected contributors may be released when n_protected is 0 (only
 * public figures, which anyone could add up) or at least min.  With one
 * or two, a contributor could subtract its own figure (or the public
 * ones) and learn another's. */
int disclosure_aggregate_releasable(size_t n_protected, size_t min);

/*
 * Complementary suppression over a partition of a parent (England's
 * regions).  protected_in_part[i] is the number of protected contributors
 * of part i; suppressed[i] is set for each part that must not be released.
 * Primary suppression first; then, while the suppressed parts together
 * hold 1..min-1 protected contributors (so that the parent's aggregate
 * minus the released parts would give them away), the released part with
 * the fewest (but some) protected contributors is suppressed too.  Returns
 * 1 when the parent itself must be suppressed: its own primary rule fails,
 * or no further part can be added to cover the suppressed ones.
 */
int disclosure_complement(const size_t *protected_in_part, size_t nparts, size_t min,
                          int *suppressed);

/* Whether n_masked protected values may be shown under masked labels
 * (at least min of them; fewer would be told apart by elimination). */
int disclosure_masks_allowed(size_t n_masked, size_t min);

/* Order statistics (median, minimum, maximum) are somebody's exact figure:
 * released only when no contributor is protected. */
int disclosure_order_statistic_releasable(size_t n_protected);

/* A ratio of sums (a rate over a group) is released only when every
 * protected contributor gave every input: n_partial counts protected
 * authorities in scope that gave some inputs but not all (their figures
 * would be the difference between an input's total and the rate's). */
int disclosure_ratio_releasable(size_t n_protected, size_t n_partial, size_t min);

/* Whether a quarter may be a public default period (the latest period of
 * a table, the home page's "latest", a chart): at least half of England's
 * authorities contributed.  A published period is always eligible. */
int disclosure_quarter_is_default(size_t contributors, size_t authorities);

#endif
