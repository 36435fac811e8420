#include "disclosure.h"

int disclosure_protected(int published, int may_name)
{
    return !published && !may_name;
}

int disclosure_aggregate_releasable(size_t n_protected, size_t min)
{
    return n_protected == 0 || n_protected >= min;
}

int disclosure_complement(const size_t *protected_in_part, size_t nparts, size_t min,
                          int *suppressed)
{
    size_t total = 0;
    for (size_t i = 0; i < nparts; i++) {
        total += protected_in_part[i];
        suppressed[i] = !disclosure_aggregate_releasable(protected_in_part[i], min);
    }
    int parent = !disclosure_aggregate_releasable(total, min);
    if (parent) {
        /* Nothing of a parent under the threshold: its parts are each
         * smaller still, so none of those with protected figures goes. */
        for (size_t i = 0; i < nparts; i++)
            suppressed[i] = suppressed[i] || protected_in_part[i] > 0;
        return 1;
    }
    for (;;) {
        size_t hidden = 0;
        for (size_t i = 0; i < nparts; i++)
            if (suppressed[i])
                hidden += protected_in_part[i];
        if (disclosure_aggregate_releasable(hidden, min))
            return 0;
        /* The parent less the released parts would be the hidden ones'
         * total: hide one more part, the one that costs least. */
        size_t best = nparts;
        for (size_t i = 0; i < nparts; i++)
            if (!suppressed[i] && protected_in_part[i] > 0 &&
                (best == nparts || protected_in_part[i] < protected_in_part[best]))
                best = i;
        if (best == nparts)
            return 1;   /* every protected figure is hidden already but too few */
        suppressed[best] = 1;
    }
}

int disclosure_masks_allowed(size_t n_masked, size_t min)
{
    return n_masked >= min;
}

int disclosure_order_statistic_releasable(size_t n_protected)
{
    return n_protected == 0;
}

int disclosure_ratio_releasable(size_t n_protected, size_t n_partial, size_t min)
{
    return n_partial == 0 && disclosure_aggregate_releasable(n_protected, min);
}

int disclosure_quarter_is_default(size_t contributors, size_t authorities)
{
    return authorities > 0 && 2 * contributors >= authorities;
}
